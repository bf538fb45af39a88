"""train.tokens_per_param — the Chinchilla ratio D/N of a training run (chinchilla-gate-v1, P0-J).

D = training tokens, read from the run's evidence (``tokens`` field, e.g. ``tokens_seen``; or
``steps`` × ``batch`` × ``seq`` fields); N = parameters counted from the weights (``model``
role). contracts/chinchilla-gate-v1.yaml v1.0.0 hard-fails D/N < 10 (10.0 itself passes) and
warns 10–20; v1.1.0 (§87) hard-fails < 20. The bypass flag ``--force-under-provisioned`` must
log ``[P0-J] Chinchilla gate BYPASSED`` (a ``log.match`` gate); albor-370m-v1 was trained under
the bypass at D/N ≈ 0.083.

PASS: 9.88B tokens / 494M parameters → "D/N 20.0 ≥ 20".
FAIL: 40,960,000 tokens / 494,032,768 parameters → "D/N 0.0829, must be ≥ 20".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks._records import RecordQuery, field_value, select_record
from albor_gates.checks.base import Context, Measurement
from albor_gates.checks.evidence import checkpoint
from albor_gates.errors import EvidenceError

KIND = "train.tokens_per_param"
VERSION = 1
TITLE = "Chinchilla ratio D/N: training tokens over parameters counted from the weights"
ROLES = ("run", "model")
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(RecordQuery):
    """Options of train.tokens_per_param."""

    tokens: str | None = "tokens_seen"
    steps: str | None = None
    batch: str | None = None
    seq: str | None = None


def _num(path: str, name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EvidenceError(f"{path}: {name} is {v!r}, not a number")
    return float(v)


def measure(ctx: Context, params: Params) -> Measurement:
    """Compute D / N."""
    path = str(ctx.path("run"))
    rec, _ = select_record(ctx, "run", params)
    if params.steps and params.batch and params.seq:
        d = 1.0
        for f in (params.steps, params.batch, params.seq):
            d *= _num(path, f, field_value(ctx, "run", rec, f))
        how = f"{params.steps} × {params.batch} × {params.seq}"
    elif params.tokens:
        d = _num(path, params.tokens, field_value(ctx, "run", rec, params.tokens))
        how = params.tokens
    else:
        raise EvidenceError("give params.tokens, or steps, batch and seq")
    n = checkpoint(ctx).param_count()
    if n == 0:
        raise EvidenceError(f"{ctx.path('model')}: no parameters to count")
    ratio = d / n
    return Measurement(
        ratio,
        subject="D/N",
        summary=f"D = {d:,.0f} tokens ({how}), N = {n:,} parameters",
        details={"tokens": d, "parameters": n},
    )
