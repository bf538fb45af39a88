"""Logit parity of two decoders over the same token sequences (GATES.md §7.4).

The reference and the candidate (e.g. a safetensors release and its GGUF export, both loaded
into the reference decoder) read the same ids; at every compared position the two next-token
logit vectors are compared:

* **first-token cosine** — the cosine at the last prompt position, i.e. of the logits that
  choose the first generated token (AC-SHIP2-009 / GATE-ARCH-370M-004: ≥ 1 − 1e-3 over the
  canary prompts);
* **teacher-forced top-1** — ``steps`` decode steps per sequence, every one fed the same
  token whatever either model would have chosen (apr-cli-qa-v1 ``format_parity``: ≥ 64 steps,
  top-1 must agree *unless* the two next-token distributions still have cosine ≥
  ``near_tie_cosine`` (0.98) — a near-tie that quantisation may legitimately flip). A
  disagreement below that cosine is a *real* disagreement.

The near-tie cosine is taken between the two **probability distributions** (softmax), not the
raw logits: a logit vector carries an arbitrary offset (softmax ignores it) that dominates its
cosine, so two clearly different models still have logit cosines ≥ 0.99 at almost every step
(measured: 50 % noise on every projection of a small trained model kept every step's logit
cosine above 0.99), and a 0.98 logit-cosine exemption would excuse every flip. The
distributions' cosine is ≈ 1 only when both models put the same mass on the same tokens —
exactly when an arg-max flip is a tie broken differently.

Without given continuations, the teacher tokens are the reference's own greedy continuation
(EOS ignored), so the candidate is asked the questions the reference answers. Each sequence
runs as one full forward per model (no KV cache); cosines are computed in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from albor_gates.errors import UsageError

if TYPE_CHECKING:
    import torch

    from albor_gates.model.decoder import DecoderModel

__all__ = [
    "Disagreement",
    "LogitParity",
    "SequenceParity",
    "compare_logits",
    "logit_cosines",
    "teacher_continuation",
]


@dataclass(frozen=True)
class Disagreement:
    """One decode step where the two top-1 tokens differ.

    Attributes:
        sequence: index of the sequence.
        step: decode step (0 = the first generated token).
        reference_token: the reference's arg-max.
        candidate_token: the candidate's arg-max.
        cosine: the two logit vectors' cosine at that step.
        probability_cosine: the two softmax distributions' cosine at that step.
        near_tie: whether ``probability_cosine`` is at or above the near-tie threshold
            (tolerated).
    """

    sequence: int
    step: int
    reference_token: int
    candidate_token: int
    cosine: float
    probability_cosine: float
    near_tie: bool


@dataclass(frozen=True)
class SequenceParity:
    """The comparison over one sequence.

    Attributes:
        prompt_tokens: tokens before the first compared position's successor.
        steps: decode steps compared.
        first_token_cosine: cosine of the logits that choose the first generated token.
        min_cosine: the lowest cosine over the compared steps.
        top1_agree: steps whose arg-max agrees.
        max_abs_diff: the largest ``|Δlogit|`` over the compared steps.
    """

    prompt_tokens: int
    steps: int
    first_token_cosine: float
    min_cosine: float
    top1_agree: int
    max_abs_diff: float


@dataclass(frozen=True)
class LogitParity:
    """The comparison over every sequence.

    Attributes:
        sequences: one entry per sequence, in input order.
        disagreements: every step whose top-1 differs (near-ties included, flagged).
        near_tie_cosine: the threshold the near-tie flags used.
    """

    sequences: tuple[SequenceParity, ...]
    disagreements: tuple[Disagreement, ...]
    near_tie_cosine: float

    @property
    def steps(self) -> int:
        """Decode steps compared in total."""
        return sum(s.steps for s in self.sequences)

    @property
    def first_token_cosine(self) -> float:
        """The lowest first-token cosine over the sequences."""
        return _nan_min([s.first_token_cosine for s in self.sequences])

    @property
    def min_cosine(self) -> float:
        """The lowest cosine over every compared step."""
        return _nan_min([s.min_cosine for s in self.sequences])

    @property
    def top1_agreement(self) -> float:
        """Share of steps whose arg-max agrees (near-ties count as disagreements here)."""
        total = self.steps
        return sum(s.top1_agree for s in self.sequences) / total if total else 1.0

    @property
    def real_disagreements(self) -> int:
        """Disagreements below the near-tie cosine."""
        return sum(1 for d in self.disagreements if not d.near_tie)

    @property
    def near_ties(self) -> int:
        """Disagreements tolerated as near-ties."""
        return sum(1 for d in self.disagreements if d.near_tie)

    @property
    def max_abs_diff(self) -> float:
        """The largest ``|Δlogit|`` over every compared step."""
        return max((s.max_abs_diff for s in self.sequences), default=0.0)


def _nan_min(values: Sequence[float]) -> float:
    """The minimum, NaN when any value is NaN (``min`` alone depends on the order)."""
    if any(math.isnan(v) for v in values):
        return math.nan
    return min(values, default=1.0)


def logit_cosines(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine of two ``[n, vocab]`` logit matrices, in float64.

    A row that is zero on both sides has cosine 1; zero on one side only, 0.
    """
    import torch

    da, db = a.double(), b.double()
    dot = (da * db).sum(-1)
    na = (da * da).sum(-1)
    nb = (db * db).sum(-1)
    cos = dot / torch.sqrt(na * nb)
    cos = torch.where((na == 0) & (nb == 0), torch.ones_like(cos), cos)
    cos = torch.where((na == 0) ^ (nb == 0), torch.zeros_like(cos), cos)
    return cos.clamp(max=1.0)


