"""Sharded checkpoints (model.safetensors.index.json) and the open_checkpoint entry point."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from albor_gates.artifacts.checkpoint import ShardedCheckpoint, open_checkpoint, read_sharded_index
from albor_gates.artifacts.safetensors import SafetensorsHeader, read_safetensors_header
from albor_gates.errors import ArtifactError

FIX = "regenerate the index with the tool that wrote the shards"
PICKLE_FIX = (
    "unpickling can execute arbitrary code on load; convert it in an isolated environment with "
    "torch.load(path, weights_only=True) and safetensors.torch.save_file(state_dict, "
    "'model.safetensors'), then check the .safetensors file"
)
S1 = "model-00001-of-00002.safetensors"
S2 = "model-00002-of-00002.safetensors"


def make_shards(
    folder: Path,
    index: Any = None,
    edit: Callable[[dict[str, Any]], object] | None = None,
) -> Path:
    """Two shards (2 + 1 tensors) and their index (``index`` replaces it, ``edit`` alters it)."""
    save_file(
        {"model.embed_tokens.weight": torch.zeros(8, 4), "model.norm.weight": torch.ones(4)},
        str(folder / S1),
        metadata={"format": "pt"},
    )
    save_file({"lm_head.weight": torch.zeros(8, 4)}, str(folder / S2), metadata={"format": "pt"})
    if index is None:
        index = {
            "metadata": {"total_size": 8 * 4 * 4 * 2 + 16},
            "weight_map": {
                "lm_head.weight": S2,
                "model.embed_tokens.weight": S1,
                "model.norm.weight": S1,
            },
        }
    if edit is not None:
        edit(index)
    path = folder / "model.safetensors.index.json"
    path.write_text(json.dumps(index, indent=2))
    return path


ErrorOf = Callable[..., str]


@pytest.fixture
def index_error(artifact_error: ErrorOf) -> Callable[[Path], str]:
    """The one-line message of reading an index that must fail."""
    return lambda path: artifact_error(read_sharded_index, path)


def test_valid_sharded_checkpoint(tmp_path: Path) -> None:
    idx = make_shards(tmp_path)
    ck = read_sharded_index(idx)
    assert isinstance(ck, ShardedCheckpoint)
    assert ck.path == idx
    assert ck.files == (tmp_path / S1, tmp_path / S2)
    assert set(ck.names) == {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"}
    assert ck.num_params == 32 + 4 + 32
    assert ck.nbytes == 272 == ck.declared_total_size
    assert ck.metadata == {"format": "pt"}
    path, info = ck.locate("lm_head.weight")
    assert path == tmp_path / S2 and info.shape == (8, 4)
    assert ck.by_name["model.norm.weight"].dtype == "F32"
    assert [p.name for p, _ in ck.iter_located()] == [S1, S1, S2]
    assert open_checkpoint(tmp_path) == ck  # a folder with only an index opens the index


def test_missing_shard(tmp_path: Path, index_error: Callable[[Path], str]) -> None:
    idx = make_shards(tmp_path)
    (tmp_path / S2).unlink()
    assert index_error(idx) == (
        f"{idx}: weight_map lists shard '{S2}' for 1 tensor(s) (first 'lm_head.weight') but "
        f"{tmp_path / S2} does not exist: copy the shard next to the index or {FIX}"
    )


def test_tensor_listed_in_the_wrong_shard(
    tmp_path: Path, index_error: Callable[[Path], str]
) -> None:
    idx = make_shards(tmp_path, edit=lambda d: d["weight_map"].update({"model.norm.weight": S2}))
    assert index_error(idx) == (
        f"{idx}: weight_map puts tensor 'model.norm.weight' in shard '{S2}' but it is in shard "
        f"'{S1}': {FIX}"
    )


def test_index_points_at_a_shard_that_lacks_the_tensor(
    tmp_path: Path, index_error: Callable[[Path], str]
) -> None:
    idx = make_shards(
        tmp_path, edit=lambda d: d["weight_map"].update({"model.layers.0.mlp.up_proj.weight": S2})
    )
    assert index_error(idx) == (
        f"{idx}: weight_map puts tensor 'model.layers.0.mlp.up_proj.weight' in shard '{S2}' "
        f"but no shard holds it: {FIX}"
    )


def test_orphan_tensor_in_a_shard(tmp_path: Path, index_error: Callable[[Path], str]) -> None:
    idx = make_shards(tmp_path, edit=lambda d: (d.pop("metadata"), d["weight_map"].popitem()))
    offset = read_safetensors_header(tmp_path / S1).by_name["model.norm.weight"].abs_begin
    assert index_error(idx) == (
        f"{idx}: shard '{S1}' holds tensor 'model.norm.weight' (absolute offset {offset}) that "
        f"weight_map does not list: {FIX}"
    )


def test_tensor_stored_in_two_shards(tmp_path: Path, index_error: Callable[[Path], str]) -> None:
    idx = make_shards(tmp_path)
    save_file(
        {"lm_head.weight": torch.zeros(8, 4), "model.norm.weight": torch.ones(4)},
        str(tmp_path / S2),
    )
    offset = read_safetensors_header(tmp_path / S2).by_name["model.norm.weight"].abs_begin
    assert index_error(idx) == (
        f"{idx}: tensor 'model.norm.weight' is stored in both shard '{S1}' and shard '{S2}' "
        f"(absolute offset {offset} in '{S2}'): remove the copy, then {FIX}"
    )


def test_total_size_disagreement_is_read_not_refused(tmp_path: Path) -> None:
    # Hub indexes do not always agree to the byte: the gap is weights.index_size's WARN.
    idx = make_shards(tmp_path, edit=lambda d: d["metadata"].update(total_size=1000))
    ck = read_sharded_index(idx)
    assert (ck.declared_total_size, ck.nbytes) == (1000, 272)


LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 988097824\n"
)


@pytest.mark.parametrize("name", ["model.safetensors", "model.gguf"])
def test_a_git_lfs_pointer_is_named_with_the_fix(
    tmp_path: Path, artifact_error: ErrorOf, name: str
) -> None:
    from albor_gates.artifacts.gguf import read_gguf

    p = tmp_path / name
    p.write_bytes(LFS_POINTER)
    what = "GGUF file" if name.endswith(".gguf") else "safetensors file"
    reader = read_gguf if name.endswith(".gguf") else open_checkpoint
    assert artifact_error(reader, p) == (
        f"{p}: is a Git LFS pointer, not the {what} of 988,097,824 bytes: the weights were "
        f"never downloaded; run `git lfs pull` in the clone (or download the file itself)"
    )


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ([1], "the sharded index is a JSON array, not an object: {fix}"),
        ({"metadata": {}}, "the sharded index lacks the key 'weight_map': {fix}"),
        ({"weight_map": []}, "key 'weight_map' is a JSON array, not an object: {fix}"),
        (
            {"metadata": 3, "weight_map": {}},
            "key 'metadata' is a JSON integer, not an object: {fix}",
        ),
        (
            {"metadata": {"total_size": -1}, "weight_map": {}},
            "key 'metadata.total_size' is -1, not a non-negative integer: {fix}",
        ),
        (
            {"weight_map": {"w": 3}},
            "weight_map entry for tensor 'w' is a JSON integer, not a shard file name: {fix}",
        ),
        (
            {"weight_map": {"w": "../outside.safetensors"}},
            "weight_map puts tensor 'w' in '../outside.safetensors', which is not a plain file "
            "name next to the index: {fix}",
        ),
        (
            {"weight_map": {"w": "/etc/passwd"}},
            "weight_map puts tensor 'w' in '/etc/passwd', which is not a plain file name next "
            "to the index: {fix}",
        ),
    ],
)
def test_malformed_index(
    tmp_path: Path, index: Any, message: str, index_error: Callable[[Path], str]
) -> None:
    idx = make_shards(tmp_path, index)
    assert index_error(idx) == f"{idx}: " + message.format(fix=FIX)


def test_index_not_json_and_repeated_keys(
    tmp_path: Path, index_error: Callable[[Path], str]
) -> None:
    idx = tmp_path / "model.safetensors.index.json"
    idx.write_text('{\n  "weight_map": {,}\n}')
    assert index_error(idx) == (
        f"{idx}:2:18: the sharded index is not valid JSON (Expecting property name enclosed in "
        f"double quotes): {FIX}"
    )
    idx.write_text('{"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}}')
    assert index_error(idx) == (
        f"{idx}: the sharded index repeats the key 'a' in 'weight_map': JSON readers disagree "
        f"on which value wins; remove the repeat"
    )


def test_empty_weight_map_is_an_empty_checkpoint(tmp_path: Path) -> None:
    idx = make_shards(tmp_path, {"weight_map": {}})
    ck = read_sharded_index(idx)
    assert ck.shards == () and ck.tensors == () and ck.nbytes == 0


# ----------------------------------------------------------------------------- open_checkpoint


def test_open_a_file_and_folder_preferences(tmp_path: Path) -> None:
    save_file({"w": torch.zeros(2)}, str(tmp_path / "model.safetensors"))
    make_shards(tmp_path)
    ck = open_checkpoint(tmp_path)
    assert isinstance(ck, SafetensorsHeader) and ck.path == tmp_path / "model.safetensors"
    assert isinstance(open_checkpoint(tmp_path / "model.safetensors.index.json"), ShardedCheckpoint)
    assert isinstance(open_checkpoint(tmp_path / S1), SafetensorsHeader)


def test_folder_with_a_single_differently_named_file(tmp_path: Path) -> None:
    save_file({"w": torch.zeros(2)}, str(tmp_path / "adapter.safetensors"))
    ck = open_checkpoint(tmp_path)
    assert ck.path == tmp_path / "adapter.safetensors"


def test_folder_with_several_files_and_no_index(tmp_path: Path) -> None:
    for name in ("a.safetensors", "b.safetensors"):
        save_file({"w": torch.zeros(2)}, str(tmp_path / name))
    with pytest.raises(ArtifactError) as exc:
        open_checkpoint(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path}: folder holds 2 .safetensors files (a.safetensors, b.safetensors) but no "
        f"model.safetensors.index.json: name the file to check, or write the index"
    )


def test_folder_without_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ArtifactError) as exc:
        open_checkpoint(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path}: folder holds no model.safetensors, model.safetensors.index.json or other "
        f".safetensors file: export the weights with safetensors.torch.save_file"
    )


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as exc:
        open_checkpoint(tmp_path / "nothing")
    assert str(exc.value) == (
        f"{tmp_path / 'nothing'}: no such file or folder: name a .safetensors file, a "
        f"model.safetensors.index.json or a release folder"
    )


class _Trap:
    """Unpickling this creates a file: proof that a reader unpickled."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.target,))


