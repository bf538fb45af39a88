"""File formats written and converted: GGUF mapping, export and quantisation, safetensors stamping.

Where ``artifacts`` reads, this floor writes: the safetensors header rewrite of ``gates
stamp`` and the GGUF export of ``gates export`` with the quantisers (byte-identical to
ggml's reference), plus the tensor/logit parity of a GGUF against its source. May import
``model``, ``artifacts``, ``spec`` and ``errors``; imported by ``checks``, ``engine`` and ``cli``.
"""
