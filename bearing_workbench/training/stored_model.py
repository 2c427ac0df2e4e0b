"""Stored models: a completed experiment's model read back from its folder, to predict new records.

`load_stored_model(store, experiment_id)` finds the experiment's family in the models registry and
calls the loader that family registered (`models.registry.set_loader`): neural families rebuild the
network from the stored config and ``input_spec.json`` and load the weights its test predictions
were made with; the classical family reads its skops file (`training.classical_files`); an ensemble
reads its combination and loads its members (`training.ensemble_files`).

Every stored model cuts records into windows with `training.data.cut_windows`, the function training
uses, and aggregates window probabilities to records with `training.evaluate.aggregate_records`,
the function evaluation uses; so predicting a test record again gives its stored prediction.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.config.schema import WindowConfig
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import get_family, set_loader
from bearing_workbench.models.validation import model_params
from bearing_workbench.store import NotFoundError, RunStatus
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.data import cut_windows
from bearing_workbench.training.errors import CheckpointError
from bearing_workbench.training.evaluate import aggregate_records, predict_windows

if TYPE_CHECKING:
    from bearing_workbench.store import Store

Progress = Callable[[float, str], None]
# Modules whose import registers the loaders of the families that are not neural networks.
_LOADER_MODULES = ("bearing_workbench.training.classical_files", "bearing_workbench.training.ensemble_files")
# Windows handed to a torch model between two progress reports.
_PROGRESS_BATCHES = 8


class StoredModelError(ValueError):
    """A stored model cannot be loaded or cannot predict these records; the message is one line
    naming the experiment, file or metadata column and what is expected."""


@dataclass(frozen=True)
class Records:
    """Whole records at the model's sampling rate.

    Args:
        signals: (n_records, n_samples) float32.
        meta: operating metadata by column name (speed_hz, load_frac, ...), each (n_records,).
        labels: class index per record in the model's class order, or None (unlabelled).
    """

    signals: np.ndarray
    fs: float
    record_ids: tuple[str, ...]
    meta: Mapping[str, np.ndarray] = field(default_factory=dict)
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        signals = np.asarray(self.signals)
        if signals.ndim != 2:
            raise StoredModelError(f"records: signals must be (records, samples), got shape {signals.shape}")
        n = signals.shape[0]
        if len(self.record_ids) != n:
            raise StoredModelError(f"records: {len(self.record_ids)} record ids for {n} signals")
        for name, values in self.meta.items():
            if np.shape(values) != (n,):
                raise StoredModelError(
                    f"records: metadata {name!r} has shape {np.shape(values)}, expected ({n},)"
                )
        if self.labels is not None and np.shape(self.labels) != (n,):
            raise StoredModelError(f"records: labels have shape {np.shape(self.labels)}, expected ({n},)")

    @property
    def n_records(self) -> int:
        return int(np.shape(self.signals)[0])

    @property
    def n_samples(self) -> int:
        return int(np.shape(self.signals)[1])


@dataclass(frozen=True)
class RecordOutputs:
    """A stored model's predictions on records.

    Args:
        probs: (n_records, C), windows aggregated exactly as evaluation does.
        window_probs: (n_windows, C); None for an ensemble.
        window_record_index: (n_windows,) index into the records' ids.
        window_starts: (n_windows,) first sample of each window.
        warnings: what the model did differently from training (e.g. speed estimated per window).
    """

    probs: np.ndarray
    window_probs: np.ndarray | None
    window_record_index: np.ndarray | None
    window_starts: np.ndarray | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PredictionWindows:
    """Windows of records in the shape evaluation and the families' models read a split."""

    signals: np.ndarray
    meta: np.ndarray  # (n, M), columns as the spec's meta_names (NaN where a column was not given)
    record_index: np.ndarray
    record_ids: tuple[str, ...]
    class_names: tuple[str, ...]
    fs: float
    labels: np.ndarray  # zeros: windows of new records have no labels the model may read

    def __len__(self) -> int:
        return int(self.signals.shape[0])

    def part(self, start: int, stop: int) -> PredictionWindows:
        """Windows `start` to `stop` (same records)."""
        return dataclasses.replace(
            self,
            signals=self.signals[start:stop],
            meta=self.meta[start:stop],
            record_index=self.record_index[start:stop],
            labels=self.labels[start:stop],
        )


@dataclass(frozen=True)
class StoredFiles:
    """What a family's loader is given: the experiment's row, config, input spec, folder and metrics."""

    store: Any
    experiment_id: int
    name: str
    config: ExperimentConfig
    spec: InputSpec
    folder: ExperimentFolder
    metrics: Mapping[str, Any]
    device: str | None

    def where(self, path: Any) -> str:
        return self.folder.where(path)


