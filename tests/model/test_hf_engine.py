"""Any causal LM through transformers: `gates verify` on families outside the reference decoder.

Tiny random models of gpt_neox, phi (an output head with a bias), gemma and olmo, built with
transformers here; the val loss `gates verify` reports must equal transformers' own
computation (its forward's logits, cross-entropy in fp64) to 1e-5 relative in fp32.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

VOCAB = 320
SEQ = 16
WINDOWS = 5

COMMON = {"vocab_size": VOCAB, "hidden_size": 64, "intermediate_size": 96,
          "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 128}  # fmt: skip
FAMILIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "gpt_neox": ("GPTNeoXConfig", "GPTNeoXForCausalLM", {"rotary_pct": 0.5}),
    "phi": ("PhiConfig", "PhiForCausalLM", {"partial_rotary_factor": 0.5}),
    "gemma": ("GemmaConfig", "GemmaForCausalLM", {"num_key_value_heads": 2, "head_dim": 16}),
    "olmo": ("OlmoConfig", "OlmoForCausalLM", {"num_key_value_heads": 2}),
}


def _build(family: str, dst: Path) -> Any:
    cfg_name, cls_name, extra = FAMILIES[family]
    cfg = getattr(transformers, cfg_name)(**COMMON, **extra, bos_token_id=1, eos_token_id=2)
    torch.manual_seed(7)
    model = getattr(transformers, cls_name)(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 1:  # norms start at 1 and biases at 0: make them informative
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(dst, safe_serialization=True)
    return model


def _reference_loss(model: Any, ids: np.ndarray) -> float:
    """transformers' own computation: its logits, next-token cross-entropy summed in fp64."""
    total, count = 0.0, 0
    with torch.no_grad():
        for w in range(WINDOWS):
            window = torch.tensor(ids[w * SEQ : w * SEQ + SEQ + 1][None], dtype=torch.long)
            logits = model(input_ids=window[:, :-1]).logits.double()
            total += float(
                torch.nn.functional.cross_entropy(logits[0], window[0, 1:], reduction="sum")
            )
            count += SEQ
    return total / count


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_val_loss_equals_transformers_own_computation(gates, tmp_path: Path, family: str) -> None:
    rel = tmp_path / family
    model = _build(family, rel)
    assert family not in ("llama", "mistral", "qwen2", "qwen3")
    ids = np.random.default_rng(5).integers(0, VOCAB, WINDOWS * SEQ + 1)
    tokens = tmp_path / "ids.npy"
    np.save(tokens, ids)
    r = gates("verify", str(rel), "--val-tokens", str(tokens), "--seq-len", str(SEQ),
              "--device", "cpu", "--dtype", "float32", "-f", "json")  # fmt: skip
    rec = json.loads(r.out)
    gate = next(g for g in rec["gates"] if g["id"] == "VAL-LOSS")
    assert gate["status"] in ("PASS", "WARN", "FAIL"), gate
    details = gate["details"]
    assert details["engine"] == "transformers"
    assert details["tokens_evaluated"] == WINDOWS * SEQ
    expected = _reference_loss(model, ids)
    assert math.isclose(details["loss"], expected, rel_tol=1e-5), (details["loss"], expected)
    init = next(g for g in rec["gates"] if g["id"] == "INIT-LOSS-SIGNAL-GAP")
    assert init["status"] != "ERROR", init


def test_smoke_and_throughput_run_on_the_transformers_engine(gates, tmp_path: Path) -> None:
    from testlib.hf import make_bpe_tokenizer

    rel = tmp_path / "neox"
    model = _build("gpt_neox", rel)
    make_bpe_tokenizer("qwen2", vocab_size=300).save(str(rel / "tokenizer.json"))
    r = gates("verify", str(rel), "--prompt", "def f(n):", "--max-new-tokens", "6", "--bench",
              "--bench-tokens", "4", "--bench-runs", "2", "--device", "cpu", "-f", "json")  # fmt: skip
    rec = json.loads(r.out)
    smoke = next(g for g in rec["gates"] if g["id"] == "SMOKE-OUTPUT")
    assert smoke["details"]["engine"] == "transformers", smoke
    out = smoke["details"]["outputs"][0]
    # the greedy continuation equals transformers' own generate()
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(rel / "tokenizer.json"))
    prompt = tok.encode("def f(n):", add_special_tokens=False).ids
    gen = model.generate(
        torch.tensor([prompt]), max_new_tokens=6, do_sample=False, eos_token_id=2, pad_token_id=2
    )[0, len(prompt) :].tolist()
    gen = gen[: gen.index(2)] if 2 in gen else gen
    assert out["new_tokens"] == len(gen)
    assert out["output"] == tok.decode(gen, skip_special_tokens=False)
    bench = next(g for g in rec["gates"] if g["id"] == "BENCH-TOKENS-PER-S")
    assert bench["details"]["engine"] == "transformers" and bench["value"] > 0, bench


def test_a_nonlinear_output_head_is_refused_in_one_line(tmp_path: Path) -> None:
    from albor_gates.errors import ArtifactError
    from albor_gates.model.hf_engine import load_hf_model

    rel = tmp_path / "capped"
    rel.mkdir()
    (rel / "config.json").write_text(
        json.dumps({"model_type": "gemma2", "final_logit_softcapping": 30.0})
    )
    with pytest.raises(ArtifactError) as e:
        load_hf_model(rel, torch.device("cpu"))
    assert str(e.value) == (
        f"{rel / 'config.json'}: final_logit_softcapping = 30.0 makes the logits non-linear in "
        f"the hidden state; the chunked loss of the transformers engine cannot reproduce gemma2 "
        f"exactly: evaluate it with transformers directly"
    )


def test_consumer_transformers_skips_where_transformers_is_the_engine(
    gates, tmp_path: Path, write
) -> None:
    from testlib.hf import make_bpe_tokenizer

    rel = tmp_path / "rel"
    _build("olmo", rel)
    make_bpe_tokenizer("qwen2", vocab_size=300).save(str(rel / "tokenizer.json"))
    spec = write(
        "spec.yaml",
        f"""
        id: parity
        version: 1.0.0
        title: parity
        artifacts:
          model: {{kind: model, path: {rel}}}
        gates:
          - {{id: P, title: Parity., check: consumer.transformers, artifact: model}}
        """,
    )
    rec = json.loads(gates("check", str(spec), "-f", "json").out)
    gate = rec["gates"][0]
    assert (gate["status"], gate["message"]) == (
        "SKIPPED",
        "the reference decoder has no recipe for this family (transformers computes its "
        "numbers), so there is no independent engine to compare",
    )
