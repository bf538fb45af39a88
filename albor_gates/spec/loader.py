"""Load spec files into validated models, resolve ``extends``, and locate every error.

Every problem becomes a :class:`~albor_gates.errors.Problem` with ``file:line:col``, a
breadcrumb (``spec ship-model-2 → gate AC-SHIP2-003 → expect``), what is wrong and, where a
close match exists, a suggestion ("did you mean 'le'?"). All problems of a file are reported
together, not one per run.
"""

from __future__ import annotations

import hashlib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from albor_gates.errors import Problem, SpecError, UsageError
from albor_gates.spec.models import Gate, Spec
from albor_gates.spec.resources import search_path, short_name, spec_files
from albor_gates.spec.yamlsafe import PathKey, YamlDocument, load_yaml_file


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with the document it came from.

    Attributes:
        spec: the validated model.
        doc: the YAML document (data + positions) for error locations.
        path: the file.
        digest: sha256 of the file bytes.
    """

    spec: Spec
    doc: YamlDocument
    path: Path
    digest: str

    def position(self, loc: PathKey) -> tuple[int, int]:
        """Return (line, col) of a path inside this spec file."""
        return self.doc.position(loc)

    def gate_position(self, index: int) -> tuple[int, int]:
        """Return (line, col) of the gate at ``index``."""
        return self.doc.position(("gates", index, "id"))


@dataclass(frozen=True)
class GateOrigin:
    """A gate together with the spec file that declares it."""

    gate: Gate
    spec: LoadedSpec
    index: int

    @property
    def file(self) -> str:
        """The spec file path as given."""
        return self.spec.doc.file

    @property
    def line(self) -> int:
        """1-based line of the gate's id."""
        return self.spec.gate_position(self.index)[0]

    def problem(self, loc: PathKey, message: str, hint: str = "") -> Problem:
        """Build a Problem located at ``loc`` inside this gate."""
        line, col = self.spec.position(("gates", self.index, *loc))
        where = breadcrumb(self.spec.spec.id, self.gate.id, loc)
        return Problem(self.file, line, col, where, message, hint)


@dataclass(frozen=True)
class SpecSet:
    """A root spec with everything it extends, flattened in dependency order.

    Attributes:
        root: the spec that was asked for.
        members: every spec file involved, bases first, the root last.
        extended_at: for each member but the root (by its file as given), the file and line of
            the ``extends`` entry that first pulled it in, so a report can locate an inherited
            gate in the repository's spec rather than in an installed package.
    """

    root: LoadedSpec
    members: tuple[LoadedSpec, ...] = field(default_factory=tuple)
    extended_at: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    def gates(self) -> list[GateOrigin]:
        """Every gate of every member, in declaration order (bases first)."""
        return [GateOrigin(g, m, i) for m in self.members for i, g in enumerate(m.spec.gates)]


def breadcrumb(spec_id: str | None, gate_id: str | None, loc: Sequence[str | int]) -> str:
    """Render ``spec X → gate Y → field`` for an error message."""
    parts = [f"spec {spec_id}"] if spec_id else []
    if gate_id:
        parts.append(f"gate {gate_id}")
    parts += [str(p) for p in loc if not isinstance(p, int)]
    return " → ".join(parts)


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """Follow ``loc`` through nested model annotations; return the model that owns the leaf."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        fld = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if fld is None:
            return current
        current = _unwrap(fld.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Return the model inside Optional[...] / list[...] / dict[str, ...] if any."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (list, tuple, dict) or origin is typing.Union or origin is types.UnionType:
        for a in reversed(args):
            inner = _unwrap(a)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """Return the YAML keys a model accepts."""
    return [f.alias or name for name, f in model.model_fields.items()]


# Spellings people reach for that difflib ranks poorly (``lte`` is as close to ``lt`` as to ``le``).
SYNONYMS = {
    "lte": "le",
    "gte": "ge",
    "max": "le",
    "min": "ge",
    "maximum": "le",
    "minimum": "ge",
    "equals": "eq",
    "equal": "eq",
    "not_eq": "ne",
    "neq": "ne",
    "is_in": "in",
    "one_of": "in",
    "fail": "expect",
    "warning": "warn",
    "parameters": "params",
    "param": "params",
}


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return "did you mean 'x'?" for the closest choice, or an empty string."""
    options = list(choices)
    alias = SYNONYMS.get(word.lower())
    if alias in options:
        return f"did you mean {alias!r}?"
    import difflib  # only when something is misspelt (a clean lint never gets here)

    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else ""


