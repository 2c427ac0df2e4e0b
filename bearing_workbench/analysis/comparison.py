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

from bearing_workbench.analysis.history import history_rows
from bearing_workbench.store import NotFoundError, RunStatus, Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_json, read_predictions

MIN_EXPERIMENTS = 2
MAX_EXPERIMENTS = 10
ALPHA = 0.05
# Below this many discordant records the chi-square approximation is poor: use the exact binomial test.
EXACT_BELOW = 25
METRIC_KEYS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
# Config keys left out of the settings diff: the name is in the metrics table already.
SKIPPED_CONFIG_KEYS = frozenset({"name"})


class ComparisonError(ValueError):
    """Experiments that cannot be compared (too few or many, unknown, not completed, files missing)."""


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
    epochs: int | None
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
class McNemarResult:
    """McNemar's test of one pair on the test records they share.

    Args:
        only_a_right: shared records that `a` gets right and `b` wrong; only_b_right: the reverse.
        only_in_a, only_in_b: records in one test set only; label_conflicts: shared ids whose true label
            differs between the two files (different datasets under the same ids). None of these is tested.
        better: the id of the significantly better one, None when the difference is not significant.
    """

    a: int
    b: int
    n_shared: int
    both_right: int
    both_wrong: int
    only_a_right: int
    only_b_right: int
    only_in_a: int
    only_in_b: int
    label_conflicts: int
    statistic: float
    p_value: float
    method: str
    significant: bool
    better: int | None
    conclusion: str


@dataclass(frozen=True)
class Winner:
    """The suggested experiment and how it stands against each other one."""

    experiment_id: int
    reason: str
    better_than: tuple[int, ...]
    not_better_than: tuple[int, ...]
    summary: str


@dataclass(frozen=True)
class Comparison:
    """Everything the compare view shows, in the order of `experiment_ids`."""

    experiment_ids: tuple[int, ...]
    experiments: tuple[ExperimentSummary, ...]
    curves: dict[int, list[dict[str, Any]]]
    hyperparameters: tuple[HyperparameterRow, ...]
    mcnemar: tuple[McNemarResult, ...]
    winner: Winner
    notes: tuple[str, ...] = field(default=())
    alpha: float = ALPHA

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


# -- McNemar ------------------------------------------------------------------------------------


def mcnemar_counts(
    a_right: Sequence[bool] | np.ndarray, b_right: Sequence[bool] | np.ndarray
) -> dict[str, int]:
    """The 2x2 table of two classifiers on the same records: both right, both wrong, only a, only b."""
    a = np.asarray(a_right, dtype=bool)
    b = np.asarray(b_right, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"a_right and b_right must be 1-D and of the same length, got {a.shape} and {b.shape}"
        )
    return {
        "both_right": int(np.sum(a & b)),
        "both_wrong": int(np.sum(~a & ~b)),
        "only_a_right": int(np.sum(a & ~b)),
        "only_b_right": int(np.sum(~a & b)),
    }


