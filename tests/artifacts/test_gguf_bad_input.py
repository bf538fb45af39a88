"""Hostile and broken GGUF files: one exact ArtifactError line each, no hang, no big allocation."""

from __future__ import annotations

import struct
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testlib.gguf_build import (
    ARRAY,
    FLOAT32,
    INT32,
    STRING,
    UINT32,
    build,
    f32_payload,
    small_valid,
)

from albor_gates.artifacts.gguf import read_gguf
from albor_gates.artifacts.gguf_dequant import iter_dequantized
from albor_gates.errors import ArtifactError

FIX = "the file is corrupt, truncated or not written by a GGUF writer; re-export or re-download it"


def _error(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "bad.gguf"
    path.write_bytes(data)
    with pytest.raises(ArtifactError) as e:
        g = read_gguf(path)
        for _ in iter_dequantized(g):
            pass
    text = str(e.value)
    assert "\n" not in text and "\r" not in text
    prefix = f"{path}: "
    assert text.startswith(prefix)
    return text[len(prefix) :]


def _patch(data: bytes, at: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into("<" + fmt, b, at, value)
    return bytes(b)


def test_small_valid_file_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.gguf"
    path.write_bytes(small_valid().data)
    g = read_gguf(path)
    assert [t.name for t in g.tensors] == ["token_embd.weight", "output_norm.weight"]
    assert g.tensor("token_embd.weight").shape == (3, 4)


def test_empty_file(tmp_path: Path) -> None:
    assert _error(tmp_path, b"") == (
        f"header.magic at byte 0: needs 4 bytes but the file ends after 0 more (byte 0); {FIX}"
    )


def test_wrong_magic(tmp_path: Path) -> None:
    data = b"GGML" + small_valid().data[4:]
    assert _error(tmp_path, data) == (
        "header.magic at byte 0: expected b'GGUF', found b'GGML'; this is not a GGUF file "
        "(convert it with gates export or llama.cpp's convert_hf_to_gguf.py)"
    )


@pytest.mark.parametrize("version", [1, 4, 0xFFFFFFFF])
def test_unsupported_version(tmp_path: Path, version: int) -> None:
    data = _patch(small_valid().data, 4, "I", version)
    assert _error(tmp_path, data) == (
        f"header.version at byte 4: unsupported version {version} (supported: 2, 3); "
        "re-convert the model with a current llama.cpp or gates export"
    )


def test_big_endian_version(tmp_path: Path) -> None:
    data = small_valid().data[:4] + struct.pack(">I", 3) + small_valid().data[8:]
    assert _error(tmp_path, data) == (
        "header.version at byte 4: version 3 is stored big-endian, which this reader does not "
        "support; re-convert the model with a current llama.cpp or gates export"
    )


def test_version_2_reads(tmp_path: Path) -> None:
    path = tmp_path / "v2.gguf"
    path.write_bytes(_patch(small_valid().data, 4, "I", 2))
    assert read_gguf(path).version == 2


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (
            6,
            "header.version at byte 4: needs 4 bytes but the file ends after 2 more (byte 6)",
        ),
        (
            20,
            "header.kv_count at byte 16: needs 8 bytes but the file ends after 4 more (byte 20)",
        ),
        (
            40,
            "header.tensor_count at byte 8: 2 tensors cannot fit: a tensor info takes at least "
            "24 bytes and 16 bytes remain (cap 1048576)",
        ),
    ],
)
def test_truncated_header(tmp_path: Path, cut: int, expected: str) -> None:
    assert _error(tmp_path, small_valid().data[:cut]) == f"{expected}; {FIX}"


def test_truncated_inside_tensor_infos(tmp_path: Path) -> None:
    built = small_valid()
    cut = built.at["tensor_info[1].type"] + 2
    assert _error(tmp_path, built.data[:cut]) == (
        f"tensor_info[1].type at byte {cut - 2}: needs 4 bytes but the file ends after 2 more "
        f"(byte {cut}); {FIX}"
    )


def test_truncated_tensor_data(tmp_path: Path) -> None:
    built = small_valid()
    data = built.data[: built.at["data"] + 72]
    start = built.at["data"] + 64
    assert _error(tmp_path, data) == (
        f"tensor_info[1].offset at byte {built.at['tensor_info[1].offset']}: tensor "
        f"'output_norm.weight' data spans bytes {start}..{start + 16} but the file ends at byte "
        f"{len(data)}; {FIX}"
    )


