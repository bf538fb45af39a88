"""Bounded, hand-written reader of safetensors headers (discovery: :mod:`.checkpoint`).

The ``safetensors`` library is a consumer, not a validator: it trusts offsets it has checked
only loosely and its errors do not say where a file is broken. This reader checks everything the
format promises (https://huggingface.co/docs/safetensors, the reference Rust crate
``safetensors/src/tensor.rs``) and reports the first violation as one line that names the file,
the tensor and the **absolute** byte offset in the file::

    model.safetensors: tensor 'model.layers.0.mlp.up_proj.weight' data_offsets [64, 4160] overlap
    tensor 'model.layers.0.mlp.gate_proj.weight' ending at byte 4160 (absolute offset 1320): the
    file is corrupt or was written by a broken tool; re-export it

File layout: ``[u64 little-endian N][N bytes of UTF-8 JSON header][data section]``. The header
maps tensor names to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to
the data section, which starts at absolute offset ``8 + N``) plus an optional
``"__metadata__"`` object of string → string.

What is checked, in this order (GATES.md §2, issue 3 "Bad input"):

1. the length field is present, ``N`` is at most :data:`MAX_HEADER_BYTES` (checked *before*
   reading the header, like the crate's ``MAX_HEADER_SIZE``) and fits in the file;
2. the header is UTF-8 JSON whose top level is an object, with no repeated key at any level;
3. ``__metadata__``, when present, is an object of string → string;
4. every other key is a non-empty tensor name whose entry has exactly ``dtype``, ``shape`` and
   ``data_offsets``; the dtype is one of :data:`DTYPE_BITS`; the shape is a list of
   non-negative integers whose element count (exact Python integers, stopped early) fits in the
   data section; ``data_offsets`` is ``[begin, end]`` with ``begin <= end <= data size``; and
   ``end - begin`` equals the element count times the dtype size;
5. taken in offset order, tensors neither overlap nor leave gaps, start at byte 0 and end
   exactly at the end of the file (no trailing bytes).

Header key order is *not* required to follow offset order: the crate itself sorts entries by
offset before validating, and files written by older tools list tensors by name.

Reading a header never reads the data section: only ``8 + N`` bytes and ``fstat``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from albor_gates.artifacts.limits import DEFAULT_HEADER_CAP, header_cap
from albor_gates.errors import ArtifactError

from ._text import (
    LFS_POINTER_PREFIX,
    duplicates_of,
    gc_paused,
    json_kind,
    json_object_pairs,
    lfs_pointer_error,
    quote,
    reject_constant,
    short_json,
)

#: Largest header accepted by default, in bytes (per run: artifacts/limits.py).
MAX_HEADER_BYTES = DEFAULT_HEADER_CAP

#: Bits per element of every dtype the reference crate knows (``Dtype`` in ``tensor.rs``, 0.8).
DTYPE_BITS: Mapping[str, int] = MappingProxyType(
    {
        "BOOL": 8,
        "F4": 4,
        "F6_E2M3": 6,
        "F6_E3M2": 6,
        "U8": 8,
        "I8": 8,
        "F8_E5M2": 8,
        "F8_E4M3": 8,
        "F8_E8M0": 8,
        "F8_E4M3FNUZ": 8,
        "F8_E5M2FNUZ": 8,
        "I16": 16,
        "U16": 16,
        "F16": 16,
        "BF16": 16,
        "I32": 32,
        "U32": 32,
        "F32": 32,
        "C64": 64,
        "F64": 64,
        "I64": 64,
        "U64": 64,
    }
)

#: A dimension larger than this cannot be a real tensor (the crate parses shapes as ``usize``).
MAX_DIM = 2**63 - 1

_ENTRY_KEYS = ("dtype", "shape", "data_offsets")
_CORRUPT = "the file is corrupt or was written by a broken tool; re-export it"
_TRUNCATED = "the file is truncated; re-download or re-export it"
_NOT_SAFETENSORS = "the file is corrupt or is not a safetensors file"
# A JSON object key followed by its colon; used only on error paths to locate an entry.
_KEY_RE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


@dataclass(frozen=True)
class TensorInfo:
    """One tensor entry of a safetensors header, validated.

    Attributes:
        name: tensor name.
        dtype: safetensors dtype string (a key of :data:`DTYPE_BITS`).
        shape: dimensions.
        begin: start of the tensor's bytes, relative to the data section (as in the header).
        end: end (exclusive), relative to the data section.
        abs_begin: start of the tensor's bytes as an absolute offset in its file.
        abs_end: end (exclusive) as an absolute offset in its file.
    """

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int
    abs_begin: int
    abs_end: int

    @property
    def nbytes(self) -> int:
        """Size of the tensor's data in bytes."""
        return self.end - self.begin

    @property
    def numel(self) -> int:
        """Number of elements (1 for a 0-d scalar)."""
        n = 1
        for d in self.shape:
            n *= d
        return n


