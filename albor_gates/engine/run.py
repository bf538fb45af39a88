"""Evaluation: bind artifacts, measure every gate, judge it, apply waivers, decide.

Fail closed and isolated: an exception inside one gate becomes that gate's ERROR and the run
goes on; an unreadable artifact is an ERROR; a required gate that does not run is SKIPPED and
NO-GO. Artifacts are read once per run (the context caches readers' results *and* errors), and
each file is hashed once per run (:class:`~albor_gates.artifacts.files.Digests`). Across runs,
a gate's measurement comes from the evidence cache (engine/cache.py) while every file the gate
read is unchanged; the context records which artifacts each gate reached.
Ctrl-C propagates as KeyboardInterrupt: callers write no report for an interrupted run.
"""

from __future__ import annotations

import platform
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from albor_gates._version import __version__
from albor_gates.artifacts.files import Digests
from albor_gates.artifacts.hub import hub_source_of, resolve_model_reference
from albor_gates.artifacts.limits import DEFAULT_HEADER_CAP, set_header_cap
from albor_gates.checks.base import BoundArtifact, Measurement, ProgressFn
from albor_gates.engine import confine
from albor_gates.engine.agreement import agreements
from albor_gates.engine.baseline import baseline_value, compare, load_baseline
from albor_gates.engine.cache import EvidenceCache, open_cache
from albor_gates.engine.clock import Clock, clock_from_env
from albor_gates.engine.confidence import judge_interval
from albor_gates.engine.decide import decide
from albor_gates.engine.judge import judge
from albor_gates.engine.plan import Plan, PlannedArtifact, PlannedGate
from albor_gates.engine.results import (
    ArtifactInfo,
    GateResult,
    SpecInfo,
    Status,
    Verdict,
    WaiverOutcome,
)
from albor_gates.engine.select import check_patterns, describe, is_selected
from albor_gates.errors import CheckSkipped, EvidenceError, GatesError, UsageError
from albor_gates.extras import missing_reason
from albor_gates.settings import RunSettings

T = TypeVar("T")

_STATUS_RANK = {
    Status.PASS: 0,
    Status.WAIVED: 1,
    Status.WARN: 1,
    Status.SKIPPED: 2,
    Status.FAIL: 3,
    Status.ERROR: 4,
}


class Observer:
    """Hooks for a user interface; the default does nothing."""

    def gate_started(self, gate: PlannedGate) -> None:
        """Called before a gate is measured."""

    def gate_finished(self, result: GateResult) -> None:
        """Called after a gate is judged."""

    def progress(self, gate: PlannedGate, label: str, total: float) -> ProgressFn:
        """Return a callback ``(done, total)`` for a long measurement."""
        return lambda done, total: None


@dataclass
class RunOptions:
    """How to run an evaluation.

    Attributes:
        root: folder that relative artifact paths resolve against (default: each spec's).
        artifacts: ``name → path`` bindings that override the specs.
        baseline: a previous JSON report for baseline change thresholds.
        skip: gate ids to skip on request (a required one still makes NO-GO).
        select: gate-id globs or ``tag:NAME``; only the gates they name run (engine/select.py).
        ignore: gate-id globs or ``tag:NAME`` left out; a left-out gate is "not selected".
        settings: the run settings checks read (``device``, ``seq_len``, ...), validated.
        clock: the clock (default: SOURCE_DATE_EPOCH or the system clock).
        observer: UI hooks.
        environment: override of the recorded environment (golden tests).
        replay: recorded measurements to judge instead of measuring.
        digest_artifacts: record every present artifact's sha256 in the report (attestations).
        allow_exec: run gates that execute programs (see engine/confine.py); else SKIPPED.
        pass_env: environment variable names a command may receive (the operator's allow-list).
        allow_outside_root: read artifact paths outside the boundary (engine/confine.py).
        max_header_bytes: the largest safetensors header read (artifacts/limits.py).
    """

    root: Path | None = None
    artifacts: Mapping[str, str] = field(default_factory=dict)
    baseline: Path | None = None
    skip: frozenset[str] = frozenset()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    settings: RunSettings = field(default_factory=RunSettings)
    clock: Clock | None = None
    observer: Observer = field(default_factory=Observer)
    environment: Mapping[str, Any] | None = None
    replay: Replay | None = None
    digest_artifacts: bool = False
    allow_exec: bool = False
    pass_env: frozenset[str] = frozenset()
    allow_outside_root: bool = False
    max_header_bytes: int = DEFAULT_HEADER_CAP


