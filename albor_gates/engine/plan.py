"""Planning: bind every gate of a spec set to its check kind, before any artifact is read.

Every spec error surfaces here, all at once: duplicate or colliding gate ids, unknown check
kinds ("known kinds: ..."), params the kind's own model rejects, unknown roles, dangling
artifact references, gates with no band, bands that contradict each other, waivers that name
no gate. ``gates lint`` is exactly ``load → resolve → plan``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from albor_gates import checks
from albor_gates.checks.base import CheckKind, CheckParams
from albor_gates.errors import Problem, SpecError
from albor_gates.spec.bands import band_conflicts
from albor_gates.spec.loader import (
    GateOrigin,
    LoadedSpec,
    SpecResolver,
    SpecSet,
    breadcrumb,
    suggest,
    validation_problems,
)
from albor_gates.spec.models import ArtifactRef, Band, Waiver


@dataclass(frozen=True)
class PlannedGate:
    """A gate bound to its check kind with validated params and resolved bands."""

    origin: GateOrigin
    kind: CheckKind
    params: CheckParams
    bindings: Mapping[str, str]
    expect: Band | None
    warn: Band | None
    overrides: tuple[Mapping[str, Any], ...] = ()

    @property
    def id(self) -> str:
        """The gate id."""
        return self.origin.gate.id

    @property
    def primary_artifact(self) -> str | None:
        """The artifact bound to the kind's primary role, if any."""
        roles = self.kind.ROLES or self.kind.OPTIONAL_ROLES
        return self.bindings.get(roles[0]) if roles else None


@dataclass(frozen=True)
class PlannedArtifact:
    """An artifact declaration and the spec file whose folder anchors its relative path."""

    name: str
    ref: ArtifactRef
    declared_in: LoadedSpec


@dataclass(frozen=True)
class PlannedWaiver:
    """A waiver with its location."""

    waiver: Waiver
    spec: LoadedSpec
    index: int
    gate: PlannedGate

    @property
    def line(self) -> int:
        """1-based line of the waiver."""
        return self.spec.position(("waivers", self.index))[0]


@dataclass(frozen=True)
class Plan:
    """What an evaluation will do, fully validated."""

    spec_set: SpecSet
    artifacts: Mapping[str, PlannedArtifact]
    gates: tuple[PlannedGate, ...]
    waivers: tuple[PlannedWaiver, ...]

    @property
    def spec_id(self) -> str:
        """The root spec's id."""
        return self.spec_set.root.spec.id

    def needs(self) -> set[str]:
        """Union of what the planned gates need (``torch``, ``gpu``)."""
        out: set[str] = set()
        for g in self.gates:
            out |= set(g.kind.NEEDS)
        return out


def _merge_artifacts(spec_set: SpecSet, problems: list[Problem]) -> dict[str, PlannedArtifact]:
    merged: dict[str, PlannedArtifact] = {}
    for member in spec_set.members:  # bases first: a child's binding overrides its base's
        for name, ref in member.spec.artifacts.items():
            prev = merged.get(name)
            if prev is None:
                merged[name] = PlannedArtifact(name, ref, member)
                continue
            conflict = prev.ref.bound and ref.bound and prev.ref != ref
            if conflict and member is not spec_set.root and prev.declared_in is not spec_set.root:
                line, col = member.position(("artifacts", name))
                problems.append(
                    Problem(
                        member.doc.file,
                        line,
                        col,
                        breadcrumb(member.spec.id, None, ("artifacts", name)),
                        f"artifact {name!r} is bound differently in {prev.declared_in.doc.file}",
                        "bind it once, in the spec that extends both",
                    )
                )
            if not ref.bound:
                continue  # a placeholder never unbinds an existing binding
            merged[name] = PlannedArtifact(name, ref, member)
    return merged


def _apply_overrides(
    spec_set: SpecSet, origins: list[GateOrigin], problems: list[Problem]
) -> tuple[list[GateOrigin], dict[str, list[dict[str, Any]]]]:
    """Apply every member's ``overrides`` to inherited gates (bases first, root last)."""
    by_id = {o.gate.id: i for i, o in enumerate(origins)}
    applied: dict[str, list[dict[str, Any]]] = {}
    out = list(origins)
    for member in spec_set.members:
        for k, ov in enumerate(member.spec.overrides):
            line, col = member.position(("overrides", k, "gate"))
            crumb = breadcrumb(member.spec.id, None, ("overrides", "gate"))
            i = by_id.get(ov.gate)
            if i is None:
                hint = suggest(ov.gate, by_id) or "an override names a gate this spec inherits"
                problems.append(
                    Problem(member.doc.file, line, col, crumb, f"no gate {ov.gate!r}", hint)
                )
                continue
            if out[i].spec is member:
                problems.append(
                    Problem(
                        member.doc.file,
                        line,
                        col,
                        crumb,
                        f"gate {ov.gate!r} is declared in this spec: edit it instead of overriding",
                    )
                )
                continue
            gate = out[i].gate
            update: dict[str, Any] = {}
            changed: list[str] = []
            for key in ("severity", "required", "expect", "warn"):
                value = getattr(ov, key)
                if value is not None and value != getattr(gate, key):
                    update[key] = value
                    changed.append(key)
            if ov.params is not None:
                update["params"] = {**gate.params, **ov.params}
                changed.append("params")
            out[i] = GateOrigin(gate.model_copy(update=update), out[i].spec, out[i].index)
            applied.setdefault(ov.gate, []).append(
                {
                    "spec": member.spec.id,
                    "file": member.doc.file,
                    "line": line,
                    "reason": ov.reason,
                    "changed": changed,
                }
            )
    return out, applied


