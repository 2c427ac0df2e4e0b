"""Hand-crafted features (36 per record), shaft-speed estimation, envelopes and time-frequency images.

Import-light: numpy, scipy and PyWavelets only (pandas is imported by ``feature_frame`` when called).
"""

from .envelope import envelope
from .handcrafted import (
    FEATURE_NAMES,
    FEATURES,
    MIN_DURATION_S,
    MIN_FS_HZ,
    N_FEATURES,
    FeatureInfo,
    compute_features,
    feature_frame,
)
from .spectrograms import cwt_frequencies, cwt_scalogram, stft_frequencies, stft_spectrogram
from .speed import estimate_shaft_speed

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "MIN_DURATION_S",
    "MIN_FS_HZ",
    "N_FEATURES",
    "FeatureInfo",
    "compute_features",
    "cwt_frequencies",
    "cwt_scalogram",
    "envelope",
    "estimate_shaft_speed",
    "feature_frame",
    "stft_frequencies",
    "stft_spectrogram",
]
