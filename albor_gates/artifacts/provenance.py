"""Provenance facts: SPDX licence expressions and the `apr inspect --quality` score.

The quality score reproduces aprender's ``compute_quality_score`` (GATES.md §7.1) for
safetensors releases, where the APR header fields map as documented below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SHIP_READY = 90


@lru_cache(maxsize=1)
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def spdx_problem(expression: str, *, case_sensitive: bool = True) -> str | None:
    """Return why ``expression`` is not a valid SPDX licence expression, or None when it is.

    Uses the SPDX licence list shipped by the ``license-expression`` package (nexB), so
    ``Apache-2.0``, ``MIT OR Apache-2.0`` and ``PSF-2.0`` pass, while ``apache 2`` or the
    readiness script's ``"Apache-2.0 / permissive-aggregate"`` do not (FALSIFY-STAMP-SPDX-001).
    With ``case_sensitive=False`` the Hugging Face card convention (``apache-2.0``) passes.
    """
    text = expression.strip()
    if not text:
        return "empty licence"
    try:
        info = _licensing().validate(text, strict=True)
    except Exception as e:  # noqa: BLE001 - the library raises odd types on malformed text
        return f"not an SPDX expression ({type(e).__name__})"
    if info.errors:
        return "; ".join(str(x) for x in info.errors)
    norm = info.normalized_expression
    if case_sensitive and norm is not None and norm != text:
        return f"not in canonical SPDX case: use {norm!r}"
    return None


@dataclass(frozen=True)
class QualityInputs:
    """What the quality score looks at, gathered from a safetensors release.

    Attributes:
        structure_valid: the weights parse and their layout is consistent ("physics").
        metadata: the safetensors ``__metadata__`` (str → str).
        config: config.json, when the release has one.
        tokenizer: a tokenizer is embedded (``tokenizer.*`` metadata) or ships as a sibling
            ``tokenizer.json`` that loads.
    """

    structure_valid: bool
    metadata: Mapping[str, str]
    config: Mapping[str, Any] | None
    tokenizer: bool


def _nonempty(v: object) -> bool:
    return isinstance(v, str) and bool(v.strip())


def quality_breakdown(q: QualityInputs) -> dict[str, int]:
    """The five sub-scores of GATES.md §7.1.

    Mapping from the APR header to a safetensors release:

    * physics (20): header checksum valid → the safetensors structure checks pass;
    * structural (20, 5 each): architecture non-empty and ≠ "unknown" (``__metadata__`` or
      config.json ``model_type``), hidden_size, num_layers, num_heads (config.json or
      ``__metadata__``);
    * provenance (25): license 9, data_source 8, data_license 8 — stamped in ``__metadata__``
      (the template's "license, data_source, data_license stamped");
    * hf_identity (20): hf_architecture 12, hf_model_type 8 — ``__metadata__``, else
      config.json ``architectures[0]`` / ``model_type`` (what ``apr convert`` stamps from);
    * tokenizer (15): embedded vocabulary, or a sibling tokenizer.json (the template's
      alternative; known issue #3275: the APR score only looks at the HAS_VOCAB flag).
    """
    md = q.metadata
    cfg = q.config or {}
    arch = md.get("architecture") or cfg.get("model_type")
    structural = 5 if _nonempty(arch) and str(arch).strip().lower() != "unknown" else 0
    for meta_key, cfg_keys in (
        ("hidden_size", ("hidden_size", "n_embd")),
        ("num_layers", ("num_hidden_layers", "n_layer")),
        ("num_heads", ("num_attention_heads", "n_head")),
    ):
        present = _nonempty(md.get(meta_key)) or any(
            isinstance(cfg.get(k), int) and not isinstance(cfg.get(k), bool) for k in cfg_keys
        )
        structural += 5 if present else 0
    provenance = (
        (9 if _nonempty(md.get("license")) else 0)
        + (8 if _nonempty(md.get("data_source")) else 0)
        + (8 if _nonempty(md.get("data_license")) else 0)
    )
    archs = cfg.get("architectures")
    hf_arch = md.get("hf_architecture") or (archs[0] if isinstance(archs, list) and archs else None)
    hf_type = md.get("hf_model_type") or cfg.get("model_type")
    hf_identity = (12 if _nonempty(hf_arch) else 0) + (8 if _nonempty(hf_type) else 0)
    return {
        "physics": 20 if q.structure_valid else 0,
        "structural": structural,
        "provenance": provenance,
        "hf_identity": hf_identity,
        "tokenizer": 15 if q.tokenizer else 0,
    }
