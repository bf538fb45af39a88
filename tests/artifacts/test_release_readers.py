"""Release-folder readers: config.json, generation_config.json, tokenizer files, model card."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from albor_gates.artifacts.card import MAX_YAML_NODES, read_model_card
from albor_gates.artifacts.config import read_config, read_generation_config
from albor_gates.artifacts.release import read_release
from albor_gates.artifacts.tokenizer import AddedTokenInfo, read_tokenizer, read_tokenizer_config
from albor_gates.errors import ArtifactError

CONFIG_FIX = "fix config.json (it is what transformers reads to build the model)"
CARD_FIX = "fix the YAML between the --- lines"
# The spec reader's guard (spec/yamlsafe.py) counts alias expansions and plain nodes alike.
NODES_PROBLEM = (
    "more than 10000 YAML nodes after alias expansion (an alias bomb or a generated file; write "
    "the values out or split the file)"
)

QWEN2_CONFIG: dict[str, Any] = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "vocab_size": 151936,
    "hidden_size": 896,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "intermediate_size": 4864,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-06,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
}


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj, indent=2))
    return path


ErrorOf = Callable[..., str]


# ----------------------------------------------------------------------------- config.json


def test_qwen2_config(tmp_path: Path) -> None:
    cfg = read_config(write_json(tmp_path / "config.json", QWEN2_CONFIG))
    assert cfg.architectures == ("Qwen2ForCausalLM",)
    assert cfg.model_type == "qwen2"
    assert (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers) == (151936, 896, 24)
    assert (cfg.num_attention_heads, cfg.num_key_value_heads) == (14, 2)
    assert cfg.head_dim is None and cfg.resolved_head_dim == 64
    assert cfg.intermediate_size == 4864 and cfg.max_position_embeddings == 32768
    assert cfg.rope_theta == 1e6 and cfg.rms_norm_eps == 1e-6
    assert cfg.tie_word_embeddings is True and cfg.torch_dtype == "bfloat16"
    assert cfg.raw["model_type"] == "qwen2"
    assert cfg.keys["hidden_size"] == "hidden_size"
    with pytest.raises(TypeError):
        cfg.raw["model_type"] = "llama"  # type: ignore[index]


def test_gpt2_aliases_and_defaults(tmp_path: Path) -> None:
    cfg = read_config(
        write_json(
            tmp_path / "config.json",
            {
                "architectures": ["GPT2LMHeadModel"],
                "model_type": "gpt2",
                "vocab_size": 50257,
                "n_embd": 768,
                "n_layer": 12,
                "n_head": 12,
                "n_positions": 1024,
                "n_inner": None,
                "layer_norm_epsilon": 1e-05,
            },
        )
    )
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (768, 12, 12)
    assert cfg.max_position_embeddings == 1024 and cfg.layer_norm_eps == 1e-5
    assert cfg.intermediate_size is None and cfg.resolved_intermediate_size == 3072
    assert cfg.resolved_num_key_value_heads == 12 and cfg.resolved_head_dim == 64
    assert cfg.resolved_tie_word_embeddings is True
    assert (
        cfg.keys["hidden_size"] == "n_embd" and cfg.keys["layer_norm_eps"] == "layer_norm_epsilon"
    )


def test_rope_theta_in_rope_parameters(tmp_path: Path) -> None:
    obj = {k: v for k, v in QWEN2_CONFIG.items() if k != "rope_theta"}
    obj["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0}
    cfg = read_config(write_json(tmp_path / "config.json", obj))
    assert cfg.rope_theta == 10000.0 and cfg.keys["rope_theta"] == "rope_parameters.rope_theta"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("vocab_size", "151936", '"151936" (a JSON string), expected a non-negative integer'),
        ("hidden_size", 896.0, "896.0 (a JSON number), expected a non-negative integer"),
        ("num_hidden_layers", True, "true (a JSON boolean), expected a non-negative integer"),
        ("num_attention_heads", -14, "-14 (a JSON integer), expected a non-negative integer"),
        ("rope_theta", "1e6", '"1e6" (a JSON string), expected a finite number'),
        ("tie_word_embeddings", "yes", '"yes" (a JSON string), expected true or false'),
        ("model_type", ["qwen2"], '["qwen2"] (a JSON array), expected a string'),
        ("architectures", [1], "[1] (a JSON array), expected a list of strings"),
    ],
)
def test_config_field_of_the_wrong_type(
    tmp_path: Path, key: str, value: Any, expected: str, artifact_error: ErrorOf
) -> None:
    path = write_json(tmp_path / "config.json", {**QWEN2_CONFIG, key: value})
    assert (
        artifact_error(read_config, path)
        == f"{path}: config.json key '{key}' is {expected}: {CONFIG_FIX}"
    )


def test_config_infinite_number(tmp_path: Path, artifact_error: ErrorOf) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"rms_norm_eps": Infinity}')
    assert artifact_error(read_config, path) == (
        f"{path}: config.json key 'rms_norm_eps' is Infinity (a JSON number), expected a finite "
        f"number: {CONFIG_FIX}"
    )


def test_config_not_json_not_object_repeated_missing_too_big(
    tmp_path: Path, artifact_error: ErrorOf
) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "vocab_size": 10,\n  "hidden_size": \n}')
    assert artifact_error(read_config, path) == (
        f"{path}:4:1: config.json is not valid JSON (Expecting value): {CONFIG_FIX}"
    )
    path.write_text("[]")
    assert artifact_error(read_config, path) == (
        f"{path}: config.json is a JSON array, not an object: {CONFIG_FIX}"
    )
    path.write_text('{"vocab_size": 10, "vocab_size": 20}')
    assert artifact_error(read_config, path) == (
        f"{path}: config.json repeats the key 'vocab_size' in the top-level object: JSON readers "
        f"disagree on which value wins; remove the repeat"
    )
    path.write_bytes(b'{"model_type": "\xff"}')
    assert artifact_error(read_config, path) == (
        f"{path}:1: config.json is not valid UTF-8 at byte 16: {CONFIG_FIX}"
    )
    assert artifact_error(read_config, tmp_path / "none.json") == (
        f"{tmp_path / 'none.json'}: no such file: config.json is missing"
    )
    with path.open("wb") as f:
        f.truncate(10_000_001)
    assert artifact_error(read_config, path) == (
        f"{path}: config.json is 10000001 bytes, above the 10000000-byte limit: {CONFIG_FIX}"
    )


# ----------------------------------------------------------------------------- generation_config


def test_generation_config(tmp_path: Path, artifact_error: ErrorOf) -> None:
    path = write_json(
        tmp_path / "generation_config.json",
        {
            "bos_token_id": 151643,
            "eos_token_id": [151645, 151643],
            "do_sample": True,
            "temperature": 0.7,
            "top_p": 0.8,
            "top_k": 20,
            "repetition_penalty": 1.05,
            "max_new_tokens": 512,
        },
    )
    gen = read_generation_config(path)
    assert gen.bos_token_ids == (151643,) and gen.eos_token_ids == (151645, 151643)
    assert gen.pad_token_ids == () and gen.max_length is None and gen.max_new_tokens == 512
    assert (gen.do_sample, gen.temperature, gen.top_p, gen.top_k) == (True, 0.7, 0.8, 20)
    assert gen.repetition_penalty == 1.05
    write_json(path, {"eos_token_id": "</s>"})
    assert artifact_error(read_generation_config, path) == (
        f"{path}: generation_config.json key 'eos_token_id' is \"</s>\" (a JSON string), "
        f"expected a token id or a list of token ids: fix generation_config.json"
    )


# ----------------------------------------------------------------------------- tokenizers


def make_bpe_tokenizer(path: Path) -> None:
    vocab = {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[("a", "b"), ("ab", "c")]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.add_special_tokens(["<|endoftext|>", "<|im_start|>"])
    tok.add_tokens(["<extra>"])
    tok.save(str(path))


def test_tokenizer_json(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    make_bpe_tokenizer(path)
    info = read_tokenizer(path)
    assert info.model_type == "BPE"
    assert info.vocab_size == 5 and info.vocab_size_with_added == 8
    assert info.max_token_id == 7
    assert info.added_tokens == (
        AddedTokenInfo(id=5, content="<|endoftext|>", special=True),
        AddedTokenInfo(id=6, content="<|im_start|>", special=True),
        AddedTokenInfo(id=7, content="<extra>", special=False),
    )
    assert info.special_tokens == ("<|endoftext|>", "<|im_start|>")
    assert info.pre_tokenizer == "ByteLevel" and info.normalizer is None


def test_tokenizer_json_refused_by_tokenizers(tmp_path: Path, artifact_error: ErrorOf) -> None:
    path = write_json(tmp_path / "tokenizer.json", {"model": {"type": "Nonsense"}})
    msg = artifact_error(read_tokenizer, path)
    assert msg.startswith(f"{path}: tokenizers cannot load tokenizer.json (")
    assert msg.endswith(
        "): re-save the tokenizer with tokenizers or transformers (save_pretrained)"
    )
    write_json(path, {"version": "1.0"})
    assert artifact_error(read_tokenizer, path) == (
        f"{path}: tokenizer.json key 'model' is a JSON null, not an object: re-save the "
        f"tokenizer with tokenizers or transformers (save_pretrained)"
    )


def test_tokenizer_json_with_a_repeated_vocabulary_entry(
    tmp_path: Path, artifact_error: ErrorOf
) -> None:
    path = tmp_path / "tokenizer.json"
    make_bpe_tokenizer(path)
    doc = path.read_text()
    start = doc.index('"vocab": {') + len('"vocab": {')
    path.write_text(doc[:start] + '"c": 9, ' + doc[start:])
    assert artifact_error(read_tokenizer, path) == (
        f"{path}: tokenizer.json repeats the key 'c' in 'vocab': JSON readers disagree on which "
        f"value wins; remove the repeat"
    )


def test_tokenizer_config(tmp_path: Path, artifact_error: ErrorOf) -> None:
    path = write_json(
        tmp_path / "tokenizer_config.json",
        {
            "tokenizer_class": "Qwen2Tokenizer",
            "model_max_length": 131072,
            "bos_token": None,
            "eos_token": {"content": "<|im_end|>", "lstrip": False},
            "pad_token": "<|endoftext|>",
            "chat_template": [
                {"name": "tool", "template": "T"},
                {"name": "default", "template": "D"},
            ],
            "added_tokens_decoder": {"151643": {"content": "<|endoftext|>", "special": True}},
        },
    )
    cfg = read_tokenizer_config(path)
    assert cfg.tokenizer_class == "Qwen2Tokenizer" and cfg.model_max_length == 131072
    assert cfg.bos_token is None and cfg.eos_token == "<|im_end|>"
    assert cfg.pad_token == "<|endoftext|>" and cfg.unk_token is None
    assert cfg.chat_template == "D" and cfg.chat_template_path == path
    assert cfg.added_tokens_decoder == {151643: "<|endoftext|>"}
    assert cfg.named_tokens == {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
    write_json(path, {"added_tokens_decoder": {"x": {"content": "a"}}})
    assert artifact_error(read_tokenizer_config, path) == (
        f'{path}: tokenizer_config.json key \'added_tokens_decoder.x\' is {{"content": "a"}} (a '
        f"JSON object), expected an AddedToken object under a numeric id: re-save the tokenizer "
        f"with transformers (save_pretrained)"
    )
    write_json(path, {"eos_token": 5})
    assert artifact_error(read_tokenizer_config, path) == (
        f"{path}: tokenizer_config.json key 'eos_token' is 5 (a JSON integer), expected a token "
        f"string or an AddedToken object with 'content': re-save the tokenizer with transformers "
        f"(save_pretrained)"
    )


def test_a_chat_template_saved_beside_the_config(tmp_path: Path, artifact_error: ErrorOf) -> None:
    """transformers ≥ 4.43 saves the template as chat_template.jinja; the key wins when both."""
    path = write_json(tmp_path / "tokenizer_config.json", {"eos_token": "</s>"})
    assert read_tokenizer_config(path).chat_template is None
    jinja = tmp_path / "chat_template.jinja"
    jinja.write_text("{{ messages[0]['content'] }}", encoding="utf-8")
    cfg = read_tokenizer_config(path)
    assert (cfg.chat_template, cfg.chat_template_path) == ("{{ messages[0]['content'] }}", jinja)
    write_json(path, {"chat_template": "K"})
    assert read_tokenizer_config(path).chat_template_path == path
    write_json(path, {})
    jinja.write_bytes(b"{{ \xff }}")
    assert artifact_error(read_tokenizer_config, path) == (
        f"{jinja}: byte 3 is not UTF-8: re-save the tokenizer with transformers (save_pretrained)"
    )


# ----------------------------------------------------------------------------- model card

CARD = """---
license: apache-2.0
library_name: transformers
pipeline_tag: text-generation
base_model: Qwen/Qwen2.5-Coder-0.5B-Instruct
tags: [code, albor]
model-index:
- name: albor-370m-v1
  results: []
