"""Checkpoints: everything needed to resume a run, stored so that only the safe loader reads them.

A checkpoint is a dict of plain values (dict, list, tuple, str, int, float, bool, None) and tensors,
written with `torch.save` and read with ``torch.load(weights_only=True)`` only: a file carrying any
other Python object is refused, never unpickled. Keys (format version 1):

- ``format``, ``format_version``, ``family``, ``config`` (the ExperimentConfig as JSON text),
  ``spec`` (the InputSpec as a dict);
- ``model``, ``optimizer``, ``scheduler``, ``scaler``: state dicts;
- ``progress``: ``epoch`` (finished epochs), ``batch`` (steps done in the next epoch; 0 at an epoch
  boundary), ``step`` (steps overall), ``steps_per_epoch`` (absent before this was kept) and
  ``partial`` (the running sums of an unfinished epoch);
- ``early_stopping``: ``best``, ``best_epoch``, ``bad_epochs``;
- ``rng``: global generators (Python, numpy, torch CPU and CUDA) and the loop's own streams;
- ``history``: one `EpochMetrics.as_dict()` per finished epoch.

Files in an experiment folder: ``epoch-NNNN.pt`` (policy: every epoch, or each improvement; the
last ``keep_last`` are kept), ``best.pt`` (best monitored epoch, never pruned) and ``last.pt``, the
resume point: rewritten after every epoch whatever the policy, and mid-epoch when a run is stopped
or paused. The policy governs what is kept, not what a resume reads: under ``best_only`` the newest
epoch file is the best one, which may be epochs behind; a resume from it would train those epochs
again and write their rows and events a second time.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from bearing_workbench.config.atomic_files import atomic_path, atomic_write
from bearing_workbench.store.artifacts import KIND_BY_KEY, ExperimentFolder
from bearing_workbench.training.callbacks import where_in_training
from bearing_workbench.training.errors import CheckpointError

CHECKPOINT_FORMAT = "bearing-workbench-checkpoint"
CHECKPOINT_VERSION = 1
# The names are the experiment folder's (store.artifacts); kept here for the messages and events.
BEST_NAME = KIND_BY_KEY["best_checkpoint"].filename
LAST_NAME = KIND_BY_KEY["last_checkpoint"].filename
_PLAIN = (str, int, float, bool, type(None))
_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def check_plain(value: Any, where: str = "checkpoint") -> None:
    """Raise TypeError naming the key if `value` holds anything `weights_only` loading would refuse."""
    if isinstance(value, (torch.Tensor, *_PLAIN)):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, _PLAIN):
                raise TypeError(f"{where}: key {key!r} is a {type(key).__name__}; keys must be plain")
            check_plain(item, f"{where}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]")
        return
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}; a checkpoint may hold only "
        "tensors, numbers, strings, None and dicts/lists/tuples of them (so weights_only loading works)"
    )


def save_checkpoint(path: str | os.PathLike, state: Mapping[str, Any]) -> Path:
    """Write `state` to `path` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    check_plain(dict(state))
    with atomic_write(path, "wb") as handle:
        torch.save(dict(state), handle)
    return path


