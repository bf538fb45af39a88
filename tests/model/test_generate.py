"""Greedy generation with the KV cache, and the decode benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albor_gates.errors import UsageError
from albor_gates.model.bench import measure_throughput
from albor_gates.model.decoder import load_model
from albor_gates.model.generate import (
    _Recurrence,
    cut_at_stop,
    greedy_generate,
    greedy_generate_batch,
)
from albor_gates.model.textcheck import check_output

torch = pytest.importorskip("torch")

PROMPT = [5, 17, 3, 44, 60, 2]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "albor-tiny-v1"


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


def _prompts(tokenizer: Any, count: int) -> list[str]:
    """``count`` prompts of varied length cut from stdlib source lines."""
    from testlib.corpus import VAL_FILE, stdlib_text

    lines = [ln for ln in stdlib_text([VAL_FILE]).splitlines() if len(ln.strip()) > 8]
    return [lines[(i * 37) % len(lines)][: 6 + (i * 7) % 40] for i in range(count)]


def test_batched_generation_equals_one_at_a_time_on_the_trained_model(
    trained_model: Any,
) -> None:
    model = load_model(trained_model.path, "cpu")
    tok = trained_model.tokenizer
    prompts = _prompts(tok, 32)
    lengths = {len(tok.encode(p).ids) for p in prompts}
    assert len(lengths) > 5  # left padding is really exercised
    alone = [greedy_generate(model, p, tokenizer=tok, max_new_tokens=24) for p in prompts]
    for batch_size in (32, 5):
        batched = greedy_generate_batch(
            model, prompts, tokenizer=tok, max_new_tokens=24, batch_size=batch_size
        )
        assert [g.token_ids for g in batched] == [g.token_ids for g in alone]
        assert [g.stop_reason for g in batched] == [g.stop_reason for g in alone]
        assert [g.text for g in batched] == [g.text for g in alone]
        assert [g.prompt_ids for g in batched] == [g.prompt_ids for g in alone]
    # rows stop on their own: the trained model emits EOS (id 0) on some prompts
    reasons = {g.stop_reason for g in alone}
    assert reasons <= {"eos", "max_new_tokens"}


@pytest.mark.parametrize(
    ("family", "overrides"),
    [
        ("llama", {}),
        ("qwen3", {}),
        ("mistral", {"sliding_window": 8}),
    ],
)
def test_batched_generation_equals_one_at_a_time_per_family(
    random_model: Any, family: str, overrides: dict[str, Any]
) -> None:
    path, _ = random_model(family, **overrides)
    model = load_model(path, "cpu")
    prompts = [PROMPT, PROMPT[:2], [9] * 11, PROMPT[3:], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]
    alone = [greedy_generate(model, p, max_new_tokens=16, ignore_eos=True) for p in prompts]
    batched = greedy_generate_batch(model, prompts, max_new_tokens=16, ignore_eos=True)
    assert [g.token_ids for g in batched] == [g.token_ids for g in alone]


def test_batched_generation_drops_rows_at_eos(random_model: Any) -> None:
    path, _ = random_model("qwen2")
    model = load_model(path, "cpu")
    prompts = [PROMPT, PROMPT[:3], [7, 7, 7, 7]]
    free = [greedy_generate(model, p, max_new_tokens=12, ignore_eos=True) for p in prompts]
    eos = free[0].token_ids[2]
    alone = [greedy_generate(model, p, max_new_tokens=12, eos_token_ids=[eos]) for p in prompts]
    batched = greedy_generate_batch(model, prompts, max_new_tokens=12, eos_token_ids=[eos])
    assert batched[0].stop_reason == "eos" and batched[0].new_tokens == free[0].token_ids.index(eos)
    assert [(g.token_ids, g.stop_reason) for g in batched] == [
        (g.token_ids, g.stop_reason) for g in alone
    ]
    assert all(len(g.token_latencies_s) == g.new_tokens + (g.stop_reason == "eos") for g in batched)


def test_batched_generation_refuses_bad_arguments(random_model: Any) -> None:
    path, _ = random_model("qwen2")
    model = load_model(path, "cpu")
    with pytest.raises(UsageError) as err:
        greedy_generate_batch(model, [PROMPT], batch_size=0)
    assert str(err.value) == "batch_size must be ≥ 1, got 0"
    with pytest.raises(UsageError) as err:
        greedy_generate_batch(model, [PROMPT, list(range(1, 80))], max_new_tokens=50)
    assert str(err.value) == (
        "prompt (79 tokens) + max_new_tokens (50) = 129 exceeds max_position_embeddings 128 "
        f"({path / 'config.json'})"
    )


def test_batched_stop_strings_equal_one_at_a_time_cut_on_the_bundled_model() -> None:
    from tokenizers import Tokenizer

    model = load_model(EXAMPLE, "cpu")
    tok = Tokenizer.from_file(str(EXAMPLE / "tokenizer.json"))
    prompts = _prompts(tok, 12) + ["def fibonacci(n):", "class Stack:\n    def push(self, x):"]
    stops = ("\ndef", "\nclass", "\n#", "\nif", "\nprint", "(self")
    alone = [greedy_generate(model, p, tokenizer=tok, max_new_tokens=40) for p in prompts]
    for batch_size in (16, 3):
        batched = greedy_generate_batch(
            model,
            prompts,
            tokenizer=tok,
            max_new_tokens=40,
            batch_size=batch_size,
            stop_strings=stops,
        )
        assert [g.text for g in batched] == [cut_at_stop(a.text or "", stops) for a in alone]
        for g, a in zip(batched, alone, strict=True):
            assert g.token_ids == a.token_ids[: len(g.token_ids)]
            if g.stop_reason == "stop_string":
                # the row left at the very token that completed its first stop string
                before = tok.decode(list(g.token_ids[:-1]), skip_special_tokens=False)
                full = tok.decode(list(g.token_ids), skip_special_tokens=False)
                assert cut_at_stop(before, stops) == before and cut_at_stop(full, stops) != full
            else:
                assert (g.token_ids, g.stop_reason) == (a.token_ids, a.stop_reason)
    reasons = [g.stop_reason for g in batched]
    assert "stop_string" in reasons and set(reasons) - {"stop_string"}  # both kinds of row


def test_stop_strings_need_a_tokenizer(random_model: Any) -> None:
    path, _ = random_model("qwen2")
    with pytest.raises(UsageError) as err:
        greedy_generate_batch(load_model(path, "cpu"), [PROMPT], stop_strings=["\n"])
    assert str(err.value) == "stop strings need a tokenizer to decode the generated text"


def test_a_stop_string_made_of_many_tokens_is_seen_from_the_tail_only(random_model: Any) -> None:
    """The tail window covers a stop string split over one token per byte."""
    from tokenizers import Tokenizer, models

    path, _ = random_model("qwen2")
    model = load_model(path, "cpu")
    free = greedy_generate(model, PROMPT, max_new_tokens=10, ignore_eos=True)
    # a character-per-id vocabulary: the stop string is the text of generated tokens 3..7
    chars = {f"c{i}": i for i in range(model.config.vocab_size)}
    tok = Tokenizer(models.WordLevel(chars, unk_token="c0"))
    stop = tok.decode(list(free.token_ids[3:8]))
    got = greedy_generate_batch(
        model, [PROMPT], tokenizer=tok, max_new_tokens=10, ignore_eos=True, stop_strings=[stop]
    )[0]
    assert (got.stop_reason, got.token_ids) == ("stop_string", free.token_ids[:8])


def test_lookup_decoding_equals_one_token_steps_on_the_trained_model(
    trained_model: Any,
) -> None:
    model = load_model(trained_model.path, "cpu")
    tok = trained_model.tokenizer
    prompts = _prompts(tok, 24)
    forwards = 0
    plain_forward = model.hidden_states

    def counted(*args: Any, **kw: Any) -> Any:
        nonlocal forwards
        forwards += 1
        return plain_forward(*args, **kw)

    model.hidden_states = counted  # type: ignore[method-assign]
    plain = [greedy_generate(model, p, tokenizer=tok, max_new_tokens=40, lookup=0) for p in prompts]
    one_token_steps, forwards = forwards, 0
    looked = [greedy_generate(model, p, tokenizer=tok, max_new_tokens=40) for p in prompts]
    assert [g.token_ids for g in looked] == [g.token_ids for g in plain]
    assert [(g.stop_reason, g.text) for g in looked] == [(g.stop_reason, g.text) for g in plain]
    assert [len(g.token_latencies_s) for g in looked] == [g.new_tokens for g in plain]
    # the guesses were really taken: fewer forwards than tokens (the trained model's Python
    # repeats itself, as code does)
    assert one_token_steps == sum(g.new_tokens + (g.stop_reason == "eos") for g in plain)
    assert forwards < 0.8 * one_token_steps, (forwards, one_token_steps)


def test_lookup_decoding_stops_where_one_token_steps_stop(random_model: Any) -> None:
    path, _ = random_model("llama")
    model = load_model(path, "cpu")
    loop = [7, 8, 9] * 6  # a loop the guesses copy: most steps keep several tokens at once
    free = greedy_generate(model, loop, max_new_tokens=30, ignore_eos=True, lookup=0)
    for lookup in (1, 3, 8):
        for new in (1, 2, 5, 30):
            got = greedy_generate(model, loop, max_new_tokens=new, ignore_eos=True, lookup=lookup)
            assert got.token_ids == free.token_ids[:new]
            assert got.stop_reason == "max_new_tokens"
        eos = free.token_ids[6]
        got = greedy_generate(model, loop, max_new_tokens=30, eos_token_ids=[eos], lookup=lookup)
        assert got.token_ids == free.token_ids[: free.token_ids.index(eos)]
        assert got.stop_reason == "eos"
    with pytest.raises(UsageError, match="lookup must be ≥ 0 draft tokens, got -1"):
        greedy_generate(model, loop, lookup=-1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=40), st.integers(1, 9))
def test_lookup_guesses_continue_the_latest_earlier_occurrence_of_the_tail(
    tokens: list[int], count: int
) -> None:
    seen = _Recurrence()
    for token in tokens:  # built one token at a time, as decoding does
        seen.extend([token])
    expected: list[int] = []
    for n in range(min(3, len(tokens) - 1), 0, -1):
        tail = tokens[len(tokens) - n :]
        ends = [e for e in range(n, len(tokens)) if tokens[e - n : e] == tail]
        if ends:
            seq = list(tokens)
            for i in range(count):
                seq.append(seq[max(ends) + i])
            expected = seq[len(tokens) :]
            break
    assert seen.guess(count) == expected
