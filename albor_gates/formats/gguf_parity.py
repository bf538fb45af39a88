"""Per-tensor comparison of a safetensors release with a GGUF file (GATES.md §7.4).

:func:`compare_tensors` walks the GGUF one tensor at a time (dequantised to fp32, renamed to
Hugging Face names, llama-family q/k rows un-permuted by
:func:`~albor_gates.formats.gguf_names.gguf_to_hf_state`), reads the source tensor of the same
name from the safetensors file(s), and measures, in float64 over chunks of the flattened
tensors (peak memory: the two fp32 copies of the largest tensor plus one chunk):

* the cosine similarity (AC-SHIP1-003: ≥ 0.999 for a quantised round trip);
* the relative L2 drift ``‖gguf − source‖ / ‖source‖`` (metamorphic M2: < 1 %);
* the largest absolute difference;
* whether the tensor is bit-identical, for the pairs where the GGUF type can hold the source
  exactly (F32 from F32 / F16 / BF16, F16 from F16, BF16 from BF16): such a tensor must
  be exact, and one that is not is a writer bug, not quantisation error.

It measures and never judges; the check kinds hand the numbers to the engine's bands.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albor_gates.artifacts.checkpoint import open_checkpoint
from albor_gates.artifacts.gguf import read_gguf
from albor_gates.errors import ArtifactError
from albor_gates.formats.gguf_names import gguf_to_hf_name, gguf_to_hf_state

if TYPE_CHECKING:
    import torch

__all__ = ["TensorComparison", "TensorParity", "TypeSummary", "compare_tensors", "lossless"]

# Elements per float64 chunk: 4 Mi elements = 32 MiB per operand.
_CHUNK = 1 << 22
# Source tensors that are buffers, not weights: never written to GGUF (convert_hf_to_gguf.py).
SKIPPED_SOURCE_SUFFIXES = ("rotary_emb.inv_freq",)
# GGUF type -> source dtypes it holds exactly.
_LOSSLESS = {"F32": {"F32", "F16", "BF16"}, "F16": {"F16"}, "BF16": {"BF16"}}


def lossless(ggml_type: str, source_dtype: str) -> bool:
    """Whether a GGUF tensor of ``ggml_type`` can hold a ``source_dtype`` tensor exactly."""
    return source_dtype in _LOSSLESS.get(ggml_type, set())


@dataclass(frozen=True)
class TensorComparison:
    """One tensor of the source compared with its GGUF counterpart.

    Attributes:
        name: the Hugging Face name.
        ggml_type: the tensor's type in the GGUF file.
        source_dtype: its safetensors dtype.
        shape: row-major shape.
        cosine: cosine similarity (1.0 when both are all zero, 0.0 when only one is).
        l2_drift: ``‖gguf − source‖ / ‖source‖`` (0 for identical zeros, inf for a zero
            source and a non-zero GGUF tensor).
        max_abs_diff: the largest ``|gguf − source|``.
        lossless: whether the GGUF type holds the source dtype exactly.
        exact: whether the two are bit-identical as fp32.
    """

    name: str
    ggml_type: str
    source_dtype: str
    shape: tuple[int, ...]
    cosine: float
    l2_drift: float
    max_abs_diff: float
    lossless: bool
    exact: bool


@dataclass(frozen=True)
class TypeSummary:
    """The worst figures over the tensors of one GGUF type.

    Attributes:
        tensors: how many tensors have the type.
        min_cosine: the lowest cosine.
        worst_cosine: the tensor with that cosine.
        max_l2_drift: the largest relative L2 drift.
        worst_drift: the tensor with that drift.
        inexact: tensors of a lossless pair that are not bit-identical.
    """

    tensors: int
    min_cosine: float
    worst_cosine: str
    max_l2_drift: float
    worst_drift: str
    inexact: int


@dataclass(frozen=True)
class TensorParity:
    """The comparison of every tensor.

    Attributes:
        source: the safetensors file, index or folder.
        gguf: the GGUF file.
        tensors: one entry per tensor present on both sides, in GGUF file order.
        missing_in_gguf: source tensors with no GGUF counterpart (buffers excluded).
        extra_in_gguf: GGUF tensors with no source counterpart.
        shape_mismatches: ``name: source [..] vs gguf [..]`` for tensors of different shapes.
        source_tensors: tensors in the source, buffers such as ``rotary_emb.inv_freq``
            excluded.
        skipped_buffers: the excluded buffer names.
    """

    source: Path
    gguf: Path
    tensors: tuple[TensorComparison, ...]
    missing_in_gguf: tuple[str, ...]
    extra_in_gguf: tuple[str, ...]
    shape_mismatches: tuple[str, ...]
    source_tensors: int
    skipped_buffers: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Whether every tensor has a counterpart of the same shape on the other side."""
        return not (self.missing_in_gguf or self.extra_in_gguf or self.shape_mismatches)

    @property
    def min_cosine(self) -> float:
        """The lowest cosine over all tensors (1.0 for none; NaN when any is NaN)."""
        values = [t.cosine for t in self.tensors]
        if any(math.isnan(v) for v in values):
            return math.nan
        return min(values, default=1.0)

    @property
    def max_l2_drift(self) -> float:
        """The largest relative L2 drift over all tensors (0.0 for none; NaN when any is NaN)."""
        values = [t.l2_drift for t in self.tensors]
        if any(math.isnan(v) for v in values):
            return math.nan
        return max(values, default=0.0)

    @property
    def inexact(self) -> tuple[str, ...]:
        """Tensors of a lossless pair that are not bit-identical."""
        return tuple(t.name for t in self.tensors if t.lossless and not t.exact)

    def by_type(self) -> dict[str, TypeSummary]:
        """Worst figures per GGUF type, sorted by type name."""
        groups: dict[str, list[TensorComparison]] = {}
        for t in self.tensors:
            groups.setdefault(t.ggml_type, []).append(t)
        out: dict[str, TypeSummary] = {}
        for ggml_type, ts in sorted(groups.items()):
            worst_cos = min(ts, key=lambda t: (not math.isnan(t.cosine), t.cosine))
            worst_drift = max(ts, key=lambda t: (math.isnan(t.l2_drift), t.l2_drift))
            out[ggml_type] = TypeSummary(
                tensors=len(ts),
                min_cosine=worst_cos.cosine,
                worst_cosine=worst_cos.name,
                max_l2_drift=worst_drift.l2_drift,
                worst_drift=worst_drift.name,
                inexact=sum(1 for t in ts if t.lossless and not t.exact),
            )
        return out


