"""``gates verify PATH`` — structure, numerics, architecture and provenance of a checkpoint."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import evaluation_options


def bindings_for(path: Path) -> dict[str, str]:
    """Artifact bindings for a checkpoint path: the model and the files beside it."""
    folder = path if path.is_dir() else path.parent
    return {
        "model": str(path),
        "config": str(folder / "config.json"),
        "tokenizer": str(folder / "tokenizer.json"),
        "card": str(folder / "README.md"),
        "generation_config": str(folder / "generation_config.json"),
        "release": str(folder),
    }


@click.command()
@evaluation_options
@click.argument("path", type=click.Path(exists=True, path_type=Path))
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
@click.option("--bench-tokens", type=click.IntRange(min=1), help="New tokens per benchmark run.")
@click.option("--bench-runs", type=click.IntRange(min=1), help="Timed benchmark runs.")
@click.option(
    "--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), help="Compute dtype."
)
def verify(
    path: Path,
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
    bench_tokens: int | None,
    bench_runs: int | None,
    dtype: str | None,
    artifacts: tuple[str, ...],
    baseline: Path | None,
    formats: tuple[str, ...],
    output_dir: Path | None,
    strict: bool,
    digests: bool,
    bundle: Path | None,
    skip: tuple[str, ...],
    device: str,
    allow_exec: bool,
    pass_env: tuple[str, ...],
    allow_outside_root: bool,
    max_header_mib: int,
    quiet: bool,
    color: bool | None,
) -> int:
    """Verify a checkpoint: a .safetensors file, a sharded index, a release folder or a GGUF.

    Runs the bundled `verify` suite (weights hygiene, INV-INIT-ARCH-MATCH-001 and the other
    architecture invariants, provenance) with config.json, tokenizer.json and README.md taken
    from beside PATH. --val-tokens adds the recomputed validation loss and the init-loss
    signal, --prompt the smoke generation, --bench the decode benchmark (on --device).
    Under torchrun the evaluation is sharded across ranks; rank 0 reports.
    Exit 0 GO or WARN (1 with --strict), 1 NO-GO, 2 usage error, 130 interrupted.
    """
    from albor_gates.cli.common import (
        emit_reports,
        exit_code_for,
        parse_bindings,
        trust,
        use_color,
    )
    from albor_gates.cli.progress import make_observer
    from albor_gates.engine.plan import build_plan
    from albor_gates.engine.record import to_record
    from albor_gates.engine.run import RunOptions, evaluate_plans
    from albor_gates.spec.loader import SpecResolver
    from albor_gates.spec.resources import data_dir

    resolver = SpecResolver()
    names = ["verify", *specs]
    binds = bindings_for(path)
    if target_config is not None:
        names.append("init-target")
        binds["target"] = str(target_config)
    if val_tokens is not None:
        names.append("verify-eval")
        binds["tokens"] = str(val_tokens)
    if prompts or max_new_tokens is not None:
        names.append("verify-smoke")
    if bench or bench_tokens is not None or bench_runs is not None:
        names.append("verify-bench")
    if parity:
        names.append("verify-parity")
    plans = []
    for name in names:
        file = Path(name)
        if not file.is_file():
            found = resolver.find(name, resolver.load(data_dir("invariants") / "verify.yaml"))
            if found is None:
                from albor_gates.errors import UsageError

                raise UsageError(f"--spec {name}: no such file or bundled spec")
            file = found
        plans.append(build_plan(resolver.resolve(file)))
    binds.update(parse_bindings(artifacts))
    declared = {n for p in plans for n in p.artifacts}
    observer = make_observer(quiet)
    opts = RunOptions(
        artifacts={k: v for k, v in binds.items() if k in declared},
        baseline=baseline,
        skip=frozenset(skip),
        options={
            "device": device,
            "dtype": dtype,
            "seq_len": seq_len,
            "stride": stride,
            "max_tokens": max_tokens,
            "batch_size": batch_size,
            "prompts": list(prompts) or None,
            "max_new_tokens": max_new_tokens,
            "bench_tokens": bench_tokens,
            "bench_runs": bench_runs,
        },
        observer=observer,
        digest_artifacts=digests or bundle is not None,
        **trust(allow_exec, pass_env, allow_outside_root, max_header_mib),
    )
    try:
        verdict = evaluate_plans(plans, opts)
    finally:
        close = getattr(observer, "close", None)
        if close is not None:
            close()
    extra: dict[Path, str] = {}
    if bundle is not None:  # written with the reports as one set: all or nothing
        from albor_gates.engine.bundle import bundle_text, make_bundle

        extra[bundle] = bundle_text(make_bundle(plans, opts, verdict))
    record = to_record(verdict)
    emit_reports(record, formats, output_dir, color=use_color(color), quiet=quiet, extra=extra)
    return exit_code_for(verdict.decision.value, strict=strict, internal=verdict.internal_error)
