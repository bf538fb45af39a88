"""Readers for the non-weight files of a Hugging Face-style release folder.

Each reader takes one file and returns frozen evidence; none of them judges. Malformed input
raises :class:`~albor_gates.errors.ArtifactError` with one line naming the file, the key (and a
line/column where the format has them) and the fix:

- ``config.json`` → :class:`ModelConfig`: the raw object plus typed fields the architecture
  checks need, read under their Hugging Face names or the GPT-2 aliases (``n_embd``, ``n_layer``,
  ``n_head``, ``n_positions``, ``n_inner``, ``layer_norm_epsilon``);
- ``generation_config.json`` → :class:`GenerationConfig`;
- ``tokenizer.json`` (through the ``tokenizers`` library) → :class:`TokenizerInfo`, and
  ``tokenizer_config.json`` → :class:`TokenizerConfig`;
- ``README.md`` → :class:`ModelCard`: YAML front matter read with a safe loader that never
  executes tags and refuses alias bombs (more than :data:`MAX_YAML_NODES` nodes once aliases are
  expanded), recursive aliases and repeated keys;
- a folder → :class:`ReleaseFolder` (whichever of the above are present).

Every file is size-capped before it is read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from albor_gates.errors import ArtifactError

from ._text import json_kind, load_json_document, quote, read_bounded, short_json

#: Size caps, in bytes, checked before reading.
MAX_CONFIG_BYTES = 10_000_000
MAX_TOKENIZER_BYTES = 200_000_000
MAX_TOKENIZER_CONFIG_BYTES = 50_000_000
MAX_CARD_BYTES = 16_000_000
MAX_FRONT_MATTER_BYTES = 1_000_000

#: Most YAML nodes a model card's front matter may hold, counting every alias expansion.
MAX_YAML_NODES = 10_000

_CONFIG_FIX = "fix config.json (it is what transformers reads to build the model)"


def _frozen(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(obj))


class _Fields:
    """Typed access to the keys of one JSON object; errors name the file and the key."""

    def __init__(self, path: Path, obj: Mapping[str, Any], what: str, fix: str) -> None:
        self.path = path
        self.obj = obj
        self.what = what
        self.fix = fix
        self.used: dict[str, str] = {}

    def _fail(self, key: str, value: object, expected: str) -> ArtifactError:
        return ArtifactError(
            f"{self.path}: {self.what} key '{quote(key)}' is {short_json(value)} (a JSON "
            f"{json_kind(value)}), expected {expected}: {self.fix}"
        )

    def _first(self, field: str, keys: tuple[str, ...]) -> tuple[str, Any] | None:
        for key in keys:
            value = self.obj.get(key)
            if value is not None:
                self.used[field] = key
                return key, value
        return None

    def count(self, field: str, *aliases: str) -> int | None:
        """Return the non-negative integer under ``field`` or its first alias (null = absent)."""
        hit = self._first(field, (field, *aliases))
        if hit is None:
            return None
        key, value = hit
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._fail(key, value, "a non-negative integer")
        return value

    def number(self, field: str, *aliases: str) -> float | None:
        """Return the finite number under ``field`` or its first alias."""
        hit = self._first(field, (field, *aliases))
        if hit is None:
            return None
        key, value = hit
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise self._fail(key, value, "a finite number")
        return float(value)

    def flag(self, field: str) -> bool | None:
        """Return the boolean under ``field``."""
        hit = self._first(field, (field,))
        if hit is None:
            return None
        key, value = hit
        if not isinstance(value, bool):
            raise self._fail(key, value, "true or false")
        return value

    def text(self, field: str) -> str | None:
        """Return the string under ``field``."""
        hit = self._first(field, (field,))
        if hit is None:
            return None
        key, value = hit
        if not isinstance(value, str):
            raise self._fail(key, value, "a string")
        return value

    def texts(self, field: str) -> tuple[str, ...]:
        """Return the list of strings (or one string) under ``field``; empty when absent."""
        hit = self._first(field, (field,))
        if hit is None:
            return ()
        key, value = hit
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, value, "a list of strings")
        return tuple(value)

    def token_ids(self, field: str) -> tuple[int, ...]:
        """Return the token id or list of token ids under ``field``; empty when absent."""
        hit = self._first(field, (field,))
        if hit is None:
            return ()
        key, value = hit
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise self._fail(key, value, "a token id or a list of token ids")
        return tuple(values)


def _read_json_object(path: Path, limit: int, what: str, fix: str) -> Mapping[str, Any]:
    doc = load_json_document(path, read_bounded(path, limit, what, fix), what=what, fix=fix)
    if not isinstance(doc, dict):
        raise ArtifactError(f"{path}: {what} is a JSON {json_kind(doc)}, not an object: {fix}")
    return doc


# --------------------------------------------------------------------------------------------
# config.json
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    """A model's ``config.json``: the raw object and the fields the architecture checks need.

    Every typed field is ``None`` when the file does not declare it (no transformers default is
    filled in; the ``resolved_*`` properties apply the documented defaults). ``keys`` says under
    which key each field was found, so a message can quote the user's own key (``n_embd``).

    Attributes:
        path: the file.
        raw: the whole JSON object, read-only at the top level.
        architectures: ``architectures`` (e.g. ``("Qwen2ForCausalLM",)``).
        model_type: ``model_type`` (e.g. ``"qwen2"``).
        vocab_size: ``vocab_size``.
        hidden_size: ``hidden_size`` / ``n_embd`` / ``d_model``.
        num_hidden_layers: ``num_hidden_layers`` / ``n_layer`` / ``num_layers``.
        num_attention_heads: ``num_attention_heads`` / ``n_head`` / ``num_heads``.
        num_key_value_heads: ``num_key_value_heads``.
        head_dim: ``head_dim``.
        intermediate_size: ``intermediate_size`` / ``n_inner``.
        max_position_embeddings: ``max_position_embeddings`` / ``n_positions``.
        rope_theta: ``rope_theta`` (or ``rope_parameters.rope_theta``, the transformers v5 form).
        rms_norm_eps: ``rms_norm_eps``.
        layer_norm_eps: ``layer_norm_eps`` / ``layer_norm_epsilon`` (BERT, GPT-2).
        tie_word_embeddings: ``tie_word_embeddings``.
        type_vocab_size: ``type_vocab_size`` (BERT).
        torch_dtype: ``torch_dtype`` / ``dtype``.
        keys: field name → the key it was read from.
    """

    path: Path
    raw: Mapping[str, Any]
    architectures: tuple[str, ...]
    model_type: str | None
    vocab_size: int | None
    hidden_size: int | None
    num_hidden_layers: int | None
    num_attention_heads: int | None
    num_key_value_heads: int | None
    head_dim: int | None
    intermediate_size: int | None
    max_position_embeddings: int | None
    rope_theta: float | None
    rms_norm_eps: float | None
    layer_norm_eps: float | None
    tie_word_embeddings: bool | None
    type_vocab_size: int | None
    torch_dtype: str | None
    keys: Mapping[str, str]

    @property
    def resolved_num_key_value_heads(self) -> int | None:
        """KV heads, defaulting to ``num_attention_heads`` (multi-head attention), as HF does."""
        if self.num_key_value_heads is not None:
            return self.num_key_value_heads
        return self.num_attention_heads

    @property
    def resolved_head_dim(self) -> int | None:
        """``head_dim``, else ``hidden_size // num_attention_heads`` when that divides exactly."""
        if self.head_dim is not None:
            return self.head_dim
        h, n = self.hidden_size, self.num_attention_heads
        if h is None or not n or h % n:
            return None
        return h // n

    @property
    def resolved_intermediate_size(self) -> int | None:
        """``intermediate_size``; for GPT-2 a null ``n_inner`` means ``4 * n_embd``."""
        if self.intermediate_size is not None:
            return self.intermediate_size
        if self.model_type == "gpt2" and self.hidden_size is not None:
            return 4 * self.hidden_size
        return None

    @property
    def resolved_tie_word_embeddings(self) -> bool:
        """``tie_word_embeddings``, defaulting to ``True`` (``PretrainedConfig``'s default)."""
        return True if self.tie_word_embeddings is None else self.tie_word_embeddings


