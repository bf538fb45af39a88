"""Data-driven check-kind cases (sqlfluff std_rule_cases style): tests/checks/cases/*.yaml.

One file per registered kind, named after the kind (``cases/metric.value.yaml``), plus
``seed_rules.yaml``, the seed's decision-rule table. Each case is one gate evaluated through the
public engine (:func:`albor_gates.api.evaluate`) over artifacts the case declares::

    cases:
      - name: nan-fails                    # test id: <file stem>:<name>
        files:                             # inline files, written under the case's tmp folder:
          evidence.json: {val_loss: .nan}  #   a string as is; anything else serialized by the
                                           #   suffix (.json .jsonl .yaml .safetensors)
        copy: {rel: tiny_release}          # a session fixture's folder, copied to tmp/rel
        patch: {rel/config.json: {rope_theta: 10000}}  # keys merged into a JSON file
        artifacts: {e: {kind: json, path: evidence.json}}  # the spec's artifacts
        gate: {artifact: e, params: {field: val_loss}, expect: {le: 4.7}}  # check = the kind
        options: {device: cpu}             # run options, through run_options()
        requires: [cuda]                   # cuda, a module, no-cuda, no-MODULE; else skipped
        status: FAIL
        message: "val_loss nan nats: non-finite measurements always fail"   # exact
        # also: summary (exact), message_match (a regex the whole message matches), value

``defaults:`` at the top of a file apply to every case (see :func:`_with_defaults`). In any string,
``${tmp}`` is the case's folder and ``${NAME}`` the path a session fixture NAME returns
(``${tiny_release}``, ``${cli_tools}``); the measured message gets the same placeholders back
before it is compared, so expected messages never hold a machine's temporary paths.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import re
import shutil
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from _cli_fakes import write_fakes

from albor_gates.api import evaluate
from albor_gates.checks import REGISTRY

CASES = Path(__file__).parent / "cases"
SEED = "seed_rules"
STATUSES = {"PASS", "WARN", "FAIL", "ERROR", "SKIPPED"}
_INPUTS = ("files", "patch", "artifacts", "gate", "options")
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")

# Kinds whose measurement can never FAIL by design, each with the reason. None does today:
# every kind measures a value that a band (or the artifact itself) can put outside PASS.
NEVER_FAIL: dict[str, str] = {}


def run_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments that carry a case's run options into ``evaluate``.

    The one place to adapt when the engine's run options change shape. ``allow_exec`` is the
    operator's consent for the cli.* kinds (without it they are SKIPPED, a case of their own).
    The session fixtures (``${tiny_release}``, ``${cli_tools}``) live outside a case's own
    folder, so every case reads outside the root; confinement has its own tests
    (tests/engine/test_confine.py).
    """
    return {"allow_outside_root": True, **options}


