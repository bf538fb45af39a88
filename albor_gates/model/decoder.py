"""A small reference decoder-only forward in torch for llama, mistral, qwen2 and qwen3.

Built from ``config.json`` + safetensors (see :mod:`albor_gates.model.weights` for what is
read and supported), it computes exactly what transformers' ``*ForCausalLM`` computes:

* RMSNorm in fp32, cast back to the compute dtype, then scaled by the weight;
* RoPE (``default``, ``linear``, ``dynamic``, ``yarn``, ``llama3``) with the rotate-half
  layout;
* attention through ``torch.nn.functional.scaled_dot_product_attention`` with GQA
  (``enable_gqa``), q/k/v biases (qwen2; llama/qwen3 ``attention_bias``), per-head q/k RMSNorm
  (qwen3) and an optional sliding window (mistral; qwen2/qwen3 ``use_sliding_window``);
* a SwiGLU MLP; tied embeddings when the config asks for them or no ``lm_head`` is stored.

For speed the loader fuses q/k/v into one projection and gate/up into another (one matmul
instead of three / two; the results agree with the separate projections to fp32 rounding).

Weights and activations are held in the device's policy dtype (fp32 on CPU, bf16 on CUDA; see
:mod:`albor_gates.model.device`). :meth:`DecoderModel.hidden_states` returns the final-normed
hidden states so callers can project onto the vocabulary in chunks
(:mod:`albor_gates.model.evaluate`); :meth:`DecoderModel.logits` projects whole tensors and
is meant for short inputs and tests.

KV cache: :class:`KVCache` preallocates keys and values for ``capacity`` positions per layer;
a forward with a cache appends at ``cache.length`` and attends over everything cached so far
(prefill + step decode equals the full forward). Batched generation passes ``left_pad`` (per
row, the number of pad slots before the prompt): each row's positions start at 0 after its pad
and no query attends to a pad key, so a row computes what it computes alone;
:meth:`KVCache.select` drops finished rows.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from albor_gates.artifacts.checkpoint import Checkpoint, open_checkpoint
from albor_gates.artifacts.config import read_config
from albor_gates.errors import ArtifactError, UsageError
from albor_gates.model.device import compute_dtype, fits_on_device, resolve_device
from albor_gates.model.weights import (
    DecoderConfig,
    RopeConfig,
    TensorPlan,
    config_path,
    decoder_config,
    plan_tensors,
    weight_bytes,
)

if TYPE_CHECKING:
    import torch


def rope_inv_freq(
    rope: RopeConfig, head_dim: int, max_pos: int, seq_len: int | None = None
) -> tuple[torch.Tensor, float]:
    """Inverse frequencies and the cos/sin scale for a RoPE variant (fp32, CPU).

    Formulas follow transformers' ``modeling_rope_utils.py`` (``_compute_*_parameters``).

    Args:
        rope: the rotary configuration.
        head_dim: per-head width (all of it is rotated).
        max_pos: ``max_position_embeddings``.
        seq_len: current total length; only ``dynamic`` uses it (beyond ``max_pos``).

    Returns:
        (inv_freq of shape ``[head_dim // 2]``, attention scaling factor for cos/sin).
    """
    import torch

    dim = head_dim
    base = rope.theta
    idx = torch.arange(0, dim, 2, dtype=torch.int64).to(torch.float32)
    if rope.rope_type == "dynamic":
        length = max(seq_len or max_pos, max_pos)
        base = base * ((rope.factor * length / max_pos) - (rope.factor - 1)) ** (dim / (dim - 2))
        return 1.0 / (base ** (idx / dim)), 1.0
    inv_freq = 1.0 / (base ** (idx / dim))
    if rope.rope_type == "default":
        return inv_freq, 1.0
    if rope.rope_type == "linear":
        return inv_freq / rope.factor, 1.0
    if rope.rope_type == "llama3":
        assert rope.low_freq_factor is not None and rope.high_freq_factor is not None
        old_ctx = float(rope.original_max_position_embeddings or max_pos)
        low_wl = old_ctx / rope.low_freq_factor
        high_wl = old_ctx / rope.high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_wl, inv_freq / rope.factor, inv_freq)
        smooth = (old_ctx / wavelen - rope.low_freq_factor) / (
            rope.high_freq_factor - rope.low_freq_factor
        )
        smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        return torch.where(medium, smoothed, scaled), 1.0
    # yarn
    factor = rope.factor

    def get_mscale(scale: float, mscale: float = 1.0) -> float:
        return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

    attention = rope.attention_factor
    if attention is None:
        if rope.mscale and rope.mscale_all_dim:
            attention = get_mscale(factor, rope.mscale) / get_mscale(factor, rope.mscale_all_dim)
        else:
            attention = get_mscale(factor)
    original = float(rope.original_max_position_embeddings or max_pos)

    def correction_dim(rotations: float) -> float:
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low = correction_dim(rope.beta_fast)
    high = correction_dim(rope.beta_slow)
    if rope.truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # transformers' guard against a zero-width ramp
    pos_freqs = base ** (torch.arange(0, dim, 2).to(torch.float32) / dim)
    extrapolation = 1.0 / pos_freqs
    interpolation = 1.0 / (factor * pos_freqs)
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
    extra_factor = 1 - ramp
    inv = interpolation * (1 - extra_factor) + extrapolation * extra_factor
    return inv, float(attention)


@dataclass
class _Layer:
    ln1: torch.Tensor
    ln2: torch.Tensor
    w_qkv: torch.Tensor
    b_qkv: torch.Tensor | None
    w_o: torch.Tensor
    b_o: torch.Tensor | None
    q_norm: torch.Tensor | None
    k_norm: torch.Tensor | None
    w_gate_up: torch.Tensor
    b_gate_up: torch.Tensor | None
    w_down: torch.Tensor
    b_down: torch.Tensor | None
    sliding: bool


class KVCache:
    """Preallocated keys and values for incremental decoding.

    Attributes:
        keys: per layer, ``[batch, kv_heads, capacity, head_dim]``.
        values: same shape as ``keys``.
        length: positions filled so far (the next token's position).
        capacity: positions allocated.
    """

    def __init__(self, model: DecoderModel, batch: int, capacity: int) -> None:
        """Allocate a cache for ``batch`` sequences of up to ``capacity`` positions.

        Args:
            model: the decoder the cache belongs to.
            batch: number of sequences decoded together.
            capacity: longest total length (prompt + new tokens).
        """
        import torch

        if capacity <= 0 or batch <= 0:
            raise UsageError(f"KV cache needs batch ≥ 1 and capacity ≥ 1, got {batch} × {capacity}")
        cfg = model.config
        shape = (batch, cfg.num_kv_heads, capacity, cfg.head_dim)
        self.keys = [
            torch.empty(shape, dtype=model.dtype, device=model.device)
            for _ in range(cfg.num_layers)
        ]
        self.values = [
            torch.empty(shape, dtype=model.dtype, device=model.device)
            for _ in range(cfg.num_layers)
        ]
        self.length = 0
        self.capacity = capacity

    def select(self, rows: torch.Tensor) -> None:
        """Keep only ``rows`` (indices into the batch), e.g. once other rows have finished.

        Args:
            rows: 1-D int64 indices, in the order the next forward's batch uses.
        """
        self.keys = [k.index_select(0, rows) for k in self.keys]
        self.values = [v.index_select(0, rows) for v in self.values]


class DecoderModel:
    """The reference decoder, holding its weights on one device in one dtype.

    Build it with :func:`load_model`. Forward methods run under ``torch.inference_mode``.

    Attributes:
        config: the parsed :class:`DecoderConfig`.
        device: where the weights live.
        dtype: the compute dtype.
        embed: ``[vocab, hidden]`` embedding matrix.
        lm_head: ``[vocab, hidden]`` output projection (the embedding itself when tied).
        tied: whether ``lm_head`` is the embedding.
        source: the path the model was loaded from.
        unused_tensors: stored tensors the decoder does not use (e.g. ``rotary_emb.inv_freq``).
    """

    def __init__(
        self,
        config: DecoderConfig,
        device: torch.device,
        dtype: torch.dtype,
        embed: torch.Tensor,
        lm_head: torch.Tensor,
        norm: torch.Tensor,
        layers: list[_Layer],
        *,
        tied: bool,
        source: str = "",
        unused_tensors: tuple[str, ...] = (),
    ) -> None:
        """Assemble a model from loaded tensors (use :func:`load_model` instead)."""
        self.config = config
        self.device = device
        self.dtype = dtype
        self.embed = embed
        self.lm_head = lm_head
        self.norm = norm
        self._layers = layers
        self.tied = tied
        self.source = source
        self.unused_tensors = unused_tensors
        self._rope_cache: tuple[int, torch.Tensor, torch.Tensor] | None = None
        # fp32 (the CPU policy) takes fused kernels that round as the step-by-step forms do
        self._fp32 = str(dtype) == "torch.float32"
        self._cpu_bf16 = str(dtype) == "torch.bfloat16" and str(device).startswith("cpu")

    # ------------------------------------------------------------------ helpers

    @property
    def num_parameters(self) -> int:
        """Parameters actually used (tied embeddings counted once)."""
        total = self.embed.numel() + self.norm.numel()
        if not self.tied:
            total += self.lm_head.numel()
        for layer in self._layers:
            for t in (
                layer.ln1,
                layer.ln2,
                layer.w_qkv,
                layer.b_qkv,
                layer.w_o,
                layer.b_o,
                layer.q_norm,
                layer.k_norm,
                layer.w_gate_up,
                layer.b_gate_up,
                layer.w_down,
                layer.b_down,
            ):
                if t is not None:
                    total += t.numel()
        return int(total)

    def forward_flops_per_token(self, context: int) -> float:
        """Approximate forward FLOPs per token: 2 × matmul parameters + attention.

        Args:
            context: average number of keys each query attends to.

        Returns:
            FLOPs (multiply-add counted as 2) including the vocabulary projection.
        """
        cfg = self.config
        matmul_params = self.lm_head.numel()
        for layer in self._layers:
            matmul_params += layer.w_qkv.numel() + layer.w_o.numel()
            matmul_params += layer.w_gate_up.numel() + layer.w_down.numel()
        attention = 4 * cfg.num_layers * cfg.num_heads * cfg.head_dim * context
        return 2.0 * matmul_params + attention

    def _rms(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        if self._fp32:
            # one fused kernel instead of six passes; in fp32 it rounds as the three-step form
            # below does (tests/model/test_decoder.py holds both equal to transformers)
            return F.rms_norm(x, (x.shape[-1],), weight, self.config.rms_norm_eps)
        if self._cpu_bf16:
            # the fused kernel normalises in fp32 and rounds once to bf16, as the three steps
            # below do (0 of 56 M values differ, 5 widths × 3 scales), in 2 passes instead of 6
            return weight * F.rms_norm(x, (x.shape[-1],), None, self.config.rms_norm_eps)
        # transformers' RMSNorm: statistics in fp32, cast back, then scale (same rounding).
        xf = x.to(torch.float32)
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.config.rms_norm_eps)
        return weight * xf.to(x.dtype)

    def _cos_sin(self, start: int, end: int) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        cfg = self.config
        if cfg.rope.rope_type == "dynamic" and end > cfg.max_position_embeddings:
            # NTK-dynamic frequencies depend on the current length (transformers'
            # dynamic_rope_update recomputes them per forward from max(position) + 1).
            inv, scale = rope_inv_freq(cfg.rope, cfg.head_dim, cfg.max_position_embeddings, end)
            pos = torch.arange(start, end, dtype=torch.float32)
            freqs = pos[:, None] * inv[None, :]
            emb = torch.cat((freqs, freqs), dim=-1)
            cos = (emb.cos() * scale).to(self.device, self.dtype)
            sin = _signed((emb.sin() * scale).to(self.device, self.dtype))
            return cos, sin
        cache = self._rope_cache
        if cache is None or cache[0] < end:
            length = max(end, 2 * (cache[0] if cache else 0), 256)
            if cfg.rope.rope_type == "dynamic":
                length = min(length, cfg.max_position_embeddings)
                length = max(length, end)
            inv, scale = rope_inv_freq(cfg.rope, cfg.head_dim, cfg.max_position_embeddings)
            pos = torch.arange(length, dtype=torch.float32)
            freqs = pos[:, None] * inv[None, :]
            emb = torch.cat((freqs, freqs), dim=-1)
            cache = (
                length,
                (emb.cos() * scale).to(self.device, self.dtype),
                _signed((emb.sin() * scale).to(self.device, self.dtype)),
            )
            self._rope_cache = cache
        return cache[1][start:end], cache[2][start:end]

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """RoPE, rotate-half layout: ``x·cos + (-x₂, x₁)·sin`` with ``sin`` from :func:`_signed`.

        ``sin``'s first half is negated once in the table, so the rotation is a roll (one copy)
        instead of a negation and a concatenation; negation is exact, so every value rounds as
        transformers' ``x * cos + rotate_half(x) * sin`` does.
        """
        import torch

        return (x * cos).add_(torch.roll(x, x.shape[-1] // 2, -1).mul_(sin))

    def _residual(
        self, x: torch.Tensor, a: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        """``x + a @ wᵀ (+ bias)``; in fp32 the add is the GEMM epilogue (β = 1): one pass less."""
        import torch
        import torch.nn.functional as F

        if not self._fp32 or bias is not None:
            return x + F.linear(a, w, bias)
        out = torch.addmm(x.reshape(-1, x.shape[-1]), a.reshape(-1, a.shape[-1]), w.t())
        return out.view(x.shape)

    def _mask(self, start: int, t: int, total: int, window: int | None) -> torch.Tensor:
        import torch

        q = torch.arange(start, start + t, device=self.device)[:, None]
        k = torch.arange(total, device=self.device)[None, :]
        allowed = k <= q
        if window is not None:
            allowed = allowed & (k > q - window)
        return allowed

    # ------------------------------------------------------------------ forward

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        cache: KVCache | None = None,
        *,
        left_pad: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Run the decoder stack and the final RMSNorm.

        Args:
            input_ids: ``[batch, seq]`` token ids (int64) on any device.
            cache: a :class:`KVCache` to append to (positions continue at ``cache.length``),
                or None for a fresh forward from position 0.
            left_pad: per row, the number of pad slots before its first real token (int64 on
                the CPU, ``[batch]``); row ``r``'s slot ``s`` has position ``s - left_pad[r]``
                and pad slots are never attended to. None: no padding.

        Returns:
            ``[batch, seq, hidden]`` in the compute dtype.

        Raises:
            UsageError: ids outside the vocabulary, or the cache would overflow.
        """
        import torch
        import torch.nn.functional as F

        cfg = self.config
        if input_ids.dim() != 2:
            raise UsageError(f"input_ids must be [batch, seq], got shape {list(input_ids.shape)}")
        b, t = input_ids.shape
        start = cache.length if cache is not None else 0
        end = start + t
        if cache is not None and end > cache.capacity:
            raise UsageError(f"KV cache holds {cache.capacity} positions; {end} were needed")
        if t and input_ids.device.type == "cpu":
            # Checked on the host (no device sync); ids produced on the device by argmax over
            # the model's own vocabulary are in range by construction.
            lo, hi = torch.aminmax(input_ids)
            if int(lo) < 0 or int(hi) >= cfg.vocab_size:
                raise UsageError(
                    f"token id {int(hi) if int(hi) >= cfg.vocab_size else int(lo)} is outside "
                    f"the model vocabulary [0, {cfg.vocab_size})"
                )
        ids = input_ids.to(self.device, torch.long)
        if left_pad is not None and not bool(left_pad.any()):
            left_pad = None  # no row is padded: the plain path, and its fused causal kernel
        with torch.inference_mode():
            x = F.embedding(ids, self.embed)
            masks: dict[bool, torch.Tensor | None] = {}
            if left_pad is None:
                cos, sin = self._cos_sin(start, end)
                cos, sin = cos[:, None], sin[:, None]  # [t, 1, hd]: broadcast over heads
            else:
                cos, sin = self._padded_cos_sin(left_pad, start, end, masks)
            nh, nkv, hd = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim
            q_out, kv_out = nh * hd, nkv * hd
            for li, layer in enumerate(self._layers):
                window = cfg.sliding_window if layer.sliding else None
                h = self._rms(x, layer.ln1)
                qkv = F.linear(h, layer.w_qkv, layer.b_qkv)
                if layer.q_norm is not None and layer.k_norm is not None:
                    q = self._rotate(
                        self._rms(qkv[..., :q_out].view(b, t, nh, hd), layer.q_norm), cos, sin
                    )
                    k = self._rotate(
                        self._rms(
                            qkv[..., q_out : q_out + kv_out].view(b, t, nkv, hd), layer.k_norm
                        ),
                        cos,
                        sin,
                    )
                else:
                    # q and k side by side in the fused projection: one rotation for both
                    qk = self._rotate(qkv[..., : q_out + kv_out].view(b, t, nh + nkv, hd), cos, sin)
                    q, k = qk[:, :, :nh], qk[:, :, nh:]
                q, k = q.transpose(1, 2), k.transpose(1, 2)
                v = qkv[..., q_out + kv_out :].view(b, t, nkv, hd).transpose(1, 2)
                if cache is not None:
                    cache.keys[li][:, :, start:end] = k
                    cache.values[li][:, :, start:end] = v
                    k = cache.keys[li][:, :, :end]
                    v = cache.values[li][:, :, :end]
                attn = self._attend(q, k, v, start, t, end, window, masks, layer.sliding)
                attn = attn.transpose(1, 2).reshape(b, t, q_out)
                x = self._residual(x, attn, layer.w_o, layer.b_o)
                h = self._rms(x, layer.ln2)
                gu = F.linear(h, layer.w_gate_up, layer.b_gate_up)
                inter = cfg.intermediate_size
                act = F.silu(gu[..., :inter]).mul_(gu[..., inter:])  # in place: one buffer less
                del gu
                x = self._residual(x, act, layer.w_down, layer.b_down)
            x = self._rms(x, self.norm)
        if cache is not None:
            cache.length = end
        return x

    def _padded_cos_sin(
        self, left_pad: torch.Tensor, start: int, end: int, masks: dict[bool, torch.Tensor | None]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-row RoPE tables ``[batch, t, 1, head_dim]`` and the pad-aware masks."""
        import torch

        pad = left_pad.to(torch.long)
        # the longest row's length bounds every position (NTK-dynamic RoPE depends on it)
        table_cos, table_sin = self._cos_sin(0, end - int(pad.min()))
        slots = torch.arange(start, end)
        pos = (slots[None, :] - pad[:, None]).clamp_(min=0)  # pad slots: any valid position
        idx = pos.to(self.device)
        keys = torch.arange(end)[None, None, :]
        q = slots[None, :, None]
        # a pad query sees itself only, so its softmax is finite; real queries never see pads
        real = (keys >= pad[:, None, None]) | (keys == q)
        for sliding in (False, True):
            allowed = real & (keys <= q)
            if sliding and self.config.sliding_window is not None:
                allowed = allowed & (keys > q - self.config.sliding_window)
            masks[sliding] = allowed[:, None].to(self.device)  # [batch, 1, t, end]
        return table_cos[idx][:, :, None], table_sin[idx][:, :, None]

    def _attend(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        start: int,
        t: int,
        end: int,
        window: int | None,
        masks: dict[bool, torch.Tensor | None],
        sliding: bool,
    ) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        cfg = self.config
        gqa = cfg.num_kv_heads != cfg.num_heads
        if t == 1:
            mask = masks.get(sliding)  # set only for padded batches: [batch, 1, 1, end]
            if window is not None and end > window:
                k = k[:, :, end - window :]
                v = v[:, :, end - window :]
                mask = None if mask is None else mask[..., end - window :]
            # One query per head: fold the query heads of a group into the sequence axis so the
            # step is plain multi-query attention (no causal mask is needed for a single query;
            # a padded batch's mask broadcasts over the group axis). Three small ops, not SDPA:
            # its CPU flash kernel took 9-23 ms a call at this size on the shared 2 cores, these
            # 0.04-0.45 ms (issue 14), and KV-cache steps stay equal to the full forward.
            b = q.shape[0]
            qg = q.reshape(b, cfg.num_kv_heads, -1, cfg.head_dim)
            scores = torch.matmul(qg, k.transpose(-1, -2)).mul_(cfg.head_dim**-0.5)
            if mask is not None:
                scores.masked_fill_(~mask, float("-inf"))
            out = torch.matmul(scores.softmax(dim=-1), v)
            return out.reshape(b, cfg.num_heads, 1, cfg.head_dim)
        if sliding not in masks and start == 0 and (window is None or window >= end):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=gqa)
        if sliding not in masks:
            masks[sliding] = self._mask(start, t, end, window)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=masks[sliding], enable_gqa=gqa)

    def project(self, hidden: torch.Tensor) -> torch.Tensor:
        """Project hidden states onto the vocabulary, returning fp32 logits.

        Args:
            hidden: ``[..., hidden]`` in the compute dtype.

        Returns:
            ``[..., vocab]`` float32 logits (materialised in full: callers with long inputs
            use the chunked loss of :mod:`albor_gates.model.evaluate`).
        """
        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            return F.linear(hidden, self.lm_head).float()

    def logits(self, input_ids: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Full forward: ``[batch, seq]`` ids → ``[batch, seq, vocab]`` fp32 logits.

        Args:
            input_ids: token ids.
            cache: optional KV cache (see :meth:`hidden_states`).

        Returns:
            float32 logits.
        """
        return self.project(self.hidden_states(input_ids, cache))

    def new_cache(self, batch: int, capacity: int) -> KVCache:
        """Allocate a :class:`KVCache` for this model.

        Args:
            batch: sequences decoded together.
            capacity: longest total length.

        Returns:
            An empty cache.
        """
        return KVCache(self, batch, capacity)


def _signed(sin: torch.Tensor) -> torch.Tensor:
    """A sin table with its first half negated, for :meth:`DecoderModel._rotate`."""
    half = sin.shape[-1] // 2
    sin[..., :half].neg_()
    return sin


def _element_size(dtype: torch.dtype) -> int:
    import torch

    return int(torch.empty((), dtype=dtype).element_size())


def inspect_model(path: str | os.PathLike[str]) -> tuple[DecoderConfig, Checkpoint, TensorPlan]:
    """Read config and headers and plan the tensors, without loading any weight data.

    Args:
        path: model file, index or folder (see
            :func:`albor_gates.artifacts.safetensors.open_checkpoint`).

    Returns:
        (config, validated headers, tensor plan).
    """
    ckpt = open_checkpoint(path)
    config = decoder_config(read_config(config_path(ckpt)))
    return config, ckpt, plan_tensors(config, ckpt)


def load_model(
    path: str | os.PathLike[str],
    device: str | torch.device = "auto",
    dtype: torch.dtype | None = None,
) -> DecoderModel:
    """Load a llama / mistral / qwen2 / qwen3 checkpoint into the reference decoder.

    The config and safetensors headers are read first; shapes are checked against the config
    and the model is refused before loading when it cannot fit on the device. Tensors are then
    read one at a time through ``safe_open`` (memory-mapped) and converted to ``dtype``.

    Args:
        path: a ``.safetensors`` file, a ``model.safetensors.index.json`` or a folder, with
            ``config.json`` beside it.
        device: a device string for :func:`resolve_device` or a ``torch.device``.
        dtype: compute dtype; None → the device policy (fp32 CPU, bf16 CUDA).

    Returns:
        The loaded :class:`DecoderModel`.

    Raises:
        UsageError: bad device, or the model does not fit on it.
        ArtifactError: unsupported or inconsistent config / weights.
    """
    from safetensors import SafetensorError, safe_open

    dev = resolve_device(device) if isinstance(device, str) else device
    dt = dtype if dtype is not None else compute_dtype(dev)
    config, ckpt, plan = inspect_model(path)
    fits_on_device(weight_bytes(plan, _element_size(dt)), dev, what=str(path))

    by_file: dict[str, list[str]] = {}
    for name in plan.expected:
        by_file.setdefault(str(ckpt.locate(name)[0]), []).append(name)
    loaded: dict[str, torch.Tensor] = {}
    for file, names in by_file.items():
        try:
            with safe_open(file, framework="pt", device="cpu") as fh:
                for name in names:
                    loaded[name] = fh.get_tensor(name).to(device=dev, dtype=dt)
        except SafetensorError as e:
            raise ArtifactError(f"{file}: cannot read tensor data: {e}") from e
        except OSError as e:
            raise ArtifactError(f"{file}: cannot read: {e.strerror or e}") from e

    return assemble(
        config,
        loaded,
        dev,
        dt,
        prefix=plan.prefix,
        tied=plan.tied,
        source=str(path),
        unused=plan.unused,
    )


def assemble(
    config: DecoderConfig,
    loaded: dict[str, torch.Tensor],
    dev: torch.device,
    dt: torch.dtype,
    *,
    prefix: str = "model.",
    tied: bool,
    source: str,
    unused: tuple[str, ...] = (),
) -> DecoderModel:
    """Build a :class:`DecoderModel` from Hugging Face-named tensors already on ``dev``.

    ``loaded`` is consumed (tensors are popped as they are placed). Used by :func:`load_model`
    and by loaders of other formats (GGUF) that map their tensors to Hugging Face names.

    Raises:
        KeyError: a required tensor is missing (callers check the plan first).
    """
    import torch

    p = prefix

    def take(name: str) -> torch.Tensor:
        return loaded.pop(name)

    def maybe(name: str) -> torch.Tensor | None:
        return loaded.pop(name) if name in loaded else None

    layers: list[_Layer] = []
    for i in range(config.num_layers):
        b = f"{p}layers.{i}."
        w_qkv = torch.cat(
            [
                take(b + "self_attn.q_proj.weight"),
                take(b + "self_attn.k_proj.weight"),
                take(b + "self_attn.v_proj.weight"),
            ]
        )
        b_qkv = None
        if config.attention_bias:
            b_qkv = torch.cat(
                [
                    take(b + "self_attn.q_proj.bias"),
                    take(b + "self_attn.k_proj.bias"),
                    take(b + "self_attn.v_proj.bias"),
                ]
            )
        w_gate_up = torch.cat([take(b + "mlp.gate_proj.weight"), take(b + "mlp.up_proj.weight")])
        b_gate_up = None
        if config.mlp_bias:
            b_gate_up = torch.cat([take(b + "mlp.gate_proj.bias"), take(b + "mlp.up_proj.bias")])
        layers.append(
            _Layer(
                ln1=take(b + "input_layernorm.weight"),
                ln2=take(b + "post_attention_layernorm.weight"),
                w_qkv=w_qkv,
                b_qkv=b_qkv,
                w_o=take(b + "self_attn.o_proj.weight"),
                b_o=maybe(b + "self_attn.o_proj.bias"),
                q_norm=maybe(b + "self_attn.q_norm.weight"),
                k_norm=maybe(b + "self_attn.k_norm.weight"),
                w_gate_up=w_gate_up,
                b_gate_up=b_gate_up,
                w_down=take(b + "mlp.down_proj.weight"),
                b_down=maybe(b + "mlp.down_proj.bias"),
                sliding=config.sliding_layers[i],
            )
        )
    embed = take(f"{p}embed_tokens.weight")
    lm_head = embed if tied else take("lm_head.weight")
    return DecoderModel(
        config,
        dev,
        dt,
        embed,
        lm_head,
        take(f"{p}norm.weight"),
        layers,
        tied=tied,
        source=source,
        unused_tensors=unused,
    )


def random_init_like(model: DecoderModel, *, seed: int = 0, std: float = 0.02) -> DecoderModel:
    """The same architecture with from-scratch weights: the init-loss signal's baseline.

    Matrices ~ N(0, std²) (transformers' ``initializer_range`` default 0.02), norm weights 1,
    biases 0 — what ``apr pretrain`` without ``--init`` starts from (GATES.md §2.4). The
    generator is seeded, so the from-scratch loss is reproducible.
    """
    import dataclasses

    import torch

    gen = torch.Generator(device="cpu").manual_seed(seed)

    def normal(t: torch.Tensor) -> torch.Tensor:
        x = torch.randn(t.shape, generator=gen, dtype=torch.float32) * std
        return x.to(device=t.device, dtype=t.dtype)

    def ones(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else torch.ones_like(t)

    def zeros(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else torch.zeros_like(t)

    layers = [
        dataclasses.replace(
            layer,
            ln1=torch.ones_like(layer.ln1),
            ln2=torch.ones_like(layer.ln2),
            w_qkv=normal(layer.w_qkv),
            b_qkv=zeros(layer.b_qkv),
            w_o=normal(layer.w_o),
            b_o=zeros(layer.b_o),
            q_norm=ones(layer.q_norm),
            k_norm=ones(layer.k_norm),
            w_gate_up=normal(layer.w_gate_up),
            b_gate_up=zeros(layer.b_gate_up),
            w_down=normal(layer.w_down),
            b_down=zeros(layer.b_down),
        )
        for layer in model._layers
    ]
    embed = normal(model.embed)
    lm_head = embed if model.tied else normal(model.lm_head)
    return DecoderModel(
        model.config,
        model.device,
        model.dtype,
        embed,
        lm_head,
        torch.ones_like(model.norm),
        layers,
        tied=model.tied,
        source=f"random init (seed {seed}, std {std}) of {model.source}",
    )
