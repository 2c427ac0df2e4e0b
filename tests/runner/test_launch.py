"""submit: validation first, events in order, completion with every epoch row, many at once."""

from __future__ import annotations

import threading

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.config.messages import ConfigError
from bearing_workbench.runner.following import follow
from bearing_workbench.runner.launch import PRIORITIES, submit, task_states

from .conftest import DATASET, epoch_numbers, status_path, tiny_config, wait_for, wait_status


def _train_keys(client) -> set[str]:
    def keys(dask_scheduler):
        return {str(k) for k in dask_scheduler.tasks if str(k).startswith("train-")}

    return client.run_on_scheduler(keys)


def test_submit_streams_events_in_order_and_completes(client, store):
    messages: list[dict] = []
    done = threading.Event()

    def on_event(message: dict) -> None:
        messages.append(message)
        if message.get("kind") == "event" and message.get("event_kind") == "completed":
            done.set()

    experiment_id = submit(tiny_config(epochs=3), client=client, store=store)
    with follow(experiment_id, on_event, client=client, store=store) as follower:
        assert follower.mode == "live"
        assert done.wait(90), [m.get("message") for m in messages]
    assert wait_status(store, experiment_id) == "completed"
    epochs = [m["epoch"] for m in messages if m["kind"] == "epoch"]
    assert epochs == [1, 2, 3]
    assert status_path(store, experiment_id) == ["running", "completed"]
    assert epoch_numbers(store, experiment_id) == [1, 2, 3]
    last = [m for m in messages if m["kind"] == "epoch"][-1]
    assert last["progress"] == pytest.approx(1.0)
    assert last["total_epochs"] == 3 and last["eta_s"] == pytest.approx(0.0)
    assert last["best_epoch"] in (1, 2, 3) and 0.0 <= last["best_val_acc"] <= 1.0
    ids = [m["event_id"] for m in messages if m["kind"] == "event"]
    assert ids == sorted(set(ids))
    record = store.get_experiment(experiment_id)
    assert record.started_at and record.finished_at and record.duration_s > 0
    assert record.worker and record.worker.startswith("tcp://")


def test_bad_config_is_refused_before_anything_is_submitted(client, store):
    before = store.count_experiments()
    keys = _train_keys(client)
    with pytest.raises(ConfigError) as err:
        submit(tiny_config(**{"training.batch_size": 3}), client=client, store=store)
    assert "training.batch_size" in str(err.value)
    with pytest.raises(ConfigError):
        submit(tiny_config(**{"model.params.filters": -4}), client=client, store=store)
    assert store.count_experiments() == before
    assert _train_keys(client) == keys
    with pytest.raises(ValueError, match="priority"):
        submit(tiny_config(), client=client, store=store, priority="urgent")
    assert store.count_experiments() == before
    assert PRIORITIES == {"high": 10, "normal": 0, "low": -10}


def test_an_ensemble_of_missing_or_unfinished_members_is_refused(client, store):
    pending = store.create_experiment("not finished", "cnn1d", {"training": {"epochs": 1}})
    config = preset_config(
        "quick", "ensemble", DATASET, {"data.window": None, "model.params.members": [999_999, pending]}
    )
    before = store.count_experiments()
    keys = _train_keys(client)
    with pytest.raises(ConfigError) as err:
        submit(config, client=client, store=store)
    assert err.value.by_field().keys() == {"model.params.members"}
    assert "experiment 999999 does not exist" in str(err.value) and f"experiment {pending}" in str(err.value)
    assert store.count_experiments() == before and _train_keys(client) == keys


def test_ten_concurrent_trainings_all_complete(client, store):
    ids = [
        submit(tiny_config(epochs=2, name=f"many-{i}"), client=client, store=store, priority="low")
        for i in range(10)
    ]
    for experiment_id in ids:
        assert wait_status(store, experiment_id) == "completed", store.get_experiment(experiment_id).error
        assert epoch_numbers(store, experiment_id) == [1, 2]
    # fire-and-forget tasks are forgotten by the scheduler once they end
    wait_for(lambda: all(s is None for s in task_states(client, ids).values()), "tasks to be released")
