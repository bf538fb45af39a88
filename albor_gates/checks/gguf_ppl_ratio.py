"""gguf.ppl_ratio — the GGUF's perplexity over the release's, on the same tokens (§7.4 D4).

Evaluates the ``model`` release and a GGUF file (the ``gguf`` artifact when bound and present,
else this run's export for ``quant``) with the reference decoder on the same windows of the
``tokens`` artifact — exactly eval.val_loss's evaluation (same windowing, same chunked loss;
the release's evaluation is shared with an eval.val_loss gate of the same settings) — both in
the device's compute dtype (fp32 on CPU), and reports:

* ``ratio`` (default) — perplexity(GGUF) / perplexity(release) = exp(loss_gguf − loss_release)
  (differential D4: Q4_K within 10 % of F16, ``le: 1.10``; FALSIFY-ALBOR-009: ``lt: 1.05``);
* ``loss_delta`` — loss_gguf − loss_release in nats.

``seq_len`` / ``stride`` / ``max_tokens`` / ``batch_size`` as in eval.val_loss (the command
line's ``--seq-len`` … override them; the effective values are in details).

PASS: "perplexity ratio 1.0123 (this run's q4_k export 21.47 vs release 21.21 over 16,384
tokens)".
FAIL: "perplexity ratio 1.31, must be ≤ 1.1" — a quantisation that lost the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from albor_gates.checks import eval_val_loss
from albor_gates.checks._gguf import Quant, gguf_decoder, gguf_under_test, require_safetensors
from albor_gates.checks.base import Context, Measurement

KIND = "gguf.ppl_ratio"
VERSION = 1
TITLE = "Perplexity of the GGUF over perplexity of the safetensors release, same tokens"
ROLES = ("model", "tokens")
OPTIONAL_ROLES: tuple[str, ...] = ("gguf", "tokenizer")
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model", "gguf")
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(eval_val_loss.WindowParams):
    """Options of gguf.ppl_ratio (the window settings are eval.val_loss's)."""

    quant: Quant = "q4_k"
    measure: Literal["ratio", "loss_delta"] = "ratio"


def measure(ctx: Context, params: Params) -> Measurement:
    """Evaluate both models on the same windows and compare."""
    require_safetensors(ctx, KIND)
    g = gguf_under_test(ctx, params.quant)
    windows = set(eval_val_loss.WindowParams.model_fields)
    ev = eval_val_loss.Params(**params.model_dump(include=windows))
    src, settings, model = eval_val_loss.evaluate(ctx, ev)
    gmodel = gguf_decoder(ctx, g, dtype=model.dtype)
    dtype = str(model.dtype).removeprefix("torch.")
    quant, _, _ = eval_val_loss.evaluate(
        ctx, ev, model=gmodel, model_key=f":{g.path.resolve()}:{dtype}"
    )
    delta = quant.loss - src.loss
    ratio = math.exp(delta) if math.isfinite(delta) else math.nan
    details: dict[str, Any] = {
        "gguf": g.label,
        "release_loss": src.loss,
        "gguf_loss": quant.loss,
        "release_perplexity": src.perplexity,
        "gguf_perplexity": quant.perplexity,
        "loss_delta": delta,
        "ratio": ratio,
        "tokens_evaluated": src.token_count,
        "windows": src.windows,
        "settings": settings,
        "device": str(model.device),
        "dtype": dtype,
    }
    summary = (
        f"{g.label} perplexity {quant.perplexity:.6g} vs release {src.perplexity:.6g} over "
        f"{src.token_count:,} tokens ({model.device} {dtype})"
    )
    fix = (
        "the quantised model lost more than the allowed share of its quality: export at a "
        "wider quant (q8_0) or look for the drifting tensors with gguf.tensor_parity"
    )
    if params.measure == "loss_delta":
        return Measurement(
            delta, subject="loss delta", unit="nats", summary=summary, details=details, fix=fix
        )
    return Measurement(ratio, subject="perplexity ratio", summary=summary, details=details, fix=fix)
