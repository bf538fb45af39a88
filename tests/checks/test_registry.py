"""Meta-tests over the whole check registry (every kind, present and future)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from albor_gates import checks
from albor_gates.extras import EXTRAS
from albor_gates.spec.models import Band

KINDS = list(checks.REGISTRY.values())


def test_every_module_is_registered() -> None:
    folder = Path(checks.__file__).parent
    # base (the protocol) and evidence (the typed accessors) are the two public non-kinds.
    modules = {
        p.stem
        for p in folder.glob("*.py")
        if not p.stem.startswith("_") and p.stem not in ("base", "evidence")
    }
    registered = {k.__name__.rsplit(".", 1)[-1] for k in KINDS}  # type: ignore[attr-defined]
    assert modules == registered


def test_registry_is_sorted_and_unique() -> None:
    assert list(checks.REGISTRY) == sorted(checks.REGISTRY)


def test_lazy_table_agrees_with_the_modules() -> None:
    """The KIND → module table (imported lazily) is what importing every module declares."""
    folder = Path(checks.__file__).parent
    declared = {}
    for p in sorted(folder.glob("*.py")):
        if p.stem.startswith("_") or p.stem in ("base", "evidence"):
            continue
        mod = importlib.import_module(f"albor_gates.checks.{p.stem}")
        assert mod.KIND not in declared, f"duplicate KIND {mod.KIND!r}"
        declared[mod.KIND] = p.stem
    assert declared == checks.KINDS  # every kind listed, each naming its own module
    assert list(checks.KINDS) == sorted(checks.KINDS)
    assert checks.known_kinds() == sorted(declared)
    for kind, stem in declared.items():
        assert checks.get(kind) is sys.modules[f"albor_gates.checks.{stem}"]
    assert checks.get("no.such_kind") is None


def test_registry_imports_a_kind_only_when_asked() -> None:
    code = (
        "import sys\n"
        "from albor_gates import checks\n"
        "kinds = {f'albor_gates.checks.{m}' for m in checks.KINDS.values()}\n"
        "assert not kinds & set(sys.modules), sorted(kinds & set(sys.modules))\n"
        "checks.known_kinds()\n"
        "assert not kinds & set(sys.modules)\n"
        "checks.get('file.exists')\n"
        "print(sorted(kinds & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['albor_gates.checks.file_exists']"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.KIND)
def test_kind_declares_itself(kind) -> None:
    assert kind.KIND.count(".") == 1 and kind.KIND.lower() == kind.KIND
    assert isinstance(kind.VERSION, int) and kind.VERSION >= 1
    assert kind.TITLE and not kind.TITLE.endswith(".")
    doc = kind.__doc__ or ""
    assert doc.startswith(kind.KIND + " — "), "docstring starts with 'KIND — summary'"
    assert "PASS" in doc and "FAIL" in doc, "docstring shows a PASS and a FAIL example"
    assert isinstance(kind.ROLES, tuple) and isinstance(kind.OPTIONAL_ROLES, tuple)
    assert not set(kind.ROLES) & set(kind.OPTIONAL_ROLES)
    assert {"torch", "gpu", "network", "subprocess"} >= kind.NEEDS
    assert isinstance(kind.EXTRAS, tuple) and set(kind.EXTRAS) <= set(EXTRAS)
    # the plan's NEEDS column and the extras agree: torch comes with the model extra
    assert ("torch" in kind.NEEDS) == ("model" in kind.EXTRAS)
    assert kind.Params.model_config.get("extra") == "forbid"
    if kind.DEFAULT_EXPECT is not None:
        Band.model_validate(dict(kind.DEFAULT_EXPECT))
