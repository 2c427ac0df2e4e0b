"""Transformer family: the signal cut into patches, each patch a token, then self-attention."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, model_validator

from bearing_workbench.config import FieldError, rule_error
from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family
from bearing_workbench.models.validation import input_length

if TYPE_CHECKING:
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.models.validation import DatasetFacts


class TransformerParams(FamilyParams):
    """Parameters of the transformer family."""

    patch_size: int = Field(
        128, ge=8, le=4096, description="Samples per patch; each patch becomes one token."
    )
    embedding: Literal["conv", "linear"] = Field(
        "conv",
        description=(
            "How a patch becomes a token: 'conv', a stack of strided convolutions whose strides "
            "multiply to patch_size (wav2vec 2.0's feature encoder; patch_size must then be a power "
            "of 2 of at least 16), or 'linear', one linear projection of the raw patch (ViT's)."
        ),
    )
    n_layers: int = Field(4, ge=2, le=12, description="Transformer encoder layers.")
    n_heads: int = Field(
        4, ge=2, le=16, description="Attention heads per layer; d_model must be divisible by it."
    )
    d_model: int = Field(128, ge=64, le=512, description="Width of each token embedding.")
    positional_encoding: Literal["sinusoidal", "learned"] = Field(
        "sinusoidal", description="How token positions are encoded: fixed sinusoids or learned vectors."
    )
    dropout: float = Field(
        0.1, ge=0.0, lt=1.0, description="Dropout probability in attention and feed-forward."
    )

    @model_validator(mode="after")
    def _conv_patch_is_power_of_two(self) -> Self:
        size = self.patch_size
        if self.embedding == "conv" and (size < 16 or size & (size - 1)):
            raise rule_error(
                "patch_size",
                f"must be a power of 2 of at least 16 with embedding 'conv' (got {size}); "
                "use embedding 'linear' for other sizes",
            )
        return self

    @model_validator(mode="after")
    def _heads_divide_width(self) -> Self:
        if self.d_model % self.n_heads:
            below = self.d_model - self.d_model % self.n_heads
            nearby = [str(value) for value in (below, below + self.n_heads) if 64 <= value <= 512]
            hint = f" (e.g. {' or '.join(nearby)})" if nearby else ""
            raise rule_error("d_model", f"must be divisible by n_heads ({self.n_heads}){hint}")
        return self


def _check(
    params: TransformerParams, config: ExperimentConfig, facts: DatasetFacts | None
) -> list[FieldError]:
    length = input_length(config, facts)
    if length is not None and params.patch_size > length:
        return [FieldError("model.params.patch_size", f"must be at most the input length ({length} samples)")]
    return []


SPEC = register_family(
    FamilySpec(
        name="transformer",
        title="Transformer",
        description="Self-attention over signal patches; shows which parts of the signal it attends to.",
        params=TransformerParams,
        input_kind="signal",
        check=_check,
    )
)
