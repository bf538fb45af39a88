"""A Hugging Face ``config.json`` dict from a GGUF file's ``<arch>.*`` hyper-parameters.

:func:`config_from_gguf` is what lets a GGUF alone stand for a release folder: the architecture
checks and the reference decoder (via :func:`albor_gates.model.weights.config_from_dict`) read
it like a config.json.
"""

from __future__ import annotations

from typing import Any

from albor_gates.artifacts.gguf import GGUFFile
from albor_gates.errors import ArtifactError
from albor_gates.formats.gguf_names import gguf_recipe, kv_float, kv_int


def config_from_gguf(evidence: GGUFFile) -> dict[str, Any]:
    """Build a Hugging Face ``config.json`` dict from a GGUF file's metadata.

    Args:
        evidence: from :func:`~albor_gates.artifacts.gguf.read_gguf`.

    Returns:
        ``architectures``, ``model_type``, ``hidden_size``, ``num_hidden_layers``,
        ``num_attention_heads``, ``num_key_value_heads``, ``head_dim``, ``intermediate_size``,
        ``vocab_size`` (rows of ``token_embd.weight``), ``max_position_embeddings``,
        ``rope_theta``, ``rms_norm_eps``, ``tie_word_embeddings`` (no ``output.weight``),
        ``hidden_act``, ``attention_bias``, ``bos_token_id`` / ``eos_token_id`` when present and
        ``rope_scaling`` when ``<arch>.rope.scaling.type`` is linear or yarn.

    Raises:
        ArtifactError: for an unmapped architecture or a missing / malformed hyper-parameter.
    """
    g = evidence
    family = gguf_recipe(g)
    a = family.gguf_arch
    what = "config.json"
    hidden = kv_int(g, f"{a}.embedding_length", what)
    layers = kv_int(g, f"{a}.block_count", what)
    heads = kv_int(g, f"{a}.attention.head_count", what)
    assert hidden is not None and layers is not None and heads is not None
    kv_heads = kv_int(g, f"{a}.attention.head_count_kv", what, required=False) or heads
    head_dim = kv_int(g, f"{a}.attention.key_length", what, required=False) or hidden // heads
    ffn = kv_int(g, f"{a}.feed_forward_length", what)
    embd = g.by_name.get("token_embd.weight")
    if embd is None:
        raise ArtifactError(f"{g.path}: no tensor 'token_embd.weight'; every decoder needs one")
    config: dict[str, Any] = {
        "architectures": [family.hf_class],
        "model_type": family.recipe,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": ffn,
        "vocab_size": embd.shape[0],
        "max_position_embeddings": kv_int(g, f"{a}.context_length", what, required=False) or 2048,
        "rope_theta": kv_float(g, f"{a}.rope.freq_base", what, required=False) or 10000.0,
        "rms_norm_eps": kv_float(g, f"{a}.attention.layer_norm_rms_epsilon", what),
        "tie_word_embeddings": "output.weight" not in g.by_name,
        "hidden_act": "silu",
    }
    if family.recipe != "qwen2":  # Qwen2 always has q/k/v biases; others say so.
        config["attention_bias"] = "blk.0.attn_q.bias" in g.by_name
    for key, name in (("bos_token_id", "bos"), ("eos_token_id", "eos")):
        value = g.metadata.get(f"tokenizer.ggml.{name}_token_id")
        if isinstance(value, int) and not isinstance(value, bool):
            config[key] = value
    scaling = g.metadata.get(f"{a}.rope.scaling.type")
    if scaling in ("linear", "yarn"):
        factor = kv_float(g, f"{a}.rope.scaling.factor", "rope_scaling")
        rope: dict[str, Any] = {"rope_type": scaling, "factor": factor}
        orig = kv_int(g, f"{a}.rope.scaling.original_context_length", what, required=False)
        if orig is not None:
            rope["original_max_position_embeddings"] = orig
        config["rope_scaling"] = rope
    return config