def read_config(path: str | os.PathLike[str]) -> ModelConfig:
    """Read ``config.json``.

    Args:
        path: the file.

    Raises:
        ArtifactError: missing, too large, not a JSON object, a repeated key, or a typed field
            with the wrong JSON type (the message names the key).
    """
    p = Path(path)
    obj = _read_json_object(p, MAX_CONFIG_BYTES, "config.json", _CONFIG_FIX)
    f = _Fields(p, obj, "config.json", _CONFIG_FIX)
    rope_theta = f.number("rope_theta")
    if rope_theta is None and isinstance(obj.get("rope_parameters"), dict):
        nested = _Fields(p, obj["rope_parameters"], "config.json", _CONFIG_FIX)
        rope_theta = nested.number("rope_theta")
        if rope_theta is not None:
            f.used["rope_theta"] = "rope_parameters.rope_theta"
    return ModelConfig(
        path=p,
        raw=_frozen(obj),
        architectures=f.texts("architectures"),
        model_type=f.text("model_type"),
        vocab_size=f.count("vocab_size"),
        hidden_size=f.count("hidden_size", "n_embd", "d_model"),
        num_hidden_layers=f.count("num_hidden_layers", "n_layer", "num_layers"),
        num_attention_heads=f.count("num_attention_heads", "n_head", "num_heads"),
        num_key_value_heads=f.count("num_key_value_heads"),
        head_dim=f.count("head_dim"),
        intermediate_size=f.count("intermediate_size", "n_inner"),
        max_position_embeddings=f.count("max_position_embeddings", "n_positions"),
        rope_theta=rope_theta,
        rms_norm_eps=f.number("rms_norm_eps"),
        layer_norm_eps=f.number("layer_norm_eps", "layer_norm_epsilon"),
        tie_word_embeddings=f.flag("tie_word_embeddings"),
        type_vocab_size=f.count("type_vocab_size"),
        torch_dtype=f.text("torch_dtype") if "torch_dtype" in obj else f.text("dtype"),
        keys=MappingProxyType(dict(f.used)),
    )