@dataclass(frozen=True)
class Replay:
    """Recorded measurements to judge instead of measuring (see engine/bundle.py).

    Attributes:
        measurements: (spec, gate) → the recorded outcome of ``measure()``.
        digests: (spec, artifact) → the artifact's recorded sha256 (None when absent).
    """

    measurements: Mapping[tuple[str, str], Mapping[str, Any]]
    digests: Mapping[tuple[str, str], str | None]


def bind_artifacts(plan: Plan, opts: RunOptions) -> dict[str, BoundArtifact]:
    """Resolve every artifact the plan's gates use to a path or a command.

    Raises:
        UsageError: naming each artifact that is used but bound nowhere.
    """
    used = {name for g in plan.gates for name in g.bindings.values()}
    used |= {w.waiver.artifact or w.gate.primary_artifact or "" for w in plan.waivers} - {""}
    bound: dict[str, BoundArtifact] = {}
    unbound: list[str] = []
    fence = confine.boundary(plan, opts.root)
    for name, pa in sorted(plan.artifacts.items()):
        override = opts.artifacts.get(name)
        if override is not None:
            bound[name] = BoundArtifact(name, pa.ref, Path(override), None)
        elif pa.ref.command is not None:
            bound[name] = BoundArtifact(name, pa.ref, None, tuple(pa.ref.command))
        elif pa.ref.path is not None:
            path = _resolve(pa, opts.root or _spec_root(plan))
            refused = confine.path_refusal(name, path, fence, allow_outside=opts.allow_outside_root)
            bound[name] = BoundArtifact(name, pa.ref, path, None, refused)
        elif name in used:
            unbound.append(name)
    if unbound:
        raise UsageError(
            f"spec {plan.spec_id}: artifact(s) {', '.join(unbound)} have no path; bind them with "
            f"--artifact {unbound[0]}=PATH (or in a spec that extends {plan.spec_id})"
        )
    return bound


def _spec_root(plan: Plan) -> Path | None:
    """The root spec's declared ``root`` folder, relative to its file."""
    root = plan.spec_set.root
    if root.spec.root is None:
        return None
    return root.path.parent / root.spec.root


def _resolve(pa: PlannedArtifact, root: Path | None) -> Path:
    assert pa.ref.path is not None
    if pa.ref.path.startswith("hf://"):  # a Hub reference is made local before any gate runs
        return resolve_model_reference(pa.ref.path).path
    p = Path(pa.ref.path).expanduser()
    if p.is_absolute():
        return p
    base = root if root is not None else pa.declared_in.path.parent
    return base / p


class _Context:
    """The Context a check sees (see :class:`albor_gates.checks.base.Context`)."""

    def __init__(
        self,
        gate: PlannedGate,
        bound: Mapping[str, BoundArtifact],
        cache: dict[tuple[str, str], tuple[bool, Any]],
        digests: dict[str, str],
        settings: RunSettings,
        observer: Observer,
        memo: Digests,
    ) -> None:
        self.gate = gate
        self._bound = bound
        self._cache = cache
        self._digests = digests
        self._settings = settings
        self._observer = observer
        self._memo = memo
        # artifact name → whether every access was exact (the artifact itself, not the folder
        # around a weights file); what the evidence cache records as this gate's dependencies
        self.reached: dict[str, bool] = {}

    def _reach(self, role: str, exact: bool = False) -> None:
        name = self._name(role)
        if name is not None and name in self._bound:
            self.reached[name] = self.reached.get(name, True) and exact

    @property
    def settings(self) -> RunSettings:
        return self._settings

    def _name(self, role: str) -> str | None:
        return self.gate.bindings.get(role)

    def has(self, role: str) -> bool:
        self._reach(role, exact=True)  # the answer depends on the artifact being there
        name = self._name(role)
        return name is not None and name in self._bound and self._bound[name].present

    def artifact(self, role: str) -> BoundArtifact:
        self._reach(role, exact=True)
        return self._artifact(role)

    def _artifact(self, role: str) -> BoundArtifact:
        name = self._name(role)
        if name is None or name not in self._bound:
            raise EvidenceError(f"gate {self.gate.id}: no artifact bound to role {role!r}")
        return self._bound[name]

    def path(self, role: str) -> Path:
        self._reach(role, exact=True)
        return self._path(role)

    def _path(self, role: str) -> Path:
        art = self._artifact(role)
        if art.path is None:
            raise EvidenceError(f"artifact {art.name!r} is a command, not a path")
        if art.refused:
            raise EvidenceError(art.refused)
        if not art.path.exists():
            raise EvidenceError(f"{art.path}: not found (artifact {art.name!r})")
        if not (art.path.is_file() or art.path.is_dir()):
            # a FIFO, socket or device (/dev/zero) would block or never end: refuse it
            raise EvidenceError(
                f"{art.path}: not a regular file or folder (artifact {art.name!r}); "
                "point it at a file"
            )
        return art.path

    def read(self, role: str, key: str, reader: Callable[[Path], T], *, exact: bool = False) -> T:
        self._reach(role, exact)
        path = self._path(role)
        ck = (str(path.resolve()), key)
        if ck not in self._cache:
            try:
                self._cache[ck] = (True, reader(path))
            except (GatesError, CheckSkipped) as e:
                self._cache[ck] = (False, e)
        ok, value = self._cache[ck]
        if not ok:
            raise value
        return value

    def digest(self, role: str) -> str:
        self._reach(role, exact=True)
        path = self._path(role)
        key = str(path.resolve())
        if key not in self._digests:
            self._digests[key] = self._memo.path(path)
        return self._digests[key]

    def progress(self, label: str, total: float) -> ProgressFn:
        return self._observer.progress(self.gate, label, total)


