"""weights.dtypes — every floating-point tensor is stored in an allowed dtype.

The ship-format policy (apr-cli-publish-extra-v1, FALSIFY-PM-007) publishes the safetensors
weights as fp16: ``allowed: [F16]``. Integer buffers (e.g. BERT's ``position_ids``) are not
weights and are ignored. The value is the number of floating tensors in another dtype (default
band ``eq: 0``); the dtypes found are listed.

PASS: "0 of 290 floating tensors outside F16".
FAIL: a bf16 export → "290 of 290 floating tensors outside F16 (found BF16 ×290)".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import INT_DTYPES, checkpoint

KIND = "weights.dtypes"
VERSION = 1
TITLE = "Every floating-point tensor is stored in an allowed dtype (e.g. fp16 for publishing)"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class Params(CheckParams):
    """Options of weights.dtypes."""

    allowed: list[str] = Field(min_length=1)


def measure(ctx: Context, params: Params) -> Measurement:
    """Count the tensors stored in other dtypes."""
    view = checkpoint(ctx)
    floats = {n: d for n, d in view.dtypes.items() if d not in INT_DTYPES}
    found = Counter(floats.values())
    bad = [n for n, d in floats.items() if d not in params.allowed]
    summary = f"{len(bad)} of {len(floats)} floating tensors outside {', '.join(params.allowed)}"
    if bad:
        summary += " (found " + ", ".join(f"{d} ×{c}" for d, c in sorted(found.items())) + ")"
    return Measurement(
        len(bad),
        subject="tensors in another dtype",
        summary=summary,
        details={"dtypes": dict(sorted(found.items())), "first": sorted(bad)[:10]},
    )
