"""NotificationArea driven in Python: run-end events and launches become toasts, one area per kernel, one
notifier; the monitor toasts a run it saw end, the wizard a launch; ensemble members preselected."""

from __future__ import annotations

import json
import time
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.models.predictions import make_predictions, predictions_csv
from bearing_workbench.panels import toast_area
from bearing_workbench.panels.monitor import TrainingMonitor
from bearing_workbench.panels.toast_area import (
    DISMISS_AFTER_S,
    MAX_TOASTS,
    NotificationArea,
    notification_area,
)
from bearing_workbench.panels.wizard import ConfigWizard
from bearing_workbench.runner.launch import submit
from bearing_workbench.runner.run_end_hooks import notify, registered_notifiers, run_end_event
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder

from ..tiny_data import tiny_store
from .conftest import wait_for, wait_status
from .test_wizard import CLASSES, to_expert_cnn, wizard_store  # noqa: F401 (a fixture)

NO_SCHEDULER = types.SimpleNamespace(status="closed")  # a client that is gone: the monitor polls the store


def _close_current() -> None:
    if toast_area._area is not None:
        toast_area._area.close()


@pytest.fixture
def area(fresh_store: Store) -> Iterator[NotificationArea]:
    """A new shared area of its own (the one of an earlier test closed), reading `fresh_store`."""
    _close_current()
    made = notification_area(fresh_store)
    yield made
    _close_current()


def toasts_of(area: NotificationArea, experiment_id: int, kind: str | None = None) -> list[dict]:
    return [t for t in area.toasts if t["experiment_id"] == experiment_id and kind in (None, t["kind"])]


def hand_completed(store: Store, name: str, family: str, accuracy: float) -> int:
    """A completed experiment written by hand: its store row, its metrics and the validation and test
    predictions an ensemble member needs; trained on the store's first dataset, where it has one."""
    datasets = store.list_datasets()
    data = {"dataset": datasets[0].name} if datasets else {}
    experiment_id = store.create_experiment(
        name,
        family,
        {"data": data, "training": {"epochs": 1}},
        dataset_id=datasets[0].id if datasets else None,
    )
    store.transition(experiment_id, "start")
    store.set_metrics(experiment_id, {"accuracy": accuracy, "macro_f1": accuracy})
    store.transition(experiment_id, "complete")
    folder = ExperimentFolder.of(experiment_id, store.workspace).create()
    folder.metrics.write_text(json.dumps({"accuracy": accuracy, "macro_f1": accuracy}))
    predictions = make_predictions(["r1", "r2"], [0, 1], np.array([[0.8, 0.2], [0.3, 0.7]]), ["a", "b"])
    for path in (folder.predictions_val, folder.predictions_test):
        path.write_text(predictions_csv(predictions))
    return experiment_id


# -- the area ---------------------------------------------------------------------------------------


def test_one_area_per_kernel_and_one_notifier(area: NotificationArea, fresh_store: Store) -> None:
    assert notification_area() is area and notification_area(fresh_store) is area
    assert registered_notifiers().count(toast_area._deliver) == 1
    area.close()
    again = notification_area(fresh_store)
    assert again is not area and again.comm is not None  # a closed area is replaced
    assert registered_notifiers().count(toast_area._deliver) == 1
    # a run end heard from the cluster (what deliver_run_ends calls) reaches the current area
    notify(run_end_event(41, "completed", name="heard", metrics={"accuracy": 0.5}))
    wait_for(lambda: toasts_of(again, 41), "the toast of the notified run end")
    assert toasts_of(again, 41)[0]["title"] == "#41 heard completed" and area.toasts == []


def test_run_end_events_become_toasts(area: NotificationArea) -> None:
    [done] = area.run_end(run_end_event(5, "completed", name="run", metrics={"accuracy": 0.976}))
    assert done["kind"] == "completed" and "test accuracy 97.6 %" in done["text"]
    assert done["link"] == "results.ipynb?experiment=5" and not done["sticky"] and done["browser"]
    [failed] = area.run_end(run_end_event(6, "failed", error="CUDA out of memory", hint="halve the batch"))
    assert failed["sticky"] and failed["text"] == "CUDA out of memory. Hint: halve the batch"
    assert [t["id"] for t in area.toasts] == [done["id"], failed["id"]]
    assert area.run_end({"experiment_id": 7, "status": "running"}) == []  # not an end

    # the same end heard twice (the cluster and a monitor): one toast, until the run starts again
    assert area.run_end(run_end_event(5, "completed", metrics={"accuracy": 0.976})) == []
    started = area.started(5, "run", "resumed")
    assert started["kind"] == "started" and not started["browser"] and not started["sticky"]
    assert len(area.run_end(run_end_event(5, "completed", metrics={"accuracy": 0.98}))) == 1


