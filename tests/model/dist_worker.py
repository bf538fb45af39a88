"""Worker run by ``torchrun`` in test_distributed.py: one rank of a distributed val-loss."""

from __future__ import annotations

import json
import sys

from albor_gates.model.decoder import load_model
from albor_gates.model.distributed import (
    evaluate_loss_distributed,
    init_distributed,
    shutdown,
)
from albor_gates.model.tokens import load_tokens, make_windows


def main(model_dir: str, tokens: str, out: str) -> None:
    ctx = init_distributed("cpu")
    model = load_model(model_dir, ctx.device)
    windows = make_windows(load_tokens(tokens), 32, vocab_size=model.config.vocab_size)
    result = evaluate_loss_distributed(model, windows, batch_size=3, chunk_size=64)
    if ctx.rank == 0:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump({"backend": ctx.backend, **result.__dict__}, fh)
    shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:4])
