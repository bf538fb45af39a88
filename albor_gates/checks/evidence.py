"""Typed accessors to a run's evidence: each artifact read once per run, under one cache key.

The checkpoint accessors say that their reader reads the weights file alone (``exact=True``),
so the evidence cache (engine/cache.py) records that file, not the release folder around it, as
what a gate read.

Check kinds ask for evidence by what it is — ``config(ctx)``, ``checkpoint(ctx)``,
``tokenizer(ctx)``, ``card(ctx)``, ``records(ctx, "source")`` — never with a free-string
``ctx.read(role, "some-key", reader)``. Each function here owns its one cache key and its one
reader from ``albor_gates.artifacts``, so two gates that need the same file share one parse
(and one cached error: every gate that needs a broken file reports the same line).

The checkpoint view gives Hugging Face tensor names for safetensors and for GGUF (mapped from
``blk.*`` names), so the architecture kinds work on both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albor_gates.checks.base import Context
from albor_gates.errors import ArtifactError, EvidenceError

if TYPE_CHECKING:
    from albor_gates.artifacts.card import ModelCard
    from albor_gates.artifacts.config import ModelConfig
    from albor_gates.artifacts.tokenizer import TokenizerConfig, TokenizerInfo

INT_DTYPES = frozenset({"I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"})


@dataclass(frozen=True)
class ModelView:
    """A checkpoint's tensor table and metadata, format-independent.

    Attributes:
        path: the file (or index / folder) that was opened.
        format: ``safetensors``, ``safetensors-sharded`` or ``gguf``.
        shapes: Hugging Face tensor name → shape (row-major).
        dtypes: tensor name → dtype string.
        metadata: string metadata (safetensors ``__metadata__``; GGUF ``general.*`` strings).
        files: the files holding tensor data.
        nbytes: bytes of tensor data (safetensors) or of the file (GGUF).
        derived_config: config.json fields derived from the file itself (GGUF), else None.
        unmapped: GGUF tensor names with no Hugging Face equivalent.
        raw: the reader's evidence (a safetensors ``Checkpoint`` or a ``GGUFFile``).
    """

    path: Path
    format: str
    shapes: Mapping[str, tuple[int, ...]]
    dtypes: Mapping[str, str]
    metadata: Mapping[str, str]
    files: tuple[Path, ...]
    nbytes: int
    derived_config: Mapping[str, Any] | None = None
    unmapped: tuple[str, ...] = field(default_factory=tuple)
    raw: Any = None

    @property
    def names(self) -> list[str]:
        """Tensor names, sorted."""
        return sorted(self.shapes)

    def numel(self, name: str) -> int:
        """Element count of one tensor."""
        n = 1
        for d in self.shapes[name]:
            n *= d
        return n

    def param_count(self, *, include_int: bool = False) -> int:
        """Total elements, integer buffers (e.g. BERT ``position_ids``) excluded by default."""
        return sum(
            self.numel(n) for n in self.shapes if include_int or self.dtypes[n] not in INT_DTYPES
        )


def is_gguf(path: Path) -> bool:
    """Whether ``path`` is a GGUF file (by suffix or magic)."""
    if path.suffix.lower() == ".gguf":
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"GGUF"
    except OSError:
        return False


def _open_view(path: Path) -> ModelView:
    if path.is_file() and is_gguf(path):
        from albor_gates.artifacts.gguf import read_gguf
        from albor_gates.formats.gguf_config import config_from_gguf
        from albor_gates.formats.gguf_names import gguf_to_hf_name

        g = read_gguf(path)
        shapes: dict[str, tuple[int, ...]] = {}
        dtypes: dict[str, str] = {}
        unmapped: list[str] = []
        for t in g.tensors:
            hf = gguf_to_hf_name(t.name)
            if hf is None:
                unmapped.append(t.name)
                hf = t.name
            shapes[hf] = tuple(t.shape)
            dtypes[hf] = str(t.ggml_type)
        meta = {
            k: v for k, v in g.metadata.items() if isinstance(v, str) and k.startswith("general.")
        }
        try:
            derived: Mapping[str, Any] | None = config_from_gguf(g)
        except ArtifactError:
            derived = None
        return ModelView(
            path=path,
            format="gguf",
            shapes=shapes,
            dtypes=dtypes,
            metadata=meta,
            files=(path,),
            nbytes=g.file_size,
            derived_config=derived,
            unmapped=tuple(unmapped),
            raw=g,
        )
    from albor_gates.artifacts.checkpoint import ShardedCheckpoint, open_checkpoint

    ckpt = open_checkpoint(path)
    return ModelView(
        path=ckpt.path,
        format="safetensors-sharded" if isinstance(ckpt, ShardedCheckpoint) else "safetensors",
        shapes={t.name: tuple(t.shape) for t in ckpt.tensors},
        dtypes={t.name: t.dtype for t in ckpt.tensors},
        metadata=dict(ckpt.metadata),
        files=tuple(ckpt.files),
        nbytes=ckpt.nbytes,
        raw=ckpt,
    )


def display_name(path: Path) -> str:
    """How a summary names a model file or folder: ``ORG/NAME`` for a Hub snapshot."""
    from albor_gates.artifacts.hub import display_name as hub_display_name

    return hub_display_name(path)


def checkpoint(ctx: Context, role: str = "model") -> ModelView:
    """The checkpoint bound to ``role`` (file, index, folder or GGUF)."""
    return ctx.read(role, "checkpoint", _open_view, exact=True)


def config(ctx: Context, role: str = "config") -> ModelConfig:
    """The ``config.json`` bound to ``role``."""
    from albor_gates.artifacts.config import read_config

    return ctx.read(role, "config", read_config)


def config_dict(
    ctx: Context, view: ModelView | None = None, role: str = "config"
) -> dict[str, Any] | None:
    """config.json as a dict: the ``config`` artifact when present, else a GGUF's own."""
    if ctx.has(role):
        return dict(config(ctx, role).raw)
    if view is not None and view.derived_config is not None:
        return dict(view.derived_config)
    return None


