"""Shared machinery of the ``gguf.*`` and ``consumer.*`` check kinds.

The run's export, the GGUF under test, fp32 decoders and the canary prompts.

**The run's export.** :func:`run_export` exports the ``model`` artifact (a safetensors release:
a folder, or a file with config.json and tokenizer.json beside it) with
:func:`~albor_gates.formats.gguf_export.export_gguf` into a fresh temporary folder, once per
run and quant (``ctx.read(model, "gguf-export:<quant>")``), so every gate of the run reads the
same file. Nothing is written next to the user's files. The folder belongs to the cached
value: it is removed when the run's cache is dropped (or, at the latest, when the interpreter
exits), and at once when the export fails. ``$TMPDIR`` chooses where it lives (an f16 export
of a 0.5B model needs ~1 GB).

**The GGUF under test** (:func:`gguf_under_test`) is the ``gguf`` artifact when one is bound
and present, else the run's export for the gate's ``quant``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator

from albor_gates.checks import evidence
from albor_gates.checks._decoder import _is_gguf, load_decoder, load_tokenizer
from albor_gates.checks.base import Context
from albor_gates.errors import CheckSkipped, EvidenceError, GatesError
from albor_gates.formats.quant_names import QUANTS

T = TypeVar("T")

#: Default canary prompts: code first (the release is a code model), then plain text.
CANARY_PROMPTS: tuple[str, ...] = (
    "def fibonacci(n):",
    "import numpy as np\n",
    "class Stack:\n    def __init__(self):\n",
    "for i in range(10):\n    ",
    "def add(a, b):\n    return",
    "# Sort a list of numbers in place\n",
    "SELECT name FROM users WHERE",
    "The capital of France is",
    "Once upon a time, there was",
    "The quick brown fox jumps over",
)


def _known_quant(v: str) -> str:
    if v not in QUANTS:
        raise ValueError(f"unknown quant {v!r}; choose one of {', '.join(QUANTS)}")
    return v


#: A ``--quant`` name of the exporter, checked when the spec is planned.
Quant = Annotated[str, AfterValidator(_known_quant)]


def release_folder(path: Path) -> Path:
    """The folder of a safetensors release (the path itself, or the folder of a file)."""
    return path if path.is_dir() else path.parent


def require_safetensors(ctx: Context, kind: str) -> Path:
    """The ``model`` path, refused when it is a GGUF file (the source must be safetensors)."""
    path = ctx.path("model")
    if path.is_file() and _is_gguf(path):
        raise EvidenceError(
            f"{path}: {kind} compares a safetensors release with a GGUF file, and the 'model' "
            "artifact is itself GGUF; bind the safetensors release to 'model' and the GGUF to "
            "'gguf'"
        )
    return path


@dataclass(frozen=True)
class _RunExport:
    """A cached export: the result and the temporary folder that holds its file."""

    result: Any  # ExportResult
    folder: tempfile.TemporaryDirectory[str]


def run_export(ctx: Context, quant: str) -> Any:
    """The run's GGUF export of the ``model`` artifact for ``quant`` (an ExportResult).

    Raises:
        EvidenceError: the model is a GGUF file already; any export error (cached, so every
            gate that needs the file reports the same one line).
        UsageError: an unknown quant (from the exporter).
    """

    def export(path: Path) -> _RunExport:
        from albor_gates.formats.gguf_export import export_gguf

        if path.is_file() and _is_gguf(path):
            raise EvidenceError(
                f"{path}: already a GGUF file; GGUF export needs the safetensors release"
            )
        folder = tempfile.TemporaryDirectory(prefix="albor-gates-gguf-")
        try:
            result = export_gguf(
                release_folder(path), Path(folder.name) / f"model-{quant}.gguf", quant
            )
        except GatesError:
            folder.cleanup()
            raise
        return _RunExport(result, folder)

    cached: _RunExport = ctx.read("model", f"gguf-export:{quant}", export)
    return cached.result


@dataclass(frozen=True)
class GGUFUnderTest:
    """The GGUF file a gate measures and how to cache what is read from it.

    Attributes:
        path: the file.
        role: the role whose cache holds its readings (``gguf`` or ``model``).
        key: the cache-key prefix (``gguf`` for the artifact, ``gguf-export:<quant>`` for the
            run's export).
        label: how to name it in a sentence.
        exported: whether it is this run's export.
    """

    path: Path
    role: str
    key: str
    label: str
    exported: bool

    def read(self, ctx: Context, what: str, reader: Callable[[Path], T]) -> T:
        """Read something from the file once per run (``reader`` gets the GGUF path)."""
        return ctx.read(self.role, f"{self.key}:{what}", lambda _p: reader(self.path))


def gguf_under_test(ctx: Context, quant: str) -> GGUFUnderTest:
    """The ``gguf`` artifact when bound and present, else the run's export for ``quant``.

    Raises:
        CheckSkipped: neither a ``gguf`` nor a ``model`` artifact is available.
        EvidenceError: the export failed.
    """
    if ctx.has("gguf"):
        path = ctx.path("gguf")
        return GGUFUnderTest(path, "gguf", "gguf", path.name, exported=False)
    if not ctx.has("model"):
        raise CheckSkipped("no GGUF file: bind a 'gguf' artifact or a 'model' to export")
    result = run_export(ctx, quant)
    return GGUFUnderTest(
        result.path, "model", f"gguf-export:{quant}", f"this run's {quant} export", exported=True
    )


def fp32_source_decoder(ctx: Context, device: str | None = None) -> Any:
    """The ``model`` release in the reference decoder in float32 (parity is measured in fp32).

    ``device`` defaults to the run's ``--device``. When that device's compute dtype is fp32
    anyway (CPU) and no ``--dtype`` is given, the decoder the eval gates load is shared;
    otherwise an fp32 copy is loaded once.
    """
    import torch

    from albor_gates.model.device import compute_dtype, resolve_device

    dev = device or ctx.settings.requested_device
    resolved = resolve_device(dev)
    if ctx.settings.dtype is None and compute_dtype(resolved) == torch.float32:
        return load_decoder(ctx, device=dev)

    def load(path: Path) -> Any:
        from albor_gates.model.decoder import load_model

        return load_model(path, resolved, torch.float32)

    return ctx.read("model", f"decoder:{dev}:float32", load)


def gguf_decoder(ctx: Context, g: GGUFUnderTest, dtype: Any = None) -> Any:
    """The GGUF under test in the reference decoder (float32 unless ``dtype`` is given)."""
    import torch

    from albor_gates.model.device import resolve_device

    dev = ctx.settings.requested_device
    dt = dtype if dtype is not None else torch.float32

    def load(path: Path) -> Any:
        from albor_gates.formats.gguf_model import load_gguf_model

        return load_gguf_model(path, str(resolve_device(dev)), dt)

    return g.read(ctx, f"decoder:{dev}:{str(dt).removeprefix('torch.')}", load)


def source_tokenizer(ctx: Context) -> Any:
    """The release's tokenizer: the ``tokenizer`` artifact, else tokenizer.json beside it."""
    if ctx.has("tokenizer"):
        return load_tokenizer(ctx)
    folder = release_folder(ctx.path("model"))
    if not (folder / "tokenizer.json").is_file():
        raise CheckSkipped(
            f"no tokenizer: bind a 'tokenizer' artifact or put tokenizer.json in {folder}"
        )
    return evidence.tokenizer_in(ctx, folder).tokenizer


def encode_prompts(tokenizer: Any, prompts: list[str]) -> list[list[int]]:
    """Token ids of each prompt (no special tokens), refusing prompts that encode to nothing."""
    out = []
    for p in prompts:
        ids = list(tokenizer.encode(p, add_special_tokens=False).ids)
        if not ids:
            raise EvidenceError(f"prompt {p!r} encodes to no tokens; give a non-empty prompt")
        out.append(ids)
    return out
