"""GGUF ↔ ``tokenizer.json``: the vocabulary both ways.

:func:`tokenizer_from_gguf` rebuilds a ``tokenizers.Tokenizer`` from ``tokenizer.ggml.*``:
``gpt2`` (byte-level BPE: tokens + merges, pre-tokenizer regex from ``tokenizer.ggml.pre``) and
``llama`` (SentencePiece-style BPE with byte fallback: tokens, scores, token types, merges if
present else merges derived from the scores). :func:`vocab_from_tokenizer_json` goes the other
way for the exporter, padding the vocabulary to the model's ``vocab_size`` with ``[PAD{id}]``
placeholder tokens of type UNUSED, as ``convert_hf_to_gguf.py`` does (GATES.md §7.3, P0-G).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from albor_gates.artifacts.gguf import GGUFFile
from albor_gates.errors import ArtifactError, UsageError

if TYPE_CHECKING:
    import tokenizers


# tokenizer.ggml.token_type values (llama.cpp's llama_token_type / gguf.TokenType).
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

# Pre-tokenizer regexes as Hugging Face's tokenizer.json spells them, keyed by the
# tokenizer.ggml.pre name llama.cpp gives the same split (llama-vocab.cpp).
_QWEN2_RE = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_LLAMA3_RE = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
#: tokenizer.ggml.pre -> Split regex (None: GPT-2's built-in ByteLevel regex).
PRE_TOKENIZERS: Mapping[str, str | None] = {
    "default": None,
    "gpt-2": None,
    "qwen2": _QWEN2_RE,
    "llama-bpe": _LLAMA3_RE,
}
# llama.cpp matches whole tokens first for these (llama3's ignore_merges).
_IGNORE_MERGES = {"llama-bpe"}


def _str_tuple(g: GGUFFile, key: str) -> tuple[str, ...]:
    value = g.metadata.get(key)
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise ArtifactError(
            f"{g.path}: kv[{key!r}] is {'missing' if value is None else 'not an array of strings'}"
            "; a tokenizer cannot be built without it"
        )
    return value  # type: ignore[return-value]


def _num_tuple(g: GGUFFile, key: str, n: int) -> tuple[float, ...] | None:
    value = g.metadata.get(key)
    if value is None:
        return None
    if not isinstance(value, tuple) or len(value) != n or any(isinstance(v, str) for v in value):
        raise ArtifactError(f"{g.path}: kv[{key!r}] must be an array of {n} numbers, one per token")
    return value  # type: ignore[return-value]


def _added(content: str, ttype: int) -> tokenizers.AddedToken:
    import tokenizers

    return tokenizers.AddedToken(content, special=ttype == CONTROL, normalized=False)


def tokenizer_from_gguf(evidence: GGUFFile) -> tokenizers.Tokenizer:
    """Rebuild a ``tokenizers.Tokenizer`` from the GGUF vocabulary alone.

    ``gpt2`` files become a byte-level BPE (merges from ``tokenizer.ggml.merges``, the
    pre-tokenizer from ``tokenizer.ggml.pre``: qwen2, llama-bpe, gpt-2 / default; an NFC
    normaliser for qwen2 as in Qwen's tokenizer.json). ``llama`` files become a
    SentencePiece-style BPE with byte fallback (``▁`` for spaces, a ``▁`` prefix unless
    ``tokenizer.ggml.add_space_prefix`` is false), merges from ``tokenizer.ggml.merges`` when
    present and otherwise derived from the scores (a merge per split of each token into two
    tokens, ranked by the merged token's score). CONTROL tokens become special added tokens,
    USER_DEFINED ones non-special added tokens; ``[PAD{id}]`` placeholders (UNUSED) are left
    out, so the id space keeps its gaps. ``add_bos_token`` / ``add_eos_token`` become a
    post-processor.

    Raises:
        ArtifactError: for a missing or malformed vocabulary, an unknown tokenizer model or
            pre-tokenizer.
    """
    import tokenizers
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

    g = evidence
    kind = g.metadata.get("tokenizer.ggml.model")
    tokens = _str_tuple(g, "tokenizer.ggml.tokens")
    n = len(tokens)
    types = _num_tuple(g, "tokenizer.ggml.token_type", n) or (NORMAL,) * n
    vocab: dict[str, int] = {}
    added: list[tuple[int, str, int]] = []
    for i, (text, ttype) in enumerate(zip(tokens, types, strict=True)):
        t = int(ttype)
        if t == UNUSED and text == f"[PAD{i}]":
            continue
        if t in (CONTROL, USER_DEFINED, UNKNOWN):
            added.append((i, text, CONTROL if t == UNKNOWN else t))
        if text not in vocab:
            vocab[text] = i
    merges_raw = g.metadata.get("tokenizer.ggml.merges")
    merges: list[tuple[str, str]] | None = None
    if merges_raw is not None:
        merge_strs = _str_tuple(g, "tokenizer.ggml.merges")
        merges = []
        for j, m in enumerate(merge_strs):
            left, sep, right = m.partition(" ")
            if not sep:
                raise ArtifactError(
                    f"{g.path}: kv['tokenizer.ggml.merges'][{j}] is {m[:40]!r}, not 'left right'"
                )
            merges.append((left, right))

    if kind == "gpt2":
        pre = g.metadata.get("tokenizer.ggml.pre", "default")
        if not isinstance(pre, str) or pre not in PRE_TOKENIZERS:
            raise ArtifactError(
                f"{g.path}: tokenizer.ggml.pre is {pre!r}; albor-gates rebuilds only "
                f"{', '.join(sorted(PRE_TOKENIZERS))}"
            )
        if merges is None:
            raise ArtifactError(
                f"{g.path}: kv['tokenizer.ggml.merges'] is missing; a gpt2 (BPE) tokenizer "
                "cannot be built without its merges"
            )
        tok = tokenizers.Tokenizer(
            models.BPE(vocab=vocab, merges=merges, ignore_merges=pre in _IGNORE_MERGES)
        )
        regex = PRE_TOKENIZERS[pre]
        if regex is None:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [
                    pre_tokenizers.Split(tokenizers.Regex(regex), behavior="isolated"),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
                ]
            )
        if pre == "qwen2":
            tok.normalizer = normalizers.NFC()
        tok.decoder = decoders.ByteLevel()
    elif kind == "llama":
        if merges is None:
            scores = _num_tuple(g, "tokenizer.ggml.scores", n)
            if scores is None:
                raise ArtifactError(
                    f"{g.path}: a llama (SentencePiece) tokenizer needs tokenizer.ggml.scores or "
                    "tokenizer.ggml.merges; the file has neither"
                )
            merges = _merges_from_scores(vocab, tokens, types, scores)
        unk = next((tokens[i] for i, t in enumerate(types) if int(t) == UNKNOWN), None)
        tok = tokenizers.Tokenizer(
            models.BPE(vocab=vocab, merges=merges, unk_token=unk, byte_fallback=True, fuse_unk=True)
        )
        steps: list[normalizers.Normalizer] = []
        if g.metadata.get("tokenizer.ggml.add_space_prefix", True) is not False:
            steps.append(normalizers.Prepend("▁"))
        steps.append(normalizers.Replace(" ", "▁"))
        tok.normalizer = normalizers.Sequence(steps)
        tok.decoder = decoders.Sequence(
            [
                decoders.Replace("▁", " "),
                decoders.ByteFallback(),
                decoders.Fuse(),
                decoders.Strip(" ", 1, 0),
            ]
        )
    else:
        raise ArtifactError(
            f"{g.path}: tokenizer.ggml.model is {kind!r}; albor-gates rebuilds only 'gpt2' "
            "(byte-level BPE) and 'llama' (SentencePiece) tokenizers"
        )

    tok.add_tokens([_added(text, t) for _i, text, t in added if t == USER_DEFINED])
    tok.add_special_tokens([_added(text, t) for _i, text, t in added if t == CONTROL])
    template = _post_processor(g, tokens)
    if template is not None:
        tok.post_processor = processors.TemplateProcessing(**template)
    return tok


def _post_processor(g: GGUFFile, tokens: tuple[str, ...]) -> dict[str, Any] | None:
    parts: dict[str, tuple[str, int]] = {}
    for name in ("bos", "eos"):
        wanted = g.metadata.get(f"tokenizer.ggml.add_{name}_token")
        tid = g.metadata.get(f"tokenizer.ggml.{name}_token_id")
        if wanted is True and isinstance(tid, int) and 0 <= tid < len(tokens):
            parts[name] = (tokens[tid], tid)
    if not parts:
        return None
    single = ([f"{parts['bos'][0]}:0"] if "bos" in parts else []) + ["$A:0"]
    single += [f"{parts['eos'][0]}:0"] if "eos" in parts else []
    pair = single + [s.replace("$A", "$B").replace(":0", ":1") for s in single]
    return {"single": single, "pair": pair, "special_tokens": list(parts.values())}


def _merges_from_scores(
    vocab: dict[str, int],
    tokens: tuple[str, ...],
    types: tuple[float, ...],
    scores: tuple[float, ...],
) -> list[tuple[str, str]]:
    """SentencePiece scores → BPE merges (transformers' ``SentencePieceExtractor`` rule)."""
    ranked = sorted(
        (i for i, t in enumerate(types) if int(t) in (NORMAL, USER_DEFINED)),
        key=lambda i: (-scores[i], i),
    )
    merges: list[tuple[str, str]] = []
    for i in ranked:
        piece = tokens[i]
        local = [
            (piece[:k], piece[k:])
            for k in range(1, len(piece))
            if piece[:k] in vocab and piece[k:] in vocab
        ]
        local.sort(key=lambda lr: (vocab[lr[0]], vocab[lr[1]]))
        merges.extend(local)
    return merges


@dataclass(frozen=True)
class GGUFVocab:
    """A Hugging Face tokenizer.json turned into GGUF ``tokenizer.ggml.*`` values.

    Attributes:
        model: ``gpt2`` or ``llama``.
        pre: ``tokenizer.ggml.pre``.
        tokens: one string per id, padded to the model vocabulary with ``[PAD{id}]``.
        token_types: llama.cpp token types, one per token.
        scores: one per token for ``llama`` (``-rank`` of the merge that makes the token, 0
            for tokens no merge makes), None for ``gpt2``.
        merges: ``"left right"`` strings in rank order.
        n_tokenizer: how many ids the tokenizer itself defines (before padding).
    """

    model: str
    pre: str
    tokens: tuple[str, ...]
    token_types: tuple[int, ...]
    scores: tuple[float, ...] | None
    merges: tuple[str, ...]
    n_tokenizer: int

    def add_to(self, writer: Any, *, merges: bool = True) -> None:
        """Add the ``tokenizer.ggml.*`` values to a ``gguf.GGUFWriter``.

        Args:
            writer: the writer, before its header is written.
            merges: also write ``tokenizer.ggml.merges`` (a ``llama`` file works without).
        """
        writer.add_tokenizer_model(self.model)
        writer.add_tokenizer_pre(self.pre)
        writer.add_token_list(list(self.tokens))
        writer.add_token_types(list(self.token_types))
        if self.scores is not None:
            writer.add_token_scores(list(self.scores))
        if merges and self.merges:
            writer.add_token_merges(list(self.merges))


def _merge_pairs(raw: Any, where: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        raise ArtifactError(f"{where}: model.merges is not a list")
    for m in raw:
        if isinstance(m, str) and " " in m:
            left, _, right = m.partition(" ")
        elif isinstance(m, list) and len(m) == 2 and all(isinstance(p, str) for p in m):
            left, right = m
        else:
            raise ArtifactError(f"{where}: model.merges entry {str(m)[:40]!r} is not a pair")
        pairs.append((left, right))
    return pairs


def _detect_pre(pre_tok: Any, model_type: str, where: str) -> str:
    """Name llama.cpp's pre-tokenizer for a byte-level tokenizer.json ``pre_tokenizer``."""
    steps = pre_tok.get("pretokenizers", [pre_tok]) if isinstance(pre_tok, dict) else []
    regexes = [
        s.get("pattern", {}).get("Regex")
        for s in steps
        if isinstance(s, dict) and s.get("type") == "Split"
    ]
    byte_level = [s for s in steps if isinstance(s, dict) and s.get("type") == "ByteLevel"]
    for name, regex in PRE_TOKENIZERS.items():
        if regex is not None and regexes == [regex]:
            return name
    if not regexes and len(byte_level) == 1 and byte_level[0].get("use_regex", True):
        return "gpt-2"
    raise UsageError(
        f"{where}: the byte-level pre-tokenizer of this {model_type} tokenizer matches none of "
        f"llama.cpp's {', '.join(n for n in PRE_TOKENIZERS if n != 'default')}; llama.cpp "
        "would tokenize differently, so it is not exported"
    )


def vocab_from_tokenizer_json(
    tokenizer_json: Mapping[str, Any],
    vocab_size: int,
    model_type: str,
    where: str = "tokenizer.json",
) -> GGUFVocab:
    """Turn a parsed Hugging Face ``tokenizer.json`` into GGUF vocabulary values.

    A byte-level BPE (``ByteLevel`` decoder) becomes ``gpt2``; a BPE with ``byte_fallback``
    (Llama 2 / Mistral style) becomes ``llama``. Added tokens marked special, or looking
    special (``<|...|>``), become CONTROL, other added tokens USER_DEFINED; ids the tokenizer
    does not define up to ``vocab_size`` become ``[PAD{id}]`` UNUSED placeholders.

    Args:
        tokenizer_json: the parsed file.
        vocab_size: the model's embedding rows (config.json ``vocab_size``).
        model_type: config.json ``model_type`` (for messages).
        where: the file, for messages.

    Raises:
        ArtifactError: for a tokenizer.json that is not a BPE, or ids beyond ``vocab_size``.
        UsageError: for a byte-level pre-tokenizer llama.cpp does not know.
    """
    model = tokenizer_json.get("model")
    if not isinstance(model, dict) or model.get("type") != "BPE":
        raise ArtifactError(
            f"{where}: model.type is {model.get('type') if isinstance(model, dict) else None!r}; "
            "only BPE tokenizers (byte-level or SentencePiece-style with byte fallback) export "
            "to GGUF"
        )
    raw_vocab = model.get("vocab")
    if not isinstance(raw_vocab, dict):
        raise ArtifactError(f"{where}: model.vocab is not an object")
    by_id: dict[int, str] = {}
    for text, tid in raw_vocab.items():
        if not isinstance(tid, int) or tid < 0:
            raise ArtifactError(f"{where}: model.vocab[{text[:40]!r}] is {tid!r}, not an id")
        by_id[tid] = text
    special: dict[int, bool] = {}
    for entry in tokenizer_json.get("added_tokens") or []:
        tid, content = entry.get("id"), entry.get("content")
        if not isinstance(tid, int) or not isinstance(content, str):
            raise ArtifactError(f"{where}: added_tokens entry {str(entry)[:60]!r} is malformed")
        by_id[tid] = content
        special[tid] = bool(entry.get("special")) or (
            content.startswith("<|") and content.endswith("|>")
        )
    n_tok = max(by_id) + 1 if by_id else 0
    if n_tok > vocab_size:
        raise ArtifactError(
            f"{where}: the tokenizer defines id {n_tok - 1} but config.json vocab_size is "
            f"{vocab_size}; the embedding has no row for it"
        )
    merges = _merge_pairs(model.get("merges", []), where)
    byte_fallback = bool(model.get("byte_fallback"))
    if byte_fallback:
        kind, pre = "llama", "default"
    else:
        kind, pre = "gpt2", _detect_pre(tokenizer_json.get("pre_tokenizer"), model_type, where)

    tokens: list[str] = []
    types: list[int] = []
    for i in range(vocab_size):
        text = by_id.get(i)
        if text is None:
            tokens.append(f"[PAD{i}]")
            types.append(UNUSED)
        elif kind == "llama" and text == model.get("unk_token"):
            tokens.append(text)
            types.append(UNKNOWN)
        elif i in special:
            tokens.append(text)
            types.append(CONTROL if special[i] else USER_DEFINED)
        elif kind == "llama" and re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", text):
            tokens.append(text)
            types.append(BYTE)
        else:
            tokens.append(text)
            types.append(NORMAL)
    scores: tuple[float, ...] | None = None
    if kind == "llama":
        # llama.cpp's SentencePiece tokenizer merges the adjacent pair whose concatenation has
        # the highest score; -rank of the merge that makes a token reproduces the BPE order.
        rank: dict[str, int] = {}
        for r, (left, right) in enumerate(merges):
            rank.setdefault(left + right, r)
        scores = tuple(
            -float(rank[t]) if ty == NORMAL and t in rank else 0.0
            for t, ty in zip(tokens, types, strict=True)
        )
    # gguf-py's SpecialVocab writes a space inside a merge part as U+0120 so "a b" stays
    # splittable; byte-level parts never contain a space.
    merge_strs = tuple(
        " ".join("".join(chr(ord(c) + 256) if c == " " else c for c in part) for part in pair)
        for pair in merges
    )
    return GGUFVocab(
        model=kind,
        pre=pre,
        tokens=tuple(tokens),
        token_types=tuple(types),
        scores=scores,
        merges=merge_strs,
        n_tokenizer=n_tok,
    )
