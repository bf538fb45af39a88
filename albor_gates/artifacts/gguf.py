"""GGUF reader: a bounded header parse into frozen evidence (tensor data: :mod:`.gguf_dequant`).

GGUF (llama.cpp's single-file model format, versions 2 and 3 — the two differ only in that v3
may be big-endian, which this reader refuses) is parsed here by our own code, not by gguf-py's
``GGUFReader``: that reader trusts every length and count in the file (a lying array length
makes it loop or allocate for as long as the file says), and it builds one numpy view per
array element, which costs seconds on a 151,936-token vocabulary. Every field is checked
*before* anything is allocated from it:

* magic ``GGUF``; version 2 or 3 (1 is obsolete, a byte-swapped version means big-endian);
* tensor and KV counts bounded by the bytes left in the file (a tensor info takes at least
  24 bytes, a KV pair at least 13) and by fixed caps;
* every string and array length bounded by the bytes remaining before it is read, strings
  valid UTF-8, arrays of known element type (arrays of arrays are refused, as llama.cpp's
  ``gguf.cpp`` does), KV keys unique and non-empty;
* ``general.alignment`` a uint32 power of two;
* per tensor: unique name, ``n_dims`` ≤ 4 (``GGML_MAX_DIMS``), every dim ≥ 1 with an element
  count that fits int64, a known ggml type, a row length (``ne[0]``) that is a multiple of the
  type's block size, a data offset aligned to ``general.alignment``, data inside the file and
  not overlapping another tensor's bytes.

A file that breaks any of these raises one :class:`~albor_gates.errors.ArtifactError` line:
``<file>: <field> at byte <absolute offset>: <what is wrong>; <how to fix>``, where the field is
e.g. ``header.version``, ``kv['tokenizer.ggml.tokens'].count`` or ``tensor_info[12].n_dims``.

Tensor data is decoded by :mod:`albor_gates.artifacts.gguf_dequant`; this module reads only the
header and the metadata, and imports neither numpy nor gguf (``gates lint`` must start fast).
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, Union

from albor_gates.errors import ArtifactError

from ._text import lfs_pointer_error

__all__ = [
    "GGML_TYPES",
    "SUPPORTED_VERSIONS",
    "GGUFFile",
    "GGUFScalar",
    "GGUFTensorInfo",
    "GGUFValue",
    "read_gguf",
]

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
GGML_MAX_DIMS = 4
DEFAULT_ALIGNMENT = 32
INT64_MAX = (1 << 63) - 1

# Caps far above any real model (the largest vocabularies are ~256k tokens, the largest MoE
# checkpoints a few thousand tensors) and far below what would exhaust memory: a Python tuple of
# n numbers costs ~30 bytes per element, so an array cap bounds memory independently of how large
# a file may legitimately be.
MAX_TENSORS = 1 << 20
MAX_KV = 1 << 20
MAX_ARRAY_LEN = 1 << 22
MAX_STRING_BYTES = 1 << 24

# The smallest encodings, used to bound counts by the bytes left before reading them: a tensor
# info is at least a name length (8), n_dims (4), type (4) and offset (8); a KV pair at least a
# key length (8), a one-byte key, a value type (4) and a one-byte value.
_MIN_TENSOR_INFO = 24
_MIN_KV = 14

GGUFScalar = Union[int, float, bool, str]
GGUFValue = Union[GGUFScalar, tuple[GGUFScalar, ...]]

# GGUF value types (gguf.constants.GGUFValueType): id -> (name, struct code, size).
_STRING = 8
_ARRAY = 9
_VALUE_TYPES: dict[int, tuple[str, str, int]] = {
    0: ("uint8", "B", 1),
    1: ("int8", "b", 1),
    2: ("uint16", "H", 2),
    3: ("int16", "h", 2),
    4: ("uint32", "I", 4),
    5: ("int32", "i", 4),
    6: ("float32", "f", 4),
    7: ("bool", "B", 1),
    _STRING: ("string", "", 8),
    _ARRAY: ("array", "", 12),
    10: ("uint64", "Q", 8),
    11: ("int64", "q", 8),
    12: ("float64", "d", 8),
}
_BOOL = 7
_FLOAT32 = 6

# ggml tensor types (ggml.h ``enum ggml_type``, gguf.constants.GGML_QUANT_SIZES):
# id -> (name, elements per block, bytes per block). Ids 4 and 5 (Q4_2, Q4_3) and 31-33, 36-38
# were removed from ggml and are unknown here, as in llama.cpp.
GGML_TYPES: Mapping[int, tuple[str, int, int]] = MappingProxyType(
    {
        0: ("F32", 1, 4),
        1: ("F16", 1, 2),
        2: ("Q4_0", 32, 18),
        3: ("Q4_1", 32, 20),
        6: ("Q5_0", 32, 22),
        7: ("Q5_1", 32, 24),
        8: ("Q8_0", 32, 34),
        9: ("Q8_1", 32, 40),
        10: ("Q2_K", 256, 84),
        11: ("Q3_K", 256, 110),
        12: ("Q4_K", 256, 144),
        13: ("Q5_K", 256, 176),
        14: ("Q6_K", 256, 210),
        15: ("Q8_K", 256, 292),
        16: ("IQ2_XXS", 256, 66),
        17: ("IQ2_XS", 256, 74),
        18: ("IQ3_XXS", 256, 98),
        19: ("IQ1_S", 256, 50),
        20: ("IQ4_NL", 32, 18),
        21: ("IQ3_S", 256, 110),
        22: ("IQ2_S", 256, 82),
        23: ("IQ4_XS", 256, 136),
        24: ("I8", 1, 1),
        25: ("I16", 1, 2),
        26: ("I32", 1, 4),
        27: ("I64", 1, 8),
        28: ("F64", 1, 8),
        29: ("IQ1_M", 256, 56),
        30: ("BF16", 1, 2),
        34: ("TQ1_0", 256, 54),
        35: ("TQ2_0", 256, 66),
        39: ("MXFP4", 32, 17),
        40: ("NVFP4", 64, 36),
        41: ("Q1_0", 128, 18),
    }
)

_CORRUPT = (
    "the file is corrupt, truncated or not written by a GGUF writer; re-export or re-download it"
)


@dataclass(frozen=True)
class GGUFTensorInfo:
    """One tensor's header entry, checked against the file.

    Attributes:
        index: position in the file's tensor-info table.
        name: the GGUF tensor name, e.g. ``blk.0.attn_q.weight``.
        ggml_type: the ggml type name, e.g. ``Q4_K``.
        type_id: the ggml type id as stored.
        dims: the shape in GGUF order (``ne[0]`` first: ``ne[0]`` is the contiguous row length).
        shape: the same shape in row-major torch / numpy order (``dims`` reversed), e.g.
            ``(151936, 896)`` for a Qwen2 ``token_embd.weight``.
        n_elements: the product of the dims.
        offset: the data offset as stored, relative to the start of the data section.
        data_offset: the absolute byte offset of the tensor's data in the file.
        nbytes: the tensor's data size: ``n_elements / block size × bytes per block``.
    """

    index: int
    name: str
    ggml_type: str
    type_id: int
    dims: tuple[int, ...]
    shape: tuple[int, ...]
    n_elements: int
    offset: int
    data_offset: int
    nbytes: int


@dataclass(frozen=True)
class GGUFFile:
    """Frozen evidence read from a GGUF header; no tensor data is held.

    Attributes:
        path: the file as given.
        file_size: its size in bytes when it was read.
        version: the GGUF version (2 or 3).
        alignment: ``general.alignment`` or the default 32.
        header_bytes: where the tensor-info table ends.
        data_offset: absolute offset of the (aligned) tensor data section.
        metadata: every KV pair in file order; arrays are tuples.
        value_types: the GGUF value type of every KV pair, e.g. ``uint32`` or
            ``array[string]``.
        tensors: every tensor info in file order.
        by_name: the same tensor infos keyed by name.
    """

    path: Path
    file_size: int
    version: int
    alignment: int
    header_bytes: int
    data_offset: int
    metadata: Mapping[str, GGUFValue]
    value_types: Mapping[str, str]
    tensors: tuple[GGUFTensorInfo, ...]
    by_name: Mapping[str, GGUFTensorInfo] = field(repr=False, compare=False)

    @property
    def architecture(self) -> str | None:
        """``general.architecture`` (e.g. ``qwen2``), or None when absent or not a string."""
        arch = self.metadata.get("general.architecture")
        return arch if isinstance(arch, str) else None

    @property
    def hparams(self) -> dict[str, GGUFValue]:
        """The architecture's hyper-parameters: ``<arch>.*`` keys with the prefix removed."""
        arch = self.architecture
        if arch is None:
            return {}
        prefix = arch + "."
        return {k[len(prefix) :]: v for k, v in self.metadata.items() if k.startswith(prefix)}

    @property
    def tokenizer(self) -> dict[str, GGUFValue]:
        """The ``tokenizer.*`` keys (vocabulary, merges, special ids, chat template)."""
        return {k: v for k, v in self.metadata.items() if k.startswith("tokenizer.")}

    @property
    def chat_template(self) -> str | None:
        """``tokenizer.chat_template`` when present."""
        tmpl = self.metadata.get("tokenizer.chat_template")
        return tmpl if isinstance(tmpl, str) else None

    @property
    def type_counts(self) -> dict[str, int]:
        """How many tensors each ggml type holds, sorted by type name."""
        counts: dict[str, int] = {}
        for t in self.tensors:
            counts[t.ggml_type] = counts.get(t.ggml_type, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def n_parameters(self) -> int:
        """Total element count over all tensors."""
        return sum(t.n_elements for t in self.tensors)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # MappingProxyType does not pickle; rebuild from plain dicts (multiprocessing, caches).
        return (
            _rebuild,
            (
                self.path,
                self.file_size,
                self.version,
                self.alignment,
                self.header_bytes,
                self.data_offset,
                dict(self.metadata),
                dict(self.value_types),
                self.tensors,
            ),
        )

    def tensor(self, name: str) -> GGUFTensorInfo:
        """Return the tensor info called ``name``.

        Raises:
            ArtifactError: when the file has no such tensor.
        """
        try:
            return self.by_name[name]
        except KeyError:
            raise ArtifactError(
                f"{self.path}: no tensor named {_show(name)} among its {len(self.tensors)} tensors"
            ) from None


def _rebuild(
    path: Path,
    file_size: int,
    version: int,
    alignment: int,
    header_bytes: int,
    data_offset: int,
    metadata: dict[str, GGUFValue],
    value_types: dict[str, str],
    tensors: tuple[GGUFTensorInfo, ...],
) -> GGUFFile:
    return GGUFFile(
        path=path,
        file_size=file_size,
        version=version,
        alignment=alignment,
        header_bytes=header_bytes,
        data_offset=data_offset,
        metadata=MappingProxyType(metadata),
        value_types=MappingProxyType(value_types),
        tensors=tensors,
        by_name=MappingProxyType({t.name: t for t in tensors}),
    )


def _show(text: str, limit: int = 80) -> str:
    """Quote file-sourced text for a one-line message (repr escapes newlines), cut to ``limit``."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def _shortest_f32(v: float) -> float:
    """Return the shortest decimal with the same float32 value: 1e-06, not 9.999999974752427e-07.

    A float32 hyper-parameter (``attention.layer_norm_rms_epsilon``) then compares equal to
    the config.json value it was written from.
    """
    if v != v or v in (float("inf"), float("-inf")):
        return v
    for digits in range(1, 10):
        short = float(f"{v:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", short))[0] == v:
            return short
    return v


class _Cursor:
    """Bounded little-endian reads over the mapped header; every read checks what is left."""

    def __init__(self, path: Path, buf: bytes | mmap.mmap, size: int) -> None:
        self.path = path
        self.buf = buf
        self.size = size
        self.pos = 0

    def fail(self, what: str, offset: int, problem: str, fix: str = _CORRUPT) -> NoReturn:
        raise ArtifactError(f"{self.path}: {what} at byte {offset}: {problem}; {fix}")

    @property
    def left(self) -> int:
        return self.size - self.pos

    def need(self, what: str, n: int) -> None:
        if n > self.left:
            self.fail(
                what,
                self.pos,
                f"needs {n} bytes but the file ends after {self.left} more (byte {self.size})",
            )

    def unpack(self, what: str, code: str, size: int) -> int | float:
        self.need(what, size)
        (value,) = struct.unpack_from("<" + code, self.buf, self.pos)
        self.pos += size
        return value

    def u32(self, what: str) -> int:
        return int(self.unpack(what, "I", 4))

    def u64(self, what: str) -> int:
        return int(self.unpack(what, "Q", 8))

    def string(self, what: str) -> str:
        start = self.pos
        n = self.u64(what + ".length")
        if n > self.left or n > MAX_STRING_BYTES:
            self.fail(
                what + ".length",
                start,
                f"string length {n} exceeds the {min(self.left, MAX_STRING_BYTES)} bytes "
                "it may take (the bytes left in the file, at most 16 MiB)",
            )
        raw = self.buf[self.pos : self.pos + n]
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(what, self.pos + e.start, "string is not valid UTF-8")
        self.pos += n
        return text

    def value(self, vtype: int, what: str) -> tuple[GGUFValue, str]:
        """Read a value of a known type; return it with its type name."""
        if vtype == _STRING:
            return self.string(what), "string"
        if vtype == _ARRAY:
            return self.array(what)
        name, code, size = _VALUE_TYPES[vtype]
        v = self.unpack(what, code, size)
        if vtype == _BOOL:
            return bool(v), name
        if vtype == _FLOAT32:
            return _shortest_f32(float(v)), name
        return v, name

    def array(self, what: str) -> tuple[tuple[GGUFScalar, ...], str]:
        type_at = self.pos
        etype = self.u32(what + ".element_type")
        if etype == _ARRAY:
            self.fail(
                what + ".element_type",
                type_at,
                "arrays of arrays are not supported (llama.cpp's gguf.cpp refuses them too)",
            )
        known = _VALUE_TYPES.get(etype)
        if known is None:
            self.fail(what + ".element_type", type_at, f"unknown value type {etype} (known: 0-12)")
        count_at = self.pos
        n = self.u64(what + ".count")
        _name, code, size = known
        # Bound the count by the bytes left before allocating anything sized by it: a string
        # element needs at least its 8-byte length.
        if n * size > self.left or n > MAX_ARRAY_LEN:
            self.fail(
                what + ".count",
                count_at,
                f"array of {n} {known[0]} elements needs at least {n * size} bytes but "
                f"{self.left} remain (cap {MAX_ARRAY_LEN} elements)",
            )
        tname = f"array[{known[0]}]"
        if etype == _STRING:
            return tuple(self.string(f"{what}[{i}]") for i in range(n)), tname
        values = struct.unpack_from(f"<{n}{code}", self.buf, self.pos)
        self.pos += n * size
        if etype == _BOOL:
            return tuple(bool(v) for v in values), tname
        return values, tname


def read_gguf(path: str | os.PathLike[str]) -> GGUFFile:
    """Read and check a GGUF file's header, KV metadata and tensor infos.

    No tensor data is read; :mod:`albor_gates.artifacts.gguf_dequant` does that.

    Args:
        path: the ``.gguf`` file.

    Returns:
        The frozen :class:`GGUFFile` evidence.

    Raises:
        ArtifactError: when the file cannot be opened or breaks any rule in the module
            docstring (one line naming the file, the field and the absolute byte offset).
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return _parse(p, b"", 0)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return _parse(p, mm, size)
    except OSError as e:
        raise ArtifactError(f"{p}: cannot read the GGUF file: {e.strerror or e}") from e


def _parse(path: Path, buf: bytes | mmap.mmap, size: int) -> GGUFFile:
    cur = _Cursor(path, buf, size)
    cur.need("header.magic", 4)
    magic = bytes(buf[0:4])
    lfs = lfs_pointer_error(path, bytes(buf[:200]), "GGUF file")
    if lfs is not None:
        raise lfs
    if magic != GGUF_MAGIC:
        cur.fail(
            "header.magic",
            0,
            f"expected b'GGUF', found {magic!r}",
            "this is not a GGUF file (convert it with gates export or llama.cpp's "
            "convert_hf_to_gguf.py)",
        )
    cur.pos = 4
    version = cur.u32("header.version")
    if version not in SUPPORTED_VERSIONS:
        swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
        if swapped in SUPPORTED_VERSIONS:
            problem = f"version {swapped} is stored big-endian, which this reader does not support"
        else:
            problem = f"unsupported version {version} (supported: 2, 3)"
        cur.fail(
            "header.version",
            4,
            problem,
            "re-convert the model with a current llama.cpp or gates export",
        )
    count_at = cur.pos
    tensor_count = cur.u64("header.tensor_count")
    kv_at = cur.pos
    kv_count = cur.u64("header.kv_count")
    if tensor_count > MAX_TENSORS or tensor_count * _MIN_TENSOR_INFO > cur.left:
        cur.fail(
            "header.tensor_count",
            count_at,
            f"{tensor_count} tensors cannot fit: a tensor info takes at least "
            f"{_MIN_TENSOR_INFO} bytes and {cur.left} bytes remain (cap {MAX_TENSORS})",
        )
    if kv_count > MAX_KV or kv_count * _MIN_KV + tensor_count * _MIN_TENSOR_INFO > cur.left:
        cur.fail(
            "header.kv_count",
            kv_at,
            f"{kv_count} KV pairs cannot fit: a KV pair takes at least {_MIN_KV} bytes and "
            f"{cur.left} bytes remain after {tensor_count} tensor infos (cap {MAX_KV})",
        )

    metadata: dict[str, GGUFValue] = {}
    value_types: dict[str, str] = {}
    value_at: dict[str, int] = {}
    for i in range(kv_count):
        key_at = cur.pos
        key = cur.string(f"kv[{i}].key")
        if not key:
            cur.fail(f"kv[{i}].key", key_at, "empty key")
        if key in metadata:
            cur.fail(f"kv[{i}].key", key_at, f"duplicate key {_show(key)}")
        what = f"kv[{_show(key)}]"
        type_at = cur.pos
        vtype = cur.u32(what + ".type")
        if vtype not in _VALUE_TYPES:
            cur.fail(what + ".type", type_at, f"unknown value type {vtype} (known: 0-12)")
        value_at[key] = cur.pos
        metadata[key], value_types[key] = cur.value(vtype, what)

    alignment = DEFAULT_ALIGNMENT
    if "general.alignment" in metadata:
        align_value = metadata["general.alignment"]
        at = value_at["general.alignment"]
        if value_types["general.alignment"] != "uint32":
            cur.fail(
                "kv['general.alignment']",
                at,
                f"must be a uint32, found {value_types['general.alignment']}",
            )
        assert isinstance(align_value, int)
        if align_value <= 0 or align_value & (align_value - 1):
            cur.fail("kv['general.alignment']", at, f"{align_value} is not a non-zero power of two")
        alignment = align_value

    raw_infos: list[tuple[str, int, tuple[int, ...], int, int, int]] = []
    names: set[str] = set()
    for i in range(tensor_count):
        ti = f"tensor_info[{i}]"
        name_at = cur.pos
        name = cur.string(ti + ".name")
        if name in names:
            cur.fail(ti + ".name", name_at, f"duplicate tensor name {_show(name)}")
        names.add(name)
        nd_at = cur.pos
        n_dims = cur.u32(ti + ".n_dims")
        if n_dims > GGML_MAX_DIMS:
            cur.fail(
                ti + ".n_dims",
                nd_at,
                f"tensor {_show(name)} has {n_dims} dimensions, more than GGML_MAX_DIMS = "
                f"{GGML_MAX_DIMS}",
            )
        dims: list[int] = []
        n_elements = 1
        for d in range(n_dims):
            dim_at = cur.pos
            dim = cur.u64(f"{ti}.dims[{d}]")
            if dim == 0 or dim > INT64_MAX:
                cur.fail(
                    f"{ti}.dims[{d}]",
                    dim_at,
                    f"tensor {_show(name)} has dimension {dim}; dims must be 1..2^63-1",
                )
            n_elements *= dim
            if n_elements > INT64_MAX:
                cur.fail(
                    f"{ti}.dims[{d}]",
                    dim_at,
                    f"tensor {_show(name)} has more than 2^63-1 elements (the dims overflow int64)",
                )
            dims.append(dim)
        type_at = cur.pos
        type_id = cur.u32(ti + ".type")
        ggml = GGML_TYPES.get(type_id)
        if ggml is None:
            cur.fail(
                ti + ".type",
                type_at,
                f"tensor {_show(name)} has unknown ggml type {type_id}",
                "the file needs a newer reader, or it is corrupt",
            )
        type_name, block, type_size = ggml
        row = dims[0] if dims else 1
        if row % block:
            cur.fail(
                ti + ".dims[0]",
                nd_at + 4,
                f"tensor {_show(name)} has row length {row}, not a multiple of the "
                f"{type_name} block size {block}",
            )
        off_at = cur.pos
        offset = cur.u64(ti + ".offset")
        if offset % alignment:
            cur.fail(
                ti + ".offset",
                off_at,
                f"tensor {_show(name)} data offset {offset} is not a multiple of the "
                f"alignment {alignment}",
            )
        nbytes = n_elements // block * type_size
        raw_infos.append((name, type_id, tuple(dims), offset, nbytes, off_at))

    header_bytes = cur.pos
    data_offset = -(-header_bytes // alignment) * alignment
    tensors: list[GGUFTensorInfo] = []
    for i, (name, type_id, dims_t, offset, nbytes, off_at) in enumerate(raw_infos):
        start = data_offset + offset
        if start + nbytes > size:
            cur.fail(
                f"tensor_info[{i}].offset",
                off_at,
                f"tensor {_show(name)} data spans bytes {start}..{start + nbytes} but the file "
                f"ends at byte {size}",
            )
        n_el = 1
        for d in dims_t:
            n_el *= d
        tensors.append(
            GGUFTensorInfo(
                index=i,
                name=name,
                ggml_type=GGML_TYPES[type_id][0],
                type_id=type_id,
                dims=dims_t,
                shape=tuple(reversed(dims_t)),
                n_elements=n_el,
                offset=offset,
                data_offset=start,
                nbytes=nbytes,
            )
        )
    ordered = sorted(tensors, key=lambda t: (t.offset, t.index))
    for prev, nxt in zip(ordered, ordered[1:], strict=False):
        if prev.offset + prev.nbytes > nxt.offset:
            cur.fail(
                f"tensor_info[{nxt.index}].offset",
                raw_infos[nxt.index][5],
                f"tensor {_show(nxt.name)} data at offset {nxt.offset} overlaps tensor "
                f"{_show(prev.name)} (offsets {prev.offset}..{prev.offset + prev.nbytes})",
            )

    return _rebuild(
        path,
        size,
        version,
        alignment,
        header_bytes,
        data_offset,
        metadata,
        value_types,
        tuple(tensors),
    )
