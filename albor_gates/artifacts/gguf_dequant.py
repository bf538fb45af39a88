"""Streamed fp32 dequantisation of the tensors of a GGUF file read by :mod:`.gguf`.

:func:`dequantize_tensor` and :func:`iter_dequantized` map one tensor at a time from the file (a
fresh ``np.memmap`` per tensor, dropped afterwards) and decode it in chunks of blocks with
gguf-py's own block decoders (``gguf.quants.<TYPE>.dequantize_blocks``), so peak memory is the
largest fp32 tensor plus that tensor's mapped bytes plus one chunk. numpy and gguf are imported
inside the functions that decode, never at module level.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from albor_gates.errors import ArtifactError

from .gguf import GGML_TYPES, GGUFFile, GGUFTensorInfo, _show

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


#: Types :func:`dequantize_tensor` decodes to fp32: the floats, and every quantised type
#: gguf-py's block decoders handle (issue 5, part 1; issue 13 added the i-quants, the ternary
#: and the fp4 types). Q8_1 and Q8_K are llama.cpp's internal activation formats, never stored.
DEQUANT_TYPES = frozenset(
    {
        "F32",
        "F16",
        "BF16",
        "Q8_0",
        "Q4_0",
        "Q4_1",
        "Q5_0",
        "Q5_1",
        "Q2_K",
        "Q3_K",
        "Q4_K",
        "Q5_K",
        "Q6_K",
        "IQ1_S",
        "IQ1_M",
        "IQ2_XXS",
        "IQ2_XS",
        "IQ2_S",
        "IQ3_XXS",
        "IQ3_S",
        "IQ4_NL",
        "IQ4_XS",
        "TQ1_0",
        "TQ2_0",
        "MXFP4",
        "NVFP4",
    }
)

# --------------------------------------------------------------------------- tensor data

# Output elements decoded per chunk: ~1 Mi floats (4 MiB) keeps gguf-py's block decoders'
# temporaries in cache; decoding a whole 100 M-element tensor in one call is ~7x slower.
_CHUNK_ELEMENTS = 1 << 18


# Tensors up to this size are read with one pread; larger ones are mapped.
_SMALL_TENSOR = 1 << 20


def _open_checked(gguf: GGUFFile) -> int:
    """Open the file for tensor reads and check it still has the size its header was read at."""
    try:
        fd = os.open(gguf.path, os.O_RDONLY)
        size = os.fstat(fd).st_size
    except OSError as e:
        raise ArtifactError(f"{gguf.path}: cannot read the GGUF file: {e.strerror or e}") from e
    if size != gguf.file_size:
        os.close(fd)
        # Mapping a file that shrank would fault (SIGBUS) on the missing pages.
        raise ArtifactError(
            f"{gguf.path}: the file changed size since its header was read "
            f"({gguf.file_size} -> {size} bytes); read it again"
        )
    return fd


def _check_type(gguf: GGUFFile, info: GGUFTensorInfo) -> None:
    if info.ggml_type not in DEQUANT_TYPES:
        raise ArtifactError(
            f"{gguf.path}: tensor {_show(info.name)} is {info.ggml_type}, which albor-gates "
            f"cannot dequantise (it reads the floats and every type gguf-py decodes); re-export "
            "the model as f16, q8_0 or q4_k"
        )


def _dequantize_from(fd: int, gguf: GGUFFile, info: GGUFTensorInfo) -> npt.NDArray[np.float32]:
    import numpy as np

    out = np.empty(info.n_elements, dtype=np.float32)
    if info.nbytes <= _SMALL_TENSOR:
        try:
            buf = os.pread(fd, info.nbytes, info.data_offset)
        except OSError as e:
            raise ArtifactError(f"{gguf.path}: cannot read tensor {_show(info.name)}: {e}") from e
        if len(buf) != info.nbytes:
            raise ArtifactError(
                f"{gguf.path}: tensor {_show(info.name)} ends past the end of the file; the file "
                "changed since its header was read"
            )
        _decode_into(np.frombuffer(buf, dtype=np.uint8), info.ggml_type, out)
    else:
        # Map just this tensor's pages; closing the map afterwards drops them from the RSS
        # before the next tensor is mapped.
        if os.fstat(fd).st_size < info.data_offset + info.nbytes:
            raise ArtifactError(
                f"{gguf.path}: tensor {_show(info.name)} ends past the end of the file; the file "
                "changed since its header was read"
            )
        start = info.data_offset - info.data_offset % mmap.ALLOCATIONGRANULARITY
        mm = mmap.mmap(
            fd, info.data_offset + info.nbytes - start, offset=start, access=mmap.ACCESS_READ
        )
        raw = np.frombuffer(mm, dtype=np.uint8, count=info.nbytes, offset=info.data_offset - start)
        try:
            _decode_into(raw, info.ggml_type, out)
        finally:
            del raw
        mm.close()
    return out.reshape(info.shape)


def _decode_into(raw: npt.NDArray[np.uint8], ggml_type: str, out: npt.NDArray[np.float32]) -> None:
    """Decode ``raw`` (the tensor's bytes) into the flat fp32 ``out``, chunk by chunk."""
    import numpy as np

    n = out.size
    if ggml_type in ("F32", "F16", "BF16"):
        itemsize = 4 if ggml_type == "F32" else 2
        for s in range(0, n, _CHUNK_ELEMENTS):
            e = min(n, s + _CHUNK_ELEMENTS)
            chunk = raw[s * itemsize : e * itemsize]
            if ggml_type == "F32":
                out[s:e] = chunk.view("<f4")
            elif ggml_type == "F16":
                out[s:e] = chunk.view("<f2")
            else:
                # bf16 is the top half of an fp32: widen the bits, no rounding involved.
                out[s:e].view(np.uint32)[:] = chunk.view("<u2").astype(np.uint32) << 16
        return
    import gguf.quants

    decoder = getattr(gguf.quants, ggml_type)
    # the i-quants decode through lookup grids that gguf-py builds on first use
    decoder.init_grid()
    _name, block, type_size = _TYPE_BY_NAME[ggml_type]
    blocks = raw.reshape(-1, type_size)
    per_chunk = max(1, _CHUNK_ELEMENTS // block)
    for s in range(0, blocks.shape[0], per_chunk):
        e = min(blocks.shape[0], s + per_chunk)
        out[s * block : e * block] = decoder.dequantize_blocks(blocks[s:e]).reshape(-1)


_TYPE_BY_NAME = {v[0]: v for v in GGML_TYPES.values()}


def dequantize_tensor(gguf: GGUFFile, tensor: str | GGUFTensorInfo) -> npt.NDArray[np.float32]:
    """Decode one tensor to a fresh fp32 array in row-major (torch) order.

    Args:
        gguf: evidence from :func:`read_gguf`.
        tensor: a tensor name or one of ``gguf.tensors``.

    Returns:
        A C-contiguous float32 array of shape ``info.shape`` that owns its memory.

    Raises:
        ArtifactError: when the tensor is missing, its type is not in :data:`DEQUANT_TYPES`,
            or the file changed since it was read.
    """
    info = gguf.tensor(tensor) if isinstance(tensor, str) else tensor
    _check_type(gguf, info)
    fd = _open_checked(gguf)
    try:
        return _dequantize_from(fd, gguf, info)
    finally:
        os.close(fd)


def iter_dequantized(
    gguf: GGUFFile, names: Iterable[str] | None = None
) -> Iterator[tuple[GGUFTensorInfo, npt.NDArray[np.float32]]]:
    """Yield ``(info, fp32 array)`` one tensor at a time, in file order or in ``names`` order.

    Each array is fresh and independent of the file; dropping it before asking for the next
    keeps peak memory at the largest tensor plus overhead. Every tensor's type is checked
    before the first one is decoded.

    Args:
        gguf: evidence from :func:`read_gguf`.
        names: tensors to decode (default: all, in file order).

    Raises:
        ArtifactError: as :func:`dequantize_tensor`.
    """
    infos = gguf.tensors if names is None else tuple(gguf.tensor(n) for n in names)
    for info in infos:
        _check_type(gguf, info)
    fd = _open_checked(gguf)
    try:
        for info in infos:
            yield info, _dequantize_from(fd, gguf, info)
    finally:
        os.close(fd)