def _environment() -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:  # only when a check needed it: cheap runs never import torch
        env["torch"] = getattr(torch, "__version__", "unknown")
        try:
            env["cuda"] = torch.version.cuda
            if torch.cuda.is_available():
                env["gpu"] = torch.cuda.get_device_name(0)
        except Exception:  # noqa: BLE001 - environment facts are best effort
            pass
    return env


def _base_result(pg: PlannedGate, spec_id: str) -> GateResult:
    g = pg.origin.gate
    source = g.source or pg.origin.spec.spec.source
    return GateResult(
        spec=spec_id,
        gate_id=g.id,
        title=g.title,
        check=pg.kind.KIND,
        check_version=pg.kind.VERSION,
        severity=g.severity,
        required=g.required,
        status=Status.ERROR,
        message="",
        expect=pg.expect.model_dump(mode="json", exclude_none=True, by_alias=True)
        if pg.expect
        else None,
        warn=pg.warn.model_dump(mode="json", exclude_none=True, by_alias=True) if pg.warn else None,
        artifacts=tuple(sorted(set(pg.bindings.values()))),
        aliases=tuple(a.model_dump(mode="json", exclude_none=True) for a in g.aliases),
        source=source.model_dump(mode="json", exclude_none=True) if source else None,
        file=pg.origin.file,
        line=pg.origin.line,
        tags=tuple(g.tags),
        overrides=pg.overrides,
    )


def _measure_gate(
    pg: PlannedGate,
    spec_id: str,
    bound: Mapping[str, BoundArtifact],
    ctx: _Context,
    opts: RunOptions,
    baseline: Mapping[tuple[str, str], Any] | None,
    caching: EvidenceCache | None = None,
) -> GateResult:
    base = _base_result(pg, spec_id)
    if not _selected(pg, opts):  # before replay: a replayed partial run stays partial
        how = describe(opts.select, opts.ignore)
        return replace(base, status=Status.SKIPPED, message=f"not selected ({how})", selected=False)
    if opts.replay is not None:
        return _replayed(pg, spec_id, base, opts, baseline)
    if pg.id in opts.skip:
        return replace(base, status=Status.SKIPPED, message="skipped on request (--skip)")
    refused = confine.refusal(pg, bound, allow_exec=opts.allow_exec, pass_env=opts.pass_env)
    if refused is not None:  # no consent to execute, or a path outside the boundary
        status = Status.ERROR if refused[0] else Status.SKIPPED
        return replace(base, status=status, message=refused[1])
    if absent := missing_reason(pg.kind.EXTRAS):  # the light core install: never an ImportError
        return replace(base, status=Status.SKIPPED, message=absent)
    for role in pg.kind.ROLES:  # an absent optional artifact in a required role → SKIPPED
        name = pg.bindings[role]
        art = bound[name]
        if art.ref.optional and not art.present:
            return replace(
                base,
                status=Status.SKIPPED,
                message=f"optional artifact {name!r} is absent ({art.display()})",
            )
    key = None
    if caching is not None:
        roles = {role: bound[name] for role, name in pg.bindings.items() if name in bound}
        limits = {"max_header_bytes": opts.max_header_bytes}
        key = caching.key(pg.kind, pg.params, opts.settings.measured(), roles, limits)
    if caching is not None and key is not None:
        hit = caching.lookup(key, bound)
        if hit is not None:
            judged = _judged(pg, spec_id, base, hit.measurement, baseline)
            return judged if hit.fresh else replace(judged, cache=hit.record())
    try:
        m: Measurement = pg.kind.measure(ctx, pg.params)
    except CheckSkipped as s:
        return replace(base, status=Status.SKIPPED, message=s.reason, details=dict(s.details))
    except GatesError as e:
        return replace(base, status=Status.ERROR, message=str(e))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # noqa: BLE001 - fail closed: a bug in one gate is that gate's ERROR
        tb = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{Path(tb.filename).name}:{tb.lineno}"
        return replace(
            base,
            status=Status.ERROR,
            message=f"internal error in check {pg.kind.KIND} ({type(e).__name__}: {e} at "
            f"{where}); please report it",
            internal_error=True,
        )
    if caching is not None and key is not None:
        caching.save(key, ctx.reached, bound, m)
    return _judged(pg, spec_id, base, m, baseline)


