"""Bounded, hand-written reader of safetensors headers and sharded checkpoints.

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
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Union

from albor_gates.artifacts.limits import DEFAULT_HEADER_CAP, header_cap
from albor_gates.errors import ArtifactError

from ._text import (
    duplicates_of,
    gc_paused,
    json_kind,
    json_object_pairs,
    load_json_document,
    quote,
    read_bounded,
    reject_constant,
    short_json,
)

#: Largest header accepted by default, in bytes (per run: artifacts/limits.py).
MAX_HEADER_BYTES = DEFAULT_HEADER_CAP

#: Largest ``model.safetensors.index.json`` accepted, in bytes.
MAX_INDEX_BYTES = 100_000_000

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

#: File suffixes of pickle-based checkpoints, refused without being opened as pickles.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")

_ENTRY_KEYS = ("dtype", "shape", "data_offsets")
_CORRUPT = "the file is corrupt or was written by a broken tool; re-export it"
_TRUNCATED = "the file is truncated; re-download or re-export it"
_NOT_SAFETENSORS = "the file is corrupt or is not a safetensors file"
_INDEX_FIX = "regenerate the index with the tool that wrote the shards"
_PICKLE_FIX = (
    "unpickling can execute arbitrary code on load; convert it in an isolated environment with "
    "torch.load(path, weights_only=True) and safetensors.torch.save_file(state_dict, "
    "'model.safetensors'), then check the .safetensors file"
)
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


@dataclass(frozen=True)
class ShardedCheckpoint(_TensorView):
    """A checkpoint split over shards by ``model.safetensors.index.json``, validated.

    It offers the same tensor view as :class:`SafetensorsHeader` (``tensors``, ``by_name``,
    ``names``, ``num_params``, ``nbytes``, ``locate``, ``iter_located``) so checks and the
    scanner need not care whether a checkpoint is sharded.

    Attributes:
        path: the index file.
        index_metadata: the index's ``metadata`` object (e.g. ``total_size``), read-only.
        weight_map: tensor name → shard file name, as the index declares it.
        shards: every shard's validated header, sorted by file name.
        metadata: the shards' ``__metadata__`` merged (for a key present in several shards the
            first shard in name order wins; each shard's own stays in ``shards[i].metadata``).
        tensors: every tensor, shard by shard (name order), in offset order within a shard.
    """

    path: Path
    index_metadata: Mapping[str, Any]
    weight_map: Mapping[str, str]
    shards: tuple[SafetensorsHeader, ...]
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    tensors: tuple[TensorInfo, ...] = ()

    @cached_property
    def _located(self) -> Mapping[str, tuple[Path, TensorInfo]]:
        return MappingProxyType({t.name: (s.path, t) for s in self.shards for t in s.tensors})

    @property
    def nbytes(self) -> int:
        """Total tensor bytes over all shards."""
        return sum(s.nbytes for s in self.shards)

    @property
    def files(self) -> tuple[Path, ...]:
        """The shard files, in name order."""
        return tuple(s.path for s in self.shards)

    @property
    def declared_total_size(self) -> int | None:
        """``metadata.total_size`` of the index, when it declares one."""
        value = self.index_metadata.get("total_size")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def locate(self, name: str) -> tuple[Path, TensorInfo]:
        """Return ``(shard file, tensor)`` for a tensor name; ``KeyError`` when absent."""
        return self._located[name]

    def iter_located(self) -> Iterator[tuple[Path, TensorInfo]]:
        """Yield ``(shard file, tensor)`` for every tensor, shard by shard in offset order."""
        for s in self.shards:
            for t in s.tensors:
                yield s.path, t


#: What :func:`open_checkpoint` returns: one file or a sharded set, with the same tensor view.
Checkpoint = Union[SafetensorsHeader, ShardedCheckpoint]


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


# --------------------------------------------------------------------------------------------
# Sharded checkpoints
# --------------------------------------------------------------------------------------------


def read_sharded_index(path: str | os.PathLike[str]) -> ShardedCheckpoint:
    """Read ``model.safetensors.index.json`` and validate it against every shard's header.

    Checks: the index is a bounded JSON object with a ``weight_map`` object of tensor name →
    shard file name (a plain file name next to the index); every listed shard exists and has a
    valid header; every tensor the index lists is in the shard it names; no shard holds a tensor
    the index does not list (an orphan) or that another shard also holds; ``metadata.total_size``,
    when present, equals the sum of the shards' tensor bytes.

    Args:
        path: the index file.

    Raises:
        ArtifactError: the first violation, naming the index, shard and tensor.
    """
    p = Path(path)
    doc = load_json_document(
        p,
        read_bounded(p, MAX_INDEX_BYTES, "the sharded index", _INDEX_FIX),
        what="the sharded index",
        fix=_INDEX_FIX,
        parse_constant=reject_constant,
    )
    if not isinstance(doc, dict):
        raise ArtifactError(
            f"{p}: the sharded index is a JSON {json_kind(doc)}, not an object: {_INDEX_FIX}"
        )
    index_meta = doc.get("metadata", {})
    if not isinstance(index_meta, dict):
        raise ArtifactError(
            f"{p}: key 'metadata' is a JSON {json_kind(index_meta)}, not an object: {_INDEX_FIX}"
        )
    total: Any = index_meta.get("total_size")
    if "total_size" in index_meta and not (_is_int(total) and total >= 0):
        raise ArtifactError(
            f"{p}: key 'metadata.total_size' is {short_json(total)}, not a non-negative integer: "
            f"{_INDEX_FIX}"
        )
    if "weight_map" not in doc:
        raise ArtifactError(f"{p}: the sharded index lacks the key 'weight_map': {_INDEX_FIX}")
    wmap = doc["weight_map"]
    if not isinstance(wmap, dict):
        raise ArtifactError(
            f"{p}: key 'weight_map' is a JSON {json_kind(wmap)}, not an object: {_INDEX_FIX}"
        )
    by_shard: dict[str, list[str]] = {}
    for tensor, shard in wmap.items():
        if not isinstance(shard, str):
            raise ArtifactError(
                f"{p}: weight_map entry for tensor '{quote(tensor)}' is a JSON "
                f"{json_kind(shard)}, not a shard file name: {_INDEX_FIX}"
            )
        # A shard is a plain file next to the index: a path could read outside the release.
        if shard in ("", ".", "..") or "/" in shard or "\\" in shard or "\0" in shard:
            raise ArtifactError(
                f"{p}: weight_map puts tensor '{quote(tensor)}' in '{quote(shard)}', which is not "
                f"a plain file name next to the index: {_INDEX_FIX}"
            )
        by_shard.setdefault(shard, []).append(tensor)

    folder = p.parent
    shards: list[SafetensorsHeader] = []
    holder: dict[str, str] = {}
    for shard in sorted(by_shard):
        shard_path = folder / shard
        if not shard_path.is_file():
            first = by_shard[shard][0]
            raise ArtifactError(
                f"{p}: weight_map lists shard '{quote(shard)}' for {len(by_shard[shard])} "
                f"tensor(s) (first '{quote(first)}') but {shard_path} does not exist: copy the "
                f"shard next to the index or {_INDEX_FIX}"
            )
        header = read_safetensors_header(shard_path)
        for t in header.tensors:
            other = holder.get(t.name)
            if other is not None:
                raise ArtifactError(
                    f"{p}: tensor '{quote(t.name)}' is stored in both shard '{quote(other)}' and "
                    f"shard '{quote(shard)}' (absolute offset {t.abs_begin} in '{quote(shard)}'): "
                    f"remove the copy, then {_INDEX_FIX}"
                )
            holder[t.name] = shard
            if t.name not in wmap:
                raise ArtifactError(
                    f"{p}: shard '{quote(shard)}' holds tensor '{quote(t.name)}' (absolute offset "
                    f"{t.abs_begin}) that weight_map does not list: {_INDEX_FIX}"
                )
        shards.append(header)
    for tensor, shard in wmap.items():
        actual = holder.get(tensor)
        if actual != shard:
            where = (
                f"it is in shard '{quote(actual)}'" if actual is not None else "no shard holds it"
            )
            raise ArtifactError(
                f"{p}: weight_map puts tensor '{quote(tensor)}' in shard '{quote(shard)}' but "
                f"{where}: {_INDEX_FIX}"
            )
    actual_total = sum(s.nbytes for s in shards)
    if total is not None and total != actual_total:
        raise ArtifactError(
            f"{p}: metadata.total_size is {total} but the shards' tensors hold {actual_total} "
            f"bytes: {_INDEX_FIX}"
        )
    merged: dict[str, str] = {}
    for s in shards:
        for k, v in s.metadata.items():
            merged.setdefault(k, v)
    return ShardedCheckpoint(
        path=p,
        index_metadata=MappingProxyType(dict(index_meta)),
        weight_map=MappingProxyType(dict(wmap)),
        shards=tuple(shards),
        metadata=MappingProxyType(merged),
        tensors=tuple(t for s in shards for t in s.tensors),
    )


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _pickle_refusal(path: Path, why: str) -> ArtifactError:
    return ArtifactError(
        f"{path}: refusing to load a pickle-based checkpoint ({why}): {_PICKLE_FIX}"
    )


def _sniff_pickle(path: Path) -> str | None:
    """Why ``path`` looks like a pickle/zip torch checkpoint, or ``None`` (reads 64 bytes only).

    A safetensors file starts with its header length, so a first byte of 0x80 is legitimate
    (N = 128 + 256k): the magic only counts when the bytes cannot start a safetensors file,
    i.e. when the bytes after the length field do not open a JSON object.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    if head[8:].lstrip(b" \t\r\n").startswith(b"{"):
        return None
    if head.startswith(b"PK\x03\x04"):
        return "zip archive signature PK\\x03\\x04 at absolute offset 0, as torch.save writes"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return f"pickle protocol {head[1]} opcode at absolute offset 0"
    return None


