"""eval.init_loss_signal — an init checkpoint really loads (init_loss_signal, GATES.md §2.4).

The §86 incident was detected one epoch late: step-0 val_loss 8.60 instead of ~4.6 because the
weights silently did not load. This check computes, on the same validation windows, the loss of
the checkpoint (what step 0 of ``apr pretrain --init`` sees) and of the same architecture with
from-scratch weights (N(0, 0.02²) matrices, unit norms, zero biases; seeded), and reports one
of the three conditions of contracts/apr-pretrain-from-init-v1.yaml ``init_loss_signal``:

===================  ==============================================  ===============
``measure``          value                                           band
===================  ==============================================  ===============
``init_loss``        step-0 loss of the checkpoint (nats)            ``le: 6.0``
``scratch_margin``   from-scratch loss − (ln(vocab) − 1.5)           ``ge: 0``
``gap``              from-scratch loss − init loss                   ``ge: 3.0``
===================  ==============================================  ===============

Both losses are computed once per run and shared by the three gates; settings as for
``eval.val_loss`` (``seq_len``, ``max_tokens``, ...).

PASS: P2-E epoch 49 → "init vs scratch gap 7.1 nats ≥ 3" (init 4.62, scratch 11.7).
FAIL: a Llama-stamped Qwen2 checkpoint loaded as random weights → "gap 0.02 nats, must be ≥ 3".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks import eval_val_loss
from albor_gates.checks._decoder import environment_details, load_tokenizer
from albor_gates.checks.base import Context, Measurement

KIND = "eval.init_loss_signal"
VERSION = 1
TITLE = "Init-checkpoint loss vs from-scratch loss (init_load_semantics' loss signal)"
ROLES = ("model", "tokens")
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer",)
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model",)
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(eval_val_loss.Params):
    """Options of eval.init_loss_signal (windows as for eval.val_loss)."""

    measure: Literal["init_loss", "scratch_margin", "gap"] = "gap"  # type: ignore[assignment]
    seed: int = 0
    init_std: float = Field(0.02, gt=0)


def measure(ctx: Context, params: Params) -> Measurement:
    """Evaluate both models on the same windows."""
    base = eval_val_loss.Params(
        **{
            k: v
            for k, v in params.model_dump().items()
            if k in eval_val_loss.Params.model_fields and k != "measure"
        }
    )
    init, s, model = eval_val_loss.evaluate(ctx, base)

    def scratch_loss(_p: Any) -> Any:
        from albor_gates.model.evaluate import evaluate_loss
        from albor_gates.model.hf_engine import random_init
        from albor_gates.model.tokens import load_tokens, make_windows

        path = ctx.path("tokens")
        tok = None if path.suffix.lower() in (".npy", ".bin") else load_tokenizer(ctx)
        source = load_tokens(path, tokenizer=tok, dtype=s["bin_dtype"], max_tokens=s["max_tokens"])
        windows = make_windows(
            source,
            int(s["seq_len"]),
            stride=s["stride"],
            max_position_embeddings=model.config.max_position_embeddings,
            vocab_size=model.config.vocab_size,
        )
        fresh = random_init(model, seed=params.seed, std=params.init_std)
        return evaluate_loss(
            fresh, windows, batch_size=int(s["batch_size"]), chunk_size=int(s["chunk_size"])
        )

    key = f"scratch:{params.seed}:{params.init_std}:" + ",".join(
        f"{k}={v}" for k, v in sorted(s.items())
    )
    scratch = ctx.read("tokens", key, scratch_loss)
    vocab = model.config.vocab_size
    floor = math.log(vocab) - 1.5
    values = {
        "init_loss": init.loss,
        "scratch_margin": scratch.loss - floor,
        "gap": scratch.loss - init.loss,
    }
    subject = {
        "init_loss": "step-0 init loss",
        "scratch_margin": "from-scratch loss − (ln(vocab) − 1.5)",
        "gap": "from-scratch − init loss",
    }[params.measure]
    return Measurement(
        values[params.measure],
        subject=subject,
        unit="nats",
        summary=f"init {init.loss:.4f}, from scratch {scratch.loss:.4f}, ln(vocab) − 1.5 = "
        f"{floor:.4f} (vocab {vocab}); {init.token_count:,} tokens",
        details={
            "init_loss": init.loss,
            "scratch_loss": scratch.loss,
            "ln_vocab_minus_1_5": floor,
            "gap": values["gap"],
            "settings": s,
            **environment_details(model),
        },
        fix="the weights did not load as trained (see INV-INIT-ARCH-MATCH-001), or the data is "
        "not the model's distribution",
    )
