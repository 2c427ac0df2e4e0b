"""HistoryRow: one experiment as the history table lists it, built from the store without widgets."""

from __future__ import annotations

import dataclasses

import pytest

from bearing_workbench.analysis.history_rows import HISTORY_COLUMNS, NOTES_SHOWN, history_row
from bearing_workbench.store import Store


def test_a_row_formats_every_column_the_way_the_results_page_does(tmp_path) -> None:
    store = Store(workspace=tmp_path)
    cnn = store.create_experiment("cnn", "cnn1d", {}, tags=["a", "b"])
    store.set_metrics(cnn, {"accuracy": 0.9234, "macro_f1": 0.91, "epochs_run": 12})
    store.set_notes(cnn, "x" * (NOTES_SHOWN + 5))
    forest = store.create_experiment("forest", "classical", {})
    store.set_metrics(forest, {"accuracy": 1.0, "epochs_run": 0})
    row = history_row(store.get_experiment(cnn))
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "changed"  # type: ignore[misc]
    cells = row.cells
    assert set(cells) == {key for key, _, _ in HISTORY_COLUMNS}
    assert (cells["metrics.accuracy"], cells["metrics.macro_f1"]) == ("92.3 %", "91.0 %")
    assert cells["metrics.epochs_run"] == "12" and cells["tags"] == "a, b" and cells["duration_s"] == "—"
    assert len(cells["notes"]) == NOTES_SHOWN and cells["notes"].endswith("…")
    classical = history_row(store.get_experiment(forest))
    assert classical.epochs is None and classical.cells["metrics.epochs_run"] == "—"  # no epochs, not 0
    assert classical.cells["metrics.macro_f1"] == "—"
    labels = dict((key, label) for key, label, _ in HISTORY_COLUMNS)
    assert labels["metrics.accuracy"] == "test accuracy (record level)"
    store.dispose()
