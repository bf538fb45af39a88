"""consumer.transformers — transformers loads the release and computes the checker's logits.

The publish spec's second verification path (GATES.md §7.3: ``AutoModelForCausalLM
.from_pretrained``): Hugging Face transformers loads the ``model`` release folder fully offline
(``local_files_only=True``, ``HF_HUB_OFFLINE=1`` for the call, no remote code), on the CPU in
float32, and its logits at every position of the canary ``prompts`` (encoded with the release's
tokenizer) are compared with the reference decoder's (CPU, float32).

The value is the largest ``|Δlogit|`` (default band ``le: 1e-3``, SPEC-DISTILL-001's teacher
tolerance); details give the lowest logit cosine and the top-1 agreement. A release that
transformers cannot load is measured as NaN (always a FAIL) with transformers' own one-line
message. transformers is an optional extra: when it is not installed the gate is SKIPPED with
the install command (``pip install 'albor-gates[transformers]'``) — a required gate then makes
the decision NO-GO, an optional one a WARN.

PASS: "max |Δlogit| 3.8e-06 over 10 prompts (87 positions), min cosine 1, top-1 87/87 —
transformers 4.46.3 Qwen2ForCausalLM".
FAIL: "transformers cannot load the release: ValueError: ... does not recognize this
architecture" (config.json names a class transformers does not know).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field

from albor_gates.checks._gguf import (
    CANARY_PROMPTS,
    encode_prompts,
    fp32_source_decoder,
    release_folder,
    require_safetensors,
    source_tokenizer,
)
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import CheckSkipped

KIND = "consumer.transformers"
VERSION = 1
TITLE = "transformers loads the release offline and its fp32 logits match the reference decoder"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer",)
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("transformers", "model")
DEFAULT_EXPECT: Mapping[str, Any] | None = {"le": 1e-3}


class Params(CheckParams):
    """Options of consumer.transformers."""

    prompts: list[str] = Field(list(CANARY_PROMPTS), min_length=1)


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE set for the duration, restored afterwards."""
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved = {n: os.environ.get(n) for n in names}
    for n in names:
        os.environ[n] = "1"
    try:
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence transformers' warnings and progress bars for the load (they go to the terminal)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".strip()


def _compare(ctx: Context, params: Params, folder: Any) -> dict[str, Any]:
    import torch

    from albor_gates.model.hf_engine import ENGINE_REFERENCE, engine_of
    from albor_gates.model.parity import logit_cosines

    with _offline(), _quiet():
        import transformers

        try:
            loaded: Any = transformers.AutoModelForCausalLM.from_pretrained(
                str(folder),
                local_files_only=True,
                trust_remote_code=False,
                output_loading_info=True,
            )
        except Exception as e:  # noqa: BLE001 - transformers raises OSError, ValueError, KeyError...
            return {"error": _first_line(e), "transformers": transformers.__version__}
    hf, info = loaded
    hf = hf.float().eval()
    # Weights transformers initialised itself (missing) or ignored (unexpected): the usual
    # reason its logits differ.
    loading = {
        k: sorted(str(x) for x in info.get(k) or ())[:20]
        for k in ("missing_keys", "unexpected_keys", "mismatched_keys")
    }
    ref = fp32_source_decoder(ctx, device="cpu")
    if engine_of(ref) != ENGINE_REFERENCE:
        # the family is evaluated through transformers itself: comparing it with itself
        # could never fail
        raise CheckSkipped(
            "the reference decoder has no recipe for this family (transformers computes its "
            "numbers), so there is no independent engine to compare"
        )
    ids_list = encode_prompts(source_tokenizer(ctx), params.prompts)
    max_abs, min_cos, agree, positions = 0.0, 1.0, 0, 0
    worst = ""
    with torch.no_grad():
        for text, ids in zip(params.prompts, ids_list, strict=True):
            x = torch.tensor([ids], dtype=torch.long)
            a = hf(input_ids=x).logits[0].float()
            b = ref.logits(x)[0].float().cpu()
            d = float((a - b).abs().max())
            if not d <= max_abs:  # NaN replaces too
                max_abs, worst = d, text
            min_cos = min(min_cos, float(logit_cosines(a, b).min()))
            agree += int((a.argmax(-1) == b.argmax(-1)).sum())
            positions += a.shape[0]
    return {
        "max_abs_diff": max_abs,
        "min_cosine": min_cos,
        "top1_agree": agree,
        "positions": positions,
        "worst_prompt": worst,
        "transformers": transformers.__version__,
        "hf_class": type(hf).__name__,
        **loading,
    }


def measure(ctx: Context, params: Params) -> Measurement:
    """Load with transformers, compare the logits."""
    folder = release_folder(require_safetensors(ctx, KIND))
    r = ctx.read(
        "model",
        f"consumer-transformers:{params.model_dump_json()}",
        lambda _p: _compare(ctx, params, folder),
    )
    if "error" in r:
        return Measurement(
            math.nan,
            subject="max |Δlogit| vs transformers",
            summary=f"transformers {r['transformers']} cannot load {folder}: {r['error']}",
            details=dict(r),
            fix="AutoModelForCausalLM.from_pretrained must load the release (GATES.md §7.3): "
            "check config.json's architectures / model_type and the weight names",
        )
    n = len(params.prompts)
    missing = r["missing_keys"]
    return Measurement(
        r["max_abs_diff"],
        subject="max |Δlogit| vs transformers",
        summary=f"over {n} prompts ({r['positions']} positions), min cosine "
        f"{r['min_cosine']:.6g}, top-1 {r['top1_agree']}/{r['positions']} — transformers "
        f"{r['transformers']} {r['hf_class']}"
        + (
            f"; transformers initialised {', '.join(missing[:3])} itself (missing)"
            if missing
            else ""
        ),
        details=dict(r),
        fix="transformers computes other logits than the checker: a config field the two read "
        "differently (rope scaling, tied embeddings, attention bias) or a layout difference",
    )
