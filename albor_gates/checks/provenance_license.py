"""provenance.licenses — licence fields are present and valid SPDX expressions.

Checks the licence fields a release carries: the safetensors header's ``license`` and
``data_license`` (``gates stamp`` / ``apr stamp`` fields; canonical SPDX case required, as
FALSIFY-STAMP-SPDX-001 does) and the model card's ``license`` (Hugging Face writes SPDX ids in
lower case — ``apache-2.0`` — so case is not enforced there; ``other`` is refused). ``require``
names the fields that must be present. The SPDX list is the one shipped by the
``license-expression`` package. The value is the number of problems (default ``eq: 0``).

PASS: header ``license: Apache-2.0``, ``data_license: Apache-2.0``, card ``license: apache-2.0``
→ "0 licence problems (3 fields checked)".
FAIL: ``data_license: "Apache-2.0 / permissive-aggregate"`` (the readiness script's stamp
recipe) → "1 licence problem: __metadata__.data_license ... is not an SPDX expression".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from albor_gates.artifacts.provenance import spdx_problem
from albor_gates.checks import evidence
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import checkpoint

KIND = "provenance.licenses"
VERSION = 1
TITLE = "Licence fields (header license / data_license, card license) are valid SPDX"
ROLES: tuple[str, ...] = ()
OPTIONAL_ROLES: tuple[str, ...] = ("model", "card")
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}

Field = Literal["license", "data_license", "card_license"]


class Params(CheckParams):
    """Options of provenance.licenses."""

    require: list[Field] = ["license", "data_license", "card_license"]


def measure(ctx: Context, params: Params) -> Measurement:
    """Validate each licence field that exists; count missing required ones."""
    found: dict[str, tuple[str, bool]] = {}
    if ctx.has("model"):
        md = checkpoint(ctx).metadata
        for key in ("license", "data_license"):
            if key in md:
                found[key] = (md[key], True)
    if ctx.has("card"):
        card = evidence.card(ctx)
        lic = card.license
        if lic is not None:
            found["card_license"] = (lic, False)
    problems: list[str] = []
    for field in params.require:
        if field not in found:
            where = "model card front matter" if field == "card_license" else "__metadata__"
            problems.append(f"{field} is missing ({where})")
    for name, (value, strict) in sorted(found.items()):
        if value.strip().lower() == "other":
            problems.append(f"{name} is 'other': name the SPDX licence")
            continue
        why = spdx_problem(value, case_sensitive=strict)
        if why:
            problems.append(f"{name} {value!r}: {why}")
    return Measurement(
        len(problems),
        subject="licence problems",
        summary=f"{len(problems)} licence problems ({len(found)} fields checked)"
        + (": " + "; ".join(problems) if problems else ""),
        details={"fields": {k: v for k, (v, _s) in found.items()}, "problems": problems},
        fix="stamp SPDX ids (gates stamp --license Apache-2.0 --data-license ...) and set the "
        "card's license",
    )
