"""Greedy completion of many prompts by llama.cpp (llama-cpp-python), in one child process.

The generation engine for GGUF files whose architecture the reference decoder does not
implement (gemma3, phi3, ...): llama.cpp runs them, and :func:`complete` is how a check kind
asks it for greedy completions — temperature 0, ``top_k`` 1, no repeat penalty, a fixed seed,
llama.cpp's native ``stop`` sequences (the text ends before the first one, which is dropped)
and ``max_tokens`` new tokens, CPU only (``n_gpu_layers`` 0), ``logits_all`` off.

Isolation: a hostile GGUF can make llama.cpp abort the process, so llama.cpp never runs in
the ``gates`` process. :func:`complete` starts ONE child interpreter per call (the model is
loaded once), which completes every prompt in order and writes one JSON line per prompt as
soon as it is done; the parent follows the lines for its progress report and kills the child
at ``timeout_s``. A child that dies or times out mid-run leaves the completions it finished
and the reason (:attr:`LlamaRun.ended`), never a half-written result.

Each prompt starts from an empty KV cache (``reset()``), so a completion does not depend on
which prompts ran before it: a subset run gives the same text as the full run.

llama-cpp-python is an optional extra (``pip install 'albor-gates[llama]'``), imported only
inside the child: without it :func:`complete` raises :class:`~albor_gates.errors.CheckSkipped`
with that pip line, before any process starts.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from albor_gates.errors import CheckSkipped, EvidenceError

_MARK = "ALBOR-GATES-LLAMA-LINE "
# The variables the child needs from ours: where the package and its shared library are.
_PASS_ENV = ("PYTHONPATH", "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "LLAMA_CPP_LIB")

# Runs in a child interpreter (llama.cpp aborts the process on some malformed files). One JSON
# line per event, each flushed at once: the parent may have to kill the child at any moment.
_CHILD = r"""
import ctypes, json, sys, time
args = json.loads(sys.argv[1])

def emit(obj):
    print(MARK + json.dumps(obj), flush=True)

import llama_cpp
log = []

@llama_cpp.llama_log_callback
def _collect(level, text, user_data):
    log.append(text.decode("utf-8", "replace") if text else "")

llama_cpp.llama_log_set(_collect, ctypes.c_void_p(0))
emit({"version": getattr(llama_cpp, "__version__", "?")})
try:
    llm = llama_cpp.Llama(
        model_path=args["path"], n_ctx=args["n_ctx"], n_gpu_layers=0, seed=args["seed"],
        n_threads=args["threads"], n_threads_batch=args["threads"], logits_all=False,
        verbose=False,
    )
except Exception as e:
    emit({"load_error": f"{type(e).__name__}: {e}", "log": "".join(log)[-8000:]})
    sys.exit(0)
n_ctx = llm.n_ctx()
emit({"n_ctx": n_ctx})
for i, prompt in enumerate(args["prompts"]):
    # create_completion tokenizes the same way: BOS as the vocabulary asks, specials parsed
    n = len(llm.tokenize(prompt.encode("utf-8"), special=True))
    if n + args["max_tokens"] > n_ctx:
        emit({"i": i, "prompt_tokens": n, "fits": False})
        continue
    llm.reset()
    t0 = time.monotonic()
    over = []

    def budget(ids, logits):
        if time.monotonic() - t0 > args["time_budget_s"]:
            over.append(True)
        return bool(over)

    r = llm.create_completion(
        prompt, max_tokens=args["max_tokens"], temperature=0.0, top_k=1, top_p=1.0,
        min_p=0.0, repeat_penalty=1.0, seed=args["seed"], stop=args["stop"] or None,
        stopping_criteria=llama_cpp.StoppingCriteriaList([budget]),
    )
    choice = r["choices"][0]
    reason = "time_budget" if over else (
        "max_tokens" if choice.get("finish_reason") == "length" else "stop"
    )
    emit({
        "i": i, "prompt_tokens": n, "fits": True, "text": choice["text"],
        "new_tokens": r.get("usage", {}).get("completion_tokens", 0), "stop_reason": reason,
        "seconds": round(time.monotonic() - t0, 3),
    })
