"""Rewrite a safetensors header's ``__metadata__`` without touching a single tensor byte.

This is the salvage path of the §86 incident (GATES.md §2.1, §7.2: ``apr stamp``): a
checkpoint whose metadata names the wrong architecture is re-stamped with the family its
tensors prove, plus licence / provenance fields. The data section is copied verbatim and its
sha256 is compared before and after; the output is written to a temp file in the destination
folder, re-read and validated, then renamed into place. An existing file is never replaced
without ``force`` and is never modified in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from albor_gates.artifacts.provenance import spdx_problem
from albor_gates.artifacts.safetensors import SafetensorsHeader, read_safetensors_header
from albor_gates.errors import ArtifactError, UsageError
from albor_gates.io import temp_beside

CHUNK = 8 * 1024 * 1024

# fields `gates stamp` may set, as (option name, metadata key, SPDX-checked)
FIELDS = (
    ("license", "license", True),
    ("data_source", "data_source", False),
    ("data_license", "data_license", True),
    ("architecture", "architecture", False),
    ("hf_architecture", "hf_architecture", False),
    ("hf_model_type", "hf_model_type", False),
)


@dataclass(frozen=True)
class StampResult:
    """What a stamp did (the JSON summary of ``gates stamp --json``)."""

    input: str
    output: str
    input_bytes: int
    output_bytes: int
    tensor_count: int
    data_sha256: str
    stamped: Mapping[str, str]
    previous: Mapping[str, str]


def _hash_range(path: Path, start: int, length: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        fh.seek(start)
        left = length
        while left > 0:
            buf = fh.read(min(CHUNK, left))
            if not buf:
                raise ArtifactError(
                    f"{path}: data section ends early at byte {start + length - left}"
                )
            h.update(buf)
            left -= len(buf)
    return h.hexdigest()


def validate_fields(fields: Mapping[str, str]) -> None:
    """Refuse empty values and non-SPDX licences before anything is written.

    Raises:
        UsageError: naming the option and the fix.
    """
    if not fields:
        raise UsageError(
            "nothing to stamp: give at least one of --license, --data-source, --data-license, "
            "--architecture, --hf-architecture, --hf-model-type"
        )
    for opt, _key, spdx in FIELDS:
        value = fields.get(opt)
        if value is None:
            continue
        if not value.strip():
            raise UsageError(f"--{opt.replace('_', '-')}: empty value")
        if spdx:
            why = spdx_problem(value)
            if why is not None:
                raise UsageError(
                    f"--{opt.replace('_', '-')} {value!r} is not an SPDX licence expression "
                    f"({why}); use an SPDX id such as Apache-2.0 (see https://spdx.org/licenses/)"
                )


def new_header_bytes(path: Path, header: SafetensorsHeader, metadata: Mapping[str, str]) -> bytes:
    """Serialise the header with ``metadata`` as ``__metadata__``, padded to 8 bytes."""
    with path.open("rb") as fh:
        fh.seek(8)
        raw = fh.read(header.header_len)
    doc = json.loads(raw.decode("utf-8"))
    doc["__metadata__"] = dict(sorted(metadata.items()))
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # keep the data section 8-byte aligned, as writers do
    return text


def stamp(src: Path, dst: Path, fields: Mapping[str, str], *, force: bool = False) -> StampResult:
    """Write ``dst``: ``src`` with ``fields`` merged into ``__metadata__``; tensors verbatim.

    Args:
        src: the input ``.safetensors`` file (a single file; stamp each shard separately).
        dst: the output path; may equal ``src`` only with ``force``.
        fields: option name → value (see :data:`FIELDS`).
        force: replace an existing ``dst``.

    Raises:
        UsageError: bad fields, or ``dst`` exists without ``force``.
        ArtifactError: ``src`` is not a valid safetensors file, or the output does not
            re-read with identical tensor bytes (nothing is left behind in that case).
    """
    validate_fields(fields)
    if dst.exists() and not force:
        raise UsageError(f"{dst} exists; pass --force to replace it (it is replaced atomically)")
    header = read_safetensors_header(src)
    old = dict(header.metadata)
    meta = dict(old)
    stamped = {}
    for opt, key, _spdx in FIELDS:
        if opt in fields:
            meta[key] = fields[opt]
            stamped[key] = fields[opt]
    meta.setdefault("format", "pt")
    head = new_header_bytes(src, header, meta)
    data_len = header.file_size - header.data_start
    before = _hash_range(src, header.data_start, data_len)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = temp_beside(dst)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            out.write(struct.pack("<Q", len(head)))
            out.write(head)
            inp.seek(header.data_start)
            while buf := inp.read(CHUNK):
                out.write(buf)
            out.flush()
            os.fsync(out.fileno())
        check = read_safetensors_header(tmp)
        after = _hash_range(tmp, check.data_start, check.file_size - check.data_start)
        if after != before or check.names != header.names:
            raise ArtifactError(
                f"{dst}: re-read after stamping differs from {src} (data sha256 {before[:12]} → "
                f"{after[:12]}); nothing was written"
            )
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StampResult(
        input=str(src),
        output=str(dst),
        input_bytes=header.file_size,
        output_bytes=check.file_size,
        tensor_count=len(check.tensors),
        data_sha256=after,
        stamped=stamped,
        previous={k: old[k] for k in stamped if k in old},
    )
