"""Load a GGUF file into the reference decoder: a GGUF alone is enough for the model gates.

The config comes from the GGUF metadata (:func:`~albor_gates.formats.gguf_config.config_from_gguf`),
the weights are dequantised to fp32 one tensor at a time and mapped to Hugging Face names
(llama-family q/k rows un-permuted), then cast to the compute dtype on the device — so the
val-loss, smoke and throughput gates evaluate the quantised model a runtime would run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from albor_gates.artifacts.gguf import read_gguf
from albor_gates.errors import ArtifactError
from albor_gates.formats.gguf_config import config_from_gguf
from albor_gates.formats.gguf_names import gguf_to_hf_state
from albor_gates.formats.gguf_tokenizer import tokenizer_from_gguf
from albor_gates.model.decoder import DecoderModel, assemble
from albor_gates.model.device import compute_dtype, fits_on_device, resolve_device
from albor_gates.model.weights import config_from_dict


def load_gguf_model(path: Path, device: str = "auto", dtype: Any = None) -> DecoderModel:
    """Build a :class:`DecoderModel` from a GGUF file.

    Raises:
        ArtifactError: malformed GGUF, unsupported architecture or a missing tensor.
        UsageError: the model does not fit on the device.
    """
    g = read_gguf(path)
    dev = resolve_device(device)
    dt = dtype if dtype is not None else compute_dtype(dev)
    cfg = config_from_dict(dict(config_from_gguf(g)), path)
    esize = 2 if str(dt).endswith(("bfloat16", "float16")) else 4
    fits_on_device(g.n_parameters * esize, dev, what=str(path))
    loaded = {}
    for name, tensor in gguf_to_hf_state(g):
        loaded[name] = tensor.to(device=dev, dtype=dt)
    tied = "lm_head.weight" not in loaded
    try:
        return assemble(cfg, loaded, dev, dt, prefix="model.", tied=tied, source=str(path))
    except KeyError as e:
        raise ArtifactError(f"{path}: no tensor for {e.args[0]} (GGUF names mapped to HF)") from e


def gguf_tokenizer(path: Path) -> Any:
    """The ``tokenizers.Tokenizer`` built from a GGUF file's vocabulary and merges."""
    return tokenizer_from_gguf(read_gguf(path))
