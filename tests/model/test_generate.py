"""Greedy generation with the KV cache, and the decode benchmark."""

from __future__ import annotations

from typing import Any

import pytest

from albor_gates.errors import UsageError
from albor_gates.model.bench import measure_throughput
from albor_gates.model.decoder import load_model
from albor_gates.model.generate import greedy_generate
from albor_gates.model.textcheck import check_output

torch = pytest.importorskip("torch")

PROMPT = [5, 17, 3, 44, 60, 2]


def test_greedy_tokens_equal_transformers_generate(random_model: Any) -> None:
    path, hf = random_model("qwen2", tie_word_embeddings=True)
    ours = greedy_generate(load_model(path, "cpu"), PROMPT, max_new_tokens=24, ignore_eos=True)
    with torch.no_grad():
        ref = hf.generate(
            torch.tensor([PROMPT]),
            max_new_tokens=24,
            min_new_tokens=24,
            do_sample=False,
            pad_token_id=0,
        )
    assert list(ours.token_ids) == ref[0, len(PROMPT) :].tolist()
    assert ours.stop_reason == "max_new_tokens" and ours.new_tokens == 24
    assert len(ours.token_latencies_s) == 24 and ours.ttft_s == ours.token_latencies_s[0]
    assert ours.prompt_ids == tuple(PROMPT) and ours.text is None and ours.seed == 42


def test_stops_at_eos_without_emitting_it(random_model: Any) -> None:
    path, _ = random_model("llama")
    model = load_model(path, "cpu")
    free = greedy_generate(model, PROMPT, max_new_tokens=10, ignore_eos=True)
    eos = free.token_ids[3]
    first = free.token_ids.index(eos)
    stopped = greedy_generate(model, PROMPT, max_new_tokens=10, eos_token_ids=[eos])
    assert stopped.stop_reason == "eos"
    assert stopped.token_ids == free.token_ids[:first]


def test_time_budget_stops_and_says_so(random_model: Any) -> None:
    path, _ = random_model("qwen3")
    res = greedy_generate(load_model(path, "cpu"), PROMPT, max_new_tokens=50, time_budget_s=1e-9)
    assert res.stop_reason == "time_budget" and res.new_tokens == 1


def test_generation_beyond_max_positions_is_refused(random_model: Any) -> None:
    path, _ = random_model("mistral", sliding_window=8)
    model = load_model(path, "cpu")
    with pytest.raises(UsageError) as err:
        greedy_generate(model, PROMPT, max_new_tokens=123)
    assert str(err.value) == (
        "prompt (6 tokens) + max_new_tokens (123) = 129 exceeds max_position_embeddings 128 "
        f"({path / 'config.json'})"
    )


def test_text_prompt_on_the_trained_model(trained_model: Any) -> None:
    model = load_model(trained_model.path, "cpu")
    res = greedy_generate(
        model, "def fibonacci(n):", tokenizer=trained_model.tokenizer, max_new_tokens=32
    )
    assert res.text is not None
    assert res.text == trained_model.tokenizer.decode(list(res.token_ids))
    assert check_output(res.text).rule in (None, "gibberish")  # a 2-layer toy may repeat itself
    with pytest.raises(UsageError, match="a text prompt needs a tokenizer"):
        greedy_generate(model, "def f():")


def test_throughput_fields(random_model: Any) -> None:
    path, _ = random_model("qwen2")
    res = measure_throughput(load_model(path, "cpu"), PROMPT, new_tokens=8, runs=3, warmup=1)
    assert (res.runs, res.warmup, res.new_tokens, res.prompt_tokens) == (3, 1, 8, 6)
    assert len(res.tokens_per_s_runs) == 3 and res.median_tokens_per_s > 0
    assert 0 < res.latency_p50_s <= res.latency_p99_s
    assert res.p99_p50_ratio == res.latency_p99_s / res.latency_p50_s
    assert res.cv >= 0 and res.ttft_s > 0 and res.decode_tokens_per_s > 0
    assert (res.device, res.device_type, res.dtype) == ("cpu", "cpu", "float32")
    with pytest.raises(UsageError, match="throughput needs runs ≥ 1"):
        measure_throughput(load_model(path, "cpu"), PROMPT, runs=0)
