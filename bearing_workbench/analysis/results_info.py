"""`ResultsInfo`: everything the results page and the PDF report show about one completed experiment,
as one immutable object built from the store (`results_info`).

The page and the report render the same object, so they cannot disagree: each number is formatted
once here (`analysis.format`), and `ResultsInfo.metric_texts` lists every metric text a renderer must
show (the report's test checks that each appears in it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.baselines import (
    ENSEMBLE_FAMILY,
    Baseline,
    Recommendation,
    baseline_scope,
    baselines,
    recommendations,
)
from bearing_workbench.analysis.class_metrics import (
    RECALL_READY,
    cell_records,
    confusion_matrix,
    per_class_rows,
    roc_curves,
)
from bearing_workbench.analysis.result_bundle import ResultBundle, load_results
from bearing_workbench.analysis.results import training_summary
from bearing_workbench.analysis.results_rows import (
    CellRecord,
    ClassRow,
    ResultFile,
    RocCurve,
    WorstPrediction,
    row_shares,
)
from bearing_workbench.analysis.run_texts import TOTAL_TIME_LABEL, MetricCard
from bearing_workbench.config.yaml_io import dump_yaml
from bearing_workbench.models.predictions import Predictions
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import DOWNLOAD_KEYS, FAMILY_MODEL_KEYS, KIND_BY_KEY, ExperimentFolder

TOP_FEATURES = 15
# The headline cards: (metrics.json key, its name)
CARD_KEYS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")


@dataclass(frozen=True)
class Fact:
    """One labelled line of a key-value table (already formatted)."""

    label: str
    text: str


@dataclass(frozen=True)
class ResultsInfo:
    """What the results page and the report show about one completed experiment (see the module doc).

    Args:
        header: id, family, status, dataset, times, tags, parent, campaign, worker (present ones only).
        cards: test accuracy (record level), macro precision, recall and F1.
        test_facts: test records, macro AUC, log loss, window-level test accuracy, validation accuracy.
        training: the training summary's lines (epochs, best epoch and what chose it, times, GPU).
        baseline_scope: which runs could be baselines (same dataset and split), in words.
        history: one row per epoch (`analysis.history.history_rows`); empty for non-epoch families.
        importance: the model's most important features, most important first (classical models).
        duration_s, finished_at: for the page's title (the report has them in `header`).
        ensemble: the model is an ensemble (it cannot be a member of another one).
        folder: the experiment folder; files: what it offers for download, present or not.
        predictions: the test predictions (None without the CSV); read them through `cell_records`.
    """

    experiment_id: int
    name: str
    family: str
    status: str
    notes: str
    header: tuple[Fact, ...]
    cards: tuple[MetricCard, ...]
    test_facts: tuple[Fact, ...]
    epoch_based: bool
    training: tuple[Fact, ...]
    best_epoch: int | None
    best_by: str | None
    baselines: tuple[Baseline, ...]
    baseline_scope: str
    recommendations: tuple[Recommendation, ...]
    per_class: tuple[ClassRow, ...]
    recall_ready: float
    class_names: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    roc: tuple[RocCurve, ...]
    macro_auc: float | None
    history: tuple[Mapping[str, Any], ...]
    importance: tuple[tuple[str, float], ...]
    worst: tuple[WorstPrediction, ...]
    config_yaml: str
    duration_s: float | None = None
    finished_at: datetime | None = None
    ensemble: bool = False
    folder: Path | None = None
    files: tuple[ResultFile, ...] = ()
    predictions: Predictions | None = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        return f"Experiment {self.experiment_id}: {self.name}"

    @property
    def confusion_shares(self) -> tuple[tuple[float, ...], ...]:
        """The confusion matrix with each row divided by its class's test records (a row of zeros
        stays zeros): the diagonal is each class's recall."""
        return row_shares(self.confusion)

    def cell_records(self, true_label: str, predicted_label: str) -> tuple[CellRecord, ...]:
        """The test records of one confusion-matrix cell, most confident first.

        Raises:
            ValueError: no test predictions were stored, or a label is not one of the classes.
        """
        if self.predictions is None:
            raise ValueError(
                f"experiment {self.experiment_id} has no test predictions: the cell's records are unknown"
            )
        return tuple(
            CellRecord(
                record_id=str(row["record_id"]),
                true_label=row["true"],
                predicted_label=row["predicted"],
                predicted_probability=row["predicted_probability"],
                probabilities=tuple(sorted(row["probabilities"].items(), key=lambda kv: -kv[1])),
            )
            for row in cell_records(self.predictions, true_label, predicted_label)
        )

    @property
    def weak_classes(self) -> int:
        return sum(row.weak for row in self.per_class)

    def metric_texts(self) -> tuple[str, ...]:
        """Every metric as a renderer must show it: the cards, the test facts, the training lines, each
        class's numbers and each baseline's accuracy and difference."""
        texts = [card.text for card in self.cards]
        texts += [fact.text for fact in (*self.test_facts, *self.training)]
        texts += [text for row in self.per_class for text in row.texts]
        texts += [t for b in self.baselines for t in (fmt.percent(b.accuracy), fmt.points(b.difference))]
        return tuple(texts)


