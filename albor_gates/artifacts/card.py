"""``README.md``: the model card and its YAML front matter (``---`` lines at the top).

The front matter is read with the same bounded YAML reader as specs
(:func:`albor_gates.spec.yamlsafe.load_yaml_text`): no tag is ever executed, alias bombs
(more than :data:`MAX_YAML_NODES` nodes once aliases are expanded), recursive aliases and
repeated keys are refused with the line and column. The file is size-capped before it is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from albor_gates.errors import ArtifactError, SpecError
from albor_gates.spec.yamlsafe import load_yaml_text

from ._text import decode_utf8, frozen, quote, read_bounded

#: Size caps, in bytes, checked before reading.
MAX_CARD_BYTES = 16_000_000
MAX_FRONT_MATTER_BYTES = 1_000_000

#: Most YAML nodes a model card's front matter may hold, counting every alias expansion.
MAX_YAML_NODES = 10_000


@dataclass(frozen=True)
class ModelCard:
    """A model card (``README.md``): its YAML front matter and Markdown body.

    Attributes:
        path: the file.
        front_matter: the front matter mapping, or ``None`` when the card has none.
        body: the Markdown after the front matter.
        front_matter_line: 1-based line of the opening ``---`` (0 when there is none).
    """

    path: Path
    front_matter: Mapping[str, Any] | None
    body: str
    front_matter_line: int = 0

    def _value(self, key: str) -> Any:
        return None if self.front_matter is None else self.front_matter.get(key)

    def _text(self, key: str) -> str | None:
        value = self._value(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ArtifactError(
                f"{self.path}: model card front matter key '{key}' is a YAML "
                f"{type(value).__name__}, expected a string: fix the front matter"
            )
        return value

    def _texts(self, key: str) -> tuple[str, ...]:
        value = self._value(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ArtifactError(
            f"{self.path}: model card front matter key '{key}' is a YAML "
            f"{type(value).__name__}, expected a string or a list of strings: fix the front matter"
        )

    @property
    def license(self) -> str | None:
        """``license`` (an SPDX-like id such as ``apache-2.0``, or ``other``)."""
        return self._text("license")

    @property
    def library_name(self) -> str | None:
        """``library_name``."""
        return self._text("library_name")

    @property
    def pipeline_tag(self) -> str | None:
        """``pipeline_tag``."""
        return self._text("pipeline_tag")

    @property
    def base_model(self) -> tuple[str, ...]:
        """``base_model`` (one id or a list)."""
        return self._texts("base_model")

    @property
    def tags(self) -> tuple[str, ...]:
        """``tags``."""
        return self._texts("tags")

    @property
    def datasets(self) -> tuple[str, ...]:
        """``datasets``."""
        return self._texts("datasets")

    @property
    def language(self) -> tuple[str, ...]:
        """``language``."""
        return self._texts("language")

    @property
    def model_index(self) -> list[Any] | None:
        """``model-index`` as written (a list of models with ``results``), when present."""
        value = self._value("model-index")
        if value is None:
            return None
        if not isinstance(value, list):
            raise ArtifactError(
                f"{self.path}: model card front matter key 'model-index' is a YAML "
                f"{type(value).__name__}, expected a list: fix the front matter"
            )
        return value


def _split_front_matter(path: Path, text: str) -> tuple[str | None, str, int]:
    """Return ``(front matter text, body, line of the closing ---)``; no front matter → None."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n").rstrip() != "---":
        return None, text, 0
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n").rstrip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 1
    raise ArtifactError(
        f"{path}:1: model card front matter opened with --- is never closed: add a line with "
        f"--- after the YAML"
    )


def _load_front_matter(path: Path, fm: str) -> Any:
    """Load the front matter with the spec reader's bounded YAML guard (``spec.yamlsafe``).

    That guard composes without constructing, counts every node alias expansion included (an
    alias bomb is refused at :data:`MAX_YAML_NODES`), and refuses recursive aliases, unknown
    tags (never executed) and repeated keys; its one located problem becomes this card's error.
    """
    try:
        doc = load_yaml_text(fm, str(path), max_nodes=MAX_YAML_NODES)
    except SpecError as e:
        p = e.problems[0]
        # +1: the YAML starts on the line after the opening ---.
        where = f"{path}:{p.line + 1}:{p.col or 1}" if p.line else f"{path}"
        hint = f" ({p.hint})" if p.hint else ""
        raise ArtifactError(
            f"{where}: model card front matter: {quote(p.message)}{hint}: "
            "fix the YAML between the --- lines"
        ) from e
    return {} if doc.data is None else doc.data


def read_model_card(path: str | os.PathLike[str]) -> ModelCard:
    """Read a model card and its YAML front matter (``---`` lines at the top, as on the Hub).

    Raises:
        ArtifactError: missing, too large, not UTF-8, an unclosed or invalid front matter, an
            alias bomb, a recursive alias, a repeated key, an unsafe tag, or front matter that
            is not a mapping.
    """
    p = Path(path)
    fix = "fix the model card"
    data = read_bounded(p, MAX_CARD_BYTES, "model card", fix)
    text = decode_utf8(p, data, what="model card", fix="save it as UTF-8").lstrip("\ufeff")
    fm, body, _close = _split_front_matter(p, text)
    if fm is None:
        return ModelCard(path=p, front_matter=None, body=body, front_matter_line=0)
    if len(fm.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise ArtifactError(
            f"{p}: model card front matter is above the {MAX_FRONT_MATTER_BYTES}-byte limit: "
            f"move long content into the Markdown body"
        )
    value = _load_front_matter(p, fm)
    if not isinstance(value, dict):
        raise ArtifactError(
            f"{p}:2: model card front matter is a YAML {type(value).__name__}, not a mapping: "
            f"write key: value lines between the --- lines"
        )
    return ModelCard(path=p, front_matter=frozen(value), body=body, front_matter_line=1)
