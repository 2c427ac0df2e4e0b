"""An experiment's results page as data: its stored results, training summary, baselines, advice.

Pure functions over the store and the artifacts of a completed experiment (no widgets, no Dask):
the results panel and the PDF report both read them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bearing_workbench.analysis.history import history_rows
from bearing_workbench.models.registry import UnknownFamilyError, get_family, list_families
from bearing_workbench.store import ExperimentRecord, RunStatus, Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import Predictions, read_json, read_predictions

# A model is called ready for deployment at this test accuracy, with no class recalled below RECALL_READY.
ACCURACY_READY = 0.95
RECALL_READY = 0.9
CLASSICAL_FAMILY = "classical"
ENSEMBLE_FAMILY = "ensemble"
# The complementary-model search reads this many other models' predictions at most (best first).
MAX_COMPLEMENT_CANDIDATES = 20
RESOURCE_EVENT = "resources"

LEVELS = ("success", "info", "warning")


@dataclass(frozen=True)
class ResultBundle:
    """Everything stored about one completed experiment's results.

    Args:
        record: the store's row; metrics: metrics.json; history: one flat row per epoch (empty for
            families not trained in epochs); predictions: the test predictions (None without the CSV);
        config: the experiment config (as stored); model_summary: model_summary.json (None without it);
        folder: the experiment's artifact folder; resource_samples: resource samples stored as events
            (kind ``resources``), oldest first.
    """

    record: ExperimentRecord
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    predictions: Predictions | None
    config: dict[str, Any]
    model_summary: dict[str, Any] | None
    folder: Path
    resource_samples: tuple[dict[str, Any], ...] = field(default=())

    @property
    def accuracy(self) -> float | None:
        """Test accuracy (metrics.json)."""
        return _number(self.metrics.get("accuracy"))

    @property
    def class_names(self) -> list[str]:
        """The classes, in the order of the confusion matrix rows."""
        return [str(c) for c in self.metrics.get("class_names") or []]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _label(record: ExperimentRecord) -> str:
    return f"experiment {record.id} ({record.name!r})"


def load_results(store: Store, experiment_id: int) -> ResultBundle:
    """The stored results of a completed experiment.

    Raises:
        NotFoundError: no experiment has this id.
        ValueError: it is not completed (its status is named), or metrics.json is missing or broken;
            the message names the experiment and the file.
    """
    record = store.get_experiment(experiment_id)
    if record.status != RunStatus.COMPLETED:
        status = RunStatus(record.status).value
        raise ValueError(f"{_label(record)} is {status}, not completed: results exist once it has completed")
    folder = ExperimentFolder.of(record.id, store.workspace)
    metrics_file = folder.metrics
    if not metrics_file.is_file():
        raise ValueError(f"{_label(record)}: {metrics_file.name} is missing from {folder.path}")
    try:
        metrics = read_json(metrics_file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{_label(record)}: {metrics_file.name} cannot be read ({exc})") from None
    if not isinstance(metrics, dict):
        raise ValueError(
            f"{_label(record)}: {metrics_file.name} must hold an object, got {type(metrics).__name__}"
        )
    history = history_rows(store.epochs(record.id))
    history_file = folder.history
    if not history and history_file.is_file():
        try:
            stored = read_json(history_file)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{_label(record)}: {history_file.name} cannot be read ({exc})") from None
        if not isinstance(stored, list):
            raise ValueError(f"{_label(record)}: {history_file.name} must hold a list of epochs")
        history = history_rows(stored)
    predictions_file = folder.predictions_test
    predictions = read_predictions(predictions_file) if predictions_file.is_file() else None
    summary_file = folder.model_summary
    model_summary = None
    if summary_file.is_file():
        try:
            model_summary = read_json(summary_file)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{_label(record)}: {summary_file.name} cannot be read ({exc})") from None
    samples = tuple(
        dict(e.payload) for e in store.events(record.id) if e.kind == RESOURCE_EVENT and e.payload
    )
    return ResultBundle(
        record=record,
        metrics=metrics,
        history=history,
        predictions=predictions,
        config=dict(record.config),
        model_summary=model_summary if isinstance(model_summary, dict) else None,
        folder=folder.path,
        resource_samples=samples,
    )


# -- training summary --------------------------------------------------------------------------------


def _epoch_based(bundle: ResultBundle) -> bool:
    try:
        return get_family(bundle.record.family).epoch_based
    except UnknownFamilyError:
        return bool(bundle.history)  # a family no longer registered: judge by what it left


def gpu_utilisation(samples: Sequence[Mapping[str, Any]]) -> float | None:
    """Mean GPU utilisation (percent) over resource samples and their GPUs; None when none was read."""
    values = [
        float(gpu["utilization_percent"])
        for sample in samples
        for gpu in sample.get("gpus") or []
        if isinstance(gpu, Mapping) and _number(gpu.get("utilization_percent")) is not None
    ]
    return float(np.mean(values)) if values else None


def training_summary(bundle: ResultBundle) -> dict[str, Any]:
    """How the training went: epochs, early stop, best epoch, final losses, times, GPU utilisation.

    Keys: family, epoch_based, epochs_run, epochs_planned, stopped_early, best_epoch, final_train_loss,
    final_val_loss, final_train_acc, final_val_acc, seconds_per_epoch (mean), total_seconds,
    val_accuracy, gpu_utilisation (percent, None unless resource samples were stored). Values that do
    not apply to the family (epochs for classical models and ensembles) are None.
    """
    metrics, record = bundle.metrics, bundle.record
    total = _number(metrics.get("train_seconds"))
    summary: dict[str, Any] = {
        "family": record.family,
        "epoch_based": _epoch_based(bundle),
        "epochs_run": None,
        "epochs_planned": None,
        "stopped_early": None,
        "best_epoch": None,
        "final_train_loss": None,
        "final_val_loss": None,
        "final_train_acc": None,
        "final_val_acc": None,
        "seconds_per_epoch": None,
        "total_seconds": total if total is not None else _number(record.duration_s),
        "val_accuracy": _number(metrics.get("val_accuracy")),
        "gpu_utilisation": gpu_utilisation(bundle.resource_samples),
    }
    if not summary["epoch_based"]:
        return summary
    history = bundle.history
    epochs_run = metrics.get("epochs_run")
    summary["epochs_run"] = epochs_run if isinstance(epochs_run, int) else len(history)
    planned = (bundle.config.get("training") or {}).get("epochs")
    summary["epochs_planned"] = planned if isinstance(planned, int) else None
    stopped = metrics.get("stopped_early")
    summary["stopped_early"] = bool(stopped) if stopped is not None else None
    best = metrics.get("best_epoch")
    summary["best_epoch"] = best if isinstance(best, int) else None
    if history:
        last = history[-1]
        for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
            summary[f"final_{key}"] = _number(last.get(key))
        seconds = [s for s in (_number(row.get("seconds")) for row in history) if s is not None]
        summary["seconds_per_epoch"] = float(np.mean(seconds)) if seconds else None
    return summary


# -- baselines -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A stored model to measure this one against.

    Args:
        label: why it is a baseline ("best classical", "best earlier cnn1d", "best previous overall";
            several joined by " / " when one model is all of them).
        difference: this experiment's test accuracy minus the baseline's (signed; None without both).
    """

    label: str
    experiment_id: int
    name: str
    family: str
    accuracy: float | None
    difference: float | None


