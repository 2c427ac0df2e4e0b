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


def lost_run(store: Store, name: str = "lost", epochs: int = 2) -> int:
    """A run marked lost the way a watcher marks it: running, epochs stored, heartbeats past the grace."""
    from datetime import UTC, datetime, timedelta

    run = store.create_experiment(name, "cnn1d", {})
    store.transition(run, "start")
    for epoch in range(1, epochs + 1):
        store.add_epoch(run, epoch, train_loss=1.0 / epoch)
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert store.mark_lost(1.0, now=later, experiment_ids=[run]) == [run]
    return run


def test_a_lost_run_is_shown_lost_with_its_reason_and_hint_and_may_be_retried(tmp_path) -> None:
    store = Store(workspace=tmp_path)
    lost = history_row(store.get_experiment(lost_run(store, epochs=2)))
    failed_id = store.create_experiment("failed", "cnn1d", {})
    store.transition(failed_id, "start")
    store.transition(failed_id, "fail", error="ValueError: NaN loss", hint="lower the learning rate")
    failed = history_row(store.get_experiment(failed_id))
    done = store.create_experiment("done", "cnn1d", {})
    store.transition(done, "start")
    store.transition(done, "complete")
    completed = history_row(store.get_experiment(done))

    assert (lost.status, lost.cells["status"]) == ("lost", "lost")
    assert lost.status_note.startswith("lost: its worker or scheduler stopped answering after epoch 2")
    assert "retry resumes it from its last checkpoint, after epoch 2" in lost.status_note
    assert (failed.status, failed.status_note) == ("failed", "ValueError: NaN loss — lower the learning rate")
    assert lost.retryable and failed.retryable and not completed.retryable
    assert completed.status_note == ""
    store.dispose()
