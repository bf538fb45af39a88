"""A release folder: whichever of its known non-weight files are present, each read once.

Every file goes through its one reader (:mod:`.config`, :mod:`.tokenizer`, :mod:`.card`);
weights are opened separately with :func:`albor_gates.artifacts.safetensors.open_checkpoint`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from albor_gates.errors import ArtifactError

from .card import ModelCard, read_model_card
from .config import GenerationConfig, ModelConfig, read_config, read_generation_config
from .tokenizer import TokenizerConfig, TokenizerInfo, read_tokenizer, read_tokenizer_config


@dataclass(frozen=True)
class ReleaseFolder:
    """The non-weight files of a release folder; ``None`` for each file that is absent.

    Weights are opened separately with
    :func:`albor_gates.artifacts.safetensors.open_checkpoint`.
    """

    path: Path
    config: ModelConfig | None
    generation_config: GenerationConfig | None
    tokenizer: TokenizerInfo | None
    tokenizer_config: TokenizerConfig | None
    card: ModelCard | None
    files: tuple[str, ...]


def read_release(folder: str | os.PathLike[str]) -> ReleaseFolder:
    """Read every known release file present in ``folder`` (missing files give ``None``).

    Raises:
        ArtifactError: ``folder`` is not a folder, or a present file is malformed (the
            first problem, as its reader reports it).
    """
    p = Path(folder)
    if not p.is_dir():
        raise ArtifactError(f"{p}: not a folder: name the release folder")

    def present(name: str) -> Path | None:
        q = p / name
        return q if q.is_file() else None

    cfg = present("config.json")
    gen = present("generation_config.json")
    tok = present("tokenizer.json")
    tcfg = present("tokenizer_config.json")
    card = present("README.md")
    return ReleaseFolder(
        path=p,
        config=read_config(cfg) if cfg else None,
        generation_config=read_generation_config(gen) if gen else None,
        tokenizer=read_tokenizer(tok) if tok else None,
        tokenizer_config=read_tokenizer_config(tcfg) if tcfg else None,
        card=read_model_card(card) if card else None,
        files=tuple(sorted(q.name for q in p.iterdir() if q.is_file())),
    )
