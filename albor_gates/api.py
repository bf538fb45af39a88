"""The small Python API for notebooks and other tools (see :mod:`albor_gates`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from albor_gates.engine.clock import FrozenClock
from albor_gates.engine.plan import Plan, build_plan
from albor_gates.engine.results import Verdict
from albor_gates.engine.run import RunOptions, evaluate_plans
from albor_gates.errors import UsageError
from albor_gates.settings import RunSettings
from albor_gates.spec.loader import SpecResolver
from albor_gates.spec.models import Spec


def load_spec(path: str | Path, *, spec_path: Sequence[str | Path] = ()) -> Spec:
    """Load, resolve and validate a spec; return the root spec model.

    Raises:
        SpecError: listing every problem, with file:line:col.
    """
    plan = plan_spec(path, spec_path=spec_path)
    return plan.spec_set.root.spec


def plan_spec(path: str | Path, *, spec_path: Sequence[str | Path] = ()) -> Plan:
    """Load, resolve ``extends`` and plan a spec (no artifact is read).

    ``path`` is a spec file or a bundled short name (``"ship-model-2"``), as on the CLI.
    """
    resolver = SpecResolver([Path(p) for p in spec_path])
    return build_plan(resolver.resolve(resolver.locate(path)))


def evaluate(
    specs: str | Path | Sequence[str | Path],
    *,
    root: str | Path | None = None,
    artifacts: Mapping[str, str | Path] | None = None,
    baseline: str | Path | None = None,
    settings: RunSettings | None = None,
    options: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    spec_path: Sequence[str | Path] = (),
    allow_exec: bool = False,
    pass_env: Sequence[str] = (),
    allow_outside_root: bool = False,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    **setting_values: Any,
) -> Verdict:
    """Evaluate one or more spec files and return the verdict.

    Run settings come as a :class:`~albor_gates.settings.RunSettings`, or as keyword
    arguments that build one (``device="cpu", seq_len=256``); they are validated before any
    spec or artifact is read. The evidence cache is on by default (``GATES_CACHE_DIR``, else
    the user cache folder); ``cache_dir=PATH`` chooses the folder, ``cache=False`` turns it off
    (engine/cache.py).

    Args:
        specs: a spec file or short name (``"ship-model-2"``), or a list of them.
        root: folder that relative artifact paths resolve against.
        artifacts: ``name → path`` overrides.
        baseline: a previous JSON report for baseline change thresholds.
        settings: the run settings, built already.
        options: the run settings as a mapping (validated like keyword arguments).
        now: freeze the clock (timestamps and durations) for reproducible reports.
        spec_path: extra folders searched for ``extends`` short names.
        allow_exec: run gates that execute programs (else they are SKIPPED).
        pass_env: environment variables a command may receive when its spec asks.
        allow_outside_root: read artifact paths outside the run's boundary.
        select: gate-id globs or ``tag:NAME``; only those gates run, the verdict is partial.
        ignore: gate-id globs or ``tag:NAME`` left out.
        **setting_values: the run settings as keyword arguments.

    Raises:
        UsageError: an unknown setting (``devcie``), a bad value, or settings given twice.
    """
    values = {**(options or {}), **setting_values}
    if settings is not None and values:
        raise UsageError("pass settings=RunSettings(...) or setting keywords, not both")
    run_settings = settings if settings is not None else RunSettings.build(values)
    paths = [specs] if isinstance(specs, (str, Path)) else list(specs)
    plans = [plan_spec(p, spec_path=spec_path) for p in paths]
    opts = RunOptions(
        root=Path(root) if root is not None else None,
        artifacts={k: str(v) for k, v in (artifacts or {}).items()},
        baseline=Path(baseline) if baseline is not None else None,
        settings=run_settings,
        clock=FrozenClock(now) if now is not None else None,
        allow_exec=allow_exec,
        pass_env=frozenset(pass_env),
        allow_outside_root=allow_outside_root,
        select=tuple(select),
        ignore=tuple(ignore),
    )
    return evaluate_plans(plans, opts)
