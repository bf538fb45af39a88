"""tokenizer.vocab_fit — the tokenizer's ids fit the model's embedding (vocab pre-flight).

GATE-ARCH-370M-011 / INV-ARCH-370M-006: an id the embedding has no row for is out of bounds at
the first forward pass. The value is ``model vocab − tokenizer ids`` where the tokenizer side is
``max token id + 1`` (added tokens included) and the model side is the embedding's row count
(config.json ``vocab_size`` when there is no embedding tensor). Two forms, chosen by the band:

* strict (the from-scratch Llama370M path): ``expect: {eq: 0}`` — exactly equal;
* relaxed (HF inits, default): ``expect: {ge: 0}`` — the model may pad its vocabulary
  (Qwen: 151,643 BPE + 22 added = 151,665 ≤ 151,936 declared; margin 271).

Without a ``tokenizer`` artifact, a GGUF model's own vocabulary (``tokenizer.ggml.tokens``,
whose ids are their positions) is the tokenizer side.

PASS: albor-370m-v1 → "model vocab 151936 − tokenizer ids 151665 = 271".
FAIL: a 50,257-token tokenizer on a 50,000-row embedding → "... = -257, must be ≥ 0".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks import evidence
from albor_gates.checks.base import Context, Measurement, NoParams
from albor_gates.checks.evidence import checkpoint, config_dict
from albor_gates.errors import CheckSkipped, EvidenceError

KIND = "tokenizer.vocab_fit"
VERSION = 1
TITLE = "Tokenizer ids fit the model's embedding (strict: equal; relaxed: tokenizer ≤ model)"
# the tokenizer is optional so that a GGUF's own vocabulary can stand in for tokenizer.json
ROLES: tuple[str, ...] = ()
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer", "model", "config")
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ("tokenizer",)
DEFAULT_EXPECT: Mapping[str, Any] | None = {"ge": 0}
Params = NoParams

_EMBED = (
    "model.embed_tokens.weight",
    "transformer.wte.weight",
    "embeddings.word_embeddings.weight",
    "bert.embeddings.word_embeddings.weight",
)


def measure(ctx: Context, params: NoParams) -> Measurement:
    """Compare the tokenizer's id range with the model's vocabulary."""
    tok_ids, tok_desc, tok_details = _tokenizer_side(ctx)
    model_vocab: int | None = None
    source = ""
    if ctx.has("model"):
        view = checkpoint(ctx)
        embed = next((e for e in _EMBED if e in view.shapes), None)
        if embed is not None:
            model_vocab, source = view.shapes[embed][0], embed
    if model_vocab is None:
        cfg = config_dict(ctx)
        v = (cfg or {}).get("vocab_size")
        if isinstance(v, int) and not isinstance(v, bool):
            model_vocab, source = v, "config.json vocab_size"
    if model_vocab is None:
        raise CheckSkipped("neither an embedding tensor nor config.json vocab_size to compare with")
    margin = model_vocab - tok_ids
    return Measurement(
        margin,
        subject="model vocab − tokenizer ids",
        summary=f"model vocab {model_vocab} ({source}) − tokenizer ids {tok_ids} = {margin} "
        f"({tok_desc})",
        details={"model_vocab": model_vocab, "tokenizer_ids": tok_ids, **tok_details},
        fix="use the tokenizer the model was trained with, or resize the embedding",
    )


def _tokenizer_side(ctx: Context) -> tuple[int, str, dict[str, Any]]:
    """(id range, description, details) of tokenizer.json, else of a GGUF's own vocabulary."""
    if ctx.has("tokenizer"):
        tok = evidence.tokenizer(ctx)
        tok_ids = (tok.max_token_id + 1) if tok.max_token_id is not None else 0
        added = tok.vocab_size_with_added - tok.vocab_size
        return (
            tok_ids,
            f"tokenizer: {tok.vocab_size} + {added} added, {tok.model_type}",
            {
                "tokenizer_vocab": tok.vocab_size,
                "tokenizer_vocab_with_added": tok.vocab_size_with_added,
            },
        )
    if ctx.has("model") and evidence.is_gguf(ctx.path("model")):
        tokens = checkpoint(ctx).raw.metadata.get("tokenizer.ggml.tokens")
        if isinstance(tokens, tuple) and tokens:
            model = checkpoint(ctx).raw.metadata.get("tokenizer.ggml.model", "?")
            return (
                len(tokens),
                f"the GGUF's own tokenizer: {len(tokens)} tokens, {model}",
                {"tokenizer_vocab_with_added": len(tokens), "tokenizer_source": "gguf"},
            )
    where = ctx.artifact("tokenizer").display() if _bound(ctx, "tokenizer") else "not bound"
    raise CheckSkipped(f"optional artifact 'tokenizer' is absent ({where})")


def _bound(ctx: Context, role: str) -> bool:
    try:
        ctx.artifact(role)
    except EvidenceError:
        return False
    return True
