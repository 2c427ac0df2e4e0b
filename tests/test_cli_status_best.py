"""`bearing-workbench status` names the best epoch the way the monitor and the results page do."""

from __future__ import annotations

from bearing_workbench.cli_runs import _status_text, _summary
from bearing_workbench.store import Store


def test_status_best_epoch_is_the_saved_models(tmp_path) -> None:
    # Defect 10: "best" was the highest val accuracy here, the lowest val loss for the saved model.
    store = Store(workspace=tmp_path)
    run = store.create_experiment("cnn", "cnn1d", {"training": {"epochs": 3, "monitor": "val_loss"}})
    for epoch, (acc, loss) in enumerate([(0.5, 0.9), (0.8, 0.7), (0.7, 0.4)], 1):
        store.add_epoch(run, epoch, train_loss=1.0, val_loss=loss, val_acc=acc, seconds=1.0)
    summary = _summary(store.get_experiment(run), store)
    assert (summary["best_epoch"], summary["best_val_acc"]) == (3, 0.7)
    assert "best epoch 3, val acc 0.7000" in _status_text(store.get_experiment(run), store)
    by_accuracy = store.create_experiment("cnn", "cnn1d", {"training": {"monitor": "val_accuracy"}})
    for epoch, (acc, loss) in enumerate([(0.5, 0.9), (0.8, 0.7), (0.7, 0.4)], 1):
        store.add_epoch(by_accuracy, epoch, val_loss=loss, val_acc=acc)
    assert _summary(store.get_experiment(by_accuracy), store)["best_epoch"] == 2
    store.dispose()
