"""The one owner of an experiment folder's layout: `<workspace>/experiments/<id>/` and its files.

Every module that writes or reads an experiment's files takes the path from `ExperimentFolder`;
none joins a file name onto the folder itself (`tests/store/test_artifact_names.py` checks it). This
module knows paths only: what the files hold is written and read by `training.artifacts`,
`training.checkpoint`, `runner.logs` and `analysis`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bearing_workbench.config.arguments import NonNegativeInt, check, checked
from bearing_workbench.store.workspace import confined_path, workspace_root

EXPERIMENTS_FOLDER = "experiments"


@dataclass(frozen=True)
class ArtifactKind:
    """One kind of file an experiment folder may hold.

    Args:
        key: the attribute of `ExperimentFolder` giving its path (and the name the pages ask for).
        filename: the file's name in the folder.
        label: what the results page calls it.
        mime: its MIME type, for browser downloads.
    """

    key: str
    filename: str
    label: str
    mime: str


_OCTET = "application/octet-stream"
_JSON = "application/json"
# Every named file of an experiment folder. Epoch checkpoints (`epoch-NNNN.pt`) are a family of
# files, named by `ExperimentFolder.epoch_checkpoint`.
KINDS: tuple[ArtifactKind, ...] = (
    ArtifactKind("config", "config.yaml", "config YAML", "text/yaml"),
    ArtifactKind("history", "history.json", "history JSON", _JSON),
    ArtifactKind("metrics", "metrics.json", "metrics JSON", _JSON),
    ArtifactKind("predictions_test", "predictions_test.csv", "test predictions CSV", "text/csv"),
    ArtifactKind("predictions_val", "predictions_val.csv", "validation predictions CSV", "text/csv"),
    ArtifactKind("model_summary", "model_summary.json", "model summary JSON", _JSON),
    ArtifactKind("input_spec", "input_spec.json", "input spec JSON", _JSON),
    ArtifactKind("onnx", "model.onnx", "ONNX model", _OCTET),
    ArtifactKind("classical_model", "model.skops", "classical model (skops)", _OCTET),
    ArtifactKind("ensemble_combiner", "ensemble.json", "ensemble weights JSON", _JSON),
    ArtifactKind("ensemble_meta_learner", "meta_learner.skops", "stacking meta-learner (skops)", _OCTET),
    ArtifactKind("best_checkpoint", "best.pt", "checkpoint (best.pt)", _OCTET),
    ArtifactKind("last_checkpoint", "last.pt", "checkpoint (last.pt)", _OCTET),
    ArtifactKind("log", "training.log", "training log", "text/plain"),
    ArtifactKind("report", "report.pdf", "PDF report", "application/pdf"),
)
KIND_BY_KEY: dict[str, ArtifactKind] = {kind.key: kind for kind in KINDS}

# What the results page offers for download, in its order (keys of KIND_BY_KEY).
DOWNLOAD_KEYS = (
    "best_checkpoint",
    "classical_model",
    "ensemble_combiner",
    "ensemble_meta_learner",
    "onnx",
    "config",
    "predictions_test",
    "history",
    "metrics",
)
# What a history export carries: what a colleague needs to read a run's results back, no weights.
EXPORT_KEYS = (
    "config",
    "metrics",
    "history",
    "predictions_test",
    "predictions_val",
    "model_summary",
    "input_spec",
)
# Model files a history row offers, best first. A classical run keeps its pipeline as skops (and
# ONNX of the feature table where it converts); an ensemble keeps its weights or meta-learner and
# predicts through its members' files.
MODEL_FILE_KEYS = (
    "onnx",
    "classical_model",
    "best_checkpoint",
    "last_checkpoint",
    "ensemble_combiner",
    "ensemble_meta_learner",
)

_EPOCH_FILE = re.compile(r"epoch-(\d+)\.pt")


@checked
def epoch_checkpoint_name(epoch: NonNegativeInt) -> str:
    """File name of the checkpoint taken after `epoch` (1-based): ``epoch-NNNN.pt``."""
    return f"epoch-{epoch:04d}.pt"


@dataclass(frozen=True)
class PresentArtifact:
    """A file the folder holds now: its kind (None for an epoch checkpoint), name, path and size."""

    kind: ArtifactKind | None
    name: str
    path: Path
    size: int

    @property
    def label(self) -> str:
        return self.kind.label if self.kind is not None else f"checkpoint ({self.name})"

    @property
    def mime(self) -> str:
        return self.kind.mime if self.kind is not None else _OCTET


@dataclass(frozen=True)
class ExperimentFolder:
    """The folder of one experiment and the path of each file in it (whether it exists or not).

    Build it with `ExperimentFolder.of(experiment_id, workspace)` or, for a folder already known (a
    worker's out_dir, a test's tmp_path), `ExperimentFolder.at(path)`. Nothing is created until
    `create()`.
    """

    path: Path
    experiment_id: int | None = None

    @classmethod
    def of(cls, experiment_id: int, workspace: Path | str | None = None) -> ExperimentFolder:
        """The folder of experiment `experiment_id` in `workspace` (default: `workspace_root()`)."""
        # check(), not @checked: validate_call cannot resolve this class's name inside its own body.
        experiment_id = check(NonNegativeInt, experiment_id, "experiment_id")
        root = workspace_root() if workspace is None else Path(workspace).expanduser().resolve()
        return cls(confined_path(root, EXPERIMENTS_FOLDER, str(experiment_id)), experiment_id)

    @classmethod
    def at(cls, path: str | os.PathLike[str] | ExperimentFolder) -> ExperimentFolder:
        """The experiment folder at `path` (its id read from the name when it is a number)."""
        if isinstance(path, ExperimentFolder):
            return path
        folder = Path(path).expanduser().resolve()
        ident = int(folder.name) if folder.name.isdigit() else None
        return cls(folder, ident)

    def create(self) -> ExperimentFolder:
        """Make the folder (and its parents) if missing; returns self."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def exists(self) -> bool:
        return self.path.is_dir()

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    # -- one path per artifact -------------------------------------------------------------------------

    def _file(self, key: str) -> Path:
        return self.path / KIND_BY_KEY[key].filename

    @property
    def config(self) -> Path:
        return self._file("config")

    @property
    def history(self) -> Path:
        return self._file("history")

    @property
    def metrics(self) -> Path:
        return self._file("metrics")

    @property
    def predictions_test(self) -> Path:
        return self._file("predictions_test")

    @property
    def predictions_val(self) -> Path:
        return self._file("predictions_val")

    def predictions(self, split: Literal["test", "val"]) -> Path:
        """The record-level predictions CSV of `split` ("test" or "val")."""
        if split not in ("test", "val"):
            raise ValueError(f"split must be 'test' or 'val', got {split!r}")
        return self._file(f"predictions_{split}")

    @property
    def model_summary(self) -> Path:
        return self._file("model_summary")

    @property
    def input_spec(self) -> Path:
        return self._file("input_spec")

    @property
    def onnx(self) -> Path:
        return self._file("onnx")

    @property
    def classical_model(self) -> Path:
        return self._file("classical_model")

    @property
    def ensemble_combiner(self) -> Path:
        return self._file("ensemble_combiner")

    @property
    def ensemble_meta_learner(self) -> Path:
        return self._file("ensemble_meta_learner")

    @property
    def best_checkpoint(self) -> Path:
        return self._file("best_checkpoint")

    @property
    def last_checkpoint(self) -> Path:
        return self._file("last_checkpoint")

    @property
    def log(self) -> Path:
        return self._file("log")

    @property
    def report(self) -> Path:
        return self._file("report")

    def artifact(self, key: str) -> Path:
        """The path of the artifact `key` (a key of `KIND_BY_KEY`); KeyError naming the known ones."""
        if key not in KIND_BY_KEY:
            raise KeyError(f"unknown artifact {key!r}; known: {', '.join(KIND_BY_KEY)}")
        return self._file(key)

    def where(self, path: str | os.PathLike[str]) -> str:
        """File `path` of this folder as messages show it: ``experiments/<id>/<name>``."""
        return f"{self.path.parent.name}/{self.path.name}/{Path(path).name}"

    # -- checkpoints -----------------------------------------------------------------------------------

    def epoch_checkpoint(self, epoch: int) -> Path:
        """The checkpoint taken after `epoch` (1-based)."""
        return self.path / epoch_checkpoint_name(epoch)

    def epoch_checkpoints(self) -> list[tuple[int, Path]]:
        """(epoch, path) of every epoch checkpoint the folder holds, oldest first."""
        if not self.path.is_dir():
            return []
        found = []
        for path in self.path.iterdir():
            match = _EPOCH_FILE.fullmatch(path.name)
            if match and path.is_file():
                found.append((int(match.group(1)), path))
        return sorted(found)

    def is_checkpoint(self, path: str | os.PathLike[str]) -> bool:
        """Whether `path` names one of this folder's checkpoints (best, last or an epoch file)."""
        name = Path(path).name
        return name in (self.best_checkpoint.name, self.last_checkpoint.name) or bool(
            _EPOCH_FILE.fullmatch(name)
        )

    # -- what exists, and names from outside -------------------------------------------------------------

    def present(self) -> list[PresentArtifact]:
        """The artifacts the folder holds now, with their sizes: the named ones in `KINDS` order, then
        the epoch checkpoints oldest first. Empty when the folder does not exist."""
        found = []
        for kind in KINDS:
            path = self._file(kind.key)
            if path.is_file() and not path.is_symlink():
                found.append(PresentArtifact(kind, kind.filename, path, path.stat().st_size))
        for _, path in self.epoch_checkpoints():
            if not path.is_symlink():
                found.append(PresentArtifact(None, path.name, path, path.stat().st_size))
        return found

    def resolve(self, name: str | os.PathLike[str]) -> Path:
        """The path of file `name` (from a browser, the CLI, a worker) inside this folder.

        Raises ValueError for a name that leaves the folder: absolute paths, ``..`` that climbs out,
        NUL bytes, and symlinks that point outside. The file need not exist.
        """
        text = os.fspath(name)
        if not text or text in (".", os.curdir):
            raise ValueError(f"expected a file name in {self.path}, got {text!r}")
        return confined_path(self.path, text)

    def existing_file(self, name: str | os.PathLike[str]) -> Path:
        """`resolve(name)`, and FileNotFoundError naming the experiment when it is not a file there."""
        path = self.resolve(name)
        if not path.is_file():
            who = f"experiment {self.experiment_id}" if self.experiment_id is not None else "the experiment"
            raise FileNotFoundError(f"{who} has no {os.fspath(name)} in {self.path}")
        return path
