"""Output verification of generated text (pure Python; no torch).

:func:`check_output` applies the rules of GATES.md §3.1.4 (``apr qa`` golden output,
PMAT-QA-PROTOCOL-001 §7.4) **in order** and reports the first that fires:

1. ``empty`` — nothing but whitespace.
2. ``garbage_marker`` — a literal marker: U+FFFD, ``[UNK]``, ``akunji``, ``olumbia``.
3. ``gibberish`` (the seed's rule 2.5), any of, in order:
   a. non-ASCII characters are more than 60 % of a text of at least 16 characters;
   b. a 4–16-byte fragment of the UTF-8 bytes repeated 3 times in a row (``"the the the "``).
      Fragments made only of whitespace are not counted: 12 spaces of indentation are Python,
      not gibberish (an interpretation; the seed does not say);
   c. U+FFFD density above 1/32 in a text of at least 32 characters (unreachable after rule 2,
      which already rejects any U+FFFD; kept so :func:`gibberish_reason` is complete alone).
4. ``null_bytes`` — a NUL character (BPE artifact).
5. ``expected_pattern`` — when patterns are given, none occurs (case-insensitive).

A :class:`OutputCheck` says which rule fired and why; it measures, the engine judges.

:func:`python_validity` decides whether generated code is Python, tolerating the cut that a
token limit makes (AC-SHIP2-007: "≤ 1 SyntaxError of 100", ``ast.parse`` with a
"longest-leading-line prefix walker", EX-06 style). Definitions:

* a source is *complete* when ``ast.parse`` accepts it, *incomplete* when ``codeop`` reports it
  as the start of valid code that more lines would finish (an open block, bracket or
  triple-quoted string), and *invalid* otherwise;
* the **longest valid prefix** is the largest *k* such that the first *k* whole lines (line
  endings kept) are complete or incomplete (the walker starts at all lines and drops one trailing
  line at a time, at most 256 times);
* the text is ``complete`` when all of it parses; ``truncated`` when it is incomplete, or when
  only its final line — one without a line ending, i.e. cut mid-line by the token limit — lies
  outside the longest valid prefix; ``invalid`` otherwise (a SyntaxError in a finished line).

Judge the prompt and the completion together (``"def fibonacci(n):" + completion``).
"""

from __future__ import annotations

import ast
import codeop
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GARBAGE_MARKERS = ("\ufffd", "[UNK]", "akunji", "olumbia")
NON_ASCII_MAX_SHARE = 0.60
NON_ASCII_MIN_CHARS = 16
REPEAT_MIN_BYTES = 4
REPEAT_MAX_BYTES = 16
REPEAT_TIMES = 3
FFFD_MAX_DENSITY = 1 / 32
FFFD_MIN_CHARS = 32
_WALK_MAX_STEPS = 256

RULE_EMPTY = "empty"
RULE_GARBAGE = "garbage_marker"
RULE_GIBBERISH = "gibberish"
RULE_NULL = "null_bytes"
RULE_EXPECTED = "expected_pattern"
RULES = (RULE_EMPTY, RULE_GARBAGE, RULE_GIBBERISH, RULE_NULL, RULE_EXPECTED)

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


@dataclass(frozen=True)
class OutputCheck:
    """Which §3.1.4 rule fired first on a text, if any.

    Attributes:
        rule: one of :data:`RULES`, or None when no rule fired.
        reason: one sentence saying why (empty when ``rule`` is None).
    """

    rule: str | None
    reason: str

    @property
    def clean(self) -> bool:
        """True when no rule fired."""
        return self.rule is None


def split_thinking(text: str) -> tuple[str, bool]:
    """Remove ``<think>…</think>`` blocks; say whether one was left unclosed.

    ``apr qa`` strips reasoning blocks before verifying output (GATES.md §3.1.2); an unclosed
    block means the model ran out of tokens while reasoning, and golden_output fails it.

    Args:
        text: model output.

    Returns:
        The text without reasoning blocks (an unclosed one removes the rest), and whether a
        block was unclosed.
    """
    text = _THINK.sub("", text)
    cut = text.find("<think>")
    return (text, False) if cut < 0 else (text[:cut], True)


def _repeated_fragment(data: bytes) -> tuple[bytes, int] | None:
    n = len(data)
    for length in range(REPEAT_MIN_BYTES, REPEAT_MAX_BYTES + 1):
        need = (REPEAT_TIMES - 1) * length  # positions j with data[j] == data[j + length]
        if n < REPEAT_TIMES * length:
            break
        run = 0
        for j in range(n - length):
            if data[j] == data[j + length]:
                run += 1
                if run >= need:
                    start = j - need + 1
                    fragment = data[start : start + length]
                    if fragment.strip():
                        return fragment, start
            else:
                run = 0
    return None