def results_info(store: Store, experiment_id: int, bundle: ResultBundle | None = None) -> ResultsInfo:
    """The `ResultsInfo` of a completed experiment.

    Args:
        bundle: its stored results when already loaded (`load_results`).

    Raises:
        NotFoundError: no experiment has this id.
        ValueError: it is not completed, or its metrics cannot be read (see `load_results`).
    """
    bundle = bundle if bundle is not None else load_results(store, experiment_id)
    record, metrics = bundle.record, bundle.metrics
    found = baselines(store, bundle)
    summary = training_summary(bundle)
    roc = metrics.get("roc") or {}
    try:
        confusion = tuple(tuple(int(v) for v in row) for row in confusion_matrix(metrics).tolist())
    except ValueError:
        confusion = ()
    return ResultsInfo(
        experiment_id=record.id,
        name=record.name,
        family=record.family,
        status=_status(record.status),
        notes=(record.notes or "").strip(),
        header=_header(bundle),
        cards=tuple(
            MetricCard(key, fmt.metric_name(key), fmt.finite(metrics.get(key)), fmt.percent(metrics.get(key)))
            for key in CARD_KEYS
        ),
        test_facts=_test_facts(metrics),
        epoch_based=bool(summary["epoch_based"]),
        training=_training(summary),
        best_epoch=summary["best_epoch"],
        best_by=summary["best_by"],
        baselines=tuple(found),
        baseline_scope=baseline_scope(bundle.config),
        recommendations=tuple(recommendations(store, bundle, found)),
        per_class=tuple(
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
        ),
        recall_ready=RECALL_READY,
        class_names=tuple(bundle.class_names) or tuple(str(i) for i in range(len(confusion))),
        confusion=confusion,
        roc=tuple(
            RocCurve(c["class"], tuple(c["fpr"]), tuple(c["tpr"]), fmt.finite(c.get("auc")))
            for c in roc_curves(metrics)
        ),
        macro_auc=fmt.finite(metrics.get("macro_auc")),
        history=tuple(dict(row) for row in bundle.history),
        importance=_importance(bundle.model_summary),
        worst=tuple(
            WorstPrediction(
                record_id=str(item.get("record_id")),
                true_label=str(item.get("true_label")),
                predicted_label=str(item.get("predicted_label")),
                correct=bool(item.get("correct")),
                true_probability=fmt.finite(item.get("true_probability")),
                predicted_probability=fmt.finite(item.get("predicted_probability")),
            )
            for item in metrics.get("worst_predictions") or []
            if isinstance(item, Mapping)
        ),
        config_yaml=dump_yaml(bundle.config),
        duration_s=fmt.finite(record.duration_s),
        finished_at=record.finished_at,
        ensemble=record.family == ENSEMBLE_FAMILY,
        folder=bundle.folder,
        files=_files(ExperimentFolder.at(bundle.folder)),
        predictions=_read_only(bundle.predictions),
    )


def _read_only(predictions: Predictions | None) -> Predictions | None:
    """A copy of the test predictions whose arrays refuse writes: the info is a snapshot."""
    if predictions is None:
        return None
    y_true, probs = predictions.y_true.copy(), predictions.probs.copy()
    y_true.setflags(write=False)
    probs.setflags(write=False)
    return predictions._replace(y_true=y_true, probs=probs)


def _files(folder: ExperimentFolder) -> tuple[ResultFile, ...]:
    sizes = {item.name: item.size for item in folder.present()}
    return tuple(
        ResultFile(key, kind.label, kind.filename, kind.mime, sizes.get(kind.filename))
        for key, kind in ((key, KIND_BY_KEY[key]) for key in DOWNLOAD_KEYS)
        if kind.filename in sizes or key not in FAMILY_MODEL_KEYS
    )


