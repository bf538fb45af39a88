"""Run settings: the one typed, validated object that carries ``--device``, ``--seq-len``, ...

Built once from the command-line flags or the Python API's keyword arguments, and validated
before any artifact is read: an unknown name or a bad value is a
:class:`~albor_gates.errors.UsageError` of one line (exit 2) that names the flag and the fix::

    RunSettings.build({"devcie": "cpu"})   # unknown setting 'devcie' (did you mean 'device'?)
    RunSettings(device="bogus")            # --device bogus: not a device (use auto, cpu, ...)

Check kinds read it as ``ctx.settings``; a field left ``None`` means "not given", so the spec's
own params apply and the report's ``options`` record lists only what the user set.

It lives here, beside :mod:`albor_gates.errors` and below every layer, because the CLI, the
engine and the check kinds all import it (check kinds may not import the engine), and it is
not part of the spec language. Standard library only: ``gates --help`` and ``gates lint``
import it without paying for pydantic or torch. Whether a well-formed device is *present*
needs torch; :func:`albor_gates.model.device.resolve_device` decides that, and the engine asks
it before measuring when a planned gate needs torch.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, fields
from os import PathLike, fspath
from typing import Any

from albor_gates.errors import UsageError

# INV-GPUTRAIN-001 pattern, widened to any CUDA ordinal and to MPS (GATES.md §4).
DEVICE_PATTERN = re.compile(r"^(cpu|cuda(:[0-9]+)?|mps|auto)$")
DEVICES = "auto, cpu, cuda, cuda:N or mps"
# What model.device.parse_dtype understands (long names and their short aliases).
DTYPES = ("auto", "float32", "fp32", "bfloat16", "bf16", "float16", "fp16")

# the smallest value of each integer setting (a window needs an input and a target token)
_MINIMUM = {
    "seq_len": 2,
    "stride": 1,
    "max_tokens": 2,
    "batch_size": 1,
    "max_new_tokens": 1,
    "bench_tokens": 1,
    "bench_runs": 1,
    "max_problems": 1,
}
# the flag that sets a field, where it is not ``--`` + the name with dashes
_FLAGS = {"prompts": "--prompt", "cache": "--no-cache"}
# fields that say how the run is served, not what is measured (kept out of ``record()``)
NOT_MEASURED = ("cache_dir", "cache")


def flag(name: str) -> str:
    """The command-line flag of setting ``name`` (``seq_len`` → ``--seq-len``)."""
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def _shown(value: Any) -> str:
    return shlex.quote(value) if isinstance(value, str) else repr(value)


def check_device(request: object) -> str:
    """Return ``request`` when it is a device name (syntax only; no torch import).

    Raises:
        UsageError: ``--device X: not a device (use auto, cpu, cuda, cuda:N or mps)``.
    """
    if not isinstance(request, str) or not DEVICE_PATTERN.match(request):
        raise UsageError(f"--device {_shown(request)}: not a device (use {DEVICES})")
    return request


@dataclass(frozen=True)
class RunSettings:
    """How the model checker runs: device, compute dtype, evaluation, smoke and bench sizes.

    Every field is optional; ``None`` means "not given" (the spec's params or the device
    policy apply). Construction validates every value.

    Attributes:
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: compute dtype (``auto``, ``float32``, ``bfloat16``, ``float16`` or a short alias).
        seq_len: evaluation window length (≥ 2).
        stride: tokens between window starts (≥ 1).
        max_tokens: evaluate the first N validation tokens (≥ 2).
        batch_size: windows per forward pass (≥ 1).
        prompts: smoke-test prompts that replace the spec's.
        max_new_tokens: tokens per smoke generation (≥ 1).
        bench_tokens: new tokens per benchmark run (≥ 1).
        bench_runs: timed benchmark runs (≥ 1).
        max_problems: HumanEval problems evaluated, a deterministic subset (≥ 1).
        cache_dir: the evidence cache folder (``--cache-dir``; engine/cache.py says which
            one applies when it is None).
        cache: False turns the evidence cache off (``--no-cache``).
    """

    device: str | None = None
    dtype: str | None = None
    seq_len: int | None = None
    stride: int | None = None
    max_tokens: int | None = None
    batch_size: int | None = None
    prompts: tuple[str, ...] = ()
    max_new_tokens: int | None = None
    bench_tokens: int | None = None
    bench_runs: int | None = None
    max_problems: int | None = None
    cache_dir: str | None = None
    cache: bool | None = None

    def __post_init__(self) -> None:
        if self.device is not None:
            check_device(self.device)
        if self.dtype is not None and self.dtype not in DTYPES:
            raise UsageError(
                f"--dtype {_shown(self.dtype)}: not a compute dtype "
                "(use auto, float32, bfloat16 or float16)"
            )
        for name, low in _MINIMUM.items():
            value = getattr(self, name)
            bad = isinstance(value, bool) or not isinstance(value, int) or value < low
            if value is not None and bad:
                raise UsageError(f"{flag(name)} {value!r}: must be an integer ≥ {low}")
        if self.cache_dir is not None and not isinstance(self.cache_dir, (str, PathLike)):
            raise UsageError(f"--cache-dir {self.cache_dir!r}: expects a folder path")
        if self.cache is not None and not isinstance(self.cache, bool):
            raise UsageError(f"cache={self.cache!r}: expects True or False (--no-cache)")
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", fspath(self.cache_dir))
        prompts = self.prompts
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise UsageError(f"{flag('prompts')}: expects a list of strings, got {prompts!r}")
        object.__setattr__(self, "prompts", tuple(prompts))  # a list from the API, kept frozen

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> RunSettings:
        """Settings from keyword arguments or a recorded ``options`` mapping.

        ``None`` values count as not given.

        Raises:
            UsageError: an unknown name (with the closest known one) or a bad value.
        """
        known = [f.name for f in fields(cls)]
        for name in values:
            if name not in known:
                from albor_gates.spec.loader import suggest

                hint = suggest(str(name), known)
                raise UsageError(
                    f"unknown setting {name!r}"
                    + (f" ({hint})" if hint else f" (known: {', '.join(known)})")
                )
        return cls(**{k: v for k, v in values.items() if v is not None})

    @property
    def requested_device(self) -> str:
        """The device asked for; ``auto`` when none was given."""
        return self.device or "auto"

    def measured(self) -> dict[str, Any]:
        """Every given setting that can change a measurement, sorted by name (a cache key).

        :meth:`record`'s scalars plus the sequences (``--prompt``): a gate measured for other
        prompts must never be served for these.
        """
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in NOT_MEASURED}
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in sorted(out.items())
            if v is not None and v != ()
        }

    def record(self) -> dict[str, Any]:
        """The report's ``options``: the scalar settings that were given, sorted by name.

        Where the cache lives is not a setting of the measurement: it stays out of reports
        and of the cache key.
        """
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in NOT_MEASURED}
        return {k: v for k, v in sorted(out.items()) if isinstance(v, (str, int, float, bool))}
