"""Fixtures for the GGUF format tests (builders live in tests/testlib/hf.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testlib.hf import make_bpe_tokenizer, make_hf_model, make_spm_tokenizer


@pytest.fixture(scope="session")
def bpe_tokenizer() -> Any:
    return make_bpe_tokenizer("qwen2")


@pytest.fixture(scope="session")
def spm_tokenizer() -> Any:
    return make_spm_tokenizer()


@pytest.fixture(scope="session")
def hf_model(
    tmp_path_factory: pytest.TempPathFactory, bpe_tokenizer: Any, spm_tokenizer: Any
) -> Callable[..., Path]:
    cache: dict[tuple[str, bool], Path] = {}

    def get(family: str, tied: bool = True) -> Path:
        if (family, tied) not in cache:
            tok = bpe_tokenizer if family.startswith("qwen") else spm_tokenizer
            # A model vocabulary larger than the tokenizer's, as Qwen's 151,936 vs 151,665.
            vocab = tok.get_vocab_size() + 29
            dst = tmp_path_factory.mktemp(f"{family}-{'tied' if tied else 'untied'}")
            cache[(family, tied)] = make_hf_model(
                family, dst, tokenizer=tok, vocab_size=vocab, tied=tied
            )
        return cache[(family, tied)]

    return get
