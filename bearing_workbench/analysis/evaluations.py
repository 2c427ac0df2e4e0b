"""`EvaluationInfo`: a stored model's evaluation on another dataset, or its robustness sweep, as one
immutable object built from the store (`evaluation_infos`), for the results page and the report.

What the result JSON holds is written by `training.cross_evaluation` and `training.robustness`:
``metrics`` (as `training.evaluate.evaluate_predictions` returns them, record level), ``n_records``,
``absent_classes`` (model classes without records in the dataset), ``warnings``, and for a robustness
sweep ``conditions`` ([{group, name, accuracy, macro_f1}], the clean one first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.class_metrics import RECALL_READY, per_class_rows
from bearing_workbench.analysis.results_rows import ClassRow
from bearing_workbench.config.arguments import RowId, checked
from bearing_workbench.store import EvaluationRecord, Store
from bearing_workbench.store.evaluation_status import EvaluationKind


@dataclass(frozen=True)
class ConditionResult:
    """One condition of a robustness sweep: record-level accuracy and macro-F1 of the model under it."""

    group: str  # "clean" | "noise" | "gain" | "speed"
    name: str  # "clean", "SNR 20 dB", "gain x0.5", "speed +10 %"
    accuracy: float
    macro_f1: float

    @property
    def texts(self) -> tuple[str, str]:
        """Accuracy and macro-F1 as percentages."""
        return fmt.percent(self.accuracy), fmt.percent(self.macro_f1)


@dataclass(frozen=True)
class EvaluationInfo:
    """One evaluation of an experiment's stored model, ready to render (no widgets)."""

    evaluation_id: int
    experiment_id: int
    kind: Literal["dataset", "robustness"]
    label: str  # "plant-a all records", "demo test split", "robustness on demo test split"
    status: str  # pending | running | completed | failed
    created: datetime
    error: str | None
    hint: str | None
    n_records: int | None
    accuracy: float | None  # record level
    macro_f1: float | None
    class_names: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...] | None  # rows = true class, columns = predicted
    per_class: tuple[ClassRow, ...]
    conditions: tuple[ConditionResult, ...]  # robustness only
    classes_map: Mapping[str, str]
    dataset: str = ""
    split: str | None = None
    absent_classes: tuple[str, ...] = ()  # classes of the model the dataset has no records of
    warnings: tuple[str, ...] = ()

    @property
    def accuracy_text(self) -> str:
        """Record-level accuracy as a percentage (a dash until it is known)."""
        return fmt.percent(self.accuracy)

    @property
    def summary(self) -> str:
        """One line: ``"plant-a all records 91.0 %"``, or the label and the status while it has no result."""
        if self.status == "completed":
            return f"{self.label} {self.accuracy_text}"
        return f"{self.label} ({self.status})"

    @property
    def classes_map_text(self) -> str:
        """``"ok -> healthy, bad -> wear"``; empty when the names were used as they are."""
        return ", ".join(f"{source} -> {target}" for source, target in self.classes_map.items())


def evaluation_label(kind: str, dataset: str, split: str | None) -> str:
    """What an evaluation ran on, in words: ``"plant-a all records"``, ``"robustness on demo test split"``."""
    # A file is named by its name: the folder it lies in says nothing on a page.
    name = PurePath(dataset).name if ("/" in dataset or "\\" in dataset) else dataset
    where = f"{name} {split} split" if split else f"{name} all records"
    return f"robustness on {where}" if kind == EvaluationKind.ROBUSTNESS else where


def _conditions(result: Mapping[str, Any]) -> tuple[ConditionResult, ...]:
    out = []
    for item in result.get("conditions") or ():
        accuracy, macro_f1 = fmt.finite(item.get("accuracy")), fmt.finite(item.get("macro_f1"))
        if accuracy is None or macro_f1 is None:
            continue  # a condition without numbers cannot be drawn; the sweep writes both
        out.append(ConditionResult(str(item["group"]), str(item["name"]), accuracy, macro_f1))
    return tuple(out)


