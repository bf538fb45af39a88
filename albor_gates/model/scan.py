"""Streaming numeric scan of a safetensors checkpoint: per-tensor statistics in bounded memory.

:func:`scan_checkpoint` reads every tensor of a checkpoint opened with
:func:`albor_gates.artifacts.safetensors.open_checkpoint` straight from the file at the offsets
the header parser validated, one fixed-size chunk at a time, and returns a frozen
:class:`ScanResult`. It measures; it never judges (the check kinds compare the numbers with
their thresholds).

Per tensor (:class:`TensorStats`): element count; NaN, +Inf and -Inf counts; zero count (and so
density); min, max, abs-max, mean, population standard deviation and L2 norm **over the finite
values** (a NaN never poisons them, it is counted instead); and, for 2-D floating-point
matrices, the lag-1 autocorrelation of albor contract C-INIT-001 (see :func:`lag1_autocorr`).

How it streams, and why it is shaped this way (measured on the shared 2-core CPU of DESIGN.md
with ``benchmarks/bench_verify.py``; the figures are in the module's benchmark output):

- On the CPU, F32 / BF16 / F16 tensors go through one compiled pass (``_scan.c``, built on
  first use by :mod:`albor_gates.model.native`): every statistic from the mapped bytes at once,
  in float32 vector lanes flushed to fp64 per 4096-element block, a NaN or Inf block redone
  exactly in fp64; each chunk is split across two threads. Measured with
  ``benchmarks/bench_perf.py`` on a bf16 file in the page cache: 3-6 GB/s (load-dependent)
  against 1.2 GB/s for the torch path below and 7-12 GB/s for numpy's uint64 sum of the same
  bytes (one core converts, compares and sums at ~5 GB/s; two read at ~8-10 GB/s). Why C:
  numba is not installed here, and ``torch.compile`` was not measured (it compiles per dtype
  and shape, and its reductions' order is its own); one small C file is compiled once. The
  torch path stays for the other dtypes, for CUDA, without a C compiler, and as the oracle
  every scan test also runs against.
- The file is memory-mapped once; each chunk of up to ``chunk_elems`` elements is a zero-copy
  view, converted once into a reused fp32 buffer (fp64 for F64 and 32/64-bit integers, which
  fp32 would round). After each chunk its pages are dropped from the process
  (``madvise(MADV_DONTNEED)``), so the resident set stays at the interpreter plus a few chunk
  buffers, whatever the model or tensor size.
- Each chunk is reduced while it sits in cache by a handful of whole-buffer kernels: ``amin``
  and ``amax``; a masked ``amin`` over the raw bits that proves most chunks hold no zero, so the
  slow ``count_nonzero`` only runs where a zero may be; ``sum``; and two BLAS dot products
  (sum of squares, lag-1 pair products) through numpy on zero-copy views, because torch's CPU
  ``dot`` is 2x slower aligned and ~12x slower on the one-element-apart operands of the lag-1
  product. Naive per-statistic torch over whole tensors (``isfinite().all()``,
  ``abs().max()``, ``var_mean``: full-size temporaries, one memory pass each) measured ~100x
  slower, a chunked numpy version ~2.5x slower.
- Non-finite values cost nothing until they appear: ``amin``/``amax`` propagate NaN and show
  +/-Inf, and only a chunk holding one takes the masked fp64 path.
- Sums are fp32 per chunk and accumulated across chunks in fp64 (a whole-tensor fp32 sum
  drifts by up to 8e-5 relative, DESIGN.md). When a tensor's mean is not small next to its
  spread (RMSNorm weights near 1.0) the values are first shifted by the first chunk's mean, so
  the variance is not lost to cancellation.
- The CPU scan runs torch with one intra-op thread (see ``cpu_threads``).
- ``device="cuda"`` runs the same reductions on the GPU with larger chunks; the host only pages
  the raw bytes in and copies them over.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import mmap
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from albor_gates.artifacts.checkpoint import Checkpoint
from albor_gates.artifacts.safetensors import TensorInfo
from albor_gates.errors import ArtifactError, UsageError
from albor_gates.model.device import resolve_device
from albor_gates.model.native import load

if TYPE_CHECKING:
    import torch

#: Progress callback: ``(bytes_done, bytes_total)``, called after every chunk.
Progress = Callable[[int, int], None]

#: Default elements per chunk on the CPU (4 MiB of fp32: stays in this CPU's L2+L3).
CPU_CHUNK_ELEMS = 1 << 20
#: Default elements per chunk on a GPU (large transfers amortise launch and sync costs).
GPU_CHUNK_ELEMS = 1 << 26

# Shift the data by the first chunk's mean when |mean| exceeds this fraction of (max - min).
_CENTER_RATIO = 0.1


@dataclass(frozen=True)
class TensorStats:
    """Numeric statistics of one tensor (a measurement, not a verdict).

    ``min`` … ``l2_norm`` are computed over the finite values only and are ``None`` when there
    are none. ``std`` is the population standard deviation (divide by the finite count).

    Attributes:
        name: tensor name.
        file: the file (shard) holding it.
        dtype: safetensors dtype string.
        shape: dimensions.
        numel: element count.
        nan_count: NaN elements.
        posinf_count: +Inf elements.
        neginf_count: -Inf elements.
        zero_count: elements equal to zero (``-0.0`` included; ``False`` for BOOL).
        min: smallest finite value.
        max: largest finite value.
        abs_max: largest absolute finite value.
        mean: mean of the finite values.
        std: population standard deviation of the finite values.
        l2_norm: Euclidean norm of the finite values.
        lag1_autocorr: C-INIT-001 lag-1 autocorrelation (see :func:`lag1_autocorr`); ``None``
            unless the tensor is a 2-D floating-point matrix with at least 2 columns, all
            values finite and a non-zero variance.
        skipped: why no statistic was computed (a dtype torch cannot convert), else ``None``.
    """

    name: str
    file: Path
    dtype: str
    shape: tuple[int, ...]
    numel: int
    nan_count: int
    posinf_count: int
    neginf_count: int
    zero_count: int
    min: float | None
    max: float | None
    abs_max: float | None
    mean: float | None
    std: float | None
    l2_norm: float | None
    lag1_autocorr: float | None
    skipped: str | None = None

    @property
    def nonfinite_count(self) -> int:
        """NaN plus +/-Inf elements."""
        return self.nan_count + self.posinf_count + self.neginf_count

    @property
    def finite_count(self) -> int:
        """Elements that are neither NaN nor infinite."""
        return self.numel - self.nonfinite_count

    @property
    def density(self) -> float | None:
        """Fraction of non-zero elements (NaN and Inf count as non-zero); ``None`` if empty."""
        if self.numel == 0 or self.skipped:
            return None
        return (self.numel - self.zero_count) / self.numel

    @property
    def is_all_zero(self) -> bool:
        """Every element is zero (and there is at least one)."""
        return self.numel > 0 and not self.skipped and self.zero_count == self.numel

    @property
    def is_constant(self) -> bool:
        """All elements are finite and equal (all-zero and one-element tensors count too)."""
        return (
            self.numel > 0
            and self.nonfinite_count == 0
            and self.min is not None
            and self.min == self.max
        )


@dataclass(frozen=True)
class ScanResult:
    """The scan of a whole checkpoint: one :class:`TensorStats` per tensor, in file order.

    Attributes:
        path: the checkpoint (file or index) that was scanned.
        device: the torch device the reductions ran on (``"cpu"``, ``"cuda:0"``).
        tensors: per-tensor statistics, file by file in offset order.
        bytes_scanned: tensor bytes read.
        seconds: wall time of the scan.
    """

    path: Path
    device: str
    tensors: tuple[TensorStats, ...]
    bytes_scanned: int
    seconds: float

    @cached_property
    def by_name(self) -> Mapping[str, TensorStats]:
        """Statistics keyed by tensor name (read-only)."""
        return MappingProxyType({t.name: t for t in self.tensors})

    @property
    def nan_count(self) -> int:
        """NaN elements over the whole checkpoint."""
        return sum(t.nan_count for t in self.tensors)

    @property
    def inf_count(self) -> int:
        """+/-Inf elements over the whole checkpoint."""
        return sum(t.posinf_count + t.neginf_count for t in self.tensors)

    @property
    def nonfinite_tensors(self) -> tuple[str, ...]:
        """Names of the tensors holding at least one NaN or Inf, in file order."""
        return tuple(t.name for t in self.tensors if t.nonfinite_count)

    @property
    def throughput_gbps(self) -> float:
        """Bytes scanned per second, in GB/s (1e9)."""
        return self.bytes_scanned / self.seconds / 1e9 if self.seconds > 0 else math.inf


def lag1_autocorr(
    sum_y: float,
    sum_yy: float,
    sum_pairs: float,
    sum_first_col: float,
    sum_last_col: float,
    n: int,
    rows: int,
    cols: int,
) -> float | None:
    """C-INIT-001 lag-1 autocorrelation of a ``rows x cols`` matrix from streamed sums.

    Definition. For a matrix ``W`` with mean ``mu`` over all ``n = rows*cols`` elements, the
    lag-1 autocorrelation along rows (the contiguous axis, i.e. neighbours in memory that belong
    to the same output unit) is::

        r1 = [ sum_{i, j<cols-1} (W[i,j] - mu)(W[i,j+1] - mu) / (rows*(cols-1)) ]
             / [ sum_{i,j} (W[i,j] - mu)^2 / n ]

    the mean lag-1 product over the ``m = rows*(cols-1)`` within-row neighbour pairs divided by
    the variance. Pairs never cross a row boundary. For i.i.d. random weights ``r1`` is ~0 (its
    standard error is about ``1/sqrt(m)``); a smooth deterministic pattern such as a sinusoidal
    or ``arange``-based placeholder init gives ``r1`` near 1, and C-INIT-001 flags ``r1 > 0.1``.
    Normalising each sum by its own count keeps short rows (``cols = 2``) from biasing r1
    towards 0, unlike the textbook time-series estimator.

    The sums are taken over ``y = W - K`` for any shift ``K`` (the scanner uses 0 or the first
    chunk's mean for precision): ``sum_y``, ``sum_yy``, ``sum_pairs`` (of ``y[i,j] y[i,j+1]``),
    and the sums of ``y`` over the first and the last column.

    Returns:
        ``r1``, or ``None`` when it is undefined (fewer than 2 columns, no element, or zero
        variance).
    """
    m = rows * (cols - 1)
    if n == 0 or m <= 0:
        return None
    ybar = sum_y / n
    m2 = sum_yy - n * ybar * ybar
    if not m2 > 0.0:
        return None
    left = sum_y - sum_last_col  # y over the left element of every pair
    right = sum_y - sum_first_col  # y over the right element of every pair
    c1 = sum_pairs - ybar * (left + right) + m * ybar * ybar
    r1 = (c1 / m) / (m2 / n)
    # Rounding can push a perfectly correlated matrix a hair past +/-1.
    return max(-1.0, min(1.0, r1))


# --------------------------------------------------------------------------------------------
# dtype handling
# --------------------------------------------------------------------------------------------

_TORCH_DTYPE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "F64": "float64",
        "F32": "float32",
        "F16": "float16",
        "BF16": "bfloat16",
        "F8_E4M3": "float8_e4m3fn",
        "F8_E5M2": "float8_e5m2",
        "F8_E8M0": "float8_e8m0fnu",
        "F8_E4M3FNUZ": "float8_e4m3fnuz",
        "F8_E5M2FNUZ": "float8_e5m2fnuz",
        "BOOL": "bool",
        "U8": "uint8",
        "I8": "int8",
        "I16": "int16",
        "U16": "uint16",
        "I32": "int32",
        "U32": "uint32",
        "I64": "int64",
        "U64": "uint64",
    }
)
_FLOAT_DTYPES = frozenset(
    {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ"}
)
# For these dtypes a value is zero iff its bits other than the sign bit are all 0:
# (integer view dtype of the same width, mask without the sign bit).
_SIGN_MASK_INT: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "F64": ("int64", 0x7FFF_FFFF_FFFF_FFFF),
        "F32": ("int32", 0x7FFF_FFFF),
        "F16": ("int16", 0x7FFF),
        "BF16": ("int16", 0x7FFF),
        "F8_E4M3": ("int8", 0x7F),
        "F8_E5M2": ("int8", 0x7F),
        "F8_E4M3FNUZ": ("int8", 0x7F),
        "F8_E5M2FNUZ": ("int8", 0x7F),
    }
)
# Converted to fp64: fp32 would round them (integers above 2^24, fp64 data).
_WIDE_DTYPES = frozenset({"F64", "I32", "U32", "I64", "U64"})


def _torch_dtype(dtype: str) -> torch.dtype | None:
    import torch

    name = _TORCH_DTYPE_NAMES.get(dtype)
    return getattr(torch, name, None) if name else None


# --------------------------------------------------------------------------------------------
# Accumulation
# --------------------------------------------------------------------------------------------


class _Acc:
    """Running per-tensor sums (Python floats are fp64; counts are exact ints)."""

    def __init__(self) -> None:
        self.n_finite = 0
        self.nan = 0
        self.pinf = 0
        self.ninf = 0
        self.zeros = 0
        self.sum_y = 0.0
        self.sum_yy = 0.0
        self.sum_pairs = 0.0
        self.sum_first = 0.0
        self.sum_last = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.pairs_ok = True


class _Scanner:
    """Holds the device, the reusable buffers and the chunking policy for one scan."""

    def __init__(self, device: torch.device, chunk_elems: int) -> None:
        self.device = device
        self.chunk = chunk_elems
        self._bufs: dict[tuple[torch.dtype, int], torch.Tensor] = {}
        self._scratch: torch.Tensor | None = None
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self._pool = ThreadPoolExecutor(1) if device.type == "cpu" and (cpus or 1) > 1 else None

    def buffer(self, dtype: torch.dtype, slot: int, n: int) -> torch.Tensor:
        """Return a reusable buffer of ``n`` elements (slot 0: values, 2: masked bits)."""
        import torch

        key = (dtype, slot)
        buf = self._bufs.get(key)
        if buf is None or buf.numel() < n:
            buf = torch.empty(max(n, min(self.chunk + 1, 1 << 30)), dtype=dtype, device=self.device)
            self._bufs[key] = buf
        return buf[:n]

    def raw_view(self, mm: mmap.mmap, offset: int, count: int, dtype: torch.dtype) -> Any:
        """Return ``count`` elements of ``dtype`` at ``offset`` of the mapping, as a CPU tensor.

        Zero-copy when the offset is aligned to the element size (always, for files written by
        the safetensors library); otherwise the bytes go through an aligned scratch buffer,
        because a misaligned view cannot be reinterpreted and is several times slower to read.
        """
        import torch

        esize = torch.empty((), dtype=dtype).element_size()
        nbytes = count * esize
        raw = torch.frombuffer(mm, dtype=torch.uint8, count=nbytes, offset=offset)
        if offset % esize == 0:
            return raw.view(dtype)
        if self._scratch is None or self._scratch.numel() < nbytes:
            self._scratch = torch.empty(max(nbytes, (self.chunk + 1) * 8), dtype=torch.uint8)
        scratch = self._scratch[:nbytes]
        scratch.copy_(raw)
        return scratch.view(dtype)

    def scan_tensor(
        self,
        mm: mmap.mmap,
        path: Path,
        info: TensorInfo,
        on_bytes: Callable[[int], None],
    ) -> TensorStats:
        """Scan one tensor chunk by chunk."""
        import torch

        numel = info.numel
        tdtype = _torch_dtype(info.dtype)
        if tdtype is None or numel == 0:
            on_bytes(info.nbytes)
            reason = (
                None
                if tdtype is not None
                else f"dtype {info.dtype} has no element-wise torch conversion; not scanned"
            )
            return _finish(path, info, _Acc(), skipped=reason)

        is_float = info.dtype in _FLOAT_DTYPES
        work = torch.float64 if info.dtype in _WIDE_DTYPES else torch.float32
        esize = info.nbytes // numel
        rows, cols = (info.shape[0], info.shape[1]) if len(info.shape) == 2 else (0, 0)
        want_pairs = is_float and len(info.shape) == 2 and cols >= 2
        step = self.chunk
        if want_pairs and cols <= step:
            step = (step // cols) * cols  # whole rows: no pair crosses a chunk boundary
        lib = native_scan() if self.device.type == "cpu" else None
        code = _NATIVE_DTYPES.get(info.dtype)
        if lib is not None and code is not None and (code != 2 or lib.scan_has_f16()):
            pair_cols = cols if want_pairs else 0
            acc, shift = self._native_tensor(lib, code, mm, info, step, pair_cols, on_bytes)
            return _finish(path, info, acc, shift, rows, cols, want_pairs)
        acc = _Acc()
        shift = 0.0
        shift_t: torch.Tensor | None = None
        start = 0
        while start < numel:
            stop = min(numel, start + step)
            # With rows split across chunks, read one element back for the boundary pair.
            back = 1 if want_pairs and start > 0 and start % cols else 0
            src = self.raw_view(
                mm, info.abs_begin + (start - back) * esize, stop - start + back, tdtype
            )
            if self.device.type != "cpu":
                src = src.to(self.device, non_blocking=False)
            x = self.buffer(work, 0, stop - start + back)
            x.copy_(src)
            region = x[back:]
            # amin + amax: two single passes beat torch.aminmax's fused kernel here (measured).
            mn, mx = float(torch.amin(region)), float(torch.amax(region))
            if not (math.isfinite(mn) and math.isfinite(mx)):
                # amin/amax propagate NaN and expose +/-Inf: only such chunks pay for masks.
                self._robust_chunk(region, shift, acc)
            else:
                if start == 0 and is_float:
                    # Decide the shift from the first chunk (see the module docstring).
                    first_mean = float(region.sum()) / region.numel()
                    if abs(first_mean) > _CENTER_RATIO * (mx - mn):
                        # Round the shift to the working dtype so that the subtraction on the
                        # device and the fp64 bookkeeping use the very same number (and
                        # x - shift is then exact for x within a factor 2 of it: Sterbenz).
                        shift_t = torch.tensor(first_mean, dtype=work, device=self.device)
                        shift = float(shift_t)
                self._fast_chunk(
                    src, x, back, start, cols if want_pairs else 0, mn, mx, shift_t, info, acc
                )
            del src
            # Release the chunk's pages at once: the resident set then stays at the buffers
            # plus one chunk, not the largest tensor (the page cache keeps the data).
            _drop_pages(mm, info.abs_begin + (start - back) * esize, info.abs_begin + stop * esize)
            on_bytes((stop - start) * esize)
            start = stop
        return _finish(path, info, acc, shift, rows, cols, want_pairs)

    def _native_tensor(
        self,
        lib: ctypes.CDLL,
        code: int,
        mm: mmap.mmap,
        info: TensorInfo,
        step: int,
        cols: int,
        on_bytes: Callable[[int], None],
    ) -> tuple[_Acc, float]:
        """Scan one float tensor with the compiled one-pass kernel (``_scan.c``), chunk by chunk.

        The chunks only pace page release and progress: the kernel reads the mapping in place
        (no conversion buffer) and carries the lag-1 pair across chunk boundaries itself.
        """
        esize = info.nbytes // info.numel
        acc = _Acc()
        shift = 0.0
        view = (ctypes.c_char * info.nbytes).from_buffer(mm, info.abs_begin)
        try:
            base = ctypes.addressof(view)
            start = 0
            while start < info.numel:
                stop = min(info.numel, start + step)
                if start == 0:
                    out, counts = _native_range(lib, base, start, stop, code, cols, shift)
                    first_mean = out[0] / (stop - start)
                    # the first chunk decides the shift, as on the torch path
                    if not any(counts[:3]) and abs(first_mean) > _CENTER_RATIO * (out[6] - out[5]):
                        shift = ctypes.c_float(first_mean).value  # the kernel's float32 shift
                        out, counts = _native_range(lib, base, start, stop, code, cols, shift)
                else:
                    out, counts = self._native_split(lib, base, start, stop, code, cols, shift)
                acc.nan += counts[0]
                acc.pinf += counts[1]
                acc.ninf += counts[2]
                acc.zeros += counts[3]
                acc.n_finite += (stop - start) - sum(counts[:3])
                acc.sum_y += out[0]
                acc.sum_yy += out[1]
                acc.sum_pairs += out[2]
                acc.sum_first += out[3]
                acc.sum_last += out[4]
                acc.min = min(acc.min, out[5])
                acc.max = max(acc.max, out[6])
                acc.pairs_ok = acc.pairs_ok and not any(counts[:3])
                _drop_pages(mm, info.abs_begin + start * esize, info.abs_begin + stop * esize)
                on_bytes((stop - start) * esize)
                start = stop
        finally:
            del view  # a live export would keep the mapping from closing
        return acc, shift

    def _native_split(
        self,
        lib: ctypes.CDLL,
        base: int,
        start: int,
        stop: int,
        code: int,
        cols: int,
        shift: float,
    ) -> tuple[list[float], list[int]]:
        """One chunk, its second half on the scanner's helper thread (ctypes drops the GIL).

        One core's loads fall short of the memory bandwidth (measured: 5 GB/s on one thread,
        10 GB/s on two, for a bf16 file in the page cache), so a chunk is read by two.
        """
        mid = (start + stop) // 2
        if self._pool is None or stop - start < _NATIVE_SPLIT_MIN:
            return _native_range(lib, base, start, stop, code, cols, shift)
        other = self._pool.submit(_native_range, lib, base, mid, stop, code, cols, shift)
        out, counts = _native_range(lib, base, start, mid, code, cols, shift)
        out2, counts2 = other.result()
        merged = [a + b for a, b in zip(out[:5], out2[:5], strict=True)]
        merged += [min(out[5], out2[5]), max(out[6], out2[6])]
        return merged, [a + b for a, b in zip(counts, counts2, strict=True)]

    def close(self) -> None:
        """Stop the helper thread."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _fast_chunk(
        self,
        src: torch.Tensor,
        x: torch.Tensor,
        back: int,
        start: int,
        cols: int,
        mn: float,
        mx: float,
        shift_t: torch.Tensor | None,
        info: TensorInfo,
        acc: _Acc,
    ) -> None:
        """Reduce an all-finite chunk with a few in-cache passes and one host sync.

        ``src`` holds the chunk in its stored dtype and ``x`` the same values converted, both
        preceded by ``back`` (0 or 1) element of the previous chunk when a matrix row straddles
        the boundary; ``start`` is the flat index of the chunk's first own element; ``cols`` is
        the row length when lag-1 pairs are wanted.
        """
        import torch

        region = x[back:]
        n = region.numel()
        zeros = 0
        if mn <= 0.0 <= mx:
            # count_nonzero is the slowest reduction here (~4x a sum). For IEEE-style floats a
            # value is zero exactly when its bits other than the sign are 0, so one masked amin
            # over the raw bits proves that most chunks hold no zero (false alarms just count).
            mask_dtype = _SIGN_MASK_INT.get(info.dtype)
            maybe_zero = True
            if mask_dtype is not None:
                itype, mask = mask_dtype
                bits = src[back:].view(getattr(torch, itype))
                masked = self.buffer(bits.dtype, 2, n)
                torch.bitwise_and(bits, mask, out=masked)
                maybe_zero = int(torch.amin(masked)) == 0
            if maybe_zero:
                zeros = n - int(torch.count_nonzero(region))
        if shift_t is not None:
            x.sub_(shift_t)
        total = x.numel()
        sum_y = float(region.sum())
        sum_yy = self._dot(region, region)
        if cols:
            # Local index j holds flat index q = start - back + j; pairs (j-1, j) with
            # q % cols == 0 cross a row boundary and are removed again.
            j0 = (back - start) % cols or cols
            left = x[j0 - 1 : total - 1 : cols]
            right = x[j0:total:cols]
            k = min(left.numel(), right.numel())
            acc.sum_pairs += self._dot(x[: total - 1], x[1:total]) - self._dot(
                left[:k].contiguous(), right[:k].contiguous()
            )
            acc.sum_first += float(region[(-start) % cols :: cols].sum())
            acc.sum_last += float(region[(cols - 1 - start) % cols :: cols].sum())
        acc.n_finite += n
        acc.zeros += zeros
        acc.sum_y += sum_y
        acc.sum_yy += sum_yy
        acc.min = min(acc.min, mn)
        acc.max = max(acc.max, mx)

    def _dot(self, a: torch.Tensor, b: torch.Tensor) -> float:
        """Inner product of two 1-D views as a Python float.

        On the CPU this goes through numpy's BLAS on zero-copy views: torch's CPU ``dot`` is
        ~2x slower on aligned data and ~12x slower when the two operands are one element
        apart (the lag-1 pair product), where numpy's stays at full speed (measured).
        """
        if self.device.type == "cpu":
            import numpy as np

            return float(np.dot(a.numpy(), b.numpy()))
        import torch

        return float(torch.dot(a, b))

    def _robust_chunk(self, region: torch.Tensor, shift: float, acc: _Acc) -> None:
        """Reduce a chunk that holds NaN or Inf: count them, then reduce the finite values."""
        import torch

        x = region.to(torch.float64)
        nan = torch.isnan(x)
        pinf = torch.isposinf(x)
        ninf = torch.isneginf(x)
        fin = torch.isfinite(x)
        xf = x[fin]
        parts = [nan.sum(), pinf.sum(), ninf.sum(), (xf == 0).sum()]
        vals = [int(v) for v in torch.stack(parts).tolist()]
        acc.nan += vals[0]
        acc.pinf += vals[1]
        acc.ninf += vals[2]
        acc.zeros += vals[3]
        if xf.numel():
            # fp64 sums around the same shift as the fast chunks, so the two kinds add up.
            mn, mx = torch.aminmax(xf)
            acc.min = min(acc.min, float(mn))
            acc.max = max(acc.max, float(mx))
            acc.n_finite += xf.numel()
            y = xf - shift
            acc.sum_y += float(y.sum())
            acc.sum_yy += float(torch.dot(y, y))
        # The lag-1 statistic is undefined once a tensor holds a non-finite value.
        acc.pairs_ok = False


