"""consumer.llama_cpp — llama.cpp loads the GGUF and writes text, not gibberish (§7.3, §7.5).

The template's ``llama-cli -m <name>-q4k.gguf`` sanity check and the publish spec's third
verification path, with an independent runtime: llama.cpp through ``llama-cpp-python`` loads
the GGUF (the ``gguf`` artifact when bound and present, else this run's export of ``model``
for ``quant``) and generates greedily for each prompt (default ``def fibonacci(n):``;
``n_predict`` 32, temperature 0, seed 42, CPU, no repeat penalty).

``measure``:

* ``failures`` (default; band ``eq: 0``) — prompts whose output fails the §3.1.4
  output-verification rules (empty, garbage markers, statistical gibberish, null bytes, the
  ``expected`` pattern);
* ``first_token_cosine`` — the lowest cosine between llama.cpp's first-token logits and the
  reference decoder's on the same GGUF and the same ids (needs an ``expect``, e.g. ``ge:
  0.999``): both runtimes must read the file the same way — a wrong q/k layout or rope type can
  still write plausible text, but not the same logits.

Details say whether llama.cpp's own tokenizer encodes each prompt to the release tokenizer's
ids (``tokenizer_mismatches``).

llama.cpp runs in a child process with a ``timeout_s`` (default 120 s): a file that makes
llama.cpp abort or crash fails this gate instead of killing the run. A file llama.cpp refuses
to load is a FAIL (every prompt counted) with llama.cpp's own error line from its log.

llama-cpp-python is an optional extra that compiles llama.cpp on install (about 7 minutes on
2 cores); when it is not installed the gate is SKIPPED with the install command
(``pip install 'albor-gates[llama]'``) — ``required: true`` makes that NO-GO, ``required:
false`` a WARN.

PASS: "0 of 1 prompts failed in llama.cpp (llama-cpp-python 0.3.36, this run's q4_k export);
'def fibonacci(n):' → '\\n    if n < 2:\\n        return n\\n ...'".
FAIL: "llama.cpp cannot load model-q4_k.gguf: llama_model_load: error loading model: missing
tensor 'blk.0.attn_q.bias'".
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks._gguf import (
    GGUFUnderTest,
    Quant,
    encode_prompts,
    gguf_decoder,
    gguf_under_test,
    source_tokenizer,
)
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import CheckSkipped, EvidenceError

KIND = "consumer.llama_cpp"
VERSION = 1
TITLE = "llama.cpp (llama-cpp-python) loads the GGUF and generates non-gibberish text"
ROLES: tuple[str, ...] = ()
# ``artifact: NAME`` binds ``model`` (as in every gguf.* kind); a ready GGUF binds ``gguf``
OPTIONAL_ROLES: tuple[str, ...] = ("model", "gguf")
NEEDS: frozenset[str] = frozenset({"subprocess", "torch"})
# the child is our own interpreter around llama.cpp (isolation, not a release command): its
# outputs are a function of the GGUF bytes, the params and llama-cpp-python's version (all in
# the cache key); a crash or timeout is not kept (Measurement.cacheable)
CACHEABLE = True
EXTRAS: tuple[str, ...] = ("llama", "model", "gguf")
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}
_MARK = "ALBOR-GATES-LLAMA-RESULT "

# Runs in a child interpreter: llama.cpp aborts the process on some malformed files.
_CHILD = r"""
import ctypes, json, sys
import numpy as np
args = json.loads(sys.argv[1])
log = []
import llama_cpp

@llama_cpp.llama_log_callback
def _collect(level, text, user_data):
    log.append(text.decode("utf-8", "replace") if text else "")

llama_cpp.llama_log_set(_collect, ctypes.c_void_p(0))
out = {"version": getattr(llama_cpp, "__version__", "?")}
try:
    llm = llama_cpp.Llama(
        model_path=args["path"], n_ctx=args["n_ctx"], n_gpu_layers=0, seed=args["seed"],
        n_threads=args["threads"], logits_all=True, verbose=False,
    )
