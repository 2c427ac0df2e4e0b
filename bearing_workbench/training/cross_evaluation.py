"""A stored model evaluated on another dataset, the evaluation kept in the store.

    evaluation_id = evaluate_on(store, 12, "plant-a", classes_map={"ok": "healthy"})

Classes are matched by name, after `classes_map` renames the dataset's classes (``a=b``: the
dataset's ``a`` is the model's ``b``). A dataset holding a class the model does not know is refused
with both lists of names; classes of the model that the dataset lacks are fine (the result names
them). The metrics are those of the test split (`training.evaluate.evaluate_predictions`, record
level), so the two read alike on the results page.

Everything that can be refused is checked before the store is written (the model, the dataset, its
labels, the classes); then the evaluation is stored pending, runs, and lands completed with its result
or failed with an error and a hint, each step one transaction (`run_evaluation`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from bearing_workbench.config.arguments import RowId, checked
from bearing_workbench.training.evaluate import evaluate_predictions
from bearing_workbench.training.prediction import records_for
from bearing_workbench.training.sources import PredictionInputError, SignalSource, listed, load_source

if TYPE_CHECKING:
    from bearing_workbench.store import Store
    from bearing_workbench.training.stored_model import Records, StoredModel

Progress = Callable[[float, str], Any]
CLASSES_MAP_OPTION = "classes_map"


def parse_classes_map(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"a=b,c=d"`` (or a mapping) as {dataset class: model class}; PredictionInputError naming the
    option when it is malformed (an item without ``=``, an empty name, a class mapped twice)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = [(str(k), v if isinstance(v, str) else repr(v)) for k, v in value.items()]
    elif isinstance(value, str):
        items = []
        for part in (p for p in value.split(",") if p.strip()):
            if part.count("=") != 1:
                raise PredictionInputError(
                    f"expected DATASET_CLASS=MODEL_CLASS pairs separated by commas, got {part.strip()!r}",
                    option=CLASSES_MAP_OPTION,
                )
            source, target = part.split("=")
            items.append((source, target))
    else:
        raise PredictionInputError(
            f"expected 'a=b,c=d' or a dict of class names, got {type(value).__name__}",
            option=CLASSES_MAP_OPTION,
        )
    out: dict[str, str] = {}
    for source, target in items:
        source, target = source.strip(), target.strip()
        if not source or not target:
            raise PredictionInputError(
                f"a class name is empty in {source or '?'}={target or '?'}", option=CLASSES_MAP_OPTION
            )
        if source in out:
            raise PredictionInputError(f"{source!r} is mapped twice", option=CLASSES_MAP_OPTION)
        out[source] = target
    return out


def match_classes(
    source: SignalSource, model_classes: tuple[str, ...], classes_map: Mapping[str, str], experiment_id: int
) -> tuple[SignalSource, tuple[str, ...]]:
    """`source` with its labels renamed by `classes_map`, and the model's classes it has no records of.

    Refused (PredictionInputError, one line): a source without labels, a map entry naming a class the
    dataset lacks or one the model does not know, and labels the model does not know (both lists named).
    """
    if source.labels is None:
        raise PredictionInputError(
            f"{source.name} has no labels; an evaluation compares the model with the true classes"
        )
    present = tuple(dict.fromkeys(source.labels))
    stray = [name for name in classes_map if name not in present]
    if stray:
        raise PredictionInputError(
            f"{listed(stray)} not among the classes of {source.name} ({', '.join(present)})",
            option=CLASSES_MAP_OPTION,
        )
    unknown_targets = [t for t in dict.fromkeys(classes_map.values()) if t not in model_classes]
    if unknown_targets:
        raise PredictionInputError(
            f"{listed(unknown_targets)} not among the classes of experiment {experiment_id} "
            f"({', '.join(model_classes)})",
            option=CLASSES_MAP_OPTION,
        )
    labels = tuple(classes_map.get(label, label) for label in source.labels)
    mapped = tuple(dict.fromkeys(labels))
    unknown = [name for name in mapped if name not in model_classes]
    if unknown:
        raise PredictionInputError(
            f"{source.name} has classes that experiment {experiment_id} does not know: {', '.join(unknown)}; "
            f"the dataset's classes: {', '.join(mapped)}; the model's: {', '.join(model_classes)} "
            "(rename them with --classes-map DATASET_CLASS=MODEL_CLASS,...)"
        )
    absent = tuple(name for name in model_classes if name not in mapped)
    return dataclasses.replace(source, labels=labels), absent


def failure_hint(error: BaseException) -> str:
    """What to do about an evaluation that failed while it ran."""
    text = str(error).lower()
    if isinstance(error, MemoryError) or "out of memory" in text:
        return "not enough memory: evaluate one split (--split test), or on the CPU (--device cpu)"
    return "the model could not finish on these records; check the dataset (bearing-workbench info NAME)"


class EvaluationFailed(RuntimeError):
    """An evaluation that started and then failed; it is stored failed, with this error and hint."""

    def __init__(self, message: str, evaluation_id: int, hint: str) -> None:
        super().__init__(message, evaluation_id, hint)  # all three survive pickling (a Dask task's error)
        self.message = message
        self.evaluation_id = evaluation_id
        self.hint = hint

    def __str__(self) -> str:
        return f"evaluation {self.evaluation_id} failed: {self.message}"


def run_evaluation(
    store: Store, evaluation_id: int, compute: Callable[[], Mapping[str, Any]], progress: Progress | None
) -> int:
    """Start the stored evaluation, compute its result, store it completed; returns the id. The result
    is written with the status, at once. A failure is stored (error and hint) and raised as
    `EvaluationFailed` (an interrupt is stored too, and goes on as it is)."""
    store.transition_evaluation(evaluation_id, "start")
    try:
        result = compute()
    except BaseException as exc:
        message, hint = f"{type(exc).__name__}: {exc}", failure_hint(exc)
        store.transition_evaluation(evaluation_id, "fail", error=message, hint=hint)
        if isinstance(exc, Exception):
            raise EvaluationFailed(message, evaluation_id, hint) from exc
        raise
    store.transition_evaluation(evaluation_id, "complete", result=result)
    if progress is not None:
        progress(1.0, f"evaluation {evaluation_id} stored")
    return evaluation_id


def scaled(progress: Progress | None, start: float, end: float) -> Progress | None:
    """`progress` for a stage that covers `start`..`end` of the whole."""
    if progress is None:
        return None
    return lambda fraction, message: progress(start + (end - start) * float(fraction), message)


def record_metrics(model: StoredModel, records: Records, probs: np.ndarray) -> dict[str, Any]:
    """Record-level metrics of `probs` against the records' labels, in the model's classes."""
    if records.labels is None:  # match_classes refuses unlabelled sources before this
        raise ValueError("records: an evaluation needs the true class of every record")
    return evaluate_predictions(records.labels, probs, tuple(model.spec.class_names), records.record_ids)


def registered_id(store: Store, dataset: object) -> int | None:
    """The row id of a dataset given by its registered name; None for a file."""
    from bearing_workbench.store import NotFoundError

    if not isinstance(dataset, str):
        return None
    try:
        return store.get_dataset(dataset).id
    except (NotFoundError, ValueError):
        return None


@checked
def evaluate_on(
    store: Any,
    experiment_id: RowId,
    dataset: Any,
    *,
    classes_map: Any = None,
    split: str | None = None,
    progress: Progress | None = None,
    device: str | None = None,
) -> int:
    """Evaluate experiment `experiment_id`'s stored model on `dataset`; returns the stored evaluation's id.

    Args:
        dataset: a registered dataset name, a dataset file, the folder generate-data wrote, or a labelled
            signal file.
        classes_map: the dataset's class names to the model's: ``{"ok": "healthy"}`` or ``"ok=healthy"``.
        split: a stored split of the dataset (train, val, test); default every record.
        progress: called with (fraction 0..1, message) as it advances.

    Raises `StoredModelError` or `PredictionInputError` for input it cannot use, before anything is
    stored; an error while the model runs is stored with the evaluation (failed) and raised as
    `EvaluationFailed`.
    """
    from bearing_workbench.training.stored_model import load_stored_model

    mapping = parse_classes_map(classes_map)
    if progress is not None:
        progress(0.0, f"loading the model of experiment {experiment_id}")
    model = load_stored_model(store, experiment_id, device=device)
    if progress is not None:
        progress(0.05, f"reading {dataset}")
    source = load_source(dataset, store=store, split=split)
    source, absent = match_classes(source, tuple(model.spec.class_names), mapping, experiment_id)
    records, warnings = records_for(model, source)
    evaluation_id = store.create_evaluation(
        experiment_id,
        "dataset",
        str(dataset),
        dataset_id=registered_id(store, dataset),
        split=split,
        classes_map=mapping,
    )

    def compute() -> dict[str, Any]:
        outputs = model.predict_records(records, progress=scaled(progress, 0.1, 0.9))
        if progress is not None:
            progress(0.95, "computing the metrics")
        return {
            "metrics": record_metrics(model, records, outputs.probs),
            "n_records": len(records.record_ids),
            "absent_classes": list(absent),
            "warnings": list(warnings),
            "source": source.name,
        }

    return run_evaluation(store, evaluation_id, compute, progress)
