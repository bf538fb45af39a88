"""Shared record selection for the ``metric.*`` check kinds.

A source document is read as a list of records (JSONL lines, a top-level JSON/YAML list, or a
single object; ``records:`` points at a list inside the document instead). ``where`` keeps the
records whose fields equal the given values; ``select`` then picks one:

* ``only`` (default) — exactly one record must remain;
* ``first`` / ``last`` — by file order;
* ``best`` — the record whose ``by`` field is smallest (``best: min``) or largest (``best: max``),
  e.g. "the epoch with the lowest val_loss"; ties go to the earliest record.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import field_validator, model_validator

from albor_gates.artifacts.documents import (
    FieldMissing,
    extract,
    parse_field_path,
)
from albor_gates.checks import evidence
from albor_gates.checks.base import CheckParams, Context
from albor_gates.errors import EvidenceError

Scalar = bool | int | float | str


def _valid_path(v: str | None) -> str | None:
    if v is not None:
        parse_field_path(v)  # raises ValueError → a located spec error
    return v


class RecordQuery(CheckParams):
    """How to find the record to measure in the source document."""

    format: Literal["auto", "json", "jsonl", "yaml"] = "auto"
    glob: str | None = None
    records: str | None = None
    where: dict[str, Scalar] = {}
    select: Literal["only", "first", "last", "best"] = "only"
    by: str | None = None
    best: Literal["min", "max"] = "min"

    @field_validator("records", "by")
    @classmethod
    def _paths(cls, v: str | None) -> str | None:
        return _valid_path(v)

    @model_validator(mode="after")
    def _best_needs_by(self) -> RecordQuery:
        if (self.select == "best") != (self.by is not None):
            raise ValueError("select: best needs by: FIELD (and by needs select: best)")
        return self


def load_records(ctx: Context, role: str, q: RecordQuery) -> list[Any]:
    """The role's records (read once per run), narrowed to ``q.records`` when given."""
    path = ctx.path(role)
    records = evidence.records(ctx, role, q.format, q.glob)
    if q.records is not None:
        if len(records) != 1:
            raise EvidenceError(f"{path}: records: needs a single document, found {len(records)}")
        try:
            inner = extract(records[0], parse_field_path(q.records))
        except FieldMissing as e:
            raise EvidenceError(f"{path}: records: {e}") from e
        if not isinstance(inner, list):
            raise EvidenceError(f"{path}: records: {q.records!r} is not a list")
        records = inner
    return records


def select_record(ctx: Context, role: str, q: RecordQuery) -> tuple[Any, str]:
    """Return the selected record and a phrase saying which it is (for messages).

    Raises:
        EvidenceError: when no record (or, for ``only``, more than one) matches.
    """
    path = ctx.path(role)
    records = load_records(ctx, role, q)
    matching = [(i, r) for i, r in enumerate(records) if _matches(r, q.where)]
    where_text = ", ".join(f"{k}={v!r}" for k, v in sorted(q.where.items()))
    if not matching:
        cond = f" with {where_text}" if where_text else ""
        raise EvidenceError(f"{path}: no record{cond} (read {len(records)} records)")
    if q.select == "only":
        if len(matching) != 1:
            raise EvidenceError(
                f"{path}: {len(matching)} records match; choose one with select: first, last "
                "or best, or narrow them with where:"
            )
        i, rec = matching[0]
        return rec, ""
    if q.select == "first":
        i, rec = matching[0]
        return rec, f"first of {len(matching)} records"
    if q.select == "last":
        i, rec = matching[-1]
        return rec, f"last of {len(matching)} records"
    assert q.by is not None  # guaranteed by RecordQuery validation
    by = parse_field_path(q.by)
    keyed: list[tuple[float, int, Any]] = []
    for i, rec in matching:
        try:
            key = extract(rec, by)
        except FieldMissing as e:
            raise EvidenceError(f"{path}: record {i + 1}: {e}") from e
        if isinstance(key, bool) or not isinstance(key, (int, float)):
            raise EvidenceError(f"{path}: record {i + 1}: {q.by} is {key!r}, not a number")
        if math.isnan(key):
            continue  # a NaN is never "best"; it is judged where it is the measured value
        keyed.append((float(key), i, rec))
    if not keyed:
        raise EvidenceError(f"{path}: every record's {q.by} is NaN: no best record")
    chosen = (
        min(keyed, key=lambda t: (t[0], t[1]))
        if q.best == "min"
        else max(keyed, key=lambda t: (t[0], -t[1]))
    )
    word = "lowest" if q.best == "min" else "highest"
    return chosen[2], f"record {chosen[1] + 1} ({word} {q.by} = {chosen[0]:g})"


def _matches(record: Any, where: dict[str, Scalar]) -> bool:
    for key, want in where.items():
        try:
            got = extract(record, parse_field_path(key))
        except FieldMissing:
            return False
        if got != want or isinstance(got, bool) != isinstance(want, bool):
            return False
    return True


def field_value(ctx: Context, role: str, record: Any, field: str) -> Any:
    """Extract ``field`` from ``record``, as an EvidenceError when it is missing."""
    try:
        return extract(record, parse_field_path(field))
    except FieldMissing as e:
        raise EvidenceError(f"{ctx.path(role)}: {e}") from e
