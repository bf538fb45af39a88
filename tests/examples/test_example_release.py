"""The bundled example release (examples/albor-tiny-v1) is real, self-consistent and loadable.

Every later test and the README's main command run on this folder, so it is checked here
against what examples/build_example_release.py claims in evidence/run.json: the val loss is
recomputed from the weights, the tokenizer round-trips the validation text, the per-epoch
evidence has exactly the fields of GATES.md §6.4 and agrees with the per-step log, and the card
and the safetensors header carry the identity fields (§7.2, §7.3).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors = pytest.importorskip("safetensors")
tokenizers = pytest.importorskip("tokenizers")

RELEASE = Path(__file__).resolve().parents[2] / "examples" / "albor-tiny-v1"
EPOCH_FIELDS = {
    "epoch",
    "train_loss",
    "val_loss",
    "train_ppl",
    "val_ppl",
    "optimizer_state_sha",
    "wall_seconds",
    "tokens_seen",
    "grad_norm_max",
}
STEP_FIELDS = {"step", "epoch", "loss", "lr", "grad_norm", "tokens_seen"}
PUBLISH_FILES = [
    "README.md",
    "LICENSE",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "model.safetensors",
    "eval/val.bin",
    "eval/val.txt",
    "eval/README.md",
    "evidence/run.json",
    "evidence/train-log.jsonl",
]


def _json(rel: str) -> Any:
    return json.loads((RELEASE / rel).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    return _json("evidence/run.json")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def model() -> Any:
    m = transformers.AutoModelForCausalLM.from_pretrained(str(RELEASE), dtype=torch.float32)
    m.eval()
    return m


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return transformers.AutoTokenizer.from_pretrained(str(RELEASE))


def test_publish_file_set_is_present_and_small() -> None:
    missing = [f for f in PUBLISH_FILES if not (RELEASE / f).is_file()]
    assert missing == []
    total = sum(p.stat().st_size for p in RELEASE.rglob("*") if p.is_file())
    assert total <= 12 * 1024 * 1024, f"release folder is {total} bytes"
    assert "Apache License" in (RELEASE / "LICENSE").read_text(encoding="utf-8")


def test_config_matches_the_qwen2_shape_and_the_tokenizer(run: dict[str, Any]) -> None:
    cfg = _json("config.json")
    assert cfg["architectures"] == ["Qwen2ForCausalLM"]
    assert cfg["model_type"] == "qwen2"
    assert cfg["hidden_size"] // cfg["num_attention_heads"] == 64
    assert cfg["num_attention_heads"] % cfg["num_key_value_heads"] == 0
    assert cfg["tie_word_embeddings"] is True
    assert cfg["rope_theta"] == 1_000_000.0 and cfg["rms_norm_eps"] == 1e-6
    tok = tokenizers.Tokenizer.from_file(str(RELEASE / "tokenizer.json"))
    n_tok = tok.get_vocab_size(with_added_tokens=True)
    # Padded like Qwen (151,643 + 22 → 151,936): the next multiple of 64 above the tokenizer.
    assert cfg["vocab_size"] % 64 == 0 and cfg["vocab_size"] - 64 < n_tok <= cfg["vocab_size"]
    assert cfg["eos_token_id"] == tok.token_to_id("<|endoftext|>")
    assert run["vocab"]["tokenizer_size"] == n_tok
    assert run["vocab"]["config_vocab_size"] == cfg["vocab_size"]


def test_safetensors_header_carries_identity_and_no_tied_head(run: dict[str, Any]) -> None:
    from safetensors import safe_open

    with safe_open(str(RELEASE / "model.safetensors"), framework="pt") as f:
        meta = f.metadata()
        names = sorted(f.keys())
        dtypes = {f.get_slice(n).get_dtype() for n in names}
        numel = sum(math.prod(f.get_slice(n).get_shape()) for n in names)
    assert meta == {
        "format": "pt",
        "architecture": "qwen2",
        "hf_architecture": "Qwen2ForCausalLM",
        "hf_model_type": "qwen2",
        "license": "Apache-2.0",
        "data_source": run["data"]["data_source"],
        "data_license": "PSF-2.0",
    }
    assert re.fullmatch(r"python-stdlib-\d+\.\d+\.\d+", meta["data_source"])
    assert dtypes == {"F16"}
    assert "lm_head.weight" not in names and "model.embed_tokens.weight" in names
    cfg = _json("config.json")
    # Qwen2 per layer: q/k/v weight + bias, o, gate/up/down, two norms = 12 tensors (§6.3).
    assert len(names) == 12 * cfg["num_hidden_layers"] + 2
    assert numel == run["param_count"]


def test_card_front_matter_parses_and_quotes_the_measured_loss(run: dict[str, Any]) -> None:
    text = (RELEASE / "README.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match is not None
    front = yaml.safe_load(match.group(1))
    assert front["license"] == "apache-2.0"
    assert front["pipeline_tag"] == "text-generation"
    assert front["library_name"] == "transformers"
    assert front["language"] and front["tags"] and front["datasets"]
    assert "base_model" not in front  # trained from scratch
    results = front["model-index"][0]["results"]
    assert results, "model-index needs non-empty results (HF rejects it otherwise, §7.3)"
    metrics = {m["type"]: m["value"] for m in results[0]["metrics"]}
    assert metrics["val_loss"] == round(run["final"]["val_loss"], 4)
    assert metrics["val_perplexity"] == round(run["final"]["val_perplexity"], 2)
    assert set(front["metrics"]) == set(metrics)


def test_epoch_metadata_has_exactly_the_seed_fields_and_a_falling_loss(
    run: dict[str, Any],
) -> None:
    files = sorted((RELEASE / "evidence").glob("epoch-*.metadata.json"))
    assert [f.name for f in files] == [f"epoch-{i:03d}.metadata.json" for i in range(len(files))]
    assert len(files) >= 3
    epochs = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    assert epochs == run["epochs"]
    for i, e in enumerate(epochs):
        assert set(e) == EPOCH_FIELDS
        assert e["epoch"] == i
        numbers = [v for k, v in e.items() if k != "optimizer_state_sha"]
        assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers)
        assert e["train_ppl"] == pytest.approx(math.exp(e["train_loss"]), rel=1e-12)
        assert e["val_ppl"] == pytest.approx(math.exp(e["val_loss"]), rel=1e-12)
        assert re.fullmatch(r"[0-9a-f]{64}", e["optimizer_state_sha"])
        assert e["wall_seconds"] > 0 and e["grad_norm_max"] > 0
    val = [e["val_loss"] for e in epochs]
    assert val[-1] < val[0] < run["init_val_loss"]
    assert all(
        b <= a + 0.05 for a, b in zip(val, val[1:], strict=False)
    )  # decreasing, allowing small noise
    assert val[-1] < 0.5 * math.log(_json("config.json")["vocab_size"])
    tokens = [e["tokens_seen"] for e in epochs]
    assert tokens == sorted(set(tokens))
    assert len({e["optimizer_state_sha"] for e in epochs}) == len(epochs)


def test_train_log_agrees_with_the_epoch_metadata() -> None:
    lines = (RELEASE / "evidence" / "train-log.jsonl").read_text(encoding="utf-8").splitlines()
    steps = [json.loads(line) for line in lines]
    assert all(set(s) == STEP_FIELDS for s in steps)
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    for f in sorted((RELEASE / "evidence").glob("epoch-*.metadata.json")):
        e = json.loads(f.read_text(encoding="utf-8"))
        mine = [s for s in steps if s["epoch"] == e["epoch"]]
        assert mine
        assert e["grad_norm_max"] == max(s["grad_norm"] for s in mine)
        assert e["tokens_seen"] == mine[-1]["tokens_seen"]
        assert e["train_loss"] == pytest.approx(np.mean([s["loss"] for s in mine]), rel=1e-9)


def test_tokenizer_round_trips_val_txt_and_matches_val_bin(tokenizer: Any) -> None:
    text = (RELEASE / "eval" / "val.txt").read_bytes().decode("utf-8")
    assert 0 < len(text.encode("utf-8")) <= 100_000
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids, skip_special_tokens=False) == text
    raw = tokenizers.Tokenizer.from_file(str(RELEASE / "tokenizer.json"))
    assert raw.encode(text).ids == ids
    val = np.fromfile(RELEASE / "eval" / "val.bin", dtype="<u2")
    assert 50_000 <= len(val) <= 100_000
    assert val[: len(ids)].tolist() == ids  # val.txt is the start of val.bin (eval/README.md)


def test_val_loss_recomputed_from_the_weights_matches_run_json(
    model: Any, run: dict[str, Any]
) -> None:
    ids = torch.from_numpy(np.fromfile(RELEASE / "eval" / "val.bin", dtype="<u2").astype(np.int64))
    seq = run["final"]["eval_seq_len"]
    n = (len(ids) - 1) // seq
    inputs = ids[: n * seq].view(n, seq)
    targets = ids[1 : n * seq + 1].view(n, seq)
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, 64):
            logits = model(input_ids=inputs[i : i + 64], use_cache=False).logits.float()
            total += torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), targets[i : i + 64].flatten(), reduction="sum"
            ).item()
    loss = total / (n * seq)
    assert loss == pytest.approx(run["final"]["val_loss"], rel=1e-4)
    assert run["final"]["val_perplexity"] == pytest.approx(math.exp(loss), rel=1e-3)


def test_recorded_continuation_is_the_decoded_ids(tokenizer: Any, run: dict[str, Any]) -> None:
    gen = run["generation"]
    assert gen["prompt"] == "def fibonacci(n):"
    assert len(gen["continuation_ids"]) == 64
    assert (
        tokenizer.decode(gen["continuation_ids"], skip_special_tokens=False)
        == (gen["continuation"])
    )
    assert tokenizer(gen["prompt"])["input_ids"] == gen["prompt_ids"]
