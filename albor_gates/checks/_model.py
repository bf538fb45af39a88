"""Shared readers for the model check kinds: one view of a checkpoint, whatever its format.

Every reader goes through ``ctx.read`` so a release is parsed once per run, and a parse error
is cached too (every gate that needs the file reports the same one line). The view gives
Hugging Face tensor names for safetensors and for GGUF (mapped from ``blk.*`` names), so the
architecture kinds work on both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from albor_gates.checks.base import Context
from albor_gates.errors import ArtifactError

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
        derived_config: config.json fields derived from the file itself (GGUF), else None.
        unmapped: GGUF tensor names with no Hugging Face equivalent.
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


def _open(path: Path) -> ModelView:
    if path.is_file() and is_gguf(path):
        from albor_gates.artifacts.gguf import read_gguf
        from albor_gates.formats.gguf_map import config_from_gguf, gguf_to_hf_name

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
    from albor_gates.artifacts.safetensors import ShardedCheckpoint, open_checkpoint

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


def model_view(ctx: Context, role: str = "model") -> ModelView:
    """The checkpoint bound to ``role`` (file, index, folder or GGUF), parsed once per run."""
    return ctx.read(role, "model-view", _open)


def config_dict(
    ctx: Context, view: ModelView | None = None, role: str = "config"
) -> dict[str, Any] | None:
    """config.json as a dict: the ``config`` artifact when present, else a GGUF's own."""
    if ctx.has(role):
        from albor_gates.artifacts.config import read_config

        cfg = ctx.read(role, "config", read_config)
        return dict(cfg.raw)
    if view is not None and view.derived_config is not None:
        return dict(view.derived_config)
    return None


def scan(ctx: Context, role: str = "model") -> Any:
    """The numeric scan of the checkpoint (one pass over every byte, cached for the run)."""
    view = model_view(ctx, role)
    if view.format == "gguf":
        from albor_gates.model.scan import scan_gguf

        device = str(ctx.options.get("device", "auto"))
        report = ctx.progress("numeric scan", float(view.nbytes))
        return ctx.read(
            role, f"scan:{device}", lambda _p: scan_gguf(view.raw, device=device, progress=report)
        )
    from albor_gates.model.scan import scan_checkpoint

    device = str(ctx.options.get("device", "auto"))
    report = ctx.progress("numeric scan", float(view.nbytes))
    return ctx.read(
        role,
        f"scan:{device}",
        lambda _p: scan_checkpoint(view.raw, device=device, progress=report),
    )
