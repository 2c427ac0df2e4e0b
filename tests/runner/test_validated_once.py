"""One validation per boundary: a config submitted from Python, from `train`, from `submit` or from the
wizard's Launch is validated exactly once (`validate_experiment`, counted by a spy) and its dataset
looked up once; recording, launching and training do not check it again.

No cluster here: the task hand-off (`runner.launch._submit_task`) is recorded instead, and the run
the worker would do is done in this process (`train_experiment`, what `runner.task` calls), so the
spy sees the worker's side too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bearing_workbench import cli
from bearing_workbench.config import preset_config
from bearing_workbench.data import lookup
from bearing_workbench.models import validation
from bearing_workbench.runner import launch
from bearing_workbench.store import RunStatus, Store
from bearing_workbench.training.experiment import train_experiment

from ..tiny_data import tiny_store

# classical on whole 1 s records: trains in seconds
SMALL = {"model.params.n_estimators": 10}


class Counts:
    """How often the boundary validated and looked a dataset up, and which runs were handed to Dask."""

    def __init__(self) -> None:
        self.validations = 0
        self.checks = 0  # runs of the checking engine behind every validation function
        self.lookups = 0
        self.submitted: list[int] = []


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """'tiny': 3 classes x 5 records of 1 s (the quick preset fits it as it is)."""
    root = tmp_path_factory.mktemp("once-ws")
    tiny_store(root, per_class=5, duration_s=1.0, seed=6).dispose()
    yield root


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> Counts:
    found = Counts()
    validate, resolve, engine = validation.validate_experiment, lookup.resolve_dataset, validation._validate

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        found.validations += 1
        return validate(*args, **kwargs)

    def counting_engine(*args: Any, **kwargs: Any) -> Any:
        found.checks += 1
        return engine(*args, **kwargs)

    def counting_resolve(*args: Any, **kwargs: Any) -> Any:
        found.lookups += 1
        return resolve(*args, **kwargs)

    monkeypatch.setattr(validation, "validate_experiment", counting_validate)
    monkeypatch.setattr(validation, "_validate", counting_engine)
    monkeypatch.setattr(validation, "resolve_dataset", counting_resolve)
    monkeypatch.setattr(lookup, "resolve_dataset", counting_resolve)
    monkeypatch.setattr(
        launch,
        "_submit_task",
        lambda client, store, experiment_id, *rest: found.submitted.append(experiment_id),
    )
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(workspace))
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)
    return found


@pytest.fixture
def store(workspace: Path) -> Iterator[Store]:
    workspace_store = Store(workspace=workspace)
    yield workspace_store
    workspace_store.dispose()


def _run_as_the_worker(store: Store, experiment_id: int) -> None:
    outcome = train_experiment(store, experiment_id)
    assert outcome.status == "completed"


def test_python_submit_validates_once_and_the_run_never_again(counts: Counts, store: Store) -> None:
    config = preset_config("quick", "classical", "tiny", SMALL)
    experiment_id = launch.submit(config, client=object(), store=store)
    assert counts.submitted == [experiment_id]
    assert (counts.validations, counts.checks, counts.lookups) == (1, 1, 1)
    _run_as_the_worker(store, experiment_id)
    assert (counts.validations, counts.checks, counts.lookups) == (1, 1, 1)


def test_a_validated_experiment_is_submitted_as_it_is(counts: Counts, store: Store) -> None:
    checked = validation.validate_experiment(preset_config("quick", "classical", "tiny", SMALL), store)
    experiment_id = launch.submit(checked, client=object(), store=store)
    assert counts.validations == 1 and counts.submitted == [experiment_id]
    assert store.get_experiment(experiment_id).dataset_id == store.get_dataset("tiny").id


def test_cli_train_validates_once(counts: Counts, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(store.list_experiments(limit=None))
    assert (
        cli.main(
            [
                "train",
                "--model",
                "classical",
                "--dataset",
                "tiny",
                "--json",
                "--set",
                "model.params.n_estimators=10",
            ]
        )
        == 0
    )
    assert (counts.validations, counts.checks, counts.lookups) == (1, 1, 1)
    assert len(store.list_experiments(limit=None)) == before + 1
    assert '"status": "completed"' in capsys.readouterr().out


def test_cli_submit_validates_once(counts: Counts, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import bearing_workbench.runner as runner

    monkeypatch.setattr(runner, "connect", lambda address=None, **kwargs: object(), raising=False)
    args = ["submit", "--model", "classical", "--dataset", "tiny", "--scheduler", "tcp://127.0.0.1:9"]
    assert cli.main([*args, "--set", "model.params.n_estimators=10"]) == 0
    assert (counts.validations, counts.checks, counts.lookups) == (1, 1, 1)
    assert len(counts.submitted) == 1
    assert store.get_experiment(counts.submitted[0]).status is RunStatus.PENDING


def test_wizard_launch_validates_once(counts: Counts, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from bearing_workbench.panels.wizard import ConfigWizard

    monkeypatch.setattr(ConfigWizard, "_open_monitor", lambda self, experiment_id: None)
    panel = ConfigWizard(store=store, client=object())
    try:
        panel.family_cards["classical"][0].click()
        panel.next_button.click()
        panel.dataset = "tiny"
        panel.select_preset("quick")
        assert panel.valid, panel.errors
        panel.next_button.click()
        panel.next_button.click()
        assert panel.step == 4
        counts.validations = counts.checks = counts.lookups = 0  # the form's live checks are not the boundary
        panel.launch_button.click()
        assert panel.experiment_id is not None and counts.submitted == [panel.experiment_id]
        assert (counts.validations, counts.checks) == (1, 1)
    finally:
        panel.close()
