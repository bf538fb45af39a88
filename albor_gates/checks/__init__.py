"""The registry of check kinds: one module per kind, listed explicitly, sorted by KIND.

Registration is an explicit tuple (no globbing, no import side effects): a reader sees every
kind here, mypy checks each module against :class:`~albor_gates.checks.base.CheckKind`, and a
duplicate KIND is refused at import time.
"""

from __future__ import annotations

from albor_gates.checks import (
    arch_config,
    arch_family,
    arch_init_target,
    arch_params,
    arch_plausibility,
    card_front_matter,
    cli_exit_code,
    cli_exit_honesty,
    cli_flag_effect,
    cli_json_output,
    cli_no_nonfinite,
    cli_overwrite_protection,
    cli_peak_rss,
    cli_phantom_subcommands,
    cli_rejects_bad_input,
    cli_sigint,
    cli_version,
    cli_wall_time,
    consumer_llama_cpp,
    consumer_transformers,
    eval_humaneval,
    eval_init_loss,
    eval_val_loss,
    evidence_consistent,
    evidence_schema,
    file_exists,
    file_set,
    file_sha256,
    gguf_export,
    gguf_logit_parity,
    gguf_ppl_ratio,
    gguf_tensor_parity,
    infer_device_parity,
    infer_golden_output,
    infer_smoke,
    infer_throughput,
    log_match,
    metric_all_true,
    metric_fields_equal,
    metric_ratio,
    metric_series_agree,
    metric_trajectory,
    metric_value,
    provenance_license,
    provenance_quality,
    qa_report,
    tokenizer_roundtrip,
    tokenizer_vocab,
    train_tokens_per_param,
    weights_dtypes,
    weights_index_size,
    weights_stats,
    weights_structure,
)
from albor_gates.checks.base import CheckKind

_MODULES: tuple[CheckKind, ...] = (
    arch_config,
    arch_family,
    arch_init_target,
    arch_params,
    arch_plausibility,
    card_front_matter,
    cli_exit_code,
    cli_exit_honesty,
    cli_flag_effect,
    cli_json_output,
    cli_no_nonfinite,
    cli_overwrite_protection,
    cli_peak_rss,
    cli_phantom_subcommands,
    cli_rejects_bad_input,
    cli_sigint,
    cli_version,
    cli_wall_time,
    consumer_llama_cpp,
    consumer_transformers,
    eval_humaneval,
    eval_init_loss,
    eval_val_loss,
    evidence_consistent,
    evidence_schema,
    file_exists,
    file_set,
    file_sha256,
    gguf_export,
    gguf_logit_parity,
    gguf_ppl_ratio,
    gguf_tensor_parity,
    infer_device_parity,
    infer_golden_output,
    infer_smoke,
    infer_throughput,
    log_match,
    metric_all_true,
    metric_fields_equal,
    metric_ratio,
    metric_series_agree,
    metric_trajectory,
    metric_value,
    provenance_license,
    provenance_quality,
    qa_report,
    tokenizer_roundtrip,
    tokenizer_vocab,
    train_tokens_per_param,
    weights_dtypes,
    weights_index_size,
    weights_stats,
    weights_structure,
)


def _build(modules: tuple[CheckKind, ...]) -> dict[str, CheckKind]:
    out: dict[str, CheckKind] = {}
    for mod in modules:
        if mod.KIND in out:
            raise RuntimeError(f"duplicate check kind {mod.KIND!r}")
        out[mod.KIND] = mod
    return dict(sorted(out.items()))


REGISTRY: dict[str, CheckKind] = _build(_MODULES)


def known_kinds() -> list[str]:
    """Every registered KIND, sorted."""
    return list(REGISTRY)


def get(kind: str) -> CheckKind | None:
    """Return the check kind named ``kind``, or None (callers word the error)."""
    return REGISTRY.get(kind)
