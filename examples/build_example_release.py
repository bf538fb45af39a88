#!/usr/bin/env python3
"""Build the bundled example release ``examples/albor-tiny-v1`` from scratch, deterministically.

The example is a small, *really trained* Qwen2-architecture language model shaped like the
albor-370m-v1 release (GATES.md §6.1, §6.4, §7.3), so every gate of albor-gates can run against
real artifacts on a laptop: real weights, a real byte-level BPE tokenizer, the per-epoch
checkpoint evidence of §6.4, a model card with front matter and a validation token set.

What the script does (every step is seeded; see ``Recipe`` for the numbers):

1. Collects the Python sources of this interpreter's standard library
   (``sysconfig.get_paths()["stdlib"]``), sorted by relative path, skipping ``site-packages`` /
   ``dist-packages``, test suites (any directory named ``test``, ``tests`` or ``idle_test``, any
   file named ``test_*.py``), files that are not UTF-8, files that NFC normalisation would change
   (the tokenizer normalises to NFC, so they could not round-trip) and files that contain a
   special-token string literally.
2. Splits *by file*: a file is in the validation split when the first 8 bytes of
   ``sha256(relative path)`` read as a big-endian integer are ``≡ 0 (mod 20)`` (≈ 5 %); the rule
   does not depend on which other files exist.
3. Trains a Qwen2-style byte-level BPE tokenizer on the training split only: NFC normaliser, the
   Qwen2 split regex followed by ByteLevel (no prefix space), ByteLevel decoder (the merges are
   learned with line breaks split off punctuation; see ``MERGE_LEARNING_SPLIT_REGEX``), 4,061
   ordinary tokens (256 bytes + merges) followed by the added special tokens ``<|endoftext|>``,
   ``<|im_start|>``, ``<|im_end|>`` (ids 4061–4063), as Qwen2 puts its added tokens after the BPE
   vocabulary. The model's vocabulary is padded to the next multiple of 64 (4,064 → 4,096), as
   Qwen pads 151,643 (+22 added) → 151,936.
4. Tokenises each file and joins them with ``<|endoftext|>``; the training stream is cut into
   non-overlapping windows of ``seq + 1`` tokens (nanoGPT style: inputs ``w[:-1]``, targets
   ``w[1:]``, consecutive windows share one boundary token), shuffled once with the seed and
   consumed in order (re-shuffled only if the run outlasts one pass).
5. Trains ``Qwen2ForCausalLM`` in fp32 on CPU with AdamW and a linear-warm-up cosine schedule.
   An *epoch* here is a fixed block of optimizer steps, as in the albor runs (there 100 steps of
   16 × 512 tokens, GATES.md §6.2), not one pass over the data. After every epoch it writes
   ``evidence/epoch-NNN.metadata.json`` with exactly the §6.4 fields and appends every step to
   ``evidence/train-log.jsonl``.
6. Writes the release folder in the publish layout of §7.3 as far as it applies without APR
   tooling (no ``.apr``, no GGUF): README.md (card with YAML front matter), LICENSE, config.json,
   generation_config.json, tokenizer.json, tokenizer_config.json, vocab.json, merges.txt and
   ``model.safetensors`` in fp16 (ship policy FALSIFY-PM-007) with the tied ``lm_head`` not
   duplicated and the identity / provenance fields of §6.4 / §7.2 in ``__metadata__``; plus
   ``eval/`` (val.bin, val.txt, README.md) and ``evidence/run.json``.
7. Reloads the written folder with transformers (fp32) and records in run.json the validation
   loss of the *released* weights on ``eval/val.bin`` (seq 256, non-overlapping windows) and the
   greedy 64-token continuation of ``def fibonacci(n):``.

Determinism: fixed seeds, ``torch.use_deterministic_algorithms(True)``, a fixed number of torch
threads (``--threads``, default 1: single-threaded; on this shared 2-core machine two OpenMP
threads were slower in wall time than one whenever other jobs ran) and a single-threaded
tokenizer trainer. Re-running with the
same library versions, thread count and CPU reproduces ``model.safetensors`` byte for byte; other
torch / oneDNN versions or thread counts may change the floating-point summation order and so the
weights (the outputs are committed, so nothing depends on bitwise reproduction elsewhere).

Usage (about 50 minutes on one CPU core for the default 24 epochs; the committed example was built
with exactly the first command, see ``argv`` in ``evidence/run.json``)::

    .venv/bin/python examples/build_example_release.py --force-under-provisioned  # → examples/albor-tiny-v1
    .venv/bin/python examples/build_example_release.py --force-under-provisioned --out /tmp/x

Without ``--force-under-provisioned`` the Chinchilla gate (D/N ≥ 20, GATES.md P0-J) refuses to
train: 24 × 75 × 16 × 256 tokens for 3.4 M parameters is D/N ≈ 2.2, and the bypass is logged in
``evidence/train.log`` and ``run.json`` so the gates can see it.
"""

from __future__ import annotations

import os

# The tokenizer trainer must run single-threaded for a reproducible result, and the variable has
# to be set before `tokenizers` is imported.
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import sysconfig  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import yaml  # noqa: E402
from safetensors.torch import save as safetensors_save  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers  # noqa: E402
from tokenizers import processors as tk_processors  # noqa: E402
from tokenizers.models import BPE  # noqa: E402
from tokenizers.trainers import BpeTrainer  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    AutoTokenizer,
    Qwen2Config,
    Qwen2ForCausalLM,
)

NAME = "albor-tiny-v1"
HERE = Path(__file__).resolve().parent
LICENSE_SOURCE = HERE / "LICENSE-Apache-2.0.txt"
# sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt; the release ships it verbatim.
LICENSE_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

