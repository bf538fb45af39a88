"""Any causal LM: transformers' ``AutoModelForCausalLM`` behind the reference decoder's interface.

The reference decoder (:mod:`albor_gates.model.decoder`) covers the llama / mistral / qwen2 /
qwen3 recipes and stays the default for them: it is exact, faster and needs no transformers
import. A checkpoint of any other causal-LM family (gpt_neox, phi, gemma, olmo, gpt2, …) is
evaluated here through ``AutoModelForCausalLM`` — ``trust_remote_code`` is never enabled, so
only architectures shipped inside transformers run, and only safetensors weights are loaded.

:class:`HFCausalLM` offers what the evaluation, generation and benchmark code use of a
:class:`~albor_gates.model.decoder.DecoderModel`: ``config`` (vocab, max positions, bos / eos
ids, source), ``device``, ``dtype``, ``hidden_states(ids, cache)``, ``lm_head``, ``project`` and
``new_cache``. So the same windows, the same chunked loss with fp32 logits and fp64
accumulation (:func:`~albor_gates.model.evaluate.chunked_cross_entropy`), the same greedy
smoke generation and the same throughput benchmark run unchanged; ``engine`` says which
computed a number (``reference`` or ``transformers``) and the reports carry it.

The chunked loss projects final hidden states with a plain ``[vocab, hidden]`` matrix. An output
head with a bias (phi) is folded in exactly: the hidden states get a constant-1 column and the
matrix the bias column. Heads whose logits are not linear in the hidden state (gemma2's
``final_logit_softcapping``) or are rescaled (``logit_scale``, ``logits_scaling``) are refused
with one line rather than measured wrongly.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albor_gates.errors import ArtifactError, UsageError

if TYPE_CHECKING:
    import torch

#: Engine names recorded in reports.
ENGINE_REFERENCE = "reference"
ENGINE_TRANSFORMERS = "transformers"

# config.json keys whose logits are not ``hidden @ W.T + b``: refused (see the module docstring)
_NONLINEAR_HEAD_KEYS = ("final_logit_softcapping", "logit_scale", "logits_scaling")


@dataclass(frozen=True)
class HFConfig:
    """The fields of a transformers config that evaluation and generation read.

    Attributes:
        source: the config file.
        model_type: ``model_type`` (e.g. ``gpt_neox``).
        vocab_size: output rows.
        max_position_embeddings: longest sequence (``n_positions`` for gpt2).
        bos_token_id: from the config, or None.
        eos_token_ids: from the config (an int or a list), possibly empty.
    """

    source: str
    model_type: str
    vocab_size: int
    max_position_embeddings: int
    bos_token_id: int | None
    eos_token_ids: tuple[int, ...]


def model_folder(path: str | os.PathLike[str]) -> Path:
    """The folder holding ``config.json`` for a weights file, index or folder."""
    p = Path(path)
    return p if p.is_dir() else p.parent


def needs_transformers(config: Any) -> bool:
    """Whether a config.json object describes a family the reference decoder lacks.

    Args:
        config: the parsed ``config.json`` (a mapping), or None when there is none.
    """
    from albor_gates.artifacts.architecture import decoder_recipe

    if not isinstance(config, dict):
        return False
    return decoder_recipe(config.get("model_type"), config.get("architectures")) is None


class HFCausalLM:
    """A transformers causal LM with the reference decoder's evaluation interface.

    Build it with :func:`load_hf_model`.

    Attributes:
        config: :class:`HFConfig`.
        device: where the weights live.
        dtype: compute dtype.
        lm_head: ``[vocab, hidden (+1 with a head bias)]`` output projection.
        source: the folder the model was loaded from.
        engine: ``"transformers"``.
    """

    engine = ENGINE_TRANSFORMERS

    def __init__(self, model: Any, config: HFConfig, device: torch.device, dtype: torch.dtype):
        """Wrap a loaded ``PreTrainedModel`` (use :func:`load_hf_model` instead)."""
        import torch

        self.model = model
        self.config = config
        self.device = device
        self.dtype = dtype
        self.source = config.source
        # transformers 5 renames the forward's ``past_key_values`` to ``cache``; older ones
        # know only the first
        params = inspect.signature(model.base_model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        head = model.get_output_embeddings()
        weight = head.weight.detach()
        bias = getattr(head, "bias", None)
        self._bias = bias is not None
        if bias is not None:
            weight = torch.cat([weight, bias.detach()[:, None].to(weight.dtype)], dim=1)
        self.lm_head = weight

    def hidden_states(self, input_ids: torch.Tensor, cache: Any = None) -> torch.Tensor:
        """Final hidden states (after the last norm), ``[batch, seq, hidden (+1)]``.

        Args:
            input_ids: ``[batch, seq]`` token ids.
            cache: a cache from :meth:`new_cache` (advanced in place), or None.
        """
        import torch

        with torch.inference_mode():
            extra: dict[str, Any] = {"use_cache": cache is not None}
            if cache is not None:
                extra[self._cache_arg] = cache
            out = self.model.base_model(input_ids=input_ids.to(self.device), **extra)
            h = out.last_hidden_state
            if self._bias:
                h = torch.cat([h, torch.ones_like(h[..., :1])], dim=-1)
        return h

    def project(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits (fp32) of final hidden states."""
        import torch.nn.functional as F

        return F.linear(hidden, self.lm_head).float()

    def logits(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Full forward: ``[batch, seq]`` ids → ``[batch, seq, vocab]`` fp32 logits."""
        return self.project(self.hidden_states(input_ids))

    def new_cache(self, batch: int, capacity: int) -> Any:
        """A transformers ``DynamicCache`` (grown as decoding goes; ``capacity`` unused)."""
        from transformers import DynamicCache

        del batch, capacity
        return DynamicCache(config=self.model.config)

    def random_init(self, *, seed: int = 0, std: float = 0.02) -> HFCausalLM:
        """The same architecture from scratch (transformers' own init, ``initializer_range``).

        The init-loss signal's baseline, as :func:`~albor_gates.model.decoder.random_init_like`
        is for the reference decoder; seeded, so reproducible.
        """
        import copy

        import torch
        from transformers import AutoModelForCausalLM

        cfg = copy.deepcopy(self.model.config)
        if hasattr(cfg, "initializer_range"):
            cfg.initializer_range = std
        torch.manual_seed(seed)
        fresh = AutoModelForCausalLM.from_config(cfg, dtype=self.dtype)
        return HFCausalLM(fresh.to(self.device).eval(), self.config, self.device, self.dtype)


def _positions(raw: dict[str, Any]) -> int:
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = raw.get(key)
        if isinstance(value, int) and value > 0:
            return value
    # no declared limit (e.g. pure-RoPE configs): the windows are bounded by --seq-len only
    return 1 << 30


def _eos(value: Any) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, int))
    return ()


def load_hf_model(
    path: str | os.PathLike[str], device: torch.device, dtype: torch.dtype | None = None
) -> HFCausalLM:
    """Load a safetensors checkpoint of any in-library causal-LM family.

    Args:
        path: a weights file, an index or a folder, with ``config.json`` in the same folder.
        device: where to compute.
        dtype: compute dtype; None → the device policy (fp32 CPU, bf16 CUDA).

    Raises:
        UsageError: transformers is not installed.
        ArtifactError: a family transformers does not ship, a non-linear output head, or
            weights transformers cannot load (one line with the cause).
    """
    from albor_gates.artifacts.config import read_config
    from albor_gates.model.device import compute_dtype

    folder = model_folder(path)
    cfg_path = folder / "config.json"
    raw = dict(read_config(cfg_path).raw)
    model_type = str(raw.get("model_type") or "?")
    for key in _NONLINEAR_HEAD_KEYS:
        value = raw.get(key)
        if value not in (None, 1, 1.0):
            raise ArtifactError(
                f"{cfg_path}: {key} = {value!r} makes the logits non-linear in the hidden "
                f"state; the chunked loss of the transformers engine cannot reproduce "
                f"{model_type} exactly: evaluate it with transformers directly"
            )
    try:
        import transformers
    except ImportError as e:
        raise UsageError(
            f"{cfg_path}: model_type {model_type!r} is outside the reference decoder "
            f"(llama, mistral, qwen2, qwen3); install transformers (pip install "
            f"'albor-gates[transformers]') to evaluate it"
        ) from e
    dt = dtype if dtype is not None else compute_dtype(device)
    try:
        model: Any = transformers.AutoModelForCausalLM.from_pretrained(
            folder,
            dtype=dt,
            trust_remote_code=False,  # never run code shipped with a checkpoint
            use_safetensors=True,
            local_files_only=True,
        )
    except (ValueError, OSError, KeyError, RuntimeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ArtifactError(
            f"{folder}: transformers cannot load model_type {model_type!r} as a causal LM "
            f"({first[:300]})"
        ) from e
    model = model.to(device).eval()
    config = HFConfig(
        source=str(cfg_path),
        model_type=model_type,
        vocab_size=int(model.get_output_embeddings().weight.shape[0]),
        max_position_embeddings=_positions(raw),
        bos_token_id=raw.get("bos_token_id") if isinstance(raw.get("bos_token_id"), int) else None,
        eos_token_ids=_eos(raw.get("eos_token_id")),
    )
    return HFCausalLM(model, config, device, dt)


def load_causal_lm(
    path: str | os.PathLike[str], device: torch.device, dtype: torch.dtype | None = None
) -> Any:
    """The reference decoder for its families (the default), transformers for any other.

    The choice follows ``config.json`` beside the weights (``model_type``, else
    ``architectures[0]``); without a config the reference decoder reports what is missing.
    """
    from albor_gates.artifacts.config import read_config

    cfg_path = model_folder(path) / "config.json"
    if cfg_path.is_file() and needs_transformers(dict(read_config(cfg_path).raw)):
        return load_hf_model(path, device, dtype)
    from albor_gates.model.decoder import load_model

    return load_model(path, device, dtype)


def random_init(model: Any, *, seed: int = 0, std: float = 0.02) -> Any:
    """From-scratch weights of the same architecture, whichever engine holds the model."""
    if isinstance(model, HFCausalLM):
        return model.random_init(seed=seed, std=std)
    from albor_gates.model.decoder import random_init_like

    return random_init_like(model, seed=seed, std=std)


def engine_of(model: Any) -> str:
    """Which engine computes with ``model``: ``reference`` or ``transformers``."""
    return str(getattr(model, "engine", ENGINE_REFERENCE))
