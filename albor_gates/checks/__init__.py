"""The registry of check kinds: one module per kind, listed explicitly, sorted by KIND.

Registration is an explicit table of KIND → module (no globbing, no import side effects): a
reader sees every kind here, and a module is imported only when its kind is asked for, so
``gates lint`` / ``check`` of a spec pay for the kinds it uses and no others. The table is
data; ``tests/checks/test_registry.py`` proves it agrees with the modules (every kind listed,
each naming the module whose ``KIND`` it is), and mypy checks every module against
:class:`~albor_gates.checks.base.CheckKind` through the ``TYPE_CHECKING`` tuple below.
:func:`load_all` (``gates list``, ``explain``, ``schema``) imports them all and refuses a
duplicate KIND.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

# KIND → module name under albor_gates.checks, sorted by KIND.
KINDS: dict[str, str] = {
    "arch.config_shapes": "arch_config",
    "arch.family_match": "arch_family",
    "arch.init_target": "arch_init_target",
    "arch.metadata_plausibility": "arch_plausibility",
    "arch.param_count": "arch_params",
    "card.front_matter": "card_front_matter",
    "cli.exit_code": "cli_exit_code",
    "cli.exit_honesty": "cli_exit_honesty",
    "cli.flag_effect": "cli_flag_effect",
    "cli.json_output": "cli_json_output",
    "cli.no_nonfinite": "cli_no_nonfinite",
    "cli.overwrite_protection": "cli_overwrite_protection",
    "cli.peak_rss": "cli_peak_rss",
    "cli.phantom_subcommands": "cli_phantom_subcommands",
    "cli.rejects_bad_input": "cli_rejects_bad_input",
    "cli.sigint": "cli_sigint",
    "cli.version": "cli_version",
    "cli.wall_time": "cli_wall_time",
    "consumer.llama_cpp": "consumer_llama_cpp",
    "consumer.transformers": "consumer_transformers",
    "eval.humaneval": "eval_humaneval",
    "eval.init_loss_signal": "eval_init_loss",
    "eval.val_loss": "eval_val_loss",
    "evidence.consistent": "evidence_consistent",
    "evidence.schema": "evidence_schema",
    "file.exists": "file_exists",
    "file.set": "file_set",
    "file.sha256": "file_sha256",
    "gguf.export": "gguf_export",
    "gguf.logit_parity": "gguf_logit_parity",
    "gguf.ppl_ratio": "gguf_ppl_ratio",
    "gguf.tensor_parity": "gguf_tensor_parity",
    "infer.device_parity": "infer_device_parity",
    "infer.golden_output": "infer_golden_output",
    "infer.smoke": "infer_smoke",
    "infer.throughput": "infer_throughput",
    "log.match": "log_match",
    "metric.all_true": "metric_all_true",
    "metric.fields_equal": "metric_fields_equal",
    "metric.ratio": "metric_ratio",
    "metric.series_agree": "metric_series_agree",
    "metric.trajectory": "metric_trajectory",
    "metric.value": "metric_value",
    "provenance.licenses": "provenance_license",
    "provenance.quality_score": "provenance_quality",
    "qa.report": "qa_report",
    "tokenizer.roundtrip": "tokenizer_roundtrip",
    "tokenizer.vocab_fit": "tokenizer_vocab",
    "train.tokens_per_param": "train_tokens_per_param",
    "weights.dtypes": "weights_dtypes",
    "weights.index_size": "weights_index_size",
    "weights.stats": "weights_stats",
    "weights.structure": "weights_structure",
}

_loaded: dict[str, CheckKind] = {}


def _load(kind: str, module: str) -> CheckKind:
    mod = _loaded.get(kind)
    if mod is None:
        # __import__, not importlib.import_module: `python -X importtime` lists it (issue 14)
        mod = __import__(f"albor_gates.checks.{module}", fromlist=["KIND"])
        if kind != mod.KIND:  # the table drifted from the module (a test guards this too)
            raise RuntimeError(f"check kind table: {module} declares {mod.KIND!r}, not {kind!r}")
        _loaded[kind] = mod
    return mod


def load_all() -> dict[str, CheckKind]:
    """Every registered kind, imported, sorted by KIND (refuses a duplicate KIND)."""
    out: dict[str, CheckKind] = {}
    for kind, module in KINDS.items():
        mod = _load(kind, module)
        if mod.KIND in out:  # pragma: no cover - _load already refuses a mismatch
            raise RuntimeError(f"duplicate check kind {mod.KIND!r}")
        out[mod.KIND] = mod
    return dict(sorted(out.items()))


def __getattr__(name: str) -> dict[str, CheckKind]:
    """``checks.REGISTRY``: every kind imported (as :func:`load_all`), built on first use."""
    if name == "REGISTRY":
        return load_all()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def known_kinds() -> list[str]:
    """Every registered KIND, sorted (imports none of them)."""
    return list(KINDS)


def get(kind: str) -> CheckKind | None:
    """The check kind named ``kind``, imported on first use, or None (callers word the error)."""
    module = KINDS.get(kind)
    return None if module is None else _load(kind, module)
