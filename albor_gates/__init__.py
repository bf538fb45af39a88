"""albor-gates: spec-and-gate compliance engine for ML model releases.

The Python API (imported lazily, so ``import albor_gates`` stays cheap)::

    import albor_gates
    spec = albor_gates.load_spec("specs/albor-370m-v1/ship-model-2.yaml")
    verdict = albor_gates.evaluate("specs/albor-370m-v1/ship-model-2.yaml", root="release/")
    verdict.decision          # Decision.GO / WARN / NO_GO
    albor_gates.to_record(verdict)   # the JSON report as a dict
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from albor_gates._version import __version__

__all__ = ["Decision", "Status", "Verdict", "evaluate", "load_spec", "to_record", "__version__"]

if TYPE_CHECKING:
    from albor_gates.api import evaluate, load_spec
    from albor_gates.engine.record import to_record
    from albor_gates.engine.results import Decision, Status, Verdict


def __getattr__(name: str) -> Any:
    if name in ("evaluate", "load_spec"):
        from albor_gates import api

        return getattr(api, name)
    if name == "to_record":
        from albor_gates.engine.record import to_record

        return to_record
    if name in ("Decision", "Status", "Verdict"):
        from albor_gates.engine import results

        return getattr(results, name)
    raise AttributeError(f"module 'albor_gates' has no attribute {name!r}")
