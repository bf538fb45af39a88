"""weights.index_size — a sharded index's ``metadata.total_size`` against its shards.

``model.safetensors.index.json`` declares ``metadata.total_size``; the shards' headers say how
many tensor bytes they really hold. Real Hub indexes do not always agree to the byte (writers
count tied or deduplicated tensors differently), so a gap is no structural failure: the value
is the absolute gap in bytes, the default fail band only asks for a measurement (``ge: 0``) and
the ``verify`` invariant warns on any gap (``warn: {eq: 0}``), naming both numbers. A single
file, a GGUF or an index without ``total_size`` has nothing to compare: gap 0.

PASS: "model.safetensors.index.json: metadata.total_size 988,097,536 = the shards' 988,097,536
tensor bytes".
WARN (FAIL under ``expect: {le: 16}``): "model.safetensors.index.json: metadata.total_size
988,097,600 but the shards hold 988,097,536 tensor bytes (64 bytes apart)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks.base import Context, Measurement, NoParams
from albor_gates.checks.evidence import checkpoint

KIND = "weights.index_size"
VERSION = 1
TITLE = "A sharded index's metadata.total_size matches the bytes its shards hold"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"ge": 0}
Params = NoParams


def measure(ctx: Context, params: NoParams) -> Measurement:
    """Compare the declared total with the shards' tensor bytes."""
    view = checkpoint(ctx)
    declared = getattr(view.raw, "declared_total_size", None)
    name = view.path.name
    if declared is None:
        return Measurement(
            0,
            subject="index total_size gap",
            unit="bytes",
            summary=f"{name}: {view.format}, no index metadata.total_size to compare",
        )
    actual = view.nbytes
    gap = abs(declared - actual)
    if gap:
        summary = (
            f"{name}: metadata.total_size {declared:,} but the shards hold {actual:,} tensor "
            f"bytes ({gap:,} bytes apart)"
        )
    else:
        summary = f"{name}: metadata.total_size {declared:,} = the shards' {actual:,} tensor bytes"
    return Measurement(
        gap,
        subject="index total_size gap",
        unit="bytes",
        summary=summary,
        details={"declared_total_size": declared, "shard_tensor_bytes": actual},
        fix="regenerate the index with the tool that wrote the shards (or ignore: the shards "
        "themselves are consistent)",
    )
