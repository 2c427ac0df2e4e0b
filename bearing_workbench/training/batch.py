"""The batch every neural model and loss receives, and the training split handed to `prepare`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bearing_workbench.models.inputs import InputSpec


@dataclass
class Batch:
    """A batch of signal windows.

    Args:
        x: raw windows (B, L), float32, not normalised (models standardise internally).
        y: class indices (B,), long.
        meta: operating metadata (B, M), columns as `InputSpec.meta_names`; (B, 0) when none.
        index: window indices into the split (B,), long, to map predictions back to records.
    """

    x: torch.Tensor
    y: torch.Tensor
    meta: torch.Tensor
    index: torch.Tensor

    def to(self, device: torch.device | str) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in (self.x, self.y, self.meta, self.index)))

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass(frozen=True)
class TrainData:
    """The training split as arrays, for models that learn something from it before training."""

    signals: np.ndarray  # (n, L) float32 windows
    labels: np.ndarray  # (n,) int64
    meta: np.ndarray  # (n, M) float32
    spec: InputSpec