def teacher_continuation(reference: DecoderModel, prompt: Sequence[int], steps: int) -> list[int]:
    """The ``steps - 1`` teacher tokens after ``prompt``: the reference's greedy continuation.

    Callers comparing several candidates against one reference compute this once and pass it
    as ``continuations`` to :func:`compare_logits`.
    """
    from albor_gates.model.generate import greedy_generate

    if steps <= 1:
        return []
    g = greedy_generate(reference, list(prompt), max_new_tokens=steps - 1, ignore_eos=True)
    return list(g.token_ids)


def compare_logits(
    reference: DecoderModel,
    candidate: DecoderModel,
    prompts: Sequence[Sequence[int]],
    *,
    steps: int = 64,
    continuations: Sequence[Sequence[int]] | None = None,
    near_tie_cosine: float = 0.98,
    progress: Callable[[float, float], None] | None = None,
) -> LogitParity:
    """Compare the two decoders' next-token logits, teacher-forced.

    Args:
        reference: the decoder taken as truth (the source release).
        candidate: the decoder under test (the GGUF).
        prompts: token ids of each prompt (≥ 1 token each).
        steps: decode steps compared per sequence (≥ 1); the first is the first-token step.
        continuations: the teacher tokens after each prompt (at least ``steps - 1`` each);
            None → the reference's greedy continuation.
        near_tie_cosine: a top-1 disagreement at or above this cosine is a near-tie.
        progress: called as ``(sequences done, total)``.

    Returns:
        The :class:`LogitParity`.

    Raises:
        UsageError: empty prompts, a vocabulary mismatch, too short continuations, or a
            sequence longer than either model's context.
    """
    import torch

    if steps < 1:
        raise UsageError(f"steps must be ≥ 1, got {steps}")
    if reference.config.vocab_size != candidate.config.vocab_size:
        raise UsageError(
            f"the two models have different vocabularies ({reference.config.vocab_size} vs "
            f"{candidate.config.vocab_size} ids); their logits cannot be compared"
        )
    if continuations is not None and len(continuations) != len(prompts):
        raise UsageError(
            f"{len(continuations)} continuations for {len(prompts)} prompts; give one each"
        )
    limit = min(reference.config.max_position_embeddings, candidate.config.max_position_embeddings)
    seqs: list[SequenceParity] = []
    disagreements: list[Disagreement] = []
    for i, prompt in enumerate(prompts):
        ids = [int(t) for t in prompt]
        if not ids:
            raise UsageError(f"prompt {i} is empty: logit parity needs at least one token")
        if len(ids) + steps - 1 > limit:
            raise UsageError(
                f"prompt {i} ({len(ids)} tokens) + {steps - 1} teacher tokens exceed the "
                f"context of {limit} positions; use shorter prompts or fewer steps"
            )
        if continuations is not None:
            teacher = [int(t) for t in continuations[i]][: steps - 1]
            if len(teacher) < steps - 1:
                raise UsageError(
                    f"continuation {i} has {len(teacher)} tokens; {steps - 1} are needed"
                )
        else:
            teacher = teacher_continuation(reference, ids, steps)
        full = torch.tensor([ids + teacher], dtype=torch.long)
        first = len(ids) - 1
        a = reference.logits(full)[0, first:].float().cpu()
        b = candidate.logits(full)[0, first:].float().cpu()
        cos = logit_cosines(a, b)
        ta, tb = a.argmax(-1), b.argmax(-1)
        diff = (a - b).abs()
        flips = torch.nonzero(ta != tb).flatten()
        if flips.numel():
            pa = torch.softmax(a[flips].double(), dim=-1)
            pb = torch.softmax(b[flips].double(), dim=-1)
            pcos = logit_cosines(pa, pb).tolist()
            for k, s in enumerate(flips.tolist()):
                disagreements.append(
                    Disagreement(
                        i,
                        int(s),
                        int(ta[s]),
                        int(tb[s]),
                        float(cos[s]),
                        pcos[k],
                        pcos[k] >= near_tie_cosine,
                    )
                )
        seqs.append(
            SequenceParity(
                prompt_tokens=len(ids),
                steps=int(a.shape[0]),
                first_token_cosine=float(cos[0]),
                min_cosine=_nan_min(cos.tolist()),
                top1_agree=int((ta == tb).sum()),
                max_abs_diff=float(diff.max()),
            )
        )
        if progress is not None:
            progress(float(i + 1), float(len(prompts)))
    return LogitParity(tuple(seqs), tuple(disagreements), near_tie_cosine)
