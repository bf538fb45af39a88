"""The torch model checker: device choice, weight scan, reference decoder, evaluation.

Everything that runs a model: the numeric weight scan, the reference decoder forward for the
llama / mistral / qwen2 / qwen3 recipes (``artifacts.architecture.DECODER_RECIPES``; the §2.3
family of mistral is llama), validation loss in chunks, greedy generation and
its text rules, the decode benchmark, CPU↔GPU parity and the torch.distributed sharding; any
other causal-LM family runs through transformers behind the same interface (``hf_engine``). It
consumes the typed evidence of ``artifacts`` and imports torch; check kinds import it lazily so
``gates --help`` and ``gates lint`` never pay for torch. May import ``artifacts``, ``spec`` and
``errors``; imported by ``formats``, ``checks``, ``engine`` and ``cli``.
"""