def _judged(
    pg: PlannedGate,
    spec_id: str,
    base: GateResult,
    m: Measurement,
    baseline: Mapping[tuple[str, str], Any] | None,
) -> GateResult:
    """Judge a measurement against the gate's bands and baseline rule."""
    extra: dict[str, Any] = {}
    try:
        if pg.expect is not None and pg.expect.confidence is not None:
            status, message, extra = judge_interval(
                m.value, m.details, m.subject or pg.id, m.unit, pg.expect, pg.warn, pg.id
            )
        else:
            status, message = judge(
                m.value, m.subject or pg.id, m.unit, pg.expect, pg.warn, m.summary
            )
    except GatesError as e:
        return replace(
            base,
            status=Status.ERROR,
            message=str(e),
            measured=True,
            value=m.value,
            unit=m.unit,
            subject=m.subject,
            summary=m.summary,
            details=dict(sorted(m.details.items())),
        )
    result = replace(
        base,
        status=status,
        message=message,
        value=m.value,
        unit=m.unit,
        subject=m.subject,
        summary=m.summary,
        fix=m.fix if status in (Status.FAIL, Status.WARN) else "",
        details=dict(sorted({**m.details, **extra}.items())),
        measured=True,
    )
    rule = pg.origin.gate.baseline
    if rule is not None:
        prev = baseline_value(baseline, spec_id, pg.id)
        outcome = compare(rule, m.value, prev, have_report=baseline is not None)
        result = replace(result, baseline=outcome)
        if _STATUS_RANK[outcome.status] > _STATUS_RANK[result.status]:
            result = replace(result, status=outcome.status, message=f"{message}; {outcome.message}")
    return result


def _replayed(
    pg: PlannedGate,
    spec_id: str,
    base: GateResult,
    opts: RunOptions,
    baseline: Mapping[tuple[str, str], Any] | None,
) -> GateResult:
    """Judge a recorded measurement (or reproduce a recorded skip / error)."""
    assert opts.replay is not None
    rec = opts.replay.measurements.get((spec_id, pg.id))
    if rec is None:
        return replace(base, status=Status.ERROR, message="no recorded measurement in the bundle")
    if not rec.get("measured"):
        return replace(
            base,
            status=Status(rec["status"]),
            message=str(rec.get("message", "")),
            details=dict(rec.get("details") or {}),
            internal_error=bool(rec.get("internal_error")),
        )
    m = Measurement(
        value=rec.get("value"),
        subject=str(rec.get("subject", "")),
        unit=str(rec.get("unit", "")),
        summary=str(rec.get("summary", "")),
        details=dict(rec.get("details") or {}),
        fix=str(rec.get("fix", "")),
    )
    return _judged(pg, spec_id, base, m, baseline)