def _best(store: Store, exclude: int, **filters: Any) -> ExperimentRecord | None:
    """The completed experiment with the highest test accuracy matching `filters`, other than `exclude`."""
    # Sorted in SQL; two rows are enough to skip the experiment itself.
    for record in store.list_experiments(status="completed", order_by="metrics.accuracy", limit=2, **filters):
        if record.id != exclude and _number((record.metrics or {}).get("accuracy")) is not None:
            return record
    return None


def baselines(store: Store, bundle: ResultBundle) -> list[Baseline]:
    """The best completed classical model, the best earlier completed model of each family and the best
    earlier model overall (earlier: created before this one); the experiment itself is never one."""
    record = bundle.record
    found: list[tuple[str, ExperimentRecord]] = []
    classical = _best(store, record.id, family=CLASSICAL_FAMILY)
    if classical is not None:
        found.append(("best classical", classical))
    overall = _best(store, record.id, created_before=record.created_at)
    if overall is not None:
        found.append(("best previous overall", overall))
    families = list(dict.fromkeys([*list_families(), record.family]))
    for family in families:
        best = _best(store, record.id, family=family, created_before=record.created_at)
        if best is not None:
            found.append((f"best earlier {family}", best))
    labels: dict[int, list[str]] = {}
    records: dict[int, ExperimentRecord] = {}
    for label, other in found:
        labels.setdefault(other.id, []).append(label)
        records[other.id] = other
    mine = bundle.accuracy
    out = []
    for other_id, names in labels.items():
        other = records[other_id]
        theirs = _number((other.metrics or {}).get("accuracy"))
        out.append(
            Baseline(
                label=" / ".join(names),
                experiment_id=other.id,
                name=other.name,
                family=other.family,
                accuracy=theirs,
                difference=None if mine is None or theirs is None else mine - theirs,
            )
        )
    return out