class StoredModel:
    """A stored experiment's model applied to whole records: checks, windows, window probabilities,
    aggregation to records. Each family's loader returns a subclass giving `_window_probs`."""

    def __init__(self, files: StoredFiles, *, required_meta: Sequence[str] = ()):
        self.files = files
        self.experiment_id = files.experiment_id
        self.family = files.config.model.family
        self.config = files.config
        self.spec = files.spec
        self.min_samples = int(files.spec.length)
        self.required_meta: tuple[str, ...] = tuple(required_meta)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(experiment_id={self.experiment_id}, family={self.family!r})"

    @property
    def label(self) -> str:
        return f"experiment {self.experiment_id} ({self.family})"

    # -- checks ---------------------------------------------------------------------------------------

    def check_records(self, records: Records) -> None:
        """Refuse records this model cannot take (StoredModelError with a one-line reason)."""
        if records.n_records == 0:
            raise StoredModelError("records: there are no records to predict")
        if not math.isclose(float(records.fs), self.spec.fs, rel_tol=1e-9):
            raise StoredModelError(
                f"records are sampled at {records.fs:g} Hz but {self.label} takes {self.spec.fs:g} Hz; "
                "resample them first"
            )
        if records.n_samples < self.min_samples:
            raise StoredModelError(
                f"records have {records.n_samples} samples but {self.label} needs at least "
                f"{self.min_samples} ({self.min_samples / self.spec.fs:g} s at {self.spec.fs:g} Hz), "
                "one window"
            )
        bad = ~np.isfinite(np.asarray(records.signals)).all(axis=1)
        if bad.any():
            raise StoredModelError(
                f"record {records.record_ids[int(np.flatnonzero(bad)[0])]!r} has NaN or infinite samples "
                f"({int(bad.sum())} record(s) in all); every sample must be a finite number"
            )
        missing = [name for name in self.required_meta if name not in records.meta]
        if missing:
            raise StoredModelError(
                f"{self.label} needs the operating metadata {', '.join(self.required_meta)} of every "
                f"record; missing: {', '.join(missing)} (datasets from generate-data carry them; a file "
                "of your own gives them as meta_<name> columns or keys)"
            )
        for name in self.required_meta:
            values = np.asarray(records.meta[name], dtype=np.float64)
            if not np.isfinite(values).all():
                raise StoredModelError(f"records: metadata {name!r} has missing or infinite values")

    # -- prediction -----------------------------------------------------------------------------------

    def window_config(self, n_samples: int) -> WindowConfig | None:
        """The windows records of `n_samples` are cut into: the training config's; without one
        (trained on whole records), whole records of the training length, longer ones cut into
        windows of that length without overlap."""
        window = self.config.data.window
        if window is not None or n_samples == self.spec.length:
            return window
        return WindowConfig.model_construct(length=self.spec.length, hop=None)

    def windows(self, records: Records) -> tuple[PredictionWindows, np.ndarray]:
        """The records cut into windows (with each window's metadata row) and the window starts."""
        signals = np.asarray(records.signals, dtype=np.float32)
        cut = cut_windows(signals, self.window_config(records.n_samples))
        meta = np.full((records.n_records, len(self.spec.meta_names)), np.nan, dtype=np.float32)
        for j, name in enumerate(self.spec.meta_names):
            if name in records.meta:
                meta[:, j] = np.asarray(records.meta[name], dtype=np.float32)
        windows = PredictionWindows(
            signals=cut.signals,
            meta=np.ascontiguousarray(meta[cut.record_index]),
            record_index=cut.record_index,
            record_ids=tuple(str(r) for r in records.record_ids),
            class_names=self.spec.class_names,
            fs=float(records.fs),
            labels=np.zeros(len(cut.record_index), dtype=np.int64),
        )
        return windows, cut.starts

    def predict_records(self, records: Records, *, progress: Progress | None = None) -> RecordOutputs:
        """Class probabilities per record (and per window) of `records`."""
        self.check_records(records)
        report = progress or _silent
        windows, starts = self.windows(records)
        report(0.0, f"{len(windows)} windows of {records.n_records} records")
        window_probs, notes = self._window_probs(windows, records, report)
        probs = aggregate_records(window_probs, windows.record_index, records.n_records)
        report(1.0, "done")
        return RecordOutputs(probs, window_probs, windows.record_index, starts, tuple(notes))

    def _window_probs(
        self, windows: PredictionWindows, records: Records, progress: Progress
    ) -> tuple[np.ndarray, list[str]]:
        raise NotImplementedError


def _silent(fraction: float, message: str) -> None:
    return None


# -- neural families -----------------------------------------------------------------------------------


class TorchStoredModel(StoredModel):
    """A network rebuilt from its config and input spec, holding the weights of its test predictions."""

    def __init__(self, files: StoredFiles, model: Any, device: Any, *, required_meta: Sequence[str] = ()):
        super().__init__(files, required_meta=required_meta)
        self.model = model
        self.device = device
        self.batch_size = max(files.config.training.batch_size, 64)  # as the test split was predicted

    def _window_probs(
        self, windows: PredictionWindows, records: Records, progress: Progress
    ) -> tuple[np.ndarray, list[str]]:
        step = self.batch_size * _PROGRESS_BATCHES
        parts = []
        for start in range(0, len(windows), step):
            part = windows.part(start, start + step)
            parts.append(predict_windows(self.model, part, batch_size=self.batch_size, device=self.device))
            done = min(start + step, len(windows))
            progress(done / len(windows), f"windows {done}/{len(windows)}")
        return np.concatenate(parts), []