# Dtypes the compiled kernel reads (its dtype codes); the rest take the torch path.
_NATIVE_DTYPES: Mapping[str, int] = MappingProxyType({"F32": 0, "BF16": 1, "F16": 2})
# Chunks shorter than this are not split across two threads (a hand-off costs ~50 µs).
_NATIVE_SPLIT_MIN = 1 << 16


@functools.lru_cache(maxsize=1)
def native_scan() -> ctypes.CDLL | None:
    """The compiled one-pass scan kernel, or None (the torch path runs; see ``model/native``)."""
    dll = load(Path(__file__).with_name("_scan.c"))
    if dll is None:
        return None
    dll.scan_range.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int,
        ctypes.c_int64,
        ctypes.c_float,
        ctypes.POINTER(ctypes.c_double),
        ctypes.POINTER(ctypes.c_int64),
    ]
    dll.scan_range.restype = None
    dll.scan_has_f16.restype = ctypes.c_int
    return dll


def _native_range(
    lib: ctypes.CDLL, base: int, start: int, stop: int, code: int, cols: int, shift: float
) -> tuple[list[float], list[int]]:
    """One kernel call: (sums, min, max) and (NaN, +Inf, -Inf, zero) counts of a range."""
    out = (ctypes.c_double * 7)(0.0, 0.0, 0.0, 0.0, 0.0, math.inf, -math.inf)
    counts = (ctypes.c_int64 * 4)()
    lib.scan_range(base, start, stop, code, cols, shift, out, counts)
    return list(out), list(counts)


