"""Shared model loading and settings for the model-evaluation check kinds (eval.*, infer.*).

The decoder is loaded once per run per (device, dtype) and the tokenizer once; run settings
from the command line (``ctx.settings``: ``--device``, ``--seq-len``, ``--max-tokens``, ...)
override the spec's params, and the effective settings are recorded in each gate's details so
a report says exactly what was measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from albor_gates.checks import evidence
from albor_gates.checks.base import Context
from albor_gates.checks.evidence import is_gguf as _is_gguf
from albor_gates.errors import CheckSkipped


def load_decoder(ctx: Context, role: str = "model", device: str | None = None) -> Any:
    """The reference decoder for the ``role`` artifact (safetensors or GGUF), loaded once."""
    dev = device or ctx.settings.requested_device
    dtype_name = ctx.settings.dtype

    def load(path: Path) -> Any:
        from albor_gates.model.device import parse_dtype, resolve_device

        resolved = resolve_device(dev)
        dt = parse_dtype(str(dtype_name), resolved) if dtype_name else None
        if path.is_file() and _is_gguf(path):
            from albor_gates.formats.gguf_model import load_gguf_model

            return load_gguf_model(path, str(resolved), dt)
        from albor_gates.model.hf_engine import load_causal_lm

        return load_causal_lm(path, resolved, dt)

    return ctx.read(role, f"decoder:{dev}:{dtype_name}", load)


def load_tokenizer(ctx: Context, role: str = "tokenizer", model_role: str = "model") -> Any:
    """The tokenizer: the ``tokenizer`` artifact, else the one inside a GGUF model."""
    if ctx.has(role):
        return evidence.tokenizer(ctx, role).tokenizer
    if ctx.has(model_role) and _is_gguf(ctx.path(model_role)):
        from albor_gates.formats.gguf_model import gguf_tokenizer

        return ctx.read(model_role, "gguf-tokenizer", gguf_tokenizer)
    raise CheckSkipped("no tokenizer.json (and the model is not a GGUF file carrying one)")


def environment_details(model: Any) -> Mapping[str, Any]:
    """Device, GPU name, torch and CUDA versions of a loaded model (for the report)."""
    from albor_gates.model.device import environment
    from albor_gates.model.hf_engine import engine_of

    env = environment(model.device)
    return {
        "engine": engine_of(model),
        "device": env.device,
        "device_type": env.device_type,
        "device_name": env.device_name,
        "torch": env.torch_version,
        "cuda": env.cuda_version,
        "threads": env.num_threads,
        "dtype": str(model.dtype).replace("torch.", ""),
    }