def _pick_in_folder(folder: Path) -> Path:
    single = folder / "model.safetensors"
    if single.is_file():
        return single
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        return index
    found = sorted(q for q in folder.glob("*.safetensors") if q.is_file())
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(q.name for q in found[:5]) + (", ..." if len(found) > 5 else "")
        raise ArtifactError(
            f"{folder}: folder holds {len(found)} .safetensors files ({names}) but no "
            f"model.safetensors.index.json: name the file to check, or write the index"
        )
    pickles = sorted(
        q for q in folder.iterdir() if q.is_file() and q.suffix.lower() in PICKLE_SUFFIXES
    )
    if pickles:
        raise _pickle_refusal(pickles[0], f"file suffix {pickles[0].suffix}, no safetensors file")
    raise ArtifactError(
        f"{folder}: folder holds no model.safetensors, model.safetensors.index.json or other "
        f".safetensors file: export the weights with safetensors.torch.save_file"
    )


def open_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Open a checkpoint for structure checks and scanning, whatever form it takes.

    Accepts a ``.safetensors`` file, a ``*.index.json`` sharded index, or a release folder (in
    which ``model.safetensors`` is preferred, then ``model.safetensors.index.json``, then a lone
    ``*.safetensors``). Pickle-based checkpoints (``.bin``, ``.pt``, ``.pth``, ``.ckpt``, or any
    file with a zip / pickle signature) are refused **without being unpickled**.

    Args:
        path: file or folder.

    Returns:
        A :class:`SafetensorsHeader` or a :class:`ShardedCheckpoint`.

    Raises:
        ArtifactError: missing path, pickle checkpoint, ambiguous folder, or invalid file.
    """
    p = Path(path)
    if p.is_dir():
        p = _pick_in_folder(p)
    elif not p.exists():
        raise ArtifactError(
            f"{p}: no such file or folder: name a .safetensors file, a "
            f"model.safetensors.index.json or a release folder"
        )
    if p.name.lower().endswith(".json"):
        return read_sharded_index(p)
    if p.suffix.lower() in PICKLE_SUFFIXES:
        raise _pickle_refusal(p, f"file suffix {p.suffix}")
    why = _sniff_pickle(p)
    if why is not None:
        raise _pickle_refusal(p, why)
    return read_safetensors_header(p)