def test_lying_tensor_count(tmp_path: Path) -> None:
    built = small_valid()
    data = _patch(built.data, 8, "Q", 1 << 60)
    left = len(data) - 24
    assert _error(tmp_path, data) == (
        f"header.tensor_count at byte 8: {1 << 60} tensors cannot fit: a tensor info takes at "
        f"least 24 bytes and {left} bytes remain (cap 1048576); {FIX}"
    )


def test_lying_kv_count(tmp_path: Path) -> None:
    built = small_valid()
    data = _patch(built.data, 16, "Q", (1 << 64) - 1)
    left = len(data) - 24
    assert _error(tmp_path, data) == (
        f"header.kv_count at byte 16: {(1 << 64) - 1} KV pairs cannot fit: a KV pair takes at "
        f"least 14 bytes and {left} bytes remain after 2 tensor infos (cap 1048576); {FIX}"
    )


def test_kv_count_one_too_many_reads_tensor_info_as_kv(tmp_path: Path) -> None:
    built = small_valid()
    data = _patch(built.data, 16, "Q", 4)
    # The 4th "KV" is the first tensor info: its name parses as a key, n_dims (2) as the value
    # type uint16, and the tensor-info table then starts mid-field and fails on a length.
    assert _error(tmp_path, data) == (
        "tensor_info[0].name.length at byte 205: string length 844424930131968 exceeds the 171 "
        f"bytes it may take (the bytes left in the file, at most 16 MiB); {FIX}"
    )


def test_lying_string_length(tmp_path: Path) -> None:
    built = small_valid()
    at = built.at["kv[0].key"]
    data = _patch(built.data, at, "Q", 1 << 62)
    left = len(data) - at - 8
    assert _error(tmp_path, data) == (
        f"kv[0].key.length at byte {at}: string length {1 << 62} exceeds the {left} bytes it may "
        f"take (the bytes left in the file, at most 16 MiB); {FIX}"
    )


def test_lying_array_length(tmp_path: Path) -> None:
    built = small_valid()
    count_at = built.at["kv[2].value"] + 4
    data = _patch(built.data, count_at, "Q", 1 << 40)
    left = len(data) - count_at - 8
    assert _error(tmp_path, data) == (
        f"kv['tokenizer.ggml.tokens'].count at byte {count_at}: array of {1 << 40} string "
        f"elements needs at least {8 << 40} bytes but {left} remain (cap 4194304 elements); {FIX}"
    )


def test_array_string_element_length_lies(tmp_path: Path) -> None:
    built = small_valid()
    elem_at = built.at["kv[2].value"] + 12 + 9  # past "a" to the length of "b"
    data = _patch(built.data, elem_at, "Q", 10**12)
    left = len(data) - elem_at - 8
    assert _error(tmp_path, data) == (
        f"kv['tokenizer.ggml.tokens'][1].length at byte {elem_at}: string length {10**12} "
        f"exceeds the {left} bytes it may take (the bytes left in the file, at most 16 MiB); {FIX}"
    )


def test_lying_length_allocates_nothing_big(tmp_path: Path) -> None:
    built = small_valid()
    data = _patch(built.data, built.at["kv[2].value"] + 4, "Q", (1 << 22) - 1)
    path = tmp_path / "lie.gguf"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(ArtifactError):
            read_gguf(path)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


def test_unknown_kv_type(tmp_path: Path) -> None:
    built = small_valid()
    at = built.at["kv[1].type"]
    assert _error(tmp_path, _patch(built.data, at, "I", 13)) == (
        f"kv['general.alignment'].type at byte {at}: unknown value type 13 (known: 0-12); {FIX}"
    )


def test_unknown_array_element_type_and_nested_arrays(tmp_path: Path) -> None:
    built = small_valid()
    at = built.at["kv[2].value"]
    assert _error(tmp_path, _patch(built.data, at, "I", 77)) == (
        f"kv['tokenizer.ggml.tokens'].element_type at byte {at}: unknown value type 77 "
        f"(known: 0-12); {FIX}"
    )
    assert _error(tmp_path, _patch(built.data, at, "I", ARRAY)) == (
        f"kv['tokenizer.ggml.tokens'].element_type at byte {at}: arrays of arrays are not "
        f"supported (llama.cpp's gguf.cpp refuses them too); {FIX}"
    )


