"""ResultsInfo: what the results page and the report show, built from the store without any widget."""

from __future__ import annotations

import dataclasses

import pytest

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.result_bundle import load_results
from bearing_workbench.analysis.results import baselines, per_class_rows, training_summary
from bearing_workbench.analysis.results_info import CellRecord, ResultsInfo, results_info
from bearing_workbench.store import ExperimentFolder, Store
from bearing_workbench.store.artifacts import DOWNLOAD_KEYS, FAMILY_MODEL_KEYS


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


def test_results_info_carries_what_the_page_needs(analysis_store: Store, trained_ids: dict[str, int]) -> None:
    """The title's facts, the confusion cells' records, the files and the ensemble flag: the results page
    renders them from the info, not from the store."""
    experiment_id = trained_ids["cnn1d"]
    record = analysis_store.get_experiment(experiment_id)
    bundle = load_results(analysis_store, experiment_id)
    info = results_info(analysis_store, experiment_id)
    assert (info.status, info.family, info.ensemble) == ("completed", "cnn1d", False)
    assert info.duration_s == record.duration_s and info.finished_at == record.finished_at
    # The files of the download list, in its order, with their sizes; an absent one has none.
    folder = ExperimentFolder.at(bundle.folder)
    assert info.folder == bundle.folder
    # Model files of other families (classical skops, ensemble weights) are not offered here.
    assert [f.key for f in info.files] == [k for k in DOWNLOAD_KEYS if k not in FAMILY_MODEL_KEYS]
    for file in info.files:
        path = folder.artifact(file.key)
        assert file.size == (path.stat().st_size if path.is_file() else None)
        assert file.present == path.is_file()
        assert file.size_text == (fmt.size(file.size) if file.present else "not written for this experiment")
    assert any(f.present for f in info.files) and any(not f.present for f in info.files)  # no ONNX here
    # Each confusion cell lists exactly its count of records, most confident first.
    assert info.predictions is not None
    with pytest.raises(ValueError, match="read-only"):
        info.predictions.probs[0, 0] = 1.0  # a snapshot: its arrays refuse writes too
    names = info.class_names
    for t, row in enumerate(info.confusion):
        for p, count in enumerate(row):
            cell = info.cell_records(names[t], names[p])
            assert len(cell) == count
            assert all((r.true_label, r.predicted_label) == (names[t], names[p]) for r in cell)
            confidence = [r.predicted_probability for r in cell]
            assert confidence == sorted(confidence, reverse=True)
            for r in cell:
                assert [p for _, p in r.probabilities] == sorted(
                    (p for _, p in r.probabilities), reverse=True
                )
    with pytest.raises(ValueError, match="not a class"):
        info.cell_records("no such class", names[0])
    shares = info.confusion_shares
    for counts, share in zip(info.confusion, shares, strict=True):
        assert sum(share) == pytest.approx(1.0 if sum(counts) else 0.0)


def test_results_info_without_predictions_names_what_is_missing(
    analysis_store: Store, trained_ids: dict[str, int]
) -> None:
    experiment_id = trained_ids["cnn1d"]
    info = dataclasses.replace(results_info(analysis_store, experiment_id), predictions=None)
    with pytest.raises(ValueError, match=f"experiment {experiment_id} has no test predictions"):
        info.cell_records(info.class_names[0], info.class_names[0])


def test_cell_record_top_classes_reads_as_percentages() -> None:
    record = CellRecord("r1", "a", "a", 0.8, (("a", 0.8), ("b", 0.15), ("c", 0.04), ("d", 0.01)))
    assert record.top_classes() == "a 80 %, b 15 %, c 4 %"