# Qwen2's pre-tokenizer split (transformers/models/qwen2/tokenization_qwen2.py PRETOKENIZE_REGEX).
QWEN2_SPLIT_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# The same split without the trailing `[\r\n]*` of the punctuation branch, used only while the
# BPE merges are learned. Qwen2's split glues a line break to the punctuation before it ("):\n"
# is one pre-token), so a merge like "):" + "\n" → "):\n" is learned and a prompt that *ends* in
# "):" (the smoke prompt `def fibonacci(n):`) ends in a token that training never showed before
# a line break: a small model then continues with junk. Learned on this split, no merge joins
# punctuation to a line break, so encoding with Qwen2's exact split gives the same ids as this
# one (``check_split_equivalence`` verifies it on the whole corpus) and "):" is followed by "\n"
# in training as often as it is in the source.
MERGE_LEARNING_SPLIT_REGEX = QWEN2_SPLIT_REGEX.replace(r"]+[\r\n]*|", r"]+|")
EOT = "<|endoftext|>"
SPECIAL_TOKENS = (EOT, "<|im_start|>", "<|im_end|>")
# ChatML, as Qwen2 ships it; the model never saw chat data, the template only completes the shape.
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
TEST_DIR_NAMES = frozenset({"test", "tests", "idle_test"})
PROMPT = "def fibonacci(n):"
# What `optimizer_state_sha` in evidence/epoch-NNN.metadata.json hashes (quoted in run.json).
OPTIMIZER_STATE_SHA_DEFINITION = (
    "The serialisation is the JSON of ``param_groups`` (sorted keys) followed, for each parameter"
    " index in order and each state key in sorted order, by"
    ' ``"<index>/<key>/<dtype>/<shape>"`` and the tensor\'s raw little-endian bytes. Unlike hashing'
    " ``torch.save`` output it does not depend on the pickle / zip container format."
)


@dataclass(frozen=True)
class Recipe:
    """Every number that decides the result; recorded verbatim in evidence/run.json."""

    seed: int = 42
    threads: int = 1
    # tokenizer
    bpe_vocab_size: int = 4061  # ordinary tokens: 256 byte symbols + 3,805 merges
    bpe_min_frequency: int = 2
    vocab_pad_multiple: int = 64
    val_modulus: int = 20  # validation split: sha256(relpath)[:8] % 20 == 0
    # model (Qwen2, albor-370m-v1 shape scaled down; head_dim 64 and GQA like albor)
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 512
    max_position_embeddings: int = 1024
    rope_theta: float = 1_000_000.0
    rms_norm_eps: float = 1e-6
    initializer_range: float = 0.02
    # optimisation
    seq_len: int = 256
    batch_size: int = 16
    epochs: int = 24
    steps_per_epoch: int = 75
    peak_lr: float = 2e-3
    min_lr: float = 2e-4
    warmup_steps: int = 40
    beta1: float = 0.9
    beta2: float = 0.95
    adam_eps: float = 1e-8
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    # evaluation
    eval_seq_len: int = 256
    eval_windows: int = 256  # val.bin holds eval_windows * eval_seq_len + 1 tokens
    eval_batch: int = 32
    val_text_max_bytes: int = 100_000
    generate_tokens: int = 64


@dataclass(frozen=True)
class Corpus:
    """The collected sources, split by file."""

    root: Path
    train: list[tuple[str, str]]
    val: list[tuple[str, str]]
    skipped: dict[str, int]


def collect_corpus(root: Path, recipe: Recipe) -> Corpus:
    """Read the standard library's Python files in sorted order and split them by file.

    Args:
        root: the standard library directory.
        recipe: supplies the validation modulus.

    Returns:
        The train / validation documents as (relative path, text) and the skip counts by reason.
    """
    skipped = {"site-packages": 0, "test suite": 0, "not UTF-8": 0, "not NFC": 0, "special": 0}
    train: list[tuple[str, str]] = []
    val: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root)
        parts = rel.parts
        if "site-packages" in parts or "dist-packages" in parts:
            skipped["site-packages"] += 1
            continue
        if TEST_DIR_NAMES.intersection(parts[:-1]) or parts[-1].startswith("test_"):
            skipped["test suite"] += 1
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            skipped["not UTF-8"] += 1
            continue
        if unicodedata.normalize("NFC", text) != text:
            skipped["not NFC"] += 1
            continue
        if any(tok in text for tok in SPECIAL_TOKENS):
            skipped["special"] += 1
            continue
        key = rel.as_posix()
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        split = val if int.from_bytes(digest[:8], "big") % recipe.val_modulus == 0 else train
        split.append((key, text))
    return Corpus(root=root, train=train, val=val, skipped=skipped)


def qwen2_pre_tokenizer(split_regex: str) -> pre_tokenizers.PreTokenizer:
    """Qwen2's pre-tokenizer: the regex split (isolated) then ByteLevel without a prefix space."""
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(split_regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]
    )


def check_split_equivalence(tok: Tokenizer, texts: Sequence[str]) -> None:
    """Fail unless Qwen2's split and the merge-learning split give the same ids on every text.

    Args:
        tok: the trained tokenizer (encoding with Qwen2's split).
        texts: every document of the corpus.
    """
    other = Tokenizer.from_str(tok.to_str())
    other.pre_tokenizer = qwen2_pre_tokenizer(MERGE_LEARNING_SPLIT_REGEX)
    for i, (a, b) in enumerate(
        zip(tok.encode_batch(texts), other.encode_batch(texts), strict=True)
    ):
        if a.ids != b.ids:
            raise SystemExit(f"tokenizer: the two splits disagree on document {i}")


