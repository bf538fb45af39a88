"""metric.all_true — a fixed-size set of boolean results, all true (e.g. "all 8 qa gates").

Takes ``field`` (a path with ``[*]``, e.g. ``gates[*]``) that yields a list. Items are
booleans, or objects whose ``pass_field`` is a boolean. With ``count: N`` the list must have
exactly N items: AC-SHIP2-006 fails on 7 or 9 gate results as contract drift
(``AC_SHIP2_006_REQUIRED_QA_GATE_COUNT = 8``). With ``skip_field`` an item whose skip flag is
true counts as *not* passed, whatever its pass flag says: `apr qa` reports skipped gates as
``passed: true`` (aprender #3965), and a skip is never a pass here.

``items_where`` keeps only the items whose fields equal the given values, so one gate can
judge one named result: ``{items_where: {name: golden_output}, count: 1}`` — present exactly
once, passed, and not skipped.

The measured value is true when the count matches and every item passed; the default band is
``is_true: true``.

PASS: 8 items, all ``passed: true`` → "8 of 8 results true".
FAIL: 9 items → "9 results, the contract requires exactly 8 (contract drift)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from albor_gates.checks._records import (
    RecordQuery,
    Scalar,
    _matches,
    _valid_path,
    field_value,
    select_record,
)
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "metric.all_true"
VERSION = 1
TITLE = "A fixed-size list of boolean results (optionally of exact length) is all true"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}


class Params(RecordQuery):
    """Options of metric.all_true."""

    field: str
    pass_field: str | None = None
    skip_field: str | None = None
    name_field: str | None = None
    count: int | None = Field(None, ge=0)
    items_where: dict[str, Scalar] = {}
    name: str | None = None

    @field_validator("field", "pass_field", "skip_field", "name_field")
    @classmethod
    def _paths(cls, v: str | None) -> str | None:
        return _valid_path(v)


def _flag(path: str, index: int, item: Any, key: str | None) -> bool:
    value = item.get(key) if key is not None and isinstance(item, dict) else item
    if key is not None and not isinstance(item, dict):
        raise EvidenceError(f"{path}: item {index} is not an object with {key!r}")
    if not isinstance(value, bool):
        raise EvidenceError(f"{path}: item {index}: expected true/false, got {value!r}")
    return value


def measure(ctx: Context, params: Params) -> Measurement:
    """Count the items and the true ones."""
    path = str(ctx.path("source"))
    record, _ = select_record(ctx, "source", params)
    items = field_value(ctx, "source", record, params.field)
    if not isinstance(items, list):
        raise EvidenceError(f"{path}: {params.field} is not a list")
    if params.items_where:
        items = [it for it in items if _matches(it, params.items_where)]
    failed: list[str] = []
    skipped: list[str] = []
    for i, item in enumerate(items):
        label = (
            str(item.get(params.name_field))
            if params.name_field and isinstance(item, dict)
            else f"#{i + 1}"
        )
        if params.skip_field is not None and _flag(path, i + 1, item, params.skip_field):
            skipped.append(label)
            continue
        if not _flag(path, i + 1, item, params.pass_field):
            failed.append(label)
    n = len(items)
    passed = n - len(failed) - len(skipped)
    subject = params.name or params.field
    if params.count is not None and n != params.count:
        summary = f"{n} results, the contract requires exactly {params.count} (contract drift)"
        ok = False
    else:
        summary = f"{passed} of {n} results true"
        if failed:
            summary += "; failed: " + ", ".join(failed)
        if skipped:
            summary += "; skipped (not a pass): " + ", ".join(skipped)
        ok = not failed and not skipped
    return Measurement(
        value=ok,
        subject=subject,
        summary=summary,
        details={"count": n, "passed": passed, "failed": failed, "skipped": skipped},
    )