def _waivers(
    plan: Plan,
    spec_id: str,
    bound: Mapping[str, BoundArtifact],
    digests: dict[str, str],
    results: dict[str, GateResult],
    today: Any,
    memo: Digests,
    replay: Replay | None = None,
) -> list[WaiverOutcome]:
    outcomes: list[WaiverOutcome] = []
    for pw in plan.waivers:
        w = pw.waiver
        art_name = w.artifact or pw.gate.primary_artifact
        assert art_name is not None  # planning guarantees it
        art = bound.get(art_name)
        actual: str | None = None
        if replay is not None:
            actual = replay.digests.get((spec_id, art_name))
        elif art is not None and art.path is not None and art.present:
            key = str(art.path.resolve())
            try:
                if key not in digests:
                    digests[key] = memo.path(art.path)
                actual = digests[key]
            except EvidenceError:
                actual = None
        if w.expires < today:
            state, msg = "expired", f"waiver expired on {w.expires.isoformat()}; re-approve it"
        elif actual != w.sha256:
            state = "stale"
            got = actual or "unreadable"
            msg = f"waiver is for sha256 {w.sha256[:12]}…, the artifact is now {got[:12]}…"
        else:
            state, msg = "live", f"waived by {w.approved_by} until {w.expires.isoformat()}"
        r = results.get(w.gate)
        applied = (
            state == "live"
            and r is not None
            and r.status in (Status.FAIL, Status.ERROR, Status.SKIPPED, Status.WARN)
        )
        outcome = WaiverOutcome(
            gate=w.gate,
            spec=spec_id,
            state=state,
            applied=applied,
            reason=w.reason,
            approved_by=w.approved_by,
            expires=w.expires,
            sha256=w.sha256,
            actual_sha256=actual,
            file=pw.spec.doc.file,
            line=pw.line,
            message=msg,
        )
        outcomes.append(outcome)
        if r is not None:
            if applied:
                results[w.gate] = replace(
                    r,
                    status=Status.WAIVED,
                    message=f"{r.message} — waived: {w.reason} ({msg})",
                    waiver=outcome,
                )
            else:
                results[w.gate] = replace(r, waiver=outcome)
    return outcomes


def _selected(pg: PlannedGate, opts: RunOptions) -> bool:
    """Whether ``--select`` / ``--ignore`` keep a gate (``--skip`` is apart: engine/select.py)."""
    return is_selected(pg.id, pg.origin.gate.tags, opts.select, opts.ignore)


def _runs(pg: PlannedGate, opts: RunOptions) -> bool:
    """Whether the run measures a gate: selected, and not skipped by name."""
    return pg.id not in opts.skip and _selected(pg, opts)


def _check_device(plans: list[Plan], opts: RunOptions) -> None:
    """A well-formed device that this machine lacks is a usage error before any measurement.

    Asked only when a gate that will run needs torch, and only for a device other than auto
    or cpu (always present), so a cheap run never imports torch.
    """
    device = opts.settings.requested_device
    if device in ("auto", "cpu") or missing_reason(("model",)):  # no torch: its gates SKIP
        return
    if any("torch" in g.kind.NEEDS for p in plans for g in p.gates if _runs(g, opts)):
        from albor_gates.model.device import resolve_device

        resolve_device(device)  # raises UsageError: never a silent fallback (INV-GPUTRAIN-002)


