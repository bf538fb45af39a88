"""Small helpers shared by the artifact readers: bounded reads, strict JSON, one-line quoting.

Every reader in this package reads untrusted files. These helpers make the common rules hold
everywhere: a size cap is checked *before* any byte is read, JSON objects may not repeat a key
(``json`` would silently keep the last one), and every value quoted into an error message is
printable and short, so a hostile name cannot turn a one-line message into many lines or into
megabytes.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from albor_gates import numbers
from albor_gates.errors import ArtifactError

#: Longest quoted value (tensor name, key, dtype string) printed inside an error message.
MAX_QUOTED_CHARS = 200


class JsonObject(dict[str, Any]):
    """A JSON object that repeated a key; ``duplicates`` lists the repeats (first repeat first).

    Objects without a repeat stay plain ``dict`` (the common case, kept at C speed).
    """

    __slots__ = ("duplicates",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.duplicates: list[str] = []
        for key, value in pairs:
            if key in self:
                self.duplicates.append(key)
            else:
                self[key] = value


def json_object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads`: records repeated keys instead of hiding them.

    The caller decides what a repeat means (a duplicated tensor name, a repeated ``dtype`` key):
    the hook only keeps the evidence, as a :class:`JsonObject`. The first value wins, as in the
    reference Rust crate's ``serde`` map (a later value must not silently replace the one a
    consumer may read).
    """
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    return JsonObject(pairs)


def duplicates_of(obj: dict[str, Any]) -> list[str]:
    """Return the repeated keys of an object parsed with :func:`json_object_pairs`."""
    return obj.duplicates if isinstance(obj, JsonObject) else []


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small objects are built.

    Parsing a header creates a few containers per tensor; with the collector on, each
    generation-2 pass rescans all of them, which made a hostile 1.5-million-entry header take
    minutes instead of seconds (measured). Nothing built here holds a reference cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: First line of every Git LFS pointer file (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"


def lfs_pointer_error(path: Path, head: bytes, what: str) -> ArtifactError | None:
    """The error for a Git LFS pointer file standing in for ``what``, or ``None``.

    A clone without ``git lfs`` (or with ``GIT_LFS_SKIP_SMUDGE=1``) leaves ~130-byte text
    pointers where the weights should be; read as binary they produce absurd header lengths, so
    the pointer is recognised first and the message names the fix.

    Args:
        path: the file, for the message.
        head: its first bytes (at least the length of :data:`LFS_POINTER_PREFIX`).
        what: what the file should have been (``"safetensors file"``).
    """
    if not head.startswith(LFS_POINTER_PREFIX):
        return None
    size = re.search(rb"\nsize (\d+)", head)
    real = f" of {int(size.group(1)):,} bytes" if size else ""
    return ArtifactError(
        f"{path}: is a Git LFS pointer, not the {what}{real}: the weights were never "
        f"downloaded; run `git lfs pull` in the clone (or download the file itself)"
    )


def json_kind(value: object) -> str:
    """Name the JSON type of a parsed value the way an error message should ("a string")."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def quote(text: str) -> str:
    """Return ``text`` printable and at most ``MAX_QUOTED_CHARS`` long, for a one-line message."""
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    if len(text) > MAX_QUOTED_CHARS:
        text = text[:MAX_QUOTED_CHARS] + "..."
    return text


def short_json(value: object, limit: int = 60) -> str:
    """Render a parsed JSON value compactly for a message, cut at ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=True, separators=(", ", ": "))
    except (TypeError, ValueError):  # pragma: no cover - parsed JSON always dumps
        text = repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


def reject_constant(token: str) -> float:
    """``parse_constant`` hook: NaN / Infinity are not JSON (RFC 8259) and no writer emits them."""
    raise ValueError(f"{token} is not a JSON value")


def read_bounded(path: Path, limit: int, what: str, hint: str) -> bytes:
    """Read a whole file after checking its size against ``limit`` (never read past the cap).

    Args:
        path: file to read.
        limit: largest accepted size in bytes.
        what: how the message names the file's role, e.g. ``"config.json"``.
        hint: the fix the message suggests when the file is too large.

    Raises:
        ArtifactError: the file is missing, unreadable, a folder, or larger than ``limit``.
    """
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise ArtifactError(
                    f"{path}: {what} is {size} bytes, above the {limit}-byte limit: {hint}"
                )
            # Read one byte more than the size said: a file that grows under us still stops.
            data = f.read(limit + 1)
    except FileNotFoundError as e:
        raise ArtifactError(f"{path}: no such file: {what} is missing") from e
    except IsADirectoryError as e:
        raise ArtifactError(f"{path}: is a folder, not a {what} file") from e
    except OSError as e:
        raise ArtifactError(f"{path}: cannot read {what}: {e.strerror or e}") from e
    if len(data) > limit:
        raise ArtifactError(f"{path}: {what} grew above the {limit}-byte limit while being read")
    return data