def _with_defaults(defaults: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """``case`` over ``defaults``: mappings merge one level deep (a case's file, artifact or gate
    key replaces the default's), and ``gate.params`` merges by parameter."""
    out = copy.deepcopy({**defaults, **case})
    for key, value in defaults.items():
        if isinstance(value, dict) and isinstance(case.get(key), dict):
            out[key] = copy.deepcopy({**value, **case[key]})
    params = [defaults.get("gate", {}).get("params"), case.get("gate", {}).get("params")]
    if all(isinstance(p, dict) for p in params):
        out["gate"]["params"] = {**params[0], **params[1]}
    return out


def _qa(n_true: int, n_false: int, n_skip: int) -> dict[str, Any]:
    gates = [{"name": f"g{i}", "passed": True, "skipped": False} for i in range(n_true)]
    gates += [{"name": f"g{n_true + i}", "passed": False, "skipped": False} for i in range(n_false)]
    gates += [
        {"name": f"g{n_true + n_false + i}", "passed": True, "skipped": True} for i in range(n_skip)
    ]
    return {"gates": gates}


def _from_seed_rules(case: dict[str, Any]) -> dict[str, Any]:
    """seed_rules.yaml's short form: ``evidence`` is one JSON document (``gates: [t, f, s]``
    spells a qa result with t passed, f failed and s skipped gates)."""
    ev = case.pop("evidence")
    if isinstance(ev, dict) and list(ev) == ["gates"] and len(ev["gates"]) == 3:
        ev = _qa(*ev["gates"])
    return {
        **case,
        "files": {"evidence.json": ev if isinstance(ev, str) else json.dumps(ev)},
        "artifacts": {"e": {"kind": "json", "path": "evidence.json"}},
        "gate": {"artifact": "e", **case["gate"]},
    }


def load_file(path: Path) -> list[dict[str, Any]]:
    """The cases of one file, defaults merged in, each with its ``check``."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for raw in doc["cases"]:
        case = _with_defaults(doc.get("defaults", {}), raw)
        if "evidence" in case:
            case = _from_seed_rules(case)
        case.setdefault("gate", {}).setdefault("check", path.stem)
        out.append(case)
    return out


def load_cases() -> list[Any]:
    return [
        pytest.param(case, id=f"{f.stem}:{case['name']}")
        for f in sorted(CASES.glob("*.yaml"))
        for case in load_file(f)
    ]


def _available(what: str) -> bool:
    if what == "cuda":
        return bool(pytest.importorskip("torch").cuda.is_available())
    return importlib.util.find_spec(what) is not None


def _requirement_missing(req: str) -> str | None:
    """Why this machine cannot run a case that requires ``req`` (``cuda``, a module name, or
    ``no-`` before either: the case is about its absence), or None."""
    what = req.removeprefix("no-")
    if _available(what) == (what == req):
        return None
    return f"needs {'no ' if what != req else ''}{what}"


def _substitute(value: Any, paths: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: paths[m.group(1)], value)
    if isinstance(value, list):
        return [_substitute(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, paths) for k, v in value.items()}
    return value


_DTYPES = {"F32": ("f", 4), "F16": ("e", 2), "BF16": ("f", 2), "F64": ("d", 8), "I64": ("q", 8)}


def _safetensors(header: dict[str, Any]) -> bytes:
    """A safetensors file from a header whose tensors may omit ``data_offsets`` (then laid out
    in order) and may give ``values`` (cycled over the tensor; zeros otherwise)."""
    head: dict[str, Any] = {}
    data = bytearray()
    for name, info in header.items():
        if name == "__metadata__":
            head[name] = info
            continue
        code, size = _DTYPES[info["dtype"]]
        n = math.prod(info["shape"])
        values = info.get("values", [0])
        raw = b"".join(struct.pack("<" + code, values[i % len(values)]) for i in range(n))
        if info["dtype"] == "BF16":  # the high half of each float32
            raw = b"".join(raw[i + 2 : i + 4] for i in range(0, len(raw), 4))
        head[name] = {"dtype": info["dtype"], "shape": info["shape"]}
        head[name]["data_offsets"] = info.get("data_offsets", [len(data), len(data) + n * size])
        data += raw
    blob = json.dumps(head).encode()
    return struct.pack("<Q", len(blob)) + blob + bytes(data)


def _write(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif path.suffix == ".safetensors":
        path.write_bytes(_safetensors(content))
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in content), encoding="utf-8")
    elif path.suffix in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")


def _patch_json(path: Path, changes: dict[str, Any]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**doc, **changes}), encoding="utf-8")


def _unpath(text: str, paths: Mapping[str, str]) -> str:
    """``text`` with every fixture and tmp path put back as its ``${NAME}`` placeholder."""
    for name, path in sorted(paths.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(path, "${" + name + "}")
    return text


@pytest.fixture(scope="session")
def cli_tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fake tool of tests/checks/_cli_fakes.py, as ``<key>/tool.py``."""
    return write_fakes(tmp_path_factory.mktemp("cli-tools"))


@pytest.fixture(scope="session")
def example_release() -> Path:
    """The bundled trained example release (examples/albor-tiny-v1); copy it before editing."""
    return Path(__file__).resolve().parents[2] / "examples" / "albor-tiny-v1"


@pytest.mark.parametrize("case", load_cases())
def test_case(case: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    for req in case.get("requires", []):
        if reason := _requirement_missing(req):
            pytest.skip(reason)
    names = set(_PLACEHOLDER.findall(json.dumps(case))) | set(case.get("copy", {}).values())
    paths = {"tmp": str(tmp_path)}
    paths.update({n: str(request.getfixturevalue(n)) for n in sorted(names - {"tmp"})})
    # The expectations keep their placeholders: the measured text gets them back instead.
    case.update({k: _substitute(case[k], paths) for k in _INPUTS if k in case})
    for dst, fixture in case.get("copy", {}).items():
        shutil.copytree(paths[fixture], tmp_path / dst)
    for name, content in case.get("files", {}).items():
        _write(tmp_path / name, content)
    for name, changes in case.get("patch", {}).items():
        _patch_json(tmp_path / name, changes)
    gate = {"id": "G", "title": "Case.", **case["gate"]}
    spec = {"id": "case", "version": "1", "title": "Case", "artifacts": case.get("artifacts", {})}
    spec["gates"] = [gate]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")

    (result,) = evaluate(tmp_path / "spec.yaml", **run_options(case.get("options", {}))).results

    msg, summary = (_unpath(m, paths) for m in (result.message, result.summary))
    if result.status.value == "ERROR" and result.message.startswith(str(tmp_path)):
        msg = _unpath(result.message.split(": ", 1)[-1], paths)  # drop the leading path
    assert result.status.value == case["status"], msg
    if "message" in case:
        assert msg == case["message"]
    if "summary" in case:
        assert summary == case["summary"]
    if "message_match" in case:
        assert re.fullmatch(case["message_match"], msg, flags=re.DOTALL), msg
    if "value" in case:
        assert result.value == case["value"]


def test_every_registered_kind_has_a_case_file_with_a_pass_and_a_fail() -> None:
    lacking = []
    for kind in REGISTRY:
        path = CASES / f"{kind}.yaml"
        have = {c["status"] for c in load_file(path)} if path.is_file() else set()
        need = {"PASS"} if kind in NEVER_FAIL else {"PASS", "FAIL"}
        if need - have:
            lacking.append(f"{kind} (no {'/'.join(sorted(need - have))} case)")
    assert not lacking, f"check kinds without cases/<kind>.yaml cases: {', '.join(lacking)}"


def test_every_case_file_is_a_kind_and_every_case_evaluates_it() -> None:
    assert not set(NEVER_FAIL) - set(REGISTRY), "NEVER_FAIL names an unregistered kind"
    for path in sorted(CASES.glob("*.yaml")):
        assert path.stem == SEED or path.stem in REGISTRY, f"{path.name}: no such check kind"
        for case in load_file(path):
            assert case["status"] in STATUSES, f"{path.name}:{case['name']}: bad status"
            if path.stem != SEED:
                assert case["gate"]["check"] == path.stem, f"{path.name}:{case['name']}"


def test_next_float_below_100_is_what_the_case_file_says() -> None:
    assert math.nextafter(100.0, 0.0) == 99.99999999999999