def _plan_gate(
    origin: GateOrigin, artifacts: Mapping[str, PlannedArtifact], problems: list[Problem]
) -> PlannedGate | None:
    gate = origin.gate
    kind = checks.get(gate.check)
    if kind is None:
        hint = suggest(gate.check, checks.known_kinds())
        known = "known kinds: " + ", ".join(checks.known_kinds())
        problems.append(
            origin.problem(
                ("check",), f"unknown check kind {gate.check!r}", f"{hint} {known}".strip()
            )
        )
        return None
    start = len(problems)
    try:
        params = kind.Params.model_validate(gate.params)
    except ValidationError as e:
        problems.extend(
            validation_problems(
                e,
                kind.Params,
                origin.spec.doc,
                prefix=("gates", origin.index, "params"),
                spec_id=origin.spec.spec.id,
                gate_id=gate.id,
                crumb_prefix=("params",),
            )
        )
        params = None
    roles = (*kind.ROLES, *kind.OPTIONAL_ROLES)
    primary = roles[0] if roles else "artifact"
    if gate.artifact is not None and not roles:
        problems.append(origin.problem(("artifact",), f"{kind.KIND} takes no artifact"))
    bindings = gate.bindings(primary)
    for role, name in bindings.items():
        loc: tuple[str, ...] = ("artifacts", role) if role in gate.artifacts else ("artifact",)
        if role not in roles:
            hint = suggest(role, roles) or f"roles of {kind.KIND}: {', '.join(roles) or 'none'}"
            problems.append(origin.problem(loc, f"unknown role {role!r}", hint))
        if name not in artifacts:
            hint = suggest(name, artifacts) or (
                "declared artifacts: " + (", ".join(sorted(artifacts)) or "none")
            )
            problems.append(origin.problem(loc, f"no artifact named {name!r}", hint))
    for role in kind.ROLES:
        if role not in bindings:
            key = "artifact" if role == primary else f"artifacts: {{{role}: NAME}}"
            problems.append(
                origin.problem((), f"{kind.KIND} needs an artifact for role {role!r}", f"add {key}")
            )
    expect = gate.expect
    if expect is None and kind.DEFAULT_EXPECT is not None:
        expect = Band.model_validate(dict(kind.DEFAULT_EXPECT))
    if expect is None:
        problems.append(
            origin.problem(
                (), f"{kind.KIND} has no default band: add expect", "e.g. expect: {le: 1}"
            )
        )
    for sentence in band_conflicts(expect, gate.warn):
        problems.append(origin.problem(("warn" if gate.warn else "expect",), sentence))
    if len(problems) > start or params is None:
        return None
    return PlannedGate(origin, kind, params, bindings, expect, gate.warn)


def build_plan(spec_set: SpecSet) -> Plan:
    """Validate and bind a resolved spec set.

    Raises:
        SpecError: with every problem found.
    """
    problems: list[Problem] = []
    artifacts = _merge_artifacts(spec_set, problems)
    seen: dict[str, GateOrigin] = {}
    planned: list[PlannedGate] = []
    origins: list[GateOrigin] = []
    for origin in spec_set.gates():
        prev = seen.get(origin.gate.id)
        if prev is not None:
            problems.append(
                origin.problem(
                    ("id",),
                    f"duplicate gate id {origin.gate.id!r} (also at {prev.file}:{prev.line})",
                    "gate ids are unique across a spec and everything it extends",
                )
            )
            continue
        seen[origin.gate.id] = origin
        origins.append(origin)
    origins, overrides = _apply_overrides(spec_set, origins, problems)
    for origin in origins:
        pg = _plan_gate(origin, artifacts, problems)
        if pg is not None:
            planned.append(replace(pg, overrides=tuple(overrides.get(pg.id, ()))))
    by_id = {g.id: g for g in planned}
    waivers: list[PlannedWaiver] = []
    for member in spec_set.members:
        for i, w in enumerate(member.spec.waivers):
            line, col = member.position(("waivers", i, "gate"))
            crumb = breadcrumb(member.spec.id, None, ("waivers", "gate"))
            target = by_id.get(w.gate)
            if target is None:
                if w.gate not in seen:
                    hint = suggest(w.gate, seen) or "a waiver must name a gate of this spec"
                    problems.append(
                        Problem(member.doc.file, line, col, crumb, f"no gate {w.gate!r}", hint)
                    )
                continue
            art = w.artifact or target.primary_artifact
            if art is None:
                problems.append(
                    Problem(
                        member.doc.file,
                        line,
                        col,
                        crumb,
                        f"gate {w.gate!r} has no artifact to bind the waiver's sha256 to",
                    )
                )
                continue
            if art not in artifacts:
                problems.append(
                    Problem(member.doc.file, line, col, crumb, f"no artifact named {art!r}")
                )
                continue
            waivers.append(PlannedWaiver(w, member, i, target))
    if problems:
        raise SpecError(problems)
    return Plan(spec_set, artifacts, tuple(planned), tuple(waivers))


def plan_file(path: Path, resolver: SpecResolver | None = None) -> Plan:
    """Load, resolve and plan one spec file."""
    resolver = resolver or SpecResolver()
    return build_plan(resolver.resolve(path))


def describe_params(params: CheckParams) -> dict[str, Any]:
    """Params as plain data for reports (defaults included, sorted)."""
    return dict(sorted(params.model_dump(mode="json", by_alias=True).items()))
