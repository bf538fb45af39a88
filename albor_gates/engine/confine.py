"""What an evaluation may touch: consent to execute and confinement of artifact paths.

``gates check`` runs on pull requests, so a spec, an evidence file or a model file may come
from someone who must not control the CI runner. Two rules hold unless the person running
``gates`` (never the spec) relaxes them:

* **No execution without consent.** A gate that runs a program — every ``cli.*`` kind and any
  gate bound to a ``kind: command`` artifact — is SKIPPED with the reason unless the run has
  ``--allow-exec``. The environment a command gets beyond PATH, HOME, LANG and TMPDIR is an
  allow-list given by the operator (``--pass-env NAME``); a spec's ``params.pass_env`` that
  names anything else is refused, never silently honoured.
* **Confinement.** Every artifact path, after resolving symlinks, must lie inside the run's
  boundary: ``--root`` when given, else the working directory and the folder of the spec file
  named on the command line; the bundled specs and examples are always inside. A path that
  escapes it (absolute, ``../``, a symlink out) makes its gates ERROR with one line, unless
  ``--allow-outside-root``. Bindings the operator gives (``-a NAME=PATH``) are trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from albor_gates.checks.base import BoundArtifact
from albor_gates.engine.plan import Plan, PlannedGate
from albor_gates.spec.resources import data_dir

#: The bundled folders: installed with albor-gates, so trusted like the tool itself.
_BUNDLED = ("specs", "invariants", "templates", "examples")


def boundary(plan: Plan, root: Path | None) -> tuple[Path, ...]:
    """The folders this plan's artifact paths must resolve inside (resolved, symlink-free).

    The bundled folders are inside too (:func:`inside`), without being named in messages.
    """
    dirs = [root] if root is not None else [Path.cwd(), plan.spec_set.root.path.parent]
    return tuple(dict.fromkeys(d.resolve() for d in dirs))


def inside(path: Path, dirs: Iterable[Path]) -> bool:
    """Whether ``path`` (symlinks resolved) is in one of ``dirs`` or a bundled folder."""
    real = path.resolve()
    bundled = (data_dir(name).resolve() for name in _BUNDLED)
    return any(real.is_relative_to(d) for d in (*dirs, *bundled))


def path_refusal(name: str, path: Path, dirs: Sequence[Path], *, allow_outside: bool) -> str:
    """Why the run may not read ``path``; empty when it may (a missing file is not refused).

    A path the OS cannot even look up (too long, a symlink loop) is refused here, so that no
    later ``exists()`` or ``resolve()`` raises out of the engine.
    """
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as e:
        return f"artifact {name!r}: {str(path)[:200]}: {e.strerror or e}; fix the path"
    if allow_outside or inside(path, dirs):
        return ""
    return outside_reason(name, path, dirs)


def outside_reason(name: str, path: Path, dirs: Sequence[Path]) -> str:
    """The one-line refusal for an artifact path outside the boundary."""
    where = " or ".join(str(d) for d in dirs)
    return (
        f"artifact {name!r}: {path} resolves to {path.resolve()}, outside {where}; "
        "bind it with --artifact, or pass --allow-outside-root to read it"
    )


def commands(bound: Mapping[str, BoundArtifact]) -> dict[str, str]:
    """Artifact name → the command it runs, for the bound artifacts that are commands."""
    return {name: art.display() for name, art in bound.items() if art.command is not None}


def plan_commands(plan: Plan) -> dict[str, str]:
    """Artifact name → command, from the declarations alone (``gates lint``: nothing bound)."""
    return {
        name: " ".join(pa.ref.command)
        for name, pa in plan.artifacts.items()
        if pa.ref.command is not None
    }


def needs_exec(pg: PlannedGate, cmds: Mapping[str, str]) -> str | None:
    """What the gate would execute (for the refusal, plan and lint); None if nothing."""
    for name in sorted(set(pg.bindings.values())):
        if name in cmds:
            return f"runs command artifact {name!r} ({cmds[name]})"
    if pg.kind.KIND.startswith("cli."):
        return f"runs the program of artifact {pg.bindings.get('tool', '?')!r}"
    return None


def exec_summary(plans: Iterable[Plan]) -> str:
    """One line naming the gates that execute programs, or empty when none does."""
    ids = sorted(
        {pg.id for p in plans for pg in p.gates if needs_exec(pg, plan_commands(p)) is not None}
    )
    if not ids:
        return ""
    return f"{len(ids)} gates execute programs and run only with --allow-exec: {', '.join(ids)}"


def refusal(
    pg: PlannedGate,
    bound: Mapping[str, BoundArtifact],
    *,
    allow_exec: bool,
    pass_env: frozenset[str],
) -> tuple[bool, str] | None:
    """Why the gate must not run: (is_error, message); None when it may run.

    A path outside the boundary is an ERROR (the spec asked to read what it may not); a gate
    that needs consent it was not given is SKIPPED (the operator chose not to run it).
    """
    for name in sorted(set(pg.bindings.values())):
        art = bound.get(name)
        if art is not None and art.refused:
            return True, art.refused
    what = needs_exec(pg, commands(bound))
    if what is None:
        return None
    if not allow_exec:
        return False, f"not run: the gate {what}; pass --allow-exec to run it"
    asked = getattr(pg.params, "pass_env", None) or ()
    denied = sorted(set(asked) - pass_env)
    if denied:
        return True, (
            f"params.pass_env asks for {', '.join(denied)}, which this run does not hand over; "
            f"pass --pass-env {denied[0]} to allow it"
        )
    return None
