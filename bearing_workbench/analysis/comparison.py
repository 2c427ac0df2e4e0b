"""Side-by-side comparison of 2 to 10 completed experiments: metrics, curves, settings, McNemar's tests.

Pure functions over the store and the stored artifacts (no widgets). McNemar's test asks whether two
classifiers err on the same test records: it counts the records that exactly one of them gets
right (the discordant pairs) and tests whether those split evenly. Records are matched by
``record_id`` from each run's ``predictions_test.csv``; records in only one test set, and records
whose true label differs between the files, are left out of the test and reported.

statsmodels is not a dependency: the test is computed with scipy.stats, as
``statsmodels.stats.contingency_tables.mcnemar`` does it (exact: two-sided binomial test of the
smaller discordant count at p = 1/2; else chi-square with continuity correction).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bearing_workbench.analysis.format import percent
from bearing_workbench.analysis.history import history_rows
from bearing_workbench.analysis.mcnemar import ALPHA, McNemarResult, compare_predictions, p_text
from bearing_workbench.models.registry import UnknownFamilyError, get_family
from bearing_workbench.store import NotFoundError, RunStatus, Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_json, read_predictions

MIN_EXPERIMENTS = 2
MAX_EXPERIMENTS = 10
METRIC_KEYS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
# Config keys left out of the settings diff: the name is in the metrics table already.
SKIPPED_CONFIG_KEYS = frozenset({"name"})


class ComparisonError(ValueError):
    """Experiments that cannot be compared (too few or many listed, or fewer than two comparable)."""


@dataclass(frozen=True)
class LeftOut:
    """An experiment of the selection that is not compared, and why (not found, not completed, no test
    predictions)."""

    experiment_id: int
    reason: str

    @property
    def note(self) -> str:
        """How the pages and the saved notes say it: ``"left out: #3, not completed (stopped)"``."""
        return f"left out: #{self.experiment_id}, {self.reason}"


@dataclass(frozen=True)
class ExperimentSummary:
    """One row of the metrics table."""

    id: int
    name: str
    family: str
    dataset: str | None
    accuracy: float | None
    macro_precision: float | None
    macro_recall: float | None
    macro_f1: float | None
    epochs: int | None  # None for a family not trained in epochs (classical, ensemble)
    duration_s: float | None
    n_test: int

    @property
    def label(self) -> str:
        """``#<id> <name>``: how conclusions name the experiment."""
        return f"#{self.id} {self.name}"


@dataclass(frozen=True)
class HyperparameterRow:
    """One dotted config key: each experiment's value (ids without the key are absent) and whether they
    differ."""

    key: str
    values: dict[int, Any]
    changed: bool


@dataclass(frozen=True)
class Winner:
    """The suggested experiment and how it stands against each other one."""

    experiment_id: int
    reason: str
    better_than: tuple[int, ...]
    not_better_than: tuple[int, ...]
    summary: str


