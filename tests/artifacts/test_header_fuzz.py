"""Property tests: on any input the readers either succeed or raise a one-line ArtifactError."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albor_gates.artifacts.card import read_model_card
from albor_gates.artifacts.safetensors import DTYPE_BITS, parse_safetensors_bytes
from albor_gates.errors import ArtifactError

FUZZ = settings(
    max_examples=300,
    deadline=5000,  # generous for a shared CPU; a hang still fails
    suppress_health_check=[HealthCheck.too_slow],
)


def check(raw: bytes) -> None:
    try:
        h = parse_safetensors_bytes(raw, "fuzz.safetensors")
    except ArtifactError as e:
        msg = str(e)
        assert msg.startswith("fuzz.safetensors: ")
        assert "\n" not in msg and len(msg) < 2000
        return
    # Whatever parses must satisfy the format's promises.
    assert h.data_start == 8 + h.header_len and h.file_size == len(raw)
    end = 0
    for t in h.tensors:
        assert t.begin == end and t.nbytes * 8 == t.numel * DTYPE_BITS[t.dtype]
        end = t.end
    assert h.data_start + end == len(raw)


def valid_file(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    data = b""
    for i in range(n):
        dtype = ["F32", "BF16", "I64", "U8", "F4"][i % 5]
        shape = [int(d) for d in rng.integers(1, 4, size=int(rng.integers(0, 3)))] + [2]
        numel = int(np.prod(shape))
        nbytes = numel * DTYPE_BITS[dtype] // 8
        header[f"t{i}"] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(data), len(data) + nbytes],
        }
        data += bytes(rng.integers(0, 256, size=nbytes, dtype=np.uint8))
    hb = json.dumps(header).encode()
    return struct.pack("<Q", len(hb)) + hb + data


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_header_bytes_with_a_consistent_length(body: bytes) -> None:
    check(struct.pack("<Q", len(body)) + body)


@FUZZ
@given(
    st.integers(1, 6),
    st.integers(0, 2**16),
    st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete", "truncate", "length"]),
            st.integers(0, 10**6),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_valid_files(n: int, seed: int, edits: list[tuple[str, int, int]]) -> None:
    raw = bytearray(valid_file(n, seed))
    check(bytes(raw))  # the unmutated file parses
    for op, pos, byte in edits:
        i = pos % max(len(raw), 1)
        if op == "flip" and raw:
            raw[i] ^= byte or 1
        elif op == "insert":
            raw[i:i] = bytes([byte])
        elif op == "delete" and raw:
            del raw[i]
        elif op == "truncate":
            del raw[i:]
        elif op == "length":
            raw[0:8] = struct.pack("<Q", pos * 977 + byte)
    check(bytes(raw))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.sampled_from([*DTYPE_BITS, "F12", ""]) | json_values,
        "shape": st.lists(st.integers(-3, 2**65), max_size=4) | json_values,
        "data_offsets": st.lists(st.integers(-3, 2**65), max_size=3) | json_values,
        "extra": json_values,
    },
)


@FUZZ
@given(
    st.dictionaries(st.text(max_size=6), entries | json_values, max_size=5),
    st.integers(0, 64),
)
def test_structured_headers(header: dict[str, Any], data_len: int) -> None:
    hb = json.dumps(header).encode()
    check(struct.pack("<Q", len(hb)) + hb + bytes(data_len))


@settings(
    max_examples=200,
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.text(max_size=600))
def test_model_card_front_matter_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "README.md"
    path.write_text("---\n" + text + "\n---\nbody\n", encoding="utf-8")
    try:
        read_model_card(path)
    except ArtifactError as e:
        assert "\n" not in str(e)
