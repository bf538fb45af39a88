"""arch.metadata_plausibility — rope_theta, max positions and rms eps are plausible (Bug 210).

The `apr qa` ``metadata_plausibility`` gate (GH-222, GATES.md §3.1.2): rope_theta per family
(qwen2 ≥ 100,000 — a qwen2 model with ≈ 10,000 is CRITICAL: it silently garbles long inputs;
llama 1,000–10,000,000; others 100–100M), max_position_embeddings in [128, 1,048,576] and
rms_norm_eps in (0, 0.01]. Read from config.json, or a GGUF's own metadata. The value is the
number of violations (default band ``eq: 0``).

PASS: albor-370m-v1 (qwen2, rope_theta 1e6, 32768 positions, eps 1e-6) → "0 violations".
FAIL: qwen2 with rope_theta 10000 → "1 violation: CRITICAL rope_theta 10000 is implausible for
qwen2 (expected ≥ 100000)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks.base import Context, Measurement, NoParams
from albor_gates.checks.evidence import checkpoint, config_dict
from albor_gates.errors import CheckSkipped

KIND = "arch.metadata_plausibility"
VERSION = 1
TITLE = "rope_theta per family, max positions and rms eps are plausible (apr qa Bug 210)"
ROLES: tuple[str, ...] = ()
OPTIONAL_ROLES: tuple[str, ...] = ("config", "model")
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}
Params = NoParams


def measure(ctx: Context, params: NoParams) -> Measurement:
    """List the implausible values."""
    # artifacts.architecture (its dataclasses and tables) is imported to measure, not to lint
    from albor_gates.artifacts.architecture import plausibility_violations

    view = checkpoint(ctx) if ctx.has("model") and not ctx.has("config") else None
    cfg = config_dict(ctx, view)
    if cfg is None:
        raise CheckSkipped("no config.json (and no GGUF metadata) to check")
    source = "config.json" if ctx.has("config") else "GGUF metadata"
    found = plausibility_violations(cfg, source=source)
    return Measurement(
        len(found),
        subject="implausible values",
        summary=f"{len(found)} violations" + (": " + "; ".join(found) if found else ""),
        details={
            "violations": found,
            "rope_theta": cfg.get("rope_theta"),
            "max_position_embeddings": cfg.get("max_position_embeddings"),
            "rms_norm_eps": cfg.get("rms_norm_eps"),
        },
        fix="fix config.json to the values the model was trained with",
    )
