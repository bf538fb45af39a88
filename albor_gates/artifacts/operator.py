"""Typed evidence that only a person or an outside service can supply.

The dogfood template (GATES.md §4) asks for facts no artifact holds: who ran the QA, on which
host, the Hugging Face commit that was published, what the released CLI printed, what an
independent consumer saw, what the /dogfood agent skill concluded. They arrive as YAML or JSON
files with these documented schemas (``gates schema --evidence NAME`` prints each as JSON
Schema); unknown keys are errors, and nothing is ever filled in for a missing field — the
``evidence.schema`` check names it and the gate is NO-GO.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SAMPLE_DOC = (
    "true for bundled sample evidence: documents built from it carry a banner, and "
    "`gates dogfood --release` refuses it"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Hex40 = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$", description="a full git commit sha")]
GitShort = Annotated[str, Field(pattern=r"^[0-9a-f]{7,40}$", description="7+ hex digits")]


class Host(_Model):
    """The machine the operator used."""

    name: str = Field(min_length=1, description="e.g. lambda-vector")
    gpu: str | None = Field(None, description="e.g. RTX 4090 (sm_89)")
    os: str | None = None


class Release(_Model):
    """What was published."""

    hf_repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name")
    hf_url: str = Field(pattern=r"^https://huggingface\.co/")
    hf_commit: Hex40
    version: str = Field(min_length=1)


class Tool(_Model):
    """The released CLI that produced the evidence (apr-cli for albor)."""

    name: str = Field(min_length=1)
    version: str = Field(min_length=1, description="as printed by --version")
    git_commit: GitShort


class Install(_Model):
    """§1 pull + install verification (exit codes captured directly, never through a pipe)."""

    version_exit_code: int
    version_output: str = Field(min_length=1)
    pull_exit_code: int
    pull_bytes: int | None = Field(None, ge=0)


class OperatorEvidence(_Model):
    """``operator.yaml``: §0 provenance and identity plus §1 install facts."""

    schema_: Literal["albor-gates/operator-evidence"] = Field(alias="schema")
    version: Literal[1]
    sample: bool = Field(False, description=SAMPLE_DOC)
    date: dt.datetime = Field(description="when the QA ran, with a timezone (e.g. CEST)")
    operator: str = Field(min_length=1, description="GitHub user")
    host: Host
    release: Release
    tool: Tool
    install: Install
    notes: str | None = None


class ConsumerReport(_Model):
    """``consumer.yaml``: §7, the independent consumer test (the §89.7 sequencing gate)."""

    schema_: Literal["albor-gates/consumer-report"] = Field(alias="schema")
    version: Literal[1]
    sample: bool = Field(False, description=SAMPLE_DOC)
    consumer: str = Field(min_length=1, description="GitHub / HF user, not the operator")
    host: str = Field(min_length=1)
    date: dt.datetime
    downloaded_from_hf: bool
    different_machine: bool
    command: str = Field(min_length=1, description="what they ran, e.g. apr run ...")
    result: str = Field(min_length=1, description="their report, quoted")
    success: bool
    non_gibberish: bool


Outcome = Literal["PASS", "WARN", "FAIL", "SKIP"]


class DogfoodSummary(_Model):
    """``dogfood-summary.yaml``: §6, the summary block of the /dogfood agent skill run."""

    schema_: Literal["albor-gates/dogfood-summary"] = Field(alias="schema")
    version: Literal[1]
    sample: bool = Field(False, description=SAMPLE_DOC)
    operator: str | None = Field(
        None, min_length=1, description="GitHub user who ran the skill: operator.yaml's operator"
    )
    verdict: Literal["GO", "WARN", "FAIL", "NO-GO"]
    protocols: dict[
        Literal["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12"], Outcome
    ]
    contracts: dict[
        Literal["silent-fallback", "metamorphic", "coverage", "chaos", "differential"], Outcome
    ]
    summary: str = Field(min_length=1, description="the pasted summary block")


SCHEMAS: dict[str, type[_Model]] = {
    "consumer": ConsumerReport,
    "dogfood-summary": DogfoodSummary,
    "operator": OperatorEvidence,
}
