"""Issue 11 §10: the safetensors header cap is sized for real checkpoints and configurable.

On main a 97 MB header with 1.4 M tensors was accepted after 118 s at 1.75 GB; now a header
over 16 MiB is refused before it is read, and ``--max-header-mib`` moves the cap per run.
"""

from __future__ import annotations

import time

from testlib.many_tensors import write_many_tensors

from albor_gates.artifacts.limits import DEFAULT_HEADER_CAP, header_cap


def test_a_hostile_header_over_the_cap_is_refused_fast(gates, tmp_path) -> None:
    model = tmp_path / "model.safetensors"
    size = write_many_tensors(model, 160_000)  # ~18 MB of real JSON: over the default cap
    assert size > DEFAULT_HEADER_CAP
    t0 = time.perf_counter()
    r = gates("verify", str(model), "-f", "json")
    assert time.perf_counter() - t0 < 30
    assert r.code == 1
    assert f"header length field claims {size} bytes, above the 16777216-byte limit" in r.out


def test_the_cap_is_configurable_per_run(gates, tmp_path) -> None:
    model = tmp_path / "model.safetensors"
    size = write_many_tensors(model, 12_000)  # ~1.3 MB: a big real shard, under the default
    r = gates("verify", str(model), "-f", "json", "--max-header-mib", "1")
    assert f"header length field claims {size} bytes, above the 1048576-byte limit" in r.out
    r = gates("verify", str(model), "-f", "json")
    assert "above the" not in r.out
    assert header_cap() == DEFAULT_HEADER_CAP  # each run sets its own cap
