"""card.front_matter — the model card's YAML front matter is complete and publishable.

SPEC-HF-PUBLISH-001 (GATES.md §7.3) and readiness gate 4: ``required`` keys present and
non-empty (default: library_name, license, pipeline_tag); ``equals`` pins values (albor:
``library_name: aprender`` — never ``transformers`` — and ``pipeline_tag: text-generation``);
``tags_include`` lists tags that must appear (albor: aprender, rust, pytorch-free); and
``model-index``, when present, must hold non-empty ``results`` (an empty one makes the Hub
answer HTTP 400 — omit it instead). The value is the number of violations (default ``eq: 0``).

PASS: "0 front-matter problems (library_name, license, pipeline_tag present)".
FAIL: a card without front matter → "1 front-matter problem: the card has no YAML front matter".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks import evidence
from albor_gates.checks.base import CheckParams, Context, Measurement

KIND = "card.front_matter"
VERSION = 1
TITLE = "Model card front matter: required keys, pinned values, tags, non-empty model-index"
ROLES = ("card",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class Params(CheckParams):
    """Options of card.front_matter."""

    required: list[str] = ["library_name", "license", "pipeline_tag"]
    equals: dict[str, str] = {}
    tags_include: list[str] = []


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, (str, list, dict)) and not v)


def measure(ctx: Context, params: Params) -> Measurement:
    """List the front-matter problems."""
    card = evidence.card(ctx)
    fm = card.front_matter
    problems: list[str] = []
    if fm is None:
        problems.append("the card has no YAML front matter")
        fm = {}
    else:
        for key in params.required:
            if _empty(fm.get(key)):
                problems.append(f"{key} is missing or empty")
        for key, want in sorted(params.equals.items()):
            got = fm.get(key)
            if got is not None and got != want:
                problems.append(f"{key} is {got!r}, must be {want!r}")
        tags = fm.get("tags") or []
        tags = [tags] if isinstance(tags, str) else tags
        for t in params.tags_include:
            if t not in tags:
                problems.append(f"tags lack {t!r}")
        mi = fm.get("model-index")
        if mi is not None:
            ok = (
                isinstance(mi, list)
                and mi
                and all(
                    isinstance(m, dict) and isinstance(m.get("results"), list) and m["results"]
                    for m in mi
                )
            )
            if not ok:
                problems.append("model-index has no results (the Hub rejects it: omit the key)")
    return Measurement(
        len(problems),
        subject="front-matter problems",
        summary=f"{len(problems)} front-matter problems"
        + (": " + "; ".join(problems) if problems else f" ({', '.join(params.required)} present)"),
        details={"problems": problems, "keys": sorted(fm)},
        fix="edit the README.md front matter",
    )
