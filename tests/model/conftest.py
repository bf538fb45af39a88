"""Fixtures for the model-checker tests: tiny models of each family and one trained model.

Random models are built with transformers (an optional test dependency: tests that need it are
skipped with a reason when it is absent) and saved with ``save_pretrained`` (safetensors).
The "real" model is a tiny qwen2 trained in-process for a few seconds on Python source from
the standard library, with a byte-level BPE tokenizer trained on the same source: real weights,
a real tokenizer and real text, without any download.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from testlib.corpus import TRAIN_FILES, VAL_FILE, stdlib_text, train_byte_bpe

torch = pytest.importorskip("torch")

SMALL = dict(
    vocab_size=97,
    hidden_size=64,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=128,
)


def transformers_or_skip() -> Any:
    return pytest.importorskip("transformers", reason="transformers is not installed")


def build_random(path: Path, family: str, seed: int = 0, **overrides: Any) -> Any:
    """Save a random ``family`` model under ``path``; return the transformers model (eval)."""
    tf = transformers_or_skip()
    classes = {
        "llama": (tf.LlamaConfig, tf.LlamaForCausalLM),
        "mistral": (tf.MistralConfig, tf.MistralForCausalLM),
        "qwen2": (tf.Qwen2Config, tf.Qwen2ForCausalLM),
        "qwen3": (tf.Qwen3Config, tf.Qwen3ForCausalLM),
    }
    cfg_cls, model_cls = classes[family]
    kwargs = dict(SMALL)
    if family == "qwen3":
        kwargs["head_dim"] = 32
    kwargs.update(overrides)
    torch.manual_seed(seed)
    model = model_cls(cfg_cls(**kwargs)).eval()
    with torch.no_grad():
        # transformers' init gives near-zero logits; widen it so parity is a real test.
        for p in model.parameters():
            p.normal_(0.0, 0.2)
    model.save_pretrained(path)
    return model


@pytest.fixture
def random_model(tmp_path: Path) -> Any:
    def make(family: str, **overrides: Any) -> tuple[Path, Any]:
        path = tmp_path / family
        return path, build_random(path, family, **overrides)

    return make


@dataclass(frozen=True)
class TrainedModel:
    path: Path
    tokenizer_path: Path
    val_text_path: Path
    hf_model: Any
    tokenizer: Any


@pytest.fixture(scope="session")
def tokenizer_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A byte-level BPE tokenizer.json (384 ids, id 0 = ``<|endoftext|>``) trained on stdlib."""
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    train_byte_bpe(stdlib_text(TRAIN_FILES)).save(str(path))
    return path


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """A 2-layer qwen2 trained 120 steps on stdlib Python, with its own BPE tokenizer."""
    tf = transformers_or_skip()

    root = tmp_path_factory.mktemp("trained")
    text = stdlib_text(TRAIN_FILES)
    tok = train_byte_bpe(text)
    tok.save(str(root / "tokenizer.json"))
    ids = torch.tensor(tok.encode(text).ids, dtype=torch.long)

    torch.manual_seed(1234)
    shape = {**SMALL, "vocab_size": tok.get_vocab_size(), "intermediate_size": 192}
    cfg = tf.Qwen2Config(
        **{**shape, "max_position_embeddings": 256},
        tie_word_embeddings=True,
        rope_theta=10000.0,
        eos_token_id=0,
        bos_token_id=0,
    )
    model = tf.Qwen2ForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    seq = 64
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: threads only add contention on a busy machine
    for _ in range(120):
        starts = torch.randint(0, ids.numel() - seq - 1, (8,), generator=gen)
        batch = torch.stack([ids[s : s + seq + 1] for s in starts.tolist()])
        loss = model(batch[:, :-1], labels=batch[:, :-1].clone()).loss
        # labels=inputs makes transformers shift internally: next-token loss on the window.
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(root)
    val = root / "val.py"
    val.write_text(stdlib_text([VAL_FILE]), encoding="utf-8")
    return TrainedModel(root, root / "tokenizer.json", val, model, tok)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """Environment for child processes that import albor_gates from this checkout."""
    return _subprocess_env()


PYTHON = sys.executable


def _write_qwen2_checkpoint(
    path: Path,
    *,
    vocab_size: int = 1000,
    hidden_size: int = 64,
    intermediate_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    max_position_embeddings: int = 1024,
    seed: int = 0,
) -> Path:
    """Write a random qwen2 checkpoint (config.json + model.safetensors) without transformers."""
    import json

    from safetensors.torch import save_file

    path.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    hd = hidden_size // num_heads

    def r(*shape: int) -> Any:
        return torch.randn(*shape, generator=g) * 0.05

    t: dict[str, Any] = {"model.embed_tokens.weight": r(vocab_size, hidden_size)}
    t["model.norm.weight"] = torch.ones(hidden_size)
    for i in range(num_layers):
        b = f"model.layers.{i}."
        t[b + "input_layernorm.weight"] = torch.ones(hidden_size)
        t[b + "post_attention_layernorm.weight"] = torch.ones(hidden_size)
        t[b + "self_attn.q_proj.weight"] = r(num_heads * hd, hidden_size)
        t[b + "self_attn.q_proj.bias"] = r(num_heads * hd)
        t[b + "self_attn.k_proj.weight"] = r(num_kv_heads * hd, hidden_size)
        t[b + "self_attn.k_proj.bias"] = r(num_kv_heads * hd)
        t[b + "self_attn.v_proj.weight"] = r(num_kv_heads * hd, hidden_size)
        t[b + "self_attn.v_proj.bias"] = r(num_kv_heads * hd)
        t[b + "self_attn.o_proj.weight"] = r(hidden_size, num_heads * hd)
        t[b + "mlp.gate_proj.weight"] = r(intermediate_size, hidden_size)
        t[b + "mlp.up_proj.weight"] = r(intermediate_size, hidden_size)
        t[b + "mlp.down_proj.weight"] = r(hidden_size, intermediate_size)
    save_file(t, path / "model.safetensors")
    config = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "vocab_size": vocab_size,
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
        "num_key_value_heads": num_kv_heads,
        "max_position_embeddings": max_position_embeddings,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": True,
        "eos_token_id": 0,
    }
    (path / "config.json").write_text(json.dumps(config))
    return path


@pytest.fixture
def qwen2_checkpoint() -> Any:
    """``make(path, **shape)`` writes a random qwen2 checkpoint without transformers."""
    return _write_qwen2_checkpoint
