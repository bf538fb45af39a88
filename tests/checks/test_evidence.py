"""checks/evidence.py: one reader and one cache key per kind of evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tokenizers import Tokenizer, models

from albor_gates.artifacts import tokenizer as tokenizer_module
from albor_gates.checks import evidence
from albor_gates.checks._decoder import load_tokenizer
from albor_gates.errors import EvidenceError

T = TypeVar("T")


class _Ctx:
    """The part of a run's Context that evidence uses: roles bound to paths, one cache."""

    def __init__(self, **roles: Path) -> None:
        self.roles = roles
        self.cache: dict[tuple[str, str], Any] = {}

    def has(self, role: str) -> bool:
        return role in self.roles

    def path(self, role: str) -> Path:
        return self.roles[role]

    def read(self, role: str, key: str, reader: Callable[[Path], T], *, exact: bool = False) -> T:
        if (role, key) not in self.cache:
            self.cache[role, key] = reader(self.roles[role])
        return self.cache[role, key]  # type: ignore[no-any-return]


def test_every_tokenizer_user_shares_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokenizer.json"
    Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]")).save(str(path))
    calls: list[Path] = []
    real = tokenizer_module.read_tokenizer

    def counting(p: Path) -> Any:
        calls.append(p)
        return real(p)

    monkeypatch.setattr(tokenizer_module, "read_tokenizer", counting)
    ctx = _Ctx(tokenizer=path)
    info = evidence.tokenizer(ctx)  # type: ignore[arg-type]  # tokenizer.vocab, provenance
    built = load_tokenizer(ctx)  # type: ignore[arg-type]  # eval.*, infer.*, tokenizer.roundtrip
    assert built is info.tokenizer and info.vocab_size == 2
    assert calls == [path] and list(ctx.cache) == [("tokenizer", "tokenizer")]


def test_a_folder_of_records_needs_a_glob(tmp_path: Path) -> None:
    ctx = _Ctx(source=tmp_path)
    with pytest.raises(EvidenceError) as err:
        evidence.records(ctx, "source")  # type: ignore[arg-type]
    assert (
        str(err.value) == f"{tmp_path}: a folder needs params.glob (e.g. 'epoch-*.metadata.json')"
    )
    (tmp_path / "epoch-1.json").write_text('{"loss": 1.5}')
    (tmp_path / "epoch-2.json").write_text('{"loss": 1.25}')
    assert evidence.records(ctx, "source", glob="epoch-*.json") == [  # type: ignore[arg-type]
        {"loss": 1.5},
        {"loss": 1.25},
    ]