except Exception as e:
    out["load_error"] = f"{type(e).__name__}: {e}"
    out["log"] = "".join(log)[-8000:]
    print(MARK + json.dumps(out), flush=True)
    sys.exit(0)
rows = []
first = []
for prompt, ids in zip(args["prompts"], args["ids"]):
    own = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=False)
    r = llm.create_completion(
        prompt, max_tokens=args["n_predict"], temperature=0.0, top_k=1, top_p=1.0,
        min_p=0.0, repeat_penalty=1.0, seed=args["seed"],
    )
    choice = r["choices"][0]
    rows.append({
        "prompt": prompt, "text": choice["text"], "finish_reason": choice.get("finish_reason"),
        "new_tokens": r.get("usage", {}).get("completion_tokens"), "ids": list(own),
    })
    # The logits after the release tokenizer's ids: the first generated token's distribution.
    llm.reset()
    llm.eval(ids)
    first.append(np.array(llm.scores[len(ids) - 1], dtype=np.float32))
np.save("first_token_logits.npy", np.stack(first))
out["outputs"] = rows
print(MARK + json.dumps(out), flush=True)
""".replace("MARK", repr(_MARK))


class Params(CheckParams):
    """Options of consumer.llama_cpp."""

    quant: Quant = "q4_k"
    measure: Literal["failures", "first_token_cosine"] = "failures"
    prompts: list[str] = Field(["def fibonacci(n):"], min_length=1)
    n_predict: int = Field(32, ge=1, le=4096)
    n_ctx: int = Field(512, ge=16)
    seed: int = 42
    threads: int | None = Field(None, ge=1)
    expected: str | None = None
    timeout_s: float = Field(120.0, gt=0)


def _run(path: Path, p: Params, ids: list[list[int]]) -> dict[str, Any]:
    """Run llama.cpp in a child process; its outputs, or why it could not run."""
    import numpy as np

    from albor_gates.artifacts.process import run_command, scratch_dir
    from albor_gates.model.llama_engine import error_line

    args = {
        "path": str(path.resolve()),
        "prompts": p.prompts,
        "ids": ids,
        "n_predict": p.n_predict,
        "n_ctx": p.n_ctx,
        "seed": p.seed,
        "threads": p.threads,
    }
    with scratch_dir("gates-llama-") as tmp:
        res = run_command(
            [sys.executable, "-c", _CHILD, json.dumps(args)],
            timeout_s=p.timeout_s,
            cwd=tmp,
            pass_env=("PYTHONPATH", "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "LLAMA_CPP_LIB"),
        )
        for line in reversed(res.stdout.splitlines()):
            if line.startswith(_MARK):
                try:
                    out: dict[str, Any] = json.loads(line[len(_MARK) :])
                except json.JSONDecodeError as e:
                    raise EvidenceError(f"llama.cpp child printed a malformed result: {e}") from e
                out["seconds"] = round(res.wall_s, 3)
                logits = tmp / "first_token_logits.npy"
                if logits.is_file():
                    out["logits"] = np.load(logits, allow_pickle=False)
                return out
    tail = error_line(res.stderr) or res.stderr.strip()[-300:]
    return {"crash": f"llama.cpp {res.describe_end()}" + (f": {tail}" if tail else "")}


def _tokenizer(ctx: Context, g: GGUFUnderTest) -> Any:
    """The release's tokenizer when there is one, else the GGUF's own."""
    if ctx.has("tokenizer") or ctx.has("model"):
        try:
            return source_tokenizer(ctx)
        except CheckSkipped:
            pass
    from albor_gates.formats.gguf_model import gguf_tokenizer

    return g.read(ctx, "tokenizer", gguf_tokenizer)


def _first_token_cosines(ctx: Context, g: GGUFUnderTest, ids: list[list[int]], r: Any) -> Any:
    """Cosine of llama.cpp's first-token logits with the reference decoder's, per prompt."""
    import torch

    from albor_gates.model.parity import logit_cosines

    model = gguf_decoder(ctx, g)
    ours = torch.stack([model.logits(torch.tensor([x]))[0, -1].float().cpu() for x in ids])
    theirs = torch.from_numpy(r["logits"]).float()
    if theirs.shape != ours.shape:
        raise EvidenceError(
            f"llama.cpp returned logits of shape {list(theirs.shape)}, the reference decoder "
            f"{list(ours.shape)}: the two read a different vocabulary from {g.path.name}"
        )
    agree = int((ours.argmax(-1) == theirs.argmax(-1)).sum())
    return logit_cosines(ours, theirs).tolist(), agree


def measure(ctx: Context, params: Params) -> Measurement:
    """Generate in llama.cpp and judge the outputs (or compare its first-token logits)."""
    from albor_gates.model.llama_engine import error_line
    from albor_gates.model.textcheck import check_output

    g = gguf_under_test(ctx, params.quant)
    ids = encode_prompts(_tokenizer(ctx, g), params.prompts)
    key = params.model_dump_json(exclude={"quant", "expected", "measure"})
    r = g.read(ctx, f"llama-cpp:{key}", lambda path: _run(path, params, ids))
    n = len(params.prompts)
    version = r.get("version", "?")
    subject = {
        "failures": "prompts failed in llama.cpp",
        "first_token_cosine": "llama.cpp vs reference first-token cosine",
    }[params.measure]
    fix = (
        "llama.cpp must load and run the published GGUF (GATES.md §7.3): check "
        "general.architecture, the hyper-parameters and the embedded tokenizer"
    )
    base = {"gguf": g.label, "llama_cpp_python": version}
    if "crash" in r or "load_error" in r:
        why = r.get("crash") or error_line(r.get("log", "")) or r["load_error"]
        return Measurement(
            n if params.measure == "failures" else math.nan,
            subject=subject,
            summary=f"llama.cpp cannot load {g.path.name}: {why}",
            details={**base, **{k: v for k, v in r.items() if k != "logits"}},
            fix=fix,
            cacheable="crash" not in r,  # a timeout or a killed child may not recur
        )
    rows = []
    failed = []
    for row, ref in zip(r["outputs"], ids, strict=True):
        verdict = check_output(row["text"], params.expected)
        rows.append(
            {
                **{k: v for k, v in row.items() if k != "ids"},
                "text": row["text"][:600],
                "rule": verdict.rule,
                "same_tokens": row["ids"] == ref,
            }
        )
        if verdict.rule:
            failed.append(f"{row['prompt']!r}: {verdict.reason}")
    mismatched = sum(1 for row in rows if not row["same_tokens"])
    details: dict[str, Any] = {
        **base,
        "outputs": rows,
        "tokenizer_mismatches": mismatched,
        "seconds": r.get("seconds"),
    }
    first = r["outputs"][0]
    sample = f"{first['prompt']!r} → {first['text'][:80]!r}"
    if params.measure == "first_token_cosine":
        cosines, agree = _first_token_cosines(ctx, g, ids, r)
        details["first_token_cosines"] = cosines
        details["first_token_top1_agree"] = agree
        worst = min(cosines) if not any(math.isnan(c) for c in cosines) else math.nan
        return Measurement(
            worst,
            subject=subject,
            summary=f"over {n} prompts, top-1 {agree}/{n} (llama-cpp-python {version}, "
            f"{g.label}, the reference decoder in float32)",
            details=details,
            fix="llama.cpp reads the file differently from the reference decoder: a tensor "
            "layout (q/k permutation), a hyper-parameter or the rope type",
        )
    summary = f"{len(failed)} of {n} prompts failed in llama.cpp (llama-cpp-python {version}, "
    summary += f"{g.label})" + (f": {failed[0]}" if failed else "") + f"; {sample}"
    if mismatched:
        summary += f"; llama.cpp tokenizes {mismatched} prompts differently"
    return Measurement(len(failed), subject=subject, summary=summary, details=details, fix=fix)
