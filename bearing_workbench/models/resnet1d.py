"""1-D ResNet family: residual networks (18/34/50 layers) on the raw vibration signal."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family


class ResNet1DParams(FamilyParams):
    """Parameters of the 1-D ResNet family."""

    depth: Literal[18, 34, 50] = Field(
        18, description="Layers: 18 and 34 use basic residual blocks, 50 uses bottleneck blocks."
    )
    width_multiplier: float = Field(
        0.5,
        ge=0.25,
        le=2.0,
        description="Scales every stage's channels (64-128-256-512 at 1.0); below 1 is faster on CPU.",
    )
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="Dropout probability before the output layer.")
    init_from_experiment: int | None = Field(
        None,
        ge=1,
        description=(
            "Start from the weights of a stored experiment (same depth and width): ImageNet weights do not "
            "apply to 1-D signals, so this is the 'pretrained' option; empty = train from scratch."
        ),
        json_schema_extra={"ref": "experiment"},
    )


SPEC = register_family(
    FamilySpec(
        name="resnet1d",
        title="1-D ResNet",
        description="Residual network (18, 34 or 50 layers) on raw windows; can start from a stored model.",
        params=ResNet1DParams,
        input_kind="signal",
    )
)