class _TensorView:
    """Name lookups shared by single-file and sharded checkpoints (over ``self.tensors``)."""

    tensors: tuple[TensorInfo, ...]

    @cached_property
    def by_name(self) -> Mapping[str, TensorInfo]:
        """Tensors keyed by name (read-only)."""
        return MappingProxyType({t.name: t for t in self.tensors})

    @property
    def names(self) -> tuple[str, ...]:
        """Tensor names, file by file in offset order."""
        return tuple(t.name for t in self.tensors)

    @property
    def num_params(self) -> int:
        """Total element count over all tensors (each stored tensor counted once)."""
        return sum(t.numel for t in self.tensors)


@dataclass(frozen=True)
class SafetensorsHeader(_TensorView):
    """The validated header of one ``.safetensors`` file: the evidence for structure checks.

    Attributes:
        path: the file, as the caller named it.
        header_len: ``N``, the JSON header's length in bytes.
        data_start: absolute offset of the data section (``8 + N``).
        file_size: size of the file in bytes.
        metadata: the ``__metadata__`` object (empty when absent), read-only.
        tensors: every tensor, sorted by offset.
    """

    path: Path
    header_len: int
    data_start: int
    file_size: int
    metadata: Mapping[str, str]
    tensors: tuple[TensorInfo, ...]

    @property
    def nbytes(self) -> int:
        """Size of the data section in bytes (the sum of every tensor's bytes)."""
        return self.file_size - self.data_start

    @property
    def files(self) -> tuple[Path, ...]:
        """The files holding tensor data (one for a single file)."""
        return (self.path,)

    def locate(self, name: str) -> tuple[Path, TensorInfo]:
        """Return ``(file, tensor)`` for a tensor name; ``KeyError`` when absent."""
        return self.path, self.by_name[name]

    def iter_located(self) -> Iterator[tuple[Path, TensorInfo]]:
        """Yield ``(file, tensor)`` for every tensor, file by file in offset order."""
        for t in self.tensors:
            yield self.path, t


# --------------------------------------------------------------------------------------------
# Single file
# --------------------------------------------------------------------------------------------