def _copy_atomic(source: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(weights_only=True)``; refuse anything else, naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist", hint="check the experiment folder")
    if not zipfile.is_zipfile(path):
        # torch.save writes a zip archive; anything else is foreign (or a legacy pickle) and not read.
        raise CheckpointError(f"{path} is not a readable checkpoint (not a PyTorch zip archive)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _UNSUPPORTED_GLOBAL.search(str(exc))
        what = f"it references {found.group(1)}" if found else "weights-only loading failed"
        raise CheckpointError(
            f"refusing to load {path}: it contains Python objects, which only an unsafe loader would "
            f"run ({what})",
            hint="load only checkpoints written by the workbench; never use an unsafe loader on this file",
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable checkpoint ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a {CHECKPOINT_FORMAT} file (no 'format' key)")
    version = int(state.get("format_version", -1))
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {version}, newer than this workbench reads "
            f"({CHECKPOINT_VERSION})",
            hint="upgrade bearing-workbench",
        )
    return state


class CheckpointPolicy:
    """Where and when checkpoints are written in one experiment folder.

    Args:
        policy: ``every_epoch`` writes ``epoch-NNNN.pt`` after every epoch; ``best_only`` only after
            an epoch that improved the monitored metric. Either way ``best.pt`` follows the best epoch.
        keep_last: epoch files kept (oldest pruned first); ``best.pt`` and ``last.pt`` are never pruned.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike | ExperimentFolder,
        policy: Literal["every_epoch", "best_only"],
        keep_last: int,
    ):
        if policy not in ("every_epoch", "best_only"):
            raise ValueError(f"training.checkpoint.policy must be every_epoch or best_only, got {policy!r}")
        if keep_last < 1:
            raise ValueError(f"training.checkpoint.keep_last must be at least 1, got {keep_last}")
        self.folder = ExperimentFolder.at(out_dir)
        self.out_dir = self.folder.path
        self.policy = policy
        self.keep_last = int(keep_last)

    @property
    def best_path(self) -> Path:
        return self.folder.best_checkpoint

    @property
    def last_path(self) -> Path:
        return self.folder.last_checkpoint

    def after_epoch(self, state: Mapping[str, Any], epoch: int, improved: bool) -> list[tuple[Path, bool]]:
        """Write what the policy asks for after `epoch`, and ``last.pt`` (the resume point); returns
        (path, is_best) per file the policy asked for (``last.pt`` is reported by the loop when a
        stop or pause makes it the run's checkpoint, not after every epoch)."""
        written: list[tuple[Path, bool]] = []
        epoch_file: Path | None = None
        if self.policy == "every_epoch" or improved:
            epoch_file = save_checkpoint(self.folder.epoch_checkpoint(epoch), state)
            written.append((epoch_file, False))
        if improved:
            if epoch_file is not None:
                _copy_atomic(epoch_file, self.best_path)  # the same bytes: serialise once
            else:
                save_checkpoint(self.best_path, state)
            written.append((self.best_path, True))
        if epoch_file is not None:
            _copy_atomic(epoch_file, self.last_path)
        else:
            save_checkpoint(self.last_path, state)
        self.prune()
        return written

    def save_last(self, state: Mapping[str, Any]) -> Path:
        """Write ``last.pt`` (a run stopped or paused mid-epoch)."""
        return save_checkpoint(self.last_path, state)

    def prune(self) -> list[Path]:
        """Delete all but the newest `keep_last` epoch files; returns those removed."""
        files = self.folder.epoch_checkpoints()
        removed = [path for _, path in files[: max(0, len(files) - self.keep_last)]]
        for path in removed:
            path.unlink(missing_ok=True)
        return removed


def epoch_checkpoints(out_dir: str | os.PathLike | ExperimentFolder) -> list[tuple[int, Path]]:
    """(epoch, path) of every ``epoch-NNNN.pt`` in `out_dir`, oldest first."""
    return ExperimentFolder.at(out_dir).epoch_checkpoints()


@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint a resume reads and the progress stored in it (epochs done, batches done in the
    next epoch): a resume continues epoch ``epochs_done + 1`` from batch ``batches_done + 1``."""

    path: Path
    epochs_done: int
    batches_done: int
    steps_per_epoch: int = 0  # 0: not known (a checkpoint written before it was kept)

    def where(self) -> str:
        """``"after epoch 10"`` or ``"during epoch 11 (batch 5/20 done)"`` (`where_in_training`)."""
        return where_in_training(self.epochs_done, self.batches_done, self.steps_per_epoch)


def resume_point(out_dir: str | os.PathLike | ExperimentFolder) -> ResumePoint | None:
    """Where a crashed or stopped run resumes: the most advanced checkpoint in `out_dir` (None: none).

    Compares the ``progress`` recorded inside ``last.pt``, the newest epoch file and ``best.pt``
    (``last.pt`` is the newest in a folder this version wrote; the others matter for older folders).
    """
    folder = ExperimentFolder.at(out_dir)
    candidates = [folder.last_checkpoint, folder.best_checkpoint]
    epochs = folder.epoch_checkpoints()
    if epochs:
        candidates.append(epochs[-1][1])
    best: ResumePoint | None = None
    for path in candidates:
        if not path.is_file():
            continue
        progress = load_checkpoint(path).get("progress", {})
        point = ResumePoint(
            path,
            int(progress.get("epoch", 0)),
            int(progress.get("batch", 0)),
            int(progress.get("steps_per_epoch") or 0),
        )
        if best is None or (point.epochs_done, point.batches_done) > (best.epochs_done, best.batches_done):
            best = point
    return best


def latest_checkpoint(out_dir: str | os.PathLike | ExperimentFolder) -> Path | None:
    """The path of `resume_point` (None when `out_dir` holds no checkpoint)."""
    point = resume_point(out_dir)
    return None if point is None else point.path
