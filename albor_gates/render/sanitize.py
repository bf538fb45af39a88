"""One sanitiser for the untrusted text every report carries.

Messages, tensor names, evidence fields, spec titles and command output can come from a pull
request. Before any of it reaches a terminal, a CI log or a rendered document:

* control characters and escape sequences become visible (``\\x1b``, ``\\x07``), newlines and
  carriage returns become ``\\n`` / ``\\r``, so one value is one line and a terminal never sees
  an OSC/CSI sequence (``\\x1b]52;`` clipboard writes, ``\\x1b[2J``);
* a value that starts (after blanks) with ``::`` gets a backslash in front, so no line of our
  output is a GitHub Actions workflow command (``::error::``, ``::stop-commands::``);
* per format: Markdown escapes what opens HTML, links or table cells; XML (JUnit) needs only the
  visible form, since ElementTree escapes ``<&>`` and XML 1.0 forbids the control characters.

HTML keeps Jinja's autoescaping; JSON keeps the data as it is (its encoder escapes).
The functions are pure and leave ordinary text byte-identical (the golden reports prove it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 and C1 controls, DEL, and the Unicode characters that move or hide text: line and
# paragraph separators, bidirectional overrides and isolates (the "Trojan Source" set).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORKFLOW = re.compile(r"^(\s*)::")
_MD = {"<": "&lt;", ">": "&gt;", "|": "\\|", "[": "\\[", "]": "\\]"}
_MD_RX = re.compile("[<>|\\[\\]]")


def _show(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` with control characters shown as escapes and workflow commands neutralised."""
    s = _UNSAFE.sub(_show, str(text))
    return _WORKFLOW.sub(r"\1\\::", s)


def markdown(text: object) -> str:
    """:func:`visible`, then escape what opens HTML, a link or a table cell in Markdown."""
    return _MD_RX.sub(lambda m: _MD[m.group(0)], visible(text))


def walk(value: Any, fn: Callable[[object], str]) -> Any:
    """Apply ``fn`` to every string inside a JSON-like value (keys included); copy the rest."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {fn(k) if isinstance(k, str) else k: walk(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [walk(v, fn) for v in value]
    return value