def _status(status: Any) -> str:
    return str(getattr(status, "value", status))


def _header(bundle: ResultBundle) -> tuple[Fact, ...]:
    record = bundle.record
    dataset = (bundle.config.get("data") or {}).get("dataset")
    lines = [
        ("Experiment", f"#{record.id}"),
        ("Family", record.family),
        ("Status", _status(record.status)),
        ("Dataset", dataset),
        ("Created", fmt.utc_time(record.created_at)),
        ("Started", fmt.utc_time(record.started_at)),
        ("Finished", fmt.utc_time(record.finished_at)),
        ("Run time", fmt.duration(record.duration_s)),
        ("Tags", ", ".join(record.tags) if record.tags else None),
        ("Parent", f"#{record.parent_id}" if record.parent_id is not None else None),
        ("Campaign", f"#{record.campaign_id}" if record.campaign_id is not None else None),
        ("Worker", record.worker),
    ]
    return tuple(Fact(label, str(text)) for label, text in lines if text is not None)


def _test_facts(metrics: Mapping[str, Any]) -> tuple[Fact, ...]:
    facts = []
    if isinstance(metrics.get("n"), int):
        facts.append(Fact("test records", str(metrics["n"])))
    for key in ("macro_auc", "log_loss"):
        if fmt.finite(metrics.get(key)) is not None:
            facts.append(Fact(fmt.metric_name(key), fmt.number(metrics[key], 4)))
    if fmt.finite(metrics.get("window_accuracy")) is not None:
        windows = f" over {metrics['n_windows']} windows" if isinstance(metrics.get("n_windows"), int) else ""
        facts.append(
            Fact(fmt.metric_name("window_accuracy"), fmt.percent(metrics["window_accuracy"]) + windows)
        )
    if fmt.finite(metrics.get("val_accuracy")) is not None:
        facts.append(Fact(fmt.metric_name("val_accuracy"), fmt.percent(metrics["val_accuracy"])))
    return tuple(facts)


def _training(summary: Mapping[str, Any]) -> tuple[Fact, ...]:
    lines: list[tuple[str, str]] = []
    if summary["epoch_based"]:
        run, planned = summary["epochs_run"], summary["epochs_planned"]
        lines.append(("epochs", f"{run} of {planned} planned" if planned else str(run)))
        stopped = summary["stopped_early"]
        lines.append(
            (
                "early stopping",
                fmt.NO_VALUE if stopped is None else "stopped early" if stopped else "not triggered",
            )
        )
        best = summary["best_epoch"]
        by = f" ({summary['best_by']})" if summary["best_by"] and best is not None else ""
        lines.append(("best epoch (the saved model)", f"{best}{by}" if best is not None else fmt.NO_VALUE))
        for split, name in (("train", "final train"), ("val", "final val")):
            loss, acc = summary[f"final_{split}_loss"], summary[f"final_{split}_acc"]
            level = fmt.metric_level(f"{split}_acc")
            lines.append(
                (f"{name} loss / accuracy ({level} level)", f"{fmt.significant(loss)} / {fmt.percent(acc)}")
            )
        lines.append(("time per epoch (mean)", fmt.duration(summary["seconds_per_epoch"])))
    else:
        lines.append(("training", f"{summary['family']} models are fitted at once, not in epochs"))
    lines.append((TOTAL_TIME_LABEL, fmt.duration(summary["total_seconds"])))
    if summary["val_accuracy"] is not None:
        lines.append(
            (f"{fmt.metric_name('val_accuracy')}, saved model", fmt.percent(summary["val_accuracy"]))
        )
    gpu = summary["gpu_utilisation"]
    lines.append(
        ("GPU utilisation (mean)", fmt.percent(gpu / 100, 0) if gpu is not None else "no GPU samples")
    )
    return tuple(Fact(label, text) for label, text in lines)


def _importance(model_summary: Mapping[str, Any] | None) -> tuple[tuple[str, float], ...]:
    importance = (model_summary or {}).get("feature_importance")
    if not isinstance(importance, Mapping):
        return ()
    items = [(str(k), fmt.finite(v)) for k, v in importance.items()]
    ranked = sorted(((k, v) for k, v in items if v is not None), key=lambda kv: -kv[1])
    return tuple(ranked[:TOP_FEATURES])
