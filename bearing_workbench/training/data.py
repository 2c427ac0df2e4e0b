"""From a config to training data: record-level splits, windows, metadata, batches, augmentation.

The split is drawn over records (the dataset file's own split when the config asks for the same
percentages, else a fresh stratified split), and only then are records cut into windows, so windows
of one record never reach two splits. Each window keeps the index of its record, so predictions
can be aggregated back to records. Batches come from an in-memory iterator (no worker processes):
the signals are already in memory and slicing them is cheaper than any inter-process transfer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from bearing_workbench.data.dataset_file import SPLIT_NAMES, Dataset
from bearing_workbench.data.splits import make_windows, record_split
from bearing_workbench.models.inputs import PHYSICS_META, InputSpec
from bearing_workbench.models.registry import get_family
from bearing_workbench.training.batch import Batch, TrainData
from bearing_workbench.training.dataset_facts import resolve_dataset_path
from bearing_workbench.training.errors import TrainingDataError
from bearing_workbench.training.seeding import (
    derive_seed,
    numpy_generator_state,
    set_numpy_generator_state,
)

if TYPE_CHECKING:
    from bearing_workbench.config import AugmentationConfig, ExperimentConfig, WindowConfig
    from bearing_workbench.store import Store

_READ_BLOCK_BYTES = 64 * 2**20  # records read from the file per call: bounded, whatever their length
# Keys of the loop's random sub-streams, derived from training.seed.
SHUFFLE_STREAM = 1
AUGMENT_STREAM = 2
MIXUP_STREAM = 3


@dataclass(frozen=True)
class SplitData:
    """The windows of one split.

    Args:
        signals: (n, L) float32 windows; a read-only view of the records when windows overlap.
        labels: (n,) int64 class index per window.
        meta: (n, M) float32 operating metadata per window, columns as `meta_names`; (n, 0) when none.
        record_index: (n,) int64 position in `record_ids` of the record each window was cut from.
        record_ids: (n_records,) ids of this split's records (strings).
        records: (n_records,) int64 row numbers of those records in the dataset file.
        record_labels: (n_records,) int64 class index per record.
    """

    name: str
    signals: np.ndarray
    labels: np.ndarray
    meta: np.ndarray
    record_index: np.ndarray
    record_ids: np.ndarray
    records: np.ndarray
    record_labels: np.ndarray
    class_names: tuple[str, ...]
    fs: float
    meta_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_records(self) -> int:
        return int(self.record_ids.shape[0])

    @property
    def window_record_ids(self) -> np.ndarray:
        """Record id of every window (n,)."""
        return self.record_ids[self.record_index]

    def batch(self, index: np.ndarray) -> Batch:
        """The windows at `index` as a `Batch` (copied out of the split's arrays)."""
        idx = np.asarray(index, dtype=np.int64)
        return Batch(
            x=torch.from_numpy(np.ascontiguousarray(self.signals[idx], dtype=np.float32)),
            y=torch.from_numpy(self.labels[idx]),
            meta=torch.from_numpy(np.ascontiguousarray(self.meta[idx], dtype=np.float32)),
            index=torch.from_numpy(idx),
        )


@dataclass(frozen=True)
class DataSplits:
    """Train, validation and test windows of one experiment, and the model's input description.

    Args:
        split_source: ``stored`` when the dataset file's split was used, ``recomputed`` otherwise.
        split_seed: seed of the record split (the file's, or training.seed for a fresh one).
    """

    train: SplitData
    val: SplitData
    test: SplitData
    spec: InputSpec
    dataset_path: Path
    split_source: Literal["stored", "recomputed"]
    split_seed: int

    def __getitem__(self, name: str) -> SplitData:
        if name not in SPLIT_NAMES:
            raise KeyError(f"split must be one of {', '.join(SPLIT_NAMES)}, got {name!r}")
        return getattr(self, name)

    def train_data(self) -> TrainData:
        """The training split as handed to a model's `prepare`."""
        return TrainData(
            signals=self.train.signals, labels=self.train.labels, meta=self.train.meta, spec=self.spec
        )


def load_data(
    config: ExperimentConfig,
    store: Store | None = None,
    *,
    splits: Sequence[str] = SPLIT_NAMES,
    path: str | Path | None = None,
) -> DataSplits:
    """Build the windows of every split for `config` (splits not in `splits` are left empty).

    Args:
        path: the dataset file, when the caller has resolved it already (a validated experiment
            carries it); otherwise ``config.data.dataset`` is looked up in `store`.
    """
    path = Path(path) if path is not None else resolve_dataset_path(config.data.dataset, store)
    split = config.data.split
    fractions = (split.train / 100.0, split.val / 100.0, split.test / 100.0)
    window = config.data.window
    kind = get_family(config.model.family).input_kind
    with Dataset(path) as ds:
        try:
            chosen = record_split(ds, fractions, config.training.seed)
        except ValueError as exc:
            raise TrainingDataError(f"data.split: {exc}") from None
        if window is not None and window.length > ds.n_samples:
            raise TrainingDataError(
                f"data.window.length: {window.length} samples is longer than the records of "
                f"{path.name} ({ds.n_samples} samples)"
            )
        meta_names, meta_all = _physics_meta(ds)
        length = window.length if window is not None else int(ds.n_samples)
        spec = InputSpec(
            kind=kind,
            n_classes=len(ds.class_names),
            class_names=ds.class_names,
            fs=ds.fs,
            length=length,
            meta_names=meta_names,
            normalisation=config.data.normalisation,
        )
        unknown = [name for name in splits if name not in SPLIT_NAMES]
        if unknown:
            raise ValueError(f"splits: unknown split(s) {unknown}; expected {', '.join(SPLIT_NAMES)}")
        empty = np.empty(0, np.int64)
        built = {
            name: _split_data(
                ds, name, chosen.indices[name] if name in splits else empty, window, meta_names, meta_all
            )
            for name in SPLIT_NAMES
        }
    return DataSplits(
        **built, spec=spec, dataset_path=path, split_source=chosen.source, split_seed=chosen.seed
    )


def _physics_meta(ds: Dataset) -> tuple[tuple[str, ...], np.ndarray]:
    """The PHYSICS_META columns the file has, numeric and complete for every record, as float32."""
    columns = ds.metadata()
    names, values = [], []
    for name in PHYSICS_META:
        column = columns.get(name)
        if column is None or column.dtype.kind not in "iuf":
            continue
        column = column.astype(np.float32)
        # A model fed this column needs it for every window; a column with gaps is left out.
        if np.isfinite(column).all():
            names.append(name)
            values.append(column)
    matrix = np.stack(values, axis=1) if values else np.zeros((ds.n_records, 0), dtype=np.float32)
    return tuple(names), matrix


def _read_records(ds: Dataset, records: np.ndarray) -> np.ndarray:
    """Signals of `records` (sorted) in blocks, into one preallocated float32 array."""
    out = np.empty((len(records), ds.n_samples), dtype=np.float32)
    block = max(1, _READ_BLOCK_BYTES // max(1, 4 * int(ds.n_samples)))
    for start in range(0, len(records), block):
        out[start : start + block] = ds.signals(records[start : start + block])
    return out


@dataclass(frozen=True)
class Windows:
    """Records cut into model inputs.

    Args:
        signals: (n_windows, L) windows; a read-only view of the records when they overlap.
        record_index: (n_windows,) int64 row of the record each window was cut from.
        starts: (n_windows,) int64 first sample of each window in its record.
    """

    signals: np.ndarray
    record_index: np.ndarray
    starts: np.ndarray


def cut_windows(signals: np.ndarray, window: WindowConfig | None) -> Windows:
    """Cut records (n_records, n_samples) into the windows a model takes: the one function training
    and prediction on new records share, so a stored model sees windows cut exactly as in training.

    Args:
        window: the config's window; None means the whole record is one input (what training does
            without a window).
    """
    signals = np.asarray(signals)
    n_records, n_samples = signals.shape
    if window is None:
        which = np.arange(n_records, dtype=np.int64)
        return Windows(signals, which, np.zeros(n_records, dtype=np.int64))
    if n_records == 0:
        empty = np.empty(0, np.int64)
        return Windows(np.empty((0, window.length), np.float32), empty, empty)
    windows, which = make_windows(signals, window.length, window.step)
    per_record = windows.shape[0] // n_records
    starts = np.tile(np.arange(per_record, dtype=np.int64) * window.step, n_records)
    return Windows(windows, which, starts)


def _split_data(
    ds: Dataset,
    name: str,
    records: np.ndarray,
    window: WindowConfig | None,
    meta_names: tuple[str, ...],
    meta_all: np.ndarray,
) -> SplitData:
    records = np.sort(np.asarray(records, dtype=np.int64))
    signals = _read_records(ds, records)
    cut = cut_windows(signals, window)
    windows, which = cut.signals, cut.record_index
    record_labels = ds.labels[records].astype(np.int64)
    return SplitData(
        name=name,
        signals=windows,
        labels=record_labels[which],
        meta=np.ascontiguousarray(meta_all[records][which], dtype=np.float32),
        record_index=which,
        record_ids=np.asarray(ds.record_ids[records], dtype=object),
        records=records,
        record_labels=record_labels,
        class_names=ds.class_names,
        fs=ds.fs,
        meta_names=meta_names,
    )


# -- batches ------------------------------------------------------------------------------------------


def steps_per_epoch(n: int, batch_size: int, *, drop_single: bool = True) -> int:
    """Optimisation steps in one epoch over `n` windows.

    Args:
        drop_single: leave out a trailing batch of one window (batch norm cannot train on it).
    """
    steps = math.ceil(n / batch_size)
    if drop_single and n > 1 and n % batch_size == 1:
        steps -= 1
    return steps


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled window order of `epoch`: a function of (seed, epoch) alone, so a run resumed
    mid-epoch regenerates it instead of storing it."""
    generator = torch.Generator().manual_seed(derive_seed(seed, SHUFFLE_STREAM, epoch))
    return torch.randperm(n, generator=generator).numpy()


def iterate_batches(
    split: SplitData,
    batch_size: int,
    *,
    order: np.ndarray | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[Batch]:
    """Batches of `split` in `order` (default: window order), batch numbers `start` to `stop`."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    indices = np.arange(len(split), dtype=np.int64) if order is None else np.asarray(order, np.int64)
    n_batches = math.ceil(len(indices) / batch_size) if stop is None else stop
    for b in range(start, n_batches):
        yield split.batch(indices[b * batch_size : (b + 1) * batch_size])


# -- augmentation -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mixup:
    """Second targets of a mixup batch: the loss is lam * CE(y) + (1 - lam) * CE(y_b)."""

    y_b: torch.Tensor
    lam: float


class Augmenter:
    """Random changes to training batches, vectorised in torch and seeded from training.seed.

    In order: circular time shift (per window, up to `time_shift` x window length), a speed/time
    stretch by a factor drawn in 1 +- `time_stretch`, a random smooth colouring of the spectrum
    (tilt and wide bands up to +-`band_colouring_db`; the stretch leaves the metadata as it was, so a
    PINN's speed input may be off by up to the stretch), gain drawn
    uniformly in `amplitude_scale`, white Gaussian noise at `gaussian_noise_snr_db` relative to each
    window's power, then mixup with one Beta(alpha, alpha) weight per batch and partners chosen by a
    random permutation (metadata is mixed like the signals). Runs on the CPU batch, before it moves
    to the device, so the same seed gives the same batches on every machine.
    """

    def __init__(self, config: AugmentationConfig, seed: int):
        self.config = config
        self._torch = torch.Generator().manual_seed(derive_seed(seed, AUGMENT_STREAM))
        self._numpy = np.random.default_rng(derive_seed(seed, MIXUP_STREAM))

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def __call__(self, batch: Batch) -> tuple[Batch, Mixup | None]:
        cfg = self.config
        if not cfg.enabled or len(batch) == 0:
            return batch, None
        x, meta = batch.x, batch.meta
        n, length = x.shape
        g = self._torch
        max_shift = int(cfg.time_shift * length)
        if max_shift > 0:
            shifts = torch.randint(-max_shift, max_shift + 1, (n, 1), generator=g)
            source = (torch.arange(length).unsqueeze(0) - shifts) % length
            x = x.gather(1, source)
        if cfg.time_stretch > 0:
            x = _stretch(x, cfg.time_stretch, g)
        if cfg.band_colouring_db > 0:
            x = _colour(x, cfg.band_colouring_db, g)
        low, high = cfg.amplitude_scale
        if (low, high) != (1.0, 1.0):
            x = x * (low + (high - low) * torch.rand((n, 1), generator=g))
        if cfg.gaussian_noise_snr_db is not None:
            power = x.pow(2).mean(dim=1, keepdim=True)
            std = torch.sqrt(power / 10.0 ** (cfg.gaussian_noise_snr_db / 10.0))
            x = x + torch.randn(x.shape, generator=g) * std
        mix = None
        if cfg.mixup_alpha > 0:
            lam = float(self._numpy.beta(cfg.mixup_alpha, cfg.mixup_alpha))
            perm = torch.randperm(n, generator=g)
            x = lam * x + (1.0 - lam) * x[perm]
            meta = lam * meta + (1.0 - lam) * meta[perm]
            mix = Mixup(y_b=batch.y[perm], lam=lam)
        return Batch(x=x.contiguous(), y=batch.y, meta=meta, index=batch.index), mix

    def state_dict(self) -> dict[str, Any]:
        """Generator states (checkpoint-safe)."""
        return {"torch": self._torch.get_state(), "numpy": numpy_generator_state(self._numpy)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._torch.set_state(state["torch"])
        set_numpy_generator_state(self._numpy, state["numpy"])


COLOURING_BUMPS = 3  # wide random bands per window, on top of the tilt
_COLOURING_OCTAVES = 8  # span of the colouring below Nyquist; lower bins keep the gain of its bottom


def _stretch(x: torch.Tensor, largest: float, g: torch.Generator) -> torch.Tensor:
    """Each window resampled by a factor in [1 - largest, 1 + largest] about its centre (linear
    interpolation, wrapping circularly like the time shift), as if the machine turned that much faster
    or slower: every line and mode moves by the factor."""
    n, length = x.shape
    factor = 1.0 + largest * (2.0 * torch.rand((n, 1), generator=g) - 1.0)
    centre = 0.5 * length
    position = (torch.arange(length, dtype=x.dtype).unsqueeze(0) - centre) * factor + centre
    position = torch.remainder(position, length)
    left = position.floor().long()
    frac = position - left
    right = (left + 1) % length
    return x.gather(1, left % length) * (1.0 - frac) + x.gather(1, right) * frac


def _colour(x: torch.Tensor, largest_db: float, g: torch.Generator) -> torch.Tensor:
    """Each window through a random smooth filter: a spectral tilt plus `COLOURING_BUMPS` wide bands,
    each within +-`largest_db`, as another mounting or transmission path would colour it."""
    n, length = x.shape
    spectrum = torch.fft.rfft(x, dim=1)
    bins = spectrum.shape[1]
    # Octaves below Nyquist, held at the bottom of the span so the lowest bins are not blown up.
    octave = torch.log2(torch.arange(bins, dtype=x.dtype).clamp(min=1.0) / (bins - 1)).clamp(
        min=-_COLOURING_OCTAVES
    )
    middle = -0.5 * _COLOURING_OCTAVES
    tilt = largest_db / (0.5 * _COLOURING_OCTAVES) * (2.0 * torch.rand((n, 1), generator=g) - 1.0)
    gain_db = tilt * (octave.unsqueeze(0) - middle)
    gains = largest_db * (2.0 * torch.rand((n, COLOURING_BUMPS), generator=g) - 1.0)
    centres = -_COLOURING_OCTAVES * torch.rand((n, COLOURING_BUMPS), generator=g)
    widths = 0.3 + 0.7 * torch.rand((n, COLOURING_BUMPS), generator=g)
    for j in range(COLOURING_BUMPS):
        distance = (octave.unsqueeze(0) - centres[:, j : j + 1]) / widths[:, j : j + 1]
        gain_db = gain_db + gains[:, j : j + 1] * torch.exp(-0.5 * distance**2)
    gain_db = gain_db.clamp(-largest_db, largest_db)
    return torch.fft.irfft(spectrum * 10.0 ** (gain_db / 20.0), n=length, dim=1).to(x.dtype)
