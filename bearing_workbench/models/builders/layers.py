"""Layers shared by the neural families."""

from __future__ import annotations

import torch
from torch import nn


class PerSignalStandardize(nn.Module):
    """(x - mean) / (std + eps) over each window: input scale is part of the model, so the overall
    vibration level (sensor gain, mounting) cannot stand in for the class."""

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        std = x.std(dim=-1, keepdim=True, unbiased=False)
        return (x - mean) / (std + self.eps)
