"""What the CI views (SARIF, workflow annotations, the step summary) need beyond the record.

Code scanning and the pull-request diff map a result to a file only by its path relative to
the repository root, so these views never show a machine path (``/home/runner/…``,
``…/site-packages/…``). :func:`locate` turns a gate's location into a repository-relative one:

1. a spec file under the source root (the working directory of the run) is named relative
   to it (``%SRCROOT%`` in SARIF);
2. a gate inherited from a file outside it (a bundled spec pulled in through ``extends:``) is
   located at the ``extends:`` line of the repository's spec that pulled it in, following the
   chain of extends outward until a file in the repository is reached;
3. with no such line (``gates verify`` runs the bundled suites directly) a bundled file is
   named relative to the bundled folders (``ALBOR_GATES`` in SARIF), anything else by its file
   name alone (``EXTERNAL``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from albor_gates.render.sanitize import walk

SRCROOT = "%SRCROOT%"
BUNDLED = "ALBOR_GATES"
EXTERNAL = "EXTERNAL"

BASE_DESCRIPTIONS = {
    SRCROOT: "The repository root: the working directory gates ran in.",
    BUNDLED: "The specs and invariants bundled with albor-gates.",
    EXTERNAL: "A spec file outside the repository, named by its file name alone.",
}


@dataclass(frozen=True)
class Location:
    """A repository-relative location: ``uri`` (POSIX, relative) under the base ``base``."""

    uri: str
    line: int
    base: str = SRCROOT


@dataclass(frozen=True)
class CiContext:
    """The facts the CI views take from the run rather than from the record.

    Attributes:
        root: the source root as an absolute POSIX path; empty when unknown (a path in the
            record is then taken as relative to the root when it is relative).
        extended_at: spec file → (file, line) of the ``extends:`` entry that pulled it in
            (:attr:`albor_gates.spec.loader.SpecSet.extended_at`).
        bundled: absolute folder of bundled specs → its name (``invariants``, ``specs``).
        kind_help: check kind → its ``gates explain`` text (a SARIF rule's ``help``).
        include_pass: SARIF also lists PASS and not-selected gates (no findings).
    """

    root: str = ""
    extended_at: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    bundled: Mapping[str, str] = field(default_factory=dict)
    kind_help: Mapping[str, str] = field(default_factory=dict)
    include_pass: bool = False

    def relative(self, path: str) -> str | None:
        """``path`` relative to the source root, or None when it lies outside."""
        posix = PurePath(path).as_posix()
        if posixpath.isabs(posix) or PurePath(path).drive:
            if not self.root:
                return None
            rel = posixpath.relpath(posixpath.normpath(posix), self.root)
        else:
            rel = posixpath.normpath(posix)
        return None if rel == ".." or rel.startswith("../") else rel

    def locate(self, path: str, line: int) -> Location:
        """Where a CI view shows ``path:line`` (see the module docstring for the rules)."""
        file, at, seen = path, line, set()
        while file not in seen:
            rel = self.relative(file)
            if rel is not None:
                return Location(rel, at)
            seen.add(file)
            if file not in self.extended_at:
                break
            file, at = self.extended_at[file]
        posix = PurePath(path).as_posix()
        for folder, name in self.bundled.items():
            if posix.startswith(folder.rstrip("/") + "/"):
                return Location(f"{name}/{posix[len(folder.rstrip('/')) + 1 :]}", line, BUNDLED)
        return Location(posixpath.basename(posix), line, EXTERNAL)

    def scrub(self, record: Mapping[str, Any]) -> Any:
        """``record`` with the source root's absolute prefix taken out of every string."""
        if not self.root:
            return record
        prefix = self.root.rstrip("/") + "/"
        return walk(record, lambda s: str(s).replace(prefix, ""))
