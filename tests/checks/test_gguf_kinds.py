"""gguf.* and consumer.* kinds on a small REAL model: a Qwen2 trained in-process on stdlib Python.

The model (hidden 256 so Q4_K applies to most matrices, intermediate 288 so ffn_down falls back
to Q5_0, tied embeddings, a 384-id byte-level BPE trained on the same text) is exported in
f16 / q8_0 / q4_k by the gates themselves; the parity figures per quant are asserted with the
bundle's thresholds and printed by ``test_parity_figures_per_quant`` (``pytest -s``).
"""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import Status

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers", reason="transformers is not installed")

TRAIN_FILES = ["textwrap.py", "string.py", "shlex.py", "fnmatch.py", "glob.py", "bisect.py"]
VAL_FILE = "colorsys.py"
PROMPTS = ["def fibonacci(n):", "import os\n", "class Stack:\n", "for i in range(10):\n"]


def _stdlib(names: list[str]) -> str:
    root = Path(sysconfig.get_paths()["stdlib"])
    return "".join((root / n).read_text(encoding="utf-8") for n in names)


def _train(root: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    text = _stdlib(TRAIN_FILES)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        [text],
        trainers.BpeTrainer(
            vocab_size=384,
            special_tokens=["<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    ids = torch.tensor(tok.encode(text).ids, dtype=torch.long)
    torch.manual_seed(1234)
    cfg = transformers.Qwen2Config(
        vocab_size=tok.get_vocab_size(),
        hidden_size=256,
        intermediate_size=288,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        eos_token_id=0,
        bos_token_id=0,
    )
    model = transformers.Qwen2ForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    seq = 64
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: threads only add contention on a busy machine
    model.train()
    for _ in range(150):
        starts = torch.randint(0, ids.numel() - seq - 1, (8,), generator=gen)
        batch = torch.stack([ids[s : s + seq] for s in starts.tolist()])
        loss = model(batch, labels=batch.clone()).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(root)
    tok.save(str(root / "tokenizer.json"))
    (root / "tokenizer_config.json").write_text(
        json.dumps({"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": None})
    )
    (root.parent / "val.py").write_text(_stdlib([VAL_FILE]), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("gk") / "release")


def spec(rel: Path, gates: list[dict[str, Any]], **extra_artifacts: Any) -> Path:
    arts: dict[str, Any] = {
        "model": {"kind": "model", "path": str(rel)},
        "tokens": {"kind": "tokens", "path": str(rel.parent / "val.py")},
        "tokenizer": {"kind": "tokenizer", "path": str(rel / "tokenizer.json")},
        "gguf": {"kind": "model", "path": str(rel.parent / "absent.gguf"), "optional": True},
        **extra_artifacts,
    }
    body = {"id": "s", "version": "1", "title": "S", "artifacts": arts, "gates": gates}
    path = rel.parent / f"spec-{abs(hash(json.dumps(gates, sort_keys=True)))}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def gate(
    gid: str, check: str, params: dict[str, Any], expect: dict[str, Any] | None = None, **roles: str
) -> dict[str, Any]:
    g: dict[str, Any] = {
        "id": gid,
        "title": "T.",
        "check": check,
        "params": params,
        "artifacts": roles or {"model": "model"},
    }
    if expect is not None:
        g["expect"] = expect
    return g


def results(path: Path) -> dict[str, Any]:
    return {r.gate_id: r for r in evaluate(path).results}


PARITY_ROLES = {"model": "model", "gguf": "gguf", "tokenizer": "tokenizer"}


def parity_gates(quant: str) -> list[dict[str, Any]]:
    q = quant.upper()
    return [
        gate(f"{q}-EXPORT", "gguf.export", {"quant": quant}),
        gate(f"{q}-SIZE", "gguf.export", {"quant": quant, "measure": "size_ratio"}, {"gt": 0}),
        gate(
            f"{q}-COUNT",
            "gguf.export",
            {"quant": quant, "measure": "tensor_count_delta"},
            {"eq": 0},
        ),
        gate(
            f"{q}-COS",
            "gguf.tensor_parity",
            {"quant": quant},
            {"ge": 0.99},
            model="model",
            gguf="gguf",
        ),
        gate(
            f"{q}-DRIFT",
            "gguf.tensor_parity",
            {"quant": quant, "measure": "max_l2_drift"},
            {"lt": 0.2},
            model="model",
            gguf="gguf",
        ),
        gate(
            f"{q}-INEXACT",
            "gguf.tensor_parity",
            {"quant": quant, "measure": "inexact"},
            {"eq": 0},
            model="model",
            gguf="gguf",
        ),
        gate(
            f"{q}-FIRST",
            "gguf.logit_parity",
            {"quant": quant, "prompts": PROMPTS},
            {"ge": 0.99},
            **PARITY_ROLES,
        ),
        gate(
            f"{q}-TOP1",
            "gguf.logit_parity",
            {"quant": quant, "prompts": PROMPTS, "measure": "top1_disagreements"},
            {"eq": 0},
            **PARITY_ROLES,
        ),
        gate(
            f"{q}-PPL",
            "gguf.ppl_ratio",
            {"quant": quant, "seq_len": 128, "max_tokens": 2049},
            {"lt": 1.1},
            model="model",
            tokens="tokens",
            gguf="gguf",
            tokenizer="tokenizer",
        ),
    ]


FIGURES: dict[str, dict[str, Any]] = {}


@pytest.mark.parametrize("quant", ["f16", "q8_0", "q4_k"])
def test_parity_figures_per_quant(release: Path, quant: str) -> None:
    r = results(spec(release, parity_gates(quant)))
    q = quant.upper()
    for gid, res in r.items():
        assert res.status is Status.PASS, (gid, res.message, res.summary)
    top1 = r[f"{q}-TOP1"].details
    FIGURES[quant] = {
        "size_ratio": round(r[f"{q}-SIZE"].value, 4),
        "min_tensor_cosine": r[f"{q}-COS"].value,
        "by_type": {k: v["min_cosine"] for k, v in r[f"{q}-COS"].details["by_type"].items()},
        "max_l2_drift": r[f"{q}-DRIFT"].value,
        "first_token_cosine": r[f"{q}-FIRST"].value,
        "top1": f"{top1['top1_agreement']:.4f} of {top1['steps']} "
        f"({top1['top1_disagreements']} real, {top1['near_ties']} near-ties)",
        "ppl_ratio": r[f"{q}-PPL"].value,
    }
    print(f"\n{quant}: {json.dumps(FIGURES[quant], indent=1)}")
    assert top1["steps"] == 64 * len(PROMPTS)
    assert r[f"{q}-FIRST"].details["gguf_tokenizer_mismatches"] == 0
    if quant == "f16":
        # f16 from an fp32 source: norms stay F32 and are bit-identical, matrices round.
        assert r[f"{q}-INEXACT"].details["by_type"]["F32"]["inexact"] == 0
        assert r[f"{q}-COS"].value > 0.99999
    if quant == "q4_k":
        types = r[f"{q}-COS"].details["by_type"]
        assert set(types) == {"F32", "Q4_K", "Q5_0"}  # ffn_down's 288-long rows fall back
        assert r[f"{q}-SIZE"].value < 0.25


def test_consumer_transformers_matches_the_reference_decoder(release: Path) -> None:
    r = results(spec(release, [gate("HF", "consumer.transformers", {"prompts": PROMPTS})]))["HF"]
    print(r.message, r.summary)
    assert r.status is Status.PASS, r.message


def test_consumer_llama_cpp_generates(release: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    r = results(
        spec(
            release,
            [
                gate("LLAMA", "consumer.llama_cpp", {}, model="model"),
                gate(
                    "LLAMA-COS",
                    "consumer.llama_cpp",
                    {"measure": "first_token_cosine", "prompts": PROMPTS},
                    {"ge": 0.999},
                    model="model",
                ),
            ],
        )
    )
    for x in r.values():
        print(x.message, x.summary, x.details)
        assert x.status is Status.PASS, x.message