@pytest.mark.parametrize("suffix", [".bin", ".pt", ".pth", ".ckpt"])
def test_pickle_suffixes_are_refused_without_unpickling(tmp_path: Path, suffix: str) -> None:
    trap = tmp_path / "pwned"
    path = tmp_path / f"pytorch_model{suffix}"
    path.write_bytes(pickle.dumps({"w": _Trap(trap)}, protocol=2))
    with pytest.raises(ArtifactError) as exc:
        open_checkpoint(path)
    assert str(exc.value) == (
        f"{path}: refusing to load a pickle-based checkpoint (file suffix {suffix}): {PICKLE_FIX}"
    )
    assert not trap.exists()


def test_torch_zip_checkpoint_disguised_as_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ArtifactError) as exc:
        open_checkpoint(path)
    assert str(exc.value) == (
        f"{path}: refusing to load a pickle-based checkpoint (zip archive signature "
        f"PK\\x03\\x04 at absolute offset 0, as torch.save writes): {PICKLE_FIX}"
    )


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_raw_pickle_disguised_as_safetensors(tmp_path: Path, protocol: int) -> None:
    trap = tmp_path / "pwned"
    path = tmp_path / "weights.safetensors"
    path.write_bytes(pickle.dumps({"w": _Trap(trap)}, protocol=protocol))
    with pytest.raises(ArtifactError) as exc:
        open_checkpoint(path)
    assert str(exc.value) == (
        f"{path}: refusing to load a pickle-based checkpoint (pickle protocol {protocol} opcode "
        f"at absolute offset 0): {PICKLE_FIX}"
    )
    assert not trap.exists()


def test_folder_with_only_a_pickle_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "pytorch_model.bin").write_bytes(pickle.dumps({"w": 1}, protocol=2))
    with pytest.raises(ArtifactError) as exc:
        open_checkpoint(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path / 'pytorch_model.bin'}: refusing to load a pickle-based checkpoint (file "
        f"suffix .bin, no safetensors file): {PICKLE_FIX}"
    )


def test_a_safetensors_header_length_starting_with_0x80_is_not_a_pickle(tmp_path: Path) -> None:
    # N = 0x0280: the first two bytes look like pickle protocol 2, but byte 8 opens a header.
    text = '{"__metadata__":{"pad":"' + "x" * (0x280 - 27) + '"}}'
    assert len(text) == 0x280
    path = tmp_path / "odd.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text.encode())
    assert path.read_bytes()[:2] == b"\x80\x02"
    ck = open_checkpoint(path)
    assert isinstance(ck, SafetensorsHeader) and ck.tensors == ()
