"""Models where they live: Hugging Face Hub references resolved to local snapshot folders.

:func:`resolve_model_reference` is the one place a model reference becomes a local path, before
any gate runs (the engine and the readers only ever see local files). It accepts:

* a local file or folder: returned as is (a local path always wins over a repo id);
* ``hf://ORG/NAME[@REV]`` (anywhere) and ``ORG/NAME[@REV]`` (where a bare id is allowed and no
  such local path exists): downloaded through ``huggingface_hub.snapshot_download`` — only the
  files ``gates`` reads (:data:`HUB_FILES`: configs, tokenizer, card, safetensors weights; never
  pickles) — honouring ``HF_HOME`` / ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE`` and ``HF_TOKEN`` as
  read *now* (not when huggingface_hub was first imported);
* a Hub cache root ``…/models--ORG--NAME``: resolved through ``refs/main`` to its snapshot;
* a snapshot folder ``…/models--ORG--NAME/snapshots/SHA`` (or a file in it).

Whatever came from the Hub carries a :class:`HubSource` (repo id, revision asked, resolved commit
sha) that the report records, so a report names the model by its repo id, not by a snapshot
hash. Every failure is one line naming the reference and the fix: a repository that does not
exist (or is private), a revision that does not resolve, a gated repository without a token,
offline mode with the snapshot or its weights missing from the cache.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from albor_gates.errors import UsageError
from albor_gates.extras import require

#: The files ``gates`` reads from a Hub repository (``allow_patterns``): nothing else is fetched.
HUB_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "README.md",
    "*.safetensors",
    "model.safetensors.index.json",
)

_SCHEME = "hf://"
# huggingface_hub's repo-id rule: ORG/NAME of [A-Za-z0-9._-], not starting with '-' or '.'.
_REPO_RE = re.compile(
    r"^([A-Za-z0-9][\w.-]{0,95})/([A-Za-z0-9][\w.-]{0,95})(?:@([\w./-]{1,255}))?$"
)
_WEIGHTS = ("*.safetensors", "*.gguf", "model.safetensors.index.json")


@dataclass(frozen=True)
class HubSource:
    """Where a model came from on the Hub (recorded in the report).

    Attributes:
        repo_id: ``ORG/NAME``.
        revision: the revision asked for (``main`` by default).
        commit: the commit sha it resolved to.
    """

    repo_id: str
    revision: str
    commit: str

    def record(self) -> dict[str, str]:
        """The JSON-safe form the report carries (the commit pins what was read)."""
        return {"repo_id": self.repo_id, "commit": self.commit}


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference made local.

    Attributes:
        path: the local file or folder to read.
        source: the Hub provenance, or None for a plain local path.
    """

    path: Path
    source: HubSource | None = None

    @property
    def name(self) -> str:
        """How reports name the model: the repo id when it came from the Hub."""
        return self.source.repo_id if self.source else self.path.name


def parse_hub_reference(text: str, *, bare: bool) -> tuple[str, str] | None:
    """``(repo_id, revision)`` of a Hub reference, or None when ``text`` is not one.

    Args:
        text: ``hf://ORG/NAME[@REV]``, or ``ORG/NAME[@REV]`` when ``bare`` is true.
        bare: whether a reference without the ``hf://`` scheme counts.

    Raises:
        UsageError: ``hf://`` followed by something that is not ``ORG/NAME[@REV]``.
    """
    rest = text[len(_SCHEME) :] if text.startswith(_SCHEME) else None
    if rest is None and not bare:
        return None
    m = _REPO_RE.match(rest if rest is not None else text)
    if m is None:
        if rest is not None:
            raise UsageError(
                f"{text}: not a Hub reference: write hf://ORG/NAME or hf://ORG/NAME@REV"
            )
        return None
    return f"{m.group(1)}/{m.group(2)}", m.group(3) or "main"


def resolve_model_reference(text: str, *, bare: bool = False) -> ResolvedModel:
    """Make a model reference local (see the module docstring); the one place that does.

    Args:
        text: a local path, an ``hf://`` reference, a Hub cache root or snapshot folder, or
            (with ``bare``) ``ORG/NAME[@REV]``.
        bare: accept a repo id without the ``hf://`` scheme when no such local path exists.

    Raises:
        UsageError: one line naming the reference, what went wrong and the fix.
    """
    local = Path(text).expanduser()
    if not text.startswith(_SCHEME) and local.exists():
        return resolve_cache_root(local)
    ref = parse_hub_reference(text, bare=bare)
    if ref is None:
        hint = " or a Hub repo id ORG/NAME[@REV]" if bare else " (or hf://ORG/NAME[@REV])"
        raise UsageError(f"{text}: no such file or folder: name a local model{hint}")
    return _download(text, *ref)


