"""Completions of a GGUF model the reference decoder cannot run, by llama.cpp (eval.humaneval).

The reference decoder implements llama / mistral / qwen2 / qwen3. A ``model`` artifact that is a
GGUF *file* of any other architecture (gemma3, phi3, ...) is completed by llama.cpp instead
(:mod:`albor_gates.model.llama_engine`, one child process per run), with its own embedded
tokenizer. Only a file: a folder is a safetensors release in every model kind
(:func:`~albor_gates.checks.evidence.checkpoint`), and the same artifact must not mean two
things in two kinds. The details name the engine, llama-cpp-python's version and the GGUF's
architecture and quantisation, so nobody mistakes whose figure it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from albor_gates.checks import evidence
from albor_gates.checks.base import Context
from albor_gates.checks.evidence import ModelView
from albor_gates.errors import EvidenceError

if TYPE_CHECKING:
    from albor_gates.checks.eval_humaneval import Params


def llama_gguf(ctx: Context, role: str = "model") -> ModelView | None:
    """The ``role`` GGUF file when only llama.cpp can run it; None for every other model."""
    path = ctx.path(role)
    if not (path.is_file() and evidence.is_gguf(path)):
        return None
    from albor_gates.formats.gguf_names import RECIPES

    view = evidence.checkpoint(ctx, role)
    runnable = {r.gguf_arch for r in RECIPES.values()}
    return None if view.raw.architecture in runnable else view


def _file_type(view: ModelView) -> str:
    """``general.file_type`` with the exporter's name for it: ``q4_k_m (15)``."""
    from albor_gates.formats.gguf_names import QUANTS

    code = view.raw.metadata.get("general.file_type")
    names = [name for name, (_, ft) in QUANTS.items() if ft == code]
    return f"{names[0]} ({code})" if names else str(code)


def llama_completions(
    ctx: Context,
    view: ModelView,
    prompts: Sequence[str],
    params: Params,
    stop: Sequence[str],
) -> tuple[list[str | None], Mapping[str, Any]]:
    """Greedy completions by llama.cpp (None where the prompt does not fit), and the details.

    ``params`` are eval.humaneval's: ``max_new_tokens``, ``time_budget_s`` (per prompt here)
    and ``threads``.

    Raises:
        CheckSkipped: llama-cpp-python is not installed.
        EvidenceError: llama.cpp cannot load the file, or ended before the last prompt.
    """
    from albor_gates.model.llama_engine import complete

    device = ctx.settings.requested_device
    if device not in ("auto", "cpu"):  # a device asked for and not used is never silent
        raise EvidenceError(
            f"{view.path}: llama.cpp runs this {view.raw.architecture} GGUF on the CPU "
            f"(n_gpu_layers 0), not on --device {device}; run with --device cpu or auto"
        )
    longest = max((len(p.encode("utf-8")) for p in prompts), default=0)
    # A token covers at least one byte, so this context fits every prompt (BOS included) with
    # max_new_tokens, and no more than the model was trained for.
    need = longest + 1 + params.max_new_tokens
    trained = view.raw.hparams.get("context_length")
    n_ctx = min(need, trained) if isinstance(trained, int) and trained > 0 else need
    run = complete(
        view.path,
        prompts,
        max_tokens=params.max_new_tokens,
        stop=stop,
        n_ctx=n_ctx,
        threads=params.threads,
        time_budget_s=params.time_budget_s,
        progress=ctx.progress("humaneval generation (llama.cpp)", float(len(prompts))),
    )
    if run.ended is not None:
        raise EvidenceError(
            f"{view.path}: {run.ended}; every prompt needs its completion, so no pass@1 is "
            "computed (a GGUF that crashes llama.cpp cannot be evaluated)"
        )
    details = {
        "engine": "llama.cpp",
        "llama_cpp_python": run.version,
        "gguf_architecture": view.raw.architecture,
        "gguf_file_type": _file_type(view),
        "tokenizer": "the GGUF's own, as llama.cpp reads it",
        "device": "cpu",
        "threads": run.threads,
        "n_ctx": run.n_ctx,
        "generated_tokens": sum(c.new_tokens for c in run.completions),
        "generation_seconds": run.seconds,
        "stop_reasons": dict(sorted(Counter(c.stop_reason for c in run.completions).items())),
    }
    texts = [None if c.stop_reason == "context" else c.text for c in run.completions]
    return texts, details
