"""The spec language: pydantic models, frozen, with unknown keys rejected everywhere.

A *spec* names the artifacts of a release and the *gates* that must hold for it::

    id: ship-model-2
    version: 1.2.0
    title: SPEC-SHIP-MODEL-2 acceptance criteria
    source: {document: "aprender:docs/.../ship-model-2-spec.md", version: 1.2.0, section: "§5.2"}
    extends: [weights-hygiene]
    artifacts:
      best_epoch: {path: evidence/epoch-049.metadata.json, kind: json}
    gates:
      - id: AC-SHIP2-003-LOOSE
        title: Best validation cross-entropy is at most 4.7 nats.
        check: metric.value
        artifact: best_epoch
        params: {field: val_loss}
        expect: {ge: 0, le: 4.7}
    waivers: []

A gate's ``params`` are validated by its check kind's own ``Params`` model when the spec is
planned (see :mod:`albor_gates.engine.plan`), so this module stays independent of the checks.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from albor_gates.spec.operators import OPERATORS, PRECISIONS, Rounder

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$"
_ID_RE = re.compile(ID_PATTERN)


def _check_id(cls: type, v: str) -> str:
    """Validate a gate or spec id (shared by both models)."""
    if not _ID_RE.match(v):
        raise ValueError(f"id {v!r} must match {ID_PATTERN}")
    return v


Severity = Literal["blocking", "advisory", "info"]
ArtifactKind = Literal[
    "file",
    "dir",
    "json",
    "jsonl",
    "yaml",
    "text",
    "log",
    "safetensors",
    "gguf",
    "model",
    "config",
    "tokenizer",
    "model-card",
    "tokens",
    "command",
    "report",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_Model):
    """Where a spec or gate comes from: the document, its version and section."""

    document: str = Field(min_length=1, description="Source document, e.g. repo:path.")
    version: str | None = Field(None, description="Document version or commit.")
    section: str | None = Field(None, description="Section, e.g. '§5.2'.")
    url: str | None = None


class Alias(_Model):
    """The same criterion under another document's numbering (GATES.md §1.3)."""

    id: str = Field(min_length=1)
    document: str = Field(min_length=1)
    version: str | None = None
    section: str | None = None
    meaning: str | None = Field(None, description="What this id means in that document.")


class Falsifier(_Model):
    """A falsification test that would refute the gate (provable-contracts style)."""

    id: str = Field(min_length=1)
    prediction: str = Field(min_length=1)
    test: str | None = None
    if_fails: str | None = None


def _operator_fields() -> dict[str, Any]:
    """One optional Band field per row of the operator table, under the operator's YAML name."""
    fields: dict[str, Any] = {}
    for op in OPERATORS.values():
        extra: dict[str, Any] = {"alias": op.name} if op.attr != op.name else {}
        if op.description is not None:
            extra["description"] = op.description
        fields[op.attr] = (op.accepts | None, Field(None, **extra))
    return fields


# (YAML name, attribute) per row: operators() runs for every band the lint and the judge see.
_ATTRS = tuple((name, op.attr) for name, op in OPERATORS.items())
_FLAG_ATTRS = tuple(op.attr for op in OPERATORS.values() if op.flag)

# Generated from the table, so mypy cannot see the operator fields: read them via operators().
_OperatorFields = create_model("_OperatorFields", __base__=_Model, **_operator_fields())


class Band(_OperatorFields):
    """A set of conditions on one measured value; all must hold.

    ``expect`` is the fail band (outside it the gate FAILs); ``warn`` is the warn band
    (outside it a passing gate WARNs). Bounds are inclusive for ``le``/``ge``/``between``,
    exclusive for ``lt``/``gt``. ``precision: float32`` rounds both the value and the bounds to
    IEEE single precision first, reproducing decision rules written against f32 constants
    (AC-SHIP2-003's ``2.2`` is f32 0x400CCCCD).
    """

    precision: Literal["float64", "float32"] = "float64"
    confidence: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Judge the bootstrap interval of the check's samples, not its point value: "
        "PASS inside, FAIL entirely outside, WARN (inconclusive) across a bound.",
    )

    @model_validator(mode="after")
    def _check(self) -> Band:
        present = self.operators()
        if not present:
            raise ValueError(f"a band needs at least one operator: {', '.join(OPERATORS)}")
        if self.confidence is not None and set(present) - {"le", "lt", "ge", "gt", "between"}:
            raise ValueError("confidence needs numeric bounds only (le, lt, ge, gt, between)")
        flags = [name for name in present if OPERATORS[name].flag]
        if flags and len(present) > 1:
            raise ValueError(f"{flags[0]} cannot be combined with other operators")
        for name, bound in present.items():
            OPERATORS[name].check_bound(name, bound)
        return self

    def operators(self) -> dict[str, Any]:
        """Return the operators that are set, by their YAML names."""
        return {name: v for name, attr in _ATTRS if (v := getattr(self, attr)) is not None}

    def judges_flag(self) -> bool:
        """Whether the band judges a true/false value (``is_true``) rather than a quantity."""
        return any(getattr(self, attr) is not None for attr in _FLAG_ATTRS)

    def rounding(self) -> Rounder:
        """How values and bounds are rounded before they are compared (``precision``)."""
        return PRECISIONS[self.precision]

    def describe(self) -> str:
        """Render the band as text: ``≤ 4.7 and ≥ 0``."""
        return " and ".join(OPERATORS[k].describe(v) for k, v in self.operators().items())