def gibberish_reason(text: str) -> str | None:
    """Apply the seed's statistical-gibberish rule 2.5 alone.

    Args:
        text: model output.

    Returns:
        Why the text reads as gibberish, or None.
    """
    n = len(text)
    if n >= NON_ASCII_MIN_CHARS:
        non_ascii = sum(1 for c in text if ord(c) > 0x7F)
        if non_ascii / n > NON_ASCII_MAX_SHARE:
            return (
                f"statistical gibberish: {non_ascii} of {n} characters are non-ASCII "
                f"({non_ascii / n:.0%} > {NON_ASCII_MAX_SHARE:.0%})"
            )
    found = _repeated_fragment(text.encode("utf-8", errors="surrogatepass"))
    if found is not None:
        fragment, offset = found
        shown = fragment.decode("utf-8", errors="replace")
        return (
            f"statistical gibberish: the {len(fragment)}-byte fragment {shown!r} repeats "
            f"{REPEAT_TIMES} times in a row at byte {offset}"
        )
    if n >= FFFD_MIN_CHARS:
        fffd = text.count("\ufffd")
        if fffd / n > FFFD_MAX_DENSITY:
            return f"statistical gibberish: {fffd} U+FFFD in {n} characters (density > 1/32)"
    return None


def check_output(text: str, expected: str | Sequence[str] | None = None) -> OutputCheck:
    """Apply the §3.1.4 output-verification rules in order; report the first that fires.

    Args:
        text: model output (strip reasoning blocks first if the model emits them).
        expected: a pattern or patterns, one of which must occur (case-insensitive); None or
            empty → rule 5 does not apply.

    Returns:
        The :class:`OutputCheck`.
    """
    if not text.strip():
        return OutputCheck(RULE_EMPTY, "empty output (nothing but whitespace)")
    for marker in GARBAGE_MARKERS:
        at = text.find(marker)
        if at >= 0:
            return OutputCheck(RULE_GARBAGE, f"garbage marker {marker!r} at character {at}")
    why = gibberish_reason(text)
    if why is not None:
        return OutputCheck(RULE_GIBBERISH, why)
    nulls = text.count("\x00")
    if nulls:
        return OutputCheck(RULE_NULL, f"{nulls} null byte(s) (BPE artifact)")
    patterns = [expected] if isinstance(expected, str) else list(expected or [])
    if patterns:
        low = text.lower()
        if not any(p.lower() in low for p in patterns):
            return OutputCheck(
                RULE_EXPECTED,
                f"none of the expected patterns {patterns!r} occurs (case-insensitive)",
            )
    return OutputCheck(None, "")


# ------------------------------------------------------------------------- Python validity

STATUS_COMPLETE = "complete"
STATUS_TRUNCATED = "truncated"
STATUS_INVALID = "invalid"


@dataclass(frozen=True)
class PythonValidity:
    """Whether a text is Python, allowing for a token-limit cut (see the module doc).

    Attributes:
        status: ``"complete"``, ``"truncated"`` or ``"invalid"``.
        total_lines: lines in the text.
        valid_prefix_lines: the longest valid prefix, in whole leading lines.
        error: ``"line N: message"`` of the full text's SyntaxError, or None when it parses.
        error_line: the SyntaxError's line, or None.
    """

    status: str
    total_lines: int
    valid_prefix_lines: int
    error: str | None
    error_line: int | None

    @property
    def syntax_error(self) -> bool:
        """True when the text counts as a SyntaxError for AC-SHIP2-007."""
        return self.status == STATUS_INVALID


def _classify(source: str) -> tuple[str, SyntaxError | None]:
    """Classify as complete / incomplete / invalid, with the ast SyntaxError if any."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning on odd escapes is not an error
        try:
            ast.parse(source)
            return "complete", None
        except SyntaxError as e:
            err: SyntaxError = e
        except (ValueError, MemoryError, RecursionError, OverflowError) as e:
            return "invalid", SyntaxError(str(e) or type(e).__name__)
        try:
            code = codeop.compile_command(source, "<generated>", "exec")
        except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError):
            return "invalid", err
        return ("incomplete", err) if code is None else ("invalid", err)


def python_validity(text: str) -> PythonValidity:
    """Classify generated code as complete, truncated (cut by the token limit) or invalid.

    Args:
        text: the prompt and completion together.

    Returns:
        The :class:`PythonValidity`.
    """
    lines = text.splitlines(keepends=True)
    n = len(lines)
    state, err = _classify(text)
    prefix = n if state != "invalid" else 0
    if state == "invalid":
        for k in range(n - 1, max(n - 1 - _WALK_MAX_STEPS, -1), -1):
            if _classify("".join(lines[:k]))[0] != "invalid":
                prefix = k
                break
    error = None if err is None else f"line {err.lineno or 0}: {err.msg}"
    if state == "complete":
        status = STATUS_COMPLETE
    elif state == "incomplete" or (
        prefix == n - 1 and n > 0 and not lines[-1].endswith(("\n", "\r"))
    ):
        status = STATUS_TRUNCATED
    else:
        status = STATUS_INVALID
    return PythonValidity(
        status=status,
        total_lines=n,
        valid_prefix_lines=prefix,
        error=error,
        error_line=None if err is None else (err.lineno or 0),
    )


def count_syntax_errors(texts: Iterable[str]) -> int:
    """Count the texts :func:`python_validity` calls invalid (AC-SHIP2-007's count).

    Args:
        texts: prompt + completion per sample.

    Returns:
        The count.
    """
    return sum(1 for t in texts if python_validity(t).syntax_error)