""".replace("MARK", repr(_MARK))


@dataclass(frozen=True)
class Completion:
    """llama.cpp's greedy completion of one prompt.

    Attributes:
        text: the new text, ending before the first stop sequence ("" when the prompt did not
            fit the context).
        new_tokens: tokens generated (0 when the prompt did not fit).
        prompt_tokens: the prompt's length in llama.cpp's tokens (BOS included).
        stop_reason: ``stop`` (a stop sequence or the end-of-generation token), ``max_tokens``,
            ``time_budget``, or ``context`` (prompt + ``max_tokens`` exceed ``n_ctx``: nothing
            was generated).
        seconds: wall time of the completion.
    """

    text: str
    new_tokens: int
    prompt_tokens: int
    stop_reason: str
    seconds: float


@dataclass(frozen=True)
class LlamaRun:
    """What one child run produced.

    Attributes:
        completions: one per prompt, in order, for the prompts the child finished.
        version: llama-cpp-python's version.
        n_ctx: the context llama.cpp allocated.
        threads: llama.cpp's CPU threads.
        seconds: wall time of the child (load included).
        ended: None when every prompt was completed; else how the child ended early, one
            line with llama.cpp's own error where it logged one.
    """

    completions: tuple[Completion, ...]
    version: str
    n_ctx: int
    threads: int
    seconds: float
    ended: str | None


def default_threads() -> int:
    """The CPUs this process may run on (llama-cpp-python's own default is half the cores)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no affinity call
        return os.cpu_count() or 1


def error_line(log: str) -> str:
    """The most telling line of llama.cpp's log: the last one that names an error."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    # "llama_model_load: error loading model: <why>" comes before the generic "failed to
    # load model", so an error line wins over a failure line.
    for word in ("error", "failed"):
        for ln in reversed(lines):
            if word in ln.lower():
                return ln
    return lines[-1] if lines else ""


def complete(
    path: Path,
    prompts: Sequence[str],
    *,
    max_tokens: int,
    stop: Sequence[str] = (),
    n_ctx: int = 2048,
    threads: int | None = None,
    seed: int = 42,
    time_budget_s: float = 120.0,
    timeout_s: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LlamaRun:
    """Greedy completions of ``prompts`` by llama.cpp, loaded once in one child process.

    Args:
        path: the GGUF file.
        prompts: the prompts, completed in order.
        max_tokens: new tokens per prompt at most.
        stop: stop sequences (llama.cpp's ``stop=``: the text ends before the first one).
        n_ctx: the context to allocate; a prompt that does not fit with ``max_tokens`` is
            not generated (``stop_reason`` ``context``).
        threads: CPU threads (None: :func:`default_threads`).
        seed: llama.cpp's seed (recorded; greedy decoding does not sample).
        time_budget_s: a completion stops once it has run this long (``time_budget``).
        timeout_s: the child is killed after this long (None: a minute to load plus
            ``time_budget_s`` and ten seconds per prompt).
        progress: called with (prompts done, prompts) as each completion arrives.

    Returns:
        The :class:`LlamaRun`; ``ended`` says why it has fewer completions than prompts.

    Raises:
        CheckSkipped: llama-cpp-python is not installed (with the pip line).
        EvidenceError: llama.cpp cannot load the file (with llama.cpp's error line).
    """
    from albor_gates.artifacts.process import run_command, scratch_dir
    from albor_gates.extras import missing_reason

    absent = missing_reason(["llama"])
    if absent:
        raise CheckSkipped(absent)
    n = len(prompts)
    threads = threads or default_threads()
    args = {
        "path": str(path.resolve()),
        "prompts": list(prompts),
        "max_tokens": max_tokens,
        "stop": list(stop),
        "n_ctx": n_ctx,
        "threads": threads,
        "seed": seed,
        "time_budget_s": time_budget_s,
    }
    lines = _Lines(lambda done: progress(done, n) if progress is not None else None)
    with scratch_dir("gates-llama-") as tmp:
        res = run_command(
            [sys.executable, "-c", _CHILD, json.dumps(args)],
            timeout_s=timeout_s or 60.0 + n * (time_budget_s + 10.0),
            cwd=tmp,
            pass_env=_PASS_ENV,
            on_stdout=lines.feed,
        )
    events = lines.events
    head = {k: v for e in events if "i" not in e for k, v in e.items()}
    if "load_error" in head:
        why = error_line(head.get("log", "")) or head["load_error"]
        raise EvidenceError(f"llama.cpp cannot load {path.name}: {why}")
    done = tuple(_completion(e) for e in events if "i" in e)
    ended = None
    if len(done) < n:
        tail = error_line(res.stderr) or res.stderr.strip()[-300:]
        ended = f"llama.cpp {res.describe_end()} after {len(done)} of {n} prompts" + (
            f": {tail}" if tail else ""
        )
    return LlamaRun(
        completions=done,
        version=str(head.get("version", "?")),
        n_ctx=int(head.get("n_ctx", n_ctx)),
        threads=threads,
        seconds=round(res.wall_s, 3),
        ended=ended,
    )


class _Lines:
    """The child's JSON lines, parsed as the bytes arrive (all of them: the capture is capped).

    Each per-prompt line drives the progress report; a line cut short by a kill is dropped.
    """

    def __init__(self, report: Callable[[int], object]) -> None:
        self.report = report
        self.pending = b""
        self.events: list[dict[str, Any]] = []
        self.done = 0

    def feed(self, chunk: bytes) -> None:
        *whole, self.pending = (self.pending + chunk).split(b"\n")
        for line in whole:
            if not line.startswith(_MARK.encode()):
                continue
            try:
                event = json.loads(line[len(_MARK) :])
            except json.JSONDecodeError:
                continue
            self.events.append(event)
            if "i" in event:
                self.done += 1
                self.report(self.done)


def _completion(e: dict[str, Any]) -> Completion:
    if not e.get("fits", True):
        return Completion("", 0, int(e["prompt_tokens"]), "context", 0.0)
    return Completion(
        text=str(e["text"]),
        new_tokens=int(e["new_tokens"]),
        prompt_tokens=int(e["prompt_tokens"]),
        stop_reason=str(e["stop_reason"]),
        seconds=float(e["seconds"]),
    )
