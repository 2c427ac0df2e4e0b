"""1-D ResNet builder: ResNet-18/34 (BasicBlock1d) and ResNet-50 (Bottleneck1d, expansion 4).

Layout (`ResNet1D`), for a window of L samples::

    standardize -> stem: Conv1d(1, w, 15, stride 4) + BN + ReLU + MaxPool(4, stride 4)   (L / 16)
                -> layer1..layer4: residual stages of width w, 2w, 4w, 8w (x4 out for bottlenecks),
                   strides 1, 2, 2, 2                                                  (L / 128)
                -> global average pooling -> Dropout -> head: Linear(n_classes)

`w = round(64 * width_multiplier)`. The stem reduces the length 16-fold (torchvision's reduces it
4-fold): 1-D stages double their cost at every stage (channels double, length only halves), so
this is what keeps a 20480-sample window affordable on a CPU.

State-dict keys depend only on depth and width (not on the input length); the output layer is
`model.head` (a Linear), so weights from a stored experiment with other classes can be loaded
with the head's keys skipped. The last batch norm of every residual branch starts at zero (as in
timm's `zero_init_last`): each block starts as the identity, which helps deep nets train.
"""

from __future__ import annotations

import torch
from torch import nn

from bearing_workbench.models.builders.layers import PerSignalStandardize
from bearing_workbench.models.builders.signal_input import check_signal_batch, check_spec_length
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import set_builder
from bearing_workbench.models.resnet1d import ResNet1DParams

STEM_KERNEL = 15
STEM_STRIDE = 4
STEM_POOL = 4
MIN_LENGTH = STEM_STRIDE * STEM_POOL  # the stem must leave one step; later strides work on any length


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv1d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm1d(out_channels)
    )


class BasicBlock1d(nn.Module):
    """Two 3-tap convolutions with a residual connection."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm1d(channels)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm1d(channels)
        nn.init.zeros_(self.bn2.weight)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_channels, channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck1d(nn.Module):
    """1x1 reduce, 3-tap (strided) convolution, 1x1 expand by 4, with a residual connection."""

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv1d(in_channels, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(channels)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm1d(channels)
        self.conv3 = nn.Conv1d(channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm1d(out_channels)
        nn.init.zeros_(self.bn3.weight)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


# depth -> (block type, blocks per stage)
LAYOUTS: dict[int, tuple[type[nn.Module], tuple[int, int, int, int]]] = {
    18: (BasicBlock1d, (2, 2, 2, 2)),
    34: (BasicBlock1d, (3, 4, 6, 3)),
    50: (Bottleneck1d, (3, 4, 6, 3)),
}


class ResNet1D(nn.Module):
    """1-D ResNet classifier on raw windows; see the module docstring for the layout."""

    min_length = MIN_LENGTH

    def __init__(self, depth: int, width_multiplier: float, dropout: float, n_classes: int) -> None:
        super().__init__()
        if depth not in LAYOUTS:
            raise ValueError(f"depth must be one of {', '.join(map(str, LAYOUTS))}; got {depth}")
        block, counts = LAYOUTS[depth]
        widths = [max(8, round(base * width_multiplier)) for base in (64, 128, 256, 512)]
        self.standardize = PerSignalStandardize()
        self.stem = nn.Sequential(
            nn.Conv1d(1, widths[0], STEM_KERNEL, stride=STEM_STRIDE, padding=STEM_KERNEL // 2, bias=False),
            nn.BatchNorm1d(widths[0]),
            nn.ReLU(inplace=True),
            nn.MaxPool1d(STEM_POOL, stride=STEM_POOL),
        )
        in_channels = widths[0]
        stages = []
        for index, (width, count) in enumerate(zip(widths, counts, strict=True)):
            blocks = []
            for position in range(count):
                stride = 2 if index > 0 and position == 0 else 1
                blocks.append(block(in_channels, width, stride))
                in_channels = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_channels = in_channels
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(in_channels, n_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv1d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features (B, out_channels) of a standardised batch (B, L)."""
        h = self.stem(x.unsqueeze(1))
        h = self.layer4(self.layer3(self.layer2(self.layer1(h))))
        return h.mean(dim=-1)

    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, n_classes) for raw windows x (B, L); `meta` is not used by this family."""
        check_signal_batch(x, self.min_length, "resnet1d")
        return self.head(self.dropout(self.forward_features(self.standardize(x))))


def build(params: ResNet1DParams, spec: InputSpec) -> ResNet1D:
    """A 1-D ResNet for inputs described by `spec` (weights from a stored experiment are the loop's job)."""
    check_spec_length(spec, MIN_LENGTH, "resnet1d", "the stem's 16-fold down-sampling")
    return ResNet1D(params.depth, params.width_multiplier, params.dropout, spec.n_classes)


set_builder("resnet1d", build)
