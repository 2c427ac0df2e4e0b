"""1-D CNN family: stacked convolution blocks on the raw vibration signal."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from bearing_workbench.config import rule_error
from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family

KernelSize = Literal[3, 5, 7, 11]


class CNN1DParams(FamilyParams):
    """Parameters of the 1-D CNN family."""

    n_conv_layers: int = Field(
        3, ge=1, le=5, description="Convolution blocks (convolution, batch norm, ReLU, pooling)."
    )
    kernel_sizes: list[KernelSize] = Field(
        default_factory=lambda: [7, 5, 3],
        min_length=1,
        max_length=5,
        description="Kernel size of each convolution block (3, 5, 7 or 11), one per block.",
    )
    filters: int = Field(64, ge=32, le=256, description="Filters in each convolution block.")
    pooling: Literal["max", "avg"] = Field("max", description="Down-sampling after each block.")
    fc_sizes: list[Annotated[int, Field(ge=8, le=1024)]] = Field(
        default_factory=lambda: [128],
        max_length=3,
        description="Widths of the fully connected layers before the output; empty = none.",
    )
    dropout: float = Field(0.3, ge=0.0, lt=1.0, description="Dropout probability before each dense layer.")

    @model_validator(mode="after")
    def _one_kernel_per_layer(self) -> Self:
        if len(self.kernel_sizes) != self.n_conv_layers:
            raise rule_error(
                "kernel_sizes",
                f"needs one size per convolution layer: n_conv_layers is {self.n_conv_layers} "
                f"but {len(self.kernel_sizes)} sizes are given",
            )
        return self


SPEC = register_family(
    FamilySpec(
        name="cnn1d",
        title="1-D CNN",
        description="A compact convolutional network on raw vibration windows; a strong, quick baseline.",
        params=CNN1DParams,
        input_kind="signal",
    )
)
