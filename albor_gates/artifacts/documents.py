"""Evidence documents: bounded JSON, JSONL and YAML readers and a small field-path language.

Field paths select a value inside a record:

* ``val_loss`` — a key; ``quality.breakdown.physics`` — nested keys;
* ``gates[0]`` / ``gates[-1]`` — a list element; ``gates[*].passed`` — every element (a list);
* ``/quality/score`` — an RFC 6901 JSON pointer, for keys that contain dots or brackets.

JSON allows ``NaN`` and ``Infinity`` here on purpose: a log that wrote a NaN loss must be
judged (non-finite → FAIL), not rejected as unreadable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from albor_gates import numbers
from albor_gates.errors import EvidenceError, SpecError
from albor_gates.spec.yamlsafe import load_yaml_text

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(-?\d+|\*)\]|\.")


@dataclass(frozen=True)
class FieldPath:
    """A parsed field path (see the module docstring)."""

    text: str
    parts: tuple[str | int, ...]

    @property
    def fans_out(self) -> bool:
        """Whether the path contains ``[*]`` and so yields a list."""
        return "*" in self.parts


def parse_field_path(text: str) -> FieldPath:
    """Parse a field path.

    Raises:
        ValueError: when the text is not a valid path (a message for the spec error).
    """
    if not text:
        raise ValueError("field path is empty")
    if text.startswith("/"):
        parts: list[str | int] = []
        for raw in text[1:].split("/"):
            token = raw.replace("~1", "/").replace("~0", "~")
            parts.append(int(token) if token.lstrip("-").isdigit() else token)
        return FieldPath(text, tuple(parts))
    parts = []
    pos = 0
    while pos < len(text):
        m = _SEGMENT.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"bad field path {text!r} at character {pos + 1}")
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            g = m.group(2)
            parts.append("*" if g == "*" else int(g))
        pos = m.end()
    if not parts:
        raise ValueError(f"bad field path {text!r}")
    return FieldPath(text, tuple(parts))


class FieldMissing(LookupError):
    """The path does not exist in the record."""


def extract(record: Any, path: FieldPath) -> Any:
    """Return the value at ``path`` in ``record``.

    Raises:
        FieldMissing: with a sentence naming the first missing segment.
    """
    return _extract(record, path.parts, "")


def _extract(node: Any, parts: tuple[str | int, ...], done: str) -> Any:
    if not parts:
        return node
    head, rest = parts[0], parts[1:]
    if head == "*":
        if not isinstance(node, list):
            raise FieldMissing(f"{done or 'the record'} is not a list")
        return [_extract(item, rest, f"{done}[{i}]") for i, item in enumerate(node)]
    if isinstance(head, int):
        if not isinstance(node, list):
            raise FieldMissing(f"{done or 'the record'} is not a list")
        if not -len(node) <= head < len(node):
            raise FieldMissing(f"{done}[{head}] is out of range (length {len(node)})")
        return _extract(node[head], rest, f"{done}[{head}]")
    if not isinstance(node, dict):
        raise FieldMissing(f"{done or 'the record'} is not an object")
    if head not in node:
        where = f"{done}.{head}" if done else head
        keys = ", ".join(sorted(map(str, node))[:12])
        raise FieldMissing(f"no field {where!r} (fields here: {keys})")
    return _extract(node[head], rest, f"{done}.{head}" if done else head)


def _check_size(path: Path, limit: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
    if size > limit:
        raise EvidenceError(f"{path}: {size} bytes, over the {limit}-byte evidence limit")


def _parse_constant(token: str) -> float:
    return float(token)  # NaN / Infinity / -Infinity are accepted (judged later)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


_HOOKS: dict[str, Any] = {
    "object_pairs_hook": _no_duplicates,
    "parse_constant": _parse_constant,
    "parse_int": numbers.parse_int,  # a 401-digit integer is a bad file, not an exit 3
    "parse_float": numbers.parse_float,
}


def read_json(path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Read a JSON document (NaN/Infinity allowed; duplicate keys rejected).

    Raises:
        EvidenceError: naming the file, line and column of a syntax error.
    """
    _check_size(path, max_bytes)
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text, **_HOOKS)
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise EvidenceError(f"{path}: not UTF-8 text (byte offset {e.start})") from e
    except json.JSONDecodeError as e:
        raise EvidenceError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from e
    except ValueError as e:
        raise EvidenceError(f"{path}: invalid JSON: {e}") from e
    except RecursionError as e:
        raise EvidenceError(f"{path}: JSON nested too deeply") from e


def iter_jsonl(path: Path, *, max_line: int = MAX_LINE_BYTES) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, record)`` for each non-blank line of a JSONL file.

    Raises:
        EvidenceError: naming the file and line of a bad record.
    """
    try:
        fh = path.open("rb")
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
    with fh:
        for lineno, raw in enumerate(iter(lambda: fh.readline(max_line + 1), b""), start=1):
            if len(raw) > max_line:
                raise EvidenceError(f"{path}:{lineno}: line longer than {max_line} bytes")
            if not raw.strip():
                continue
            try:
                yield (
                    lineno,
                    json.loads(raw.rstrip(b"\r\n").decode("utf-8"), **_HOOKS),
                )
            except UnicodeDecodeError as e:
                raise EvidenceError(f"{path}:{lineno}: not UTF-8 text") from e
            except json.JSONDecodeError as e:
                raise EvidenceError(f"{path}:{lineno}:{e.colno}: invalid JSON: {e.msg}") from e
            except (ValueError, RecursionError) as e:
                raise EvidenceError(f"{path}:{lineno}: invalid JSON: {e}") from e


def read_yaml(path: Path, *, max_bytes: int = 16 * 1024 * 1024) -> Any:
    """Read a YAML evidence document with the bounded loader.

    Raises:
        EvidenceError: on any YAML problem, with file:line:col.
    """
    _check_size(path, max_bytes)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise EvidenceError(f"{path}: not UTF-8 text (byte offset {e.start})") from e
    try:
        return load_yaml_text(text, str(path)).data
    except SpecError as e:
        raise EvidenceError(str(e.problems[0])) from e


def detect_format(path: Path) -> str:
    """Return ``json``, ``jsonl`` or ``yaml`` from the file name."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "json"


def read_records(path: Path, fmt: str = "auto") -> list[Any]:
    """Read a document as a list of records: JSONL lines, or a JSON/YAML top-level value.

    A top-level list becomes its elements; any other value becomes a single record.
    """
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "jsonl":
        _check_size(path, MAX_DOCUMENT_BYTES)
        return [rec for _, rec in iter_jsonl(path)]
    data = read_yaml(path) if fmt == "yaml" else read_json(path)
    return list(data) if isinstance(data, list) else [data]
