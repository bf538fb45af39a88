"""A safetensors file with N one-element tensors: large headers for the cap and the benchmark."""

from __future__ import annotations

import json
from pathlib import Path


def write_many_tensors(path: Path, n: int) -> int:
    """Write ``n`` F32 tensors named like a mixture-of-experts shard; return the header length.

    The data section is sparse (truncate), so a header of millions of tensors costs no disk.
    """
    header = {
        f"model.layers.{i // 9}.mlp.experts.{i % 9}.down_proj.weight": {
            "dtype": "F32",
            "shape": [1],
            "data_offsets": [4 * i, 4 * i + 4],
        }
        for i in range(n)
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as fh:
        fh.write(len(raw).to_bytes(8, "little"))
        fh.write(raw)
        fh.truncate(8 + len(raw) + 4 * n)
    return len(raw)