def test_direct_toasts_close_and_expire(area: NotificationArea) -> None:
    made = area.toast("warning", "Disk almost full", "2 GiB left", "history.ipynb")
    assert made["link"] == "history.ipynb" and made["link_text"] == "Open the results"
    with pytest.raises(ValueError, match="kind must be one of"):
        area.toast("oops", "t", "x")
    # what the browser sends when a close button is clicked or a toast's time is up
    area._on_browser_message(area, {"type": "dismiss", "id": made["id"]}, [])
    assert area.toasts == []
    kept = area.toast("failed", "t", "x")
    area._on_browser_message(area, {"type": "expired", "id": kept["id"] + 100}, [])
    area._on_browser_message(area, "not a mapping", [])
    assert area.dismiss(kept["id"] + 100) is False and [t["id"] for t in area.toasts] == [kept["id"]]
    # old toasts that no browser removed go when the next one comes; failures stay until closed
    old = {**area.toast("completed", "old", "x"), "time": time.time() - DISMISS_AFTER_S - 10}
    area.toasts = [*area.toasts[:-1], old]
    area.toast("started", "new", "x")
    assert [t["title"] for t in area.toasts] == ["t", "new"]
    for number in range(MAX_TOASTS + 5):
        area.toast("completed", f"n{number}", "x")
    assert len(area.toasts) == MAX_TOASTS and area.toasts[-1]["title"] == f"n{MAX_TOASTS + 4}"
    area.clear()
    assert area.toasts == []


def test_a_run_below_the_best_classical_model_adds_a_warning(
    area: NotificationArea, fresh_store: Store
) -> None:
    forest = hand_completed(fresh_store, "forest", "classical", 0.95)
    weak = hand_completed(fresh_store, "weak", "cnn1d", 0.80)
    event = run_end_event(weak, "completed", name="weak", metrics={"accuracy": 0.80})
    area.run_end_later(event).join()  # how notifier events are handled: off the Dask event loop
    kinds = [t["kind"] for t in toasts_of(area, weak)]
    assert kinds == ["completed", "warning"]
    warning = toasts_of(area, weak, "warning")[0]
    assert f"(#{forest} forest)" in warning["text"] and warning["browser"] and not warning["sticky"]
    assert warning["link"] == f"results.ipynb?experiment={weak}"


def test_the_page_is_asked_for_browser_notifications(area: NotificationArea) -> None:
    assert not area.ask_permission and area.permission == ""
    area.ask_for_permission()
    assert area.ask_permission
    esm, css = str(area._esm), str(area._css)
    for needed in (
        "__bwNotifications",
        "visibilityState",
        "requestPermission",
        "localStorage",
        "dataset.kind",
    ):
        assert needed in esm, needed
    assert ".bw-toast" in css and "position: fixed" in css


# -- the monitor ------------------------------------------------------------------------------------


def hand_running(store: Store, name: str = "watched") -> int:
    experiment_id = store.create_experiment(name, "cnn1d", {"training": {"epochs": 3}})
    store.transition(experiment_id, "start")
    return experiment_id


def status_message(experiment_id: int, event_id: int, to: str) -> dict:
    return {
        "experiment_id": experiment_id,
        "kind": "event",
        "status": to,
        "time": time.time(),
        "message": f"running -> {to}",
        "source": "live",
        "event_id": event_id,
        "event_kind": "status",
        "payload": {"to": to},
    }