# --------------------------------------------------------------------------------------------
# generation_config.json
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationConfig:
    """``generation_config.json``: raw object plus the decoding fields checks look at.

    Attributes:
        path: the file.
        raw: the whole JSON object (top level read-only).
        bos_token_ids: ``bos_token_id`` as a tuple (empty when absent).
        eos_token_ids: ``eos_token_id`` (an id or a list of ids) as a tuple.
        pad_token_ids: ``pad_token_id`` as a tuple.
        max_length: ``max_length``.
        max_new_tokens: ``max_new_tokens``.
        do_sample: ``do_sample``.
        temperature: ``temperature``.
        top_p: ``top_p``.
        top_k: ``top_k``.
        repetition_penalty: ``repetition_penalty``.
    """

    path: Path
    raw: Mapping[str, Any]
    bos_token_ids: tuple[int, ...]
    eos_token_ids: tuple[int, ...]
    pad_token_ids: tuple[int, ...]
    max_length: int | None
    max_new_tokens: int | None
    do_sample: bool | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    repetition_penalty: float | None


def read_generation_config(path: str | os.PathLike[str]) -> GenerationConfig:
    """Read ``generation_config.json``.

    Raises:
        ArtifactError: missing, too large, malformed, or a field of the wrong type.
    """
    p = Path(path)
    fix = "fix generation_config.json"
    obj = _read_json_object(p, MAX_CONFIG_BYTES, "generation_config.json", fix)
    f = _Fields(p, obj, "generation_config.json", fix)
    return GenerationConfig(
        path=p,
        raw=_frozen(obj),
        bos_token_ids=f.token_ids("bos_token_id"),
        eos_token_ids=f.token_ids("eos_token_id"),
        pad_token_ids=f.token_ids("pad_token_id"),
        max_length=f.count("max_length"),
        max_new_tokens=f.count("max_new_tokens"),
        do_sample=f.flag("do_sample"),
        temperature=f.number("temperature"),
        top_p=f.number("top_p"),
        top_k=f.count("top_k"),
        repetition_penalty=f.number("repetition_penalty"),
    )


