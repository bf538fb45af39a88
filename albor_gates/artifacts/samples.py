"""Evidence files that declare themselves samples (issue 10: sample evidence is visible).

A JSON or YAML evidence file whose top level holds ``sample: true`` stands in for what an
operator will supply (the bundled example's ``evidence/operator/`` files do). Nothing built on
it may read as a real release: ``gates dogfood`` prints a banner at the top of every document
and in its verdict block, and ``--release`` refuses such evidence outright.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from albor_gates.artifacts.documents import read_json, read_yaml
from albor_gates.errors import EvidenceError

SAMPLE_KEY = "sample"
_SUFFIXES = {".json": read_json, ".yaml": read_yaml, ".yml": read_yaml}


def declares_sample(path: Path) -> bool:
    """Whether ``path`` is a JSON / YAML mapping with ``sample: true`` at its top level.

    A file that cannot be read is not a sample here: the gate that reads it reports the error.
    """
    reader = _SUFFIXES.get(path.suffix)
    if reader is None or not path.is_file():
        return False
    try:
        doc = reader(path)
    except EvidenceError:
        return False
    return isinstance(doc, dict) and doc.get(SAMPLE_KEY) is True


def sample_files(paths: Iterable[Path]) -> list[Path]:
    """The given evidence files that declare themselves samples, sorted, each once."""
    return sorted({p for p in paths if declares_sample(p)})
