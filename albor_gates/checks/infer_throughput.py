"""infer.throughput — decode tokens per second, measured on the device it runs on.

The median of ``runs`` greedy generations of ``new_tokens`` (≥ 128 for AC-SHIP2-010) after
``warmup`` untimed runs; also time to first token, p50 / p99 per-token latency, p99/p50 and the
coefficient of variation. ``measure`` picks the judged figure: ``tokens_per_s`` (median;
AC-SHIP2-010 ≥ 100, template ≥ 200 on an RTX 4090), ``p99_p50`` (template ≤ 5.0),
``ttft_ms``, ``p50_ms``, ``p99_ms``, ``cv``.

**A figure measured on other hardware never discharges a criterion stated for a GPU.**
``reference`` names the device type the criterion is about (default ``cuda``: the seed's
figures are for an RTX 4090). On a different device type the gate is SKIPPED — an optional gate
then WARNs, a required one is NO-GO — instead of passing a GPU criterion with a CPU number (or
failing it). Use ``reference: any`` for a
criterion about the hardware at hand.

PASS (on CUDA): "decode 315.6 tok/s ≥ 100 (3 runs, CV 1.2%, RTX 4090)".
FAIL (on CUDA): "tokens per s 87.3 tok/s, must be ≥ 100".
SKIPPED (on CPU): "running on cpu; the criterion is stated for cuda hardware, so a cpu figure
neither passes nor fails it" — decided before any time is spent benchmarking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks._decoder import environment_details, load_decoder, load_tokenizer
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import CheckSkipped

KIND = "infer.throughput"
VERSION = 1
TITLE = "Decode tokens/s, TTFT, p50/p99 latency, CV — on the criterion's reference device"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer",)
NEEDS: frozenset[str] = frozenset({"torch", "gpu"})
EXTRAS: tuple[str, ...] = ("model",)
# a timing belongs to the moment and the machine it was taken on: never from the cache
CACHEABLE = False
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(CheckParams):
    """Options of infer.throughput."""

    prompt: str = "def fibonacci(n):"
    new_tokens: int = Field(128, ge=1)
    runs: int = Field(3, ge=1)
    warmup: int = Field(1, ge=0)
    reference: Literal["cuda", "cpu", "mps", "any"] = "cuda"
    measure: Literal["tokens_per_s", "p99_p50", "ttft_ms", "p50_ms", "p99_ms", "cv"] = (
        "tokens_per_s"
    )


def measure(ctx: Context, params: Params) -> Measurement:
    """Benchmark once per run; report the chosen figure."""
    if params.reference != "any":
        from albor_gates.model.device import cpu_for_certain, resolve_device

        request = ctx.settings.requested_device
        here = "cpu" if cpu_for_certain(request) else resolve_device(request).type
        if here != params.reference:
            # decided before spending minutes on a benchmark that could not count
            raise CheckSkipped(
                f"running on {here}; the criterion is stated for {params.reference} hardware, "
                f"so a {here} figure neither passes nor fails it (run with --device "
                f"{params.reference} on such a machine)"
            )
    model = load_decoder(ctx)
    tok = load_tokenizer(ctx)
    new_tokens = ctx.settings.bench_tokens or params.new_tokens
    runs = ctx.settings.bench_runs or params.runs

    def bench(_path: Any) -> Any:
        from albor_gates.model.bench import measure_throughput

        report = ctx.progress("decode benchmark", float(runs + params.warmup))
        return measure_throughput(
            model,
            params.prompt,
            tokenizer=tok,
            new_tokens=new_tokens,
            runs=runs,
            warmup=params.warmup,
            progress=lambda done, total: report(done, total),
        )

    r = ctx.read("model", f"bench:{params.prompt}:{new_tokens}:{runs}:{params.warmup}", bench)
    figures = {
        "tokens_per_s": r.median_tokens_per_s,
        "p99_p50": r.p99_p50_ratio,
        "ttft_ms": r.ttft_s * 1000,
        "p50_ms": r.latency_p50_s * 1000,
        "p99_ms": r.latency_p99_s * 1000,
        "cv": r.cv,
    }
    details = {
        **{k: round(v, 6) for k, v in figures.items()},
        "tokens_per_s_runs": list(r.tokens_per_s_runs),
        "decode_tokens_per_s": r.decode_tokens_per_s,
        "new_tokens": r.new_tokens,
        "runs": r.runs,
        "warmup": r.warmup,
        **environment_details(model),
    }
    if params.measure == "tokens_per_s":  # the runs behind the median: a band's interval
        details |= {"samples": details["tokens_per_s_runs"], "samples_of": "runs"}
        details["samples_stat"] = "median"
    line = (
        f"{r.median_tokens_per_s:.1f} tok/s median of {r.runs} runs × {r.new_tokens} tokens, "
        f"TTFT {r.ttft_s * 1000:.1f} ms, p99/p50 {r.p99_p50_ratio:.2f}, CV {r.cv * 100:.1f}%, "
        f"{r.device_name} ({r.dtype})"
    )
    unit = {"tokens_per_s": "tok/s", "ttft_ms": "ms", "p50_ms": "ms", "p99_ms": "ms"}.get(
        params.measure, ""
    )
    return Measurement(
        figures[params.measure],
        subject={
            "tokens_per_s": "decode tokens/s",
            "p99_p50": "p99/p50 latency",
            "ttft_ms": "time to first token",
            "p50_ms": "p50 token latency",
            "p99_ms": "p99 token latency",
            "cv": "run-to-run CV",
        }[params.measure],
        unit=unit,
        summary=line,
        details=details,
    )
