"""Small tokenizers and random Hugging Face models built in-process (shared test helpers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = [
    "def fibonacci(n):\n    if n < 2:\n        return n\n"
    "    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "import numpy as np\nx = np.arange(10, dtype=np.float32)\nprint(x.sum())  # 45.0\n",
    "The quick brown fox jumps over the lazy dog. It's 2024; we've got 3 cats & 12 dogs!",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"
    "        self.items.append(item)\n",
    "Grüße aus München — naïve café, 東京タワー, привет мир, 1234567 + 89 = 1234656.",
    "for i in range(100):\n\tif i % 15 == 0:\n\t\tprint('FizzBuzz')\n",
] * 8

SAMPLES = [
    "def fibonacci(n):",
    "Hello world! It's a test, isn't it?  Two  spaces,\ttab and\nnewline\n\n  indented",
    "Grüße aus München — naïve café, 東京タワー 🦙🚀 привет",
    "x = [1, 22, 333, 4444, 55555]  # numbers\r\nwindows line",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "unseen: zebra qwxz ǅ ﬁ",
    "",
    " leading and trailing ",
]

QWEN2_RE = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def make_bpe_tokenizer(style: str = "qwen2", vocab_size: int = 400) -> Any:
    """A byte-level BPE trained on CORPUS, Qwen2-style (Split regex + ByteLevel) or GPT-2."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, trainers
    from tokenizers import pre_tokenizers as pt

    tok = Tokenizer(models.BPE())
    if style == "qwen2":
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pt.Sequence(
            [
                pt.Split(Regex(QWEN2_RE), behavior="isolated"),
                pt.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        tok.pre_tokenizer = pt.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pt.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    tok.add_tokens([AddedToken("<tool_call>", special=False, normalized=False)])
    return tok


def make_spm_tokenizer(vocab_size: int = 400) -> Any:
    """A Llama-2-style BPE with byte fallback: <unk> <s> </s>, 256 byte tokens, trained merges."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, trainers
    from tokenizers import pre_tokenizers as pt

    trainer_tok = Tokenizer(models.BPE())
    trainer_tok.normalizer = normalizers.Sequence(
        [normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]
    )
    trainer_tok.pre_tokenizer = pt.Split("▁", behavior="merged_with_next")
    trainer_tok.train_from_iterator(
        CORPUS, trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False)
    )
    trained = json.loads(trainer_tok.to_str())["model"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for text, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]):
        vocab.setdefault(text, len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    tok = Tokenizer(
        models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    )
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in ("<unk>", "<s>", "</s>")]
    )
    return tok


FAMILY_CONFIGS: dict[str, dict[str, Any]] = {
    # Shapes chosen so that K-quant fallbacks are exercised: hidden 256 fits Q4_K's 256 block,
    # intermediate 288 does not (ffn_down rows are 288 long).
    "qwen2": {"num_attention_heads": 4, "num_key_value_heads": 2},
    "qwen3": {"num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64},
    "llama": {"num_attention_heads": 4, "num_key_value_heads": 2},
    "mistral": {"num_attention_heads": 4, "num_key_value_heads": 2},
}


def make_hf_model(
    family: str, dst: Path, *, tokenizer: Any, vocab_size: int, tied: bool = True, seed: int = 0
) -> Path:
    """save_pretrained a random tiny model of ``family`` plus tokenizer files into ``dst``."""
    import torch
    import transformers

    cls = {
        "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM),
        "qwen3": (transformers.Qwen3Config, transformers.Qwen3ForCausalLM),
        "llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
        "mistral": (transformers.MistralConfig, transformers.MistralForCausalLM),
    }[family]
    cfg = cls[0](
        vocab_size=vocab_size,
        hidden_size=256,
        intermediate_size=288,
        num_hidden_layers=2,
        max_position_embeddings=512,
        rms_norm_eps=1e-6,
        rope_theta=1e6 if family.startswith("qwen") else 1e4,
        tie_word_embeddings=tied,
        bos_token_id=None if family.startswith("qwen") else 1,
        eos_token_id=0 if family.startswith("qwen") else 2,
        **FAMILY_CONFIGS[family],
    )
    torch.manual_seed(seed)
    model = cls[1](cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 1:  # norms start at 1 and biases at 0; make them informative
                p.add_(torch.randn_like(p) * 0.1)
    dst.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dst, safe_serialization=True)
    tokenizer.save(str(dst / "tokenizer.json"))
    special = {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": None}
    if not family.startswith("qwen"):
        special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    (dst / "tokenizer_config.json").write_text(
        json.dumps({**special, "chat_template": CHAT_TEMPLATE, "add_bos_token": False})
    )
    return dst