---

# albor-370m-v1

Body text.
"""


def test_model_card_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(CARD)
    card = read_model_card(path)
    assert card.license == "apache-2.0" and card.library_name == "transformers"
    assert card.pipeline_tag == "text-generation"
    assert card.base_model == ("Qwen/Qwen2.5-Coder-0.5B-Instruct",)
    assert card.tags == ("code", "albor") and card.datasets == ()
    assert card.model_index == [{"name": "albor-370m-v1", "results": []}]
    assert card.body.startswith("\n# albor-370m-v1")
    assert card.front_matter_line == 1


def test_model_card_without_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("# Title\n\n---\nnot front matter\n---\n")
    card = read_model_card(path)
    assert card.front_matter is None and card.license is None and card.tags == ()
    assert card.body.startswith("# Title")


def test_empty_front_matter_is_an_empty_mapping(
    tmp_path: Path, card_error: Callable[[str], tuple[Path, str]]
) -> None:
    path = tmp_path / "README.md"
    path.write_text("---\n---\nbody\n")
    assert read_model_card(path).front_matter == {}


@pytest.fixture
def card_error(tmp_path: Path, artifact_error: ErrorOf) -> Callable[[str], tuple[Path, str]]:
    """Write README.md with ``text`` and return its path and the one-line read error."""

    def run(text: str) -> tuple[Path, str]:
        path = tmp_path / "README.md"
        path.write_text(text)
        return path, artifact_error(read_model_card, path)

    return run


def test_card_unclosed_front_matter(card_error: Callable[[str], tuple[Path, str]]) -> None:
    path, msg = card_error("---\nlicense: mit\n")
    assert msg == (
        f"{path}:1: model card front matter opened with --- is never closed: add a line with --- "
        f"after the YAML"
    )


def test_card_invalid_yaml_has_line_and_column(
    card_error: Callable[[str], tuple[Path, str]],
) -> None:
    path, msg = card_error("---\nlicense: mit\ntags: [a, b\n---\n")
    assert msg == (
        f"{path}:4:1: model card front matter: YAML syntax error: did not find expected ',' or "
        f"']': {CARD_FIX}"
    )


def test_card_alias_bomb(card_error: Callable[[str], tuple[Path, str]]) -> None:
    lines = ["---", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
        prev = name
    lines.append("---")
    path, msg = card_error("\n".join(lines) + "\n")
    assert msg == (f"{path}:2:44: model card front matter: {NODES_PROBLEM}: {CARD_FIX}")


def test_card_too_many_nodes(card_error: Callable[[str], tuple[Path, str]]) -> None:
    items = "\n".join(f"- t{i}" for i in range(MAX_YAML_NODES + 5))
    path, msg = card_error(f"---\ntags:\n{items}\n---\n")
    assert msg == f"{path}:10001:3: model card front matter: {NODES_PROBLEM}: {CARD_FIX}"


def test_card_recursive_alias(card_error: Callable[[str], tuple[Path, str]]) -> None:
    path, msg = card_error("---\na: &x\n  b: *x\n---\n")
    assert msg == (
        f"{path}:2:4: model card front matter: recursive YAML alias (an anchor may not contain "
        f"itself): {CARD_FIX}"
    )


def test_card_python_tag_is_never_executed(
    tmp_path: Path, card_error: Callable[[str], tuple[Path, str]]
) -> None:
    trap = tmp_path / "pwned"
    text = f"---\nx: !!python/object/apply:pathlib.Path.touch [{str(trap)!r}]\n---\n"
    path, msg = card_error(text)
    assert msg == (
        f"{path}:2:4: model card front matter: unsupported YAML tag "
        "'tag:yaml.org,2002:python/object/apply:pathlib.Path.touch' (remove the tag): "
        f"{CARD_FIX}"
    )
    assert "python/object/apply" in msg
    assert not trap.exists()


def test_card_repeated_key(card_error: Callable[[str], tuple[Path, str]]) -> None:
    path, msg = card_error("---\nlicense: mit\nlicense: apache-2.0\n---\n")
    assert msg == (
        f"{path}:3:1: model card front matter: duplicate key 'license' (YAML keeps only the last "
        f"one silently; remove one of them): {CARD_FIX}"
    )


def test_card_front_matter_not_a_mapping(card_error: Callable[[str], tuple[Path, str]]) -> None:
    path, msg = card_error("---\n- a\n- b\n---\n")
    assert msg == (
        f"{path}:2: model card front matter is a YAML list, not a mapping: write key: value "
        f"lines between the --- lines"
    )


def test_card_field_of_the_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("---\nlicense: [mit]\ntags: 3\n---\n")
    card = read_model_card(path)
    with pytest.raises(ArtifactError) as exc:
        _ = card.license
    assert str(exc.value) == (
        f"{path}: model card front matter key 'license' is a YAML list, expected a string: fix "
        f"the front matter"
    )
    with pytest.raises(ArtifactError) as exc:
        _ = card.tags
    assert str(exc.value) == (
        f"{path}: model card front matter key 'tags' is a YAML int, expected a string or a list "
        f"of strings: fix the front matter"
    )


# ----------------------------------------------------------------------------- folder


def test_read_release_folder(tmp_path: Path) -> None:
    write_json(tmp_path / "config.json", QWEN2_CONFIG)
    make_bpe_tokenizer(tmp_path / "tokenizer.json")
    (tmp_path / "README.md").write_text(CARD)
    rel = read_release(tmp_path)
    assert rel.config is not None and rel.config.model_type == "qwen2"
    assert rel.tokenizer is not None and rel.tokenizer.vocab_size == 5
    assert rel.card is not None and rel.card.license == "apache-2.0"
    assert rel.generation_config is None and rel.tokenizer_config is None
    assert rel.files == ("README.md", "config.json", "tokenizer.json")
    with pytest.raises(ArtifactError) as exc:
        read_release(tmp_path / "config.json")
    assert str(exc.value) == f"{tmp_path / 'config.json'}: not a folder: name the release folder"