def train_tokenizer(texts: Sequence[str], recipe: Recipe) -> Tokenizer:
    """Train the Qwen2-style byte-level BPE tokenizer on the training texts.

    Args:
        texts: training documents.
        recipe: supplies the vocabulary size and minimum merge frequency.

    Returns:
        The tokenizer with the special tokens appended after the BPE vocabulary.
    """
    tok = Tokenizer(
        BPE(
            unk_token=None,
            continuing_subword_prefix="",
            end_of_word_suffix="",
            fuse_unk=False,
            byte_fallback=False,
        )
    )
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = qwen2_pre_tokenizer(MERGE_LEARNING_SPLIT_REGEX)
    # The keywords are accepted at run time (the stubs lack them) and make tokenizer.json carry
    # the same decoder block as Qwen2's.
    tok.decoder = decoders.ByteLevel(  # type: ignore[call-arg]
        add_prefix_space=False, trim_offsets=False, use_regex=False
    )
    tok.post_processor = tk_processors.ByteLevel(
        add_prefix_space=False, trim_offsets=False, use_regex=False
    )
    trainer = BpeTrainer(
        vocab_size=recipe.bpe_vocab_size,
        min_frequency=recipe.bpe_min_frequency,
        show_progress=False,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    tok.pre_tokenizer = qwen2_pre_tokenizer(QWEN2_SPLIT_REGEX)  # what the release encodes with
    if tok.get_vocab_size(with_added_tokens=False) != recipe.bpe_vocab_size:
        raise SystemExit(
            f"tokenizer: trained {tok.get_vocab_size(with_added_tokens=False)} tokens, expected "
            f"{recipe.bpe_vocab_size}; the corpus is too small for the requested vocabulary"
        )
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    return tok


def encode_stream(tok: Tokenizer, docs: Sequence[tuple[str, str]], eot_id: int) -> np.ndarray:
    """Tokenise documents and join them, each followed by ``<|endoftext|>``.

    Args:
        tok: the tokenizer.
        docs: (relative path, text) pairs in order.
        eot_id: id of ``<|endoftext|>``.

    Returns:
        The token stream as uint16 (the vocabulary is < 65,536).
    """
    out: list[int] = []
    for enc in tok.encode_batch([text for _, text in docs]):
        out.extend(enc.ids)
        out.append(eot_id)
    return np.asarray(out, dtype=np.uint16)


def model_config(recipe: Recipe, vocab_size: int, eot_id: int) -> dict[str, Any]:
    """Build config.json in the Qwen2.5 layout (legacy top-level ``rope_theta``).

    The top-level ``rope_theta`` / ``torch_dtype`` keys are what the albor-370m-v1 release and
    transformers 4.x write; transformers 5 maps them onto ``rope_parameters`` / ``dtype``.

    Args:
        recipe: the architecture numbers.
        vocab_size: the padded vocabulary size.
        eot_id: id of ``<|endoftext|>`` (Qwen2 base models use it as both bos and eos).

    Returns:
        The config as a JSON-ready dict with sorted keys.
    """
    cfg: dict[str, Any] = {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": eot_id,
        "eos_token_id": eot_id,
        "hidden_act": "silu",
        "hidden_size": recipe.hidden_size,
        "initializer_range": recipe.initializer_range,
        "intermediate_size": recipe.intermediate_size,
        "max_position_embeddings": recipe.max_position_embeddings,
        "max_window_layers": recipe.num_hidden_layers,
        "model_type": "qwen2",
        "num_attention_heads": recipe.num_attention_heads,
        "num_hidden_layers": recipe.num_hidden_layers,
        "num_key_value_heads": recipe.num_key_value_heads,
        "rms_norm_eps": recipe.rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": recipe.rope_theta,
        "sliding_window": recipe.max_position_embeddings,
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
        "transformers_version": transformers.__version__,
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": vocab_size,
    }
    return dict(sorted(cfg.items()))


def window_batches(
    stream: np.ndarray, recipe: Recipe, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Yield ``[batch, seq + 1]`` token windows from a seeded permutation of the stream.

    Args:
        stream: the training token stream.
        recipe: supplies seq_len and batch_size.
        generator: the seeded generator that orders the windows.

    Yields:
        int64 tensors of shape ``[batch_size, seq_len + 1]``.
    """
    seq, bsz = recipe.seq_len, recipe.batch_size
    n_windows = (len(stream) - 1) // seq
    data = torch.from_numpy(stream.astype(np.int64))
    offsets = torch.arange(seq + 1)
    while True:
        order = torch.randperm(n_windows, generator=generator)
        for i in range(0, n_windows - bsz + 1, bsz):
            starts = order[i : i + bsz] * seq
            yield data[starts[:, None] + offsets[None, :]]


@torch.no_grad()
def validation_loss(model: torch.nn.Module, ids: np.ndarray, seq: int, batch: int) -> float:
    """Mean next-token cross-entropy (nats) over non-overlapping windows of ``ids``.

    Window k has inputs ``ids[k*seq : k*seq+seq]`` and targets ``ids[k*seq+1 : k*seq+seq+1]``
    for k < (len(ids) - 1) // seq; every target token counts once. Logits in fp32; the sum is
    accumulated in fp64.

    Args:
        model: a causal LM returning ``.logits``.
        ids: the token ids.
        seq: window length.
        batch: windows per forward pass.

    Returns:
        The mean loss in nats per token.
    """
    was_training = model.training
    model.eval()
    n_windows = (len(ids) - 1) // seq
    data = torch.from_numpy(ids.astype(np.int64))
    total = 0.0
    for first in range(0, n_windows, batch):
        starts = torch.arange(first, min(first + batch, n_windows)) * seq
        win = data[starts[:, None] + torch.arange(seq + 1)[None, :]]
        logits = model(input_ids=win[:, :-1], use_cache=False).logits.float()
        total += torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), win[:, 1:].reshape(-1), reduction="sum"
        ).item()
    model.train(was_training)
    return total / (n_windows * seq)


def lr_at(step: int, recipe: Recipe) -> float:
    """Learning rate of optimizer step ``step`` (0-based): linear warm-up, then cosine decay."""
    total = recipe.epochs * recipe.steps_per_epoch
    if step < recipe.warmup_steps:
        return recipe.peak_lr * (step + 1) / recipe.warmup_steps
    progress = (step - recipe.warmup_steps) / max(1, total - recipe.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return recipe.min_lr + (recipe.peak_lr - recipe.min_lr) * cosine


def optimizer_state_sha(optimizer: torch.optim.Optimizer) -> str:
    """sha256 of the canonical serialisation ``OPTIMIZER_STATE_SHA_DEFINITION`` describes.

    Args:
        optimizer: the optimizer.

    Returns:
        The hex digest.
    """
    state = optimizer.state_dict()
    h = hashlib.sha256()
    h.update(json.dumps(state["param_groups"], sort_keys=True, default=str).encode("utf-8"))
    for index in sorted(state["state"]):
        for key in sorted(state["state"][index]):
            value = state["state"][index][key]
            tensor = value if torch.is_tensor(value) else torch.tensor(value)
            tensor = tensor.detach().contiguous().cpu()
            h.update(f"{index}/{key}/{tensor.dtype}/{list(tensor.shape)}".encode())
            h.update(tensor.numpy().tobytes())
    return h.hexdigest()


def write_json(path: Path, obj: Any) -> None:
    """Write JSON with two-space indent, UTF-8, and a final newline."""
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def train(
    model: Qwen2ForCausalLM, stream: np.ndarray, val_ids: np.ndarray, recipe: Recipe, out: Path
) -> tuple[list[dict[str, Any]], float]:
    """Train the model and write the per-epoch and per-step evidence.

    Args:
        model: the freshly initialised model (fp32).
        stream: the training token stream.
        val_ids: the validation tokens (eval/val.bin).
        recipe: the hyper-parameters.
        out: the release folder; evidence goes to ``out / "evidence"``.

    Returns:
        The epoch metadata records and the validation loss at initialisation.
    """
    evidence = out / "evidence"
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        params,
        lr=recipe.peak_lr,
        betas=(recipe.beta1, recipe.beta2),
        eps=recipe.adam_eps,
        weight_decay=recipe.weight_decay,
        foreach=False,
    )
    generator = torch.Generator().manual_seed(recipe.seed)
    batches = window_batches(stream, recipe, generator)
    init_val = validation_loss(model, val_ids, recipe.eval_seq_len, recipe.eval_batch)
    print(f"val_loss at init {init_val:.4f} (ln V = {math.log(model.config.vocab_size):.4f})")
    records: list[dict[str, Any]] = []
    tokens_seen = 0
    step = 0
    model.train()
    with (evidence / "train-log.jsonl").open("w", encoding="utf-8") as log:
        for epoch in range(recipe.epochs):
            t0 = time.perf_counter()
            losses: list[float] = []
            grad_norms: list[float] = []
            for _ in range(recipe.steps_per_epoch):
                lr = lr_at(step, recipe)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                win = next(batches)
                logits = model(input_ids=win[:, :-1], use_cache=False).logits
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), win[:, 1:].reshape(-1)
                )
                loss.backward()
                grad_norm = float(torch.nn.utils.clip_grad_norm_(params, recipe.grad_clip))
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                tokens_seen += win.shape[0] * (win.shape[1] - 1)
                losses.append(loss.item())
                grad_norms.append(grad_norm)
                log.write(
                    json.dumps(
                        {
                            "step": step,
                            "epoch": epoch,
                            "loss": losses[-1],
                            "lr": lr,
                            "grad_norm": grad_norm,
                            "tokens_seen": tokens_seen,
                        }
                    )
                    + "\n"
                )
            log.flush()
            val = validation_loss(model, val_ids, recipe.eval_seq_len, recipe.eval_batch)
            train_loss = float(np.mean(losses))
            record = {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val,
                "train_ppl": math.exp(train_loss),
                "val_ppl": math.exp(val),
                "optimizer_state_sha": optimizer_state_sha(optimizer),
                "wall_seconds": round(time.perf_counter() - t0, 3),
                "tokens_seen": tokens_seen,
                "grad_norm_max": max(grad_norms),
            }
            write_json(evidence / f"epoch-{epoch:03d}.metadata.json", record)
            records.append(record)
            print(
                f"epoch {epoch:03d}  train {train_loss:.4f}  val {val:.4f}  "
                f"gnorm_max {record['grad_norm_max']:.2f}  {record['wall_seconds']:.1f}s",
                flush=True,
            )
    return records, init_val


def save_tokenizer(tok: Tokenizer, out: Path, recipe: Recipe) -> None:
    """Write tokenizer.json, vocab.json, merges.txt and tokenizer_config.json (Qwen2 layout)."""
    tok.save(str(out / "tokenizer.json"))
    tok.model.save(str(out))  # vocab.json + merges.txt, the slow-tokenizer pair Qwen2 ships
    added = {
        str(tok.token_to_id(t)): {
            "content": t,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for t in SPECIAL_TOKENS
    }
    write_json(
        out / "tokenizer_config.json",
        {
            "add_bos_token": False,
            "add_prefix_space": False,
            "added_tokens_decoder": added,
            "additional_special_tokens": list(SPECIAL_TOKENS[1:]),
            "bos_token": None,
            "chat_template": CHAT_TEMPLATE,
            "clean_up_tokenization_spaces": False,
            "eos_token": EOT,
            "errors": "replace",
            "model_max_length": recipe.max_position_embeddings,
            "pad_token": EOT,
            "split_special_tokens": False,
            "tokenizer_class": "Qwen2Tokenizer",
            "unk_token": None,
        },
    )


def save_weights(model: Qwen2ForCausalLM, out: Path, data_source: str) -> int:
    """Write model.safetensors in fp16 without the tied lm_head; return the parameter count."""
    state = {
        name: tensor.detach().to(torch.float16).contiguous()
        for name, tensor in model.state_dict().items()
        # Tied embeddings (§6.1: upstream ties, no lm_head tensor): the head is the embedding.
        if name != "lm_head.weight"
    }
    metadata = {
        "format": "pt",
        "architecture": "qwen2",
        "hf_architecture": "Qwen2ForCausalLM",
        "hf_model_type": "qwen2",
        "license": "Apache-2.0",
        "data_source": data_source,
        "data_license": "PSF-2.0",
    }
    blob = safetensors_save(state, metadata=metadata)
    (out / "model.safetensors").write_bytes(sorted_metadata_header(blob))
    return sum(t.numel() for t in state.values())


def sorted_metadata_header(blob: bytes) -> bytes:
    """Return the safetensors bytes with the ``__metadata__`` keys in sorted order.

    safetensors serialises ``__metadata__`` from a hash map, so its key order (and with it the
    file's sha256) changes from run to run although the tensors are identical; sorting the keys
    makes the file bytes reproducible. The header keeps its length, so no offset moves.

    Args:
        blob: a complete safetensors file as written by ``safetensors.torch.save``.

    Returns:
        The same file with a canonical header.
    """
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if len(text) > size:
        raise SystemExit("safetensors: the re-serialised header is longer than the original")
    return blob[:8] + text.ljust(size, b" ") + blob[8 + size :]


def write_eval(
    out: Path, val_docs: Sequence[tuple[str, str]], val_ids: np.ndarray, recipe: Recipe
) -> int:
    """Write eval/val.bin, eval/val.txt and eval/README.md; return the val.txt document count."""
    eval_dir = out / "eval"
    val_ids.astype("<u2").tofile(eval_dir / "val.bin")
    pieces: list[str] = []
    size = 0
    for _, text in val_docs:
        piece = text + EOT
        if size + len(piece.encode("utf-8")) > recipe.val_text_max_bytes:
            break
        pieces.append(piece)
        size += len(piece.encode("utf-8"))
    if not pieces:
        raise SystemExit("eval: the first validation document alone exceeds val_text_max_bytes")
    (eval_dir / "val.txt").write_bytes("".join(pieces).encode("utf-8"))
    n_windows = (len(val_ids) - 1) // recipe.eval_seq_len
    (eval_dir / "README.md").write_text(
        f"""# Validation data of {NAME}

Both files come from the **validation split** of the corpus: the Python files of the standard
library whose relative path `p` satisfies
`int.from_bytes(sha256(p)[:8], "big") % {recipe.val_modulus} == 0` (files, not lines, are split,
so no validation text was seen in training; the tokenizer was also trained on the training split
only). Validation files are taken in sorted path order, each
tokenised on its own and followed by the `{EOT}` token.

## val.bin
- {len(val_ids):,} token ids, little-endian **uint16**, no header (nanoGPT style):
  `np.fromfile("val.bin", dtype="<u2")`.
- Evaluation windows (the definition behind every `val_loss` in this release): sequence length
  T = {recipe.eval_seq_len}, non-overlapping; window k (0 ≤ k < (N − 1) // T = {n_windows}) has
  inputs `ids[k*T : k*T + T]` and targets `ids[k*T + 1 : k*T + T + 1]`. Every position of a
  window is scored (positions start at 0 in each window, no cache, no padding), so
  {n_windows * recipe.eval_seq_len:,} target tokens each count once. val_loss is the mean
  next-token cross-entropy in nats (fp32 logits, fp64 sum); val_perplexity = exp(val_loss).

## val.txt
- The first {len(pieces)} validation files verbatim (UTF-8, original line endings), each followed
  by the literal text `{EOT}`; at most {recipe.val_text_max_bytes:,} bytes.
- Tokenising val.txt with tokenizer.json gives exactly the first tokens of val.bin (the special
  token is matched as one token), and decoding those ids gives val.txt back byte for byte.
""",
        encoding="utf-8",
    )
    return len(pieces)


def greedy_continuation(out: Path, recipe: Recipe) -> tuple[float, dict[str, Any], int]:
    """Reload the release with transformers and measure val loss and the fibonacci continuation.

    Returns:
        (val_loss of the released fp16 weights computed in fp32, generation record, param count).
    """
    model = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    val_ids = np.fromfile(out / "eval" / "val.bin", dtype="<u2")
    val = validation_loss(model, val_ids, recipe.eval_seq_len, recipe.eval_batch)
    enc = tokenizer(PROMPT, return_tensors="pt")
    with torch.no_grad():
        gen = model.generate(
            **enc,
            max_new_tokens=recipe.generate_tokens,
            min_new_tokens=recipe.generate_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
    new_ids = gen[0, enc["input_ids"].shape[1] :].tolist()
    record = {
        "prompt": PROMPT,
        "prompt_ids": enc["input_ids"][0].tolist(),
        "decoding": "greedy (do_sample=False), exactly 64 new tokens (min_new_tokens=64)",
        "continuation_ids": new_ids,
        "continuation": tokenizer.decode(new_ids, skip_special_tokens=False),
    }
    n_params = sum(p.numel() for p in model.parameters())
    return val, record, n_params


def card_text(run: dict[str, Any], recipe: Recipe) -> str:
    """Render README.md: YAML front matter (parsed back before writing) and the model card."""
    final = run["final"]
    val_loss = round(final["val_loss"], 4)
    val_ppl = round(final["val_perplexity"], 2)
    data_source = run["data"]["data_source"]
    front = {
        "library_name": "transformers",
        "license": "apache-2.0",
        "pipeline_tag": "text-generation",
        "language": ["en"],
        "tags": [
            "qwen2",
            "pytorch",
            "safetensors",
            "code",
            "python",
            "tiny",
            "example-release",
            "albor-gates",
        ],
        "datasets": [data_source],
        "metrics": ["val_loss", "val_perplexity"],
        "model-index": [
            {
                "name": NAME,
                "results": [
                    {
                        "task": {"type": "text-generation", "name": "Text Generation"},
                        "dataset": {
                            "name": f"{data_source} (validation split, eval/val.bin)",
                            "type": data_source,
                            "split": "validation",
                        },
                        "metrics": [
                            {"type": "val_loss", "name": "Validation loss", "value": val_loss},
                            {
                                "type": "val_perplexity",
                                "name": "Validation perplexity",
                                "value": val_ppl,
                            },
                        ],
                    }
                ],
            }
        ],
    }
    front_yaml = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    if yaml.safe_load(front_yaml) != front:
        raise SystemExit("card: front matter does not round-trip through YAML")
    epochs = run["epochs"]
    rows = "\n".join(
        f"| {e['epoch']} | {e['train_loss']:.4f} | {e['val_loss']:.4f} | {e['val_ppl']:.2f} | "
        f"{e['tokens_seen']:,} | {e['grad_norm_max']:.2f} |"
        for e in epochs
    )
    gen = run["generation"]["continuation"]
    fence = "```"
    vocab = run["vocab"]
    heads = recipe.num_attention_heads
    model_table = "\n".join(
        f"| {label} | {value} |"
        for label, value in (
            ("architecture", "`Qwen2ForCausalLM` (`model_type` qwen2)"),
            ("parameters", f"{run['param_count']:,} (tied embeddings counted once)"),
            (
                "layers / hidden / intermediate",
                f"{recipe.num_hidden_layers} / {recipe.hidden_size} / {recipe.intermediate_size}",
            ),
            (
                "heads / kv heads / head_dim",
                f"{heads} / {recipe.num_key_value_heads} / {recipe.hidden_size // heads}",
            ),
            (
                "vocab (config / tokenizer)",
                f"{vocab['config_vocab_size']:,} / {vocab['tokenizer_size']:,} "
                f"({vocab['bpe_tokens']:,} BPE + {len(SPECIAL_TOKENS)} special)",
            ),
            (
                "context",
                f"{recipe.max_position_embeddings} positions (trained at {recipe.seq_len})",
            ),
            ("rope_theta / rms_norm_eps", f"{recipe.rope_theta:,.0f} / {recipe.rms_norm_eps:g}"),
            ("weights", "`model.safetensors`, fp16, tied `lm_head` not stored"),
        )
    )
    return f"""---
{front_yaml}---

# {NAME}

A **tiny, really trained** Qwen2-architecture causal language model for Python code: the bundled
example release of the albor-gates repository. It is shaped like `paiml/albor-370m-v1` (same
architecture class, tokenizer style, tied embeddings, q/k/v biases, head_dim 64 with grouped-query
attention, rope_theta 1e6, padded vocabulary, per-epoch checkpoint evidence), only small enough
to commit to git and to evaluate on a laptop CPU in seconds. It exists so that release gates can
be demonstrated and tested on real artifacts. **It is not useful for anything else.**

## Model
| | |
|---|---|
{model_table}

## Training
- Data: `{data_source}` — the Python sources of the CPython {platform.python_version()} standard
  library (PSF-2.0), test suites excluded, split by file into {run["data"]["train_files"]} training
  and {run["data"]["val_files"]} validation files ({run["data"]["train_tokens"]:,} /
  {run["data"]["val_split_tokens"]:,} tokens).
- Tokenizer: byte-level BPE trained on the training split; encodes with Qwen2's exact
  pre-tokenizer, but its merges were learned with line breaks split off punctuation, so no token
  fuses `):` with a newline and a prompt ending in `):` continues like the source code does.
- Optimiser: AdamW (β1 {recipe.beta1}, β2 {recipe.beta2}, ε {recipe.adam_eps:g}, weight decay
  {recipe.weight_decay}), linear warm-up {recipe.warmup_steps} steps → peak {recipe.peak_lr:g} →
  cosine to {recipe.min_lr:g}, gradient clip {recipe.grad_clip}; batch {recipe.batch_size} × seq
  {recipe.seq_len}; {recipe.epochs} epochs × {recipe.steps_per_epoch} steps (an epoch is a block of
  steps as in the albor runs); seed {recipe.seed}; fp32 on CPU (torch threads: {recipe.threads}),
  {run["wall_seconds"]["train"]:.0f} s.

| epoch | train_loss | val_loss | val_ppl | tokens_seen | grad_norm_max |
|---|---|---|---|---|---|
{rows}

(val_loss at initialisation: {run["init_val_loss"]:.4f}; ln {run["vocab"]["config_vocab_size"]} =
{math.log(run["vocab"]["config_vocab_size"]):.4f}.)

## Evaluation
Validation loss of the released fp16 weights, evaluated in fp32 with transformers on
`eval/val.bin` ({final["val_tokens"]:,} tokens, sequence length {recipe.eval_seq_len},
non-overlapping windows; see `eval/README.md`): **val_loss {val_loss}**, **val_perplexity
{val_ppl}**.

Greedy continuation of `{PROMPT}` ({recipe.generate_tokens} tokens):

{fence}python
{PROMPT}{gen}
{fence}

## Files
`config.json`, `generation_config.json`, `model.safetensors`, `tokenizer.json`,
`tokenizer_config.json`, `vocab.json`, `merges.txt`, `LICENSE`, `eval/` (validation tokens and
text), `evidence/` (`epoch-NNN.metadata.json` per epoch, `train-log.jsonl` per step, `run.json`
with the recipe, library versions and final measurements). No `.apr` or GGUF file: those need the
aprender tool chain.

## Reproduce
`python examples/build_example_release.py` in the albor-gates repository rebuilds this folder
(about 10–15 minutes on one CPU core); with the same library versions, thread count and CPU the
weights are bit-identical.

## Licence
Weights: Apache-2.0 (see `LICENSE`). Training data: the Python standard library, PSF-2.0.
"""


CHINCHILLA_MIN = 20.0  # contracts/chinchilla-gate-v1.yaml v1.1.0 (§87)
BYPASS_LINE = "[P0-J] Chinchilla gate BYPASSED"


def chinchilla_gate(
    model: torch.nn.Module, recipe: Recipe, out: Path, force: bool
) -> dict[str, Any]:
    """P0-J: refuse to train below D/N = 20 unless forced; a forced run logs the bypass.

    D = planned training tokens (steps x batch x seq), N = the model's parameters. The bypass
    line goes to stdout and to evidence/train.log, and run.json records it, so the release's
    evidence shows the run was knowingly under-provisioned (as albor-370m-v1 was, D/N = 0.083).
    """
    n = sum(p.numel() for p in model.parameters())
    d = recipe.epochs * recipe.steps_per_epoch * recipe.batch_size * recipe.seq_len
    ratio = d / n
    record: dict[str, Any] = {
        "planned_tokens": d,
        "parameters": n,
        "ratio": ratio,
        "threshold": CHINCHILLA_MIN,
        "bypass": False,
        "bypass_logged": False,
    }
    if ratio >= CHINCHILLA_MIN:
        return record
    if not force:
        raise SystemExit(
            f"Chinchilla gate (P0-J): D/N = {ratio:.3f} < {CHINCHILLA_MIN:g}; "
            "pass --force-under-provisioned to train anyway (the bypass is logged)"
        )
    line = f"{BYPASS_LINE} (D/N = {ratio:.3f} < {CHINCHILLA_MIN:g}, --force-under-provisioned)"
    print(line, flush=True)
    with (out / "evidence" / "train.log").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    record.update(bypass=True, bypass_logged=True, log_line=line)
    return record


def replay(
    config: dict[str, Any], stream: np.ndarray, recipe: Recipe, out: Path, steps: int
) -> None:
    """Re-run the first ``steps`` optimizer steps from the same seed (AC-SHIP2-011).

    A fresh model from the same seed, a fresh optimizer and the same batch generator and LR
    schedule; each step's loss goes to evidence/replay-log.jsonl, to be compared step by step
    with train-log.jsonl.
    """
    torch.manual_seed(recipe.seed)
    model = Qwen2ForCausalLM(Qwen2Config.from_dict(config, dtype=torch.float32))
    model.float()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        params,
        lr=recipe.peak_lr,
        betas=(recipe.beta1, recipe.beta2),
        eps=recipe.adam_eps,
        weight_decay=recipe.weight_decay,
        foreach=False,
    )
    batches = window_batches(stream, recipe, torch.Generator().manual_seed(recipe.seed))
    with (out / "evidence" / "replay-log.jsonl").open("w", encoding="utf-8") as log:
        for step in range(1, steps + 1):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step - 1, recipe)
            win = next(batches)
            logits = model(input_ids=win[:, :-1], use_cache=False).logits
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), win[:, 1:].reshape(-1)
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, recipe.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            log.write(json.dumps({"step": step, "loss": loss.item()}) + "\n")
    print(f"replayed the first {steps} steps into evidence/replay-log.jsonl", flush=True)


def write_family_contract(out: Path, config: dict[str, Any]) -> None:
    """The model-family contract this architecture is registered under (AC-SHIP2-001).

    Same shape as aprender's contracts/model-families/*.yaml architecture block; status ACTIVE.
    """
    contract = {
        "contract_id": "albor-tiny-qwen2-v1",
        "version": "1.0.0",
        "status": "ACTIVE",
        "family": "qwen2",
        "architectures": config["architectures"],
        "architecture": {
            "hidden_dim": config["hidden_size"],
            "num_layers": config["num_hidden_layers"],
            "num_heads": config["num_attention_heads"],
            "num_kv_heads": config["num_key_value_heads"],
            "head_dim": config["hidden_size"] // config["num_attention_heads"],
            "intermediate_dim": config["intermediate_size"],
            "vocab_size": config["vocab_size"],
            "max_position_embeddings": config["max_position_embeddings"],
            "rope_theta": config["rope_theta"],
            "rms_norm_eps": config["rms_norm_eps"],
        },
        "constraints": {
            "attention_type": "gqa",
            "activation": "swiglu",
            "norm_type": "rmsnorm",
            "has_bias": True,
            "tied_embeddings": config["tie_word_embeddings"],
        },
    }
    (out / "contracts").mkdir(exist_ok=True)
    import yaml

    (out / "contracts" / "model-family.yaml").write_text(
        yaml.safe_dump(contract, sort_keys=True), encoding="utf-8"
    )


def write_heldout_prompts(out: Path) -> None:
    """eval/prompts.jsonl: 100 held-out signatures (see examples/make_heldout_prompts.py)."""
    sys.path.insert(0, str(HERE))
    from make_heldout_prompts import main as make_prompts

    make_prompts(out)


def copy_operator_inputs(out: Path) -> None:
    """Copy the sample operator inputs (examples/operator-inputs) into evidence/operator."""
    dst = out / "evidence" / "operator"
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted((HERE / "operator-inputs").iterdir()):
        shutil.copyfile(f, dst / f.name)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the release folder; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / NAME, help="release folder to write")
    parser.add_argument("--threads", type=int, default=Recipe.threads, help="torch threads")
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    parser.add_argument("--steps-per-epoch", type=int, default=Recipe.steps_per_epoch)
    parser.add_argument(
        "--force-under-provisioned",
        action="store_true",
        help="train below the Chinchilla D/N floor of 20 (the bypass is logged, P0-J)",
    )
    parser.add_argument(
        "--replay-steps", type=int, default=100, help="re-run the first N steps (AC-SHIP2-011)"
    )
    args = parser.parse_args(argv)
    recipe = Recipe(threads=args.threads, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch)
    t_start = time.perf_counter()
    torch.set_num_threads(recipe.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(recipe.seed)
    np.random.seed(recipe.seed)

    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    (out / "eval").mkdir(parents=True)
    (out / "evidence").mkdir()

    if hashlib.sha256(LICENSE_SOURCE.read_bytes()).hexdigest() != LICENSE_SHA256:
        raise SystemExit(f"{LICENSE_SOURCE}: not the verbatim Apache-2.0 text (sha256 differs)")
    shutil.copyfile(LICENSE_SOURCE, out / "LICENSE")
    # Byte-exact files (val.txt must round-trip, hashes must hold): no end-of-line conversion.
    (out / ".gitattributes").write_text("* -text\n", encoding="utf-8")

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    data_source = f"python-stdlib-{platform.python_version()}"
    corpus = collect_corpus(stdlib, recipe)
    print(f"corpus: {len(corpus.train)} train / {len(corpus.val)} val files from {stdlib}")

    t0 = time.perf_counter()
    tok = train_tokenizer([text for _, text in corpus.train], recipe)
    check_split_equivalence(tok, [text for _, text in corpus.train + corpus.val])
    eot_id = tok.token_to_id(EOT)
    if eot_id is None:
        raise SystemExit(f"tokenizer: {EOT} was not added")
    tokenizer_size = tok.get_vocab_size(with_added_tokens=True)
    pad = recipe.vocab_pad_multiple
    vocab_size = (tokenizer_size + pad - 1) // pad * pad
    save_tokenizer(tok, out, recipe)
    train_stream = encode_stream(tok, corpus.train, eot_id)
    val_stream = encode_stream(tok, corpus.val, eot_id)
    n_val = recipe.eval_windows * recipe.eval_seq_len + 1
    if len(val_stream) < n_val:
        raise SystemExit(f"validation split has {len(val_stream)} tokens, need {n_val}")
    val_ids = val_stream[:n_val]
    t_tok = time.perf_counter() - t0
    print(
        f"tokenizer: {tokenizer_size} tokens (config vocab {vocab_size}); "
        f"train {len(train_stream):,} / val {len(val_stream):,} tokens; {t_tok:.1f}s"
    )
    val_docs_in_txt = write_eval(out, corpus.val, val_ids, recipe)

    config = model_config(recipe, vocab_size, eot_id)
    write_json(out / "config.json", config)
    write_json(
        out / "generation_config.json",
        {
            "bos_token_id": eot_id,
            "do_sample": False,
            "eos_token_id": eot_id,
            "max_new_tokens": recipe.generate_tokens,
            "pad_token_id": eot_id,
            "transformers_version": transformers.__version__,
        },
    )
    torch.manual_seed(recipe.seed)
    model = Qwen2ForCausalLM(Qwen2Config.from_dict(config, dtype=torch.float32))
    model.float()

    chinchilla = chinchilla_gate(model, recipe, out, args.force_under_provisioned)
    t0 = time.perf_counter()
    epochs, init_val = train(model, train_stream, val_ids, recipe, out)
    t_train = time.perf_counter() - t0
    param_count = save_weights(model, out, data_source)
    t0 = time.perf_counter()
    replay(config, train_stream, recipe, out, args.replay_steps)
    t_replay = time.perf_counter() - t0
    write_family_contract(out, config)
    write_heldout_prompts(out)
    copy_operator_inputs(out)
    # the dtype of eval/val.bin, for readers that do not take it as an argument
    write_json(out / "eval" / "val.bin.json", {"dtype": "uint16"})

    t0 = time.perf_counter()
    final_val, generation, loaded_params = greedy_continuation(out, recipe)
    t_eval = time.perf_counter() - t0
    if loaded_params != param_count:
        raise SystemExit(f"reloaded model has {loaded_params} parameters, saved {param_count}")
    print(f"released weights: val_loss {final_val:.6f}; {PROMPT}{generation['continuation']!r}")

    run = {
        "name": NAME,
        "script": "examples/build_example_release.py",
        "recipe": asdict(recipe),
        "optimizer": "torch.optim.AdamW (weight decay on every parameter, foreach=False)",
        "schedule": "linear warm-up to peak_lr over warmup_steps, then cosine to min_lr",
        "epoch_definition": "a block of steps_per_epoch optimizer steps, not a pass over the data",
        "optimizer_state_sha_definition": OPTIMIZER_STATE_SHA_DEFINITION,
        "data": {
            "data_source": data_source,
            "data_license": "PSF-2.0",
            "stdlib_path": str(stdlib),
            "train_files": len(corpus.train),
            "val_files": len(corpus.val),
            "skipped_files": corpus.skipped,
            "split_rule": f'int.from_bytes(sha256(relpath)[:8], "big") % {recipe.val_modulus} == 0'
            " → validation",
            "train_tokens": int(len(train_stream)),
            "val_split_tokens": int(len(val_stream)),
            "val_files_list": [name for name, _ in corpus.val],
            "val_txt_documents": val_docs_in_txt,
        },
        "vocab": {
            "split_regex": QWEN2_SPLIT_REGEX,
            "merge_learning_split_regex": MERGE_LEARNING_SPLIT_REGEX,
            "split_equivalence": "both splits give identical ids on every train and val file",
            "bpe_tokens": tok.get_vocab_size(with_added_tokens=False),
            "special_tokens": {t: tok.token_to_id(t) for t in SPECIAL_TOKENS},
            "tokenizer_size": tokenizer_size,
            "config_vocab_size": vocab_size,
        },
        "param_count": param_count,
        "argv": list(sys.argv[1:] if argv is None else argv),
        "chinchilla": chinchilla,
        "init_val_loss": init_val,
        "epochs": epochs,
        "final": {
            "val_loss": final_val,
            "val_perplexity": math.exp(final_val),
            "val_tokens": int(len(val_ids)),
            "eval_seq_len": recipe.eval_seq_len,
            "eval_windows": (len(val_ids) - 1) // recipe.eval_seq_len,
            "weights": "model.safetensors (fp16) loaded with AutoModelForCausalLM in float32",
        },
        "generation": generation,
        "model_safetensors_sha256": hashlib.sha256(
            (out / "model.safetensors").read_bytes()
        ).hexdigest(),
        "wall_seconds": {
            "tokenizer_and_encoding": round(t_tok, 1),
            "train": round(t_train, 1),
            "final_eval_and_generation": round(t_eval, 1),
            "replay": round(t_replay, 1),
            "total": round(time.perf_counter() - t_start, 1),
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "safetensors": safetensors.__version__,
            "numpy": np.__version__,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        },
    }
    write_json(out / "evidence" / "run.json", run)
    (out / "README.md").write_text(card_text(run, recipe), encoding="utf-8")
    print(f"wrote {out} in {time.perf_counter() - t_start:.0f}s; argv {sys.argv[1:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
