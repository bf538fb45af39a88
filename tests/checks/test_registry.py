"""Meta-tests over the whole check registry (every kind, present and future)."""

from __future__ import annotations

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
