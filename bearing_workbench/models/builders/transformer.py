"""Transformer builder: patch embedding of the raw signal, a class token, pre-norm encoder layers.

Layout (`SignalTransformer`), for a window of L samples and patch size P::

    standardize -> patch embedding: T = L // P tokens (a tail shorter than P is dropped)
                -> prepend a class token -> + positional encoding -> Dropout
                -> n_layers x [x + Attn(LN(x)); x + FFN(LN(x))]     (FFN width 4 x d_model, GELU)
                -> LN -> class token -> Dropout -> head: Linear(n_classes)

Patch embedding: "linear" is ViT's, one Conv1d(1, d_model, P, stride P), a linear map of each raw
patch. "conv" is wav2vec 2.0's feature encoder for raw waveforms: strided Conv1d + GELU layers
(stride 4 while the remaining factor allows, then 2; kernel 2 x stride), GroupNorm after the
first (each channel normalised over the window, as in wav2vec 2.0), widths rising to d_model. Token
t is centred on samples [t P, (t + 1) P) and sees about a patch on either side. A linear map of a
raw patch must learn each tone at every phase offset; the convolutions learn shift-invariant
filters first (the reason wav2vec 2.0 and "early convolutions" ViTs use them). Figures in
BENCHMARKS.md.

Positional encoding: "sinusoidal" is computed for any token count; "learned" holds one vector per
position for the T = spec.length // P tokens of the built length (plus the class token): shorter
inputs use the first positions, longer ones a linear interpolation of the table (as timm resamples
ViT position embeddings).

Attention is written out (`SelfAttention`) rather than taken from nn.MultiheadAttention, so its
weights can be kept: set ``model.keep_attention = True``, run a forward pass, then
``model.attention_weights()`` returns one (B, heads, T + 1, T + 1) tensor per layer (row = query,
token 0 = class token; rows sum to 1; kept with their autograd graph, so gradient-weighted
attention maps work). With keep_attention False (the default, for training) the layers call
`scaled_dot_product_attention`, which never materialises the weights on fused back ends.

Dropout acts on each layer's attention output and feed-forward output (and on the embedded tokens),
not on the attention matrix itself (timm's ViT default): dropping (B, heads, T, T) weights forces
the unfused attention path and tripled the CPU time per batch. Kept weights are thus exactly what
the layer used, in training as in evaluation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from bearing_workbench.models.builders.layers import PerSignalStandardize
from bearing_workbench.models.builders.signal_input import check_signal_batch, check_spec_length
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import set_builder
from bearing_workbench.models.transformer import TransformerParams

MLP_RATIO = 4


def sinusoidal_encoding(n_positions: int, d_model: int, device: torch.device | None = None) -> torch.Tensor:
    """The (n_positions, d_model) sine/cosine table of Vaswani et al. (2017)."""
    position = torch.arange(n_positions, dtype=torch.float32, device=device).unsqueeze(1)
    rates = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / d_model)
    )
    table = torch.zeros(n_positions, d_model, device=device)
    table[:, 0::2] = torch.sin(position * rates)
    table[:, 1::2] = torch.cos(position * rates[: d_model // 2])  # odd d_model: one cosine fewer
    return table


class SelfAttention(nn.Module):
    """Multi-head self-attention that can keep its weights (see the module docstring)."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.keep_attention = False
        self.last_attention: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, width = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if self.keep_attention:
            weights = torch.softmax((q @ k.transpose(-2, -1)) * self.head_dim**-0.5, dim=-1)
            self.last_attention = weights
            out = weights @ v
        else:
            self.last_attention = None
            out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, width))