def describe_error(err: Any) -> str:
    """One validation error as the sentence every spec and config problem uses."""
    kind = err["type"]
    value = err.get("input")
    if kind == "missing":
        return f"missing required key {err['loc'][-1]!r}"
    if kind == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing"):
        return f"expected a number, got {value!r}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {value!r}"
    if kind == "string_type":
        return f"expected a string, got {value!r}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {value!r}"
    if kind in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return f"{value!r} is not one of {expected}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} does not match {err.get('ctx', {}).get('pattern', '')}"
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    return str(err["msg"])


def validation_problems(
    exc: ValidationError,
    model: type[BaseModel],
    doc: YamlDocument,
    *,
    prefix: PathKey = (),
    spec_id: str | None = None,
    gate_id: str | None = None,
    crumb_prefix: Sequence[str | int] = (),
) -> list[Problem]:
    """Turn a pydantic ValidationError into located Problems.

    Args:
        exc: the validation error.
        model: the model that was validated (for key suggestions).
        doc: the YAML document holding the data.
        prefix: the path of the validated data inside ``doc``.
        spec_id: spec id for the breadcrumb, when known.
        gate_id: gate id for the breadcrumb, when the error is inside a gate.
        crumb_prefix: extra breadcrumb parts (e.g. ``("params",)``).
    """
    problems = []
    data = doc.data
    for err in exc.errors():
        loc: tuple[str | int, ...] = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        # pydantic appends the union branch / model name to some locs; drop non-key parts
        loc = _trim_loc(loc, data, prefix)
        if err["type"] == "missing" and loc:
            loc = loc[:-1]  # the message names the key; point at the mapping that lacks it
        full = (*prefix, *loc)
        if err["type"] == "extra_forbidden":
            line, col = doc.key_position(full)
        else:
            line, col = doc.position(full)
        gid = gate_id
        local = loc
        if gid is None and len(full) >= 2 and full[0] == "gates" and isinstance(full[1], int):
            gid = _gate_id(data, full[1])
            local = full[2:]
        message = describe_error(err)
        hint = ""
        if err["type"] == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            if owner is not None:
                hint = suggest(str(loc[-1]), allowed_keys(owner))
                if not hint:
                    hint = "allowed keys: " + ", ".join(sorted(allowed_keys(owner)))
        crumb = breadcrumb(spec_id, gid, (*crumb_prefix, *local))
        problems.append(Problem(doc.file, line, col, crumb, message, hint))
    return problems


def _trim_loc(loc: tuple[str | int, ...], data: Any, prefix: PathKey) -> tuple[str | int, ...]:
    node = data
    for p in prefix:
        node = _child(node, p)
    out: list[str | int] = []
    for part in loc:
        child = _child(node, part)
        if child is _MISSING and not (isinstance(node, dict) and isinstance(part, str)):
            continue  # a union-branch or model-name segment, not a key
        out.append(part)
        node = child if child is not _MISSING else None
    return tuple(out)


_MISSING = object()


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part, _MISSING)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def _gate_id(data: Any, index: int) -> str | None:
    try:
        gid = data["gates"][index]["id"]
    except (KeyError, IndexError, TypeError):
        return f"#{index + 1}"
    return gid if isinstance(gid, str) else f"#{index + 1}"


def load_spec(path: Path) -> LoadedSpec:
    """Load and validate one spec file (no ``extends`` resolution).

    Raises:
        SpecError: listing every problem in the file.
    """
    doc = load_yaml_file(path)
    if not isinstance(doc.data, dict):
        raise SpecError(
            [Problem(doc.file, 1, 1, "", "a spec must be a mapping with id, version, title, gates")]
        )
    spec_id = doc.data.get("id") if isinstance(doc.data.get("id"), str) else None
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as e:
        raise SpecError(validation_problems(e, Spec, doc, spec_id=spec_id)) from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedSpec(spec, doc, path, digest)


