"""``gates lint``: load, resolve and plan every spec file, collecting every problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from albor_gates._version import __version__
from albor_gates.engine.confine import exec_summary
from albor_gates.engine.plan import Plan, build_plan
from albor_gates.errors import Problem, SpecError
from albor_gates.spec.loader import SpecResolver

LINT_SCHEMA = "albor-gates/lint"


def plan_files(files: Sequence[Path], extra_dirs: Sequence[Path] = ()) -> list[Plan]:
    """Plan every file; raise one SpecError with all problems of all files.

    Also rejects two files that declare the same spec id.
    """
    if not files:
        raise SpecError([Problem("(none)", 0, 0, "", "no spec files found")])
    resolver = SpecResolver(list(extra_dirs))
    problems: list[Problem] = []
    plans: list[Plan] = []
    ids: dict[str, Path] = {}
    for f in files:
        try:
            plan = build_plan(resolver.resolve(f))
        except SpecError as e:
            problems.extend(p for p in e.problems if p not in problems)
            continue
        sid = plan.spec_id
        if sid in ids and ids[sid].resolve() != f.resolve():
            line, col = plan.spec_set.root.position(("id",))
            problems.append(
                Problem(
                    str(f), line, col, f"spec {sid}", f"spec id {sid!r} is also used by {ids[sid]}"
                )
            )
        ids.setdefault(sid, f)
        plans.append(plan)
    if problems:
        raise SpecError(problems)
    return plans


def lint_files(files: Sequence[Path], extra_dirs: Sequence[Path] = ()) -> tuple[str, list[Problem]]:
    """Lint files: the summary line(s) when clean, and every problem found (sorted)."""
    try:
        plans = plan_files(files, extra_dirs)
    except SpecError as e:
        return "", list(e.problems)
    gates = sum(len(p.spec_set.root.spec.gates) for p in plans)
    summary = f"{len(plans)} spec files, {gates} gates: no problems"
    execs = exec_summary(plans)
    return (f"{summary}\n{execs}" if execs else summary), []


def lint_record(files: Sequence[Path], summary: str, problems: Sequence[Problem]) -> dict[str, Any]:
    """The neutral lint record that render/lint.py renders (``-f json`` prints it)."""
    if problems:
        n = len(problems)
        summary = f"{n} problem{'s' if n != 1 else ''} found"
    return {
        "schema": LINT_SCHEMA,
        "tool": {"name": "albor-gates", "version": __version__},
        "files": [str(f) for f in files],
        "summary": summary,
        "problems": [{**asdict(p), "text": str(p)} for p in problems],
    }
