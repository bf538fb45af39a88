"""evidence.schema — an operator-supplied evidence file matches its documented schema.

``schema`` names one of the typed evidence files (``gates schema --evidence NAME`` prints
it): ``operator`` (§0 identity, §1 install facts), ``consumer`` (§7 independent consumer) or
``dogfood-summary`` (§6 /dogfood skill summary). Every missing or malformed field is listed by
its path; unknown keys are errors. The value is the number of problems (default ``eq: 0``), so
a missing HF commit sha is a FAIL that names ``release.hf_commit`` — nothing is invented.

The document itself goes into the report's details, so a rendered verdict document quotes the
operator's facts from the evidence record, never from hand-typed text.

PASS: a complete operator.yaml → "0 problems in operator evidence".
FAIL: no ``release.hf_commit`` → "1 problem in operator evidence: release.hf_commit: Field
required".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ValidationError

from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import records

KIND = "evidence.schema"
VERSION = 1
TITLE = "An operator evidence file (operator, consumer, dogfood-summary) matches its schema"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class Params(CheckParams):
    """Options of evidence.schema."""

    schema_name: Literal["operator", "consumer", "dogfood-summary"]


def measure(ctx: Context, params: Params) -> Measurement:
    """Validate the document against the named model."""
    from albor_gates.artifacts.operator import SCHEMAS  # its 8 models: only when measuring

    docs = records(ctx, "source")
    model = SCHEMAS[params.schema_name]
    problems: list[str] = []
    document: Any = None
    if len(docs) != 1:
        problems.append(f"expected one document, found {len(docs)}")
    else:
        document = docs[0]
        try:
            model.model_validate(docs[0])
        except ValidationError as e:
            for err in e.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(document)"
                problems.append(f"{loc}: {err['msg']}")
    summary = f"{len(problems)} problems in {params.schema_name} evidence"
    if problems:
        summary += ": " + "; ".join(problems[:6])
    return Measurement(
        len(problems),
        subject="evidence problems",
        summary=summary,
        details={"problems": problems, "schema": params.schema_name, "document": document},
        fix=f"complete {ctx.path('source').name} "
        f"(see `gates schema --evidence {params.schema_name}`)",
    )