class SpecResolver:
    """Resolves ``extends`` names to files: relative paths first, then the search path."""

    def __init__(self, extra_dirs: list[Path] | None = None) -> None:
        self.dirs = search_path(extra_dirs)
        self._cache: dict[Path, LoadedSpec] = {}

    def load(self, path: Path) -> LoadedSpec:
        """Load a file once per resolver."""
        key = path.resolve()
        if key not in self._cache:
            self._cache[key] = load_spec(path)
        return self._cache[key]

    def find(self, name: str, base: LoadedSpec) -> Path | None:
        """Find the file an ``extends`` entry names, or None."""
        if name.endswith((".yaml", ".yml")) or "/" in name and (base.path.parent / name).exists():
            candidate = base.path.parent / name
            return candidate if candidate.is_file() else None
        return self.find_name(name)

    def find_name(self, name: str) -> Path | None:
        """The file a short name (``ship-model-2``, ``albor-370m-v1/dogfood``) names, or None."""
        for folder in self.dirs:
            matches = [
                p for p in spec_files(folder) if short_name(p, folder) == name or p.stem == name
            ]
            if matches:
                exact = [p for p in matches if short_name(p, folder) == name]
                return (exact or matches)[0]
        return None

    def locate(self, name: str | Path, what: str = "spec") -> Path:
        """A spec file by path, else by short name on the search path (CLI and Python API).

        Raises:
            UsageError: naming ``what`` (e.g. ``--spec``), with the closest short name.
        """
        path = Path(name)
        if path.is_file():
            return path
        found = None if path.suffix in (".yaml", ".yml") else self.find_name(str(name))
        if found is not None:
            return found
        known = self.known_names()
        hint = suggest(str(name), known + [n.rsplit("/", 1)[-1] for n in known])
        raise UsageError(
            f"{what} {name}: no such file or bundled spec short name"
            + (f" ({hint})" if hint else " (`gates list --what specs` shows them)")
        )

    def known_names(self) -> list[str]:
        """Every short name on the search path (for suggestions)."""
        names: set[str] = set()
        for folder in self.dirs:
            names.update(short_name(p, folder) for p in spec_files(folder))
        return sorted(names)

    def resolve(self, path: Path) -> SpecSet:
        """Load ``path`` and everything it extends (depth first, bases before children).

        Raises:
            SpecError: on a missing or cyclic ``extends`` or any member's problems.
        """
        root = self.load(path)
        order: list[LoadedSpec] = []
        problems: list[Problem] = []
        extended_at: dict[str, tuple[str, int]] = {}
        self._visit(root, [], order, problems, set(), extended_at)
        if problems:
            raise SpecError(problems)
        return SpecSet(root, tuple(order), extended_at)

    def _visit(
        self,
        spec: LoadedSpec,
        stack: list[Path],
        order: list[LoadedSpec],
        problems: list[Problem],
        done: set[Path],
        extended_at: dict[str, tuple[str, int]],
    ) -> None:
        key = spec.path.resolve()
        if key in done:
            return
        stack = [*stack, key]
        for i, name in enumerate(spec.spec.extends):
            line, col = spec.position(("extends", i))
            target = self.find(name, spec)
            crumb = breadcrumb(spec.spec.id, None, ("extends",))
            if target is None:
                hint = suggest(name, self.known_names()) or "see `gates list --specs`"
                problems.append(
                    Problem(spec.doc.file, line, col, crumb, f"no spec named {name!r}", hint)
                )
                continue
            if target.resolve() in stack:
                chain = " → ".join(p.name for p in [*stack, target.resolve()])
                problems.append(Problem(spec.doc.file, line, col, crumb, f"extends cycle: {chain}"))
                continue
            try:
                base = self.load(target)
            except SpecError as e:
                problems.extend(e.problems)
                continue
            extended_at.setdefault(base.doc.file, (spec.doc.file, line))
            self._visit(base, stack, order, problems, done, extended_at)
        done.add(key)
        order.append(spec)
