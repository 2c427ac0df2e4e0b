"""Baselines and advice for a completed experiment: the models to measure it against and what to do next.

A baseline is only a run measured on the same test records: the same dataset, split percentages and
split seed (`split_key`). Runs on other data are never compared (a model is not "worse" than one
tested on an easier dataset).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bearing_workbench.analysis.class_metrics import RECALL_READY, confusion_matrix, per_class_rows
from bearing_workbench.analysis.format import finite, percent
from bearing_workbench.analysis.result_bundle import ResultBundle
from bearing_workbench.models.registry import list_families
from bearing_workbench.store import ExperimentRecord, Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_predictions

# A model is called ready for deployment at this test accuracy, with no class recalled below RECALL_READY.
ACCURACY_READY = 0.95
CLASSICAL_FAMILY = "classical"
ENSEMBLE_FAMILY = "ensemble"
# The complementary-model search reads this many other models' predictions at most (best first).
MAX_COMPLEMENT_CANDIDATES = 20
# Baselines are looked for among this many best completed runs of a kind (then filtered by split).
MAX_BASELINE_CANDIDATES = 200
LEVELS = ("success", "info", "warning")


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


def split_key(config: Mapping[str, Any]) -> tuple[Any, ...]:
    """What decides a run's test records: its dataset, its split percentages and the seed that drew it.
    Two runs are only measured against each other when these agree (missing values count as such)."""
    data = config.get("data") if isinstance(config.get("data"), Mapping) else {}
    split = data.get("split") if isinstance(data.get("split"), Mapping) else {}
    training = config.get("training") if isinstance(config.get("training"), Mapping) else {}
    return (
        None if data.get("dataset") is None else str(data["dataset"]),
        *(finite(split.get(k)) for k in ("train", "val", "test")),
        training.get("seed"),
    )


def baseline_scope(config: Mapping[str, Any]) -> str:
    """Which runs can be baselines, in words: ``"dataset 'tiny', split 70/15/15 % (seed 42)"``."""
    dataset, train, val, test, seed = split_key(config)
    where = f"dataset {dataset!r}" if dataset is not None else "the same (unnamed) dataset"
    if None in (train, val, test):
        return f"{where}, the same split"
    shares = "/".join(f"{v:g}" for v in (train, val, test))
    return f"{where}, split {shares} % (train/val/test" + (f", seed {seed})" if seed is not None else ")")


def _best(store: Store, mine: ExperimentRecord, **filters: Any) -> ExperimentRecord | None:
    """The completed experiment with the highest test accuracy matching `filters` on the same dataset and
    split as `mine` (`split_key`), other than `mine`."""
    key = split_key(mine.config)
    # Sorted in SQL; the split is compared here (it lives in the config JSON), so read a page of them.
    candidates = store.list_experiments(
        status="completed",
        order_by="metrics.accuracy",
        limit=MAX_BASELINE_CANDIDATES,
        dataset_id=mine.dataset_id,
        **filters,
    )
    for record in candidates:
        if record.id == mine.id or finite((record.metrics or {}).get("accuracy")) is None:
            continue
        if split_key(record.config) == key:
            return record
    return None


def baselines(store: Store, bundle: ResultBundle) -> list[Baseline]:
    """The best completed classical model, the best earlier completed model of each family and the best
    earlier model overall (earlier: created before this one), all on the same dataset and split
    (`split_key`, in words `baseline_scope`); the experiment itself is never one. Empty when no other
    run was measured on the same test records."""
    record = bundle.record
    found: list[tuple[str, ExperimentRecord]] = []
    classical = _best(store, record, family=CLASSICAL_FAMILY)
    if classical is not None:
        found.append(("best classical", classical))
    overall = _best(store, record, created_before=record.created_at)
    if overall is not None:
        found.append(("best previous overall", overall))
    families = list(dict.fromkeys([*list_families(), record.family]))
    for family in families:
        best = _best(store, record, family=family, created_before=record.created_at)
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
        theirs = finite((other.metrics or {}).get("accuracy"))
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


@dataclass(frozen=True)
class Recommendation:
    """One piece of advice on the results page; level is "success", "info" or "warning"."""

    level: str
    text: str

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"recommendation level must be one of {', '.join(LEVELS)}, got {self.level!r}")


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
    """The completed single model of another family (not an ensemble) that is right most often where this
    one is wrong, on the test records both predicted (same classes); None when none helps, and for an
    ensemble (it cannot be a member of another ensemble)."""
    mine = bundle.predictions
    if mine is None or bundle.record.family == ENSEMBLE_FAMILY:
        return None  # an ensemble cannot be a member of another ensemble: it has no partner
    # Ensembles cannot be ensemble members (models.builders.ensemble): only single models are candidates.
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
                    f"Ready for deployment: test accuracy {percent(accuracy)} (at least "
                    f"{percent(ACCURACY_READY)}) and every class recalled at {percent(RECALL_READY)} "
                    "or more.",
                )
            )
        else:
            reasons = []
            if accuracy < ACCURACY_READY:
                reasons.append(f"test accuracy {percent(accuracy)} is below {percent(ACCURACY_READY)}")
            if low:
                names = ", ".join(f"{r['class']} ({percent(r['recall'])})" for r in low)
                reasons.append(f"recall below {percent(RECALL_READY)} for {names}")
            out.append(Recommendation("warning", "Not ready for deployment: " + "; ".join(reasons) + "."))
    if weakest is not None:
        text = f"Weakest class: {weakest['class']} (recall {percent(weakest['recall'])}"
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
                f"Test accuracy {percent(accuracy or 0.0)} is {100 * -classical.difference:.1f} points below "
                f"the best classical model on the same data ({baseline_scope(bundle.config)}), experiment "
                f"{classical.experiment_id} ({classical.name}, {percent(classical.accuracy or 0.0)}): "
                "the simpler model does better.",
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