# --------------------------------------------------------------------------------------------
# tokenizer.json / tokenizer_config.json
# --------------------------------------------------------------------------------------------


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
            yields the one named ``"default"`` (else the first).
        added_tokens_decoder: ``added_tokens_decoder`` as id → content.
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


def read_tokenizer_config(path: str | os.PathLike[str]) -> TokenizerConfig:
    """Read ``tokenizer_config.json``.

    Raises:
        ArtifactError: missing, too large, malformed, or a field of the wrong type.
    """
    p = Path(path)
    fix = "re-save the tokenizer with transformers (save_pretrained)"
    what = "tokenizer_config.json"
    obj = _read_json_object(p, MAX_TOKENIZER_CONFIG_BYTES, what, fix)
    f = _Fields(p, obj, what, fix)

    def token(key: str) -> str | None:
        value = obj.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("content"), str):
            return str(value["content"])
        raise f._fail(key, value, "a token string or an AddedToken object with 'content'")

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
        raise f._fail("chat_template", template, "a string or a list of named templates")

    decoder: dict[int, str] = {}
    raw_dec = obj.get("added_tokens_decoder")
    if raw_dec is not None:
        if not isinstance(raw_dec, dict):
            raise f._fail("added_tokens_decoder", raw_dec, "an object of id → token")
        for key, value in raw_dec.items():
            content = value.get("content") if isinstance(value, dict) else None
            if not key.isdigit() or not isinstance(content, str):
                raise f._fail(
                    f"added_tokens_decoder.{key}", value, "an AddedToken object under a numeric id"
                )
            decoder[int(key)] = content
    return TokenizerConfig(
        path=p,
        raw=_frozen(obj),
        tokenizer_class=f.text("tokenizer_class"),
        model_max_length=f.number("model_max_length"),
        bos_token=token("bos_token"),
        eos_token=token("eos_token"),
        pad_token=token("pad_token"),
        unk_token=token("unk_token"),
        chat_template=chat,
        added_tokens_decoder=MappingProxyType(decoder),
    )


