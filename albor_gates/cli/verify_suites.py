"""Which bundled suites ``gates verify`` runs and what it binds: ``verify-suites.yaml``, typed.

The policy is data (``verify-suites.yaml`` beside this module, shipped in the wheel): a
reviewer changes which flag enables which suite, or which file beside the model is bound,
without touching code. It is validated like a spec (unknown keys, unknown input names and
non-path bindings are errors with file:line:col), and imported only by ``gates verify`` so
``gates --help`` never pays for pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from albor_gates.errors import SpecError
from albor_gates.settings import NOT_MEASURED, RunSettings

POLICY_FILE = Path(__file__).with_name("verify-suites.yaml")
# verify's own inputs beside the run settings: two paths and three switches
INPUTS = frozenset(
    (
        "target_config",
        "val_tokens",
        "bench",
        "parity",
        "humaneval",
        *(f.name for f in fields(RunSettings) if f.name not in NOT_MEASURED),
    )
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Suite(_Model):
    """One bundled suite and what enables it."""

    spec: str = Field(min_length=1, description="A bundled spec's short name (invariants/).")
    when: tuple[str, ...] = Field((), description="Runs when any of these inputs is given.")
    bind: dict[str, Literal["target_config", "val_tokens"]] = Field(
        default_factory=dict, description="artifact → the path input bound to it"
    )

    @field_validator("when")
    @classmethod
    def _known_inputs(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(names) - INPUTS)
        if unknown:
            raise ValueError(
                f"{unknown[0]!r} is not a verify input (use {', '.join(sorted(INPUTS))})"
            )
        return names


class VerifyPolicy(_Model):
    """The whole policy: the files bound beside the model and the suites in order."""

    beside: dict[str, str] = Field(description="artifact → file name beside MODEL ('.': folder)")
    suites: tuple[Suite, ...]

    @field_validator("suites")
    @classmethod
    def _not_empty(cls, suites: tuple[Suite, ...]) -> tuple[Suite, ...]:
        # a validator, not min_length: pydantic would report an empty tuple beside a bad suite
        if not suites:
            raise ValueError("list at least one suite (verify would evaluate nothing)")
        return suites

    def choose(
        self, model: Path, inputs: Mapping[str, Any], extras: Sequence[str] = ()
    ) -> tuple[list[str], dict[str, str]]:
        """The spec names to evaluate, in order, and the artifact bindings.

        Args:
            model: the MODEL path given to ``gates verify``.
            inputs: verify's inputs by name (run settings, ``val_tokens``, ``bench``, ...);
                one is given when it is truthy.
            extras: ``--spec`` names, evaluated after the suites that always run.
        """
        folder = model if model.is_dir() else model.parent
        binds = {"model": str(model)} | {a: str(folder / f) for a, f in self.beside.items()}
        enabled = [s for s in self.suites if s.when and any(inputs.get(n) for n in s.when)]
        names = [s.spec for s in self.suites if not s.when] + list(extras)
        for suite in enabled:
            names.append(suite.spec)
            binds |= {art: str(inputs[name]) for art, name in suite.bind.items()}
        return names, binds


def load_policy(path: Path = POLICY_FILE) -> VerifyPolicy:
    """Read and validate the policy file.

    Raises:
        SpecError: every problem, located (file:line:col).
    """
    from albor_gates.spec.loader import validation_problems
    from albor_gates.spec.yamlsafe import load_yaml_file

    doc = load_yaml_file(path)
    try:
        return VerifyPolicy.model_validate(doc.data)
    except ValidationError as e:
        raise SpecError(validation_problems(e, VerifyPolicy, doc)) from None
