"""The on-disk evidence cache (engine/cache.py, issue 12 part 2).

Every test here runs the real ``gates check`` on a copy of the bundled example release, with
gates that need no torch: AC-SHIP2-001 reads config.json and the family contract,
AC-SHIP2-005 the weights, AC-SHIP2-012-LICENSES the weights' metadata and the model card.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from albor_gates.cli.common import cache_settings
from albor_gates.config import GatesConfig
from albor_gates.engine.cache import FORMAT, choose_folder, default_folder

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "albor-tiny-v1"
CONFIG_GATE, WEIGHTS_GATE, LICENSE_GATE = "AC-SHIP2-001", "AC-SHIP2-005", "AC-SHIP2-012-LICENSES"
GATES = (CONFIG_GATE, WEIGHTS_GATE, LICENSE_GATE)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A copy of the example release (the tests change its bytes)."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "release"))


@pytest.fixture
def check(gates: Callable[..., Any], release: Path, tmp_path: Path) -> Callable[..., dict]:
    """``gates check ship-model-2`` on the copy with the three gates; returns the JSON report."""
    runs = iter(range(1000))

    def run(*extra: str) -> dict[str, Any]:
        out = tmp_path / f"out-{next(runs)}"
        select = [a for g in GATES for a in ("--select", g)]
        r = gates(
            "check", "ship-model-2", "--root", str(release), *select, "-f", "json", "-o",
            str(out), "-q", "--exit-zero", *extra,
        )  # fmt: skip
        assert r.code == 0, r.err
        return json.loads((out / "gates-report.json").read_text(encoding="utf-8"))

    return run


def _cached(report: dict[str, Any]) -> dict[str, bool]:
    return {g["id"]: "cache" in g for g in report["gates"] if g["id"] in GATES}


def _comparable(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The gates without what legitimately differs between a cold and a warm run."""
    return [
        {k: v for k, v in g.items() if k not in ("cache", "duration_s")}
        for g in report["gates"]
        if g["id"] in GATES
    ]


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def _flip_weight_byte(release: Path) -> None:
    weights = release / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # the last byte of the last tensor: the header stays valid
    weights.write_bytes(bytes(data))


def test_second_run_is_served_from_the_cache_with_the_same_results(
    check: Callable[..., dict], _evidence_cache: Path
) -> None:
    cold = check()
    assert _cached(cold) == dict.fromkeys(GATES, False)
    assert len(_entries(_evidence_cache)) == 3
    warm = check()
    assert _cached(warm) == dict.fromkeys(GATES, True)
    assert _comparable(warm) == _comparable(cold)
    cache = next(g["cache"] for g in warm["gates"] if g["id"] == CONFIG_GATE)
    assert cache["hit"] is True and cache["device"].startswith("cpu ")
    assert cache["measured_at"].endswith("Z")


def test_a_weights_change_recomputes_exactly_the_gates_that_read_the_weights(
    check: Callable[..., dict], release: Path
) -> None:
    check()
    _flip_weight_byte(release)
    after = check()
    assert _cached(after) == {CONFIG_GATE: True, WEIGHTS_GATE: False, LICENSE_GATE: False}
    assert _cached(check()) == dict.fromkeys(GATES, True)  # and the new bytes are cached


def test_a_config_change_recomputes_the_config_gate_only(
    check: Callable[..., dict], release: Path
) -> None:
    check()
    config = release / "config.json"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _cached(check()) == {CONFIG_GATE: False, WEIGHTS_GATE: True, LICENSE_GATE: True}


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: b"\x00garbage\xff" * 7, id="garbage"),
        pytest.param(lambda raw: raw.replace(b'"unit":"', b'"unit":"x', 1), id="body-edited"),
        pytest.param(
            lambda raw: raw.replace(b'"tool_version":"', b'"tool_version":"0.0.0-other', 1),
            id="other-tool-version",
        ),
        pytest.param(
            lambda raw: raw.replace(f'"format":{FORMAT}'.encode(), b'"format":99', 1),
            id="other-format",
        ),
        pytest.param(lambda raw: b"[" * 100 + b"]" * 100, id="foreign-json"),
    ],
)
def test_a_corrupt_or_foreign_entry_is_recomputed_and_rewritten(
    check: Callable[..., dict], _evidence_cache: Path, spoil: Callable[[bytes], bytes]
) -> None:
    cold = check()
    for entry in _entries(_evidence_cache):
        entry.write_bytes(spoil(entry.read_bytes()))
    again = check()
    assert _cached(again) == dict.fromkeys(GATES, False)  # never trusted
    assert _comparable(again) == _comparable(cold)
    assert _cached(check()) == dict.fromkeys(GATES, True)  # rewritten, sound again