def _stats(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, float, bool]:
    """Cosine, relative L2 drift, max |diff| and bit-identity of two fp32 tensors."""
    import torch

    fa, fb = a.reshape(-1), b.reshape(-1)
    dot = aa = bb = dd = 0.0
    max_abs = 0.0
    exact = True
    with torch.no_grad():
        for s in range(0, fa.numel(), _CHUNK):
            ca, cb = fa[s : s + _CHUNK], fb[s : s + _CHUNK]
            if exact and not torch.equal(ca.view(torch.int32), cb.view(torch.int32)):
                exact = False
            da, db = ca.double(), cb.double()
            diff = db - da
            dot += float(torch.dot(da, db))
            aa += float(torch.dot(da, da))
            bb += float(torch.dot(db, db))
            dd += float(torch.dot(diff, diff))
            if diff.numel():
                lo, hi = torch.aminmax(diff)
                max_abs = max(max_abs, -float(lo), float(hi))
    if aa == 0.0 and bb == 0.0:
        cosine = 1.0
    elif aa == 0.0 or bb == 0.0:
        cosine = 0.0
    else:
        # Rounding can put an identical pair a hair above 1.
        cosine = min(1.0, dot / math.sqrt(aa * bb))
    drift = (0.0 if dd == 0.0 else math.inf) if aa == 0.0 else math.sqrt(dd / aa)
    return cosine, drift, max_abs, exact


def compare_tensors(
    source: str | Path,
    gguf_path: str | Path,
    *,
    progress: Callable[[float, float], None] | None = None,
) -> TensorParity:
    """Compare every tensor of a safetensors checkpoint with a GGUF file.

    Args:
        source: a ``.safetensors`` file, a sharded index or a release folder.
        gguf_path: the GGUF file.
        progress: called as ``(tensors done, tensors total)`` after each tensor.

    Returns:
        The :class:`TensorParity`.

    Raises:
        ArtifactError: an unreadable source or GGUF file, an unmapped GGUF architecture or
            tensor, a GGUF type that cannot be dequantised.
    """
    from safetensors import SafetensorError, safe_open

    ckpt = open_checkpoint(source)
    g = read_gguf(gguf_path)
    src_names = {t.name: t for t in ckpt.tensors}
    buffers = tuple(sorted(n for n in src_names if n.endswith(SKIPPED_SOURCE_SUFFIXES)))
    wanted = {n for n in src_names if n not in buffers}
    types: dict[str, str] = {}
    gguf_shapes: dict[str, tuple[int, ...]] = {}
    for info in g.tensors:
        hf = gguf_to_hf_name(info.name)
        if hf is not None:
            types[hf] = info.ggml_type
            gguf_shapes[hf] = tuple(info.shape)
    missing = tuple(sorted(wanted - set(types)))
    extra = tuple(sorted(set(types) - wanted))
    mismatched = tuple(
        f"{n}: source {list(src_names[n].shape)} vs gguf {list(gguf_shapes[n])}"
        for n in sorted(wanted & set(types))
        if tuple(src_names[n].shape) != gguf_shapes[n]
    )
    skip = set(extra) | {m.split(":", 1)[0] for m in mismatched}
    out: list[TensorComparison] = []
    handles: dict[Path, Any] = {}
    total = float(len(g.tensors))
    try:
        for i, (name, gt) in enumerate(gguf_to_hf_state(g)):
            if name not in skip:
                file, src_info = ckpt.locate(name)
                if file not in handles:
                    handles[file] = safe_open(str(file), framework="pt").__enter__()
                st = handles[file].get_tensor(name).float()
                cosine, drift, max_abs, exact = _stats(st, gt)
                del st
                out.append(
                    TensorComparison(
                        name=name,
                        ggml_type=types[name],
                        source_dtype=src_info.dtype,
                        shape=tuple(src_info.shape),
                        cosine=cosine,
                        l2_drift=drift,
                        max_abs_diff=max_abs,
                        lossless=lossless(types[name], src_info.dtype),
                        exact=exact,
                    )
                )
            del gt
            if progress is not None:
                progress(float(i + 1), total)
    except SafetensorError as e:
        raise ArtifactError(f"{source}: cannot read the safetensors weights: {e}") from e
    finally:
        for h in handles.values():
            h.__exit__(None, None, None)
    return TensorParity(
        source=Path(source),
        gguf=Path(gguf_path),
        tensors=tuple(out),
        missing_in_gguf=missing,
        extra_in_gguf=extra,
        shape_mismatches=mismatched,
        source_tensors=len(wanted),
        skipped_buffers=buffers,
    )
