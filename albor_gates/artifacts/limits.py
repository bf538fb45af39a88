"""Size caps for untrusted headers, set per run (``--max-header-mib``).

A safetensors header is JSON the reader must hold and parse whole; a hostile file can claim
(and carry) 100 MB of it — 1.4 M tensors, 118 s and 1.75 GB of memory on main before issue 11.
Real checkpoints are far below: the largest headers of published shards are a few hundred KB
(about 100 bytes per tensor, a few thousand tensors per shard), so the default cap of 16 MiB
leaves two orders of magnitude of room. benchmarks/bench_header_parse.py measures parse time
and peak memory linear in the tensor count (17 k → 136 k tensors: time ×8.0, memory ×10 from a
4 MB base); the largest header under the cap (136 k tensors, 14.9 MB) parses in 2.8 s with
41 MB of extra RSS on the 2-core dev machine. A checkpoint that needs more uses a higher cap.
"""

from __future__ import annotations

DEFAULT_HEADER_CAP = 16 * 1024 * 1024

_cap = DEFAULT_HEADER_CAP


def header_cap() -> int:
    """The largest safetensors header this run accepts, in bytes."""
    return _cap


def set_header_cap(n: int) -> None:
    """Set the cap for this process's runs (the CLI's ``--max-header-mib``; the API's option)."""
    global _cap
    if n <= 0:
        raise ValueError(f"header cap must be positive, got {n}")
    _cap = n
