"""metric.fields_equal — named fields of an evidence document equal the declared values.

For constants that must match a contract exactly — AC-SHIP2-001's "YAML consts byte-equal to the
Rust config" becomes "config.json equals the model-family contract" — and for operator
evidence (``tool.name: apr-cli``). ``expected`` maps field paths to values; numbers compare
numerically (``896`` equals ``896.0``), everything else exactly. With ``against``, the expected
values are read from a second document (the ``contract`` role) at the given paths instead, so one
spec serves every release that ships its own family contract.

The value is the number of mismatching or missing fields (default band ``eq: 0``).

PASS: config.json hidden_size 896, num_hidden_layers 24 vs the qwen2-0.5b contract → "0 of 7
fields differ".
FAIL: ``rope_theta: 10000`` vs the contract's 1000000 → "1 of 7 fields differ: rope_theta is
10000, expected 1000000".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.artifacts.documents import FieldMissing, extract, parse_field_path
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import records
from albor_gates.errors import EvidenceError

KIND = "metric.fields_equal"
VERSION = 1
TITLE = "Named fields of a document equal declared values (or a contract document's values)"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ("contract",)
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class Params(CheckParams):
    """Options of metric.fields_equal."""

    expected: dict[str, Any] = {}
    against: dict[str, str] = {}


def _same(a: Any, b: Any) -> bool:
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, num) and isinstance(b, num):
        return float(a) == float(b)
    return bool(a == b)


def _single(ctx: Context, role: str) -> Any:
    docs = records(ctx, role)
    if len(docs) != 1:
        raise EvidenceError(f"{ctx.path(role)}: expected one document, found {len(docs)} records")
    return docs[0]


def measure(ctx: Context, params: Params) -> Measurement:
    """Compare each field."""
    doc = _single(ctx, "source")
    want: dict[str, Any] = dict(params.expected)
    if params.against:
        if not ctx.has("contract"):
            raise EvidenceError("params.against needs the 'contract' artifact")
        contract = _single(ctx, "contract")
        for field, path in params.against.items():
            try:
                want[field] = extract(contract, parse_field_path(path))
            except FieldMissing as e:
                raise EvidenceError(f"{ctx.path('contract')}: {e}") from e
    if not want:
        raise EvidenceError("nothing to compare: give expected or against")
    problems: list[str] = []
    for field, value in sorted(want.items()):
        try:
            got = extract(doc, parse_field_path(field))
        except FieldMissing:
            problems.append(f"{field} is missing, expected {value!r}")
            continue
        if not _same(got, value):
            problems.append(f"{field} is {got!r}, expected {value!r}")
    summary = f"{len(problems)} of {len(want)} fields differ"
    if problems:
        summary += ": " + "; ".join(problems[:5])
    return Measurement(
        len(problems),
        subject="differing fields",
        summary=summary,
        details={"expected": want, "problems": problems},
    )