def weights_file(files: StoredFiles) -> Any:
    """The checkpoint holding the weights the test predictions were made with: ``best.pt`` when an
    epoch improved the monitored metric (fit handed that model back), else ``last.pt`` (the last epoch)."""
    best_epoch = files.metrics.get("best_epoch")
    path = files.folder.best_checkpoint if best_epoch else files.folder.last_checkpoint
    if not path.is_file():
        raise StoredModelError(
            f"{files.where(path)} is missing: experiment {files.experiment_id} has no model file"
        )
    return path, int(best_epoch or files.metrics.get("epochs_run") or 0)


def load_torch_model(
    files: StoredFiles, *, required_meta: Callable[[Any], Sequence[str]] | None = None
) -> TorchStoredModel:
    """Rebuild a neural family's network and load its weights (safe loading only)."""
    import torch

    from bearing_workbench.models.builders import build_model
    from bearing_workbench.training.checkpoint import load_checkpoint

    path, epoch = weights_file(files)
    try:
        state = load_checkpoint(path, map_location="cpu")
    except CheckpointError as exc:
        raise StoredModelError(f"{files.where(path)}: {exc.message}") from None
    stored_epoch = int((state.get("progress") or {}).get("epoch", -1))
    if epoch and stored_epoch != epoch:
        raise StoredModelError(
            f"{files.where(path)} holds epoch {stored_epoch} but the test predictions were made with "
            f"epoch {epoch}; the folder was changed after the run"
        )
    model = build_model(files.config.model.family, model_params(files.config), files.spec)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoredModelError(
            f"{files.where(path)} does not fit the stored config's model: {first}"
        ) from None
    device = torch.device(files.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = model.to(device).eval()
    needed = tuple(required_meta(model)) if required_meta is not None else ()
    return TorchStoredModel(files, model, device, required_meta=needed)


def pinn_required_meta(model: Any) -> tuple[str, ...]:
    """The metadata a physics-informed network reads when it predicts: its physics inputs (the
    operating point's Sommerfeld and Reynolds numbers) when ``physics_inputs`` was on, else none."""
    index = getattr(model, "input_index", None)
    if index is None:
        return ()
    return tuple(model.spec.meta_names[i] for i in index.tolist())


for _family in ("cnn1d", "resnet1d", "transformer", "spectrogram"):
    set_loader(_family, load_torch_model)
set_loader("pinn", lambda files: load_torch_model(files, required_meta=pinn_required_meta))


# -- loading -------------------------------------------------------------------------------------------


def load_loaders() -> None:
    """Import the modules that register the loaders (and savers) of the non-neural families."""
    for name in _LOADER_MODULES:
        importlib.import_module(name)


def read_json_file(path: Any, files_label: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise StoredModelError(f"{files_label} is missing") from None
    except (OSError, ValueError) as exc:
        raise StoredModelError(f"{files_label} is not readable JSON ({exc})") from None


def stored_files(store: Store, experiment_id: int, *, device: str | None = None) -> StoredFiles:
    """The row, config, input spec and metrics of a completed experiment (StoredModelError otherwise)."""
    if isinstance(experiment_id, bool) or not isinstance(experiment_id, int | np.integer):
        raise StoredModelError(f"experiment id must be a whole number, got {experiment_id!r}")
    experiment_id = int(experiment_id)
    try:
        record = store.get_experiment(experiment_id)
    except NotFoundError:
        raise StoredModelError(f"experiment {experiment_id} does not exist in this workspace") from None
    if record.status != RunStatus.COMPLETED:
        status = RunStatus(record.status).value
        raise StoredModelError(
            f"experiment {experiment_id} is {status}; only a completed experiment has a model to apply"
        )
    folder = ExperimentFolder.of(experiment_id, store.workspace)
    config = ExperimentConfig.model_validate(record.config)
    try:
        spec = InputSpec.model_validate(read_json_file(folder.input_spec, folder.where(folder.input_spec)))
    except StoredModelError:
        raise
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise StoredModelError(
            f"{folder.where(folder.input_spec)} is not a valid input spec ({first})"
        ) from None
    metrics = read_json_file(folder.metrics, folder.where(folder.metrics))
    return StoredFiles(store, experiment_id, record.name, config, spec, folder, metrics, device)


def load_stored_model(store: Store, experiment_id: int, *, device: str | None = None) -> StoredModel:
    """The model of completed experiment `experiment_id`, ready to predict new records."""
    files = stored_files(store, experiment_id, device=device)
    load_loaders()
    family = get_family(files.config.model.family)
    if family.loader is None:
        raise StoredModelError(f"model family {family.name!r} has no stored-model loader")
    return family.loader(files)


__all__ = [
    "PredictionWindows",
    "RecordOutputs",
    "Records",
    "StoredFiles",
    "StoredModel",
    "StoredModelError",
    "TorchStoredModel",
    "load_stored_model",
]
