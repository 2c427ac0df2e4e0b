"""What the history page needs from the store: filter presets, bulk delete, zip export, list CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bearing_workbench.store import (
    BUILTIN_PRESETS,
    DuplicateNameError,
    HistoryFilters,
    InUseError,
    NotFoundError,
    Store,
    experiment_dir,
)
from bearing_workbench.store.exports import EXPORT_FILES
from bearing_workbench.store.filters import ORDER_COLUMNS
from bearing_workbench.store.repositories import database as database_module
from bearing_workbench.store.repositories import experiments as experiments_module


def _finished(store: Store, name: str, family: str = "cnn1d", accuracy: float | None = None, **kw) -> int:
    experiment = store.create_experiment(name, family, {"model": {"family": family}}, **kw)
    store.transition(experiment, "start")
    if accuracy is None:
        store.transition(experiment, "fail", error="boom")
    else:
        store.set_metrics(experiment, {"accuracy": accuracy, "macro_f1": accuracy - 0.01})
        store.transition(experiment, "complete")
    return experiment


def _with_files(
    store: Store, experiment: int, names: tuple[str, ...] = ("config.yaml", "metrics.json")
) -> Path:
    folder = experiment_dir(experiment, store.workspace, create=True)
    for name in names:
        (folder / name).write_text(f"{name} of {experiment}\n")
    return folder


# -- filter presets -------------------------------------------------------------------------------


def test_builtin_presets_filter_and_sort_as_named(store: Store) -> None:
    low = _finished(store, "low", accuracy=0.7)
    failed = _finished(store, "broken")
    high = _finished(store, "high", accuracy=0.9)
    store.create_experiment("waiting", "cnn1d", {})
    presets = store.list_filter_presets()
    assert [p.name for p in presets[:2]] == ["failed runs", "top performers"]
    assert all(p.builtin and p.id is None for p in presets[:2])
    failed_runs = store.get_filter_preset("failed runs").filters
    assert [r.id for r in store.list_experiments(**failed_runs.query())] == [failed]
    assert store.count_experiments(**failed_runs.where()) == 1
    top = store.get_filter_preset("top performers").filters
    assert [r.id for r in store.list_experiments(**top.query())] == [high, low]


def test_custom_preset_saves_reads_back_and_replaces(store: Store) -> None:
    after = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    filters = {
        "search": "  resnet ",
        "families": ["resnet1d", "cnn1d", "resnet1d"],
        "statuses": ["completed", "failed"],
        "created_after": after.isoformat(),
        "created_before": (after + timedelta(days=3)).replace(tzinfo=None).isoformat(),
        "campaign_id": 4,
        "order_by": "metrics.macro_f1",
        "descending": False,
    }
    preset_id = store.save_filter_preset("my runs", filters)
    saved = store.get_filter_preset("my runs")
    assert (saved.id, saved.builtin) == (preset_id, False)
    assert saved.filters == HistoryFilters(
        search="resnet",
        families=("resnet1d", "cnn1d"),
        statuses=("completed", "failed"),
        created_after=after,
        created_before=after + timedelta(days=3),  # naive input is UTC
        campaign_id=4,
        order_by="metrics.macro_f1",
        descending=False,
    )
    with pytest.raises(
        DuplicateNameError, match=rf"filter preset named 'my runs' already exists \(id {preset_id}\)"
    ):
        store.save_filter_preset("my runs", {})
    assert store.save_filter_preset("my runs", HistoryFilters(search="x"), replace=True) == preset_id
    assert store.get_filter_preset("my runs").filters == HistoryFilters(search="x")
    assert [p.name for p in store.list_filter_presets()] == [*BUILTIN_PRESETS, "my runs"]
    store.delete_filter_preset("my runs")
    with pytest.raises(NotFoundError, match="filter preset 'my runs' not found"):
        store.get_filter_preset("my runs")
    with pytest.raises(NotFoundError):
        store.delete_filter_preset("my runs")


def test_preset_names_and_filters_are_validated(store: Store) -> None:
    with pytest.raises(ValueError, match="built-in preset"):
        store.save_filter_preset("Failed Runs", {})
    with pytest.raises(ValueError, match="cannot be deleted"):
        store.delete_filter_preset("top performers")
    with pytest.raises(ValueError, match="non-empty string"):
        store.save_filter_preset("  ", {})
    with pytest.raises(ValueError, match=r"statuses\.0: .*'pending'"):
        store.save_filter_preset("bad", {"statuses": ["exploded"]})
    with pytest.raises(ValueError, match="order_by must be one of"):
        store.save_filter_preset("bad", {"order_by": "metrics.accuracy; drop table experiments"})
    with pytest.raises(ValueError, match="colour: Extra inputs are not permitted"):
        store.save_filter_preset("bad", {"colour": "red"})
    with pytest.raises(ValueError, match="created_before .* must be later than created_after"):
        store.save_filter_preset("bad", {"created_after": "2026-02-01", "created_before": "2026-01-01"})
    with pytest.raises(ValueError, match="campaign_id"):
        store.save_filter_preset("bad", {"campaign_id": 0})
    assert [p.name for p in store.list_filter_presets()] == list(BUILTIN_PRESETS)


def test_a_stored_preset_that_no_longer_validates_is_named(store: Store, caplog) -> None:
    store.save_filter_preset("old", {"search": "x"})
    with store.transaction() as session:
        session.execute(text('UPDATE filter_presets SET filters = \'{"order_by": "colour"}\''))
    with pytest.raises(ValueError, match="filter preset 'old': order_by: .*order_by must be one of"):
        store.get_filter_preset("old")
    assert [p.name for p in store.list_filter_presets()] == list(BUILTIN_PRESETS)
    assert "skipping a saved filter preset" in caplog.text


def test_order_columns_are_the_ones_the_store_sorts_by(sqlite_store: Store) -> None:
    for column in ORDER_COLUMNS:
        sqlite_store.list_experiments(order_by=column)
    assert set(ORDER_COLUMNS) == set(experiments_module._ORDER_COLUMNS)


# -- bulk delete ----------------------------------------------------------------------------------


def test_delete_experiments_removes_rows_files_and_epochs_together(store: Store) -> None:
    a = _finished(store, "a", accuracy=0.8)
    b = _finished(store, "b")
    keep = _finished(store, "keep", accuracy=0.9)
    clone = store.create_experiment("clone of a", "cnn1d", {}, parent_id=a)
    store.add_epoch(a, 1, train_loss=1.0)
    folders = [_with_files(store, i) for i in (a, b, keep)]
    assert store.delete_experiments([a, b, a]) == [a, b]
    assert [r.id for r in store.list_experiments()] == [clone, keep]
    assert not folders[0].exists() and not folders[1].exists() and folders[2].exists()
    assert store.get_experiment(clone).parent_id is None
    assert not any((store.workspace / ".trash").iterdir())
    assert store.delete_experiments([]) == []


def test_delete_experiments_refuses_all_when_one_is_running_or_missing(store: Store) -> None:
    done = _finished(store, "done", accuracy=0.8)
    running = store.create_experiment("running", "cnn1d", {})
    store.transition(running, "start")
    folder = _with_files(store, done)
    with pytest.raises(InUseError, match=rf"{running} \(running\) still running.*nothing was deleted"):
        store.delete_experiments([done, running])
    with pytest.raises(NotFoundError, match=r"experiments \[98, 99\] not found"):
        store.delete_experiments([done, 98, 99])
    with pytest.raises(ValueError, match="experiment id: must be an integer id, got '../../etc/passwd'"):
        store.delete_experiments([done, "../../etc/passwd"])
    assert store.count_experiments() == 2 and (folder / "config.yaml").is_file()


def test_delete_experiments_puts_folders_back_when_a_move_fails(store: Store, monkeypatch) -> None:
    a, b = _finished(store, "a", accuracy=0.5), _finished(store, "b", accuracy=0.6)
    folders = [_with_files(store, a), _with_files(store, b)]
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError("disk trouble")
        return real_replace(src, dst)

    monkeypatch.setattr(database_module.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="disk trouble"):
        store.delete_experiments([a, b])
    monkeypatch.undo()
    assert len(calls) == 3  # a moved aside, b failed, a moved back
    assert all((f / "metrics.json").is_file() for f in folders)
    assert store.count_experiments() == 2


# -- export ---------------------------------------------------------------------------------------


def test_export_zips_rows_epochs_and_result_files(store: Store) -> None:
    a = _finished(store, "a", accuracy=0.8)
    b = _finished(store, "=HYPERLINK(evil)")
    store.add_epoch(a, 1, train_loss=0.5, val_acc=0.7, physics_loss=0.1)
    _with_files(store, a, ("config.yaml", "metrics.json", "predictions_test.csv", "best.pt"))
    path = store.export_experiments([a, b], filename="pair.zip")
    assert path == store.workspace / "exports" / "pair.zip"
    assert [p.name for p in path.parent.iterdir()] == ["pair.zip"]  # no temp file left
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {f"{a}/config.yaml", f"{a}/metrics.json", f"{a}/predictions_test.csv"} <= names
        assert f"{a}/best.pt" not in names  # checkpoints are not part of an export
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["experiments"] == [a, b]
        assert "history.json" in manifest["missing"][str(a)] and manifest["missing"][str(b)] == list(
            EXPORT_FILES
        )
        row = json.loads(archive.read(f"{a}/experiment.json"))
        assert (row["name"], row["status"], row["metrics"]["accuracy"]) == ("a", "completed", 0.8)
        epochs = json.loads(archive.read(f"{a}/epochs.json"))
        assert [(e["epoch"], e["train_loss"], e["extra"]) for e in epochs] == [
            (1, 0.5, {"physics_loss": 0.1})
        ]
        assert archive.read(f"{a}/config.yaml") == f"config.yaml of {a}\n".encode()
        table = list(csv.DictReader(io.StringIO(archive.read("experiments.csv").decode())))
        assert [r["id"] for r in table] == [str(a), str(b)]
        assert table[1]["name"] == "'=HYPERLINK(evil)"
        assert table[0]["metrics.accuracy"] == "0.8"


def test_export_default_name_is_under_the_workspace(store: Store) -> None:
    a = _finished(store, "a", accuracy=0.8)
    path = store.export_experiments([a])
    assert path.parent == store.workspace / "exports"
    assert path.name.startswith(f"experiments-{a}-") and path.suffix == ".zip"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filename": "../../etc/passwd.zip"}, "escapes the folder"),
        ({"filename": "/etc/passwd.zip"}, "must be relative"),
        ({"filename": "../../etc/passwd"}, "must end in .zip"),
        ({"files": ["../../etc/passwd"]}, "escapes the folder"),
        ({"files": ["/etc/passwd"]}, "must be relative"),
        ({"files": "config.yaml"}, "not one string"),
    ],
)
def test_export_refuses_crafted_names(sqlite_store: Store, kwargs: dict, message: str) -> None:
    a = _finished(sqlite_store, "a", accuracy=0.8)
    _with_files(sqlite_store, a)
    with pytest.raises((ValueError, TypeError), match=message):
        sqlite_store.export_experiments([a], **kwargs)
    exports = sqlite_store.workspace / "exports"
    assert not exports.exists() or not any(exports.iterdir())


def test_export_refuses_crafted_ids_and_links_out_of_the_folder(sqlite_store: Store, tmp_path: Path) -> None:
    a = _finished(sqlite_store, "a", accuracy=0.8)
    folder = _with_files(sqlite_store, a)
    with pytest.raises(ValueError, match="experiment id: must be an integer id, got '../../etc/passwd'"):
        sqlite_store.export_experiments(["../../etc/passwd"])
    with pytest.raises(NotFoundError, match="experiment 77 not found"):
        sqlite_store.export_experiments([a, 77])
    with pytest.raises(ValueError, match="at least one"):
        sqlite_store.export_experiments([])
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (folder / "metrics.json").unlink()
    (folder / "metrics.json").symlink_to(secret)
    with pytest.raises(ValueError, match="escapes the folder"):
        sqlite_store.export_experiments([a])
    exports = sqlite_store.workspace / "exports"
    assert not exports.exists() or not any(exports.iterdir())


# -- list CSV -------------------------------------------------------------------------------------


def test_experiments_csv_has_the_chosen_columns_of_the_filtered_list(store: Store) -> None:
    low = _finished(store, "low", accuracy=0.7)
    high = _finished(store, "high", "resnet1d", accuracy=0.9)
    _finished(store, "broken")
    store.set_tags(high, ["best", "+1"])
    store.set_notes(low, "-2 dB noise")
    text_out = store.experiments_csv(
        {"statuses": ["completed"], "order_by": "metrics.accuracy"},
        ["id", "name", "family", "metrics.accuracy", "tags", "notes"],
    )
    rows = list(csv.reader(io.StringIO(text_out)))
    assert rows == [
        ["id", "name", "family", "metrics.accuracy", "tags", "notes"],
        [str(high), "high", "resnet1d", "0.9", "best; +1", ""],
        [str(low), "low", "cnn1d", "0.7", "", "'-2 dB noise"],
    ]
    everything = list(csv.DictReader(io.StringIO(store.experiments_csv())))
    assert len(everything) == 3 and everything[0]["name"] == "broken"
    with pytest.raises(ValueError, match="unknown column.*'colour'"):
        store.experiments_csv(None, ["id", "colour"])
