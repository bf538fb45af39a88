"""gguf.logit_parity — the GGUF predicts what the safetensors release predicts (GATES.md §7.4).

Loads the ``model`` release and a GGUF file (the ``gguf`` artifact when bound and present,
else this run's export for ``quant``) into the SAME reference decoder, both in float32, and
compares their next-token logits over canary prompts (``prompts``, default ten code and text
prompts, encoded with the release's tokenizer), teacher-forced for ``steps`` decode steps each
(the teacher tokens are the release's own greedy continuation, computed once per run and
shared by every GGUF the run compares). With a ``tokens`` artifact the
sequences are instead ``windows`` consecutive slices of real text: ``context`` prompt tokens,
then ``steps`` teacher tokens from the file.

``measure``:

* ``first_token_cosine`` (default) — the lowest cosine of the logits that choose the first
  generated token, over the prompts (AC-SHIP2-009 / GATE-ARCH-370M-004: ``ge: 0.999``);
* ``min_cosine`` — the lowest cosine over every compared step;
* ``top1_disagreements`` — steps whose arg-max differs although the two next-token
  distributions' cosine is below ``near_tie_cosine`` (0.98): real disagreements, near-ties
  tolerated (apr-cli-qa-v1 ``format_parity``: ≥ 64 teacher-forced steps, ``eq: 0``). The
  near-tie cosine is taken between the softmax distributions, not the raw logits, whose
  arbitrary offset keeps their cosine above 0.98 even between clearly different models;
* ``top1_agreement`` — the raw share of steps whose arg-max agrees (near-ties not excused).

Details also say whether the GGUF's own tokenizer encodes every prompt to the same ids
(``gguf_tokenizer_mismatches``): a runtime uses that tokenizer, not the release's.

PASS: "first-token cosine 0.99994 over 10 prompts; top-1 640/640 of 640 teacher-forced steps
(0 real disagreements, 0 near-ties) — this run's q4_k export".
FAIL: "top-1 disagreements 3, must be = 0" — three steps flipped where the two distributions'
cosine was 0.91 (their logit cosine still read 0.998).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks._gguf import (
    CANARY_PROMPTS,
    Quant,
    encode_prompts,
    fp32_source_decoder,
    gguf_decoder,
    gguf_under_test,
    require_safetensors,
    source_tokenizer,
)
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "gguf.logit_parity"
VERSION = 1
TITLE = "GGUF vs safetensors logits in the same decoder: first-token cosine, teacher-forced top-1"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("gguf", "tokenizer", "tokens")
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model", "gguf")
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(CheckParams):
    """Options of gguf.logit_parity."""

    quant: Quant = "q4_k"
    measure: Literal["first_token_cosine", "min_cosine", "top1_disagreements", "top1_agreement"] = (
        "first_token_cosine"
    )
    prompts: list[str] = Field(list(CANARY_PROMPTS), min_length=1)
    steps: int = Field(64, ge=1, le=4096)
    near_tie_cosine: float = Field(0.98, ge=0.0, le=1.0)
    windows: int = Field(10, ge=1, le=10_000)
    context: int = Field(32, ge=1)


def _sequences(ctx: Context, p: Params, tok: Any) -> tuple[list[list[int]], Any, str]:
    """(prompts as ids, continuations or None, what they are) for the comparison."""
    if not ctx.has("tokens"):
        return encode_prompts(tok, p.prompts), None, f"{len(p.prompts)} prompts"
    from albor_gates.model.tokens import load_tokens

    path = ctx.path("tokens")
    span = p.context + p.steps - 1
    needs_tok = path.suffix.lower() not in (".npy", ".bin")
    src = load_tokens(path, tokenizer=tok if needs_tok else None, max_tokens=p.windows * span)
    n = src.n_tokens // span
    if n < 1:
        raise EvidenceError(
            f"{path}: {src.n_tokens} tokens, fewer than one window of {span} "
            f"(context {p.context} + {p.steps - 1} teacher tokens)"
        )
    ids = [int(i) for i in src.ids[: n * span]]
    prompts = [ids[k * span : k * span + p.context] for k in range(n)]
    conts = [ids[k * span + p.context : (k + 1) * span] for k in range(n)]
    return prompts, conts, f"{n} windows of {path.name}"


def measure(ctx: Context, params: Params) -> Measurement:
    """Compare the two decoders (once per run and settings) and report the chosen figure."""
    g = gguf_under_test(ctx, params.quant)
    source = require_safetensors(ctx, KIND)
    key = params.model_dump_json(exclude={"measure", "quant"}) + f":{source.resolve()}"
    if ctx.has("tokens"):
        key += f":{ctx.path('tokens').resolve()}"

    def run(_path: Any) -> dict[str, Any]:
        from albor_gates.model.parity import compare_logits, teacher_continuation

        tok = source_tokenizer(ctx)
        prompts, conts, what = _sequences(ctx, params, tok)
        ref = fp32_source_decoder(ctx)
        cand = gguf_decoder(ctx, g)
        teacher = conts
        if teacher is None:
            # The release's own continuation: the same for every GGUF the run compares.
            teacher = ctx.read(
                "model",
                f"teacher:{params.steps}:{prompts}:{ref.device}",
                lambda _p: [teacher_continuation(ref, ids, params.steps) for ids in prompts],
            )
        r = compare_logits(
            ref,
            cand,
            prompts,
            steps=params.steps,
            continuations=teacher,
            near_tie_cosine=params.near_tie_cosine,
            progress=ctx.progress("logit parity", float(len(prompts))),
        )
        mismatched: list[str] = []
        if conts is None:
            from albor_gates.formats.gguf_model import gguf_tokenizer

            gtok = g.read(ctx, "tokenizer", gguf_tokenizer)
            mismatched = [
                text
                for text, ids in zip(params.prompts, prompts, strict=True)
                if list(gtok.encode(text, add_special_tokens=False).ids) != ids
            ]
        return {"result": r, "what": what, "mismatched": mismatched, "device": str(ref.device)}

    out = g.read(ctx, f"logit-parity:{key}", run)
    r = out["result"]
    agree = sum(s.top1_agree for s in r.sequences)
    details: dict[str, Any] = {
        "gguf": g.label,
        "sequences": out["what"],
        "steps": r.steps,
        "first_token_cosine": r.first_token_cosine,
        "min_cosine": r.min_cosine,
        "top1_agreement": r.top1_agreement,
        "top1_disagreements": r.real_disagreements,
        "near_ties": r.near_ties,
        "near_tie_cosine": r.near_tie_cosine,
        "max_abs_logit_diff": r.max_abs_diff,
        "disagreements": [
            {
                "sequence": d.sequence,
                "step": d.step,
                "source_token": d.reference_token,
                "gguf_token": d.candidate_token,
                "cosine": d.cosine,
                "probability_cosine": d.probability_cosine,
                "near_tie": d.near_tie,
            }
            for d in r.disagreements[:20]
        ],
        "per_sequence_first_token_cosine": [s.first_token_cosine for s in r.sequences],
        "gguf_tokenizer_mismatches": len(out["mismatched"]),
        "gguf_tokenizer_mismatched_prompts": out["mismatched"][:5],
        "device": out["device"],
        "dtype": "float32",
    }
    summary = (
        f"first-token cosine {r.first_token_cosine:.6g} over {out['what']}; top-1 {agree}/"
        f"{r.steps} teacher-forced steps ({r.real_disagreements} real disagreements, "
        f"{r.near_ties} near-ties) — {g.label}"
    )
    fix = (
        "the GGUF does not compute what the release computes: compare per-tensor parity "
        "(gguf.tensor_parity) to find the drifting tensor, or export at a wider quant"
    )
    values = {
        "first_token_cosine": (r.first_token_cosine, "first-token logit cosine"),
        "min_cosine": (r.min_cosine, "min logit cosine"),
        "top1_disagreements": (r.real_disagreements, "top-1 disagreements"),
        "top1_agreement": (r.top1_agreement, "top-1 agreement"),
    }
    value, subject = values[params.measure]
    return Measurement(value, subject=subject, summary=summary, details=details, fix=fix)
