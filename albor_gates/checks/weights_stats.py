"""weights.stats — numeric hygiene of every tensor, from one streamed scan of the weights.

One pass over every byte (on the GPU when present, else a single fused CPU pass) measures per
tensor: NaN / ±inf counts, zeros (density), min / max / abs-max, mean, std, L2 norm, and the
C-INIT-001 lag-1 autocorrelation of 2-D weight matrices (> 0.1 ⇒ sinusoidal / placeholder
init). ``measure`` chooses what the gate judges, over the tensors that ``include`` /
``exclude`` (fnmatch patterns) select:

=====================  ==========================================================  =========
measure                value                                                        typical
=====================  ==========================================================  =========
``nonfinite``          tensors holding any NaN or inf (apr ``F-DATA-QUALITY``)         eq 0
``nonfinite_values``   NaN + inf elements in total                                    eq 0
``all_zero``           tensors that are entirely zero                                 eq 0
``constant``           tensors (> 1 element) whose finite values are all equal        eq 0
``l2_zero``            tensors whose L2 norm is below ``tiny`` (L2 ≈ 0)                eq 0
``min_density``        the lowest share of non-zero values                          ge 0.01
``max_abs``            the largest |value|                                          le 1e4
``max_lag1``           the largest lag-1 autocorrelation (C-INIT-001)                 le 0.1
=====================  ==========================================================  =========

The per-layer abs-max and std go to the report as a plot. The first offending tensors are
named in the summary, with their statistics in ``details``.

PASS: ``measure: nonfinite`` → "tensors with NaN/inf 0 (291 tensors scanned)".
FAIL: a NaN planted in ``model.layers.3.mlp.up_proj.weight`` → "tensors with NaN/inf 1, must
be = 0; model.layers.3.mlp.up_proj.weight: 1 NaN".
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from albor_gates.checks._model import scan
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import INT_DTYPES

KIND = "weights.stats"
VERSION = 1
TITLE = "Numeric hygiene of every tensor: NaN/inf, all-zero, constant, density, abs-max, lag-1"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model",)
DEFAULT_EXPECT: Mapping[str, Any] | None = None

_LAYER = re.compile(r"(?:layers|layer|h|blk)\.(\d+)\.")
_SUBJECT = {
    "nonfinite": "tensors with NaN/inf",
    "nonfinite_values": "NaN/inf values",
    "all_zero": "all-zero tensors",
    "constant": "constant tensors",
    "l2_zero": "tensors with L2 ≈ 0",
    "min_density": "lowest density",
    "max_abs": "largest |value|",
    "max_lag1": "largest lag-1 autocorrelation",
}


class Params(CheckParams):
    """Options of weights.stats."""

    measure: Literal[
        "nonfinite",
        "nonfinite_values",
        "all_zero",
        "constant",
        "l2_zero",
        "min_density",
        "max_abs",
        "max_lag1",
    ]
    include: list[str] = ["*"]
    exclude: list[str] = []
    tiny: float = 1e-12


def _selected(name: str, p: Params) -> bool:
    return any(fnmatch.fnmatchcase(name, pat) for pat in p.include) and not any(
        fnmatch.fnmatchcase(name, pat) for pat in p.exclude
    )


def _describe(t: Any) -> str:
    parts = []
    if t.nan_count:
        parts.append(f"{t.nan_count} NaN")
    if t.posinf_count or t.neginf_count:
        parts.append(f"{t.posinf_count + t.neginf_count} inf")
    if t.is_all_zero:
        parts.append("all zero")
    elif t.is_constant:
        parts.append(f"constant {t.min:g}")
    return f"{t.name}: {', '.join(parts) or f'abs-max {t.abs_max:g}, std {t.std:g}'}"


def _layer_plot(tensors: list[Any]) -> dict[str, Any] | None:
    per: dict[int, list[Any]] = {}
    for t in tensors:
        m = _LAYER.search(t.name)
        if m and t.finite_count:
            per.setdefault(int(m.group(1)), []).append(t)
    if len(per) < 2:
        return None
    xs = sorted(per)
    return {
        "title": "per-layer weight statistics",
        "x_label": "layer",
        "y_label": "value",
        "x": xs,
        "series": {
            "abs-max": [max(t.abs_max for t in per[i]) for i in xs],
            "mean std": [sum(t.std for t in per[i]) / len(per[i]) for i in xs],
        },
    }


def measure(ctx: Context, params: Params) -> Measurement:
    """Read the cached scan and summarise it."""
    result = scan(ctx)
    tensors = [
        t
        for t in result.tensors
        if t.skipped is None and t.dtype not in INT_DTYPES and _selected(t.name, params)
    ]
    m = params.measure
    bad: list[Any] = []
    value: float | int
    if m == "nonfinite":
        bad = [t for t in tensors if t.nan_count or t.posinf_count or t.neginf_count]
        value = len(bad)
    elif m == "nonfinite_values":
        bad = [t for t in tensors if t.nan_count or t.posinf_count or t.neginf_count]
        value = sum(t.nan_count + t.posinf_count + t.neginf_count for t in bad)
    elif m == "all_zero":
        bad = [t for t in tensors if t.is_all_zero]
        value = len(bad)
    elif m == "constant":
        bad = [t for t in tensors if t.numel > 1 and t.is_constant and not t.is_all_zero]
        value = len(bad)
    elif m == "l2_zero":
        bad = [t for t in tensors if t.finite_count and t.l2_norm < params.tiny]
        value = len(bad)
    elif m == "min_density":
        worst = min(tensors, key=lambda t: t.density, default=None)
        bad = [worst] if worst is not None else []
        value = worst.density if worst is not None else math.nan
    elif m == "max_abs":
        worst = max((t for t in tensors if t.finite_count), key=lambda t: t.abs_max, default=None)
        bad = [worst] if worst is not None else []
        value = worst.abs_max if worst is not None else math.nan
    else:
        lag = [t for t in tensors if t.lag1_autocorr is not None and math.isfinite(t.lag1_autocorr)]
        worst = max(lag, key=lambda t: t.lag1_autocorr, default=None)
        bad = [worst] if worst is not None else []
        value = worst.lag1_autocorr if worst is not None else 0.0
    named = "; ".join(_describe(t) for t in bad[:5])
    summary = f"{len(tensors)} tensors scanned on {result.device}"
    if named and m in ("nonfinite", "nonfinite_values", "all_zero", "constant", "l2_zero"):
        summary += f"; {named}" + (f"; … {len(bad) - 5} more" if len(bad) > 5 else "")
    elif bad and m in ("min_density", "max_abs", "max_lag1"):
        summary += f"; worst: {bad[0].name}"
    details: dict[str, Any] = {
        "tensors_scanned": len(tensors),
        "device": result.device,
        "seconds": round(result.seconds, 3),
        "offenders": [
            {
                "name": t.name,
                "nan": t.nan_count,
                "inf": t.posinf_count + t.neginf_count,
                "zeros": t.zero_count,
                "abs_max": t.abs_max,
                "std": t.std,
                "lag1": t.lag1_autocorr,
            }
            for t in bad[:10]
        ],
    }
    plot = _layer_plot(tensors)
    if plot is not None:
        details["plot"] = plot
    return Measurement(value, subject=_SUBJECT[m], summary=summary, details=details)
