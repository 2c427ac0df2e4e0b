"""The files an experiment leaves in its folder, each written atomically (temp file + os.replace).

What the files hold is written and read here; where they are is `store.artifacts.ExperimentFolder`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bearing_workbench.config.atomic_files import write_text_atomic
from bearing_workbench.models.predictions import (
    Predictions,
    PredictionsFileError,
    make_predictions,
    predictions_csv,
    read_predictions,
)
from bearing_workbench.store.artifacts import ExperimentFolder

__all__ = [
    "Predictions",
    "PredictionsFileError",
    "read_json",
    "read_predictions",
    "to_jsonable",
    "write_artifacts",
    "write_json",
    "write_text",
]


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` atomically: readers see the old file or the whole new one, never half."""
    return write_text_atomic(path, text)


def to_jsonable(value: Any, where: str = "value") -> Any:
    """Plain JSON values from dataclasses, numpy values, paths, enums and dates; NaN and inf become None."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return to_jsonable(value.item(), where)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), where)
    if isinstance(value, Enum):
        return to_jsonable(value.value, where)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value), where)
    if hasattr(value, "model_dump"):  # pydantic models
        return to_jsonable(value.model_dump(mode="json"), where)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where}: {type(value).__name__} cannot be written as JSON")


def write_json(path: str | os.PathLike[str], value: Any) -> Path:
    """Write `value` as indented JSON (see `to_jsonable`), atomically."""
    text = json.dumps(to_jsonable(value, Path(path).name), indent=2, allow_nan=False)
    return write_text(path, text + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON artifact."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _config_yaml(config: Any) -> str:
    if hasattr(config, "to_yaml"):
        return config.to_yaml()
    if isinstance(config, Mapping):
        return yaml.safe_dump(to_jsonable(config, "config"), sort_keys=False)
    raise TypeError(f"config: expected an ExperimentConfig or a dict, got {type(config).__name__}")


def _as_predictions(value: Any, class_names: tuple[str, ...], which: str) -> Predictions:
    try:
        preds = make_predictions(*value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{which}: expected (record_ids, y_true, probs, class_names): {exc}") from None
    if preds.class_names != class_names:
        raise ValueError(f"{which}: classes {list(preds.class_names)} differ from {list(class_names)}")
    return preds


def write_artifacts(
    out_dir: str | os.PathLike[str] | ExperimentFolder,
    *,
    config: Any,
    history: Sequence[Any],
    metrics: Mapping[str, Any],
    test_predictions: Predictions | Sequence[Any],
    val_predictions: Predictions | Sequence[Any] | None,
    class_names: Sequence[str],
    model_summary: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the config YAML, history, metrics and test/val predictions CSVs into the experiment folder.

    Args:
        config: an ExperimentConfig (written with `to_yaml`) or a plain dict.
        history: one entry per epoch (EpochMetrics dataclasses or dicts); empty for non-epoch families.
        test_predictions, val_predictions: record-level `Predictions` (or tuples of the same four
            fields); val may be None when there is no validation split.
        model_summary: what a non-neural model learned (feature importances, ensemble weights), written
            to model_summary.json when given.

    Returns:
        artifact name -> path of each file written.
    """
    names = tuple(str(c) for c in class_names)
    folder = ExperimentFolder.at(out_dir)
    # Everything is checked before the first file is written, so bad input leaves no partial set.
    test = _as_predictions(test_predictions, names, "test_predictions")
    val = None if val_predictions is None else _as_predictions(val_predictions, names, "val_predictions")
    texts = {
        "config": _config_yaml(config),
        "history": json.dumps(to_jsonable(list(history), "history"), indent=2, allow_nan=False) + "\n",
        "metrics": json.dumps(to_jsonable(dict(metrics), "metrics"), indent=2, allow_nan=False) + "\n",
        "predictions_test": predictions_csv(test),
    }
    if val is not None:
        texts["predictions_val"] = predictions_csv(val)
    if model_summary is not None:
        texts["model_summary"] = (
            json.dumps(to_jsonable(dict(model_summary), "model_summary"), indent=2, allow_nan=False) + "\n"
        )
    return {key: write_text(folder.artifact(key), text) for key, text in texts.items()}
