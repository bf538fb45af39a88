"""`torchrun --nproc_per_node 2 -m albor_gates verify`: the CLI joins the group and shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from testlib.hf import make_bpe_tokenizer, make_hf_model

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ("def f(n):", "import os", "class A:")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "-m", "albor_gates", *args]  # fmt: skip


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("dist")
    tok = make_bpe_tokenizer("qwen2", vocab_size=300)
    rel = make_hf_model("qwen2", d / "rel", tokenizer=tok, vocab_size=320)
    ids = d / "ids.npy"
    np.save(ids, np.random.default_rng(3).integers(0, 300, 32 * 13 + 5))
    return rel, ids


def _verify_args(rel: Path, ids: Path) -> list[str]:
    args = ["verify", str(rel), "--val-tokens", str(ids), "--seq-len", "32", "--batch-size", "3",
            "--max-new-tokens", "4", "--device", "cpu", "-f", "json"]  # fmt: skip
    for p in PROMPTS:
        args += ["--prompt", p]
    return args


def _gate(rec: dict, gate_id: str) -> dict:
    return next(g for g in rec["gates"] if g["id"] == gate_id)


def test_two_ranks_shard_the_work_and_equal_one_process(release: tuple[Path, Path]) -> None:
    rel, ids = release
    args = _verify_args(rel, ids)
    single = subprocess.run(
        [sys.executable, "-m", "albor_gates", *args],
        capture_output=True, text=True, env=_env(), timeout=600,
    )  # fmt: skip
    one = json.loads(single.stdout)
    proc = subprocess.run(_torchrun(*args), capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == single.returncode, proc.stderr[-3000:]
    two = json.loads(proc.stdout)  # one report: rank 1 writes nothing
    loss1, loss2 = _gate(one, "VAL-LOSS"), _gate(two, "VAL-LOSS")
    d1, d2 = loss1["details"], loss2["details"]
    assert d1["world_size"] == 1 and "rank_tokens" not in d1
    assert d2["world_size"] == 2
    assert sum(d2["rank_tokens"]) == d2["tokens_evaluated"] == d1["tokens_evaluated"]
    # 13 windows of 32 targets round-robin: 7 and 6 windows, about half each
    assert d2["rank_tokens"] == [7 * 32, 6 * 32]
    assert abs(d2["loss"] - d1["loss"]) <= 1e-6 * abs(d1["loss"])
    assert "on 2 ranks" in loss2["summary"]
    s1, s2 = _gate(one, "SMOKE-OUTPUT")["details"], _gate(two, "SMOKE-OUTPUT")["details"]
    assert [o["prompt"] for o in s2["outputs"]] == list(PROMPTS)
    assert [o["output"] for o in s2["outputs"]] == [o["output"] for o in s1["outputs"]]


def _rank_pid(parent: int, rank: str) -> int | None:
    """The pid of the torchrun worker of ``rank`` under ``parent`` (read from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and f"RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_a_killed_rank_ends_the_job_without_a_report(release: tuple[Path, Path]) -> None:
    rel, ids = release
    proc = subprocess.Popen(
        _torchrun(*_verify_args(rel, ids)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        victim = _rank_pid(proc.pid, "1")
        time.sleep(0.05)
    assert victim is not None, "rank 1 never started"
    # the job is small enough to finish in 2 s on an idle machine: kill rank 1 while it starts
    # (importing, joining the group), so the job can never complete its collectives
    time.sleep(0.3)
    os.kill(victim, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)  # never a hang: torchrun ends the job
    assert proc.returncode != 0
    assert out.strip() == "", "no report may be written by a job that lost a rank"
    assert "albor_gates" in err and "FAILED" in err


def test_a_world_that_cannot_form_is_a_usage_error_not_a_single_run(
    gates, release: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    rel, _ = release
    for name, value in {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    r = gates("verify", str(rel), "--device", "cpu", "-f", "json")
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        "gates: error: torch.distributed: rank 0 of a world of 2 could not join the gloo process "
        "group at ?:? (Error initializing torch.distributed using env:// rendezvous: environment "
        "variable MASTER_ADDR expected, but not set): run every rank with the same torchrun "
        "command and a reachable --rdzv-endpoint\n"
    )
