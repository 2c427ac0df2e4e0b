"""Checks on the raw-signal input of the neural families: at build time (InputSpec) and per batch."""

from __future__ import annotations

import torch

from bearing_workbench.models.inputs import InputSpec


def check_spec_length(spec: InputSpec, min_length: int, family: str, why: str) -> None:
    """Raise when `spec.length` is below what the family's network needs.

    Args:
        why: what sets the minimum, e.g. "the STFT window (model.params.stft_window)".
    """
    if spec.length < min_length:
        raise ValueError(
            f"{family} needs input windows of at least {min_length} samples ({why}); the input length "
            f"is {spec.length} samples: lengthen data.window.length or change the model parameters"
        )


def check_signal_batch(x: torch.Tensor, min_length: int, family: str) -> None:
    """Raise a clear error for a batch that is not (batch, samples) or is too short.

    Skipped while tracing (ONNX export): the shapes there are fixed by the example input.
    """
    if torch.jit.is_tracing():
        return
    if x.dim() != 2:
        raise ValueError(
            f"{family} expects a batch of raw signal windows shaped (batch, samples); got shape "
            f"{tuple(x.shape)}"
        )
    if x.shape[-1] < min_length:
        raise ValueError(f"{family} needs windows of at least {min_length} samples; got {x.shape[-1]}")
