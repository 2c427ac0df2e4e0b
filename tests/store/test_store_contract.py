"""What every store backend must do (SQLite always; PostgreSQL through the `postgres_url` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bearing_workbench.store import (
    DuplicateNameError,
    InUseError,
    InvalidTransition,
    NotFoundError,
    RunStatus,
    SchemaVersionError,
    Store,
    experiment_dir,
)
from bearing_workbench.store.migrations import HEAD_REVISION, VERSION_TABLE
from bearing_workbench.store.tables import (
    LEGACY_SCHEMA_GUARD,
    EpochRow,
    EventRow,
    ExperimentRow,
    SchemaVersionRow,
)


def _dataset(store: Store, name: str = "sim-a", path: str = "sim-a.h5") -> int:
    return store.add_dataset(
        name,
        path,
        n_records=40,
        n_classes=3,
        class_names=["normal", "wear", "whirl"],
        fs=10_000.0,
        n_samples=2048,
    )


def _count(store: Store, row_type: type) -> int:
    with store.transaction() as session:
        return session.scalar(select(func.count()).select_from(row_type)) or 0


# -- schema ---------------------------------------------------------------------------------------


def test_schema_is_at_the_head_revision_and_reopens(store: Store, db_url: str, workspace: Path) -> None:
    with store.transaction() as session:
        assert session.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")).all() == [HEAD_REVISION]
        # Releases before Alembic accept at most 2 here: they refuse this database rather than write to it.
        assert session.scalar(select(SchemaVersionRow.version)) == LEGACY_SCHEMA_GUARD == 3
    experiment = store.create_experiment("a", "cnn1d", {})
    again = Store(url=db_url, workspace=workspace)
    try:
        assert again.get_experiment(experiment).name == "a"
    finally:
        again.dispose()


def test_newer_schema_is_refused(store: Store, db_url: str, workspace: Path) -> None:
    with store.transaction() as session:  # as a newer release would leave it
        session.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f00d_from_the_future'"))
    with pytest.raises(
        SchemaVersionError,
        match=r"schema revision 'f00d_from_the_future', newer than this workbench understands .*upgrade",
    ):
        Store(url=db_url, workspace=workspace)


# -- transactions ---------------------------------------------------------------------------------


def test_exception_inside_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as session:
        row = ExperimentRow(name="half", family="cnn1d", config={}, tags=[], notes="")
        session.add(row)
        session.flush()
        session.add(EpochRow(experiment_id=row.id, epoch=0, train_loss=1.0, extra={}))
        session.add(EventRow(experiment_id=row.id, kind="note", message="x"))
        session.flush()
        raise RuntimeError("boom")
    assert store.count_experiments() == 0
    assert _count(store, EpochRow) == 0
    assert _count(store, EventRow) == 0


def test_transaction_commits_several_writes_together(store: Store) -> None:
    with store.transaction() as session:
        row = ExperimentRow(name="multi", family="cnn1d", config={"k": 1}, tags=[], notes="")
        session.add(row)
        session.flush()
        session.add(EventRow(experiment_id=row.id, kind="note", message="created"))
    assert store.get_experiment(row.id).config == {"k": 1}
    assert [e.message for e in store.events(row.id)] == ["created"]


def test_duplicate_dataset_name_fails_cleanly(store: Store) -> None:
    first = _dataset(store)
    before = store.list_datasets()
    with pytest.raises(DuplicateNameError, match=rf"a dataset named 'sim-a' already exists \(id {first}\)"):
        _dataset(store, path="other.h5")
    assert store.list_datasets() == before
    assert store.get_dataset("sim-a").path == "sim-a.h5"


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.transaction() as session:
        session.add(EpochRow(experiment_id=999, epoch=0, extra={}))
    assert _count(store, EpochRow) == 0
    with pytest.raises(NotFoundError, match="dataset 999 not found"):
        store.create_experiment("x", "cnn1d", {}, dataset_id=999)
    with pytest.raises(NotFoundError, match="parent experiment 5 not found"):
        store.create_experiment("x", "cnn1d", {}, parent_id=5)
    assert store.count_experiments() == 0


# -- datasets -------------------------------------------------------------------------------------


def test_dataset_roundtrip_and_validation(store: Store) -> None:
    dataset = store.add_dataset(
        "imp",
        Path("/data/x.csv"),
        n_records=5,
        n_classes=2,
        class_names=["a", "b"],
        fs=2000,
        n_samples=100,
        source="imported",
        seed=np.int64(7),
        extra={"rpm": np.float32(1500.0)},
    )
    record = store.get_dataset(dataset)
    assert record == store.get_dataset("imp")
    assert (record.path, record.source, record.seed, record.extra) == (
        "/data/x.csv",
        "imported",
        7,
        {"rpm": 1500.0},
    )
    assert record.class_names == ["a", "b"] and record.fs == 2000.0
    assert record.created_at.tzinfo is not None
    with pytest.raises(ValueError, match="class_names has 1 names but n_classes is 2"):
        store.add_dataset("bad", "p", n_records=1, n_classes=2, class_names=["a"], fs=1.0, n_samples=1)
    with pytest.raises(ValueError, match="source must be one of generated, imported"):
        store.add_dataset(
            "bad", "p", n_records=1, n_classes=1, class_names=["a"], fs=1.0, n_samples=1, source="web"
        )
    with pytest.raises(ValueError, match=r"fs: must be a positive number \(the sampling rate in Hz\), got 0"):
        store.add_dataset("bad", "p", n_records=1, n_classes=1, class_names=["a"], fs=0, n_samples=1)
    with pytest.raises(NotFoundError, match="dataset 'nope' not found"):
        store.get_dataset("nope")
    assert [d.name for d in store.list_datasets()] == ["imp"]


def test_dataset_in_use_cannot_be_deleted(store: Store) -> None:
    dataset = _dataset(store)
    experiment = store.create_experiment("e", "cnn1d", {}, dataset_id=dataset)
    with pytest.raises(InUseError, match="used by 1 experiment"):
        store.delete_dataset(dataset)
    store.delete_experiment(experiment)
    store.delete_dataset(dataset)
    assert store.list_datasets() == []


def test_delete_dataset_files_only_inside_the_datasets_folder(
    store: Store, workspace: Path, tmp_path: Path
) -> None:
    inside = workspace / "datasets" / "sim.h5"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"data")
    outside = tmp_path / "user.csv"
    outside.write_text("1,2")
    kept = store.add_dataset("user", outside, n_records=1, n_classes=1, class_names=["a"], fs=1, n_samples=2)
    gone = store.add_dataset("sim", inside, n_records=1, n_classes=1, class_names=["a"], fs=1, n_samples=2)
    with pytest.raises(ValueError, match="deleted only inside"):
        store.delete_dataset(kept, delete_files=True)
    assert outside.exists() and store.get_dataset(kept).name == "user"
    store.delete_dataset(gone, delete_files=True)
    assert not inside.exists()
    assert [d.name for d in store.list_datasets()] == ["user"]
    store.delete_dataset(kept)  # without delete_files the user's file stays
    assert outside.exists()


# -- experiments ----------------------------------------------------------------------------------


def test_create_and_get_experiment(store: Store) -> None:
    dataset = _dataset(store)
    campaign = store.create_campaign("sweep", "study-1", {"sampler": "tpe"})
    parent = store.create_experiment("base", "resnet1d", {"depth": 18}, dataset_id=dataset)
    child = store.create_experiment(
        "clone",
        "resnet1d",
        {"depth": np.int64(34), "lrs": np.array([0.1, 0.01]), "bad": float("nan")},
        dataset_id=dataset,
        parent_id=parent,
        campaign_id=campaign,
        tags=["a", " b ", "a"],
    )
    record = store.get_experiment(child)
    assert record.status is RunStatus.PENDING
    assert record.config == {"depth": 34, "lrs": [0.1, 0.01], "bad": None}
    assert (record.parent_id, record.campaign_id, record.dataset_id) == (parent, campaign, dataset)
    assert record.tags == ["a", "b"]
    assert record.started_at is None and record.finished_at is None and record.duration_s is None
    with pytest.raises(TypeError, match=r"experiment config\['obj'\]: object cannot be stored as JSON"):
        store.create_experiment("x", "cnn1d", {"obj": object()})
    with pytest.raises(ValueError, match="name: must be a non-empty string, got ' '"):
        store.create_experiment(" ", "cnn1d", {})


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_experiment(42),
        lambda s: s.transition(42, "start"),
        lambda s: s.add_epoch(42, 0, train_loss=1.0),
        lambda s: s.epochs(42),
        lambda s: s.add_event(42, "note", "x"),
        lambda s: s.events(42),
        lambda s: s.set_metrics(42, {}),
        lambda s: s.set_tags(42, []),
        lambda s: s.set_notes(42, ""),
        lambda s: s.delete_experiment(42),
    ],
)
def test_unknown_experiment_is_not_found(store: Store, call) -> None:  # noqa: ANN001
    with pytest.raises(NotFoundError, match="experiment 42 not found") as info:
        call(store)
    assert isinstance(info.value, LookupError)
    assert (info.value.kind, info.value.key) == ("experiment", 42)


def test_transitions_keep_timings_and_events(store: Store) -> None:
    experiment = store.create_experiment("t", "cnn1d", {})
    started = store.transition(experiment, "start", worker="tcp://w1")
    assert started.status is RunStatus.RUNNING and started.worker == "tcp://w1"
    assert started.started_at is not None and started.running_since == started.started_at
    paused = store.transition(experiment, "pause")
    assert paused.status is RunStatus.PAUSED and paused.running_since is None
    assert paused.duration_s is not None and paused.duration_s >= 0
    first_stretch = paused.duration_s
    resumed = store.transition(experiment, "resume")
    assert resumed.started_at == started.started_at and resumed.running_since is not None
    failed = store.transition(experiment, "fail", error="CUDA out of memory", hint="lower the batch size")
    assert failed.status is RunStatus.FAILED and failed.finished_at is not None
    assert (failed.error, failed.hint) == ("CUDA out of memory", "lower the batch size")
    assert failed.duration_s >= first_stretch
    with pytest.raises(InvalidTransition, match="cannot pause an experiment that is failed"):
        store.transition(experiment, "pause")
    assert store.get_experiment(experiment).status is RunStatus.FAILED
    retried = store.transition(experiment, "retry")
    assert retried.status is RunStatus.PENDING
    assert (retried.error, retried.hint, retried.finished_at) == (None, None, None)
    assert retried.started_at == started.started_at
    store.transition(experiment, "start")
    done = store.transition(experiment, "complete")
    assert done.status is RunStatus.COMPLETED and done.duration_s >= failed.duration_s
    kinds = [(e.kind, e.payload["action"]) for e in store.events(experiment)]
    assert kinds == [
        ("status", "start"),
        ("status", "pause"),
        ("status", "resume"),
        ("status", "fail"),
        ("status", "retry"),
        ("status", "start"),
        ("status", "complete"),
    ]


def test_cancel_a_pending_experiment(store: Store) -> None:
    experiment = store.create_experiment("t", "cnn1d", {})
    cancelled = store.transition(experiment, "cancel")
    assert cancelled.status is RunStatus.STOPPED and cancelled.duration_s is None
    assert cancelled.finished_at is not None


def test_metrics_tags_notes(store: Store) -> None:
    experiment = store.create_experiment("m", "classical", {})
    store.set_metrics(
        experiment, {"accuracy": np.float64(0.93), "per_class": {0: 0.9, 1: 1.0}, "auc": float("inf")}
    )
    store.set_tags(experiment, ["baseline", "rf", "baseline"])
    store.set_notes(experiment, "first try")
    record = store.get_experiment(experiment)
    assert record.metrics == {"accuracy": 0.93, "per_class": {"0": 0.9, "1": 1.0}, "auc": None}
    assert record.tags == ["baseline", "rf"] and record.notes == "first try"
    with pytest.raises(TypeError, match="tags: must be a list of strings, not one string"):
        store.set_tags(experiment, "baseline")
    with pytest.raises(ValueError, match="tag: must be a non-empty string"):
        store.set_tags(experiment, ["ok", ""])
    assert store.get_experiment(experiment).tags == ["baseline", "rf"]


# -- epochs and events ----------------------------------------------------------------------------


def test_add_epoch_is_idempotent(store: Store) -> None:
    experiment = store.create_experiment("e", "pinn", {})
    store.add_epoch(experiment, 1, train_loss=0.9, val_acc=0.5, physics_loss=0.3)
    store.add_epoch(experiment, 0, train_loss=np.float32(1.5), lr=1e-3, seconds=2.0)
    store.add_epoch(experiment, 1, train_loss=0.7, val_acc=0.6, physics_loss=0.2)  # a retried worker
    epochs = store.epochs(experiment)
    assert [e.epoch for e in epochs] == [0, 1]
    assert (epochs[0].train_loss, epochs[0].lr, epochs[0].seconds) == (1.5, 1e-3, 2.0)
    assert (epochs[1].train_loss, epochs[1].val_acc, epochs[1].extra) == (0.7, 0.6, {"physics_loss": 0.2})
    assert _count(store, EpochRow) == 2
    store.add_epoch(experiment, 2, train_loss=float("nan"), grad_norm=float("inf"))
    last = store.epochs(experiment)[-1]
    assert last.train_loss is None and last.extra == {"grad_norm": None}
    with pytest.raises(TypeError, match="epoch metric 'val_loss' must be a number"):
        store.add_epoch(experiment, 3, val_loss="low")
    with pytest.raises(ValueError, match="epoch: must be a non-negative integer, got -1"):
        store.add_epoch(experiment, -1)
    assert len(store.epochs(experiment)) == 3


def test_events_latest_and_after(store: Store) -> None:
    experiment = store.create_experiment("e", "cnn1d", {})
    ids = [store.add_event(experiment, "progress", f"step {i}", {"i": i}) for i in range(5)]
    assert ids == sorted(ids)
    assert [e.message for e in store.events(experiment)] == [f"step {i}" for i in range(5)]
    assert [e.payload["i"] for e in store.events(experiment, limit=2)] == [3, 4]
    assert [e.id for e in store.events(experiment, after_id=ids[2])] == ids[3:]
    with pytest.raises(ValueError, match="kind: must be a non-empty string"):
        store.add_event(experiment, "", "x")


# -- listing --------------------------------------------------------------------------------------


@pytest.fixture
def many(store: Store) -> dict[str, list[int]]:
    """30 experiments: 3 families, every third completed, some tagged or noted."""
    ids: dict[str, list[int]] = {"all": [], "cnn1d": [], "completed": []}
    campaign = store.create_campaign("c", "s")
    with store.transaction() as session:
        base = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(30):
            family = ("cnn1d", "resnet1d", "classical")[i % 3]
            row = ExperimentRow(
                name=f"run-{i:02d}",
                family=family,
                config={"i": i},
                status=RunStatus.COMPLETED if i % 3 == 0 else RunStatus.PENDING,
                metrics={"accuracy": i / 100} if i % 5 else None,
                created_at=base + timedelta(hours=i),
                tags=["Lagerschäden"] if i == 7 else ["x"],
                notes="100% sure" if i == 11 else "",
                campaign_id=campaign if i < 4 else None,
            )
            session.add(row)
            session.flush()
            ids["all"].append(row.id)
            if family == "cnn1d":
                ids["cnn1d"].append(row.id)
            if i % 3 == 0:
                ids["completed"].append(row.id)
    ids["campaign"] = [campaign]
    return ids


def test_paging_covers_every_row_once(store: Store, many: dict[str, list[int]]) -> None:
    assert store.count_experiments() == 30
    pages = [store.list_experiments(limit=7, offset=o) for o in range(0, 35, 7)]
    seen = [r.id for page in pages for r in page]
    assert seen == list(reversed(many["all"]))  # newest first
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    ascending = store.list_experiments(order_by="name", descending=False, limit=None)
    assert [r.name for r in ascending] == sorted(r.name for r in ascending)


def test_filters_and_count_agree(store: Store, many: dict[str, list[int]]) -> None:
    cnn = store.list_experiments(family="cnn1d", limit=None)
    assert (
        sorted(r.id for r in cnn) == sorted(many["cnn1d"]) and store.count_experiments(family="cnn1d") == 10
    )
    done = store.list_experiments(status="completed", limit=None)
    assert {r.id for r in done} == set(many["completed"])
    assert store.count_experiments(status=[RunStatus.COMPLETED, "pending"]) == 30
    assert store.count_experiments(status="completed", family="cnn1d") == 10  # i % 3 == 0 are both
    assert store.count_experiments(family=["resnet1d", "classical"]) == 20
    assert store.count_experiments(campaign_id=many["campaign"][0]) == 4
    after = datetime(2026, 1, 1, 10)  # naive: UTC
    before = datetime(2026, 1, 1, 20, tzinfo=UTC)
    window = store.list_experiments(created_after=after, created_before=before, limit=None)
    assert [r.name for r in window] == [f"run-{i:02d}" for i in range(19, 9, -1)]
    assert store.count_experiments(created_after=after, created_before=before) == 10
    with pytest.raises(ValueError, match="status 'done' is not one of"):
        store.list_experiments(status="done")


def test_search_name_notes_tags(store: Store, many: dict[str, list[int]]) -> None:
    assert [r.name for r in store.list_experiments(search="RUN-0")] == [f"run-0{i}" for i in range(9, -1, -1)]
    assert [r.name for r in store.list_experiments(search="LAGERSCHÄDEN")] == ["run-07"]
    assert [r.name for r in store.list_experiments(search="100%")] == ["run-11"]
    assert store.count_experiments(search="%") == 1  # a literal percent sign, not a wildcard
    assert store.count_experiments(search="nothing like this") == 0


def test_order_by_metric_puts_missing_last(store: Store, many: dict[str, list[int]]) -> None:
    best = store.list_experiments(order_by="metrics.accuracy", limit=None)
    values = [r.metrics["accuracy"] if r.metrics else None for r in best]
    assert values[:24] == sorted((v for v in values if v is not None), reverse=True)
    assert values[24:] == [None] * 6
    worst = store.list_experiments(order_by="metrics.accuracy", descending=False, limit=3)
    assert [r.metrics["accuracy"] for r in worst] == [0.01, 0.02, 0.03]
    with pytest.raises(ValueError, match="order_by must be one of"):
        store.list_experiments(order_by="config; drop table experiments")
    with pytest.raises(ValueError, match="limit: must be a positive integer, got 0"):
        store.list_experiments(limit=0)


# -- deletion -------------------------------------------------------------------------------------


def _experiment_with_artifacts(store: Store, workspace: Path) -> tuple[int, Path]:
    experiment = store.create_experiment("doomed", "cnn1d", {})
    store.add_epoch(experiment, 0, train_loss=1.0)
    store.add_event(experiment, "note", "hello")
    store.put_explanation(experiment, "shap", "sample-3", {"values": [0.1, 0.2]})
    folder = experiment_dir(experiment, workspace, create=True)
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.pt").write_bytes(b"weights")
    (folder / "config.yaml").write_text("family: cnn1d\n")
    return experiment, folder


def test_delete_experiment_removes_rows_and_folder(store: Store, workspace: Path) -> None:
    keep = store.create_experiment("keep", "cnn1d", {})
    store.add_epoch(keep, 0, train_loss=1.0)
    experiment, folder = _experiment_with_artifacts(store, workspace)
    clone = store.create_experiment("clone", "cnn1d", {}, parent_id=experiment)
    store.delete_experiment(experiment)
    assert not folder.exists()
    with pytest.raises(NotFoundError):
        store.get_experiment(experiment)
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(EpochRow)) == 1  # only keep's
        assert (
            session.scalar(
                select(func.count()).select_from(EventRow).where(EventRow.experiment_id == experiment)
            )
            == 0
        )
    assert store.get_explanation(experiment, "shap", "sample-3") is None
    assert store.get_experiment(clone).parent_id is None
    assert not any((workspace / ".trash").iterdir())
    newer = store.create_experiment("after", "cnn1d", {})
    assert newer > clone  # ids of deleted experiments are never handed out again


def test_delete_of_a_running_experiment_is_refused(store: Store, workspace: Path) -> None:
    experiment, folder = _experiment_with_artifacts(store, workspace)
    store.transition(experiment, "start")
    with pytest.raises(InUseError, match="is running; stop it"):
        store.delete_experiment(experiment)
    assert folder.is_dir() and store.get_experiment(experiment).status is RunStatus.RUNNING


def _refuse_deletes(store: Store) -> None:
    """Install a trigger that makes the database refuse to delete experiments (a real DB failure)."""
    with store.transaction() as session:
        if store.dialect == "sqlite":
            session.execute(
                text(
                    "CREATE TRIGGER refuse_delete BEFORE DELETE ON experiments "
                    "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE FUNCTION refuse_delete() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'simulated failure'; END $$ LANGUAGE plpgsql"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER refuse_delete BEFORE DELETE ON experiments "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_delete()"
                )
            )


def test_failed_delete_leaves_folder_and_rows(store: Store, workspace: Path) -> None:
    experiment, folder = _experiment_with_artifacts(store, workspace)
    _refuse_deletes(store)
    with pytest.raises(DBAPIError, match="simulated failure"):
        store.delete_experiment(experiment)
    assert (folder / "checkpoints" / "last.pt").read_bytes() == b"weights"
    assert (folder / "config.yaml").is_file()
    assert store.get_experiment(experiment).name == "doomed"
    assert len(store.epochs(experiment)) == 1 and len(store.events(experiment)) == 1
    assert not any((workspace / ".trash").iterdir())


def test_delete_without_a_folder(store: Store, workspace: Path) -> None:
    experiment = store.create_experiment("bare", "cnn1d", {})
    store.delete_experiment(experiment)
    assert store.count_experiments() == 0


# -- caches, campaigns, comparisons ---------------------------------------------------------------


def test_explanation_cache_upserts(store: Store) -> None:
    experiment = store.create_experiment("x", "cnn1d", {})
    assert store.get_explanation(experiment, "ig", "k") is None
    store.put_explanation(experiment, "ig", "k", {"v": 1})
    store.put_explanation(experiment, "ig", "k", {"v": 2})
    store.put_explanation(experiment, "gradcam", "k", {"v": 3})
    assert store.get_explanation(experiment, "ig", "k") == {"v": 2}
    assert store.get_explanation(experiment, "gradcam", "k") == {"v": 3}


def test_campaigns_and_comparisons(store: Store) -> None:
    campaign = store.create_campaign("sweep", "study-7", {"n_trials": 20})
    store.set_campaign_status(campaign, "running")
    record = store.get_campaign(campaign)
    assert (record.name, record.study_name, record.config, record.status) == (
        "sweep",
        "study-7",
        {"n_trials": 20},
        "running",
    )
    with pytest.raises(ValueError, match="status 'busy' is not one of"):
        store.set_campaign_status(campaign, "busy")
    a = store.create_experiment("a", "cnn1d", {}, campaign_id=campaign)
    b = store.create_experiment("b", "cnn1d", {})
    saved = store.save_comparison("a vs b", [a, b], {"mcnemar_p": 0.03})
    assert store.get_comparison(saved).experiment_ids == [a, b]
    assert [c.id for c in store.list_comparisons()] == [saved]
    with pytest.raises(NotFoundError, match="experiment 999 not found"):
        store.save_comparison("bad", [a, 999])
    store.delete_comparison(saved)
    assert store.list_comparisons() == []
    assert [c.id for c in store.list_campaigns()] == [campaign]
