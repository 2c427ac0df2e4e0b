"""Physics-informed CNN: a compact 1-D CNN whose training loss also checks fault-band energy.

The model is a small convolutional classifier (per-signal standardisation first, so amplitude
cannot leak the class); with ``physics_inputs`` the log Sommerfeld and Reynolds numbers of the
operating point join the pooled features before the head. Its physics loss, added by the training
loop through :meth:`PhysicsInformedCNN.auxiliary_loss`, works as follows:

1. Band energy. The raw window's Hann-windowed power spectrum (``torch.fft.rfft``, no gradient) is
   summed over each atomic band of `physics_bands.BANDS`: order bands placed with the window's own
   shaft speed (metadata ``speed_hz``) and Hz bands. Each band's share of the total power (DC
   excluded) makes it amplitude-invariant; its log-odds, log(f / (1 - f)), keeps a dominant band
   (1X of a healthy machine holds most of the power) from saturating the way log f would.
2. Healthy reference. :meth:`PhysicsInformedCNN.prepare` fits, on the *healthy* training windows,
   each band's log-odds as a function of the operating point (ridge regression on log Sommerfeld,
   log Reynolds and log speed; intercept by median), and the spread (scaled MAD) of the healthy
   residuals. These are buffers, so they travel in the state_dict. ``r_b`` = log-odds minus the
   reference at the window's operating point: how far band b exceeds a healthy bearing's share.
3. Evidence. A band's excess ``u_b = clip(r_b - m_b, -3, 4)`` counts from a margin ``m_b = max(0.5,
   2 x healthy spread)``, so healthy scatter does not count and one huge band cannot outvote the
   rest. Per class c (see `physics_bands.SIGNATURE_BANDS`):
   evidence_c = sum over c's raised bands (defining or companion) of relu(u_b)
              + 2 x sum over c's signatures of min(0, weakest defining u_b).
   The first term is the excess energy the class accounts for; the second makes a signature whose
   defining bands are not all raised cost (an AND within a signature), so a mixed class does not
   win on one of its parts and a lone leaked band does not make a class. The healthy class has
   evidence 0 (it accounts for nothing and lacks nothing): every fault class must beat it.
4. Loss. q = softmax(evidence / tau), tau = 0.5, is the physics' class distribution; the physics loss is
   KL(q || p) with p = softmax(logits): differentiable in the logits (gradient p - q), no argmax.
   The loop adds ``lambda_physics x KL`` to the cross-entropy.

``frequency_consistency`` (logged per batch, averaged per epoch by the loop) is the share of
windows whose predicted class (argmax p) the band physics supports: a fault prediction is
consistent when its evidence is above the healthy reference's (> 0); a healthy prediction is
consistent when no fault class has evidence above 0.

What the physics alone separates, and what not, is documented with the measurements in the issue
notes and BENCHMARKS.md; in short, the loss is a soft prior, weighted by ``lambda_physics``.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple, Protocol

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from bearing_workbench.models.builders import physics_bands
from bearing_workbench.models.builders.layers import PerSignalStandardize
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.pinn import PINNParams
from bearing_workbench.models.registry import set_builder

SPEED_COLUMN = "speed_hz"
PHYSICS_INPUT_COLUMNS = ("sommerfeld", "reynolds")
"""Metadata fed to the classifier (log-scaled, standardised) when ``physics_inputs`` is on."""
REFERENCE_COVARIATES = ("sommerfeld", "reynolds", "speed_hz")
"""Operating-point columns the healthy reference is regressed on (log), those present in the data."""

SHARE_FLOOR = 1e-6  # band shares are clipped to [floor, 1 - floor] before the log-odds
REFERENCE_RIDGE = 3.0  # ridge penalty on standardised covariates: few healthy windows -> ~median
MIN_SPREAD = 0.05
MIN_MARGIN = 0.5
MARGIN_SPREADS = 2.0
EXCESS_CAP = 4.0
EXCESS_FLOOR = 3.0
MISSING_WEIGHT = 2.0  # cost per nat that a signature's weakest defining band falls short
TAU = 0.5  # measured on generated data: sharper than 1 without making borderline windows one-hot
_CHUNK = 256


class BatchLike(Protocol):
    """What the physics loss reads from a `training.batch.Batch` (models may not import training)."""

    x: torch.Tensor
    meta: torch.Tensor


class TrainDataLike(Protocol):
    """What `prepare` reads from a `training.batch.TrainData`."""

    signals: np.ndarray
    labels: np.ndarray
    meta: np.ndarray


class PhysicsEvidence(NamedTuple):
    """Band and class physics of a batch of windows.

    Args:
        log_ratio: (B, n_bands) band log-odds minus the healthy reference at the window's operating
            point (0 = like a healthy bearing).
        evidence: (B, n_classes) summed band contributions per class; 0 for the healthy class.
    """

    log_ratio: torch.Tensor
    evidence: torch.Tensor


def _interval_table() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    lows, highs, is_order, band_of = [], [], [], []
    for i, band in enumerate(physics_bands.BANDS):
        for lo, hi in band.intervals:
            lows.append(lo)
            highs.append(hi)
            is_order.append(band.unit == "order")
            band_of.append(i)
    return (
        torch.tensor(lows, dtype=torch.float64),
        torch.tensor(highs, dtype=torch.float64),
        torch.tensor(is_order),
        torch.tensor(band_of, dtype=torch.long),
    )


_LOWS, _HIGHS, _IS_ORDER, _BAND_OF = _interval_table()


def band_log_odds(x: torch.Tensor, speed_hz: torch.Tensor, fs: float) -> torch.Tensor:
    """Log-odds of each atomic band's share of the window's power, (B, n_bands) float32.

    Args:
        x: raw windows (B, L); no gradient flows through (the bands describe the data).
        speed_hz: shaft speed of each window (B,), which places the order bands.
        fs: sampling rate (Hz).
    """
    with torch.no_grad():
        dtype = torch.float32 if x.device.type == "mps" else torch.float64
        xs = x.detach().to(dtype)
        xs = xs - xs.mean(dim=-1, keepdim=True)
        n = xs.shape[-1]
        window = torch.hann_window(n, periodic=True, dtype=dtype, device=xs.device)
        spec = torch.fft.rfft(xs * window, dim=-1)
        power = spec.real**2 + spec.imag**2
        power[:, 0] = 0.0  # DC carries no machine information (AC-coupled sensors)
        n_bins = power.shape[-1]
        cum = F.pad(torch.cumsum(power, dim=-1), (1, 0))
        total = cum[:, -1]
        df = fs / n

        lows, highs = _LOWS.to(xs.device, dtype), _HIGHS.to(xs.device, dtype)
        is_order, band_of = _IS_ORDER.to(xs.device), _BAND_OF.to(xs.device)
        speed = speed_hz.detach().to(dtype).reshape(-1, 1)
        centre = 0.5 * (lows + highs) * speed
        half = torch.clamp(0.5 * (highs - lows) * speed, min=physics_bands.MIN_HALF_WIDTH_BINS * df)
        lo_hz = torch.where(is_order, centre - half, lows.expand_as(centre))
        hi_hz = torch.where(is_order, centre + half, highs.expand_as(centre))
        # Bin k holds frequency k * df; an edge exactly on a bin includes it despite rounding.
        first = torch.clamp(torch.ceil(lo_hz / df - 1e-9), 1, n_bins).long()
        stop = torch.clamp(torch.floor(hi_hz / df + 1e-9) + 1, 1, n_bins).long()
        stop = torch.maximum(stop, first)
        per_interval = cum.gather(1, stop) - cum.gather(1, first)
        band_power = torch.zeros(xs.shape[0], len(physics_bands.BANDS), dtype=dtype, device=xs.device)
        band_power.index_add_(1, band_of, per_interval)
        share = band_power / torch.clamp(total, min=torch.finfo(dtype).tiny).unsqueeze(-1)
        share = torch.clamp(share, SHARE_FLOOR, 1.0 - SHARE_FLOOR)
        return torch.log(share / (1.0 - share)).float()


def _column_index(spec: InputSpec, names: tuple[str, ...]) -> list[int]:
    return [spec.meta_names.index(name) for name in names if name in spec.meta_names]


class PhysicsInformedCNN(nn.Module):
    """Compact 1-D CNN classifier with a band-energy physics loss (see the module docstring)."""

    def __init__(self, params: PINNParams, spec: InputSpec, tau: float = TAU):
        super().__init__()
        if SPEED_COLUMN not in spec.meta_names:
            raise ValueError(
                f"pinn: the metadata columns {list(spec.meta_names)} have no {SPEED_COLUMN!r}; the physics "
                "loss places its order bands with each record's shaft speed, so the dataset needs it"
            )
        signatures = [physics_bands.class_signatures(name) for name in spec.class_names]
        healthy = [i for i, sig in enumerate(signatures) if not sig]
        if len(healthy) != 1:
            raise ValueError(
                "pinn: the physics loss compares each window with a healthy reference, so exactly one "
                f"class must have no fault signature; classes {list(spec.class_names)} have "
                f"{len(healthy)} ({[spec.class_names[i] for i in healthy]})"
            )
        self.spec = spec
        self.lambda_physics = float(params.lambda_physics)
        self.physics_inputs = bool(params.physics_inputs)
        self.tau = float(tau)
        self.healthy_index = healthy[0]

        self.standardize = PerSignalStandardize()
        blocks: list[nn.Module] = []
        channels, length = 1, spec.length
        for i in range(params.n_conv_layers):
            stride = 2 if i == 0 and length >= 64 else 1
            blocks += [
                nn.Conv1d(
                    channels,
                    params.filters,
                    params.kernel_size,
                    stride=stride,
                    padding=params.kernel_size // 2,
                ),
                nn.BatchNorm1d(params.filters),
                nn.ReLU(inplace=True),
            ]
            length = (length + stride - 1) // stride
            if length >= 8:  # pool while something is left to pool: short windows keep their samples
                blocks.append(nn.MaxPool1d(4, ceil_mode=True))
                length = (length + 3) // 4
            channels = params.filters
        self.features = nn.Sequential(*blocks)

        input_index = _column_index(spec, PHYSICS_INPUT_COLUMNS) if self.physics_inputs else []
        if self.physics_inputs and not input_index:
            raise ValueError(
                f"pinn: physics_inputs needs {' or '.join(PHYSICS_INPUT_COLUMNS)} among the metadata columns "
                f"{list(spec.meta_names)}; turn physics_inputs off or use a dataset with them"
            )
        n_inputs = len(input_index)
        self._n_inputs = n_inputs  # a plain int, so ONNX tracing sees no tensor-valued branch
        self.register_buffer("input_index", torch.tensor(input_index, dtype=torch.long), persistent=False)
        # Log-scale centre and spread of the physics inputs; prepare() sets them from the training split.
        self.register_buffer("input_center", torch.zeros(n_inputs))
        self.register_buffer("input_scale", torch.ones(n_inputs))
        self.head = nn.Sequential(
            nn.Linear(2 * channels + n_inputs, params.fc_size),
            nn.ReLU(inplace=True),
            nn.Dropout(params.dropout),
            nn.Linear(params.fc_size, spec.n_classes),
        )

        n_bands = len(physics_bands.BANDS)
        covariates = _column_index(spec, REFERENCE_COVARIATES)
        self.register_buffer(
            "speed_index", torch.tensor(spec.meta_names.index(SPEED_COLUMN)), persistent=False
        )
        self.register_buffer("covariate_index", torch.tensor(covariates, dtype=torch.long), persistent=False)
        band_names = physics_bands.BAND_NAMES
        signature_names = tuple(physics_bands.SIGNATURE_BANDS)
        defining = [
            [b in physics_bands.SIGNATURE_BANDS[g].defining for b in band_names] for g in signature_names
        ]
        self.register_buffer("signature_defining", torch.tensor(defining), persistent=False)
        self.register_buffer(
            "class_signatures",
            torch.tensor([[float(g in sig) for g in signature_names] for sig in signatures]),
            persistent=False,
        )
        bands = [set(physics_bands.class_bands(name)) for name in spec.class_names]
        explained = [set(physics_bands.class_explained_bands(name)) for name in spec.class_names]
        self.register_buffer(
            "class_bands",
            torch.tensor([[float(b in c) for b in band_names] for c in bands]),
            persistent=False,
        )
        self.register_buffer(
            "class_explained",
            torch.tensor([[float(b in c) for b in band_names] for c in explained]),
            persistent=False,
        )
        # The healthy reference (set by prepare, saved with the weights).
        self.register_buffer("reference_ready", torch.tensor(False))
        self.register_buffer("reference_count", torch.tensor(0, dtype=torch.long))
        self.register_buffer("reference_intercept", torch.zeros(n_bands))
        self.register_buffer("reference_slope", torch.zeros(n_bands, len(covariates)))
        self.register_buffer("covariate_center", torch.zeros(len(covariates)))
        self.register_buffer("covariate_scale", torch.ones(len(covariates)))
        self.register_buffer("reference_spread", torch.ones(n_bands))
        self.register_buffer("band_margin", torch.full((n_bands,), MIN_MARGIN))

    # ----------------------------------------------------------------- classifier
    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits (B, n_classes) of raw windows x (B, L); meta (B, M) when physics_inputs."""
        h = self.features(self.standardize(x).unsqueeze(1))
        pooled = [h.mean(dim=-1), h.amax(dim=-1)]
        if self._n_inputs:
            if meta is None:
                raise ValueError(
                    "pinn: physics_inputs is on, so forward needs meta (B, M) with columns "
                    f"{list(self.spec.meta_names)}"
                )
            values = torch.log(torch.clamp(meta.index_select(1, self.input_index), min=1e-12))
            pooled.append((values - self.input_center) / self.input_scale)
        return self.head(torch.cat(pooled, dim=1))

    # ----------------------------------------------------------------- physics
    def _covariates(self, meta: torch.Tensor) -> torch.Tensor:
        values = torch.log(torch.clamp(meta.index_select(1, self.covariate_index).double(), min=1e-12))
        return (values - self.covariate_center.double()) / self.covariate_scale.double()

    def band_log_ratio(self, x: torch.Tensor, meta: torch.Tensor) -> torch.Tensor:
        """Band log-odds minus the healthy reference at each window's operating point, (B, n_bands)."""
        self._check_ready()
        odds = band_log_odds(x, meta[:, self.speed_index], self.spec.fs)
        reference = (
            self.reference_intercept + (self._covariates(meta) @ self.reference_slope.double().T).float()
        )
        return odds - reference

    def physics_evidence(self, x: torch.Tensor, meta: torch.Tensor) -> PhysicsEvidence:
        """Band log-ratios and per-class evidence of raw windows x (B, L) with metadata (B, M)."""
        # Band physics in full precision even when the loop runs under CUDA mixed precision.
        with torch.no_grad(), torch.autocast(device_type=x.device.type, enabled=False):
            log_ratio = self.band_log_ratio(x, meta)
            # Excess beyond the healthy scatter, capped so that one huge band cannot outvote the rest.
            excess = torch.clamp(log_ratio - self.band_margin, min=-EXCESS_FLOOR, max=EXCESS_CAP)
            missing = ~self.signature_defining.unsqueeze(0)
            weakest = excess.unsqueeze(1).masked_fill(missing, math.inf).amin(dim=-1)
            absence = MISSING_WEIGHT * torch.clamp(weakest, max=0.0)
            evidence = absence @ self.class_signatures.T + torch.relu(excess) @ self.class_explained.T
            return PhysicsEvidence(log_ratio, evidence)

    def class_excess(self, log_ratio: torch.Tensor) -> torch.Tensor:
        """Mean band log-ratio over each class's bands (B, n_classes); 0 for the healthy class.

        Near 0 for a healthy window; this is the plain "how far above the healthy reference".
        """
        counts = self.class_bands.sum(dim=1).clamp(min=1.0)
        return (log_ratio @ self.class_bands.T) / counts

    def physics_target(self, evidence: torch.Tensor) -> torch.Tensor:
        """The physics' class distribution q = softmax(evidence / tau)."""
        return torch.softmax(evidence / self.tau, dim=-1)

    def physics_loss(self, x: torch.Tensor, meta: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """KL(q || softmax(logits)), mean over the batch (unweighted)."""
        q = self.physics_target(self.physics_evidence(x, meta).evidence)
        return F.kl_div(F.log_softmax(logits.float(), dim=-1), q, reduction="batchmean")

    def frequency_consistency(self, evidence: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Per window: does the band physics support the predicted class? (bool, B)."""
        predicted = logits.detach().argmax(dim=-1)
        chosen = evidence.gather(1, predicted.unsqueeze(1)).squeeze(1)
        faults = evidence.clone()
        faults[:, self.healthy_index] = -math.inf
        no_fault = faults.amax(dim=1) <= 0
        return torch.where(predicted == self.healthy_index, no_fault, chosen > 0)

    def auxiliary_loss(self, batch: BatchLike, logits: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """lambda_physics x KL(q || p) for the loop to add to the cross-entropy, and its logged values."""
        evidence = self.physics_evidence(batch.x, batch.meta).evidence
        q = self.physics_target(evidence)
        kl = F.kl_div(F.log_softmax(logits.float(), dim=-1), q, reduction="batchmean")
        consistent = self.frequency_consistency(evidence, logits)
        logs = {"physics_loss": float(kl.detach()), "frequency_consistency": float(consistent.float().mean())}
        return self.lambda_physics * kl, logs

    def _check_ready(self) -> None:
        if not bool(self.reference_ready):
            raise RuntimeError(
                "pinn: the healthy reference is not set; call model.prepare(train_data) with the training "
                "split before training (or load a state_dict saved after prepare)"
            )

    # ----------------------------------------------------------------- preparation
    def prepare(self, train: TrainDataLike) -> None:
        """Fit the healthy reference (and the physics-input scaling) on the training split."""
        with torch.no_grad():
            self._prepare(train)

    def _prepare(self, train: TrainDataLike) -> None:
        signals = np.asarray(train.signals)
        labels = np.asarray(train.labels).reshape(-1)
        meta = np.asarray(train.meta, dtype=np.float64)
        if signals.ndim != 2 or meta.ndim != 2 or not (len(signals) == len(labels) == len(meta)):
            raise ValueError(
                "pinn.prepare: train.signals (n, L), train.labels (n,) and train.meta (n, M) must agree; got "
                f"{signals.shape}, {labels.shape}, {meta.shape}"
            )
        if meta.shape[1] != len(self.spec.meta_names):
            raise ValueError(
                f"pinn.prepare: train.meta has {meta.shape[1]} columns, the model expects "
                f"{len(self.spec.meta_names)} ({list(self.spec.meta_names)})"
            )
        healthy = labels == self.healthy_index
        name = self.spec.class_names[self.healthy_index]
        if not healthy.any():
            raise ValueError(
                f"pinn.prepare: the training split has no {name!r} windows; the physics loss needs them to "
                "learn the healthy band-energy reference"
            )
        device = self.reference_intercept.device
        if self._n_inputs:
            values = np.log(np.clip(meta[:, self.input_index.cpu().numpy()], 1e-12, None))
            self.input_center.copy_(torch.from_numpy(values.mean(axis=0)))
            self.input_scale.copy_(torch.from_numpy(values.std(axis=0) + 1e-3))

        h_signals, h_meta = signals[healthy], meta[healthy]
        speeds = h_meta[:, int(self.speed_index)]
        self._warn_on_resolution(signals.shape[1], float(np.median(speeds)))
        odds = []
        for start in range(0, len(h_signals), _CHUNK):
            x = torch.from_numpy(np.ascontiguousarray(h_signals[start : start + _CHUNK], dtype=np.float32))
            odds.append(band_log_odds(x, torch.from_numpy(speeds[start : start + _CHUNK]), self.spec.fs))
        y = torch.cat(odds).double().numpy()

        cov = np.log(np.clip(h_meta[:, self.covariate_index.cpu().numpy()], 1e-12, None))
        center = np.median(cov, axis=0)
        scale = cov.std(axis=0) + 1e-6
        z = (cov - center) / scale
        k = z.shape[1]
        # Ridge slopes on standardised covariates; a robust (median) intercept.
        slope = np.linalg.solve(z.T @ z + REFERENCE_RIDGE * np.eye(k), z.T @ (y - y.mean(axis=0))).T
        residual = y - z @ slope.T
        intercept = np.median(residual, axis=0)
        spread = 1.4826 * np.median(np.abs(residual - intercept), axis=0)
        spread = np.maximum(spread, MIN_SPREAD)

        def put(buffer: torch.Tensor, value: np.ndarray) -> None:
            buffer.copy_(torch.as_tensor(value, dtype=buffer.dtype, device=device))

        put(self.covariate_center, center)
        put(self.covariate_scale, scale)
        put(self.reference_slope, slope)
        put(self.reference_intercept, intercept)
        put(self.reference_spread, spread)
        put(self.band_margin, np.maximum(MIN_MARGIN, MARGIN_SPREADS * spread))
        self.reference_count.fill_(int(healthy.sum()))
        self.reference_ready.fill_(True)

    def _warn_on_resolution(self, length: int, speed_hz: float) -> None:
        df = self.spec.fs / length
        # The whirl band (0.41-0.49X) and the 0.5X line need a few bins between them.
        if physics_bands.MIN_HALF_WIDTH_BINS * df > 0.05 * speed_hz:
            warnings.warn(
                f"pinn: windows of {length} samples give {df:.1f} Hz spectral bins, too coarse to separate "
                f"oil whirl (0.42-0.48X) from 0.5X at {speed_hz:.0f} Hz; windows of at least "
                f"{int(math.ceil(physics_bands.MIN_HALF_WIDTH_BINS * self.spec.fs / (0.05 * speed_hz)))} "
                "samples keep them apart",
                stacklevel=4,
            )


def build(params: PINNParams, spec: InputSpec) -> PhysicsInformedCNN:
    """Build the physics-informed CNN for inputs described by `spec`."""
    return PhysicsInformedCNN(params, spec)


set_builder("pinn", build)