def test_duplicate_and_empty_and_non_utf8_keys(tmp_path: Path) -> None:
    dup = build([("a.b", UINT32, 1), ("a.b", UINT32, 2)], [])
    assert _error(tmp_path, dup.data) == (
        f"kv[1].key at byte {dup.at['kv[1].key']}: duplicate key 'a.b'; {FIX}"
    )
    empty = build([("", UINT32, 1)], [])
    assert _error(tmp_path, empty.data) == f"kv[0].key at byte 24: empty key; {FIX}"
    bad = build([(b"a\xffb", UINT32, 1)], [])  # type: ignore[list-item]
    assert _error(tmp_path, bad.data) == (f"kv[0].key at byte 33: string is not valid UTF-8; {FIX}")


def test_key_with_newline_is_escaped_in_the_one_line_message(tmp_path: Path) -> None:
    bad = build([("evil\nkey", 42, 1)], [])  # type: ignore[list-item]
    text = _error(tmp_path, bad.data)
    assert text == f"kv['evil\\nkey'].type at byte 40: unknown value type 42 (known: 0-12); {FIX}"


@pytest.mark.parametrize(
    ("vtype", "value", "problem"),
    [
        (INT32, 32, "must be a uint32, found int32"),
        (UINT32, 0, "0 is not a non-zero power of two"),
        (UINT32, 48, "48 is not a non-zero power of two"),
    ],
)
def test_bad_alignment(tmp_path: Path, vtype: int, value: int, problem: str) -> None:
    built = build([("general.alignment", vtype, value)], [])
    at = built.at["kv[0].value"]
    assert _error(tmp_path, built.data) == f"kv['general.alignment'] at byte {at}: {problem}; {FIX}"


def test_unknown_quant_type(tmp_path: Path) -> None:
    built = small_valid()
    at = built.at["tensor_info[0].type"]
    for bad in (4, 99):
        assert _error(tmp_path, _patch(built.data, at, "I", bad)) == (
            f"tensor_info[0].type at byte {at}: tensor 'token_embd.weight' has unknown ggml type "
            f"{bad}; the file needs a newer reader, or it is corrupt"
        )


def test_n_dims_5(tmp_path: Path) -> None:
    built = build([], [("t", (1, 1, 1, 1, 4), 0, f32_payload(4))])
    at = built.at["tensor_info[0].n_dims"]
    assert _error(tmp_path, built.data) == (
        f"tensor_info[0].n_dims at byte {at}: tensor 't' has 5 dimensions, more than "
        f"GGML_MAX_DIMS = 4; {FIX}"
    )


def test_zero_dim_and_overflowing_element_count(tmp_path: Path) -> None:
    zero = build([], [("t", (4, 0), 0, f32_payload(4))])
    at = zero.at["tensor_info[0].dims[1]"]
    assert _error(tmp_path, zero.data) == (
        f"tensor_info[0].dims[1] at byte {at}: tensor 't' has dimension 0; dims must be "
        f"1..2^63-1; {FIX}"
    )
    huge = build([], [("t", (1 << 32, 1 << 32), 0, f32_payload(4))])
    at = huge.at["tensor_info[0].dims[1]"]
    assert _error(tmp_path, huge.data) == (
        f"tensor_info[0].dims[1] at byte {at}: tensor 't' has more than 2^63-1 elements (the "
        f"dims overflow int64); {FIX}"
    )


def test_row_not_multiple_of_block(tmp_path: Path) -> None:
    built = build([], [("q", (33, 1), 8, b"\0" * 34)])
    at = built.at["tensor_info[0].dims[0]"]
    assert _error(tmp_path, built.data) == (
        f"tensor_info[0].dims[0] at byte {at}: tensor 'q' has row length 33, not a multiple of "
        f"the Q8_0 block size 32; {FIX}"
    )


