"""eval.val_loss — validation cross-entropy recomputed from the weights (AC-SHIP2-003).

Loads the checkpoint into the reference decoder (safetensors or GGUF; llama / mistral / qwen2 /
qwen3), cuts the ``tokens`` artifact into windows and computes the mean next-token
cross-entropy in nats — the vocabulary projection and the loss in chunks, never
batch × seq × vocab logits at once; fp32 on CPU, bf16 with fp32 loss accumulation on CUDA;
sharded across ranks with an all-reduce of (loss sum, token count) under ``torchrun``.

Token inputs: ``.npy`` (1-D ids), ``.bin`` (uint16/uint32, nanoGPT style, dtype from
``bin_dtype`` or a ``.bin.json`` sidecar), text or JSONL (tokenized with the ``tokenizer``
artifact). Windows: ``seq_len`` positions, default stride = seq_len, each window reads
seq_len + 1 tokens so every token after the first is scored exactly once; ``max_tokens`` keeps
the first N tokens (deterministic). The command line's ``--seq-len``, ``--stride``,
``--max-tokens``, ``--batch-size`` override the params; the effective values are reported.

``measure`` picks the value: ``loss`` (nats), ``perplexity``, ``bits_per_byte`` (text inputs),
or ``log_disagreement`` — |recomputed − logged| against the ``logged`` artifact (epoch
metadata: ``logged_field`` of the record chosen by ``logged_select``/``logged_by``), so a report
can show the logged and the recomputed value and flag a disagreement beyond a tolerance.

PASS: "val_loss 3.8855 nats ≤ 4.7 and ≥ 0" (65,536 tokens, cpu float32, 4.1 s).
FAIL: a checkpoint that loaded as random weights → "val_loss 8.60 nats, must be ≤ 4.7".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks._decoder import environment_details, load_decoder, load_tokenizer
from albor_gates.checks._records import RecordQuery, field_value, select_record
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import CheckSkipped, EvidenceError

KIND = "eval.val_loss"
VERSION = 1
TITLE = "Validation cross-entropy / perplexity / bits per byte recomputed with the decoder"
ROLES = ("model", "tokens")
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer", "logged")
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model",)
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class WindowParams(CheckParams):
    """How the tokens are cut into windows and batched (shared with gguf.ppl_ratio)."""

    seq_len: int = Field(512, ge=2)
    stride: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=2)
    batch_size: int = Field(8, ge=1)
    chunk_size: int = Field(512, ge=1)
    bos: bool = False
    bin_dtype: Literal["uint16", "uint32"] | None = None


class Params(WindowParams):
    """Options of eval.val_loss."""

    measure: Literal["loss", "perplexity", "bits_per_byte", "log_disagreement"] = "loss"
    logged_field: str = "val_loss"
    logged_glob: str | None = "epoch-*.metadata.json"
    logged_select: Literal["only", "first", "last", "best"] = "best"
    logged_by: str | None = "val_loss"


def settings(ctx: Context, p: Params) -> dict[str, Any]:
    """The effective evaluation settings (command line over params)."""
    return {
        "seq_len": ctx.settings.seq_len or p.seq_len,
        "stride": ctx.settings.stride or p.stride,
        "max_tokens": ctx.settings.max_tokens or p.max_tokens,
        "batch_size": ctx.settings.batch_size or p.batch_size,
        "chunk_size": p.chunk_size,
        "bos": p.bos,
        "bin_dtype": p.bin_dtype,
    }


def evaluate(
    ctx: Context, p: Params, model: Any = None, model_key: str = ""
) -> tuple[Any, dict[str, Any], Any]:
    """Run (or reuse) the evaluation; return (LossResult, settings, model).

    ``model`` evaluates another decoder than the ``model`` artifact's (gguf.ppl_ratio's GGUF)
    on the same windows; ``model_key`` then names it in the cache key.
    """
    if model is None:
        model = load_decoder(ctx)
    s = settings(ctx, p)
    path = ctx.path("tokens")
    tokenizer = None
    if path.suffix.lower() not in (".npy", ".bin"):
        tokenizer = load_tokenizer(ctx)

    def run(_path: Any) -> Any:
        from albor_gates.model.distributed import evaluate_loss_distributed, in_torchrun
        from albor_gates.model.evaluate import evaluate_loss
        from albor_gates.model.tokens import load_tokens, make_windows

        source = load_tokens(
            path, tokenizer=tokenizer, dtype=s["bin_dtype"], max_tokens=s["max_tokens"]
        )
        bos_id = model.config.bos_token_id if s["bos"] else None
        if s["bos"] and bos_id is None:
            raise EvidenceError("bos: true but the config has no bos_token_id")
        windows = make_windows(
            source,
            int(s["seq_len"]),
            stride=s["stride"],
            bos_id=bos_id,
            max_position_embeddings=model.config.max_position_embeddings,
            vocab_size=model.config.vocab_size,
        )
        report = ctx.progress("validation loss", float(len(windows)))

        def progress(pr: Any) -> None:
            report(pr.windows_done, pr.windows_total)

        fn = evaluate_loss_distributed if in_torchrun() else evaluate_loss
        return fn(
            model,
            windows,
            batch_size=int(s["batch_size"]),
            chunk_size=int(s["chunk_size"]),
            progress=progress,
        )

    key = "loss:" + ",".join(f"{k}={v}" for k, v in sorted(s.items()))
    result = ctx.read("tokens", f"{key}:{ctx.settings.device}{model_key}", run)
    return result, s, model


def measure(ctx: Context, params: Params) -> Measurement:
    """Evaluate and report the chosen quantity."""
    r, s, model = evaluate(ctx, params)
    details: dict[str, Any] = {
        "loss": r.loss,
        "perplexity": r.perplexity if math.isfinite(r.perplexity) else str(r.perplexity),
        "bits_per_byte": r.bits_per_byte,
        "tokens_evaluated": r.token_count,
        "windows": r.windows,
        "wall_time_s": round(r.wall_time_s, 3),
        "tokens_per_s": round(r.tokens_per_s, 1),
        "peak_memory_bytes": r.peak_memory_bytes,
        "world_size": r.world_size,
        # per-rank shares only exist under torchrun: a single-process report stays as it was
        **({"rank_tokens": list(r.rank_token_counts)} if r.rank_token_counts else {}),
        "settings": s,
        **environment_details(model),
    }
    run = f"{r.token_count:,} tokens, {r.device} {r.dtype}, {r.wall_time_s:.1f} s"
    if r.world_size > 1:
        run += f" on {r.world_size} ranks ({r.tokens_per_s:,.0f} tok/s for the job)"
    if params.measure == "loss":
        return Measurement(r.loss, subject="val_loss", unit="nats", summary=run, details=details)
    if params.measure == "perplexity":
        return Measurement(r.perplexity, subject="val_perplexity", summary=run, details=details)
    if params.measure == "bits_per_byte":
        if r.bits_per_byte is None:
            raise CheckSkipped("bits per byte needs a text or JSONL token source (byte counts)")
        return Measurement(r.bits_per_byte, subject="bits per byte", summary=run, details=details)
    if not ctx.has("logged"):
        raise CheckSkipped("no logged value to compare with (the 'logged' artifact is absent)")
    q = RecordQuery(
        glob=params.logged_glob if ctx.path("logged").is_dir() else None,
        select=params.logged_select,
        by=params.logged_by if params.logged_select == "best" else None,
    )
    rec, which = select_record(ctx, "logged", q)
    logged = field_value(ctx, "logged", rec, params.logged_field)
    if isinstance(logged, bool) or not isinstance(logged, (int, float)):
        raise EvidenceError(
            f"{ctx.path('logged')}: {params.logged_field} is {logged!r}, not a number"
        )
    diff = abs(r.loss - float(logged))
    details["logged"] = float(logged)
    return Measurement(
        diff,
        subject="|recomputed − logged| val_loss",
        unit="nats",
        summary=f"recomputed {r.loss:.6g} vs logged {float(logged):.6g} ({which}); {run}",
        details=details,
        fix="the logged value does not describe these weights: re-evaluate and re-log, or check "
        "that the right checkpoint was published",
    )
