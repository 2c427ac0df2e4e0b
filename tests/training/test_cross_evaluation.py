"""A stored model evaluated on a second dataset (classes renamed by a map) and swept for robustness,
each evaluation kept in the store; refused input leaves the store as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bearing_workbench.analysis.evaluations import evaluation_infos
from bearing_workbench.config import preset_config
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.store.evaluation_status import EvaluationStatus
from bearing_workbench.training import stored_model
from bearing_workbench.training.cross_evaluation import EvaluationFailed, evaluate_on
from bearing_workbench.training.robustness import robustness_sweep
from bearing_workbench.training.sources import PredictionInputError
from bearing_workbench.training.stored_model import StoredModelError

from ..tiny_data import relabelled_dataset, tiny_store

DATASET = "tiny-eval"
# Whole 0.5 s records, one epoch of a small cnn1d: the tests check what is stored, not what was learned.
RUN = {
    "data.window": None,
    "training.epochs": 1,
    "training.batch_size": 2,
    "model.params.filters": 32,
    "model.params.fc_sizes": [8],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("cross-eval-ws")
    workspace = tiny_store(root, per_class=4, duration_s=0.5, seed=5, name=DATASET)
    # A second plant: two of the model's three classes, under other names.
    relabelled_dataset(workspace, "plant-a", ("healthy", "imbalance"), ("ok", "unbal"), seed=21)
    # A third with a class the model never saw.
    relabelled_dataset(workspace, "plant-b", ("healthy", "oil_whirl"), ("healthy", "oil_whirl"), seed=22)
    yield workspace
    workspace.dispose()


@pytest.fixture(scope="module")
def trained(store: Store) -> int:
    from bearing_workbench.training.experiment import create_experiment, train_experiment

    experiment_id = create_experiment(store, preset_config("quick", "cnn1d", DATASET, RUN))
    assert train_experiment(store, experiment_id, device="cpu").status == "completed"
    return experiment_id


def _rows(store: Store, experiment_id: int) -> int:
    return len(store.list_evaluations(experiment_id))


def test_evaluation_on_a_second_dataset_with_a_classes_map(store: Store, trained: int) -> None:
    steps: list[tuple[float, str]] = []
    evaluation = evaluate_on(
        store,
        trained,
        "plant-a",
        classes_map="ok=healthy,unbal=imbalance",
        progress=lambda f, m: steps.append((f, m)),
    )
    record = store.get_evaluation(evaluation)
    assert record.status is EvaluationStatus.COMPLETED
    assert (record.kind, record.dataset, record.split) == ("dataset", "plant-a", None)
    assert record.dataset_id == store.get_dataset("plant-a").id
    assert record.classes_map == {"ok": "healthy", "unbal": "imbalance"}
    metrics = record.result["metrics"]
    assert metrics["class_names"] == ["healthy", "imbalance", "misalignment"]
    confusion = np.asarray(metrics["confusion_matrix"])
    # Rows are the true classes: 3 records of each renamed class, none of misalignment.
    assert confusion.sum(axis=1).tolist() == [3, 3, 0]
    assert metrics["accuracy"] == pytest.approx(np.trace(confusion) / 6)
    assert record.result["absent_classes"] == ["misalignment"]
    assert [s[0] for s in steps] == sorted(s[0] for s in steps) and steps[-1][0] == 1.0

    info = evaluation_infos(store, trained)[0]
    assert info.evaluation_id == evaluation and info.label == "plant-a all records"
    assert info.n_records == 6 and info.absent_classes == ("misalignment",)
    assert [row.support for row in info.per_class] == [3, 3, 0]


def test_evaluation_on_the_runs_own_test_split_matches_its_stored_metrics(store: Store, trained: int) -> None:
    metrics = json.loads(ExperimentFolder.of(trained, store.workspace).metrics.read_text())
    evaluation = evaluate_on(store, trained, DATASET, split="test")
    result = store.get_evaluation(evaluation).result
    assert result["n_records"] == metrics["n"]
    assert result["metrics"]["accuracy"] == pytest.approx(metrics["accuracy"])
    assert result["metrics"]["confusion_matrix"] == metrics["confusion_matrix"]


def test_classes_the_model_does_not_know_are_refused_and_nothing_is_stored(
    store: Store, trained: int
) -> None:
    before = _rows(store, trained)
    with pytest.raises(PredictionInputError) as caught:
        evaluate_on(store, trained, "plant-b")
    assert str(caught.value) == (
        f"plant-b has classes that experiment {trained} does not know: oil_whirl; the dataset's classes: "
        "healthy, oil_whirl; the model's: healthy, imbalance, misalignment "
        "(rename them with --classes-map DATASET_CLASS=MODEL_CLASS,...)"
    )
    with pytest.raises(PredictionInputError) as malformed:
        evaluate_on(store, trained, "plant-a", classes_map="ok:healthy")
    assert malformed.value.message("cli").startswith("--classes-map: expected DATASET_CLASS=MODEL_CLASS")
    with pytest.raises(PredictionInputError, match="no-such-set: no dataset of that name"):
        evaluate_on(store, trained, "no-such-set")
    assert _rows(store, trained) == before


def test_unknown_and_unfinished_experiments_are_refused(store: Store, trained: int) -> None:
    pending = store.create_experiment("never run", "cnn1d", store.get_experiment(trained).config)
    for experiment_id in (pending, 9999):
        with pytest.raises(StoredModelError, match=f"experiment {experiment_id}"):
            evaluate_on(store, experiment_id, "plant-a")
    assert _rows(store, pending) == 0


def test_a_failure_while_running_is_stored_with_its_error_and_hint(
    store: Store, trained: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = stored_model.load_stored_model

    def broken(*args, **kwargs):
        model = real(*args, **kwargs)

        def predict_records(records, *, progress=None):
            raise RuntimeError("the GPU fell off")

        monkeypatch.setattr(model, "predict_records", predict_records, raising=False)
        return model

    monkeypatch.setattr(stored_model, "load_stored_model", broken)
    with pytest.raises(EvaluationFailed, match="failed: RuntimeError: the GPU fell off") as caught:
        evaluate_on(store, trained, "plant-a", classes_map={"ok": "healthy", "unbal": "imbalance"})
    record = store.get_evaluation(caught.value.evaluation_id)
    assert record.status is EvaluationStatus.FAILED
    assert (record.error, record.result) == ("RuntimeError: the GPU fell off", None)
    assert record.hint == caught.value.hint and "bearing-workbench info" in record.hint


def test_the_robustness_sweep_on_the_runs_test_split(store: Store, trained: int) -> None:
    evaluation = robustness_sweep(store, trained, seed=3)
    record = store.get_evaluation(evaluation)
    assert (record.kind, record.dataset, record.split, record.status) == (
        "robustness",
        DATASET,
        "test",
        EvaluationStatus.COMPLETED,
    )
    conditions = record.result["conditions"]
    assert [(c["group"], c["name"]) for c in conditions] == [
        ("clean", "clean"),
        ("noise", "SNR 20 dB"),
        ("noise", "SNR 10 dB"),
        ("noise", "SNR 5 dB"),
        ("gain", "gain x0.5"),
        ("gain", "gain x2"),
        ("speed", "speed -10 %"),
        ("speed", "speed +10 %"),
    ]
    for condition in conditions:
        assert 0.0 <= condition["accuracy"] <= 1.0 and 0.0 <= condition["macro_f1"] <= 1.0
    # The clean condition is the run's own test evaluation.
    assert conditions[0]["accuracy"] == pytest.approx(store.get_experiment(trained).metrics["accuracy"])
    again = store.get_evaluation(robustness_sweep(store, trained, seed=3)).result["conditions"]
    assert again == conditions  # seeded

    info = evaluation_infos(store, trained)[0]
    assert info.label == f"robustness on {DATASET} test split"
    assert [c.name for c in info.conditions][:2] == ["clean", "SNR 20 dB"]
    assert info.accuracy == conditions[0]["accuracy"]


def test_deleting_the_experiment_deletes_its_evaluations(store: Store, trained: int, tmp_path: Path) -> None:
    from bearing_workbench.training.experiment import create_experiment, train_experiment

    other = create_experiment(store, preset_config("quick", "cnn1d", DATASET, RUN))
    train_experiment(store, other, device="cpu")
    evaluate_on(store, other, DATASET, split="test")
    assert _rows(store, other) == 1
    store.delete_experiment(other)
    assert _rows(store, other) == 0 and _rows(store, trained) > 0


def test_the_python_api_returns_the_stored_evaluation(store: Store, trained: int) -> None:
    import bearing_workbench

    info = bearing_workbench.evaluate(
        trained, "plant-a", classes_map={"ok": "healthy", "unbal": "imbalance"}, store=store
    )
    assert isinstance(info, bearing_workbench.EvaluationInfo)
    assert (info.status, info.label, info.n_records) == ("completed", "plant-a all records", 6)
    assert info == evaluation_infos(store, trained)[0]
    sweep = bearing_workbench.evaluate(trained, robustness=True, seed=3, store=store)
    assert (sweep.kind, sweep.split, len(sweep.conditions)) == ("robustness", "test", 8)
    with pytest.raises(ValueError, match="dataset: name the dataset to evaluate on"):
        bearing_workbench.evaluate(trained, store=store)


def test_a_sweep_on_a_named_dataset_reads_its_stored_split(store: Store, trained: int) -> None:
    # The run used the file's stored split, so the clean condition is its test accuracy here too.
    evaluation = robustness_sweep(store, trained, dataset=DATASET, split="test", seed=3)
    record = store.get_evaluation(evaluation)
    assert (record.dataset, record.dataset_id) == (DATASET, store.get_dataset(DATASET).id)
    own = store.get_evaluation(robustness_sweep(store, trained, seed=3))
    assert record.result["conditions"] == own.result["conditions"]
