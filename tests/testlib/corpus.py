"""Real training text and a real tokenizer for the small models tests and benchmarks train.

The text is CPython's own standard library (always on disk, no download); the tokenizer is a
byte-level BPE trained on it with the ``tokenizers`` library, id 0 = ``<|endoftext|>``.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

TRAIN_FILES = ["textwrap.py", "string.py", "shlex.py", "fnmatch.py", "glob.py", "bisect.py"]
VAL_FILE = "colorsys.py"


def stdlib_text(names: list[str]) -> str:
    """The concatenated source of the named stdlib modules (those present on this Python)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return "".join((root / n).read_text(encoding="utf-8") for n in names if (root / n).is_file())


def train_byte_bpe(text: str, vocab_size: int = 384) -> Any:
    """A GPT-2-style byte-level BPE trained on ``text`` (a ``tokenizers.Tokenizer``)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([text], trainer=trainer)
    return tok
