"""Hub input, offline: `gates verify ORG/NAME[@REV]`, `hf://…`, cache roots, `gates check -a`.

Every test runs with ``HF_HUB_OFFLINE=1`` against a cache laid out as huggingface_hub lays it
out (blobs/, snapshots/SHA/, refs/), built from a tiny model (tests/testlib/hub_cache.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testlib.hf import make_bpe_tokenizer, make_hf_model
from testlib.hub_cache import add_to_hub_cache

REPO = "acme/tiny-qwen2"
MAIN = "1" * 40
V1 = "2" * 40


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("hubsrc")
    tok = make_bpe_tokenizer("qwen2", vocab_size=300)
    a = make_hf_model("qwen2", d / "a", tokenizer=tok, vocab_size=320, seed=0)
    b = make_hf_model("qwen2", d / "b", tokenizer=tok, vocab_size=320, seed=1)
    return a, b


@pytest.fixture
def hf_home(tmp_path: Path, releases: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "hf"
    add_to_hub_cache(home, REPO, releases[0], commit=MAIN, refs=("main",))
    add_to_hub_cache(home, REPO, releases[1], commit=V1, refs=("v1",))
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return home


def _verify(gates, ref: str) -> tuple[int, dict]:
    r = gates("verify", ref, "--device", "cpu", "-f", "json")
    assert r.out, r.err
    return r.code, json.loads(r.out)


def _model(rec: dict) -> dict:
    return next(a for a in rec["artifacts"] if a["name"] == "model")


def _structure(rec: dict) -> dict:
    return next(g for g in rec["gates"] if g["id"] == "WEIGHTS-STRUCTURE")


@pytest.mark.parametrize(
    ("ref", "commit"),
    [(REPO, MAIN), (f"hf://{REPO}", MAIN), (f"{REPO}@v1", V1), (f"hf://{REPO}@{V1}", V1)],
)
def test_a_repo_id_or_revision_verifies_from_the_cache(gates, hf_home, ref, commit) -> None:
    code, rec = _verify(gates, ref)
    model = _model(rec)
    assert model["hub"] == {"repo_id": REPO, "commit": commit}
    assert model["path"].endswith(f"models--acme--tiny-qwen2/snapshots/{commit}")
    assert _structure(rec)["summary"].startswith(f"{REPO}: safetensors, ")
    assert _structure(rec)["status"] == "PASS"
    config = next(a for a in rec["artifacts"] if a["name"] == "config")
    assert config["exists"] and config["hub"] == {"repo_id": REPO, "commit": commit}


def test_a_cache_root_resolves_through_refs_main(gates, hf_home) -> None:
    _, rec = _verify(gates, str(hf_home / "hub" / "models--acme--tiny-qwen2"))
    assert _model(rec)["hub"] == {"repo_id": REPO, "commit": MAIN}
    assert _structure(rec)["summary"].startswith(f"{REPO}: safetensors, ")


def test_the_two_revisions_are_different_models(gates, hf_home) -> None:
    _, main = _verify(gates, REPO)
    _, v1 = _verify(gates, f"{REPO}@v1")
    stats = [
        next(g for g in r["gates"] if g["id"] == "WEIGHTS-FINITE")["details"] for r in (main, v1)
    ]
    assert stats[0] != stats[1]


def test_a_local_model_has_no_hub_record(gates, releases) -> None:
    _, rec = _verify(gates, str(releases[0]))
    assert "hub" not in _model(rec)
    assert _structure(rec)["summary"].startswith("a: safetensors, ")


def test_gates_check_binds_an_hf_reference(gates, hf_home, write) -> None:
    spec = write(
        "spec.yaml",
        """
        id: hub-check
        version: 1.0.0
        title: A Hub model's structure
        artifacts:
          model: {kind: model}
        gates:
          - {id: S, title: The weights parse., check: weights.structure, artifact: model}
        """,
    )
    r = gates("check", str(spec), "-a", f"model=hf://{REPO}@v1", "-f", "json")
    rec = json.loads(r.out)
    assert r.code == 0, r.err
    assert _model(rec)["hub"] == {"repo_id": REPO, "commit": V1}


def _err(gates, *args: str) -> str:
    r = gates(*args)
    assert (r.code, r.out) == (2, ""), r.err
    assert r.err.count("\n") == 1
    return r.err


def test_bad_hub_references_are_one_usage_line(gates, hf_home, tmp_path) -> None:
    cache = hf_home / "hub"
    assert _err(gates, "verify", "acme/nope") == (
        f"gates: error: acme/nope: HF_HUB_OFFLINE=1 and acme/nope@main is not in the cache at "
        f"{cache}: run once online (or `hf download acme/nope --revision main`)\n"
    )
    assert _err(gates, "verify", f"hf://{REPO}@v9") == (
        f"gates: error: hf://{REPO}@v9: HF_HUB_OFFLINE=1 and {REPO}@v9 is not in the cache at "
        f"{cache}: run once online (or `hf download {REPO} --revision v9`)\n"
    )
    assert _err(gates, "verify", "hf://not a repo") == (
        "gates: error: hf://not a repo: not a Hub reference: write hf://ORG/NAME or "
        "hf://ORG/NAME@REV\n"
    )
    missing = tmp_path / "no" / "model.safetensors"
    assert _err(gates, "verify", str(missing)) == (
        f"gates: error: {missing}: no such file or folder: name a local model or a Hub repo id "
        f"ORG/NAME[@REV]\n"
    )


def test_offline_with_the_weights_missing_is_one_line(gates, hf_home, releases) -> None:
    snap = hf_home / "hub" / "models--acme--tiny-qwen2" / "snapshots" / MAIN
    (snap / "model.safetensors").unlink()
    assert _err(gates, "verify", REPO) == (
        f"gates: error: {REPO}: the cached snapshot of {REPO} at {MAIN} holds no safetensors or "
        f"GGUF weights: run once online (HF_HUB_OFFLINE=1 left the weights out of the cache)\n"
    )


def test_a_cache_root_with_a_dangling_ref_is_one_line(gates, hf_home) -> None:
    root = hf_home / "hub" / "models--acme--tiny-qwen2"
    (root / "refs" / "main").write_text("3" * 40)
    assert _err(gates, "verify", str(root)) == (
        f"gates: error: {root / 'refs' / 'main'}: points at '{'3' * 40}', which is not a "
        f"snapshot in {root / 'snapshots'}: download it again (hf download {REPO})\n"
    )


def test_a_spec_artifact_path_may_be_an_hf_reference(gates, hf_home, write) -> None:
    spec = write(
        "spec.yaml",
        f"""
        id: hub-spec
        version: 1.0.0
        title: A Hub model named in the spec
        artifacts:
          model: {{kind: model, path: "hf://{REPO}@v1"}}
        gates:
          - {{id: S, title: The weights parse., check: weights.structure, artifact: model}}
        """,
    )
    r = gates("check", str(spec), "-f", "json")
    rec = json.loads(r.out)
    assert r.code == 0, r.err
    assert _model(rec)["hub"] == {"repo_id": REPO, "commit": V1}
    assert _structure_of(rec, "S")["summary"].startswith(f"{REPO}: safetensors, ")


def _structure_of(rec: dict, gate_id: str) -> dict:
    return next(g for g in rec["gates"] if g["id"] == gate_id)


def _hub_error(name: str) -> Exception:
    # huggingface_hub's HTTP errors need a live response to construct; the mapping only looks at
    # the class, so build one without calling its __init__
    import huggingface_hub.errors as hub_errors

    cls = getattr(hub_errors, name)
    e = cls.__new__(cls)
    Exception.__init__(e, f"{name} from the Hub")
    return e


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            "GatedRepoError",
            f"{REPO} is a gated repository: accept its conditions on huggingface.co/{REPO} and "
            f"set HF_TOKEN to a token of that account",
        ),
        (
            "RepositoryNotFoundError",
            f"no Hub repository {REPO} (or it is private): check the id, or set HF_TOKEN for a "
            f"private repository",
        ),
        (
            "RevisionNotFoundError",
            f"revision 'v9' does not resolve in {REPO}: name a branch, tag or commit sha of the "
            f"repository",
        ),
    ],
)
def test_online_hub_failures_are_one_usage_line(
    gates, tmp_path, monkeypatch: pytest.MonkeyPatch, error: str, message: str
) -> None:
    import huggingface_hub

    def refuse(*_a: object, **_k: object) -> str:
        raise _hub_error(error)

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", refuse)
    assert _err(gates, "verify", f"{REPO}@v9") == f"gates: error: {REPO}@v9: {message}\n"