def _per_class(metrics: Mapping[str, Any]) -> tuple[ClassRow, ...]:
    if not isinstance(metrics.get("per_class"), Mapping):
        return ()
    roc = metrics.get("roc") or {}
    return tuple(
        ClassRow(
            name=row["class"],
            precision=row["precision"],
            recall=row["recall"],
            f1=row["f1"],
            auc=fmt.finite((roc.get(row["class"]) or {}).get("auc")),
            support=row["support"],
            weak=row["weak"],
        )
        for row in per_class_rows(metrics, weak_below=RECALL_READY)
    )


def evaluation_info(record: EvaluationRecord) -> EvaluationInfo:
    """The Info of one stored evaluation (its result, when it has one, read as the module doc says)."""
    result = record.result or {}
    metrics = result.get("metrics") or {}
    confusion = metrics.get("confusion_matrix")
    n_records = result.get("n_records")
    return EvaluationInfo(
        evaluation_id=record.id,
        experiment_id=record.experiment_id,
        kind=EvaluationKind(record.kind).value,  # type: ignore[arg-type]
        label=evaluation_label(record.kind, record.dataset, record.split),
        status=str(record.status),
        created=record.created_at,
        error=record.error,
        hint=record.hint,
        n_records=int(n_records) if n_records is not None else None,
        accuracy=fmt.finite(metrics.get("accuracy")),
        macro_f1=fmt.finite(metrics.get("macro_f1")),
        class_names=tuple(str(c) for c in metrics.get("class_names") or ()),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion) if confusion else None,
        per_class=_per_class(metrics),
        conditions=_conditions(result),
        classes_map=dict(record.classes_map),
        dataset=record.dataset,
        split=record.split,
        absent_classes=tuple(str(c) for c in result.get("absent_classes") or ()),
        warnings=tuple(str(w) for w in result.get("warnings") or ()),
    )


@checked
def evaluation_infos(store: Store, experiment_id: RowId) -> tuple[EvaluationInfo, ...]:
    """Every evaluation of an experiment's model, newest first."""
    return tuple(evaluation_info(record) for record in store.list_evaluations(experiment_id))


def evaluate(
    experiment_id: int,
    dataset: Any = None,
    *,
    classes_map: Mapping[str, str] | str | None = None,
    split: str | None = None,
    robustness: bool = False,
    seed: int = 0,
    store: Store | None = None,
    device: str | None = None,
    progress: Any = None,
) -> EvaluationInfo:
    """Evaluate a stored model in this process, store the evaluation, and return it as an `EvaluationInfo`.

    Args:
        dataset: a registered dataset name or a labelled dataset or signal file; for a robustness sweep,
            default the run's own dataset.
        classes_map: the dataset's class names to the model's: ``{"ok": "healthy"}`` or ``"ok=healthy"``.
        split: a stored split of the dataset; default every record (a sweep on the run's own dataset:
            its test split, as the run made it).
        robustness: sweep noise, gain and speed instead (`training.robustness`); seed: of its noise.
        progress: called with (fraction 0..1, message) as it advances.

    Input the model cannot use raises (`StoredModelError`, `PredictionInputError`) and stores nothing; a
    failure while it runs is stored (failed) and raised as `EvaluationFailed`. On the cluster:
    `runner.evaluations.submit_evaluation` / `submit_robustness`.
    """
    store = store if store is not None else Store()
    if robustness:
        from bearing_workbench.training.robustness import DEFAULT_SPLIT, robustness_sweep

        if classes_map:
            raise ValueError("classes_map: a robustness sweep uses the model's own classes; leave it out")
        evaluation_id = robustness_sweep(
            store,
            experiment_id,
            dataset=dataset,
            split=DEFAULT_SPLIT if dataset is None and split is None else split,
            seed=seed,
            progress=progress,
            device=device,
        )
    else:
        from bearing_workbench.training.cross_evaluation import evaluate_on

        if dataset is None:
            raise ValueError("dataset: name the dataset to evaluate on (a registered name or a file)")
        evaluation_id = evaluate_on(
            store,
            experiment_id,
            dataset,
            classes_map=classes_map,
            split=split,
            progress=progress,
            device=device,
        )
    return evaluation_info(store.get_evaluation(evaluation_id))