def test_tensor_past_end_of_file(tmp_path: Path) -> None:
    built = small_valid()
    at = built.at["tensor_info[1].offset"]
    data = _patch(built.data, at, "Q", 1 << 40)
    start = built.at["data"] + (1 << 40)
    assert _error(tmp_path, data) == (
        f"tensor_info[1].offset at byte {at}: tensor 'output_norm.weight' data spans bytes "
        f"{start}..{start + 16} but the file ends at byte {len(data)}; {FIX}"
    )


def test_misaligned_offset(tmp_path: Path) -> None:
    built = small_valid()
    at = built.at["tensor_info[1].offset"]
    assert _error(tmp_path, _patch(built.data, at, "Q", 50)) == (
        f"tensor_info[1].offset at byte {at}: tensor 'output_norm.weight' data offset 50 is not "
        f"a multiple of the alignment 32; {FIX}"
    )


def test_overlapping_tensors(tmp_path: Path) -> None:
    built = build(
        [],
        [("a", (16,), 0, f32_payload(16)), ("b", (4,), 0, f32_payload(4))],
        offsets=[0, 32],
    )
    assert _error(tmp_path, built.data) == (
        f"tensor_info[1].offset at byte {built.at['tensor_info[1].offset']}: tensor 'b' data at "
        f"offset 32 overlaps tensor 'a' (offsets 0..64); {FIX}"
    )


def test_duplicate_tensor_name(tmp_path: Path) -> None:
    built = build([], [("a", (4,), 0, f32_payload(4)), ("a", (4,), 0, f32_payload(4))])
    assert _error(tmp_path, built.data) == (
        f"tensor_info[1].name at byte {built.at['tensor_info[1].name']}: duplicate tensor name "
        f"'a'; {FIX}"
    )


def test_float_and_string_values_parse(tmp_path: Path) -> None:
    built = build(
        [("x.f", FLOAT32, 0.5), ("x.s", STRING, "é"), ("x.a", ARRAY, (FLOAT32, [1.0, 2.5]))], []
    )
    path = tmp_path / "v.gguf"
    path.write_bytes(built.data)
    g = read_gguf(path)
    assert dict(g.metadata) == {"x.f": 0.5, "x.s": "é", "x.a": (1.0, 2.5)}
    assert dict(g.value_types) == {"x.f": "float32", "x.s": "string", "x.a": "array[float32]"}
    assert g.tensors == ()


# ------------------------------------------------------------------------- fuzzing

_VALID = small_valid().data
_FUZZ = settings(
    max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _read_all(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.gguf"
        path.write_bytes(data)
        try:
            g = read_gguf(path)
            for _ in iter_dequantized(g):
                pass
        except ArtifactError as e:
            assert "\n" not in str(e)


@_FUZZ
@given(st.binary(max_size=512))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _read_all(data)


@_FUZZ
@given(st.binary(max_size=256))
def test_fuzz_bytes_after_a_valid_header_prefix(tail: bytes) -> None:
    _read_all(b"GGUF" + struct.pack("<I", 3) + tail)


@_FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8
    ),
    st.integers(0, len(_VALID)),
)
def test_fuzz_mutations_of_a_valid_file(edits: list[tuple[int, int]], cut: int) -> None:
    b = bytearray(_VALID)
    for at, value in edits:
        b[at] = value
    _read_all(bytes(b[: max(cut, 8)]) if cut < len(b) // 2 else bytes(b))


@_FUZZ
@given(st.integers(0, len(_VALID) - 8), st.sampled_from([0, 1, 2**31, 2**32 - 1, 2**63, 2**64 - 1]))
def test_fuzz_lying_u64_fields(at: int, value: int) -> None:
    b = bytearray(_VALID)
    struct.pack_into("<Q", b, at, value)
    _read_all(bytes(b))


@pytest.mark.parametrize(
    ("value", "expected"), [(1e-6, 1e-6), (1e-5, 1e-5), (0.1, 0.1), (1e6, 1e6), (3.0, 3.0)]
)
def test_float32_scalars_read_as_their_shortest_decimal(
    tmp_path: Path, value: float, expected: float
) -> None:
    path = tmp_path / "f.gguf"
    path.write_bytes(build([("x.eps", FLOAT32, value)], []).data)
    assert read_gguf(path).metadata["x.eps"] == expected
