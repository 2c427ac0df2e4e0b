"""Time-frequency front ends computed inside a model: STFT and CWT as fixed convolution kernels.

Both map a (B, L) batch to a log-power image (B, 1, F, T), rows from low to high frequency
(`frequencies`, Hz, for axes). The kernels are buffers, not parameters: nothing about them is
learned, but they run wherever the model runs (CPU or GPU), export to ONNX as plain convolutions,
and let gradients reach the input (Integrated Gradients, Grad-CAM on the raw signal). They are not
saved in the state dict (persistent=False): they follow from the parameters and fs alone.

The front ends run in float32 even under autocast: squared magnitudes of long windows can exceed
float16's range.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy import signal as sp_signal
from torch import nn

from bearing_workbench.features.spectrograms import CWT_WAVELET, cwt_frequencies, stft_frequencies

LOG_EPS = 1e-6  # power floor before the log; a standardised signal has unit power overall
CWT_FMIN_HZ = 10.0
CWT_FMAX_HZ = 5000.0
CWT_HOP = 128  # image column step in input samples; also the largest decimation of a scale
# Complex Morlet as in features.spectrograms (cmor1.5-1.0): bandwidth B = 1.5, so the Gaussian
# envelope has sigma = sqrt(B / 2) periods of the scale's frequency.
_MORLET_B = float(CWT_WAVELET.removeprefix("cmor").split("-")[0])
_MORLET_SIGMAS = 4.0  # kernel half-length in envelope sigmas (the tail beyond is below 3.4e-4)
_MIN_RATE_PER_HZ = 4.0  # a scale at f runs at a rate of at least 4 f (its band reaches ~1.5 f)
# Half-band low-pass before each 2x decimation: passes 0.19 x the rate (the highest band a scale at
# the next rate needs), stops from 0.31 x the rate (what would fold onto that band).
_DECIMATION_TAPS = 33


def _power(coefficients: torch.Tensor, n_rows: int) -> torch.Tensor:
    real, imag = coefficients[:, :n_rows], coefficients[:, n_rows:]
    return real * real + imag * imag


class STFTFrontend(nn.Module):
    """Log-power STFT: Hann window of `window` samples, hop `window // 4`, rows 0..fs/2.

    Rows sit at k * fs / window, as in `features.stft_spectrogram`; frames lie wholly inside the
    window, so T = (L - window) // hop + 1. Power is scaled so that white noise of unit variance
    reads about 1 (ln 1 = 0) in every row.
    """

    def __init__(self, fs: float, window: int, hop: int | None = None, eps: float = LOG_EPS) -> None:
        super().__init__()
        self.window = window
        self.hop = hop or window // 4
        self.eps = eps
        self.frequencies = stft_frequencies(fs, window)
        self.n_rows = window // 2 + 1
        taper = sp_signal.get_window("hann", window)  # periodic Hann, as features.stft_spectrogram
        phase = 2.0 * np.pi * np.outer(np.arange(self.n_rows), np.arange(window)) / window
        scale = taper / np.sqrt(np.sum(taper**2))
        kernels = np.concatenate([scale * np.cos(phase), -scale * np.sin(phase)])[:, None, :]
        self.register_buffer("kernels", torch.tensor(kernels, dtype=torch.float32), persistent=False)
        self.min_length = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L) -> (B, 1, window // 2 + 1, T) natural-log power."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            coefficients = F.conv1d(x.float().unsqueeze(1), self.kernels, stride=self.hop)
            return torch.log(_power(coefficients, self.n_rows) + self.eps).unsqueeze(1)


def _decimation(frequency: float, fs: float, max_factor: int) -> int:
    """The largest power-of-two decimation (at most max_factor) leaving a rate of >= 4 x frequency."""
    factor = 1
    while factor * 2 <= max_factor and fs / (2 * factor) >= _MIN_RATE_PER_HZ * frequency:
        factor *= 2
    return factor


def morlet_kernels(frequencies: np.ndarray, rate: float) -> np.ndarray:
    """Complex Morlet kernels at `rate` Hz: (2 n, 1, K) real parts then imaginary parts, K odd.

    Each is normalised so a sinusoid of amplitude A at its frequency gives |coefficient| = A.
    """
    sigmas = np.sqrt(_MORLET_B / 2.0) * rate / np.asarray(frequencies)  # envelope sigma in samples
    half = int(math.ceil(_MORLET_SIGMAS * sigmas.max()))
    t = np.arange(-half, half + 1)
    real, imag = [], []
    for frequency, sigma in zip(frequencies, sigmas, strict=True):
        envelope = np.exp(-0.5 * (t / sigma) ** 2)
        envelope *= 2.0 / envelope.sum()  # x2: the analytic kernel sees half of a real tone
        real.append(envelope * np.cos(2 * np.pi * frequency * t / rate))
        imag.append(envelope * np.sin(2 * np.pi * frequency * t / rate))
    return np.concatenate([real, imag])[:, None, :]


class CWTFrontend(nn.Module):
    """Log-power CWT (complex Morlet, `cmor1.5-1.0`), `n_scales` rows log-spaced from 10 Hz to
    min(5 kHz, fs / 3), one column per `hop` input samples: T = L // hop.

    Cost: a scale at f only needs a rate of about 4 f, so the signal passes through a chain of 2x
    decimations (a fixed 33-tap low-pass, stride 2) and each group of scales is convolved at the
    lowest rate that holds it (at most `hop`-fold lower). Kernels then stay under ~120 taps
    instead of ~14000 for 10 Hz at 20480 Hz, and the whole transform costs about as much as two
    octaves of full-rate scales. Power is averaged over each column's samples before the log.
    """

    def __init__(
        self,
        fs: float,
        n_scales: int,
        fmin: float = CWT_FMIN_HZ,
        fmax: float = CWT_FMAX_HZ,
        hop: int = CWT_HOP,
        eps: float = LOG_EPS,
    ) -> None:
        super().__init__()
        if hop < 1 or hop & (hop - 1):
            raise ValueError(f"hop must be a power of 2; got {hop}")
        top = min(fmax, fs / 3.0)  # the wavelet's band (to ~1.5 f) must stay below Nyquist
        if top <= fmin:
            raise ValueError(
                f"fs={fs:g} Hz is too low for a CWT from {fmin:g} Hz (needs fs > {3 * fmin:g} Hz)"
            )
        self.hop = hop
        self.eps = eps
        self.frequencies = cwt_frequencies(n_scales, fmin, top)
        self.min_length = hop
        factors = np.array([_decimation(f, fs, hop) for f in self.frequencies])
        lowpass = sp_signal.firwin(_DECIMATION_TAPS, 0.5)  # cutoff at a quarter of the input rate
        self.register_buffer(
            "lowpass", torch.tensor(lowpass[None, None, :], dtype=torch.float32), persistent=False
        )
        # Groups from the highest rate (highest frequencies) down; rows within a group ascend.
        self.groups: list[tuple[int, int]] = []  # (decimation factor, rows)
        for factor in sorted(set(factors.tolist())):
            rows = self.frequencies[factors == factor]
            kernels = morlet_kernels(rows, fs / factor)
            self.register_buffer(
                f"morlet_{factor}", torch.tensor(kernels, dtype=torch.float32), persistent=False
            )
            self.groups.append((factor, len(rows)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L) -> (B, 1, n_scales, L // hop) natural-log power."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            n_columns = x.shape[-1] // self.hop
            current = x.float().unsqueeze(1)
            rate_factor = 1
            blocks = []
            for factor, n_rows in self.groups:
                while rate_factor < factor:
                    current = F.conv1d(current, self.lowpass, stride=2, padding=_DECIMATION_TAPS // 2)
                    rate_factor *= 2
                kernels = getattr(self, f"morlet_{factor}")
                power = _power(F.conv1d(current, kernels, padding=kernels.shape[-1] // 2), n_rows)
                step = self.hop // factor
                if step > 1:
                    power = F.avg_pool1d(power, step, stride=step)
                blocks.append(power[..., :n_columns])
            image = torch.cat(blocks[::-1], dim=1)  # low frequencies (most decimated) first
            return torch.log(image + self.eps).unsqueeze(1)
