"""A bounded, position-keeping YAML reader for specs and evidence files.

PyYAML's ``safe_load`` is safe against code execution but not against resource attacks: an
alias bomb ("billion laughs") expands exponentially, and duplicate mapping keys silently keep
the last value. This reader composes the node graph with PyYAML's SafeLoader (no object
construction), then converts it itself while

* counting every node it *visits* — alias re-expansion included — and refusing past
  ``max_nodes``, so a bomb is refused in milliseconds;
* refusing recursive anchors, excessive nesting, unknown tags and duplicate keys;
* recording the ``(line, col)`` of every value by its path, so spec errors point at the key.

Example::

    doc = load_yaml_text("gates:\\n  - id: A\\n", "spec.yaml")
    doc.data["gates"][0]["id"]            # 'A'
    doc.position(("gates", 0, "id"))      # (2, 9)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from albor_gates import numbers
from albor_gates.errors import Problem, SpecError

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (10x faster composition), else pure Python.
# Only composition is used: nodes are converted by _Converter, never constructed by PyYAML.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from one YAML file plus the position of every value.

    Attributes:
        file: the path as the user named it.
        data: the converted document (dicts, lists, str, int, float, bool, None, date).
        positions: path tuple → (line, col), both 1-based.
    """

    file: str
    data: Any
    positions: Mapping[PathKey, tuple[int, int]]
    key_positions: Mapping[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: PathKey) -> tuple[int, int]:
        """Return the (line, col) of ``path``, or of its nearest located ancestor."""
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))

    def key_position(self, path: PathKey) -> tuple[int, int]:
        """Return the (line, col) of the mapping key at ``path`` (else as :meth:`position`)."""
        return self.key_positions.get(path) or self.position(path)


class _Converter:
    def __init__(self, file: str, max_nodes: int, max_depth: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.visited = 0
        self.positions: dict[PathKey, tuple[int, int]] = {}
        self.key_positions: dict[PathKey, tuple[int, int]] = {}
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str, hint: str = "") -> SpecError:
        mark = node.start_mark
        return SpecError([Problem(self.file, mark.line + 1, mark.column + 1, "", message, hint)])

    def convert(self, node: yaml.Node, path: PathKey, active: frozenset[int]) -> Any:
        self.visited += 1
        if self.visited > self.max_nodes:
            raise self.fail(
                node,
                f"more than {self.max_nodes} YAML nodes after alias expansion",
                "an alias bomb or a generated file; write the values out or split the file",
            )
        if len(path) > self.max_depth:
            raise self.fail(node, f"nesting deeper than {self.max_depth} levels")
        self.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if id(node) in active:
            raise self.fail(node, "recursive YAML alias", "an anchor may not contain itself")
        inner = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}", "remove the tag")
            return [self.convert(child, (*path, i), inner) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise self.fail(node, f"unsupported YAML tag {node.tag!r}", "remove the tag")
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(
                        key_node, "YAML merge keys ('<<') are not supported", "write keys out"
                    )
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, "mapping keys must be plain scalars")
                key = self._scalar(key_node)
                if not isinstance(key, str):
                    key = str(key).lower() if isinstance(key, bool) else str(key)
                if key in out:
                    raise self.fail(
                        key_node,
                        f"duplicate key {key!r}",
                        "YAML keeps only the last one silently; remove one of them",
                    )
                self.key_positions[(*path, key)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.convert(value_node, (*path, key), inner)
            return out
        raise self.fail(node, f"unsupported YAML node {type(node).__name__}")  # pragma: no cover

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR:  # most scalars of a spec; PyYAML's constructor returns node.value
            return node.value
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(
                node,
                f"unsupported YAML tag {node.tag!r}",
                "specs hold plain data only; remove the tag",
            )
        try:
            value = self.constructor.construct_object(node, deep=False)
        except (yaml.YAMLError, ValueError) as e:
            raise self.fail(node, f"bad scalar {node.value!r}: {e}") from e
        if isinstance(value, float) and math.isnan(value):
            return math.nan
        try:  # a number no float can hold would crash the first comparison (exit 3)
            if isinstance(value, int) and not isinstance(value, bool):
                numbers.check_int(value, node.value)
            elif isinstance(value, float) and math.isinf(value) and "inf" not in node.value.lower():
                numbers.parse_float(node.value)
        except ValueError as e:
            raise self.fail(node, str(e)) from e
        return value


def _line_col(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def load_yaml_text(
    text: str, file: str, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH
) -> YamlDocument:
    """Parse one YAML document from ``text`` with limits and positions.

    Raises:
        SpecError: on a syntax error, multiple documents, a limit or an unsupported construct.
    """
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        msg = " ".join(f"YAML syntax error: {e.problem or e.context}".split())
        raise SpecError([Problem(file, line, col, "", msg)]) from e
    except yaml.reader.ReaderError as e:
        line, col = _line_col(text, e.position)
        char = chr(e.character) if isinstance(e.character, int) else e.character
        msg = f"unacceptable character {char!r}: {e.reason}"
        raise SpecError([Problem(file, line, col, "", msg, "specs are plain UTF-8 text")]) from e
    except yaml.YAMLError as e:
        flat = " ".join(str(e).split())
        raise SpecError([Problem(file, 0, 0, "", f"YAML error: {flat}")]) from e
    if root is None:
        return YamlDocument(file, None, {(): (1, 1)})
    conv = _Converter(file, max_nodes, max_depth)
    data = conv.convert(root, (), frozenset())
    return YamlDocument(file, data, conv.positions, conv.key_positions)


def load_yaml_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> YamlDocument:
    """Read and parse a YAML file with a size cap.

    Raises:
        SpecError: when the file is missing, too large, not UTF-8 or not valid YAML.
    """
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise SpecError([Problem(name, 0, 0, "", f"cannot read: {e.strerror}")]) from e
    if size > max_bytes:
        raise SpecError(
            [Problem(name, 0, 0, "", f"file is {size} bytes, over the {max_bytes}-byte limit")]
        )
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as e:
        raise SpecError([Problem(name, 0, 0, "", f"cannot read: {e.strerror}")]) from e
    except UnicodeDecodeError as e:
        raise SpecError(
            [Problem(name, 0, 0, "", f"not UTF-8 text (byte offset {e.start})", "save as UTF-8")]
        ) from e
    return load_yaml_text(text, name)