class EncoderLayer(nn.Module):
    """Pre-norm transformer encoder layer: attention and feed-forward, each with a residual."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, MLP_RATIO * d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(MLP_RATIO * d_model, d_model),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.attn(self.norm1(x)))
        return x + self.dropout(self.mlp(self.norm2(x)))


def conv_patch_embedding(patch_size: int, d_model: int) -> nn.Sequential:
    """wav2vec 2.0-style strided convolutions from (B, 1, L) to (B, d_model, L // patch_size)."""
    strides = []
    remaining = patch_size
    while remaining > 1:
        stride = 4 if remaining % 4 == 0 else 2
        strides.append(stride)
        remaining //= stride
    layers: list[nn.Module] = []
    channels = 1
    for i, stride in enumerate(strides):
        width = d_model if i == len(strides) - 1 else max(32, d_model // 2 ** (len(strides) - 1 - i))
        layers.append(nn.Conv1d(channels, width, 2 * stride, stride=stride, padding=stride // 2))
        if i == 0:
            layers.append(nn.GroupNorm(width, width))  # wav2vec 2.0: per-channel norm after layer 1
        layers.append(nn.GELU())
        channels = width
    return nn.Sequential(*layers[:-1])  # tokens are a linear output: no activation after the last


class SignalTransformer(nn.Module):
    """Transformer classifier on raw windows; see the module docstring for the layout."""

    def __init__(self, params: TransformerParams, n_classes: int, max_tokens: int) -> None:
        super().__init__()
        self.patch_size = params.patch_size
        self.min_length = params.patch_size
        self.d_model = params.d_model
        self.positional_encoding = params.positional_encoding
        self.standardize = PerSignalStandardize()
        if params.embedding == "conv":
            self.patch_embed = conv_patch_embedding(params.patch_size, params.d_model)
        else:
            self.patch_embed = nn.Conv1d(1, params.d_model, params.patch_size, stride=params.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, params.d_model))
        if params.positional_encoding == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(1, max_tokens + 1, params.d_model))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.pos_dropout = nn.Dropout(params.dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(params.d_model, params.n_heads, params.dropout) for _ in range(params.n_layers)
        )
        self.norm = nn.LayerNorm(params.d_model)
        self.dropout = nn.Dropout(params.dropout)
        self.head = nn.Linear(params.d_model, n_classes)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    @property
    def keep_attention(self) -> bool:
        """Whether the next forward passes keep their attention weights (off by default)."""
        return self.layers[0].attn.keep_attention

    @keep_attention.setter
    def keep_attention(self, keep: bool) -> None:
        for layer in self.layers:
            layer.attn.keep_attention = bool(keep)
            if not keep:
                layer.attn.last_attention = None

    def attention_weights(self) -> list[torch.Tensor]:
        """Per layer, the (B, heads, T + 1, T + 1) attention of the last forward (token 0 = class token)."""
        weights = [layer.attn.last_attention for layer in self.layers]
        if any(w is None for w in weights):
            raise RuntimeError(
                "no attention weights kept: set model.keep_attention = True, then run a forward pass"
            )
        return weights  # type: ignore[return-value]

    def _positions(self, n_tokens: int, device: torch.device) -> torch.Tensor:
        if self.positional_encoding == "sinusoidal":
            return sinusoidal_encoding(n_tokens + 1, self.d_model, device).unsqueeze(0)
        table = self.pos_embed
        if n_tokens + 1 <= table.shape[1]:
            return table[:, : n_tokens + 1]
        patches = F.interpolate(
            table[:, 1:].transpose(1, 2), size=n_tokens, mode="linear", align_corners=False
        )
        return torch.cat([table[:, :1], patches.transpose(1, 2)], dim=1)

    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, n_classes) for raw windows x (B, L); `meta` is not used by this family."""
        check_signal_batch(x, self.min_length, "transformer")
        tokens = self.patch_embed(self.standardize(x).unsqueeze(1)).transpose(1, 2)  # (B, T, d_model)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        h = torch.cat([cls, tokens], dim=1) + self._positions(tokens.shape[1], x.device)
        h = self.pos_dropout(h)
        for layer in self.layers:
            h = layer(h)
        return self.head(self.dropout(self.norm(h)[:, 0]))


def build(params: TransformerParams, spec: InputSpec) -> SignalTransformer:
    """A signal transformer for inputs described by `spec` (learned positions sized for spec.length)."""
    check_spec_length(spec, params.patch_size, "transformer", "one patch, model.params.patch_size")
    return SignalTransformer(params, spec.n_classes, max_tokens=spec.length // params.patch_size)


set_builder("transformer", build)
