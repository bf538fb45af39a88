"""``gates verify PATH`` — structure, numerics, architecture and provenance of a checkpoint."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import evaluation_options


@click.command()
@evaluation_options
@click.argument("model")
@click.option(
    "--spec",
    "specs",
    multiple=True,
    help="Extra spec (file or bundled short name) evaluated over the same artifacts.",
)
@click.option(
    "--target-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pretraining target config.json: also check init_load_semantics against it.",
)
@click.option(
    "--val-tokens",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Validation tokens (.npy, .bin, text, JSONL): adds val loss and the init-loss signal.",
)
@click.option("--seq-len", type=click.IntRange(min=2), help="Evaluation window length.")
@click.option("--stride", type=click.IntRange(min=1), help="Tokens between window starts.")
@click.option("--max-tokens", type=click.IntRange(min=2), help="Evaluate the first N tokens.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Windows per forward pass.")
@click.option(
    "--prompt", "prompts", multiple=True, help="Smoke-test prompt (repeatable): adds generation."
)
@click.option("--max-new-tokens", type=click.IntRange(min=1), help="Tokens per smoke generation.")
@click.option("--bench", is_flag=True, help="Add the decode-throughput benchmark.")
@click.option("--parity", is_flag=True, help="Add CPU↔GPU logit parity (needs CUDA).")
@click.option(
    "--humaneval", is_flag=True, help="Add HumanEval pass@1 (completions run in a sandbox)."
)
@click.option(
    "--max-problems",
    type=click.IntRange(min=1),
    help="HumanEval problems to run (a deterministic subset; default all 164).",
)
@click.option("--bench-tokens", type=click.IntRange(min=1), help="New tokens per benchmark run.")
@click.option("--bench-runs", type=click.IntRange(min=1), help="Timed benchmark runs.")
@click.option(
    "--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), help="Compute dtype."
)
def verify(
    model: str,
    specs: tuple[str, ...],
    target_config: Path | None,
    val_tokens: Path | None,
    seq_len: int | None,
    stride: int | None,
    max_tokens: int | None,
    batch_size: int | None,
    prompts: tuple[str, ...],
    max_new_tokens: int | None,
    bench: bool,
    parity: bool,
    humaneval: bool,
    max_problems: int | None,
    bench_tokens: int | None,
    bench_runs: int | None,
    dtype: str | None,
    artifacts: tuple[str, ...],
    baseline: Path | None,
    formats: tuple[str, ...],
    output_dir: Path | None,
    strict: bool | None,
    exit_zero: bool,
    digests: bool,
    bundle: Path | None,
    sarif_include_pass: bool,
    skip: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    cache_dir: Path | None,
    no_cache: bool,
    device: str,
    allow_exec: bool,
    pass_env: tuple[str, ...],
    allow_outside_root: bool,
    max_header_mib: int,
    quiet: bool,
    color: bool | None,
) -> int:
    """Verify a checkpoint: safetensors, sharded index, release folder, GGUF or Hub model.

    MODEL is a local path, ORG/NAME[@REV] or hf://ORG/NAME[@REV] (downloaded through
    huggingface_hub; HF_HOME, HF_HUB_OFFLINE and HF_TOKEN apply), or a Hub cache folder.
    Runs the bundled `verify` suite (weights hygiene, INV-INIT-ARCH-MATCH-001 and the other
    architecture invariants, provenance) with config.json, tokenizer.json and README.md taken
    from beside PATH. --val-tokens adds the recomputed validation loss and the init-loss
    signal, --prompt the smoke generation, --bench the decode benchmark (on --device),
    --humaneval HumanEval pass@1 (--max-problems N: a deterministic subset).
    Under torchrun the evaluation is sharded across ranks; rank 0 reports. The config file's
    format, output-dir and strict apply (a flag given here wins).
    Exit 0 GO or WARN (1 with --strict), 1 NO-GO, 2 usage error, 130 interrupted.
    """
    from dataclasses import asdict

    from albor_gates.artifacts.hub import resolve_bindings, resolve_model_reference
    from albor_gates.cli.common import cache_settings, parse_bindings, trust
    from albor_gates.cli.session import Session, report_flags
    from albor_gates.cli.verify_suites import load_policy
    from albor_gates.config import load_config
    from albor_gates.engine.plan import build_plan
    from albor_gates.engine.run import RunOptions
    from albor_gates.extras import require
    from albor_gates.settings import RunSettings
    from albor_gates.spec.loader import SpecResolver

    require(("model",), "gates verify")  # its suites measure weights with torch
    settings = RunSettings.build(
        {
            "device": device,
            "dtype": dtype,
            "seq_len": seq_len,
            "stride": stride,
            "max_tokens": max_tokens,
            "batch_size": batch_size,
            "prompts": prompts,
            "max_new_tokens": max_new_tokens,
            "bench_tokens": bench_tokens,
            "bench_runs": bench_runs,
            "max_problems": max_problems,
            **cache_settings(cache_dir, no_cache),
        }
    )
    inputs = {
        **asdict(settings),
        "target_config": target_config,
        "val_tokens": val_tokens,
        "bench": bench,
        "parity": parity,
        "humaneval": humaneval,
    }
    # the Hub reference becomes a local snapshot folder here, before anything is read
    path = resolve_model_reference(model, bare=True).path
    names, binds = load_policy().choose(path, inputs, specs)
    resolver = SpecResolver()
    plans = [build_plan(resolver.resolve(resolver.locate(name, "--spec"))) for name in names]
    binds.update(resolve_bindings(parse_bindings(artifacts)))
    declared = {n for p in plans for n in p.artifacts}
    opts = RunOptions(
        artifacts={k: v for k, v in binds.items() if k in declared},
        baseline=baseline,
        skip=frozenset(skip),
        select=select,
        ignore=ignore,
        settings=settings,
        digest_artifacts=digests or bundle is not None,
        **trust(allow_exec, pass_env, allow_outside_root, max_header_mib),
    )
    # the config's report keys apply as in `gates check` (a flag wins); its specs, select and
    # ignore name the repository's gates, not the bundled verify suites, so they do not
    session = Session(
        **report_flags(load_config()[0], formats, output_dir, strict),
        quiet=quiet,
        color=color,
        bundle=bundle,
        progress=True,
        exit_zero=exit_zero,
        sarif_include_pass=sarif_include_pass,
    )
    return session.run(plans, opts)
