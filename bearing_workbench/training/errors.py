"""Errors of the training layer: each says what went wrong and, where one is known, how to fix it."""

from __future__ import annotations


class TrainingError(RuntimeError):
    """A training run failed; `hint` says what to change (shown to the user next to the error).

    Args:
        message: what went wrong, naming the epoch, batch, file or field involved.
        hint: a short suggestion such as "reduce batch size (current 64)"; None when there is none.
    """

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} (hint: {hint})")


class CheckpointError(TrainingError):
    """A checkpoint file is missing, unreadable, unsafe, or does not fit the model."""


class TrainingDataError(TrainingError, ValueError):
    """The dataset or the data section of the config cannot give the splits asked for."""