def _cache_dir() -> Path:
    """The Hub cache as the environment says *now* (HF_HUB_CACHE, else HF_HOME/hub)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def _download(text: str, repo_id: str, revision: str) -> ResolvedModel:
    require(("hub",), text)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cache = _cache_dir()
    offline = _offline()
    try:
        folder = Path(
            snapshot_download(
                repo_id,
                revision=revision,
                cache_dir=cache,
                local_files_only=offline,
                allow_patterns=list(HUB_FILES),
                token=os.environ.get("HF_TOKEN") or None,
            )
        )
    # the order matters: GatedRepoError is a RepositoryNotFoundError, which is an HTTP error
    except GatedRepoError as e:
        raise UsageError(
            f"{text}: {repo_id} is a gated repository: accept its conditions on "
            f"huggingface.co/{repo_id} and set HF_TOKEN to a token of that account"
        ) from e
    except RepositoryNotFoundError as e:
        raise UsageError(
            f"{text}: no Hub repository {repo_id} (or it is private): check the id, or set "
            f"HF_TOKEN for a private repository"
        ) from e
    except RevisionNotFoundError as e:
        raise UsageError(
            f"{text}: revision {revision!r} does not resolve in {repo_id}: name a branch, tag "
            f"or commit sha of the repository"
        ) from e
    except LocalEntryNotFoundError as e:
        why = "HF_HUB_OFFLINE=1 and" if offline else "the Hub is unreachable and"
        raise UsageError(
            f"{text}: {why} {repo_id}@{revision} is not in the cache at {cache}: run once "
            f"online (or `hf download {repo_id} --revision {revision}`)"
        ) from e
    except (HfHubHTTPError, OSError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UsageError(f"{text}: cannot download {repo_id}@{revision}: {first}") from e
    if not any(any(folder.glob(p)) for p in _WEIGHTS):
        where = "the cached snapshot" if offline else "the repository"
        raise UsageError(
            f"{text}: {where} of {repo_id} at {folder.name} holds no safetensors or GGUF weights"
            + (
                ": run once online (HF_HUB_OFFLINE=1 left the weights out of the cache)"
                if offline
                else ": gates reads safetensors (convert pickled .bin weights first)"
            )
        )
    return ResolvedModel(folder, HubSource(repo_id, revision, folder.name))


def hub_source_of(path: Path) -> HubSource | None:
    """The Hub provenance of a snapshot folder or a file in one (from the cache layout).

    ``…/models--ORG--NAME/snapshots/SHA[/FILE]`` says the repo id and the commit; any other
    path has no Hub provenance (None).
    """
    parts = path.absolute().parts
    for i in range(len(parts) - 3, -1, -1):
        tail = parts[i][len("models--") :]
        if parts[i].startswith("models--") and "--" in tail and parts[i + 1] == "snapshots":
            return HubSource(tail.replace("--", "/", 1), parts[i + 2], parts[i + 2])
    return None


def display_name(path: Path) -> str:
    """How a report names ``path``: ``ORG/NAME[/FILE]`` inside a Hub snapshot, else its name."""
    source = hub_source_of(path)
    if source is None:
        return path.name
    parts = path.absolute().parts
    inner = parts[parts.index(source.commit) + 1 :]
    return "/".join((source.repo_id, *inner))


def resolve_cache_root(path: Path) -> ResolvedModel:
    """A Hub cache root (``models--ORG--NAME`` with ``refs/main``) made a snapshot folder.

    Args:
        path: a local folder; anything but a cache root is returned unchanged.

    Raises:
        UsageError: a cache root whose ``refs/main`` or snapshot is missing.
    """
    if not _is_cache_root(path):
        return ResolvedModel(path, hub_source_of(path))
    repo_id = path.name[len("models--") :].replace("--", "/", 1)
    ref = path / "refs" / "main"
    try:
        commit = ref.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(
            f"{path}: a Hub cache root without a readable refs/main: name a snapshot folder "
            f"(snapshots/SHA) or hf://{repo_id}@REV"
        ) from e
    snap = path / "snapshots" / commit
    if not re.fullmatch(r"[0-9a-f]{40}", commit) or not snap.is_dir():
        raise UsageError(
            f"{ref}: points at {commit[:60]!r}, which is not a snapshot in {path / 'snapshots'}: "
            f"download it again (hf download {repo_id})"
        )
    return ResolvedModel(snap, HubSource(repo_id, "main", commit))


def resolve_bindings(binds: dict[str, str]) -> dict[str, str]:
    """``--artifact NAME=REF`` bindings with every ``hf://`` reference and cache root made local.

    A bare ``ORG/NAME`` is not a Hub reference here: in a binding it is a relative path.
    """
    out = dict(binds)
    for name, ref in binds.items():
        if ref.startswith(_SCHEME) or _is_cache_root(Path(ref).expanduser()):
            out[name] = str(resolve_model_reference(ref).path)
    return out


def _is_cache_root(path: Path) -> bool:
    return path.name.startswith("models--") and (path / "snapshots").is_dir()
