"""arch.family_match — INV-INIT-ARCH-MATCH-001: metadata and tensor names name one family.

The architecture the metadata names must be the one the tensors prove.

The §86 incident (GATES.md §2.1): a checkpoint stamped ``LlamaForCausalLM`` whose 291 tensors
used Qwen2 names silently trained from random weights. This check infers the family from the
tensor *names* (ordered rules of §2.3.3: ``q_norm`` → qwen3, ``q_proj.bias`` / ``qkv_proj`` →
qwen2, else llama, ...) and compares it with every claim the release makes: safetensors
``__metadata__`` ``architecture`` / ``hf_architecture`` / ``hf_model_type`` and config.json
``architectures[0]`` / ``model_type``, each normalised as in §2.3.2.

Decision (§2.3.4): no mappable claim → nothing to compare (true, said so); tensors of unknown
family (e.g. GGUF ``blk.*``) → the metadata is trusted (true, said so); a concrete tensor family
that differs from any claim → false, naming both families, where each claim comes from, and the
``gates stamp`` command that fixes the header. Default band ``is_true: true``.

PASS: Qwen2 tensors, config.json ``Qwen2ForCausalLM`` → "metadata and tensors agree: qwen2".
FAIL: Qwen2 tensors, ``__metadata__.architecture = LlamaForCausalLM`` → "metadata says llama
(__metadata__.architecture = 'LlamaForCausalLM') but the tensor names are qwen2 (§86 pattern)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks.base import Context, Measurement, NoParams
from albor_gates.checks.evidence import checkpoint, config_dict

KIND = "arch.family_match"
VERSION = 1
TITLE = "INV-INIT-ARCH-MATCH-001: metadata architecture claims agree with the tensor names"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("config",)
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}
Params = NoParams


def measure(ctx: Context, params: NoParams) -> Measurement:
    """Compare the claims with the tensor evidence."""
    # artifacts.architecture (its dataclasses and tables) is imported to measure, not to lint
    from albor_gates.artifacts.architecture import (
        FamilyVerdictFacts,
        collect_claims,
        family_from_tensor_names,
        stamp_command,
    )

    view = checkpoint(ctx)
    cfg = config_dict(ctx, view)
    facts = FamilyVerdictFacts(
        family_from_tensor_names(view.shapes),
        collect_claims(view.metadata, cfg if ctx.has("config") else None),
    )
    claims = [{"source": c.source, "raw": c.raw, "family": c.family} for c in facts.claims]
    details = {"tensor_family": facts.tensor_family, "claims": claims}
    if not facts.mappable:
        return Measurement(
            True,
            subject="families",
            summary="no metadata names a known architecture: nothing to compare (§2.3.4 skip)",
            details={**details, "decision": "skip: no mappable claim"},
        )
    if facts.tensor_family == "unknown":
        fam = facts.mappable[0].family
        return Measurement(
            True,
            subject="families",
            summary=f"tensor names name no family; trusting the metadata ({fam}) per §2.3.4",
            details={**details, "decision": "trust metadata"},
        )
    bad = facts.conflicting
    if not bad:
        return Measurement(
            True,
            subject="families",
            summary=f"metadata and tensors agree: {facts.tensor_family} "
            f"({len(facts.mappable)} claim{'s' if len(facts.mappable) != 1 else ''})",
            details={**details, "decision": "match"},
        )
    first = bad[0]
    said = "; ".join(f"{c.source} = {c.raw!r} → {c.family}" for c in bad)
    header_claims = [c for c in bad if c.source.startswith("__metadata__")]
    fixes = []
    if header_claims:
        fixes.append(f"run `{stamp_command(str(view.path), facts.tensor_family)}`")
    if any(c.source.startswith("config.json") for c in bad):
        fixes.append(f"set config.json architectures/model_type to the {facts.tensor_family} class")
    return Measurement(
        False,
        subject="families",
        summary=f"metadata says {first.family} ({said}) but the tensor names are "
        f"{facts.tensor_family} (the §86 pattern: a loader would build the wrong model and "
        "fall back to random weights)",
        details={**details, "decision": "mismatch"},
        fix="; then ".join(fixes),
    )
