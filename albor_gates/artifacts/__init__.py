"""Artifact readers: files in, typed frozen evidence out; they read, they never judge.

Bounded parsers for everything a release holds: safetensors headers and sharded indexes,
GGUF, config.json, tokenizer files, the model card, evidence and log files, plus the
architecture facts (family and decoder-recipe vocabularies, expected shapes) derived from them.
Each file has exactly one reader here; check kinds reach them through ``checks/evidence.py``.
Every error names the file, key or byte offset and the fix. May import ``spec`` and
``errors``; imported by every floor above it (``model``, ``formats``, ``checks``, ``engine``,
``cli``). Never imports torch.
"""
