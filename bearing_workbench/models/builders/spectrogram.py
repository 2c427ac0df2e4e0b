"""Spectrogram builder: an STFT or CWT front end inside the model, then a small 2-D ResNet.

Layout (`SpectrogramNet`), for a window of L samples::

    standardize -> front end (frontends.STFTFrontend / CWTFrontend): log-power image (B, 1, F, T)
                -> per-frequency batch norm (each row starts on one scale, as in PANNs)
                -> stem: Conv2d(1, c, 3, stride 2) + BN + ReLU + MaxPool(3, stride 2)
                -> four BasicBlock2d stages of width c, 2c, 4c, 8c, strides 1, 2, 2, 2
                -> global average pooling                                  (8c features)
    [dual_stream: + raw branch on the standardised signal, cnn1d's stem and blocks
                  (kernels 7, 5, 3; 4c filters), globally pooled; concatenated]
                -> Dropout -> head: Linear(n_classes)

`c = base_channels`. The STFT image has window // 2 + 1 rows and (L - window) // (window / 4) + 1
columns; the CWT image n_scales rows and L // 128 columns. The time-frequency transform is fixed,
so the front end's rows (`model.frontend.frequencies`, Hz) keep their meaning for plots.
"""

from __future__ import annotations

import torch
from torch import nn

from bearing_workbench.models.builders.cnn1d import MIN_LENGTH as RAW_MIN_LENGTH
from bearing_workbench.models.builders.cnn1d import CNN1DFeatures
from bearing_workbench.models.builders.frontends import CWTFrontend, STFTFrontend
from bearing_workbench.models.builders.layers import PerSignalStandardize
from bearing_workbench.models.builders.signal_input import check_signal_batch, check_spec_length
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import set_builder
from bearing_workbench.models.spectrogram import SpectrogramParams

RAW_KERNELS = [7, 5, 3]


class BasicBlock2d(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18's block)."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        nn.init.zeros_(self.bn2.weight)  # each block starts as the identity
        self.relu = nn.ReLU(inplace=True)
        if stride == 1 and in_channels == channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet2D(nn.Module):
    """Small 2-D ResNet on a (B, 1, F, T) image -> pooled features (B, 8 x base_channels)."""

    def __init__(self, n_rows: int, base_channels: int) -> None:
        super().__init__()
        self.row_norm = nn.BatchNorm2d(n_rows)
        self.stem = nn.Sequential(
            nn.Conv2d(1, base_channels, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(base_channels),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        widths = [base_channels * m for m in (1, 2, 4, 8)]
        stages, in_channels = [], base_channels
        for index, width in enumerate(widths):
            stages.append(BasicBlock2d(in_channels, width, stride=1 if index == 0 else 2))
            in_channels = width
        self.stages = nn.Sequential(*stages)
        self.out_channels = in_channels
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        image = self.row_norm(image.transpose(1, 2)).transpose(1, 2)  # batch norm per frequency row
        return self.stages(self.stem(image)).mean(dim=(2, 3))


class SpectrogramNet(nn.Module):
    """Time-frequency CNN classifier on raw windows; see the module docstring for the layout."""

    def __init__(self, params: SpectrogramParams, fs: float, n_classes: int) -> None:
        super().__init__()
        self.standardize = PerSignalStandardize()
        if params.transform == "stft":
            self.frontend: STFTFrontend | CWTFrontend = STFTFrontend(fs, params.stft_window)
        else:
            self.frontend = CWTFrontend(fs, params.n_scales)
        self.image_net = ResNet2D(len(self.frontend.frequencies), params.base_channels)
        width = self.image_net.out_channels
        self.raw_branch: CNN1DFeatures | None = None
        self.min_length = self.frontend.min_length
        if params.dual_stream:
            self.raw_branch = CNN1DFeatures(4 * params.base_channels, RAW_KERNELS, "max")
            width += self.raw_branch.out_channels
            self.min_length = max(self.min_length, RAW_MIN_LENGTH)
        self.dropout = nn.Dropout(params.dropout)
        self.head = nn.Linear(width, n_classes)

    def image(self, x: torch.Tensor) -> torch.Tensor:
        """The (B, 1, F, T) log-power image the 2-D network sees for raw windows x (B, L)."""
        return self.frontend(self.standardize(x))

    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, n_classes) for raw windows x (B, L); `meta` is not used by this family."""
        check_signal_batch(x, self.min_length, "spectrogram")
        signal = self.standardize(x)
        features = self.image_net(self.frontend(signal))
        if self.raw_branch is not None:
            features = torch.cat([features, self.raw_branch(signal)], dim=1)
        return self.head(self.dropout(features))


def build(params: SpectrogramParams, spec: InputSpec) -> SpectrogramNet:
    """A spectrogram CNN for inputs described by `spec` (fs sets the front end's frequencies)."""
    model = SpectrogramNet(params, spec.fs, spec.n_classes)
    why = (
        "one STFT window, model.params.stft_window"
        if params.transform == "stft"
        else "one CWT image column of 128 samples"
    )
    check_spec_length(spec, model.min_length, "spectrogram", why)
    return model


set_builder("spectrogram", build)
