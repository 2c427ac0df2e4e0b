"""An ensemble's results never suggest building an ensemble from it: an ensemble cannot be a member
of another ensemble (models.builders.ensemble), so "Try an ensemble with experiment N" is advice
that the wizard would refuse."""

from __future__ import annotations

import numpy as np

from bearing_workbench.analysis.results import complementary_model, load_results, recommendations
from bearing_workbench.models.predictions import make_predictions, predictions_csv
from bearing_workbench.store import Store
from bearing_workbench.training.artifacts import write_json

from .conftest import empty_store  # noqa: F401
from .results_fixtures import experiment_folder

CLASSES = ["healthy", "imbalance", "misalignment"]
IDS = [f"r{i}" for i in range(6)]
TRUTH = [0, 0, 1, 1, 2, 2]


def _completed(store: Store, family: str, predicted: list[int], members: list[int] = ()) -> int:
    """A completed experiment with metrics.json and test/validation predictions written by hand."""
    config = {"model": {"family": family, "params": {"members": list(members)}}}
    experiment_id = store.create_experiment(f"{family} run", family, config)
    store.transition(experiment_id, "start")
    folder = experiment_folder(store, experiment_id)
    folder.mkdir(parents=True, exist_ok=True)
    accuracy = float(np.mean(np.array(predicted) == np.array(TRUTH)))
    metrics = {"class_names": CLASSES, "accuracy": accuracy, "per_class": {}, "roc": {}}
    write_json(folder / "metrics.json", metrics)
    store.set_metrics(experiment_id, {"accuracy": accuracy})
    probs = np.full((len(IDS), len(CLASSES)), 0.05)
    probs[np.arange(len(IDS)), predicted] = 0.9
    text = predictions_csv(make_predictions(IDS, TRUTH, probs, CLASSES))
    for split in ("test", "val"):
        (folder / f"predictions_{split}.csv").write_text(text, encoding="utf-8")
    store.transition(experiment_id, "complete")
    return experiment_id


def test_an_ensemble_is_offered_no_ensemble_partner(empty_store: Store) -> None:  # noqa: F811
    first = _completed(empty_store, "cnn1d", [0, 1, 1, 0, 2, 2])
    second = _completed(empty_store, "transformer", [0, 0, 1, 1, 2, 0])
    ensemble = _completed(empty_store, "ensemble", [0, 1, 1, 1, 2, 0], members=[first, second])
    # Right where the ensemble is wrong (r1, r5), and a single model of another family: a partner
    # for any single model, but an ensemble cannot join another ensemble.
    _completed(empty_store, "classical", TRUTH)
    bundle = load_results(empty_store, ensemble)
    assert complementary_model(empty_store, bundle) is None
    texts = [r.text for r in recommendations(empty_store, bundle)]
    assert texts and not [t for t in texts if "ensemble" in t.lower()]
    # A single model with the same errors is still told about the partner.
    single = load_results(empty_store, first)
    assert complementary_model(empty_store, single) is not None
