"""What a model is built for: the shape and meaning of its inputs (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass

from bearing_workbench.models.registry import InputKind

# Operating metadata a model may receive (PINN physics inputs), in this order when present.
PHYSICS_META: tuple[str, ...] = ("speed_hz", "load_frac", "temperature_c", "sommerfeld", "reynolds")


@dataclass(frozen=True)
class InputSpec:
    """Inputs of a model: kind, classes, sampling rate, samples per window and metadata columns.

    Args:
        length: samples per input window (the whole record when the config has no window).
        meta_names: operating-metadata columns delivered with each window, in `Batch.meta` order.
    """

    kind: InputKind
    n_classes: int
    class_names: tuple[str, ...]
    fs: float
    length: int
    meta_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.n_classes != len(self.class_names):
            raise ValueError(
                f"n_classes is {self.n_classes} but {len(self.class_names)} class names are given"
            )
        if self.n_classes < 2:
            raise ValueError("a classifier needs at least 2 classes")
        if self.length < 1 or self.fs <= 0:
            raise ValueError(f"length ({self.length}) and fs ({self.fs}) must be positive")