def mcnemar_test(only_a_right: int, only_b_right: int) -> tuple[float, float, str]:
    """(statistic, p value, method) of McNemar's test from the two discordant counts.

    Exact two-sided binomial test when there are fewer than `EXACT_BELOW` discordant records (statistic:
    the smaller count), else chi-square with continuity correction, ``(|b - c| - 1)^2 / (b + c)``.
    """
    from scipy import stats

    for name, value in (("only_a_right", only_a_right), ("only_b_right", only_b_right)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a non-negative count, got {value!r}")
    n = int(only_a_right) + int(only_b_right)
    if n == 0:
        return 0.0, 1.0, "no discordant records"
    if n < EXACT_BELOW:
        smaller = min(int(only_a_right), int(only_b_right))
        p = stats.binomtest(smaller, n, 0.5, alternative="two-sided").pvalue
        return float(smaller), min(1.0, float(p)), "exact binomial test"
    statistic = (abs(int(only_a_right) - int(only_b_right)) - 1) ** 2 / n
    return float(statistic), float(stats.chi2.sf(statistic, 1)), "chi-square test with continuity correction"


def p_text(p: float) -> str:
    """``p = 0.035``, ``p < 0.001``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _records(n: int) -> str:
    return f"{n} record{'s' if n != 1 else ''}"


def mcnemar_conclusion(
    a_label: str, b_label: str, only_a_right: int, only_b_right: int, p: float, alpha: float = ALPHA
) -> str:
    """The test's result in words."""
    level = f"{100 * alpha:g} %"
    counts = (
        f"{a_label} is right on {_records(only_a_right)} where {b_label} is wrong, "
        f"{b_label} on {only_b_right} where {a_label} is wrong"
    )
    if only_a_right + only_b_right == 0:
        return (
            f"{a_label} and {b_label} are right and wrong on exactly the same records: no difference to test."
        )
    if p < alpha:
        better = a_label if only_a_right > only_b_right else b_label
        return f"{counts}; {p_text(p)}: the difference is significant at {level} ({better} is better)."
    return (
        f"{counts}; {p_text(p)}: not significant at {level}: on these records the two cannot be told apart."
    )


def compare_predictions(
    a: Any,
    b: Any,
    a_label: str = "A",
    b_label: str = "B",
    alpha: float = ALPHA,
    ids: tuple[int, int] = (0, 1),
) -> McNemarResult:
    """McNemar's test of two `Predictions` on the records they share (matched by record id)."""
    a_right, a_true = _right_by_record(a)
    b_right, b_true = _right_by_record(b)
    shared = [r for r in a_right if r in b_right]
    conflicts = [r for r in shared if a_true[r] != b_true[r]]
    tested = [r for r in shared if a_true[r] == b_true[r]]
    counts = mcnemar_counts([a_right[r] for r in tested], [b_right[r] for r in tested])
    statistic, p, method = mcnemar_test(counts["only_a_right"], counts["only_b_right"])
    significant = bool(p < alpha and counts["only_a_right"] != counts["only_b_right"])
    better = None
    if significant:
        better = ids[0] if counts["only_a_right"] > counts["only_b_right"] else ids[1]
    conclusion = mcnemar_conclusion(
        a_label, b_label, counts["only_a_right"], counts["only_b_right"], p, alpha
    )
    extra = []
    if len(a_right) - len(shared) or len(b_right) - len(shared):
        extra.append(
            f"{len(tested)} shared test records were compared; {len(a_right) - len(shared)} are only in "
            f"{a_label}'s test set and {len(b_right) - len(shared)} only in {b_label}'s."
        )
    if conflicts:
        extra.append(
            f"Left out: {_records(len(conflicts))} whose true label differs between the two files under "
            "the same id (different datasets?)."
        )
    return McNemarResult(
        a=ids[0],
        b=ids[1],
        n_shared=len(tested),
        **counts,
        only_in_a=len(a_right) - len(shared),
        only_in_b=len(b_right) - len(shared),
        label_conflicts=len(conflicts),
        statistic=statistic,
        p_value=p,
        method=method,
        significant=significant,
        better=better,
        conclusion=" ".join([conclusion, *extra]),
    )


def _right_by_record(predictions: Any) -> tuple[dict[str, bool], dict[str, str]]:
    # By class name, not index: two runs may list their classes in different orders.
    names = predictions.class_names
    predicted = predictions.y_pred
    right: dict[str, bool] = {}
    truth: dict[str, str] = {}
    for record, true_index, predicted_index in zip(
        predictions.record_ids, predictions.y_true, predicted, strict=True
    ):
        truth[record] = names[int(true_index)]
        right[record] = names[int(predicted_index)] == truth[record]
    return right, truth


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


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


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
    reason = f"highest test accuracy ({_percent(best.accuracy)})"
    if tied:
        names = ", ".join(s.label for s in tied)
        reason = f"test accuracy {_percent(best.accuracy)}, tied with {names}; "
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


def compare_experiments(store: Store, experiment_ids: Iterable[int], alpha: float = ALPHA) -> Comparison:
    """Compare 2 to 10 completed experiments; ComparisonError names the ids that are missing, not
    completed, or without test predictions."""
    if not 0 < alpha < 1:
        raise ComparisonError(f"alpha must be between 0 and 1, got {alpha!r}")
    ids = _check_ids(experiment_ids)
    records, missing, unfinished = {}, [], []
    for experiment_id in ids:
        try:
            records[experiment_id] = store.get_experiment(experiment_id)
        except NotFoundError:
            missing.append(experiment_id)
            continue
        if records[experiment_id].status != RunStatus.COMPLETED:
            unfinished.append(f"{experiment_id} ({records[experiment_id].status.value})")
    problems = []
    if missing:
        problems.append(f"not found: {', '.join(map(str, missing))}")
    if unfinished:
        problems.append(f"not completed: {', '.join(unfinished)}")
    if problems:
        raise ComparisonError(f"cannot compare experiments {', '.join(map(str, ids))}: {'; '.join(problems)}")
    predictions, unreadable = {}, []
    for experiment_id in ids:
        path = ExperimentFolder.of(experiment_id, store.workspace).predictions_test
        try:
            predictions[experiment_id] = read_predictions(path)
        except ValueError as exc:  # PredictionsFileError: missing or broken, with the path
            unreadable.append(f"{experiment_id}: {exc}")
    if unreadable:
        raise ComparisonError("cannot compare without test predictions; " + "; ".join(unreadable))

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
                epochs=int(epochs) if isinstance(epochs, int) and not isinstance(epochs, bool) else len(rows),
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
    notes = []
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
    )
