"""compare_experiments and its parts: McNemar against hand computations, settings diff, winner, and
real tiny experiments trained and stored by the training code."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bearing_workbench.analysis.comparison import (
    ComparisonError,
    ExperimentSummary,
    LeftOut,
    compare_experiments,
    flatten_config,
    hyperparameter_diff,
    suggest_winner,
)
from bearing_workbench.analysis.mcnemar import EXACT_BELOW, compare_predictions, mcnemar_test
from bearing_workbench.config import preset_config
from bearing_workbench.models.predictions import make_predictions
from bearing_workbench.store import Store, experiment_dir
from bearing_workbench.training.experiment import create_experiment, train_experiment

from ..tiny_data import tiny_store

CLASSES = ("healthy", "imbalance", "misalignment")


def _binomial_two_sided(k: int, n: int) -> float:
    """By hand: twice the lower tail of Binomial(n, 1/2) at min(k, n - k), capped at 1."""
    k = min(k, n - k)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


# -- McNemar ------------------------------------------------------------------------------------


def test_exact_test_matches_the_binomial_by_hand() -> None:
    statistic, p, method = mcnemar_test(12, 3)
    assert p == pytest.approx(2 * (1 + 15 + 105 + 455) / 2**15)  # 0.0352
    assert p == pytest.approx(_binomial_two_sided(3, 15))
    assert (statistic, method) == (3.0, "exact binomial test")
    assert mcnemar_test(3, 12)[1] == pytest.approx(p)  # symmetric
    assert mcnemar_test(2, 2)[1] == 1.0
    assert mcnemar_test(0, 6)[1] == pytest.approx(2 / 2**6)


def test_many_discordant_records_use_chi_square_with_correction() -> None:
    statistic, p, method = mcnemar_test(30, 10)
    assert statistic == pytest.approx((abs(30 - 10) - 1) ** 2 / 40)  # 9.025
    assert p == pytest.approx(math.erfc(math.sqrt(statistic / 2)))  # chi-square, 1 dof, by hand
    assert method == "chi-square test with continuity correction"
    assert mcnemar_test(EXACT_BELOW - 1, 0)[2] == "exact binomial test"
    assert mcnemar_test(EXACT_BELOW, 0)[2].startswith("chi-square")


def test_no_discordant_records_means_no_difference() -> None:
    assert mcnemar_test(0, 0) == (0.0, 1.0, "no discordant records")
    with pytest.raises(ValueError, match="only_a_right: must be a non-negative integer, got -1"):
        mcnemar_test(-1, 2)


def _predictions(rows: list[tuple[str, str, str]], class_names: tuple[str, ...]):
    """Predictions from (record id, true class, predicted class)."""
    index = {c: k for k, c in enumerate(class_names)}
    probs = np.full((len(rows), len(class_names)), 0.1 / (len(class_names) - 1))
    for i, (_, _, predicted) in enumerate(rows):
        probs[i, index[predicted]] = 0.9
    return make_predictions([r[0] for r in rows], [index[r[1]] for r in rows], probs, class_names)


def _wrong(label: str) -> str:
    return CLASSES[(CLASSES.index(label) + 1) % len(CLASSES)]


def test_pair_is_tested_on_shared_records_with_known_discordant_counts() -> None:
    # 20 both right, 5 both wrong, 12 only A right, 3 only B right; plus 2 records only A has, 1 only
    # B has and 1 shared id whose true label differs between the files.
    pattern = [(True, True)] * 20 + [(False, False)] * 5 + [(True, False)] * 12 + [(False, True)] * 3
    a_rows, b_rows = [], []
    for i, (a_ok, b_ok) in enumerate(pattern):
        truth = CLASSES[i % 3]
        a_rows.append((f"r{i}", truth, truth if a_ok else _wrong(truth)))
        b_rows.append((f"r{i}", truth, truth if b_ok else _wrong(truth)))
    a_rows += [
        ("only-a-1", "healthy", "healthy"),
        ("only-a-2", "healthy", "imbalance"),
        ("clash", "healthy", "healthy"),
    ]
    b_rows += [("only-b", "healthy", "healthy"), ("clash", "imbalance", "imbalance")]
    a = _predictions(a_rows, CLASSES)
    b = _predictions(b_rows, tuple(reversed(CLASSES)))  # another class order: matched by name
    result = compare_predictions(a, b, "A", "B", ids=(1, 2))
    assert (result.both_right, result.both_wrong, result.only_a_right, result.only_b_right) == (20, 5, 12, 3)
    assert (result.n_shared, result.only_in_a, result.only_in_b, result.label_conflicts) == (40, 2, 1, 1)
    assert result.p_value == pytest.approx(_binomial_two_sided(3, 15))
    assert result.significant and result.better == 1
    assert result.conclusion.startswith(
        "A is right on 12 records where B is wrong, B on 3 where A is wrong; p = 0.035: "
        "the difference is significant at 5 % (A is better)."
    )
    assert "2 are only in A's test set and 1 only in B's" in result.conclusion
    assert "Left out: 1 record whose true label differs" in result.conclusion
    flipped = compare_predictions(b, a, "B", "A", ids=(2, 1))
    assert (flipped.only_a_right, flipped.only_b_right, flipped.better) == (3, 12, 1)


def test_a_small_difference_is_not_significant() -> None:
    rows_a = [(f"r{i}", "healthy", "healthy" if i < 8 else "imbalance") for i in range(10)]
    rows_b = [(f"r{i}", "healthy", "healthy" if i < 6 or i == 9 else "imbalance") for i in range(10)]
    result = compare_predictions(_predictions(rows_a, CLASSES), _predictions(rows_b, CLASSES), "A", "B")
    assert (result.only_a_right, result.only_b_right) == (2, 1)
    assert result.p_value == pytest.approx(1.0) and not result.significant and result.better is None
    assert "p = 1: not significant at 5 %" in result.conclusion


# -- settings diff and winner --------------------------------------------------------------------


def test_flatten_and_diff_keep_unchanged_rows_marked() -> None:
    assert flatten_config({"a": {"b": {"c": 1}, "d": [1, 2]}, "e": {}}) == {
        "a.b.c": 1,
        "a.d": [1, 2],
        "e": {},
    }
    rows = hyperparameter_diff(
        {
            1: {"name": "x", "training": {"lr": 0.001, "epochs": 10, "aug": True}, "model": {"depth": 18}},
            2: {"name": "y", "training": {"lr": 0.001, "epochs": 10.0, "aug": 1}, "model": {"width": 2}},
        }
    )
    by_key = {row.key: row for row in rows}
    assert list(by_key) == ["training.lr", "training.epochs", "training.aug", "model.depth", "model.width"]
    assert not by_key["training.lr"].changed and not by_key["training.epochs"].changed  # 10 == 10.0
    assert by_key["training.aug"].changed  # True is not 1
    assert by_key["model.depth"].changed and by_key["model.depth"].values == {1: 18}


def _summary(i: int, accuracy: float, f1: float, duration: float | None = 10.0) -> ExperimentSummary:
    return ExperimentSummary(i, f"run{i}", "cnn1d", "d", accuracy, accuracy, accuracy, f1, 3, duration, 50)


def test_winner_ties_are_broken_plainly() -> None:
    assert (
        "highest test accuracy (90.0 %)"
        in suggest_winner([_summary(1, 0.8, 0.8), _summary(2, 0.9, 0.9)], []).reason
    )
    by_f1 = suggest_winner([_summary(1, 0.9, 0.88), _summary(2, 0.9, 0.89)], [])
    assert by_f1.experiment_id == 2 and "tied with #1 run1; chosen for its higher macro-F1" in by_f1.reason
    by_time = suggest_winner([_summary(1, 0.9, 0.9, 30.0), _summary(2, 0.9, 0.9, 20.0)], [])
    assert by_time.experiment_id == 2 and "shorter training" in by_time.reason
    by_id = suggest_winner([_summary(3, 0.9, 0.9), _summary(2, 0.9, 0.9)], [])
    assert by_id.experiment_id == 2 and "earliest (lowest id)" in by_id.reason
    assert "no shared records to test" in by_id.summary and "do not single it out" in by_id.summary


# -- real stored experiments --------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, int]]]:
    """Two classical runs and a 2-epoch cnn1d on a 3-class dataset of 5 records per class (0.5 s),
    trained and stored by the training code; plus one pending and one failed experiment."""
    root = tmp_path_factory.mktemp("compare-ws")
    store = tiny_store(root, per_class=5, duration_s=0.5, seed=5)
    ids = {}
    for key, family, overrides in (
        ("forest", "classical", {"model.params.algorithm": "random_forest", "model.params.n_estimators": 10}),
        ("svm", "classical", {"model.params.algorithm": "svm"}),
        ("cnn", "cnn1d", {"training.epochs": 2, "training.batch_size": 4}),
    ):
        config = preset_config("quick", family, "tiny", {"data.window": None, "name": key, **overrides})
        ids[key] = create_experiment(store, config)
        assert train_experiment(store, ids[key]).status == "completed"
    ids["pending"] = store.create_experiment("pending", "cnn1d", {})
    ids["failed"] = store.create_experiment("failed", "cnn1d", {})
    store.transition(ids["failed"], "fail", error="boom")
    yield store, ids
    store.dispose()


def _right(store: Store, experiment_id: int) -> pd.Series:
    frame = pd.read_csv(experiment_dir(experiment_id, store.workspace) / "predictions_test.csv", dtype=str)
    return (frame["true_label"] == frame["predicted_label"]).set_axis(frame["record_id"])


def test_compare_real_experiments(runs) -> None:
    store, ids = runs
    chosen = [ids["forest"], ids["svm"], ids["cnn"]]
    comparison = compare_experiments(store, chosen)
    assert comparison.experiment_ids == tuple(chosen)
    rows = comparison.metrics_rows()
    for row, experiment_id in zip(rows, chosen, strict=True):
        record = store.get_experiment(experiment_id)
        assert row["accuracy"] == record.metrics["accuracy"] and row["macro_f1"] == record.metrics["macro_f1"]
        assert (row["family"], row["duration_s"], row["dataset"]) == (
            record.family,
            record.duration_s,
            "tiny",
        )
    assert [r["epochs"] for r in rows] == [None, None, 2]  # defect 7: not "epochs 0" for classical runs
    assert comparison.curves[ids["forest"]] == []
    assert [r["epoch"] for r in comparison.curves[ids["cnn"]]] == [1, 2]
    assert comparison.curves[ids["cnn"]][0]["val_acc"] == store.epochs(ids["cnn"])[0].val_acc
    by_key = {row.key: row for row in comparison.hyperparameters}
    assert by_key["model.family"].changed and by_key["model.params.algorithm"].values == {
        ids["forest"]: "random_forest",
        ids["svm"]: "svm",
    }
    assert not by_key["data.dataset"].changed and "name" not in by_key
    assert len(comparison.mcnemar) == 3
    for test in comparison.mcnemar:  # counts by hand from the two CSV files
        a, b = _right(store, test.a), _right(store, test.b)
        assert test.n_shared == len(a) == len(b)
        assert test.only_a_right == int((a & ~b).sum()) and test.only_b_right == int((~a & b).sum())
        assert test.p_value == pytest.approx(
            _binomial_two_sided(test.only_b_right, test.only_a_right + test.only_b_right)
            if test.only_a_right + test.only_b_right
            else 1.0
        )
    best = max(rows, key=lambda r: (r["accuracy"], r["macro_f1"], -r["duration_s"], -r["id"]))
    assert comparison.winner.experiment_id == best["id"]
    assert "3 pairs were tested" in comparison.notes[-1]
    saved = store.save_comparison("tiny trio", chosen, comparison.to_dict())
    result = store.get_comparison(saved).result
    assert result["winner"]["experiment_id"] == best["id"]
    assert json.loads(json.dumps(result)) == result


def test_compare_refuses_what_it_cannot_compare(runs) -> None:
    store, ids = runs
    forest = ids["forest"]
    with pytest.raises(ComparisonError, match="choose 2 to 10 experiments to compare, got 1"):
        compare_experiments(store, [forest])
    with pytest.raises(ComparisonError, match="got 11"):
        compare_experiments(store, range(1, 12))
    with pytest.raises(ComparisonError, match=f"experiment {forest} is listed twice"):
        compare_experiments(store, [forest, forest])
    with pytest.raises(ComparisonError, match="positive integers, got '../../etc/passwd'"):
        compare_experiments(store, [forest, "../../etc/passwd"])
    with pytest.raises(ComparisonError, match=r"fewer than 2 can be compared \(404: not found; "):
        compare_experiments(store, [forest, 404, ids["pending"], 405, ids["failed"]])


def test_compare_leaves_out_what_it_cannot_compare_and_says_why(runs) -> None:
    # Defect 7: one stopped (or pending, failed, missing) run in a selection made the whole compare refuse.
    store, ids = runs
    chosen = [ids["forest"], ids["pending"], ids["cnn"], 404, ids["failed"]]
    comparison = compare_experiments(store, chosen)
    assert comparison.experiment_ids == (ids["forest"], ids["cnn"]) and len(comparison.mcnemar) == 1
    assert comparison.left_out == (
        LeftOut(ids["pending"], "not completed (pending)"),
        LeftOut(404, "not found"),
        LeftOut(ids["failed"], "not completed (failed)"),
    )
    assert f"left out: #{ids['pending']}, not completed (pending)" in comparison.notes


def test_compare_names_a_missing_predictions_file(runs, tmp_path: Path) -> None:
    store, ids = runs
    source = experiment_dir(ids["svm"], store.workspace) / "predictions_test.csv"
    kept = tmp_path / "kept.csv"
    source.rename(kept)
    try:
        with pytest.raises(
            ComparisonError,
            match=rf"{ids['svm']}: no test predictions: predictions file .*predictions_test.csv: does not",
        ):
            compare_experiments(store, [ids["forest"], ids["svm"]])
        left = compare_experiments(store, [ids["forest"], ids["svm"], ids["cnn"]]).left_out
        assert [x.experiment_id for x in left] == [ids["svm"]] and "does not exist" in left[0].reason
    finally:
        kept.rename(source)