@dataclass(frozen=True)
class ComparisonInfo:
    """Everything the compare view shows, in the order of `experiment_ids` (the compared ones);
    `left_out`: the selected experiments that could not be compared, each with its reason."""

    experiment_ids: tuple[int, ...]
    experiments: tuple[ExperimentSummary, ...]
    curves: dict[int, list[dict[str, Any]]]
    hyperparameters: tuple[HyperparameterRow, ...]
    mcnemar: tuple[McNemarResult, ...]
    winner: Winner
    notes: tuple[str, ...] = field(default=())
    alpha: float = ALPHA
    left_out: tuple[LeftOut, ...] = field(default=())

    def experiment(self, experiment_id: int) -> ExperimentSummary:
        """The metrics row of one experiment."""
        for summary in self.experiments:
            if summary.id == experiment_id:
                return summary
        raise KeyError(f"experiment {experiment_id} is not part of this comparison")

    def pair(self, a: int, b: int) -> McNemarResult:
        """The test of `a` against `b` (either order)."""
        for result in self.mcnemar:
            if {result.a, result.b} == {a, b}:
                return result
        raise KeyError(f"no test of {a} against {b} in this comparison")

    def metrics_rows(self) -> list[dict[str, Any]]:
        """The metrics table as plain dicts (one per experiment)."""
        return [asdict(s) for s in self.experiments]

    def changed_hyperparameters(self) -> list[HyperparameterRow]:
        """Only the settings that differ."""
        return [row for row in self.hyperparameters if row.changed]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (for `Store.save_comparison`)."""
        out = asdict(self)
        out["curves"] = {str(k): v for k, v in self.curves.items()}
        out["hyperparameters"] = [
            {"key": row.key, "values": {str(k): v for k, v in row.values.items()}, "changed": row.changed}
            for row in self.hyperparameters
        ]
        return out


Comparison = ComparisonInfo  # the name callers used before the Info objects


# -- settings diff ------------------------------------------------------------------------------


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (``training.scheduler.name``); lists stay values."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten_config(value, f"{dotted}."))
        else:
            out[dotted] = value
    return out


def _same_key(value: Any) -> Any:
    # 1 and 1.0 are the same setting; True is not 1.
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    return ("json", json.dumps(value, sort_keys=True, default=str))


def hyperparameter_diff(configs: Mapping[int, Mapping[str, Any]]) -> list[HyperparameterRow]:
    """One row per dotted key met in any config, in first-met order; `changed` when the values differ
    or some config lacks the key."""
    flat = {i: flatten_config(c) for i, c in configs.items()}
    keys: dict[str, None] = {}
    for values in flat.values():
        for key in values:
            if key not in SKIPPED_CONFIG_KEYS:
                keys.setdefault(key)
    rows = []
    for key in keys:
        values = {i: f[key] for i, f in flat.items() if key in f}
        changed = len(values) < len(flat) or len({_same_key(v) for v in values.values()}) > 1
        rows.append(HyperparameterRow(key, values, changed))
    return rows


# -- winner -------------------------------------------------------------------------------------


def suggest_winner(
    experiments: Sequence[ExperimentSummary], tests: Sequence[McNemarResult], alpha: float = ALPHA
) -> Winner:
    """Best test accuracy; ties broken by macro-F1, then the shorter training, then the lower id.

    Then, against each other experiment: significantly better (McNemar at `alpha`) or not.
    """
    if not experiments:
        raise ValueError("suggest_winner needs at least one experiment")

    def key(s: ExperimentSummary) -> tuple[float, float, float, int]:
        return (
            -(s.accuracy if s.accuracy is not None else -1.0),
            -(s.macro_f1 if s.macro_f1 is not None else -1.0),
            s.duration_s if s.duration_s is not None else math.inf,
            s.id,
        )

    ranked = sorted(experiments, key=key)
    best = ranked[0]
    tied = [s for s in ranked[1:] if _close(s.accuracy, best.accuracy)]
    reason = f"highest test accuracy ({percent(best.accuracy)})"
    if tied:
        names = ", ".join(s.label for s in tied)
        reason = f"test accuracy {percent(best.accuracy)}, tied with {names}; "
        f1_tied = [s for s in tied if _close(s.macro_f1, best.macro_f1)]
        if not f1_tied:
            reason += "chosen for its higher macro-F1"
        elif any(s.duration_s != best.duration_s for s in f1_tied) and best.duration_s is not None:
            reason += "macro-F1 tied too; chosen for its shorter training"
        else:
            reason += "macro-F1 tied too; chosen as the earliest (lowest id)"
    better, not_better, parts = [], [], []
    for other in ranked[1:]:
        test = next((t for t in tests if {t.a, t.b} == {best.id, other.id}), None)
        if test is not None and test.better == best.id:
            better.append(other.id)
            parts.append(f"significantly better than {other.label} ({p_text(test.p_value)})")
        else:
            not_better.append(other.id)
            detail = f" ({p_text(test.p_value)})" if test is not None else " (no shared records to test)"
            if test is not None and test.better == other.id:
                detail += f"; {other.label} is significantly better on the shared records"
            parts.append(f"not significantly better than {other.label}{detail}")
    summary = f"Suggested: {best.label} ({best.family}): {reason}. It is " + "; ".join(parts) + "."
    if not_better and not better:
        summary += " The data do not single it out: any of them may be chosen on other grounds (speed, size)."
    return Winner(best.id, reason, tuple(better), tuple(not_better), summary)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-12)


# -- from the store -----------------------------------------------------------------------------


def _check_ids(experiment_ids: Iterable[int]) -> tuple[int, ...]:
    if isinstance(experiment_ids, str | bytes) or not isinstance(experiment_ids, Iterable):
        raise ComparisonError(f"experiment_ids must be a list of experiment ids, got {experiment_ids!r}")
    ids: list[int] = []
    for value in experiment_ids:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ComparisonError(f"experiment ids must be positive integers, got {value!r}")
        if int(value) in ids:
            raise ComparisonError(f"experiment {int(value)} is listed twice; compare distinct experiments")
        ids.append(int(value))
    if not MIN_EXPERIMENTS <= len(ids) <= MAX_EXPERIMENTS:
        raise ComparisonError(
            f"choose {MIN_EXPERIMENTS} to {MAX_EXPERIMENTS} experiments to compare, got {len(ids)}"
        )
    return tuple(ids)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _dataset_of(config: Mapping[str, Any]) -> str | None:
    data = config.get("data")
    value = data.get("dataset") if isinstance(data, Mapping) else None
    return None if value is None else str(value)


def compare_experiments(store: Store, experiment_ids: Iterable[int], alpha: float = ALPHA) -> ComparisonInfo:
    """Compare the completed experiments with test predictions among 2 to 10 selected ones; the others
    (not found, not completed, predictions missing) are left out and listed with the reason in
    `ComparisonInfo.left_out` and its notes. ComparisonError when the selection is malformed or fewer than
    two remain, naming each one left out."""
    if not 0 < alpha < 1:
        raise ComparisonError(f"alpha must be between 0 and 1, got {alpha!r}")
    selected = _check_ids(experiment_ids)
    records, predictions, left_out = {}, {}, []
    for experiment_id in selected:
        try:
            record = store.get_experiment(experiment_id)
        except NotFoundError:
            left_out.append(LeftOut(experiment_id, "not found"))
            continue
        if record.status != RunStatus.COMPLETED:
            left_out.append(LeftOut(experiment_id, f"not completed ({RunStatus(record.status).value})"))
            continue
        path = ExperimentFolder.of(experiment_id, store.workspace).predictions_test
        try:
            predictions[experiment_id] = read_predictions(path)
        except ValueError as exc:  # PredictionsFileError: missing or broken, with the path
            left_out.append(LeftOut(experiment_id, f"no test predictions: {exc}"))
            continue
        records[experiment_id] = record
    ids = tuple(i for i in selected if i in records)
    if len(ids) < MIN_EXPERIMENTS:
        why = "; ".join(f"{x.experiment_id}: {x.reason}" for x in left_out)
        raise ComparisonError(
            f"cannot compare experiments {', '.join(map(str, selected))}: fewer than {MIN_EXPERIMENTS} "
            f"can be compared ({why})"
        )

    summaries = []
    curves: dict[int, list[dict[str, Any]]] = {}
    for experiment_id in ids:
        record = records[experiment_id]
        metrics = dict(record.metrics or {})
        folder = ExperimentFolder.of(experiment_id, store.workspace)
        if any(metrics.get(k) is None for k in METRIC_KEYS):
            # The store keeps a summary; metrics.json has everything (older rows may lack a key).
            metrics_file = folder.metrics
            if metrics_file.is_file():
                metrics = {**read_json(metrics_file), **metrics}
        rows = history_rows(store.epochs(experiment_id))
        if not rows and folder.history.is_file():
            rows = history_rows(read_json(folder.history))
        curves[experiment_id] = rows
        epochs = metrics.get("epochs_run")
        summaries.append(
            ExperimentSummary(
                id=experiment_id,
                name=record.name,
                family=record.family,
                dataset=_dataset_of(record.config),
                **{k: _number(metrics.get(k)) for k in METRIC_KEYS},
                epochs=_epochs(record.family, epochs, rows),
                duration_s=_number(record.duration_s),
                n_test=len(predictions[experiment_id].record_ids),
            )
        )
    by_id = {s.id: s for s in summaries}
    tests = []
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            tests.append(
                compare_predictions(
                    predictions[a], predictions[b], by_id[a].label, by_id[b].label, alpha, ids=(a, b)
                )
            )
    notes = [x.note for x in left_out]
    datasets = {s.dataset for s in summaries}
    if len(datasets) > 1:
        listed = ", ".join(f"{s.label}: {s.dataset or 'unknown'}" for s in summaries)
        notes.append(
            f"the experiments were tested on different datasets ({listed}): records are matched by id only"
        )
    shared_by_all = set.intersection(*(set(p.record_ids) for p in predictions.values()))
    largest = max(len(p.record_ids) for p in predictions.values())
    if len(shared_by_all) < largest:
        notes.append(
            f"{len(shared_by_all)} test records are common to all {len(ids)} experiments (largest test set: "
            f"{largest}); each pair is tested on the records those two share"
        )
    if len(tests) > 1:
        notes.append(
            f"{len(tests)} pairs were tested at {100 * alpha:g} % each, without correction for multiple "
            f"comparisons: about {len(tests) * alpha:.1f} could look significant by chance alone"
        )
    return Comparison(
        experiment_ids=ids,
        experiments=tuple(summaries),
        curves=curves,
        hyperparameters=tuple(hyperparameter_diff({i: records[i].config for i in ids})),
        mcnemar=tuple(tests),
        winner=suggest_winner(summaries, tests, alpha),
        notes=tuple(notes),
        alpha=alpha,
        left_out=tuple(left_out),
    )


def _epochs(family: str, stored: Any, rows: Sequence[Mapping[str, Any]]) -> int | None:
    """Epochs run; None for a family not trained in epochs (not "0": it has no epochs at all)."""
    try:
        if not get_family(family).epoch_based:
            return None
    except UnknownFamilyError:
        if not rows:
            return None
    return int(stored) if isinstance(stored, int) and not isinstance(stored, bool) else len(rows)