def _finish(
    path: Path,
    info: TensorInfo,
    acc: _Acc,
    shift: float = 0.0,
    rows: int = 0,
    cols: int = 0,
    pairs: bool = False,
    skipped: str | None = None,
) -> TensorStats:
    """Turn the streamed sums into statistics (an untouched accumulator gives all ``None``)."""
    n = acc.n_finite
    mean = std = l2 = mn = mx = amax = r1 = None
    if n:
        ybar = acc.sum_y / n
        mean = shift + ybar
        m2 = max(0.0, acc.sum_yy - n * ybar * ybar)
        std = math.sqrt(m2 / n)
        # sum(x^2) = sum((y + K)^2) = M2 + n * mean^2: no cancellation, both terms >= 0.
        l2 = math.sqrt(m2 + n * mean * mean)
        mn, mx = acc.min, acc.max
        amax = max(abs(mn), abs(mx))
        if mn == mx:
            std = 0.0
        if pairs and acc.pairs_ok and n == info.numel:
            r1 = lag1_autocorr(
                acc.sum_y, acc.sum_yy, acc.sum_pairs, acc.sum_first, acc.sum_last, n, rows, cols
            )
    return TensorStats(
        name=info.name,
        file=path,
        dtype=info.dtype,
        shape=info.shape,
        numel=info.numel,
        nan_count=acc.nan,
        posinf_count=acc.pinf,
        neginf_count=acc.ninf,
        zero_count=acc.zeros,
        min=mn,
        max=mx,
        abs_max=amax,
        mean=mean,
        std=std,
        l2_norm=l2,
        lag1_autocorr=r1,
        skipped=skipped,
    )


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _scan_device(device: str) -> torch.device:
    """The scan's device: :func:`~albor_gates.model.device.resolve_device`'s, never MPS.

    The scan accumulates in float64, which MPS lacks: ``--device mps`` is refused, and ``auto``
    on a Mac scans on the CPU (not a fallback from a request: auto requests nothing).

    Raises:
        UsageError: a malformed or absent device, or ``mps``.
    """
    import torch

    dev = resolve_device(device)
    if dev.type != "mps":
        return dev
    if device == "auto":
        return torch.device("cpu")
    raise UsageError(
        "--device mps: the tensor scan accumulates in float64, which MPS lacks "
        "(use --device cpu or auto)"
    )


