"""tokenizer.roundtrip — encode → decode gives back exactly the text (AC-SHIP2-002).

Reads held-out documents from the ``text`` artifact — a text file (documents separated by blank
lines, or one document when ``split: none``), a JSONL file (``field`` of each record, default
``text``) or a folder of ``*.py`` / ``*.txt`` files — and counts the documents for which
``decode(encode(doc))`` differs from ``doc`` with the ``tokenizers`` library. Up to
``max_docs`` documents (AC-SHIP2-002 asks for 10K held-out docs); the first mismatch is shown
with its offset. The value is the number of mismatches (default band ``eq: 0``).

PASS: byte-level BPE on Python source → "0 of 26 documents differ after encode/decode".
FAIL: a WordPiece tokenizer that lower-cases → "26 of 26 documents differ; first: doc 1 at
character 0: 'I' → 'i'".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks import evidence
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "tokenizer.roundtrip"
VERSION = 1
TITLE = "Tokenizer encode → decode reproduces held-out documents exactly"
ROLES = ("tokenizer", "text")
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ("tokenizer",)
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}

MAX_DOC_BYTES = 4 * 1024 * 1024


class Params(CheckParams):
    """Options of tokenizer.roundtrip."""

    max_docs: int = Field(10_000, ge=1)
    split: Literal["blank_lines", "none"] = "blank_lines"
    field: str = "text"
    glob: str = "*.py"


def _documents(path: Path, p: Params) -> list[str]:
    if path.is_dir():
        docs = []
        for f in sorted(path.rglob(p.glob))[: p.max_docs]:
            if f.is_file() and f.stat().st_size <= MAX_DOC_BYTES:
                docs.append(f.read_text(encoding="utf-8", errors="strict"))
        return docs
    if path.suffix in (".jsonl", ".ndjson"):
        docs = []
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise EvidenceError(f"{path}:{i}: invalid JSON: {e.msg}") from e
                if not isinstance(rec, dict) or not isinstance(rec.get(p.field), str):
                    raise EvidenceError(f"{path}:{i}: no string field {p.field!r}")
                docs.append(rec[p.field])
                if len(docs) >= p.max_docs:
                    break
        return docs
    text = path.read_text(encoding="utf-8")
    if p.split == "none":
        return [text]
    return [d for d in text.split("\n\n") if d.strip()][: p.max_docs]


def _first_diff(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def measure(ctx: Context, params: Params) -> Measurement:
    """Round-trip every document."""
    tok = evidence.tokenizer(ctx).tokenizer
    try:
        docs = _documents(ctx.path("text"), params)
    except UnicodeDecodeError as e:
        raise EvidenceError(f"{ctx.path('text')}: not UTF-8 text (byte offset {e.start})") from e
    if not docs:
        raise EvidenceError(f"{ctx.path('text')}: no documents to round-trip")
    bad: list[str] = []
    for i, doc in enumerate(docs, 1):
        ids = tok.encode(doc, add_special_tokens=False).ids
        back = tok.decode(ids, skip_special_tokens=False)
        if back != doc:
            at = _first_diff(doc, back)
            bad.append(f"doc {i} at character {at}: {doc[at : at + 12]!r} → {back[at : at + 12]!r}")
    summary = f"{len(bad)} of {len(docs)} documents differ after encode/decode"
    if bad:
        summary += f"; first: {bad[0]}"
    return Measurement(
        len(bad),
        subject="documents that do not round-trip",
        summary=summary,
        details={"documents": len(docs), "mismatches": bad[:10]},
    )