class Heard:
    """Records the run-end events the area is given (from the cluster's notifier and from monitors)."""

    def __init__(self, area: NotificationArea, monkeypatch: pytest.MonkeyPatch):
        self.events: list[dict] = []
        real = area.run_end

        def spy(event, store=None):
            try:
                return real(event, store)
            finally:  # counted once handled: its toasts, if any, are in
                self.events.append(dict(event))

        monkeypatch.setattr(area, "run_end", spy)

    def count(self, experiment_id: int) -> int:
        return sum(1 for e in self.events if e.get("experiment_id") == experiment_id)


class Spy:
    """Records the events a monitor hands to the area's `run_end_later`."""

    def __init__(self, area: NotificationArea, monkeypatch: pytest.MonkeyPatch):
        self.events: list[dict] = []
        real = area.run_end_later

        def spy(event, store=None):
            self.events.append(dict(event))
            return real(event, store)

        monkeypatch.setattr(area, "run_end_later", spy)


def test_the_monitor_shows_the_area_and_toasts_an_end_it_sees(
    area: NotificationArea, fresh_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(area, monkeypatch)
    experiment_id = hand_running(fresh_store)
    monitor = TrainingMonitor(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    try:
        assert monitor.children[0] is area and monitor.notifications is area
        monitor.flush()
        assert spy.events == []
        fresh_store.transition(experiment_id, "fail", error="worker lost", hint="resubmit it")
        monitor.handle(status_message(experiment_id, 900, "failed"))
        wait_for(lambda: toasts_of(area, experiment_id), "the monitor's toast")
        [toast] = toasts_of(area, experiment_id)
        assert toast["kind"] == "failed" and toast["text"] == "worker lost. Hint: resubmit it"
        assert toast["title"] == f"#{experiment_id} watched failed" and toast["sticky"]
        # the same final status again (a sweep of the store) is no new end
        monitor.handle(status_message(experiment_id, 901, "failed"))
        monitor.flush()
        assert len(spy.events) == 1
    finally:
        monitor.close()
    assert area.comm is not None  # closing a monitor leaves the shared area to the other panels


def test_no_toast_for_a_run_that_had_ended_when_the_monitor_opened(
    area: NotificationArea, fresh_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(area, monkeypatch)
    experiment_id = hand_completed(fresh_store, "old run", "cnn1d", 0.9)
    monitor = TrainingMonitor(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    try:
        monitor.handle(status_message(experiment_id, 900, "completed"))
        monitor.flush()
        assert monitor.status == "completed" and spy.events == [] and toasts_of(area, experiment_id) == []
    finally:
        monitor.close()


def test_a_real_failed_run_toasts_its_error_and_hint(client, store, monkeypatch: pytest.MonkeyPatch) -> None:
    _close_current()
    area = notification_area(store)
    heard = Heard(area, monkeypatch)
    try:
        # resnet1d from the weights of an experiment that has none: fails when the model is built
        no_weights = store.create_experiment("no weights", "resnet1d", {"training": {"epochs": 1}})
        values = {"data.window": None, "training.epochs": 2, "training.batch_size": 1,
                  "model.params.init_from_experiment": no_weights}  # fmt: skip
        experiment_id = submit(preset_config("quick", "resnet1d", "tiny", values), client=client, store=store)
        monitor = TrainingMonitor(experiment_id, store=store, client=client)
        try:
            assert wait_status(store, experiment_id) == "failed"
            # The cluster's notifier always hears the end; the monitor too unless the run had already
            # failed when it opened (then it replays the end and says nothing): one toast either way.
            wait_for(lambda: heard.count(experiment_id) >= 1, "the end from the cluster")
            monitor.flush()
            record = store.get_experiment(experiment_id)
            [toast] = wait_for(lambda: toasts_of(area, experiment_id), "the run's toast")
            assert record.error in toast["text"] and "no best checkpoint" in toast["text"]
            assert toast["text"].endswith(f"Hint: {record.hint}") and toast["sticky"]
            assert toast["link"] == f"monitor.ipynb?experiment={experiment_id}"
        finally:
            monitor.close()
    finally:
        _close_current()


# -- the wizard -------------------------------------------------------------------------------------


def test_launch_toasts_the_start_and_asks_for_browser_notifications(
    client,
    wizard_store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _close_current()
    heard = Heard(notification_area(wizard_store), monkeypatch)
    panel = ConfigWizard(store=wizard_store, client=client)
    try:
        # a kit page: the kernel's notification area is at its top from the start, asking nothing yet
        assert panel.notifications is notification_area() and not panel.notifications.ask_permission
        assert [c for c in panel.children if isinstance(c, NotificationArea)] == [panel.notifications]
        to_expert_cnn(panel)
        panel.next_button.click()
        panel.next_button.click()
        panel.launch_button.click()
        experiment_id = panel.experiment_id
        area = notification_area()
        assert panel.notifications is area and area in panel.children and area.ask_permission
        assert panel.monitor.children[0] is area  # the monitor it opened shows the same area
        [started] = toasts_of(area, experiment_id)
        assert started["kind"] == "started" and started["title"] == f"#{experiment_id} {panel.name} started"
        assert started["link"] == f"monitor.ipynb?experiment={experiment_id}"
        assert wait_status(wizard_store, experiment_id) == "completed"
        wait_for(lambda: heard.count(experiment_id) == 2, "the end from the cluster and the monitor")
        record = wizard_store.get_experiment(experiment_id)
        [done] = toasts_of(area, experiment_id, "completed")  # heard from the cluster and seen by the monitor
        assert f"test accuracy {100 * record.metrics['accuracy']:.1f} %" in done["text"]
        assert done["link"] == f"results.ipynb?experiment={experiment_id}"
    finally:
        panel.close()
        _close_current()


@pytest.fixture(scope="module")
def members_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A tiny registered dataset and experiments to combine: two completed, one running, one ensemble."""
    root: Path = tmp_path_factory.mktemp("members-ws")
    made = tiny_store(root, per_class=3, duration_s=0.5, seed=5)
    yield made
    made.dispose()


def test_the_wizard_preselects_ensemble_members(members_store: Store) -> None:
    cnn = hand_completed(members_store, "cnn", "cnn1d", 0.9)
    forest = hand_completed(members_store, "forest", "classical", 0.95)
    panel = ConfigWizard(store=members_store, members=[cnn, forest])
    try:
        assert panel.family == "ensemble" and panel.mode == "expert" and panel.step == 1
        panel.go_next()
        field = panel.model_form().inputs["model.params.members"]
        assert field.widget.value == (cnn, forest)
        assert panel.current_config()["model"]["params"]["members"] == [cnn, forest]
        assert (
            "model.params.members" not in panel.errors and panel.field_message("model.params.members") == ""
        )
        panel.select_preset("standard")  # another preset keeps the members
        panel.mode = "preset"
        panel.mode = "expert"
        assert panel.current_config()["model"]["params"]["members"] == [cnn, forest]
    finally:
        panel.close()


def test_preselected_members_that_cannot_be_combined_get_the_field_message(members_store: Store) -> None:
    good = hand_completed(members_store, "good", "cnn1d", 0.9)
    running = hand_running(members_store, "still running")
    ensemble = hand_completed(members_store, "an ensemble", "ensemble", 0.97)
    panel = ConfigWizard(store=members_store, family="ensemble", members=[good, running, 99999, ensemble])
    try:
        panel.go_next()
        message = panel.field_message("model.params.members")
        assert f"experiment {running} ('still running') is running; only completed experiments" in message
        assert "experiment 99999 does not exist in this workspace" in message
        assert f"experiment {ensemble} ('an ensemble') is itself an ensemble" in message
        assert f"experiment {good}" not in message and panel.next_button.disabled
        labels = [label for label, _ in panel.model_form().inputs["model.params.members"].widget.options]
        assert f"#{running} still running (cnn1d, running)" in labels and "#99999 (not found)" in labels
        # choosing completed members clears it
        panel.model_form().inputs["model.params.members"].widget.value = (good,)
        assert "choose 2 to 7" in panel.field_message("model.params.members")
        assert "does not exist" not in panel.field_message("model.params.members")
    finally:
        panel.close()


def test_bad_members_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="members: only the ensemble family combines members, not 'cnn1d'"):
        ConfigWizard(family="cnn1d", members=[1, 2])
    with pytest.raises(ValueError, match=r"members: expected experiment ids \(integers\), got '2'"):
        ConfigWizard(members=[1, "2"])
    with pytest.raises(ValueError, match="members: expected a list of experiment ids"):
        ConfigWizard(members="1,2")
