"""The neural families' stored models: the network rebuilt from the stored config and input spec,
holding the weights its test predictions were made with (read with the safe checkpoint loader only).

Which file holds them follows what `training.loop.fit` handed back: ``best.pt`` when an epoch
improved the monitored metric, else the last epoch's ``last.pt`` (written after every epoch whatever
the checkpoint policy); the epoch recorded inside the file is checked against metrics.json.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bearing_workbench.models.registry import set_loader
from bearing_workbench.models.validation import model_params
from bearing_workbench.training.errors import CheckpointError
from bearing_workbench.training.evaluate import predict_windows
from bearing_workbench.training.stored_model import (
    PredictionWindows,
    Progress,
    Records,
    StoredFiles,
    StoredModel,
    StoredModelError,
)

# Windows handed to the network between two progress reports, in batches.
PROGRESS_BATCHES = 8


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
        step = self.batch_size * PROGRESS_BATCHES
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
    try:
        device = torch.device(files.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    except RuntimeError:
        raise StoredModelError(
            f"device {files.device!r} is not a device name (cpu, cuda, cuda:1 ...)"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise StoredModelError(f"device {files.device!r} was asked for but CUDA is not available; use cpu")
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
