"""The bounded safetensors header parser: valid files and the hostile corpus, exact messages."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from albor_gates.artifacts import safetensors as st
from albor_gates.artifacts.safetensors import (
    DTYPE_BITS,
    MAX_HEADER_BYTES,
    TensorInfo,
    parse_safetensors_bytes,
    read_safetensors_header,
)
from albor_gates.errors import ArtifactError

CORRUPT = "the file is corrupt or was written by a broken tool; re-export it"
TRUNCATED = "the file is truncated; re-download or re-export it"
NOT_ST = "the file is corrupt or is not a safetensors file"


def ent(dtype: str, shape: list[Any], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def two_f32() -> dict[str, Any]:
    """Tensors 'a' F32[4] at [0,16] and 'b' F32[2,2] at [16,32]."""
    return {"a": ent("F32", [4], 0, 16), "b": ent("F32", [2, 2], 16, 32)}


def data_start(header: dict[str, Any] | str | bytes) -> int:
    return 8 + len(header_bytes(header))


def key_at(header: dict[str, Any] | str | bytes, key: str, nth: int = 0) -> int:
    """Absolute offset of the nth ``"key":`` in the header."""
    hb = header_bytes(header)
    pos = -1
    for _ in range(nth + 1):
        pos = hb.index(json.dumps(key).encode() + b":", pos + 1)
    return 8 + pos


StFile = Callable[..., Path]
ErrorOf = Callable[..., str]


def header_bytes(header: dict[str, Any] | str | bytes) -> bytes:
    """Compact JSON (no spaces) so offsets in a test are easy to compute."""
    if isinstance(header, bytes):
        return header
    if isinstance(header, str):
        return header.encode("utf-8")
    return json.dumps(header, separators=(",", ":")).encode("utf-8")


def st_bytes(
    header: dict[str, Any] | str | bytes, data: bytes = b"", *, length: int | None = None
) -> bytes:
    """``[u64 N][header][data]``; ``length`` overrides N (to lie about it)."""
    hb = header_bytes(header)
    return struct.pack("<Q", len(hb) if length is None else length) + hb + data


@pytest.fixture
def st_file(tmp_path: Path) -> StFile:
    """Write a safetensors file byte by byte, hostile layouts included."""

    def write(
        header: dict[str, Any] | str | bytes, data: bytes = b"", *, length: int | None = None
    ) -> Path:
        path = tmp_path / "model.safetensors"
        path.write_bytes(st_bytes(header, data, length=length))
        return path

    return write


@pytest.fixture
def error_of(artifact_error: ErrorOf) -> Callable[[Path], str]:
    """The one-line message of reading a header that must fail."""
    return lambda path: artifact_error(read_safetensors_header, path)


# ----------------------------------------------------------------------------- valid files


def test_file_written_by_the_safetensors_library(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    tensors = {
        "model.embed_tokens.weight": torch.randn(10, 4),
        "model.layers.0.self_attn.q_proj.bias": torch.randn(4).to(torch.bfloat16),
        "model.norm.weight": torch.ones(4, dtype=torch.float16),
        "step": torch.tensor(7, dtype=torch.int64),
    }
    save_file(tensors, str(path), metadata={"format": "pt", "architecture": "qwen2"})
    h = read_safetensors_header(path)
    assert h.path == path
    assert h.metadata == {"format": "pt", "architecture": "qwen2"}
    assert h.file_size == path.stat().st_size
    assert h.data_start == 8 + h.header_len
    assert h.nbytes == h.file_size - h.data_start
    assert set(h.names) == set(tensors)
    assert h.num_params == 40 + 4 + 4 + 1
    # Offsets are sorted, tile the data section and agree with an independent consumer.
    assert [t.begin for t in h.tensors] == sorted(t.begin for t in h.tensors)
    with safe_open(str(path), framework="pt") as f:
        for name in f.keys():  # noqa: SIM118 - safe_open has no __iter__
            info = h.by_name[name]
            ref = f.get_tensor(name)
            assert info.shape == tuple(ref.shape)
            assert info.nbytes == ref.numel() * ref.element_size()
            raw = path.read_bytes()[info.abs_begin : info.abs_end]
            assert raw == ref.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes()
    assert h.by_name["step"] == TensorInfo(
        name="step",
        dtype="I64",
        shape=(),
        begin=h.by_name["step"].begin,
        end=h.by_name["step"].begin + 8,
        abs_begin=h.data_start + h.by_name["step"].begin,
        abs_end=h.data_start + h.by_name["step"].begin + 8,
    )
    assert h.locate("model.norm.weight") == (path, h.by_name["model.norm.weight"])
    assert [i for _, i in h.iter_located()] == list(h.tensors)


def test_header_order_need_not_follow_offset_order(st_file: StFile) -> None:
    # Older writers list tensors by name; the reference crate sorts by offset before checking.
    header = {"b": ent("F32", [2, 2], 16, 32), "a": ent("F32", [4], 0, 16)}
    h = read_safetensors_header(st_file(header, bytes(32)))
    assert h.names == ("a", "b")
    assert h.by_name["b"].abs_begin == data_start(header) + 16


def test_empty_and_zero_size_tensors(st_file: StFile) -> None:
    header = {"__metadata__": {}, "e": ent("F32", [0, 3], 0, 0), "s": ent("U8", [], 0, 1)}
    h = read_safetensors_header(st_file(header, b"\x07"))
    assert h.by_name["e"].numel == 0 and h.by_name["s"].numel == 1
    assert h.metadata == {}
    assert read_safetensors_header(st_file({}, b"")).tensors == ()


def test_every_known_dtype_is_accepted(st_file: StFile) -> None:
    header: dict[str, Any] = {}
    offset = 0
    for dtype, bits in DTYPE_BITS.items():
        nbytes = 8 * bits // 8  # 8 elements: a whole number of bytes even for F4 / F6
        header[f"t_{dtype}"] = ent(dtype, [8], offset, offset + nbytes)
        offset += nbytes
    h = read_safetensors_header(st_file(header, bytes(offset)))
    assert {t.dtype for t in h.tensors} == set(DTYPE_BITS)
    assert h.by_name["t_F4"].nbytes == 4 and h.by_name["t_C64"].nbytes == 64


def test_reading_the_header_never_reads_the_data_section(tmp_path: Path) -> None:
    # A 1 GiB file (sparse: nothing is written) whose one tensor covers the data section.
    size = 1 << 30
    header = json.dumps({"w": ent("U8", [0], 0, 0)}).encode()
    n_guess = len(header) + 20
    data = size - 8 - n_guess
    hb = json.dumps({"w": ent("U8", [data], 0, data)}, separators=(",", ":")).encode()
    hb += b" " * (n_guess - len(hb))
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        f.truncate(size)

    class Counting(io.FileIO):
        read_total = 0

        def read(self, n: int = -1) -> bytes:  # type: ignore[override]
            out = super().read(n)
            Counting.read_total += len(out)
            return out

    with Counting(str(path), "r") as f:
        h = st._parse(f, size, path)  # type: ignore[arg-type]
    assert h.by_name["w"].nbytes == data
    assert Counting.read_total == 8 + len(hb)


def test_parse_bytes_in_memory() -> None:
    raw = st_bytes(two_f32(), bytes(32))
    h = parse_safetensors_bytes(raw, "mem.safetensors")
    assert h.path == Path("mem.safetensors") and h.names == ("a", "b")


# ----------------------------------------------------------------------------- hostile corpus


def test_file_too_short_for_the_length_field(
    tmp_path: Path, error_of: Callable[[Path], str]
) -> None:
    p = tmp_path / "model.safetensors"
    p.write_bytes(b"\x01\x02\x03\x04\x05")
    assert error_of(p) == (
        f"{p}: file is 5 bytes, too short for the 8-byte header length field "
        f"(absolute offset 0): {TRUNCATED}"
    )


def test_header_length_beyond_the_file(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    p = st_file('{"a":1}', length=1000)
    assert error_of(p) == (
        f"{p}: header length field claims 1000 bytes but only 7 bytes follow it "
        f"(absolute offset 0): {TRUNCATED}"
    )


def test_truncated_header(tmp_path: Path, error_of: Callable[[Path], str]) -> None:
    raw = st_bytes(two_f32(), bytes(32))
    p = tmp_path / "model.safetensors"
    p.write_bytes(raw[:40])
    n = len(header_bytes(two_f32()))
    assert error_of(p) == (
        f"{p}: header length field claims {n} bytes but only 32 bytes follow it "
        f"(absolute offset 0): {TRUNCATED}"
    )


def test_a_header_claim_over_the_cap_is_refused_before_reading(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    # issue 11 §10: the cap is 16 MiB (was 100 MB: a 97 MB hostile header took 118 s, 1.75 GB)
    assert MAX_HEADER_BYTES == 16 * 1024 * 1024
    p = st_file("{}", length=MAX_HEADER_BYTES + 1)
    assert error_of(p) == (
        f"{p}: header length field claims 16777217 bytes, above the 16777216-byte limit "
        f"(absolute offset 0): {NOT_ST} (or raise the cap: --max-header-mib)"
    )
    # Exactly at the cap is allowed by the cap, then refused because the file is too short.
    p = st_file("{}", length=MAX_HEADER_BYTES)
    assert error_of(p) == (
        f"{p}: header length field claims 16777216 bytes but only 2 bytes follow it "
        f"(absolute offset 0): {TRUNCATED}"
    )


def test_truncated_data(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = two_f32()
    p = st_file(header, bytes(30))
    ds = data_start(header)
    assert error_of(p) == (
        f"{p}: tensor 'b' data_offsets [16, 32] end past the 30-byte data section, i.e. past "
        f"the end of the file (absolute offset {ds + 32}): {TRUNCATED}"
    )


def test_header_not_utf8(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    p = st_file(b'{"\xff":1}')
    assert error_of(p) == f"{p}: header is not valid UTF-8 (absolute offset 10): {NOT_ST}"


def test_header_not_json(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    p = st_file("{not json}")
    assert error_of(p) == (
        f"{p}: header is not valid JSON: Expecting property name enclosed in double quotes "
        f"(absolute offset 9): {NOT_ST}"
    )


def test_header_json_position_is_a_byte_offset(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    # 'é' is two bytes: the offset must count bytes, not characters.
    p = st_file('{"é":1,}')
    assert error_of(p) == (
        f"{p}: header is not valid JSON: Expecting property name enclosed in double quotes "
        f"(absolute offset 16): {NOT_ST}"
    )


def test_header_nan_literal_is_not_json(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    p = st_file('{"__metadata__":{"a":NaN}}')
    assert error_of(p) == (
        f"{p}: header is not valid JSON: NaN is not a JSON value (absolute offset 8): {NOT_ST}"
    )


@pytest.mark.parametrize(
    ("text", "kind"), [("[1,2]", "array"), ('"x"', "string"), ("7", "integer"), ("null", "null")]
)
def test_header_not_an_object(
    st_file: StFile, text: str, kind: str, error_of: Callable[[Path], str]
) -> None:
    p = st_file(text)
    assert error_of(p) == (
        f"{p}: header is a JSON {kind}, not an object (absolute offset 8): {NOT_ST}"
    )


def test_deeply_nested_header(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    p = st_file("[" * 100_000 + "]" * 100_000)
    assert error_of(p) == (
        f"{p}: header nests JSON too deeply to be a safetensors header (absolute offset 8): "
        f"{NOT_ST}"
    )


def test_unknown_dtype(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": ent("F12", [4], 0, 16)}
    p = st_file(header, bytes(16))
    known = ", ".join(sorted(DTYPE_BITS))
    assert error_of(p) == (
        f"{p}: tensor 'w' has unknown dtype 'F12' (absolute offset {key_at(header, 'w')}): "
        f"known dtypes are {known}; re-export it with one of them"
    )


def test_dtype_not_a_string(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": ent(7, [4], 0, 16)}  # type: ignore[arg-type]
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' dtype is a JSON integer, not a string (absolute offset "
        f"{key_at(header, 'w')}): {CORRUPT}"
    )


def test_negative_shape(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": ent("F32", [-1, 4], 0, 16)}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' shape [-1, 4] has a negative dimension at index 0 (absolute offset "
        f"{key_at(header, 'w')}): {CORRUPT}"
    )


def test_overflowing_shape(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": ent("F32", [2**40, 2**40, 2**40], 0, 16)}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' shape [1099511627776, 1099511627776, 1099511627776] of dtype F32 "
        f"needs more bytes than the whole 16-byte data section holds (absolute offset "
        f"{key_at(header, 'w')}): {CORRUPT}"
    )


def test_dimension_beyond_u64_even_with_a_zero(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    header = {"w": ent("F32", [0, 2**64], 0, 0)}
    p = st_file(header)
    assert error_of(p) == (
        f"{p}: tensor 'w' shape [0, 18446744073709551616] has dimension 1 above 2^63 - 1 "
        f"(absolute offset {key_at(header, 'w')}): {CORRUPT}"
    )


@pytest.mark.parametrize(("shape", "index"), [([2.0, 2], 0), ([2, True], 1), ([2, "2"], 1)])
def test_non_integer_dimension(
    st_file: StFile, shape: list[Any], index: int, error_of: Callable[[Path], str]
) -> None:
    header = {"w": ent("F32", shape, 0, 16)}
    p = st_file(header, bytes(16))
    shown = json.dumps(shape, separators=(", ", ": "))
    assert error_of(p) == (
        f"{p}: tensor 'w' shape {shown} has a non-integer dimension at index {index} "
        f"(absolute offset {key_at(header, 'w')}): {CORRUPT}"
    )


def test_shape_not_a_list(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": ent("F32", 4, 0, 16)}  # type: ignore[arg-type]
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' shape is a JSON integer, not a list of integers (absolute offset "
        f"{key_at(header, 'w')}): {CORRUPT}"
    )


def test_sub_byte_dtype_must_fill_whole_bytes(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    header = {"w": ent("F4", [3], 0, 2)}
    p = st_file(header, bytes(2))
    assert error_of(p) == (
        f"{p}: tensor 'w' shape [3] of dtype F4 is 12 bits, not a whole number of bytes "
        f"(absolute offset {key_at(header, 'w')}): {CORRUPT}"
    )


def test_byte_length_must_match_dtype_times_shape(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    header = {"w": ent("F32", [4], 0, 12)}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' data_offsets [0, 12] span 12 bytes but dtype F32 x shape [4] needs "
        f"16 bytes (absolute offset {data_start(header)}): {CORRUPT}"
    )


@pytest.mark.parametrize("offsets", [[0], [0, 16, 32], [-1, 15], [0, "16"], "0-16", [0, 1.5]])
def test_malformed_data_offsets(
    st_file: StFile, offsets: Any, error_of: Callable[[Path], str]
) -> None:
    header = {"w": {"dtype": "F32", "shape": [4], "data_offsets": offsets}}
    p = st_file(header, bytes(16))
    shown = json.dumps(offsets, separators=(", ", ": "))
    assert error_of(p) == (
        f"{p}: tensor 'w' data_offsets {shown} is not a list of two non-negative integers "
        f"(absolute offset {key_at(header, 'w')}): {CORRUPT}"
    )


def test_out_of_order_offsets_end_before_they_begin(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    header = {"w": ent("F32", [4], 16, 0)}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' data_offsets [16, 0] end before they begin (absolute offset "
        f"{data_start(header) + 16}): {CORRUPT}"
    )


def test_overlapping_offsets(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {
        "model.layers.0.mlp.gate_proj.weight": ent("F32", [4], 0, 16),
        "model.layers.0.mlp.up_proj.weight": ent("F32", [4], 8, 24),
    }
    p = st_file(header, bytes(24))
    assert error_of(p) == (
        f"{p}: tensor 'model.layers.0.mlp.up_proj.weight' data_offsets [8, 24] overlap tensor "
        f"'model.layers.0.mlp.gate_proj.weight' ending at byte 16 (absolute offset "
        f"{data_start(header) + 8}): {CORRUPT}"
    )


def test_identical_offsets_overlap(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"a": ent("F32", [4], 0, 16), "b": ent("F32", [4], 0, 16)}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'b' data_offsets [0, 16] overlap tensor 'a' ending at byte 16 (absolute "
        f"offset {data_start(header)}): {CORRUPT}"
    )


def test_gap_between_tensors(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"a": ent("F32", [4], 0, 16), "b": ent("F32", [4], 20, 36)}
    p = st_file(header, bytes(36))
    assert error_of(p) == (
        f"{p}: tensor 'b' data_offsets [20, 36] leave a gap of 4 unused bytes after the "
        f"previous tensor 'a' ending at byte 16 (absolute offset {data_start(header) + 16}): "
        f"{CORRUPT}"
    )


def test_gap_at_the_start_of_the_data_section(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    header = {"a": ent("F32", [4], 4, 20)}
    p = st_file(header, bytes(20))
    assert error_of(p) == (
        f"{p}: tensor 'a' data_offsets [4, 20] leave a gap of 4 unused bytes after the start "
        f"of the data section (absolute offset {data_start(header)}): {CORRUPT}"
    )


def test_trailing_bytes(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = two_f32()
    p = st_file(header, bytes(39))
    assert error_of(p) == (
        f"{p}: 7 trailing bytes after the last tensor 'b' ends at byte 32 of the data section "
        f"(absolute offset {data_start(header) + 32}): the file was appended to or its header "
        f"lies; re-export it"
    )


def test_trailing_bytes_without_tensors(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    p = st_file({"__metadata__": {"format": "pt"}}, b"junk")
    ds = data_start({"__metadata__": {"format": "pt"}})
    assert error_of(p) == (
        f"{p}: 4 trailing bytes after the header, which lists no tensor (absolute offset "
        f"{ds}): the file was appended to or its header lies; re-export it"
    )


def test_duplicate_tensor_names(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    text = '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},' + (
        '"a":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}'
    )
    p = st_file(text, bytes(32))
    assert error_of(p) == (
        f"{p}: tensor name 'a' appears twice in the header (absolute offset "
        f"{key_at(text, 'a', 1)}): {CORRUPT}"
    )


def test_repeated_key_inside_an_entry(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    text = '{"w":{"dtype":"F32","dtype":"F16","shape":[4],"data_offsets":[0,16]}}'
    p = st_file(text, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' repeats the key 'dtype' (absolute offset {key_at(text, 'w')}): {CORRUPT}"
    )


def test_two_metadata_objects(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    text = '{"__metadata__":{},"__metadata__":{"a":"b"}}'
    p = st_file(text)
    assert error_of(p) == (
        f"{p}: header has two __metadata__ objects (absolute offset "
        f"{key_at(text, '__metadata__', 1)}): {CORRUPT}"
    )


def test_empty_tensor_name(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"": ent("F32", [4], 0, 16)}
    p = st_file(header, bytes(16))
    assert error_of(p) == f"{p}: a tensor has an empty name (absolute offset 9): {CORRUPT}"


def test_entry_not_an_object(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"a": ent("F32", [4], 0, 16), "b": [1, 2]}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'b' entry is a JSON array, not an object (absolute offset "
        f"{key_at(header, 'b')}): {CORRUPT}"
    )


def test_entry_lacks_a_key(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": {"dtype": "F32", "shape": [4]}}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' lacks the key 'data_offsets' (absolute offset 9): {CORRUPT}"
    )


def test_entry_has_an_unknown_key(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": {**ent("F32", [4], 0, 16), "offset": 3}}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: tensor 'w' has the unknown key 'offset' (an entry has exactly dtype, shape and "
        f"data_offsets) (absolute offset 9): {CORRUPT}"
    )


def test_metadata_not_an_object(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"__metadata__": ["format", "pt"]}
    p = st_file(header)
    assert error_of(p) == (
        f"{p}: __metadata__ is a JSON array, not an object of strings (absolute offset 9): "
        f"{CORRUPT}"
    )


def test_metadata_value_not_a_string(st_file: StFile, error_of: Callable[[Path], str]) -> None:
    header = {"w": ent("F32", [4], 0, 16), "__metadata__": {"format": "pt", "step": 12}}
    p = st_file(header, bytes(16))
    assert error_of(p) == (
        f"{p}: __metadata__ key 'step' has a JSON integer value, not a string (absolute offset "
        f"{key_at(header, '__metadata__')}): {CORRUPT}"
    )


def test_hostile_names_stay_on_one_short_line(
    st_file: StFile, error_of: Callable[[Path], str]
) -> None:
    name = "evil\nname" + "x" * 5000
    header = {name: ent("F32", [-1], 0, 0)}
    p = st_file(header)
    msg = error_of(p)
    assert "evil\\nname" in msg and len(msg) < 600


def test_missing_and_folder_paths(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as exc:
        read_safetensors_header(tmp_path / "nope.safetensors")
    assert str(exc.value) == (
        f"{tmp_path / 'nope.safetensors'}: no such file: the safetensors file is missing"
    )
    with pytest.raises(ArtifactError) as exc:
        read_safetensors_header(tmp_path)
    assert str(exc.value) == f"{tmp_path}: is a folder, not a safetensors file"


def test_numpy_view_of_validated_offsets(st_file: StFile) -> None:
    # The validated absolute offsets address the right bytes.
    a = np.arange(4, dtype=np.float32)
    b = np.arange(4, dtype=np.float32).reshape(2, 2) * 10
    p = st_file(two_f32(), a.tobytes() + b.tobytes())
    h = read_safetensors_header(p)
    raw = p.read_bytes()
    tb = h.by_name["b"]
    got = np.frombuffer(raw, dtype=np.float32, count=4, offset=tb.abs_begin).reshape(tb.shape)
    assert (got == b).all()
