"""Checkpoint discovery: one file, a sharded index or a release folder; pickles refused.

:func:`open_checkpoint` is the one locator of a checkpoint's weights, for the structure checks,
the numeric scan and the reference decoder alike. In a folder it prefers ``model.safetensors``,
then ``model.safetensors.index.json``, then a lone ``*.safetensors``. A sharded index is
validated against every shard's header (:func:`read_sharded_index`); each header is read by
:mod:`albor_gates.artifacts.safetensors`. Pickle-based checkpoints (``.bin``, ``.pt``, ``.pth``,
``.ckpt``, or any file with a zip / pickle signature) are refused **without being unpickled**.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Union

from albor_gates.errors import ArtifactError

from ._text import json_kind, load_json_document, quote, read_bounded, reject_constant, short_json
from .safetensors import (
    SafetensorsHeader,
    TensorInfo,
    _is_int,
    _TensorView,
    read_safetensors_header,
)

#: Largest ``model.safetensors.index.json`` accepted, in bytes.
MAX_INDEX_BYTES = 100_000_000

#: File suffixes of pickle-based checkpoints, refused without being opened as pickles.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")

_INDEX_FIX = "regenerate the index with the tool that wrote the shards"
_PICKLE_FIX = (
    "unpickling can execute arbitrary code on load; convert it in an isolated environment with "
    "torch.load(path, weights_only=True) and safetensors.torch.save_file(state_dict, "
    "'model.safetensors'), then check the .safetensors file"
)


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
# Sharded checkpoints
# --------------------------------------------------------------------------------------------


def read_sharded_index(path: str | os.PathLike[str]) -> ShardedCheckpoint:
    """Read ``model.safetensors.index.json`` and validate it against every shard's header.

    Checks: the index is a bounded JSON object with a ``weight_map`` object of tensor name →
    shard file name (a plain file name next to the index); every listed shard exists and has a
    valid header; every tensor the index lists is in the shard it names; no shard holds a tensor
    the index does not list (an orphan) or that another shard also holds. ``metadata.total_size``,
    when present, must be a non-negative integer; whether it equals the shards' tensor bytes is
    the ``weights.index_size`` gate's WARN, not a reading error (Hub indexes do not always
    agree to the byte).

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
