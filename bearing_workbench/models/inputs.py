"""What a model is built for: the shape and meaning of its inputs (no torch here)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bearing_workbench.models.registry import InputKind

# Operating metadata a model may receive (PINN physics inputs), in this order when present.
PHYSICS_META: tuple[str, ...] = ("speed_hz", "load_frac", "temperature_c", "sommerfeld", "reynolds")


class InputSpec(BaseModel):
    """Inputs of a model: kind, classes, sampling rate, samples per window and metadata columns.

    A frozen pydantic model: ``model_dump(mode="json")`` is what checkpoints and ``input_spec.json``
    hold, and ``InputSpec.model_validate`` reads it back.

    Args:
        length: samples per input window (the whole record when the config has no window).
        meta_names: operating-metadata columns delivered with each window, in `Batch.meta` order.
        normalisation: per-window scaling applied inside the model (a front layer for neural
            families, before the features for classical), so a stored model applies it itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: InputKind
    n_classes: int = Field(ge=2, description="Classes the model tells apart (a classifier needs 2).")
    class_names: tuple[str, ...]
    fs: float = Field(gt=0, description="Sampling rate in Hz.")
    length: int = Field(ge=1, description="Samples per input window.")
    meta_names: tuple[str, ...] = ()
    normalisation: Literal["none", "standardise", "rms"] = Field(
        "none", description="Per-window scaling the model applies to its input (data.normalisation)."
    )

    def __init__(self, *args: Any, **values: Any) -> None:
        # Positional arguments in field order, as the dataclass this model replaced accepted.
        if len(args) > len(_FIELDS):
            raise TypeError(f"InputSpec takes at most {len(_FIELDS)} positional arguments, got {len(args)}")
        super().__init__(**dict(zip(_FIELDS, args, strict=False)), **values)

    @model_validator(mode="after")
    def _names_match_count(self) -> Self:
        if self.n_classes != len(self.class_names):
            raise ValueError(
                f"n_classes is {self.n_classes} but {len(self.class_names)} class names are given"
            )
        return self


_FIELDS = tuple(InputSpec.model_fields)
