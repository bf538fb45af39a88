"""What a check kind is: the Protocol every module in ``albor_gates/checks/`` satisfies.

A check kind is a module (pre-commit's language modules are the model) whose top-level names
declare its identity and options as data::

    KIND = "metric.value"                    # the name specs use in `check:`
    VERSION = 1                              # bump when the measurement changes meaning
    TITLE = "A number read from a JSON / JSONL / YAML evidence file"
    ROLES = ("source",)                      # artifact roles it needs; the first is primary
    OPTIONAL_ROLES = ()                      # roles it can use when bound
    NEEDS = frozenset()                      # {"torch"}, {"torch", "gpu"}: for plan mode
    EXTRAS = ()                              # ("model",): the pip extras measure() imports
    DEFAULT_EXPECT = None                    # band used when the gate has no `expect`
    class Params(CheckParams): ...           # its options, validated at plan time
    def measure(ctx: Context, params: Params) -> Measurement: ...

A kind whose number belongs to the moment it was taken (a timing) also sets
``CACHEABLE = False``: the evidence cache (engine/cache.py) then measures it every run. A kind
that runs programs (``"subprocess"`` in NEEDS) is not cached unless it sets ``CACHEABLE = True``
(its child a pure function of the files); one outcome of the moment (a crash, a timeout) returns
``Measurement(..., cacheable=False)``. Every other kind is cached by what it read through the
Context, so ``measure`` must reach release files only through ``ctx`` and depend on nothing but
them, its params and ``ctx.settings``:
``path``, ``has``, ``artifact`` and ``digest`` count as reading the artifact itself (a file, or a
whole folder), ``read`` as in its docstring. Bump ``VERSION`` when a kind's result changes.

``measure`` only measures: it returns a value and never decides PASS or FAIL; the engine's
operator table judges the value against the gate's bands. A check raises
:class:`~albor_gates.errors.EvidenceError` for unreadable input (the gate ERRORs) and
:class:`~albor_gates.errors.CheckSkipped` when it does not apply (the gate is SKIPPED, which
is NO-GO when the gate is required). A kind's top level imports nothing heavy (torch, numpy,
safetensors, gguf, tokenizers, huggingface_hub): ``gates lint``, ``plan``, ``explain`` and
``schema`` load every kind on the light core install; ``measure`` imports them, and the engine
SKIPs a gate whose ``EXTRAS`` are not installed before calling it (:mod:`albor_gates.extras`).
The module docstring is the user documentation shown by
``gates explain KIND``: say what it measures, with a PASS and a FAIL example.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from albor_gates.settings import RunSettings
from albor_gates.spec.models import ArtifactRef

Value = float | int | bool | str | None
T = TypeVar("T")


class CheckParams(BaseModel):
    """Base of every check kind's Params: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(CheckParams):
    """For check kinds that take no options."""


@dataclass(frozen=True)
class Measurement:
    """What a check measured.

    Attributes:
        value: the number, flag or string the bands judge.
        subject: the measured quantity, as the sentence should name it (``val_loss``).
        unit: unit for display (``nats``, ``tok/s``, ``%``); empty for none.
        summary: one sentence on what was found, shown with the verdict.
        details: JSON-safe extra facts (sorted into the report).
        fix: what to do when the gate fails (shown with FAIL).
        cacheable: False when the outcome belongs to this moment rather than to the files (a
            child process that crashed or timed out): the evidence cache does not keep it.
    """

    value: Value
    subject: str = ""
    unit: str = ""
    summary: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    fix: str = ""
    cacheable: bool = True


@dataclass(frozen=True)
class BoundArtifact:
    """An artifact as bound for this run.

    Attributes:
        name: the artifact's name in the spec.
        ref: its declaration.
        path: the resolved path (None for a command).
        command: the command argv (None for a path).
        refused: why the run may not read it (a path outside the boundary); empty when allowed.
    """

    name: str
    ref: ArtifactRef
    path: Path | None
    command: tuple[str, ...] | None
    refused: str = ""

    @property
    def present(self) -> bool:
        """Whether the path exists (always True for a command; False when refused)."""
        if self.refused:
            return False
        return self.command is not None or (self.path is not None and self.path.exists())

    def display(self) -> str:
        """How to name the artifact in a message."""
        if self.command is not None:
            return " ".join(self.command)
        return str(self.path)


ProgressFn = Callable[[float, float], None]


class Context(Protocol):
    """What the engine gives a check while it measures."""

    @property
    def settings(self) -> RunSettings:
        """The run's settings from the command line or API (``device``, ``seq_len``, ...)."""
        ...

    def has(self, role: str) -> bool:
        """Whether ``role`` is bound to an artifact that exists."""
        ...

    def artifact(self, role: str) -> BoundArtifact:
        """The artifact bound to ``role`` (raises EvidenceError when unbound)."""
        ...

    def path(self, role: str) -> Path:
        """The existing path bound to ``role`` (raises EvidenceError when missing)."""
        ...

    def read(self, role: str, key: str, reader: Callable[[Path], T], *, exact: bool = False) -> T:
        """Read the artifact of ``role`` once per run per ``key`` (errors are cached too).

        ``exact``: the reader reads that file alone (a checkpoint header, a scan), so the
        evidence cache records the file as what the gate read. Without it, the cache records
        the whole artifact — for a weights file, the files beside it too (config.json,
        tokenizer.json), where the model loaders look: a check that reads beside an artifact
        must do so inside ``read`` without ``exact``, never through ``path`` alone.
        """
        ...

    def digest(self, role: str) -> str:
        """sha256 of the artifact of ``role`` (files: content; folders: a manifest digest)."""
        ...

    def progress(self, label: str, total: float) -> ProgressFn:
        """A callback ``(done, total)`` that drives the terminal's progress bar."""
        ...


class CheckKind(Protocol):
    """The shape of a check-kind module (see the module docstring).

    Read-only properties here, so plain module constants satisfy it.
    """

    # ruff: noqa: N802 - the names mirror the module-level constants
    @property
    def KIND(self) -> str:
        """The name specs use in ``check:``."""
        ...

    @property
    def VERSION(self) -> int:
        """Bumped when the measurement changes meaning (cache and report key)."""
        ...

    @property
    def TITLE(self) -> str:
        """One line for ``gates list``."""
        ...

    @property
    def ROLES(self) -> tuple[str, ...]:
        """Artifact roles the check needs; the first is the primary role."""
        ...

    @property
    def OPTIONAL_ROLES(self) -> tuple[str, ...]:
        """Artifact roles the check uses when they are bound."""
        ...

    @property
    def NEEDS(self) -> frozenset[str]:
        """What the check needs to run: ``torch``, ``gpu``, ``network`` (plan mode)."""
        ...

    @property
    def EXTRAS(self) -> tuple[str, ...]:
        """The extras ``measure`` needs installed (names of :data:`albor_gates.extras.EXTRAS`)."""
        ...

    @property
    def DEFAULT_EXPECT(self) -> Mapping[str, Any] | None:
        """The band used when a gate gives no ``expect``."""
        ...

    @property
    def Params(self) -> type[CheckParams]:
        """The check's params model."""
        ...

    def measure(self, ctx: Context, params: Any) -> Measurement:
        """Measure; never judge."""
        ...
