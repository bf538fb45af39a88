"""A byte-level GGUF builder for crafting valid and lying files in tests.

gguf-py's writer refuses to write most of the lies the reader must survive, so the bad-input
tests build files here field by field and record where each field starts.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY = range(10)
UINT64, INT64, FLOAT64 = 10, 11, 12
_CODES = {
    UINT8: "B",
    INT8: "b",
    UINT16: "H",
    INT16: "h",
    UINT32: "I",
    INT32: "i",
    FLOAT32: "f",
    BOOL: "?",
    UINT64: "Q",
    INT64: "q",
    FLOAT64: "d",
}


@dataclass
class Built:
    data: bytes
    at: dict[str, int] = field(default_factory=dict)


def _string(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def _value(vtype: int, value: object) -> bytes:
    if vtype == STRING:
        return _string(value)  # type: ignore[arg-type]
    if vtype == ARRAY:
        etype, items = value  # type: ignore[misc]
        out = struct.pack("<IQ", etype, len(items))
        return out + b"".join(_value(etype, v) for v in items)
    if vtype not in _CODES:  # an unknown type: write a 4-byte placeholder value
        return struct.pack("<I", value)
    return struct.pack("<" + _CODES[vtype], value)


def build(
    kvs: list[tuple[str, int, object]],
    tensors: list[tuple[str, tuple[int, ...], int, bytes]],
    *,
    version: int = 3,
    alignment: int = 32,
    tensor_count: int | None = None,
    kv_count: int | None = None,
    offsets: list[int] | None = None,
) -> Built:
    """Build a GGUF: header, KVs, tensor infos (dims in GGUF order), aligned tensor data."""
    at: dict[str, int] = {}
    out = bytearray(b"GGUF")
    out += struct.pack("<I", version)
    at["header.tensor_count"] = len(out)
    out += struct.pack("<Q", len(tensors) if tensor_count is None else tensor_count)
    at["header.kv_count"] = len(out)
    out += struct.pack("<Q", len(kvs) if kv_count is None else kv_count)
    for i, (key, vtype, value) in enumerate(kvs):
        at[f"kv[{i}].key"] = len(out)
        out += _string(key)
        at[f"kv[{i}].type"] = len(out)
        out += struct.pack("<I", vtype)
        at[f"kv[{i}].value"] = len(out)
        out += _value(vtype, value)
    data_offsets: list[int] = []
    cursor = 0
    for i, (_name, _dims, _type, payload) in enumerate(tensors):
        off = offsets[i] if offsets is not None else cursor
        data_offsets.append(off)
        cursor = off + -(-len(payload) // alignment) * alignment
    for i, (name, dims, ggml_type, _payload) in enumerate(tensors):
        ti = f"tensor_info[{i}]"
        at[ti + ".name"] = len(out)
        out += _string(name)
        at[ti + ".n_dims"] = len(out)
        out += struct.pack("<I", len(dims))
        for d, dim in enumerate(dims):
            at[f"{ti}.dims[{d}]"] = len(out)
            out += struct.pack("<Q", dim)
        at[ti + ".type"] = len(out)
        out += struct.pack("<I", ggml_type)
        at[ti + ".offset"] = len(out)
        out += struct.pack("<Q", data_offsets[i])
    at["header_end"] = len(out)
    out += b"\0" * (-len(out) % alignment)
    at["data"] = len(out)
    data = bytearray()
    for off, (_n, _d, _t, payload) in zip(data_offsets, tensors, strict=True):
        if len(data) < off:
            data += b"\0" * (off - len(data))
        data[off : off + len(payload)] = payload
    data += b"\0" * (-len(data) % alignment)
    return Built(bytes(out + data), at)


def f32_payload(n: int, start: float = 0.0) -> bytes:
    return struct.pack(f"<{n}f", *(start + i for i in range(n)))


def small_valid() -> Built:
    """A two-tensor F32 file with one string, one uint32, one string-array KV."""
    return build(
        [
            ("general.architecture", STRING, "llama"),
            ("general.alignment", UINT32, 32),
            ("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "b", "c"])),
        ],
        [
            ("token_embd.weight", (4, 3), 0, f32_payload(12)),
            ("output_norm.weight", (4,), 0, f32_payload(4, 100.0)),
        ],
    )