def tokenizer(ctx: Context, role: str = "tokenizer") -> TokenizerInfo:
    """The ``tokenizer.json`` bound to ``role`` (its facts and the built tokenizer)."""
    from albor_gates.artifacts.tokenizer import read_tokenizer

    return ctx.read(role, "tokenizer", read_tokenizer)


def tokenizer_in(ctx: Context, folder: Path, role: str = "model") -> TokenizerInfo:
    """``tokenizer.json`` found in ``folder``, the release folder of the ``role`` artifact."""
    from albor_gates.artifacts.tokenizer import read_tokenizer

    return ctx.read(role, "tokenizer", lambda _p: read_tokenizer(folder / "tokenizer.json"))


def tokenizer_config(ctx: Context, role: str = "tokenizer") -> TokenizerConfig | None:
    """``tokenizer_config.json`` beside the ``role`` artifact (its folder, or the file's folder).

    Returns:
        The config, or None when the folder has no ``tokenizer_config.json``.
    """
    from albor_gates.artifacts.tokenizer import read_tokenizer_config

    def read(path: Path) -> TokenizerConfig | None:
        found = (path if path.is_dir() else path.parent) / "tokenizer_config.json"
        return read_tokenizer_config(found) if found.is_file() else None

    return ctx.read(role, "tokenizer-config", read)


def card(ctx: Context, role: str = "card") -> ModelCard:
    """The model card (``README.md``) bound to ``role``."""
    from albor_gates.artifacts.card import read_model_card

    return ctx.read(role, "card", read_model_card)


#: Most files one ``glob`` may match in a folder of records.
MAX_FILES = 100_000


def _matching(folder: Path, globs: tuple[str, ...], exclude: tuple[str, ...] = ()) -> list[Path]:
    files = sorted(
        {
            p
            for pattern in globs
            for p in folder.glob(pattern)
            if p.is_file() and not any(p.match(x) for x in exclude)
        }
    )
    wanted = " or ".join(repr(g) for g in globs)
    if len(files) > MAX_FILES:
        raise EvidenceError(f"{folder}: {len(files)} files match {wanted} (limit {MAX_FILES})")
    if not files:
        raise EvidenceError(f"{folder}: no file matches {wanted}")
    return files


def _read_document(path: Path) -> Any:
    from albor_gates.artifacts.documents import read_json, read_yaml

    return read_yaml(path) if path.suffix in (".yaml", ".yml") else read_json(path)


def _read_folder(folder: Path, pattern: str) -> list[Any]:
    return [_read_document(f) for f in _matching(folder, (pattern,))]


def documents(
    ctx: Context, role: str, globs: tuple[str, ...], exclude: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The files of the ``role`` folder that match ``globs`` (less ``exclude``), each read whole.

    Returns:
        Each file's path relative to the folder → its JSON or YAML document, sorted by path.

    Raises:
        EvidenceError: no (or too many) matching files, or one that does not parse.
    """

    def read(folder: Path) -> dict[str, Any]:
        return {
            f.relative_to(folder).as_posix(): _read_document(f)
            for f in _matching(folder, globs, exclude)
        }

    return ctx.read(role, f"documents:{globs}:{exclude}", read)


def records(ctx: Context, role: str, fmt: str = "auto", glob: str | None = None) -> list[Any]:
    """The ``role`` document as a list of records, or one record per file of a folder.

    A file is read by :func:`albor_gates.artifacts.documents.read_records` (JSONL lines, a
    JSON/YAML top-level list, or one object); a folder needs ``glob`` and gives one record per
    matching file, sorted by name.

    Raises:
        EvidenceError: a folder without ``glob``, or no (or too many) matching files.
    """
    path = ctx.path(role)
    if path.is_dir():
        if glob is None:
            raise EvidenceError(
                f"{path}: a folder needs params.glob (e.g. 'epoch-*.metadata.json')"
            )
        pattern = glob
        return ctx.read(role, f"folder:{pattern}", lambda p: _read_folder(p, pattern))
    from albor_gates.artifacts.documents import read_records

    return ctx.read(role, f"records:{fmt}", lambda p: read_records(p, fmt))
