"""``tokenizer.json`` and ``tokenizer_config.json``: the one tokenizer reader.

``tokenizer.json`` is parsed once, as strict size-capped JSON (a repeated vocabulary entry is
reported with its line and column), then built with the ``tokenizers`` library; the resulting
:class:`TokenizerInfo` carries both the facts the checks compare and the built
``tokenizers.Tokenizer`` that encodes and decodes (the model gates use the same object).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from albor_gates.errors import ArtifactError

from ._text import (
    JsonFields,
    frozen,
    json_kind,
    load_json_document,
    quote,
    read_bounded,
    read_json_object,
)

#: Size caps, in bytes, checked before reading.
MAX_TOKENIZER_BYTES = 200_000_000
MAX_TOKENIZER_CONFIG_BYTES = 50_000_000
MAX_CHAT_TEMPLATE_BYTES = 1_000_000
#: transformers' named special tokens (``SPECIAL_TOKENS_ATTRIBUTES``), a chat template's variables.
NAMED_TOKENS = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)


@dataclass(frozen=True)
class AddedTokenInfo:
    """One added token of a tokenizer (``added_tokens`` in tokenizer.json)."""

    id: int
    content: str
    special: bool


@dataclass(frozen=True)
class TokenizerInfo:
    """``tokenizer.json`` as the ``tokenizers`` library loads it.

    Attributes:
        path: the file.
        model_type: the tokenization model: ``"BPE"``, ``"WordPiece"``, ``"Unigram"`` or
            ``"WordLevel"``.
        vocab_size: the model's vocabulary without added tokens.
        vocab_size_with_added: with added tokens (what ``len(tokenizer)`` gives in transformers).
        max_token_id: the largest id any token maps to (an embedding needs ``max_token_id + 1``
            rows); ``None`` for an empty vocabulary.
        added_tokens: every added token, by id.
        special_tokens: contents of the added tokens marked special, by id.
        pre_tokenizer: ``pre_tokenizer.type`` (e.g. ``"ByteLevel"``), when present.
        normalizer: ``normalizer.type``, when present.
        decoder: ``decoder.type``, when present.
        tokenizer: the built ``tokenizers.Tokenizer`` (encode / decode).
    """

    path: Path
    model_type: str
    vocab_size: int
    vocab_size_with_added: int
    max_token_id: int | None
    added_tokens: tuple[AddedTokenInfo, ...]
    special_tokens: tuple[str, ...]
    pre_tokenizer: str | None
    normalizer: str | None
    decoder: str | None
    tokenizer: Any = field(default=None, compare=False, repr=False)


def _component_type(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return str(value["type"])
    return None


def read_tokenizer(path: str | os.PathLike[str]) -> TokenizerInfo:
    """Read ``tokenizer.json`` with the ``tokenizers`` library.

    The file is first parsed as strict, size-capped JSON (so a repeated vocabulary entry or a
    broken document is reported with its line and column), then handed to
    ``tokenizers.Tokenizer.from_str``.

    Raises:
        ArtifactError: missing, too large, not JSON, or refused by ``tokenizers``.
    """
    p = Path(path)
    fix = "re-save the tokenizer with tokenizers or transformers (save_pretrained)"
    data = read_bounded(p, MAX_TOKENIZER_BYTES, "tokenizer.json", fix)
    doc = load_json_document(p, data, what="tokenizer.json", fix=fix)
    if not isinstance(doc, dict):
        raise ArtifactError(f"{p}: tokenizer.json is a JSON {json_kind(doc)}, not an object: {fix}")
    model = doc.get("model")
    if not isinstance(model, dict):
        raise ArtifactError(
            f"{p}: tokenizer.json key 'model' is a JSON {json_kind(model)}, not an object: {fix}"
        )
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_str(data.decode("utf-8").lstrip("\ufeff"))
    except Exception as e:  # tokenizers raises its own Exception subclass (no public type)
        detail = quote(str(e).splitlines()[0] if str(e) else type(e).__name__)
        raise ArtifactError(f"{p}: tokenizers cannot load tokenizer.json ({detail}): {fix}") from e
    vocab = tok.get_vocab(with_added_tokens=True)
    added = sorted(
        (
            AddedTokenInfo(id=int(i), content=str(t.content), special=bool(t.special))
            for i, t in tok.get_added_tokens_decoder().items()
        ),
        key=lambda t: t.id,
    )
    return TokenizerInfo(
        path=p,
        model_type=type(tok.model).__name__,
        vocab_size=tok.get_vocab_size(with_added_tokens=False),
        vocab_size_with_added=tok.get_vocab_size(with_added_tokens=True),
        max_token_id=max(vocab.values()) if vocab else None,
        added_tokens=tuple(added),
        special_tokens=tuple(t.content for t in added if t.special),
        pre_tokenizer=_component_type(doc, "pre_tokenizer"),
        normalizer=_component_type(doc, "normalizer"),
        decoder=_component_type(doc, "decoder"),
        tokenizer=tok,
    )


@dataclass(frozen=True)
class TokenizerConfig:
    """``tokenizer_config.json`` (transformers' tokenizer settings).

    Attributes:
        path: the file.
        raw: the whole JSON object (top level read-only).
        tokenizer_class: ``tokenizer_class`` (e.g. ``"Qwen2Tokenizer"``).
        model_max_length: ``model_max_length`` (transformers writes ``1e30`` for "no limit").
        bos_token: ``bos_token`` content (a string, or the ``content`` of an AddedToken object).
        eos_token: ``eos_token`` content.
        pad_token: ``pad_token`` content.
        unk_token: ``unk_token`` content.
        chat_template: ``chat_template`` when it is one string; a list of named templates
            yields the one named ``"default"`` (else the first); without the key, the
            ``chat_template.jinja`` beside the file (where transformers ≥ 4.43 saves it).
        added_tokens_decoder: ``added_tokens_decoder`` as id → content.
        named_tokens: the set :data:`NAMED_TOKENS`, name → content (a chat template's variables).
        chat_template_path: the file the chat template came from, or None without one.
    """

    path: Path
    raw: Mapping[str, Any]
    tokenizer_class: str | None
    model_max_length: float | None
    bos_token: str | None
    eos_token: str | None
    pad_token: str | None
    unk_token: str | None
    chat_template: str | None
    added_tokens_decoder: Mapping[int, str]
    named_tokens: Mapping[str, str] = field(default_factory=dict)
    chat_template_path: Path | None = None


def read_tokenizer_config(path: str | os.PathLike[str]) -> TokenizerConfig:
    """Read ``tokenizer_config.json``.

    Raises:
        ArtifactError: missing, too large, malformed, or a field of the wrong type.
    """
    p = Path(path)
    fix = "re-save the tokenizer with transformers (save_pretrained)"
    what = "tokenizer_config.json"
    obj = read_json_object(p, MAX_TOKENIZER_CONFIG_BYTES, what, fix)
    f = JsonFields(p, obj, what, fix)

    def token(key: str) -> str | None:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("content"), str):
            return str(value["content"])
        raise f.fail(key, value, "a token string or an AddedToken object with 'content'")

    template = obj.get("chat_template")
    chat: str | None
    if template is None or isinstance(template, str):
        chat = template
    elif (
        isinstance(template, list)
        and template
        and all(isinstance(t, dict) and isinstance(t.get("template"), str) for t in template)
    ):
        named = [t for t in template if t.get("name") == "default"]
        chat = str((named or template)[0]["template"])
    else:
        raise f.fail("chat_template", template, "a string or a list of named templates")
    chat_path = p if chat is not None else None
    jinja = p.parent / "chat_template.jinja"
    if chat is None and jinja.is_file():
        data = read_bounded(jinja, MAX_CHAT_TEMPLATE_BYTES, "chat_template.jinja", fix)
        try:
            chat, chat_path = data.decode("utf-8"), jinja
        except UnicodeDecodeError as e:
            raise ArtifactError(f"{jinja}: byte {e.start} is not UTF-8: {fix}") from e

    decoder: dict[int, str] = {}
    raw_dec = obj.get("added_tokens_decoder")
    if raw_dec is not None:
        if not isinstance(raw_dec, dict):
            raise f.fail("added_tokens_decoder", raw_dec, "an object of id → token")
        for key, value in raw_dec.items():
            content = value.get("content") if isinstance(value, dict) else None
            if not key.isdigit() or not isinstance(content, str):
                raise f.fail(
                    f"added_tokens_decoder.{key}", value, "an AddedToken object under a numeric id"
                )
            decoder[int(key)] = content
    return TokenizerConfig(
        path=p,
        raw=frozen(obj),
        tokenizer_class=f.text("tokenizer_class"),
        model_max_length=f.number("model_max_length"),
        bos_token=token("bos_token"),
        eos_token=token("eos_token"),
        pad_token=token("pad_token"),
        unk_token=token("unk_token"),
        chat_template=chat,
        added_tokens_decoder=MappingProxyType(decoder),
        named_tokens=MappingProxyType({k: v for k in NAMED_TOKENS if (v := token(k)) is not None}),
        chat_template_path=chat_path,
    )
