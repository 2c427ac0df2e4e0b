"""Per-window scaling of raw signals, so that a sensor's or machine's vibration level is not a cue.

The classical family applies this before computing its features. The neural families need no
counterpart: their first layer (`models.builders.layers.PerSignalStandardize`) already standardises
every window, which also absorbs an RMS scaling.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Normalisation = Literal["none", "standardise", "rms"]
NORMALISATIONS: tuple[str, ...] = ("none", "standardise", "rms")
# Floor of the divisor: keeps a silent (all-zero) window finite without shifting the scale of any
# real one (an added epsilon would, and a quiet sensor would then read differently from a loud one).
TINY = 1e-30


def normalise_windows(signals: np.ndarray, mode: str) -> np.ndarray:
    """`signals` (n, L) scaled per row: none (as is), standardise ((x - mean) / std) or rms (x / rms)."""
    if mode == "none":
        return signals
    if mode not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {', '.join(NORMALISATIONS)}; got {mode!r}")
    x = np.asarray(signals, dtype=np.float32)
    if mode == "standardise":
        centred = x - x.mean(axis=-1, keepdims=True)
        return centred / np.maximum(centred.std(axis=-1, keepdims=True), TINY)
    rms = np.sqrt(np.mean(np.square(x, dtype=np.float64), axis=-1, keepdims=True))
    return (x / np.maximum(rms, TINY)).astype(np.float32)
