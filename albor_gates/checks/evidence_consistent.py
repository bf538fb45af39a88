"""evidence.consistent — the evidence files of one run tell one story.

An operator hands in several files for one QA run (``operator.yaml``, ``apr qa --json``,
``apr bench --json``, the /dogfood summary). Each is valid on its own, but together they may
describe two runs: two operators, two dates, two apr versions, two model files. Judging a
criterion on such a set would sign off a document no single run produced (issue 10, "Bad
input"), so this check reads every file of the ``source`` folder that matches ``files`` (less
``exclude``: the independent consumer's report is another person on another day by design) and,
for each identity field of ``fields``, every value any file carries under any of its ``paths``
(a null is not a value). Two values that disagree are a contradiction; with ``within_hours`` the
values are timestamps with a timezone and contradict when further apart than that.

The value is the number of contradictions (default band ``eq: 0``). A field no file carries, or
only one file carries once, has nothing to contradict and is listed as such in the details.

```yaml
check: evidence.consistent
artifact: operator_evidence          # a dir
params:
  exclude: [consumer.yaml]
  fields:
    operator: {paths: [operator]}
    apr version: {paths: [tool.version, install.version_output]}
    run date: {paths: [date, timestamp], within_hours: 24}
```

PASS: the bundled sample evidence with the params above — operator.yaml and
dogfood-summary.yaml name example-operator, operator.yaml's two version fields say apr 0.31.2
(6d1f0e3), its date (2026-05-18T14:05:00+02:00) and apr-qa.json's timestamp
(2026-05-18T14:21:07+02:00) are 16 minutes apart → "0 contradictions: 6 values of 3 identity
fields agree across 5 files".
FAIL: operator.yaml edited to operator someone-else → "1 contradiction: operator is
'example-operator' in …/dogfood-summary.yaml (operator) but 'someone-else' in …/operator.yaml
(operator)", fix "make dogfood-summary.yaml and operator.yaml agree on operator".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from albor_gates.artifacts.documents import FieldMissing, extract, parse_field_path
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import documents
from albor_gates.errors import EvidenceError

KIND = "evidence.consistent"
VERSION = 1
TITLE = "The evidence files of one run agree on who, when, which tool and which model"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class IdentityField(CheckParams):
    """One fact that identifies the run, and the field paths the files carry it under."""

    paths: tuple[str, ...] = Field(min_length=1)
    within_hours: float | None = Field(None, gt=0)

    @field_validator("paths")
    @classmethod
    def _parses(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            parse_field_path(path)  # a ValueError here is the spec error, with the character
        return paths


class Params(CheckParams):
    """Options of evidence.consistent."""

    files: tuple[str, ...] = Field(("*.json", "*.yaml", "*.yml"), min_length=1)
    exclude: tuple[str, ...] = ()
    fields: dict[str, IdentityField] = Field(min_length=1)


# (file path, field path, value) — one place where a file states one identity fact.
Witness = tuple[str, str, Any]


def _witnesses(folder: str, docs: Mapping[str, Any], spec: IdentityField) -> list[Witness]:
    out: list[Witness] = []
    for name, doc in docs.items():
        for path in spec.paths:
            try:
                value = extract(doc, parse_field_path(path))
            except FieldMissing:
                continue
            if value is not None:
                out.append((f"{folder}/{name}", path, value))
    return out


def _timestamp(w: Witness) -> dt.datetime:
    file, path, value = w
    when = value
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            when = None
    if not isinstance(when, dt.datetime) or when.tzinfo is None:
        raise EvidenceError(
            f"{file}: {path} is {value!r}, not a timestamp with a timezone; write it as "
            "2026-05-18T14:05:00+02:00"
        )
    return when


# Two witnesses that disagree, and what to add to the sentence (the span, for timestamps).
Clash = tuple[Witness, Witness, str]


def contradictions(spec: IdentityField, found: list[Witness]) -> list[Clash]:
    """Each value of ``found`` that contradicts the first (for timestamps: a span too wide)."""
    if spec.within_hours is not None:
        timed = sorted(found, key=_timestamp)
        if len(timed) < 2:
            return []
        first, last = timed[0], timed[-1]
        span = (_timestamp(last) - _timestamp(first)).total_seconds() / 3600
        if span <= spec.within_hours:
            return []
        return [(first, last, f", {span:.1f} h apart (> {spec.within_hours:g} h)")]
    out: list[Clash] = []
    seen: list[Any] = []
    for w in found:
        if not any(w[2] == v for v in seen):
            seen.append(w[2])
            if len(seen) > 1:
                out.append((found[0], w, ""))
    return out


def _sentence(name: str, clash: Clash) -> str:
    a, b, why = clash
    # Timestamps in one ISO form (a YAML loader has already parsed some of them), the rest
    # quoted, so 'v1' and v1 never read alike.
    show = (lambda w: _timestamp(w).isoformat()) if why else (lambda w: repr(w[2]))
    return f"{name} is {show(a)} in {a[0]} ({a[1]}) but {show(b)} in {b[0]} ({b[1]}){why}"


def _fix(folder: str, name: str, clash: Clash) -> str:
    # The fix names both files and the field too: reports that show no summary (SARIF, GitHub
    # annotations, the Markdown summary) still say where the contradiction is.
    a, b = (w[0].removeprefix(folder + "/") for w in clash[:2])
    return (
        f"make {a} agree with itself on {name}" if a == b else (f"make {a} and {b} agree on {name}")
    )


def measure(ctx: Context, params: Params) -> Measurement:
    """Collect each identity field's values across the files and count the disagreements."""
    folder = str(ctx.path("source"))
    docs = documents(ctx, "source", params.files, params.exclude)
    problems: list[str] = []
    fixes: list[str] = []
    compared: dict[str, int] = {}
    for name, spec in params.fields.items():
        found = _witnesses(folder, docs, spec)
        compared[name] = len(found)
        for clash in contradictions(spec, found):
            problems.append(_sentence(name, clash))
            fixes.append(_fix(folder, name, clash))
    checked = {k: n for k, n in compared.items() if n > 1}
    if problems:
        summary = f"{len(problems)} contradiction{'s' if len(problems) > 1 else ''}: " + "; ".join(
            problems
        )
    else:
        summary = (
            f"0 contradictions: {sum(checked.values())} values of {len(checked)} identity "
            f"fields agree across {len(docs)} files"
        )
    return Measurement(
        len(problems),
        subject="contradictions",
        summary=summary,
        details={
            "files": list(docs),
            "values": compared,
            "unchecked": sorted(k for k, n in compared.items() if n < 2),
            "problems": problems,
        },
        fix="" if not problems else "; ".join(fixes) + " (hand in the files of one run)",
    )
