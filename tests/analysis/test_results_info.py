"""ResultsInfo: what the results page and the report show, built from the store without any widget."""

from __future__ import annotations

import dataclasses

import pytest

from bearing_workbench.analysis.result_bundle import load_results
from bearing_workbench.analysis.results import baselines, per_class_rows, training_summary
from bearing_workbench.analysis.results_info import ResultsInfo, results_info
from bearing_workbench.store import Store


def test_results_info_of_an_epoch_run(analysis_store: Store, trained_ids: dict[str, int]) -> None:
    experiment_id = trained_ids["cnn1d"]
    bundle = load_results(analysis_store, experiment_id)
    info = results_info(analysis_store, experiment_id)
    assert isinstance(info, ResultsInfo) and info.experiment_id == experiment_id
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "changed"  # type: ignore[misc]
    cards = {card.key: card for card in info.cards}
    assert cards["accuracy"].label == "test accuracy (record level)"
    assert cards["accuracy"].value == bundle.metrics["accuracy"]
    assert cards["macro_f1"].text == f"{100 * bundle.metrics['macro_f1']:.1f} %"
    assert [row.name for row in info.per_class] == [r["class"] for r in per_class_rows(bundle.metrics)]
    assert info.epoch_based and [row["epoch"] for row in info.history] == [r["epoch"] for r in bundle.history]
    summary = training_summary(bundle)
    assert (info.best_epoch, info.best_by) == (summary["best_epoch"], "best by val loss")
    training = {fact.label: fact.text for fact in info.training}
    assert training["best epoch (the saved model)"] == f"{summary['best_epoch']} (best by val loss)"
    assert "final val loss / accuracy (window level)" in training
    assert info.baselines == tuple(baselines(analysis_store, bundle))
    assert "dataset 'tiny-analysis'" in info.baseline_scope
    assert len(info.confusion) == len(info.class_names) == len(info.per_class)
    assert "model:" in info.config_yaml and "family: cnn1d" in info.config_yaml


def test_results_info_of_a_classical_run(analysis_store: Store, trained_ids: dict[str, int]) -> None:
    info = results_info(analysis_store, trained_ids["classical"])
    assert not info.epoch_based and info.history == () and info.best_epoch is None
    training = {fact.label: fact.text for fact in info.training}
    assert "not in epochs" in training["training"] and "epochs" not in training
    assert info.importance and info.importance == tuple(sorted(info.importance, key=lambda kv: -kv[1]))
