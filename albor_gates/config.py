"""The project configuration: ``gates.toml`` or ``[tool.gates]`` in ``pyproject.toml`` (issue 12).

Read from the working directory only (where CI and pre-commit run ``gates``); ``gates.toml``
wins over ``pyproject.toml``. Every key is the long flag it stands for, and a flag given on the
command line wins over the file, key by key::

    [tool.gates]
    specs = ["specs"]                              # spec files, folders or bundled short names
    exclude = ["specs/*/operator.yaml"]            # globs over paths found in those folders
    spec-path = ["shared-specs"]                   # folders searched for `extends` short names
    format = ["json", "sarif"]                     # gates check -f
    output-dir = "gates-out"                       # gates check -o
    strict = true                                  # gates check --strict
    select = ["tag:pr"]                            # gates check / plan --select
    ignore = ["TRAIN-*"]                           # gates check / plan --ignore
    cache-dir = ".gates-cache"                     # check / verify / dogfood --cache-dir
    cache = false                                  # --no-cache (GATES_CACHE_DIR still wins)

Paths are relative to the file's folder, i.e. the working directory. A broken file is a
:class:`~albor_gates.errors.SpecError` in the spec error style (``file:line:col: where:
message (did you mean …?)``), which ``gates lint`` reports with the specs' problems.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from albor_gates.errors import Problem, SpecError
from albor_gates.render import Format
from albor_gates.spec.loader import describe_error, suggest

PYPROJECT_TABLE = "[tool.gates]"


class GatesConfig(BaseModel):
    """The validated ``[tool.gates]`` table (keys spelled as the long flags)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    specs: list[StrictStr] = Field(default_factory=list)
    exclude: list[StrictStr] = Field(default_factory=list)
    spec_path: list[StrictStr] = Field(default_factory=list, alias="spec-path")
    format: list[Format] = Field(default_factory=list)
    output_dir: StrictStr | None = Field(default=None, alias="output-dir")
    strict: StrictBool | None = None
    select: list[StrictStr] = Field(default_factory=list)
    ignore: list[StrictStr] = Field(default_factory=list)
    cache_dir: StrictStr | None = Field(default=None, alias="cache-dir")
    cache: StrictBool | None = None

    @property
    def spec_paths(self) -> list[Path]:
        """``spec-path`` as paths."""
        return [Path(p) for p in self.spec_path]


def config_file(folder: Path | None = None) -> Path | None:
    """``gates.toml``, else a ``pyproject.toml`` with a ``[tool.gates]`` table, in ``folder``."""
    here = folder or Path.cwd()
    gates = here / "gates.toml"
    if gates.is_file():
        return gates
    pyproject = here / "pyproject.toml"
    if pyproject.is_file() and _table_line(pyproject.read_text(encoding="utf-8")) is not None:
        return pyproject
    return None


def load_config(folder: Path | None = None) -> tuple[GatesConfig, Path | None]:
    """The configuration of ``folder`` (default: the working directory) and its file.

    Raises:
        SpecError: every problem of the file, located (bad TOML, unknown key, bad value).
    """
    path = config_file(folder)
    if path is None:
        return GatesConfig(), None
    # tomllib only when there is a file to read (most `gates lint` runs have none)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    text = path.read_text(encoding="utf-8")
    name = str(path.relative_to(folder or Path.cwd()))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        at = re.search(r"line (\d+), column (\d+)", str(e))
        line, col = (int(at.group(1)), int(at.group(2))) if at else (0, 0)
        reason = str(e).split(" (at ")[0]
        raise SpecError([Problem(name, line, col, "", f"not valid TOML: {reason}")]) from e
    pyproject = path.name == "pyproject.toml"
    table = data.get("tool", {}).get("gates", {}) if pyproject else data
    where = PYPROJECT_TABLE if pyproject else path.name
    if not isinstance(table, dict):
        raise SpecError([Problem(name, 0, 0, where, "expected a table of keys")])
    try:
        return GatesConfig.model_validate(table), path
    except ValidationError as e:
        raise SpecError(_problems(e, name, text, where, pyproject)) from e


def _problems(
    exc: ValidationError, name: str, text: str, where: str, pyproject: bool
) -> list[Problem]:
    keys = [f.alias or k for k, f in GatesConfig.model_fields.items()]
    start = (_table_line(text) or 0) if pyproject else 0
    problems = []
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else ""
        hint = suggest(key, keys) if err["type"] == "extra_forbidden" else ""
        if err["type"] == "extra_forbidden" and not hint:
            hint = f"known keys: {', '.join(sorted(keys))}"
        line = _key_line(text, key, start)
        crumb = f"{where} → {key}" if err["type"] != "extra_forbidden" else where
        problems.append(Problem(name, line, 1 if line else 0, crumb, describe_error(err), hint))
    return problems


def _table_line(text: str) -> int | None:
    """The 1-based line of ``[tool.gates]`` in a pyproject text, or None."""
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(PYPROJECT_TABLE):
            return i
    return None


def _key_line(text: str, key: str, start: int) -> int:
    """The line where ``key = …`` is set at or after line ``start`` within its table, or 0."""
    pattern = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for i, line in enumerate(text.splitlines()[start:], start + 1):
        if line.lstrip().startswith("["):
            break  # the next table: the key is not in ours
        if pattern.match(line):
            return i
    return 0
