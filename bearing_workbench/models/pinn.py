"""Physics-informed family: a light 1-D CNN trained with a classification loss plus a physics loss."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family


class PINNParams(FamilyParams):
    """Parameters of the physics-informed family (backbone, physics weight, physics inputs)."""

    n_conv_layers: int = Field(3, ge=1, le=5, description="Convolution blocks of the 1-D CNN backbone.")
    kernel_size: Literal[3, 5, 7, 11] = Field(7, description="Kernel size of every backbone convolution.")
    filters: int = Field(32, ge=8, le=256, description="Filters in each backbone convolution block.")
    fc_size: int = Field(64, ge=8, le=1024, description="Width of the dense layer before the output.")
    lambda_physics: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Weight of the physics loss (fault-band energy vs operating point); 0 = plain CNN.",
    )
    physics_inputs: bool = Field(
        True, description="Feed the operating point's Sommerfeld and Reynolds numbers to the classifier."
    )
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="Dropout probability before the output layer.")


SPEC = register_family(
    FamilySpec(
        name="pinn",
        title="Physics-informed CNN",
        description="A light CNN whose loss also checks fault-band energy against the operating point.",
        params=PINNParams,
        input_kind="signal",
    )
)