def evaluate_plans(plans: list[Plan], opts: RunOptions | None = None) -> Verdict:
    """Evaluate one or more planned specs into a single verdict.

    Raises:
        UsageError: when a used artifact is unbound, ``--skip`` names no gate, or a gate
            needs torch on a device this machine lacks.
        KeyboardInterrupt: when interrupted (nothing is returned).
    """
    opts = opts or RunOptions()
    set_header_cap(opts.max_header_bytes)
    clock = opts.clock or clock_from_env()
    generated = clock.now()
    all_ids = {g.id for p in plans for g in p.gates}
    unknown_skips = sorted(opts.skip - all_ids)
    if unknown_skips:
        raise UsageError(f"--skip {unknown_skips[0]}: no such gate in the selected specs")
    gates = ((g.id, g.origin.gate.tags) for p in plans for g in p.gates)
    check_patterns(gates, opts.select, opts.ignore)
    baseline = load_baseline(opts.baseline) if opts.baseline else None
    declared = {name for p in plans for name in p.artifacts}
    unknown = sorted(set(opts.artifacts) - declared)
    if unknown:
        ids = ", ".join(p.spec_id for p in plans)
        raise UsageError(
            f"--artifact {unknown[0]}: spec {ids} declares no artifact {unknown[0]!r} "
            f"(it declares: {', '.join(sorted(declared)) or 'none'})"
        )
    binds = [bind_artifacts(p, opts) for p in plans]  # usage errors before any measurement
    if opts.replay is None:
        _check_device(plans, opts)
    results: list[GateResult] = []
    waivers: list[WaiverOutcome] = []
    artifacts: dict[tuple[str, str], ArtifactInfo] = {}
    specs: dict[str, SpecInfo] = {}
    # one cache for the whole run: keys are resolved paths, so specs that share a file (or a
    # loaded model, or a computed evaluation) read it once
    cache: dict[tuple[str, str], tuple[bool, Any]] = {}
    digests: dict[str, str] = {}  # what the report shows: artifacts a gate or waiver hashed
    memo = Digests()
    caching = open_cache(opts.settings, memo, clock.now) if opts.replay is None else None
    for plan, bound in zip(plans, binds, strict=True):
        spec_id = plan.spec_id
        by_id: dict[str, GateResult] = {}
        for pg in plan.gates:
            opts.observer.gate_started(pg)
            ctx = _Context(pg, bound, cache, digests, opts.settings, opts.observer, memo)
            t0 = clock.perf()
            r = _measure_gate(pg, spec_id, bound, ctx, opts, baseline, caching)
            r = replace(r, duration_s=round(clock.perf() - t0, 6))
            by_id[pg.id] = r
        waivers += _waivers(
            plan, spec_id, bound, digests, by_id, generated.date(), memo, opts.replay
        )
        for r in by_id.values():
            opts.observer.gate_finished(r)
        results += by_id.values()
        for member in plan.spec_set.members:
            s = member.spec
            specs.setdefault(
                s.id,
                SpecInfo(
                    s.id,
                    s.version,
                    s.title,
                    member.doc.file,
                    member.digest,
                    s.source.model_dump(mode="json", exclude_none=True) if s.source else None,
                    root=member is plan.spec_set.root,
                ),
            )
        for name, art in bound.items():
            path = art.path
            exists = art.present
            if opts.digest_artifacts and exists and path is not None and opts.replay is None:
                key = str(path.resolve())
                if key not in digests:
                    digests[key] = memo.path(path)
            size = path.stat().st_size if path is not None and exists and path.is_file() else None
            sha = digests.get(str(path.resolve())) if path is not None and exists else None
            hub = hub_source_of(path) if path is not None else None
            artifacts[(spec_id, name)] = ArtifactInfo(
                name, art.ref.kind, art.display(), exists, size, sha, hub.record() if hub else None
            )
    results += agreements(plans, results)  # logged vs recomputed: its own finding
    decision, reasons = decide(results, waivers)
    return Verdict(
        decision=decision,
        reasons=reasons,
        results=tuple(sorted(results, key=lambda r: (r.spec, r.gate_id))),
        specs=tuple(sorted(specs.values(), key=lambda s: s.id)),
        artifacts=tuple(v for _, v in sorted(artifacts.items())),
        waivers=tuple(sorted(waivers, key=lambda w: (w.spec, w.gate, w.file, w.line))),
        environment=dict(opts.environment) if opts.environment is not None else _environment(),
        generated_at=generated,
        tool_version=__version__,
        options=opts.settings.record(),
        selection=_selection(opts, results),
    )


def _selection(opts: RunOptions, results: list[GateResult]) -> dict[str, Any] | None:
    """What the selection left out (None without one: reports keep their shape)."""
    if not (opts.select or opts.ignore):
        return None
    left_out = sorted((r for r in results if not r.selected), key=lambda r: (r.spec, r.gate_id))
    return {
        "select": list(opts.select),
        "ignore": list(opts.ignore),
        "not_selected": [r.gate_id for r in left_out],
        "required_not_selected": [r.gate_id for r in left_out if r.required],
    }


def restrict(verdict: Verdict, spec_ids: set[str]) -> Verdict:
    """The gates of a subset of the evaluated root specs, under the run's one decision.

    A run states one decision in every artifact it writes (issue 10): a spec's own report lists
    its gates, but its decision and reasons are those ``decide()`` gave over every gate the run
    evaluated, never a second verdict computed on a subset.
    """
    results = tuple(r for r in verdict.results if r.spec in spec_ids)
    waivers = tuple(w for w in verdict.waivers if w.spec in spec_ids)
    members = {r.spec for r in results} | spec_ids
    return replace(
        verdict,
        results=results,
        waivers=waivers,
        specs=tuple(s for s in verdict.specs if s.id in members or not s.root),
    )
