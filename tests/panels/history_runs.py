"""Completed experiments written by hand for the history and compare panels: store rows through the
real store, artifacts through the real writer (`training.artifacts.write_artifacts`), with test
predictions whose right and wrong records are chosen, so McNemar's counts are known."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bearing_workbench.models.predictions import make_predictions
from bearing_workbench.store import Store, experiment_dir
from bearing_workbench.training.artifacts import write_artifacts

CLASSES = ("healthy", "imbalance", "misalignment")


def config_of(family: str, **params: Any) -> dict[str, Any]:
    return {
        "data": {"dataset": "tiny", "window": {"length": 2048}},
        "model": {"family": family, "params": params},
        "training": {"epochs": 3, "learning_rate": 0.001, "batch_size": 16},
    }


def completed_run(
    store: Store,
    name: str,
    family: str,
    right: Sequence[bool],
    *,
    epochs: int = 0,
    config: dict[str, Any] | None = None,
    duration_s: float | None = None,
) -> int:
    """A completed experiment whose test predictions are right on the records where `right` is True
    (records ``r0``, ``r1``...); `epochs` > 0 adds stored epochs with rising val accuracy."""
    experiment = store.create_experiment(name, family, config or config_of(family))
    store.transition(experiment, "start")
    n = len(right)
    y_true = np.arange(n) % len(CLASSES)
    predicted = np.where(right, y_true, (y_true + 1) % len(CLASSES))
    probs = np.full((n, len(CLASSES)), 0.05)
    probs[np.arange(n), predicted] = 0.9
    predictions = make_predictions([f"r{i}" for i in range(n)], y_true, probs, CLASSES)
    history = []
    for epoch in range(1, epochs + 1):
        values = {"train_loss": 1.0 / epoch, "val_loss": 1.2 / epoch, "val_acc": 0.5 + 0.1 * epoch}
        store.add_epoch(experiment, epoch, **values)
        history.append({"epoch": epoch, **values})
    accuracy = float(np.mean(right))
    metrics = {
        "accuracy": accuracy,
        "macro_precision": accuracy,
        "macro_recall": accuracy,
        "macro_f1": accuracy - 0.001,
        "epochs_run": epochs,
    }
    write_artifacts(
        experiment_dir(experiment, store.workspace, create=True),
        config=config or config_of(family),
        history=history,
        metrics=metrics,
        test_predictions=predictions,
        val_predictions=None,
        class_names=CLASSES,
    )
    store.set_metrics(experiment, metrics)
    store.transition(experiment, "complete")
    if duration_s is not None:
        with store.transaction() as session:
            from bearing_workbench.store.tables import ExperimentRow

            session.get(ExperimentRow, experiment).duration_s = duration_s
    return experiment


def pattern(both_right: int, both_wrong: int, only_a: int, only_b: int) -> tuple[list[bool], list[bool]]:
    """Right/wrong lists of two runs with these 2x2 counts."""
    pairs = [(True, True)] * both_right + [(False, False)] * both_wrong
    pairs += [(True, False)] * only_a + [(False, True)] * only_b
    return [a for a, _ in pairs], [b for _, b in pairs]