_find_baselines = baselines  # `recommendations` takes an argument of the same name


# -- per-class metrics, confusion matrix, ROC ----------------------------------------------------------


def per_class_rows(metrics: Mapping[str, Any], weak_below: float = RECALL_READY) -> list[dict[str, Any]]:
    """One row per class (class, precision, recall, f1, support, weak), in class order; a class is weak
    when it has test records and its recall is below `weak_below`."""
    per_class = metrics.get("per_class")
    if not isinstance(per_class, Mapping):
        raise ValueError("metrics: per_class is missing; expected class -> {precision, recall, f1, support}")
    order = [str(c) for c in metrics.get("class_names") or per_class]
    rows = []
    for name in order:
        values = per_class.get(name) or {}
        recall = _number(values.get("recall"))
        support = int(values.get("support") or 0)
        rows.append(
            {
                "class": name,
                "precision": _number(values.get("precision")),
                "recall": recall,
                "f1": _number(values.get("f1")),
                "support": support,
                "weak": bool(support > 0 and recall is not None and recall < weak_below),
            }
        )
    return rows


def confusion_matrix(metrics: Mapping[str, Any], normalised: bool = False) -> np.ndarray:
    """The test confusion matrix (rows true class, columns predicted); `normalised`: each row divided by
    its true-class count (a class without test records keeps a row of zeros)."""
    matrix = np.asarray(metrics.get("confusion_matrix") or [], dtype=np.int64)
    n = len(metrics.get("class_names") or [])
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or (n and matrix.shape[0] != n):
        raise ValueError(
            f"metrics: confusion_matrix must be a square {n} x {n} list of counts, got shape {matrix.shape}"
        )
    if not normalised:
        return matrix
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def roc_curves(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One-vs-rest ROC curves that could be drawn: [{class, fpr, tpr, auc}] in class order (classes
    without both positives and negatives in the test split are left out)."""
    roc = metrics.get("roc") or {}
    out = []
    for name in [str(c) for c in metrics.get("class_names") or roc]:
        curve = roc.get(name) or {}
        if curve.get("fpr") and curve.get("tpr"):
            out.append({"class": name, "fpr": curve["fpr"], "tpr": curve["tpr"], "auc": curve.get("auc")})
    return out


def cell_records(predictions: Predictions, true_label: str, predicted_label: str) -> list[dict[str, Any]]:
    """The test records of one confusion-matrix cell: [{record_id, true, predicted,
    predicted_probability, probabilities}], most confident first."""
    names = list(predictions.class_names)
    for which, label in (("true_label", true_label), ("predicted_label", predicted_label)):
        if label not in names:
            raise ValueError(f"{which} {label!r} is not a class of these predictions; classes: {names}")
    t, p = names.index(true_label), names.index(predicted_label)
    y_pred = predictions.y_pred
    rows = np.flatnonzero((predictions.y_true == t) & (y_pred == p))
    rows = rows[np.argsort(-predictions.probs[rows, p], kind="stable")]
    return [
        {
            "record_id": predictions.record_ids[i],
            "true": true_label,
            "predicted": predicted_label,
            "predicted_probability": float(predictions.probs[i, p]),
            "probabilities": {name: float(predictions.probs[i, k]) for k, name in enumerate(names)},
        }
        for i in rows
    ]


# -- recommendations -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """One piece of advice on the results page; level is "success", "info" or "warning"."""

    level: str
    text: str

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"recommendation level must be one of {', '.join(LEVELS)}, got {self.level!r}")


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


@dataclass(frozen=True)
class Complement:
    """Another model that is right where this one is wrong.

    Args:
        fixes: test records this model gets wrong and the other gets right; wrong: records this model
            gets wrong among the `shared` test records both models predicted.
    """

    record: ExperimentRecord
    fixes: int
    wrong: int
    shared: int


def complementary_model(store: Store, bundle: ResultBundle) -> Complement | None:
    """The completed single model of another family (not an ensemble) that is right most often where
    this one is wrong, on the test records both predicted (same classes); None when none helps, and
    always None for an ensemble (it cannot be a member of another ensemble)."""
    mine = bundle.predictions
    # Ensembles cannot be ensemble members (models.builders.ensemble): neither this one nor a candidate.
    if mine is None or bundle.record.family == ENSEMBLE_FAMILY:
        return None
    families = [f for f in list_families() if f not in (bundle.record.family, ENSEMBLE_FAMILY)]
    if not families:
        return None
    wrong_mine = dict(zip(mine.record_ids, mine.y_pred != mine.y_true, strict=True))
    truth = dict(zip(mine.record_ids, mine.y_true, strict=True))
    if not any(wrong_mine.values()):
        return None
    best: Complement | None = None
    candidates = store.list_experiments(
        status="completed", family=families, order_by="metrics.accuracy", limit=MAX_COMPLEMENT_CANDIDATES
    )
    for other in candidates:
        folder = ExperimentFolder.of(other.id, store.workspace)
        path = folder.predictions_test
        # A member needs its validation predictions too (the ensemble is fitted on them).
        usable = path.is_file() and folder.predictions_val.is_file()
        if other.id == bundle.record.id or not usable:
            continue
        try:
            theirs = read_predictions(path)
        except ValueError:
            continue  # an unreadable file of another experiment does not spoil this page
        if theirs.class_names != mine.class_names:
            continue
        shared = [i for i, rid in enumerate(theirs.record_ids) if rid in truth]
        if not shared:
            continue
        ids = [theirs.record_ids[i] for i in shared]
        if any(truth[rid] != theirs.y_true[i] for rid, i in zip(ids, shared, strict=True)):
            continue  # same record ids, other labels: another dataset
        right_theirs = theirs.y_pred[shared] == theirs.y_true[shared]
        wrong_here = np.array([wrong_mine[rid] for rid in ids])
        fixes = int(np.sum(wrong_here & right_theirs))
        if fixes and (best is None or fixes > best.fixes):
            best = Complement(other, fixes, int(wrong_here.sum()), len(shared))
    return best


def recommendations(
    store: Store, bundle: ResultBundle, baselines: Sequence[Baseline] | None = None
) -> list[Recommendation]:
    """Advice from the results: ready for deployment or not, the weakest class, whether the best classical
    model does better, and an ensemble partner when another family's model complements this one.

    Args:
        baselines: as from `baselines(store, bundle)` (computed when None).
    """
    found = _find_baselines(store, bundle) if baselines is None else list(baselines)
    out: list[Recommendation] = []
    accuracy = bundle.accuracy
    rows = [r for r in per_class_rows(bundle.metrics) if r["support"] > 0 and r["recall"] is not None]
    weakest = min(rows, key=lambda r: r["recall"]) if rows else None
    if accuracy is not None:
        low = [r for r in rows if r["recall"] < RECALL_READY]
        if accuracy >= ACCURACY_READY and not low:
            out.append(
                Recommendation(
                    "success",
                    f"Ready for deployment: test accuracy {_pct(accuracy)} (at least {_pct(ACCURACY_READY)}) "
                    f"and every class recalled at {_pct(RECALL_READY)} or more.",
                )
            )
        else:
            reasons = []
            if accuracy < ACCURACY_READY:
                reasons.append(f"test accuracy {_pct(accuracy)} is below {_pct(ACCURACY_READY)}")
            if low:
                names = ", ".join(f"{r['class']} ({_pct(r['recall'])})" for r in low)
                reasons.append(f"recall below {_pct(RECALL_READY)} for {names}")
            out.append(Recommendation("warning", "Not ready for deployment: " + "; ".join(reasons) + "."))
    if weakest is not None:
        text = f"Weakest class: {weakest['class']} (recall {_pct(weakest['recall'])}"
        missed = round(weakest["support"] * (1 - weakest["recall"]))
        text += f", {missed} of {weakest['support']} test records missed)"
        confused = _most_confused(bundle.metrics, weakest["class"])
        text += f", most often taken for {confused}." if confused and missed else "."
        out.append(Recommendation("warning" if weakest["recall"] < RECALL_READY else "info", text))
    classical = next((b for b in found if "best classical" in b.label), None)
    if classical is not None and classical.difference is not None and classical.difference < 0:
        out.append(
            Recommendation(
                "warning",
                f"Test accuracy {_pct(accuracy or 0.0)} is {100 * -classical.difference:.1f} points below "
                f"the best classical model, experiment {classical.experiment_id} ({classical.name}, "
                f"{_pct(classical.accuracy or 0.0)}): the simpler model does better.",
            )
        )
    partner = complementary_model(store, bundle)
    if partner is not None:
        other = partner.record
        out.append(
            Recommendation(
                "info",
                f"Try an ensemble with experiment {other.id} ({other.name}, {other.family}): it is right on "
                f"{partner.fixes} of the {partner.wrong} test records this model gets wrong.",
            )
        )
    return out


def _most_confused(metrics: Mapping[str, Any], class_name: str) -> str | None:
    names = [str(c) for c in metrics.get("class_names") or []]
    if class_name not in names:
        return None
    try:
        row = confusion_matrix(metrics)[names.index(class_name)].copy()
    except ValueError:
        return None
    row[names.index(class_name)] = 0
    return names[int(row.argmax())] if row.any() else None