class BaselineRule(_Model):
    """Change threshold against the same gate in a previous report (TFMA style, made precise).

    relative change = (candidate − baseline) / |baseline|; with a zero baseline it is 0 when
    the candidate equals it and ±inf otherwise (so any regression from 0 exceeds a relative
    limit and any improvement passes). A regression is a change in the worse ``direction``.
    """

    direction: Literal["higher_is_better", "lower_is_better"]
    max_regression_abs: float | None = Field(None, ge=0)
    max_regression_rel: float | None = Field(None, ge=0)
    missing: Literal["pass", "warn", "fail"] = Field(
        "warn", description="Result when no baseline value exists for this gate."
    )
    on_regression: Literal["fail", "warn"] = "fail"

    @model_validator(mode="after")
    def _some_limit(self) -> BaselineRule:
        if self.max_regression_abs is None and self.max_regression_rel is None:
            raise ValueError("baseline needs max_regression_abs and/or max_regression_rel")
        return self


class ArtifactRef(_Model):
    """A named input of the spec: a file or folder path, or a command for CLI protocols.

    A ref with neither ``path`` nor ``command`` is a placeholder that an extending spec or
    the command line (``--artifact NAME=PATH``, ``--root``) must bind before evaluation.
    Relative paths resolve against ``--root`` when given, else the spec file's folder.
    """

    kind: ArtifactKind = "file"
    path: str | None = None
    command: list[str] | None = None
    description: str | None = None
    optional: bool = Field(
        False, description="When absent on disk the gates that use it are SKIPPED, not ERROR."
    )

    @model_validator(mode="after")
    def _one_binding(self) -> ArtifactRef:
        if self.path is not None and self.command is not None:
            raise ValueError("set path or command, not both")
        if self.command is not None and not self.command:
            raise ValueError("command must not be empty")
        return self

    @property
    def bound(self) -> bool:
        """Whether the ref names a path or a command."""
        return self.path is not None or self.command is not None


class Recomputes(_Model):
    """The logged gate a recomputing gate re-measures (issue 10: logged vs recomputed).

    The run adds a ``<GATE>-VS-LOGGED`` finding beside the pair: blocking FAIL when one side
    passes and the other fails, or when both values are numbers further apart than a tolerance.
    """

    gate: str = Field(min_length=1, description="Id of the gate that judges the logged value.")
    tolerance_abs: float | None = Field(None, ge=0, description="Largest |logged − recomputed|.")
    tolerance_rel: float | None = Field(
        None, ge=0, description="Largest |logged − recomputed| / |logged|."
    )


class Gate(_Model):
    """One criterion, invariant or gate: a check kind bound to artifacts and thresholds."""

    id: str = Field(min_length=1, description="Stable id, e.g. AC-SHIP2-003-STRICT.")
    title: str = Field(min_length=1, description="One sentence saying what must hold.")
    check: str = Field(min_length=1, description="Check kind; `gates list` shows them.")
    artifact: str | None = Field(None, description="Artifact for the check's primary role.")
    artifacts: dict[str, str] = Field(default_factory=dict, description="role → artifact name")
    params: dict[str, Any] = Field(default_factory=dict)
    expect: Band | None = Field(None, description="Fail band; default: the check's own.")
    warn: Band | None = Field(None, description="Warn band, checked when expect holds.")
    baseline: BaselineRule | None = None
    severity: Severity = "blocking"
    required: bool = Field(True, description="A required gate that is skipped is NO-GO.")
    aliases: list[Alias] = Field(default_factory=list)
    source: Source | None = None
    description: str | None = None
    rationale: str | None = None
    falsifiers: list[Falsifier] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    recomputes: Recomputes | None = Field(
        None, description="The logged gate this one recomputes; a disagreement is blocking."
    )

    _id_shape = field_validator("id")(_check_id)

    def bindings(self, primary_role: str) -> dict[str, str]:
        """Return role → artifact name, folding ``artifact`` into ``primary_role``."""
        out = dict(self.artifacts)
        if self.artifact is not None:
            out[primary_role] = self.artifact
        return out


class Waiver(_Model):
    """An approved exception for one gate on one exact artifact, until a date.

    A live waiver turns that gate's FAIL/ERROR into WAIVED (decision WARN). An expired waiver,
    or one whose artifact sha256 no longer matches, makes the decision NO-GO: re-approve it.
    """

    gate: str = Field(min_length=1)
    artifact: str | None = Field(None, description="Artifact name; default: the gate's primary.")
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    reason: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    expires: dt.date


class Override(_Model):
    """A child spec's change to an inherited gate, with the reason recorded in every report.

    Only severity, required, the bands and params can change; the gate keeps its id, check
    and artifacts. Loosening a reusable invariant is visible, never silent.
    """

    gate: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    severity: Severity | None = None
    required: bool | None = None
    expect: Band | None = None
    warn: Band | None = None
    params: dict[str, Any] | None = Field(None, description="Merged over the inherited params.")


class Spec(_Model):
    """A spec file: identity, source, inherited bundles, artifacts, gates and waivers."""

    id: str = Field(min_length=1, description="Spec id, unique among loaded specs.")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    kind: Literal["spec", "bundle"] = Field(
        "spec", description="A bundle is reusable (invariants/); it is evaluated via extends."
    )
    description: str | None = None
    source: Source | None = None
    extends: list[str] = Field(default_factory=list)
    root: str | None = Field(
        None,
        description="Default folder relative artifact paths resolve against (relative to this "
        "file); --root overrides it. Bundled release specs point at the bundled example.",
    )
    artifacts: dict[str, ArtifactRef] = Field(default_factory=dict)
    gates: list[Gate] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="Decisions and their reasons (e.g. NOT FOUND items)."
    )

    _id_shape = field_validator("id")(_check_id)
