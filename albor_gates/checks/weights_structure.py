"""weights.structure — the weights file parses and its layout is exactly consistent.

For safetensors: the 8-byte header length (capped at 100 MB), a JSON object header with known
dtypes, shapes and ``data_offsets`` that are in bounds, sorted, non-overlapping, gap-free and
cover the data section with no trailing bytes, each tensor's byte length = elements × dtype
size; for a sharded index, every shard present and every tensor in exactly one shard; for
GGUF, the bounded header walk of the GGUF reader. Pickle files (``.bin``/``.pt``/``.pth``/
``.ckpt``) are refused unread.

The value is a flag (default band ``is_true: true``); a broken file is *measured* as false
with the reader's one-line diagnosis (file, tensor, byte offset, fix), so this gate FAILs
where the others that need the weights ERROR.

PASS: "model.safetensors: 291 tensors, 494,032,768 parameters, layout consistent".
FAIL: "model.safetensors: tensor 'model.norm.weight' data_offsets [1024, 3048] overlap the
previous tensor ending at byte 2048 (absolute offset 2104): the file is corrupt ...".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks.base import Context, Measurement, NoParams
from albor_gates.checks.evidence import checkpoint, display_name
from albor_gates.errors import ArtifactError

KIND = "weights.structure"
VERSION = 1
TITLE = "The weights file (safetensors, sharded index or GGUF) parses with a consistent layout"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}
Params = NoParams


def measure(ctx: Context, params: NoParams) -> Measurement:
    """Parse the header(s); a parse error is the measured fact, not an engine error."""
    path = ctx.path("model")
    try:
        view = checkpoint(ctx)
    except ArtifactError as e:
        return Measurement(
            False,
            subject="layout",
            summary=str(e),
            fix="re-export the weights with a maintained writer (safetensors, gguf-py)",
        )
    n = len(view.shapes)
    params_count = view.param_count()
    return Measurement(
        True,
        subject="layout",
        summary=f"{display_name(path)}: {view.format}, {n} tensors, {params_count:,} parameters, "
        "layout consistent",
        details={
            "format": view.format,
            "tensors": n,
            "parameters": params_count,
            "bytes": view.nbytes,
            "files": [str(f) for f in view.files],
        },
    )
