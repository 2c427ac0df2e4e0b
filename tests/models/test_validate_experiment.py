"""The validation boundary: `validate_experiment` checks a config completely, once, where it enters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bearing_workbench.config import ConfigError, preset_config
from bearing_workbench.data.dataset_file import write_dataset
from bearing_workbench.data.registration import register_dataset
from bearing_workbench.models.preset_fit import preset_adaptable, validate_preset
from bearing_workbench.models.validation import ValidatedExperiment, experiment_errors, validate_experiment
from bearing_workbench.store import Store, experiment_dir

from ..tiny_data import tiny_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Datasets 'tiny' (4 records per class, 0.5 s), 'other' (3) and 'pair' (2), registered."""
    root = tmp_path_factory.mktemp("boundary-ws")
    workspace_store = tiny_store(root, per_class=4, duration_s=0.5, seed=3)
    tiny_store(root, per_class=3, duration_s=0.5, seed=4, name="other").dispose()
    pair = write_dataset(  # no stored split: the run would draw one, and it cannot
        root / "datasets" / "pair.h5",
        np.random.default_rng(0).standard_normal((6, 1024)).astype(np.float32),
        np.array([0, 0, 1, 1, 2, 2]),
        fs=2048.0,
        class_names=("a", "b", "c"),
    )
    register_dataset(workspace_store, pair, name="pair")
    yield workspace_store
    workspace_store.dispose()


def _fields(exc: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [error.field for error in exc.value.errors]


def test_a_valid_config_comes_back_typed_with_its_dataset_looked_up(store: Store) -> None:
    fits = {"data.window": None, "training.batch_size": 4}
    checked = validate_experiment(preset_config("quick", "cnn1d", "tiny", fits), store)
    assert isinstance(checked, ValidatedExperiment)
    assert checked.dataset.dataset_id == store.get_dataset("tiny").id
    assert checked.dataset.path.is_file() and checked.dataset.info.n_records == 12
    assert type(checked.params).__name__ == "CNN1DParams"
    assert checked.config.model.params == checked.params.model_dump(mode="json")  # every default filled
    assert checked.facts.records == {"train": 6, "val": 3, "test": 3}
    assert checked.notes == ()


@pytest.mark.parametrize("dataset", ["nope", "/no/such/file.h5"])
def test_a_missing_dataset_is_refused_naming_the_field(store: Store, dataset: str) -> None:
    with pytest.raises(ConfigError) as exc:
        validate_experiment(preset_config("quick", "classical", dataset), store)
    assert _fields(exc) == ["data.dataset"]
    assert dataset in str(exc.value)


def test_a_folder_given_as_dataset_is_named_a_folder(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a folder, not a dataset file"):
        validate_experiment(preset_config("quick", "classical", str(tmp_path)), store)


def test_a_split_the_dataset_cannot_give_is_refused_at_the_boundary(store: Store) -> None:
    config = preset_config("quick", "classical", "tiny", {"data.window": None, "model.params.cv_folds": 2})
    config["data"]["split"] = {"train": 50.0, "val": 25.0, "test": 25.0}
    assert validate_experiment(config, store).facts.records == {"train": 6, "val": 3, "test": 3}
    config["data"]["dataset"] = "pair"  # 2 records per class cannot fill three splits
    with pytest.raises(ConfigError, match="too few records") as exc:
        validate_experiment(config, store)
    assert _fields(exc) == ["data.split"]


def test_schema_and_dataset_problems_are_reported_together(store: Store) -> None:
    config = preset_config("quick", "cnn1d", "nope", {"training.epochs": 0, "model.params.filters": -1})
    with pytest.raises(ConfigError) as exc:
        validate_experiment(config, store)
    assert {"data.dataset", "training.epochs", "model.params.filters"} <= set(_fields(exc))
    assert experiment_errors(config, store) == exc.value.errors


def _completed(store: Store, name: str, dataset: str, family: str = "classical", **split: float) -> int:
    config = preset_config("quick", family, dataset, {"data.window": None, "model.params.cv_folds": 2})
    if split:
        config["data"]["split"] = split
    experiment_id = store.create_experiment(name, family, config, dataset_id=store.get_dataset(dataset).id)
    store.transition(experiment_id, "start")
    store.transition(experiment_id, "complete")
    folder = experiment_dir(experiment_id, store.workspace, create=True)
    for which in ("val", "test"):
        (folder / f"predictions_{which}.csv").write_text("record_id\n", encoding="utf-8")
    return experiment_id


def test_ensemble_members_are_checked_inside_the_boundary(store: Store) -> None:
    a = _completed(store, "a", "tiny")
    b = _completed(store, "b", "tiny")
    on_other = _completed(store, "c", "other")
    split_otherwise = _completed(store, "d", "tiny", train=50.0, val=25.0, test=25.0)
    ensemble = _completed(store, "e", "tiny", family="ensemble")
    running = store.create_experiment("r", "classical", preset_config("quick", "classical", "tiny"))

    def members(*ids: int) -> dict:
        chosen = {"data.window": None, "model.params.members": list(ids)}
        return preset_config("quick", "ensemble", "tiny", chosen)

    checked = validate_experiment(members(a, b), store)
    assert checked.params.members == [a, b]
    for bad, says in [
        (9999, "does not exist"),
        (running, "only completed experiments"),
        (ensemble, "is itself an ensemble"),
        (on_other, "another dataset"),
        (split_otherwise, "share the ensemble's split"),
    ]:
        with pytest.raises(ConfigError, match=says) as exc:
            validate_experiment(members(a, bad), store)
        assert _fields(exc) == ["model.params.members"]


def test_a_preset_fits_its_derived_values_to_a_small_dataset_and_says_so(store: Store) -> None:
    """Defect 5: quick's cv_folds (3) on 4 records per class (2 training records each) was refused."""
    with pytest.raises(ConfigError, match="cv_folds"):
        validate_experiment(preset_config("quick", "classical", "tiny"), store)
    checked = validate_preset("quick", "classical", "tiny", store=store)
    assert checked.config.model.params["cv_folds"] == 2
    assert checked.config.data.window is None  # 1 s windows do not fit 0.5 s records
    folds = "model.params.cv_folds: the preset's 3 changed to 2"
    assert any(note.startswith(folds) for note in checked.notes)
    assert any(note.startswith("data.window:") for note in checked.notes)

    neural = validate_preset("quick", "cnn1d", "tiny", store=store)
    assert neural.config.training.batch_size == 4  # 6 training records: 32 does not fit
    assert any(note.startswith("training.batch_size: the preset's 32 changed to 4") for note in neural.notes)


def test_a_value_the_user_set_is_never_fitted(store: Store) -> None:
    assert preset_adaptable(["model.params.cv_folds", "training"]) == frozenset({"data.window"})
    with pytest.raises(ConfigError) as exc:
        validate_preset("quick", "classical", "tiny", {"model.params.cv_folds": 3}, store=store)
    assert _fields(exc) == ["model.params.cv_folds"]