def decode_utf8(path: Path, data: bytes, *, what: str, fix: str) -> str:
    """Decode a text file's bytes as strict UTF-8, dropping a leading byte-order mark.

    Raises:
        ArtifactError: not UTF-8 (the message names the line and the byte offset).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ArtifactError(
            f"{path}:{line}: {what} is not valid UTF-8 at byte {e.start}: {fix}"
        ) from e
    # A UTF-8 byte-order mark is common in hand-edited files and harmless.
    return text.removeprefix("\ufeff")


def load_json_document(
    path: Path,
    data: bytes,
    *,
    what: str,
    fix: str,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """Decode ``data`` as strict UTF-8 JSON; errors name ``path:line:col`` and the JSON problem.

    Args:
        path: the file the bytes came from (for messages).
        data: the file's bytes (already size-capped by :func:`read_bounded`).
        what: the role of the file in messages (``"config.json"``).
        fix: what the user should do about a broken file.
        parse_constant: hook for ``NaN`` / ``Infinity`` tokens; ``None`` accepts them as floats
            (the Python ``json`` writer, and so some Hugging Face files, emit them).

    Raises:
        ArtifactError: not UTF-8, not JSON, nested too deeply, or a repeated key anywhere.
    """
    text = decode_utf8(path, data, what=what, fix=fix)
    kwargs: dict[str, Any] = {
        "object_pairs_hook": json_object_pairs,
        "parse_int": numbers.parse_int,  # config.json: a 401-digit integer is malformed
        "parse_float": numbers.parse_float,
    }
    if parse_constant is not None:
        kwargs["parse_constant"] = parse_constant
    try:
        value = json.loads(text, **kwargs)
    except json.JSONDecodeError as e:
        raise ArtifactError(
            f"{path}:{e.lineno}:{e.colno}: {what} is not valid JSON ({e.msg}): {fix}"
        ) from e
    except RecursionError as e:
        raise ArtifactError(f"{path}: {what} nests JSON too deeply to read: {fix}") from e
    except ValueError as e:  # an integer with > 4300 digits, a rejected NaN
        raise ArtifactError(f"{path}: {what} is not valid JSON ({e}): {fix}") from e
    dup = first_duplicate(value)
    if dup is not None:
        where, key = dup
        raise ArtifactError(
            f"{path}: {what} repeats the key '{quote(key)}' in {where}: JSON readers disagree on "
            f"which value wins; remove the repeat"
        )
    return value


def first_duplicate(value: Any, where: str = "the top-level object") -> tuple[str, str] | None:
    """Find the first repeated key anywhere inside a parsed document (iteratively, no recursion)."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        node, crumb = stack.pop()
        if isinstance(node, dict):
            if duplicates_of(node):
                return crumb, duplicates_of(node)[0]
            for key, child in reversed(list(node.items())):
                if isinstance(child, dict | list):
                    stack.append((child, f"'{quote(key)}'"))
        elif isinstance(node, list):
            for child in reversed(node):
                if isinstance(child, dict | list):
                    stack.append((child, crumb))
    return None


def frozen(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of a JSON object's top level (evidence is frozen)."""
    return MappingProxyType(dict(obj))


class JsonFields:
    """Typed access to the keys of one JSON object; errors name the file and the key."""

    def __init__(self, path: Path, obj: Mapping[str, Any], what: str, fix: str) -> None:
        self.path = path
        self.obj = obj
        self.what = what
        self.fix = fix
        self.used: dict[str, str] = {}

    def fail(self, key: str, value: object, expected: str) -> ArtifactError:
        """The one-line error for ``key`` holding ``value`` where ``expected`` was wanted."""
        return ArtifactError(
            f"{self.path}: {self.what} key '{quote(key)}' is {short_json(value)} (a JSON "
            f"{json_kind(value)}), expected {expected}: {self.fix}"
        )

    def _first(self, field: str, keys: tuple[str, ...]) -> tuple[str, Any] | None:
        for key in keys:
            value = self.obj.get(key)
            if value is not None:
                self.used[field] = key
                return key, value
        return None

    def count(self, field: str, *aliases: str) -> int | None:
        """Return the non-negative integer under ``field`` or its first alias (null = absent)."""
        hit = self._first(field, (field, *aliases))
        if hit is None:
            return None
        key, value = hit
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(key, value, "a non-negative integer")
        return value

    def number(self, field: str, *aliases: str) -> float | None:
        """Return the finite number under ``field`` or its first alias."""
        hit = self._first(field, (field, *aliases))
        if hit is None:
            return None
        key, value = hit
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise self.fail(key, value, "a finite number")
        return float(value)

    def flag(self, field: str) -> bool | None:
        """Return the boolean under ``field``."""
        hit = self._first(field, (field,))
        if hit is None:
            return None
        key, value = hit
        if not isinstance(value, bool):
            raise self.fail(key, value, "true or false")
        return value

    def text(self, field: str) -> str | None:
        """Return the string under ``field``."""
        hit = self._first(field, (field,))
        if hit is None:
            return None
        key, value = hit
        if not isinstance(value, str):
            raise self.fail(key, value, "a string")
        return value

    def texts(self, field: str) -> tuple[str, ...]:
        """Return the list of strings (or one string) under ``field``; empty when absent."""
        hit = self._first(field, (field,))
        if hit is None:
            return ()
        key, value = hit
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, value, "a list of strings")
        return tuple(value)

    def token_ids(self, field: str) -> tuple[int, ...]:
        """Return the token id or list of token ids under ``field``; empty when absent."""
        hit = self._first(field, (field,))
        if hit is None:
            return ()
        key, value = hit
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise self.fail(key, value, "a token id or a list of token ids")
        return tuple(values)


def read_json_object(path: Path, limit: int, what: str, fix: str) -> Mapping[str, Any]:
    """Read a size-capped JSON file whose top level must be an object (no repeated key)."""
    doc = load_json_document(path, read_bounded(path, limit, what, fix), what=what, fix=fix)
    if not isinstance(doc, dict):
        raise ArtifactError(f"{path}: {what} is a JSON {json_kind(doc)}, not an object: {fix}")
    return doc
