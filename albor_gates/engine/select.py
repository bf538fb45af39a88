"""Gate selection: ``--select`` / ``--ignore`` by gate-id glob or by ``tag:NAME`` (issue 12).

A pull-request workflow runs the cheap gates (``--select tag:pr``) and a release tag runs them
all. A gate left out by selection is reported "not selected" and changes nothing in the
decision, which the record marks ``partial`` instead: a partial GO is a statement about the
selected gates only, never a release verdict. ``--skip`` is different on purpose: a required
gate skipped by name is NO-GO.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from albor_gates.errors import UsageError

TAG_PREFIX = "tag:"


def matches(pattern: str, gate_id: str, tags: Sequence[str]) -> bool:
    """Whether one pattern names a gate: ``tag:NAME`` (a glob over tags) or an id glob."""
    if pattern.startswith(TAG_PREFIX):
        wanted = pattern[len(TAG_PREFIX) :]
        return any(fnmatchcase(t, wanted) for t in tags)
    return fnmatchcase(gate_id, pattern)


def is_selected(
    gate_id: str, tags: Sequence[str], select: Sequence[str], ignore: Sequence[str]
) -> bool:
    """A gate runs when some ``select`` pattern names it (or none is given) and no ``ignore``."""
    if select and not any(matches(p, gate_id, tags) for p in select):
        return False
    return not any(matches(p, gate_id, tags) for p in ignore)


def check_patterns(
    gates: Iterable[tuple[str, Sequence[str]]], select: Sequence[str], ignore: Sequence[str]
) -> None:
    """Refuse a pattern that names no gate (a typo would silently select nothing).

    Raises:
        UsageError: naming the first such pattern, and the tags that exist.
    """
    known = list(gates)
    for flag, patterns in (("--select", select), ("--ignore", ignore)):
        for p in patterns:
            if not p or p == TAG_PREFIX:
                raise UsageError(f"{flag} {p!r}: expected a gate-id glob or tag:NAME")
            if any(matches(p, gid, tags) for gid, tags in known):
                continue
            if p.startswith(TAG_PREFIX):
                tags = sorted({t for _, ts in known for t in ts})
                raise UsageError(
                    f"{flag} {p}: no gate in the selected specs has this tag "
                    f"(tags: {', '.join(tags) or 'none'})"
                )
            raise UsageError(f"{flag} {p}: no gate id in the selected specs matches it")


def describe(select: Sequence[str], ignore: Sequence[str]) -> str:
    """The selection as command-line flags, for messages (``--select tag:pr``)."""
    parts = [f"--select {p}" for p in select] + [f"--ignore {p}" for p in ignore]
    return " ".join(parts)
