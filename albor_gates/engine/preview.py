"""Plan mode: what an evaluation would run, on what, and what it needs — before running it.

Reads no artifact content (only ``stat``), imports no torch: it tells an operator which gates
need torch or a GPU, which would be SKIPPED because an extra is not installed (with the install
line), which artifacts are missing (those gates would ERROR, or be SKIPPED when optional), how
many bytes the model gates would stream, and which waivers are already expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from albor_gates.checks.base import BoundArtifact
from albor_gates.engine import confine
from albor_gates.engine.plan import Plan, PlannedGate
from albor_gates.engine.run import RunOptions, bind_artifacts
from albor_gates.engine.select import check_patterns, is_selected
from albor_gates.extras import missing_reason


@dataclass(frozen=True)
class PlannedRow:
    """One gate as the plan sees it."""

    spec: str
    gate: str
    check: str
    needs: tuple[str, ...]
    artifacts: tuple[str, ...]
    missing: tuple[str, ...]
    bytes: int
    outcome: str


def _size(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def preview(
    plans: list[Plan], opts: RunOptions, today: dt.date
) -> tuple[list[PlannedRow], list[str]]:
    """Rows per gate, plus notes (expired waivers) — nothing is measured."""
    rows: list[PlannedRow] = []
    notes: list[str] = []
    gates = ((g.id, g.origin.gate.tags) for p in plans for g in p.gates)
    check_patterns(gates, opts.select, opts.ignore)  # the same usage errors as the run
    for plan in plans:
        declared = {k: v for k, v in opts.artifacts.items() if k in plan.artifacts}
        bound = bind_artifacts(
            plan,
            RunOptions(
                root=opts.root, artifacts=declared, allow_outside_root=opts.allow_outside_root
            ),
        )
        for g in plan.gates:
            refused = confine.refusal(g, bound, allow_exec=opts.allow_exec, pass_env=opts.pass_env)
            names = tuple(sorted(set(g.bindings.values())))
            missing = tuple(n for n in names if not bound[n].present)
            optional = [n for n in missing if bound[n].ref.optional or n in _optional_roles(g)]
            absent = missing_reason(g.kind.EXTRAS)
            if not is_selected(g.id, g.origin.gate.tags, opts.select, opts.ignore):
                outcome = "not selected"
            elif g.id in opts.skip:
                outcome = "skip (--skip)"
            elif refused is not None:
                outcome = ("ERROR: " if refused[0] else "SKIPPED: ") + refused[1]
            elif absent:
                outcome = "SKIPPED: " + absent
            elif missing and len(optional) < len(missing):
                outcome = "ERROR: missing " + ", ".join(m for m in missing if m not in optional)
            elif missing:
                outcome = "SKIPPED: optional " + ", ".join(optional) + " absent"
            else:
                outcome = "run"
            reads = "torch" in g.kind.NEEDS and not absent
            size = sum(_size(bound[n].path) for n in names) if reads else 0
            rows.append(
                PlannedRow(
                    plan.spec_id,
                    g.id,
                    g.kind.KIND,
                    tuple(sorted(g.kind.NEEDS | _exec(g, bound))),
                    names,
                    missing,
                    size,
                    outcome,
                )
            )
        for w in plan.waivers:
            if w.waiver.expires < today:
                notes.append(
                    f"waiver for {w.waiver.gate} expired on {w.waiver.expires.isoformat()} "
                    f"({w.spec.doc.file}:{w.line}): the run would be NO-GO"
                )
    return rows, notes


def _exec(g: PlannedGate, bound: dict[str, BoundArtifact]) -> frozenset[str]:
    return frozenset({"exec"}) if confine.needs_exec(g, confine.commands(bound)) else frozenset()


def _optional_roles(g: object) -> set[str]:
    kind = getattr(g, "kind", None)
    bindings = getattr(g, "bindings", {})
    roles = set(getattr(kind, "OPTIONAL_ROLES", ()))
    return {name for role, name in bindings.items() if role in roles}