def read_safetensors_header(path: str | os.PathLike[str]) -> SafetensorsHeader:
    """Read and validate the header of a ``.safetensors`` file without touching its data.

    Args:
        path: the file.

    Returns:
        The validated header, tensors sorted by offset.

    Raises:
        ArtifactError: the file is missing or unreadable, or breaks the format (one line naming
            the file, the tensor and the absolute byte offset).
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            return _parse(f, size, p)
    except FileNotFoundError as e:
        raise ArtifactError(f"{p}: no such file: the safetensors file is missing") from e
    except IsADirectoryError as e:
        raise ArtifactError(f"{p}: is a folder, not a safetensors file") from e
    except OSError as e:
        raise ArtifactError(f"{p}: cannot read the safetensors file: {e.strerror or e}") from e


def parse_safetensors_bytes(data: bytes, path: str | os.PathLike[str]) -> SafetensorsHeader:
    """Validate a whole safetensors file held in memory (``gates stamp`` re-reads its output).

    Args:
        data: the complete file contents.
        path: the name used in messages and stored in the result.

    Raises:
        ArtifactError: as :func:`read_safetensors_header`.
    """
    return _parse(io.BytesIO(data), len(data), Path(path))


class _HeaderText:
    """The decoded header text, with a lazy index from key to absolute offset (errors only)."""

    def __init__(self, text: str, data_start: int) -> None:
        self.text = text
        self.data_start = data_start
        self._positions: dict[str, list[int]] | None = None

    def key_offsets(self, key: str) -> list[int]:
        """Absolute file offsets of every ``"key":`` occurrence (best effort, for messages)."""
        if self._positions is None:
            import json

            positions: dict[str, list[int]] = {}
            for m in _KEY_RE.finditer(self.text):
                try:
                    decoded = json.loads(f'"{m.group(1)}"')
                except ValueError:
                    continue
                positions.setdefault(decoded, []).append(m.start())
            self._positions = positions
        return [8 + len(self.text[:pos].encode("utf-8")) for pos in self._positions.get(key, [])]

    def entry_offset(self, key: str, occurrence: int = 0) -> int:
        """Absolute offset of the ``occurrence``-th ``"key":`` (the header start if not found)."""
        offsets = self.key_offsets(key)
        return offsets[occurrence] if len(offsets) > occurrence else 8

    def pos_offset(self, pos: int) -> int:
        """Absolute offset of a character position in the header text."""
        return 8 + len(self.text[:pos].encode("utf-8"))


def _parse(f: BinaryIO, size: int, path: Path) -> SafetensorsHeader:
    """Parse and validate from an open binary stream of known size (see the module docstring)."""
    name = str(path)
    if size < 8:
        raise ArtifactError(
            f"{name}: file is {size} bytes, too short for the 8-byte header length field "
            f"(absolute offset 0): {_TRUNCATED}"
        )
    head = f.read(8)
    if len(head) != 8:
        raise ArtifactError(
            f"{name}: file ended inside the 8-byte header length field (absolute offset "
            f"{len(head)}): {_TRUNCATED}"
        )
    if head.startswith(LFS_POINTER_PREFIX[:8]):
        lfs = lfs_pointer_error(path, head + f.read(200), "safetensors file")
        if lfs is not None:
            raise lfs
    n = int.from_bytes(head, "little")
    # The cap is checked before the length is used for anything: a lying length must not size
    # an allocation or a read.
    cap = header_cap()
    if n > cap:
        raise ArtifactError(
            f"{name}: header length field claims {n} bytes, above the {cap}-byte limit "
            f"(absolute offset 0): {_NOT_SAFETENSORS} (or raise the cap: --max-header-mib)"
        )
    if n > size - 8:
        raise ArtifactError(
            f"{name}: header length field claims {n} bytes but only {size - 8} bytes follow it "
            f"(absolute offset 0): {_TRUNCATED}"
        )
    raw = f.read(n)
    if len(raw) != n:
        raise ArtifactError(
            f"{name}: file ended after {len(raw)} of the {n} header bytes (absolute offset "
            f"{8 + len(raw)}): {_TRUNCATED}"
        )
    data_start = 8 + n
    data_size = size - data_start
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ArtifactError(
            f"{name}: header is not valid UTF-8 (absolute offset {8 + e.start}): {_NOT_SAFETENSORS}"
        ) from e
    header = _HeaderText(text, data_start)
    with gc_paused():
        obj = _decode_header_json(name, header)
        if not isinstance(obj, dict):
            raise ArtifactError(
                f"{name}: header is a JSON {json_kind(obj)}, not an object (absolute offset 8): "
                f"{_NOT_SAFETENSORS}"
            )
        dups = duplicates_of(obj)
        if dups:
            dup = dups[0]
            if dup == "__metadata__":
                raise ArtifactError(
                    f"{name}: header has two __metadata__ objects (absolute offset "
                    f"{header.entry_offset(dup, 1)}): {_CORRUPT}"
                )
            raise ArtifactError(
                f"{name}: tensor name '{quote(dup)}' appears twice in the header (absolute offset "
                f"{header.entry_offset(dup, 1)}): {_CORRUPT}"
            )
        metadata = _check_metadata(name, header, obj.get("__metadata__"), "__metadata__" in obj)
        entries = [
            _check_entry(name, header, key, value, data_size)
            for key, value in obj.items()
            if key != "__metadata__"
        ]
        tensors = _check_layout(name, entries, data_start, data_size)
    return SafetensorsHeader(
        path=path,
        header_len=n,
        data_start=data_start,
        file_size=size,
        metadata=metadata,
        tensors=tensors,
    )


def _decode_header_json(name: str, header: _HeaderText) -> Any:
    import json

    try:
        return json.loads(
            header.text, object_pairs_hook=json_object_pairs, parse_constant=reject_constant
        )
    except json.JSONDecodeError as e:
        raise ArtifactError(
            f"{name}: header is not valid JSON: {e.msg} (absolute offset "
            f"{header.pos_offset(e.pos)}): {_NOT_SAFETENSORS}"
        ) from e
    except RecursionError as e:
        raise ArtifactError(
            f"{name}: header nests JSON too deeply to be a safetensors header (absolute offset "
            f"8): {_NOT_SAFETENSORS}"
        ) from e
    except ValueError as e:  # NaN / Infinity tokens, integers longer than 4300 digits
        raise ArtifactError(
            f"{name}: header is not valid JSON: {e} (absolute offset 8): {_NOT_SAFETENSORS}"
        ) from e


def _check_metadata(name: str, header: _HeaderText, value: Any, present: bool) -> Mapping[str, str]:
    if not present:
        return MappingProxyType({})
    where = header.entry_offset("__metadata__")
    if not isinstance(value, dict):
        raise ArtifactError(
            f"{name}: __metadata__ is a JSON {json_kind(value)}, not an object of strings "
            f"(absolute offset {where}): {_CORRUPT}"
        )
    if duplicates_of(value):
        raise ArtifactError(
            f"{name}: __metadata__ repeats the key '{quote(duplicates_of(value)[0])}' (absolute "
            f"offset {where}): {_CORRUPT}"
        )
    for key, v in value.items():
        if not isinstance(v, str):
            raise ArtifactError(
                f"{name}: __metadata__ key '{quote(key)}' has a JSON {json_kind(v)} value, not a "
                f"string (absolute offset {where}): {_CORRUPT}"
            )
    return MappingProxyType(dict(value))


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_entry(
    name: str, header: _HeaderText, key: str, value: Any, data_size: int
) -> tuple[str, str, tuple[int, ...], int, int]:
    """Validate one tensor entry on its own; return ``(name, dtype, shape, begin, end)``."""

    def fail(what: str, fix: str = _CORRUPT) -> ArtifactError:
        return ArtifactError(
            f"{name}: tensor '{quote(key)}' {what} (absolute offset "
            f"{header.entry_offset(key)}): {fix}"
        )

    if key == "":
        raise ArtifactError(
            f"{name}: a tensor has an empty name (absolute offset {header.entry_offset(key)}): "
            f"{_CORRUPT}"
        )
    if not isinstance(value, dict):
        raise fail(f"entry is a JSON {json_kind(value)}, not an object")
    if duplicates_of(value):
        raise fail(f"repeats the key '{quote(duplicates_of(value)[0])}'")
    for k in _ENTRY_KEYS:
        if k not in value:
            raise fail(f"lacks the key '{k}'")
    extra = sorted(k for k in value if k not in _ENTRY_KEYS)
    if extra:
        raise fail(
            f"has the unknown key '{quote(extra[0])}' (an entry has exactly dtype, shape and "
            f"data_offsets)"
        )

    dtype = value["dtype"]
    if not isinstance(dtype, str):
        raise fail(f"dtype is a JSON {json_kind(dtype)}, not a string")
    if dtype not in DTYPE_BITS:
        raise fail(
            f"has unknown dtype '{quote(dtype)}'",
            f"known dtypes are {', '.join(sorted(DTYPE_BITS))}; re-export it with one of them",
        )
    bits = DTYPE_BITS[dtype]

    shape = value["shape"]
    if not isinstance(shape, list):
        raise fail(f"shape is a JSON {json_kind(shape)}, not a list of integers")
    for i, d in enumerate(shape):
        if not _is_int(d):
            raise fail(f"shape {short_json(shape)} has a non-integer dimension at index {i}")
        if d < 0:
            raise fail(f"shape {short_json(shape)} has a negative dimension at index {i}")
        if d > MAX_DIM:
            raise fail(f"shape {short_json(shape)} has dimension {i} above 2^63 - 1")
    # Exact element count with Python integers, stopped as soon as it cannot fit: a lying shape
    # can neither overflow nor make us multiply huge numbers.
    limit_bits = data_size * 8
    nbits = bits if 0 not in shape else 0
    for d in shape:
        if nbits == 0:
            break
        nbits *= d
        if nbits > limit_bits:
            raise fail(
                f"shape {short_json(shape)} of dtype {dtype} needs more bytes than the whole "
                f"{data_size}-byte data section holds"
            )
    if nbits % 8:
        raise fail(
            f"shape {short_json(shape)} of dtype {dtype} is {nbits} bits, not a whole number of "
            f"bytes"
        )
    nbytes = nbits // 8

    offsets = value["data_offsets"]
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(_is_int(o) and o >= 0 for o in offsets)
    ):
        raise fail(f"data_offsets {short_json(offsets)} is not a list of two non-negative integers")
    begin, end = offsets
    data_start = header.data_start
    if begin > end:
        raise ArtifactError(
            f"{name}: tensor '{quote(key)}' data_offsets [{begin}, {end}] end before they begin "
            f"(absolute offset {data_start + begin}): {_CORRUPT}"
        )
    if end > data_size:
        raise ArtifactError(
            f"{name}: tensor '{quote(key)}' data_offsets [{begin}, {end}] end past the "
            f"{data_size}-byte data section, i.e. past the end of the file (absolute offset "
            f"{data_start + end}): {_TRUNCATED}"
        )
    if end - begin != nbytes:
        raise ArtifactError(
            f"{name}: tensor '{quote(key)}' data_offsets [{begin}, {end}] span {end - begin} "
            f"bytes but dtype {dtype} x shape {short_json(shape)} needs {nbytes} bytes (absolute "
            f"offset {data_start + begin}): {_CORRUPT}"
        )
    return key, dtype, tuple(shape), begin, end


def _check_layout(
    name: str,
    entries: list[tuple[str, str, tuple[int, ...], int, int]],
    data_start: int,
    data_size: int,
) -> tuple[TensorInfo, ...]:
    """Check that tensors, in offset order, tile the data section exactly."""
    ordered = sorted(entries, key=lambda e: (e[3], e[4]))
    prev_end = 0
    prev_name: str | None = None
    for key, _dtype, _shape, begin, end in ordered:
        if begin < prev_end:
            raise ArtifactError(
                f"{name}: tensor '{quote(key)}' data_offsets [{begin}, {end}] overlap tensor "
                f"'{quote(prev_name or '')}' ending at byte {prev_end} (absolute offset "
                f"{data_start + begin}): {_CORRUPT}"
            )
        if begin > prev_end:
            after = (
                f"the previous tensor '{quote(prev_name)}' ending at byte {prev_end}"
                if prev_name is not None
                else "the start of the data section"
            )
            raise ArtifactError(
                f"{name}: tensor '{quote(key)}' data_offsets [{begin}, {end}] leave a gap of "
                f"{begin - prev_end} unused bytes after {after} (absolute offset "
                f"{data_start + prev_end}): {_CORRUPT}"
            )
        prev_end = end
        prev_name = key
    if prev_end != data_size:
        last = (
            f"the last tensor '{quote(prev_name)}' ends at byte {prev_end} of the data section"
            if prev_name is not None
            else "the header, which lists no tensor"
        )
        raise ArtifactError(
            f"{name}: {data_size - prev_end} trailing bytes after {last} (absolute offset "
            f"{data_start + prev_end}): the file was appended to or its header lies; re-export it"
        )
    return tuple(
        TensorInfo(
            name=key,
            dtype=dtype,
            shape=shape,
            begin=begin,
            end=end,
            abs_begin=data_start + begin,
            abs_end=data_start + end,
        )
        for key, dtype, shape, begin, end in ordered
    )