# --------------------------------------------------------------------------------------------
# README.md model card
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCard:
    """A model card (``README.md``): its YAML front matter and Markdown body.

    Attributes:
        path: the file.
        front_matter: the front matter mapping, or ``None`` when the card has none.
        body: the Markdown after the front matter.
        front_matter_line: 1-based line of the opening ``---`` (0 when there is none).
    """

    path: Path
    front_matter: Mapping[str, Any] | None
    body: str
    front_matter_line: int = 0

    def _value(self, key: str) -> Any:
        return None if self.front_matter is None else self.front_matter.get(key)

    def _text(self, key: str) -> str | None:
        value = self._value(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ArtifactError(
                f"{self.path}: model card front matter key '{key}' is a YAML "
                f"{type(value).__name__}, expected a string: fix the front matter"
            )
        return value

    def _texts(self, key: str) -> tuple[str, ...]:
        value = self._value(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ArtifactError(
            f"{self.path}: model card front matter key '{key}' is a YAML "
            f"{type(value).__name__}, expected a string or a list of strings: fix the front matter"
        )

    @property
    def license(self) -> str | None:
        """``license`` (an SPDX-like id such as ``apache-2.0``, or ``other``)."""
        return self._text("license")

    @property
    def library_name(self) -> str | None:
        """``library_name``."""
        return self._text("library_name")

    @property
    def pipeline_tag(self) -> str | None:
        """``pipeline_tag``."""
        return self._text("pipeline_tag")

    @property
    def base_model(self) -> tuple[str, ...]:
        """``base_model`` (one id or a list)."""
        return self._texts("base_model")

    @property
    def tags(self) -> tuple[str, ...]:
        """``tags``."""
        return self._texts("tags")

    @property
    def datasets(self) -> tuple[str, ...]:
        """``datasets``."""
        return self._texts("datasets")

    @property
    def language(self) -> tuple[str, ...]:
        """``language``."""
        return self._texts("language")

    @property
    def model_index(self) -> list[Any] | None:
        """``model-index`` as written (a list of models with ``results``), when present."""
        value = self._value("model-index")
        if value is None:
            return None
        if not isinstance(value, list):
            raise ArtifactError(
                f"{self.path}: model card front matter key 'model-index' is a YAML "
                f"{type(value).__name__}, expected a list: fix the front matter"
            )
        return value


def _split_front_matter(path: Path, text: str) -> tuple[str | None, str, int]:
    """Return ``(front matter text, body, line of the closing ---)``; no front matter → None."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n").rstrip() != "---":
        return None, text, 0
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n").rstrip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 1
    raise ArtifactError(
        f"{path}:1: model card front matter opened with --- is never closed: add a line with "
        f"--- after the YAML"
    )


def _load_front_matter(path: Path, fm: str) -> Any:
    """Safe-load the front matter, bounded in nodes (alias expansion included) and depth."""
    import yaml

    limit = MAX_YAML_NODES
    fix = "fix the YAML between the --- lines"

    class _TooMany(Exception):
        pass

    class _CountingLoader(yaml.SafeLoader):
        """SafeLoader that stops composing after ``limit`` nodes (bounds the parse work)."""

        nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
            self.nodes += 1
            if self.nodes > limit:
                raise _TooMany
            return super().compose_node(parent, index)

    def where(mark: Any) -> str:
        # +1: the YAML starts on the line after the opening ---; marks are 0-based.
        return f"{path}:{mark.line + 2}:{mark.column + 1}" if mark is not None else f"{path}"

    try:
        # The reader checks characters as soon as it is built: keep that inside the guard.
        loader = _CountingLoader(fm)
    except yaml.YAMLError as e:
        raise ArtifactError(
            f"{path}: model card front matter is not valid YAML ({_one_line(e)}): {fix}"
        ) from e
    try:
        try:
            node = loader.get_single_node()
        except _TooMany as e:
            raise ArtifactError(
                f"{path}: model card front matter has more than {limit} YAML nodes: {fix}"
            ) from e
        except RecursionError as e:
            raise ArtifactError(
                f"{path}: model card front matter nests too deeply to read: {fix}"
            ) from e
        except yaml.MarkedYAMLError as e:
            raise ArtifactError(
                f"{where(e.problem_mark)}: model card front matter is not valid YAML "
                f"({_one_line(e.problem)}): {fix}"
            ) from e
        except yaml.YAMLError as e:
            raise ArtifactError(
                f"{path}: model card front matter is not valid YAML ({_one_line(e)}): {fix}"
            ) from e
        if node is None:
            return {}
        _check_yaml_graph(path, node, limit, where, fix)
        try:
            return loader.construct_document(node)
        except yaml.MarkedYAMLError as e:
            # SafeLoader refuses python/* and other unknown tags here, without executing them.
            raise ArtifactError(
                f"{where(e.problem_mark)}: model card front matter cannot be read safely "
                f"({_one_line(e.problem)}): {fix}"
            ) from e
        except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
            raise ArtifactError(
                f"{path}: model card front matter cannot be read safely ({_one_line(e)}): {fix}"
            ) from e
    finally:
        loader.dispose()


def _one_line(problem: object) -> str:
    """Render a YAML error as one short line (PyYAML messages span lines, quote input)."""
    reason = getattr(problem, "reason", None)
    position = getattr(problem, "position", None)
    if isinstance(reason, str) and isinstance(position, int):  # yaml.reader.ReaderError
        text = f"{reason} at character {position}"
    else:
        text = str(problem)
    return quote(" ".join(text.split()))


def _check_yaml_graph(path: Path, root: Any, limit: int, where: Any, fix: str) -> None:
    """Refuse alias bombs, recursive aliases and repeated mapping keys in a composed graph.

    Aliases share one node object, so the composed graph is small even for a "billion laughs"
    document; what would explode is construction into Python objects and every later walk.
    The expanded size (each alias counted at its full size) is computed with memoisation, stopped
    at ``limit + 1``, iteratively (no recursion on hostile depth).
    """
    import yaml

    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _yaml_children(node)
            total = 1
            for child in children:
                total += size[id(child)]
                if total > limit:
                    total = limit + 1
                    break
            size[key] = total
            if total > limit:
                raise ArtifactError(
                    f"{path}: model card front matter expands to more than {limit} YAML nodes "
                    f"through aliases (an alias bomb): {fix}"
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise ArtifactError(
                f"{where(node.start_mark)}: model card front matter has a recursive alias: {fix}"
            )
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, _v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        raise ArtifactError(
                            f"{where(k.start_mark)}: model card front matter repeats the key "
                            f"'{quote(str(k.value))}': {fix}"
                        )
                    seen.add(k.value)
        on_path.add(key)
        stack.append((node, True))
        for child in _yaml_children(node):
            if id(child) not in size:
                stack.append((child, False))


def _yaml_children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def read_model_card(path: str | os.PathLike[str]) -> ModelCard:
    """Read a model card and its YAML front matter (``---`` lines at the top, as on the Hub).

    Raises:
        ArtifactError: missing, too large, not UTF-8, an unclosed or invalid front matter, an
            alias bomb, a recursive alias, a repeated key, an unsafe tag, or front matter that
            is not a mapping.
    """
    p = Path(path)
    fix = "fix the model card"
    data = read_bounded(p, MAX_CARD_BYTES, "model card", fix)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ArtifactError(
            f"{p}:{line}: model card is not valid UTF-8 at byte {e.start}: save it as UTF-8"
        ) from e
    text = text.lstrip("\ufeff")
    fm, body, _close = _split_front_matter(p, text)
    if fm is None:
        return ModelCard(path=p, front_matter=None, body=body, front_matter_line=0)
    if len(fm.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise ArtifactError(
            f"{p}: model card front matter is above the {MAX_FRONT_MATTER_BYTES}-byte limit: "
            f"move long content into the Markdown body"
        )
    value = _load_front_matter(p, fm)
    if not isinstance(value, dict):
        raise ArtifactError(
            f"{p}:2: model card front matter is a YAML {type(value).__name__}, not a mapping: "
            f"write key: value lines between the --- lines"
        )
    return ModelCard(path=p, front_matter=_frozen(value), body=body, front_matter_line=1)


# --------------------------------------------------------------------------------------------
# A whole release folder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseFolder:
    """The non-weight files of a release folder; ``None`` for each file that is absent.

    Weights are opened separately with
    :func:`albor_gates.artifacts.safetensors.open_checkpoint`.
    """

    path: Path
    config: ModelConfig | None
    generation_config: GenerationConfig | None
    tokenizer: TokenizerInfo | None
    tokenizer_config: TokenizerConfig | None
    card: ModelCard | None
    files: tuple[str, ...]


def read_release(folder: str | os.PathLike[str]) -> ReleaseFolder:
    """Read every known release file present in ``folder`` (missing files give ``None``).

    Raises:
        ArtifactError: ``folder`` is not a folder, or a present file is malformed (the
            first problem, as its reader reports it).
    """
    p = Path(folder)
    if not p.is_dir():
        raise ArtifactError(f"{p}: not a folder: name the release folder")

    def present(name: str) -> Path | None:
        q = p / name
        return q if q.is_file() else None

    cfg = present("config.json")
    gen = present("generation_config.json")
    tok = present("tokenizer.json")
    tcfg = present("tokenizer_config.json")
    card = present("README.md")
    return ReleaseFolder(
        path=p,
        config=read_config(cfg) if cfg else None,
        generation_config=read_generation_config(gen) if gen else None,
        tokenizer=read_tokenizer(tok) if tok else None,
        tokenizer_config=read_tokenizer_config(tcfg) if tcfg else None,
        card=read_model_card(card) if card else None,
        files=tuple(sorted(q.name for q in p.iterdir() if q.is_file())),
    )
