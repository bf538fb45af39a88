"""GATES.md §3.1.4 output rules in order, and Python validity with the prefix walker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albor_gates.model.textcheck import (
    RULES,
    check_output,
    count_syntax_errors,
    gibberish_reason,
    python_validity,
    split_thinking,
)


@pytest.mark.parametrize(
    ("text", "expected", "rule", "reason"),
    [
        ("", None, "empty", "empty output (nothing but whitespace)"),
        ("  \n\t ", ["4"], "empty", "empty output (nothing but whitespace)"),
        (
            "The answer is \ufffd\ufffd",
            ["4"],
            "garbage_marker",
            "garbage marker '\ufffd' at character 14",
        ),
        ("4 [UNK] answer", ["4"], "garbage_marker", "garbage marker '[UNK]' at character 2"),
        ("British Columbia", None, "garbage_marker", "garbage marker 'olumbia' at character 9"),
        (
            "the the the the",
            None,
            "gibberish",
            "statistical gibberish: the 4-byte fragment 'the ' repeats 3 times in a row at byte 0",
        ),
        (
            "日本語の文字列です日本語の文字列です",
            None,
            "gibberish",
            "statistical gibberish: 18 of 18 characters are non-ASCII (100% > 60%)",
        ),
        ("Hello\x00World", ["hello"], "null_bytes", "1 null byte(s) (BPE artifact)"),
        (
            "The answer is five",
            ["4"],
            "expected_pattern",
            "none of the expected patterns ['4'] occurs (case-insensitive)",
        ),
        ("HELLO WORLD", "hello", None, ""),
        ("Hi there!", ["Hello", "Hi", "Hey"], None, ""),
        ("def f(n):\n            return n\n", None, None, ""),  # 12 spaces are indentation
    ],
)
def test_rules_in_order(text: str, expected: object, rule: str | None, reason: str) -> None:
    got = check_output(text, expected)  # type: ignore[arg-type]
    assert (got.rule, got.reason) == (rule, reason)
    assert got.clean is (rule is None)


def test_short_non_ascii_is_not_gibberish() -> None:
    assert gibberish_reason("日本語") is None  # fewer than 16 characters
    assert gibberish_reason("éé" + "abcdefghijklmn") is None  # 12.5 % non-ASCII


def test_fffd_density_rule_alone() -> None:
    text = "\ufffd" * 2 + "The quick brown fox jumps over!"
    assert gibberish_reason(text) == (
        "statistical gibberish: 2 U+FFFD in 33 characters (density > 1/32)"
    )


def test_strip_thinking_blocks() -> None:
    assert split_thinking("<think>2+2=4</think>4") == ("4", False)
    assert split_thinking("<think>a</think>Hello <think>b</think>world") == ("Hello world", False)
    assert split_thinking("<think>never closed") == ("", True)
    assert split_thinking("4 <think>cut") == ("4 ", True)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.none() | st.lists(st.text(max_size=5), max_size=3))
def test_check_output_never_raises(text: str, expected: list[str] | None) -> None:
    got = check_output(text, expected)
    assert got.rule is None or got.rule in RULES
    assert (got.reason == "") is (got.rule is None)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1, max_size=80))
def test_ascii_text_with_a_triple_repeat_is_gibberish(fragment: str) -> None:
    piece = (fragment * 4)[:8]
    if not piece.strip():
        return
    assert check_output("x" + piece * 3).rule in ("gibberish", "garbage_marker")


# ------------------------------------------------------------------- Python validity

FIB = (
    "def fibonacci(n):\n    if n < 2:\n        return n\n"
    "    return fibonacci(n - 1) + fibonacci(n - 2)\n"
)


def test_complete_code() -> None:
    v = python_validity(FIB)
    assert (v.status, v.total_lines, v.valid_prefix_lines, v.error) == ("complete", 4, 4, None)
    assert not v.syntax_error


@pytest.mark.parametrize(
    "text",
    [
        "def fibonacci(n):",  # the prompt alone: an open block
        "def fibonacci(n):\n    if n < 2:\n        return n\n    else:",
        "def fibonacci(n):\n    return [\n        1,\n        2,",
        "def fibonacci(n):\n    return 1\nx = 1 +",  # final line cut mid-way
        'def f():\n    """Docstring that never',
    ],
)
def test_cut_by_the_token_limit_is_truncated_not_an_error(text: str) -> None:
    v = python_validity(text)
    assert v.status == "truncated", v
    assert not v.syntax_error


def test_error_in_a_finished_line_is_invalid() -> None:
    v = python_validity("def fibonacci(n):\n    return n +* 2\n    x = 1\n")
    assert v.status == "invalid" and v.syntax_error
    assert v.error == "line 2: invalid syntax" and v.error_line == 2
    assert v.valid_prefix_lines == 1  # "def fibonacci(n):" alone is an open block


def test_cut_after_a_newline_is_judged_whole() -> None:
    assert python_validity("def f():\n    return 1\nx = 1 +\n").syntax_error


def test_count_syntax_errors() -> None:
    assert count_syntax_errors([FIB, "def f(:\n", "x = (", "1 +* 2\n"]) == 2


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_python_validity_never_raises(text: str) -> None:
    v = python_validity(text)
    assert v.status in ("complete", "truncated", "invalid")
    assert 0 <= v.valid_prefix_lines <= v.total_lines


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=len(FIB)))
def test_any_cut_of_valid_code_is_not_an_error(cut: int) -> None:
    assert not python_validity(FIB[:cut]).syntax_error, repr(FIB[:cut])
