"""1-D CNN builder: a wide strided stem, then `n_conv_layers` convolution blocks, global pooling.

Architecture (`CNN1D`), for a window of L samples::

    standardize -> stem: Conv1d(1, filters, 64, stride 8) + BN + ReLU + pool 2      (L / 16)
                -> block i: Conv1d(filters, filters, kernel_sizes[i]) + BN + ReLU + pool 4
                -> global average pooling -> [Dropout -> Linear -> ReLU] per fc size
                -> Dropout -> Linear(n_classes)

Why the stem: kernels of 3-11 samples on 20480-102400-sample records would cost seconds per batch
on a CPU and see under a millisecond of signal. A wide first kernel with a large stride (as in
WDCNN, Zhang et al. 2017) acts as a learned filter bank and cuts the length 16-fold at once; its
filters are `model.stem[0]` (also `model.first_layer_filters()`) for filter visualisation.
Pooling uses ceil mode, so every length of at least `MIN_LENGTH` samples works.
"""

from __future__ import annotations

import torch
from torch import nn

from bearing_workbench.models.builders.layers import PerSignalStandardize
from bearing_workbench.models.builders.signal_input import check_signal_batch, check_spec_length
from bearing_workbench.models.cnn1d import CNN1DParams
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import set_builder

STEM_KERNEL = 64
STEM_STRIDE = 8
STEM_POOL = 2
BLOCK_POOL = 4
MIN_LENGTH = STEM_KERNEL  # one stem kernel of signal; ceil-mode pooling keeps at least one step after


def _pool(kind: str, size: int) -> nn.Module:
    if kind == "max":
        return nn.MaxPool1d(size, ceil_mode=True)
    return nn.AvgPool1d(size, ceil_mode=True)


class CNN1DFeatures(nn.Module):
    """Stem and convolution blocks on a standardised (B, L) signal -> pooled features (B, channels).

    Args:
        channels: filters of the stem and of every block.
        kernel_sizes: one kernel size per block.
        pooling: "max" or "avg" after the stem and each block.
    """

    def __init__(self, channels: int, kernel_sizes: list[int], pooling: str = "max") -> None:
        super().__init__()
        self.out_channels = channels
        self.stem = nn.Sequential(
            nn.Conv1d(
                1,
                channels,
                STEM_KERNEL,
                stride=STEM_STRIDE,
                padding=(STEM_KERNEL - STEM_STRIDE) // 2,
                bias=False,
            ),
            nn.BatchNorm1d(channels),
            nn.ReLU(inplace=True),
            _pool(pooling, STEM_POOL),
        )
        blocks = []
        for kernel in kernel_sizes:
            blocks.append(
                nn.Sequential(
                    nn.Conv1d(channels, channels, kernel, padding=kernel // 2, bias=False),
                    nn.BatchNorm1d(channels),
                    nn.ReLU(inplace=True),
                    _pool(pooling, BLOCK_POOL),
                )
            )
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x.unsqueeze(1)))
        return h.mean(dim=-1)


class CNN1D(nn.Module):
    """1-D CNN classifier on raw windows; see the module docstring for the layout."""

    min_length = MIN_LENGTH

    def __init__(self, params: CNN1DParams, n_classes: int) -> None:
        super().__init__()
        self.standardize = PerSignalStandardize()
        self.features = CNN1DFeatures(params.filters, list(params.kernel_sizes), params.pooling)
        layers: list[nn.Module] = []
        width = params.filters
        for size in params.fc_sizes:
            layers += [nn.Dropout(params.dropout), nn.Linear(width, size), nn.ReLU(inplace=True)]
            width = size
        self.fc = nn.Sequential(*layers)
        self.dropout = nn.Dropout(params.dropout)
        self.head = nn.Linear(width, n_classes)

    @property
    def stem(self) -> nn.Sequential:
        """Conv1d (index 0), batch norm, ReLU, pooling: the first layer, for filter visualisation."""
        return self.features.stem

    def first_layer_filters(self) -> torch.Tensor:
        """The stem's learned filters, (filters, 64) taps at the input sampling rate."""
        return self.features.stem[0].weight.detach()[:, 0, :].clone()

    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, n_classes) for raw windows x (B, L); `meta` is not used by this family."""
        check_signal_batch(x, self.min_length, "cnn1d")
        h = self.features(self.standardize(x))
        return self.head(self.dropout(self.fc(h)))


def build(params: CNN1DParams, spec: InputSpec) -> CNN1D:
    """A 1-D CNN for inputs described by `spec`."""
    check_spec_length(spec, MIN_LENGTH, "cnn1d", f"one stem kernel of {STEM_KERNEL} samples")
    return CNN1D(params, spec.n_classes)


set_builder("cnn1d", build)
