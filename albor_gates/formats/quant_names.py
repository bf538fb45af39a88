"""The GGUF exporter's ``--quant`` names, alone: validating a spec's ``quant`` reads this table.

Kept apart from :mod:`~albor_gates.formats.gguf_names` (which imports the GGUF reader, the
dequantisers and the architectures) so ``gates lint`` / ``plan`` check a gguf.* gate's params
without importing them; :mod:`~albor_gates.formats.gguf_names` re-exports it.
"""

from __future__ import annotations

#: The exporter's ``--quant`` name -> (ggml type of the weights, llama.cpp ``general.file_type``).
#: Kept apart from the exporter so validating a spec's ``quant`` does not import it.
QUANTS: dict[str, tuple[str, int]] = {
    "f32": ("F32", 0),  # LLAMA_FTYPE_ALL_F32
    "f16": ("F16", 1),  # MOSTLY_F16
    "bf16": ("BF16", 32),  # MOSTLY_BF16
    "q8_0": ("Q8_0", 7),
    "q4_0": ("Q4_0", 2),
    "q4_1": ("Q4_1", 3),
    "q5_0": ("Q5_0", 8),
    "q5_1": ("Q5_1", 9),
    "q4_k": ("Q4_K", 14),  # MOSTLY_Q4_K_S: Q4_K weights, the output tensor Q6_K (plan_tensor_type)
    "q2_k": ("Q2_K", 10),  # MOSTLY_Q2_K
    "q3_k": ("Q3_K", 11),  # MOSTLY_Q3_K_S
    "q5_k": ("Q5_K", 16),  # MOSTLY_Q5_K_S
    "q6_k": ("Q6_K", 18),  # MOSTLY_Q6_K
    "q4_k_m": ("Q4_K", 15),  # MOSTLY_Q4_K_M: some attn_v / ffn_down Q6_K (gguf_kquants.MIXES)
    "q5_k_m": ("Q5_K", 17),  # MOSTLY_Q5_K_M
}