def test_changed_code_under_the_same_version_number_recomputes(
    check: Callable[..., dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    # an editable checkout or a patched install: same 0.1.0, different code
    check()
    monkeypatch.setattr("albor_gates.engine.cache.tool_build", lambda: "another build")
    assert _cached(check()) == dict.fromkeys(GATES, False)
    assert _cached(check()) == dict.fromkeys(GATES, True)


def test_the_code_digest_follows_code_not_bytecode_or_data(tmp_path: Path) -> None:
    from albor_gates.engine.cache import code_digest

    (tmp_path / "checks").mkdir()
    kind = tmp_path / "checks" / "kind.py"
    kind.write_text("VERSION = 1\n", encoding="utf-8")
    first = code_digest(tmp_path)
    (tmp_path / "checks" / "kind.cpython-311.pyc").write_bytes(b"\x00")
    (tmp_path / "notes.md").write_text("not code", encoding="utf-8")
    assert code_digest(tmp_path) == first
    kind.write_text("VERSION = 1  # a changed line\n", encoding="utf-8")
    assert code_digest(tmp_path) != first


def test_an_entry_over_the_size_cap_is_not_read(
    check: Callable[..., dict], _evidence_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check()
    monkeypatch.setattr("albor_gates.engine.cache.MAX_ENTRY_BYTES", 64)
    assert _cached(check()) == dict.fromkeys(GATES, False)


def test_no_cache_neither_reads_nor_writes(
    check: Callable[..., dict], _evidence_cache: Path
) -> None:
    assert _cached(check("--no-cache")) == dict.fromkeys(GATES, False)
    assert _entries(_evidence_cache) == []
    check()
    assert _cached(check("--no-cache")) == dict.fromkeys(GATES, False)


def test_cache_dir_flag_wins_over_the_environment(
    check: Callable[..., dict], _evidence_cache: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    check("--cache-dir", str(mine))
    assert len(_entries(mine)) == 3 and _entries(_evidence_cache) == []


def test_reports_say_cached_in_every_format(
    gates: Callable[..., Any], release: Path, tmp_path: Path
) -> None:
    args = ["check", "ship-model-2", "--root", str(release), "--select", CONFIG_GATE]
    gates(*args, "-q", "--exit-zero")
    out = tmp_path / "out"
    r = gates(*args, "--exit-zero", "-f", "markdown", "-f", "html", "-f", "json", "-o", str(out))
    assert r.code == 0, r.err
    assert "cached (measured 20" in r.out and "; 1 cached" in r.out
    for name in ("gates-summary.md", "gates-report.html"):
        assert "cached (measured 20" in (out / name).read_text(encoding="utf-8"), name


def test_two_concurrent_runs_on_one_cache_both_succeed(release: Path, tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    env = {**os.environ, "GATES_CACHE_DIR": str(cache)}
    select = [a for g in GATES for a in ("--select", g)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "albor_gates",
                "check",
                "ship-model-2",
                "--root",
                str(release),
                *select,
                "-f",
                "json",
                "-o",
                str(tmp_path / f"out-{i}"),
                "-q",
                "--exit-zero",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for i in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    reports = [
        json.loads((tmp_path / f"out-{i}" / "gates-report.json").read_text()) for i in range(2)
    ]
    assert _comparable(reports[0]) == _comparable(reports[1])
    entries = _entries(cache)
    assert len(entries) == 3 and not list(cache.glob(".*"))  # no temp file left behind
    for entry in entries:
        data = json.loads(entry.read_text(encoding="utf-8"))
        assert data["tool"] == "albor-gates" and data["format"] == FORMAT
    r = subprocess.run(
        [sys.executable, "-m", "albor_gates", "check", "ship-model-2", "--root", str(release),
         *select, "-f", "json", "-o", str(tmp_path / "out-3"), "-q", "--exit-zero"],
        env=env, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    assert _cached(
        json.loads((tmp_path / "out-3" / "gates-report.json").read_text())
    ) == dict.fromkeys(GATES, True)


def test_folder_precedence_flag_env_config_default(tmp_path: Path) -> None:
    env = {"GATES_CACHE_DIR": "/env", "XDG_CACHE_HOME": "/xdg"}
    assert choose_folder(flag_dir="/flag", environ=env, config_dir="/cfg") == Path("/flag")
    assert choose_folder(flag_off=True, flag_dir="/flag", environ=env) is None
    assert choose_folder(environ=env, config_dir="/cfg", config_off=True) == Path("/env")
    no_env = {"XDG_CACHE_HOME": "/xdg"}
    assert choose_folder(environ=no_env, config_dir="/cfg") == Path("/cfg")
    assert choose_folder(environ=no_env, config_dir="/cfg", config_off=True) is None
    assert choose_folder(environ=no_env) == Path("/xdg/albor-gates/evidence")
    assert default_folder({}) == Path.home() / ".cache" / "albor-gates" / "evidence"


def test_cli_precedence_reads_the_config_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATES_CACHE_DIR")
    config = GatesConfig.model_validate({"cache-dir": "cfg-cache"})
    assert cache_settings(None, False, config) == {"cache_dir": "cfg-cache"}
    assert cache_settings(tmp_path, False, config) == {"cache_dir": str(tmp_path)}
    off = GatesConfig.model_validate({"cache": False})
    assert cache_settings(None, False, off) == {"cache_dir": None, "cache": False}
    monkeypatch.setenv("GATES_CACHE_DIR", "env-cache")
    assert cache_settings(None, False, off) == {"cache_dir": "env-cache"}
    assert cache_settings(None, True, config) == {"cache_dir": None, "cache": False}


def test_config_file_keys_are_validated(
    gates: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gates.toml").write_text('cache = "no"\n', encoding="utf-8")
    r = gates("lint", "--exit-zero")
    assert (
        r.err
        == "gates.toml:1:1: gates.toml → cache: expected true or false, got 'no'\n1 problem found\n"
    )


def test_the_config_cache_dir_is_used_by_check(
    gates: Callable[..., Any], release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATES_CACHE_DIR")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gates.toml").write_text('cache-dir = "from-config"\n', encoding="utf-8")
    r = gates("check", "ship-model-2", "--root", str(release), "--select", CONFIG_GATE, "-q")
    assert r.code in (0, 1), r.err
    assert len(_entries(tmp_path / "from-config")) == 1


def test_api_keywords(release: Path, tmp_path: Path) -> None:
    from albor_gates import evaluate

    kw: dict[str, Any] = {"root": release, "select": [CONFIG_GATE]}
    folder = tmp_path / "api-cache"
    evaluate("ship-model-2", cache_dir=folder, **kw)
    assert len(_entries(folder)) == 1
    warm = evaluate("ship-model-2", cache_dir=str(folder), **kw)
    assert [r.gate_id for r in warm.results if r.cache] == [CONFIG_GATE]
    assert warm.cached == 1
    assert evaluate("ship-model-2", cache_dir=folder, cache=False, **kw).cached == 0
    assert "cache_dir" not in warm.options  # where the cache lives is not a measurement setting


def test_two_warm_runs_write_identical_reports(
    check: Callable[..., dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    check()
    first, second = check(), check()
    assert first == second
    cache = next(g["cache"] for g in first["gates"] if g["id"] == CONFIG_GATE)
    assert cache["measured_at"] == "2026-09-21T14:13:20Z"


def test_a_replayed_bundle_never_reads_the_cache(
    gates: Callable[..., Any], release: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "run.bundle.json"
    args = ["check", "ship-model-2", "--root", str(release), "--select", CONFIG_GATE]
    gates(*args, "--exit-zero", "-q")
    r = gates(*args, "--exit-zero", "--bundle", str(bundle), "-f", "json")
    assert r.code == 0, r.err
    assert _cached(json.loads(r.out))[CONFIG_GATE]
    r = gates("replay", str(bundle), "-f", "json")
    assert r.code in (0, 1), r.err
    assert not any("cache" in g for g in json.loads(r.out)["gates"])


def test_digests_hash_each_file_once_per_run_and_again_after_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from albor_gates.artifacts import files

    calls: list[Path] = []
    real = files.sha256_file
    monkeypatch.setattr(files, "sha256_file", lambda p: calls.append(p) or real(p))
    (tmp_path / "a.bin").write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(b"b")
    memo = files.Digests()
    tree = memo.path(tmp_path)
    assert tree == files.sha256_tree(tmp_path)  # the same digest as without the memo
    calls.clear()
    memo.path(tmp_path)
    memo.file(tmp_path / "a.bin")
    memo.folder(tmp_path)
    assert calls == []
    (tmp_path / "a.bin").write_bytes(b"changed, and longer")
    assert memo.path(tmp_path) != tree
    assert [p.name for p in calls] == ["a.bin"]


def test_cpu_for_certain_never_guesses_an_accelerator_away() -> None:
    from albor_gates.model.device import cpu_for_certain

    assert cpu_for_certain("cpu")
    assert not cpu_for_certain("cuda") and not cpu_for_certain("mps")
    has_nodes = any(Path("/dev", n).exists() for n in ("nvidiactl", "nvidia0", "kfd", "dxg"))
    assert cpu_for_certain("auto") == (sys.platform == "linux" and not has_nodes)


def test_gates_that_share_a_measurement_share_one_entry_and_this_run_is_not_cached(
    gates: Callable[..., Any], release: Path, tmp_path: Path, _evidence_cache: Path
) -> None:
    pair = ("AC-SHIP2-003-LOOSE", "AC-SHIP2-003-STRICT")  # one val_loss trajectory, two bands
    args = ["check", "ship-model-2", "--root", str(release), "--exit-zero", "-f", "json"]
    args += [a for g in pair for a in ("--select", g)]
    runs = [json.loads(gates(*args).out) for _ in range(2)]
    assert len(_entries(_evidence_cache)) == 1
    marked = [{g["id"]: "cache" in g for g in r["gates"] if g["id"] in pair} for r in runs]
    assert marked == [dict.fromkeys(pair, False), dict.fromkeys(pair, True)]


def test_an_entry_under_another_keys_name_is_not_trusted(
    check: Callable[..., dict], _evidence_cache: Path
) -> None:
    check()
    entries = _entries(_evidence_cache)
    contents = [e.read_bytes() for e in entries]
    for entry, other in zip(entries, contents[1:] + contents[:1], strict=True):
        entry.write_bytes(other)  # each file now holds a sound entry of another gate
    assert _cached(check()) == dict.fromkeys(GATES, False)


@pytest.mark.parametrize("command", ["check", "verify", "dogfood"])
def test_every_measuring_command_has_the_cache_flags(
    gates: Callable[..., Any], command: str
) -> None:
    out = gates(command, "--help").out
    assert "--cache-dir" in out and "--no-cache" in out


LLAMA_GATE = "AC-SHIP2-009-LLAMA-CPP"


def _llama_run(gates: Callable[..., Any], release: Path, out: Path, *extra: str) -> dict:
    r = gates(
        "check", "ship-model-2", "--root", str(release), "--select", LLAMA_GATE, "-f", "json",
        "-o", str(out), "-q", "--exit-zero", *extra,
    )  # fmt: skip
    assert r.code == 0, r.err
    report = json.loads((out / "gates-report.json").read_text(encoding="utf-8"))
    return next(g for g in report["gates"] if g["id"] == LLAMA_GATE)


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed (make llama)",
)
def test_the_llama_cpp_consumer_is_cached(
    gates: Callable[..., Any], release: Path, tmp_path: Path
) -> None:
    # its child is our own interpreter around llama.cpp: a function of the GGUF bytes
    first = _llama_run(gates, release, tmp_path / "a")
    assert first["status"] in ("PASS", "FAIL") and "cache" not in first
    assert "cache" in _llama_run(gates, release, tmp_path / "b")


def test_an_outcome_of_the_moment_is_not_written(tmp_path: Path) -> None:
    import datetime as dt

    from albor_gates.artifacts.files import Digests
    from albor_gates.checks.base import Measurement
    from albor_gates.engine.cache import EvidenceCache

    cache = EvidenceCache(tmp_path, Digests(), lambda: dt.datetime.now(dt.timezone.utc))
    key = {"kind": "consumer.llama_cpp", "params": {}}
    crashed = Measurement(3, summary="llama.cpp timed out after 0.01 s", cacheable=False)
    assert cache.save(key, {}, {}, crashed) is False
    assert _entries(tmp_path) == []
    assert cache.save(key, {}, {}, Measurement(0, summary="0 of 3 prompts failed")) is True
    assert len(_entries(tmp_path)) == 1