def _by_file(ckpt: Checkpoint) -> Iterator[tuple[Path, list[TensorInfo]]]:
    current: Path | None = None
    group: list[TensorInfo] = []
    for path, info in ckpt.iter_located():
        if path != current:
            if current is not None:
                yield current, group
            current, group = path, []
        group.append(info)
    if current is not None:
        yield current, group


def _drop_pages(mm: mmap.mmap, begin: int, end: int) -> None:
    """Release a scanned range from this process's resident set (the page cache keeps it)."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if advice is None or end <= begin:
        return
    page = mmap.PAGESIZE
    start = begin - begin % page
    with contextlib.suppress(OSError, ValueError):  # advisory only
        mm.madvise(advice, start, end - start)


def scan_checkpoint(
    ckpt: Checkpoint,
    *,
    device: str = "cpu",
    progress: Progress | None = None,
    chunk_elems: int | None = None,
    cpu_threads: int | None = 1,
) -> ScanResult:
    """Stream every tensor of a checkpoint and measure its numerics.

    Peak memory is the chunk buffers (a few times ``chunk_elems`` x 8 bytes) plus the
    interpreter, independent of the model size: data is read through a memory map and each
    tensor's pages are released once it is scanned.

    Args:
        ckpt: a checkpoint from :func:`albor_gates.artifacts.safetensors.open_checkpoint`
            (its header, offsets and sizes already validated).
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        progress: called as ``progress(bytes_done, bytes_total)`` after every chunk.
        chunk_elems: elements per chunk (default 2^20 on CPU, 2^26 on GPU).
        cpu_threads: torch intra-op threads during a CPU scan (restored afterwards); ``None``
            keeps torch's setting. The default, 1, is deliberate: every reduction is an OpenMP
            parallel region, and on a shared CPU one preempted worker stalls the barrier for a
            scheduler tick; measured on the 2-core machine under load, 2 threads scanned 10x
            slower than 1. One thread also matches the single-threaded numpy baseline.

    Returns:
        A frozen :class:`ScanResult` with one :class:`TensorStats` per tensor in file order.

    Raises:
        UsageError: bad ``device`` or ``chunk_elems``.
        ArtifactError: a file changed or vanished since its header was read.
    """
    dev = _scan_device(device)
    if chunk_elems is None:
        chunk_elems = GPU_CHUNK_ELEMS if dev.type == "cuda" else CPU_CHUNK_ELEMS
    if chunk_elems < 1:
        raise UsageError(f"chunk_elems must be at least 1, got {chunk_elems}")
    if cpu_threads is not None and cpu_threads < 1:
        raise UsageError(f"cpu_threads must be at least 1, got {cpu_threads}")
    total = sum(info.nbytes for _path, info in ckpt.iter_located())

    def body(scanner: _Scanner, on_bytes: Callable[[int], None]) -> list[TensorStats]:
        results: list[TensorStats] = []
        for path, infos in _by_file(ckpt):
            results.extend(_scan_file(scanner, path, infos, on_bytes))
        return results

    return _run_scan(dev, chunk_elems, cpu_threads, total, progress, Path(ckpt.path), body)


def _run_scan(
    dev: torch.device,
    chunk_elems: int,
    cpu_threads: int | None,
    total: int,
    progress: Progress | None,
    path: Path,
    body: Callable[[_Scanner, Callable[[int], None]], list[TensorStats]],
) -> ScanResult:
    """Shared frame of every scan: byte progress, the CPU thread setting, timing."""
    import torch

    scanner = _Scanner(dev, chunk_elems)
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    threads_before = torch.get_num_threads()
    if dev.type == "cpu" and cpu_threads is not None:
        torch.set_num_threads(cpu_threads)
    started = time.perf_counter()
    try:
        results = body(scanner, on_bytes)
    finally:
        scanner.close()
        torch.set_num_threads(threads_before)
    if progress is not None and total == 0:
        progress(0, 0)
    return ScanResult(
        path=path,
        device=str(dev),
        tensors=tuple(results),
        bytes_scanned=done,
        seconds=time.perf_counter() - started,
    )


def _scan_file(
    scanner: _Scanner, path: Path, infos: list[TensorInfo], on_bytes: Callable[[int], None]
) -> list[TensorStats]:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            needed = max((i.abs_end for i in infos), default=0)
            if size < needed:
                raise ArtifactError(
                    f"{path}: file shrank to {size} bytes since its header was read, but tensor "
                    f"data runs to absolute offset {needed}: re-run on a file that is not being "
                    f"written"
                )
            # ACCESS_COPY (private, copy-on-write): torch.frombuffer wants a writable buffer;
            # the scan never writes, so no page is copied and the file is never modified.
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
            try:
                out = []
                for info in infos:
                    out.append(scanner.scan_tensor(mm, path, info, on_bytes))
                return out
            finally:
                with contextlib.suppress(BufferError):  # a view outlived its chunk
                    mm.close()
    except OSError as e:
        raise ArtifactError(f"{path}: cannot read for the tensor scan: {e.strerror or e}") from e


def scan_gguf(
    gguf: Any,
    *,
    device: str = "cpu",
    progress: Progress | None = None,
    chunk_elems: int | None = None,
    cpu_threads: int | None = 1,
) -> ScanResult:
    """Scan a GGUF file: every tensor dequantised to fp32 (one at a time), then measured.

    The statistics are those of the values a runtime computes with (the dequantised weights),
    so a quantiser that produced NaN scales or an all-zero block shows up here. Peak memory is
    the largest dequantised tensor plus the scanner's buffers.

    Args:
        gguf: a :class:`~albor_gates.artifacts.gguf.GGUFFile`.
        device: as for :func:`scan_checkpoint`.
        progress: called as ``progress(bytes_done, bytes_total)`` in fp32 bytes.
        chunk_elems: as for :func:`scan_checkpoint`.
        cpu_threads: as for :func:`scan_checkpoint`.
    """
    import numpy as np

    from albor_gates.artifacts.gguf_dequant import iter_dequantized

    dev = _scan_device(device)
    chunk = chunk_elems or (GPU_CHUNK_ELEMS if dev.type == "cuda" else CPU_CHUNK_ELEMS)
    total = sum(t.n_elements * 4 for t in gguf.tensors)

    def body(scanner: _Scanner, on_bytes: Callable[[int], None]) -> list[TensorStats]:
        results: list[TensorStats] = []
        for info, arr in iter_dequantized(gguf):
            flat = np.ascontiguousarray(arr, dtype=np.float32).reshape(-1)
            nbytes = flat.nbytes
            mm = mmap.mmap(-1, max(nbytes, 1))
            try:
                np.frombuffer(mm, dtype=np.float32, count=flat.size)[:] = flat
                ti = TensorInfo(info.name, "F32", tuple(info.shape), 0, nbytes, 0, nbytes)
                results.append(scanner.scan_tensor(mm, Path(gguf.path), ti, on_bytes))
            finally:
                with contextlib.suppress(BufferError):
                    mm.close()
        return results

    return _run_scan(dev, chunk, cpu_threads, total, progress, Path(gguf.path), body)
