"""The schema's history (Alembic): the migrations build exactly the models (and what a fresh store gets
from `create_all`), and stores written before Alembic are upgraded in place losing nothing
(`fixtures/store_v2.db`, written by that release)."""

from __future__ import annotations

import multiprocessing
import re
import shutil
import sqlite3
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from bearing_workbench.store import RunStatus, SchemaVersionError, Store, StoreError
from bearing_workbench.store.migrations import HEAD_REVISION, VERSION_TABLE, alembic_config
from bearing_workbench.store.schema import LEGACY_REVISIONS
from bearing_workbench.store.tables import LEGACY_SCHEMA_GUARD, Base

LEGACY_V2 = Path(__file__).parent / "fixtures" / "store_v2.db"


def _schema_diff(url: str) -> list[Any]:
    """What Alembic would change to make the database match the models (empty: they agree)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _schema_fingerprint(url: str) -> dict[str, Any]:
    """Everything the database says about its tables, as text: checks, autoincrement and defaults too,
    which Alembic's comparison does not look at (the version table left out)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                out = {}
                for name, sql in conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != :v"),
                    {"v": VERSION_TABLE},
                ):
                    # One entry per column or constraint; their order may differ, and so may the
                    # lines (ADD COLUMN appends its column to the line of the last one).
                    out[name] = sorted(_definitions(sql))
                return out
            schema = conn.scalar(text("SELECT current_schema()"))
            queries = {
                "columns": "SELECT table_name, column_name, data_type, character_maximum_length, "
                "is_nullable, column_default FROM information_schema.columns "
                "WHERE table_schema = current_schema()",
                "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace",
                "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema()",
            }
            return {
                key: sorted(
                    tuple(re.sub(rf'"?{schema}"?\.', "", str(v)) for v in row)
                    for row in conn.execute(text(sql))
                    if VERSION_TABLE not in str(row[0])
                )
                for key, sql in queries.items()
            }
    finally:
        engine.dispose()


def _definitions(sql: str) -> list[str]:
    """The statement's head and each comma-separated part of its outermost parentheses, whitespace
    normalised (``CREATE TABLE t (a INT, b INT)`` -> the head, ``a INT``, ``b INT``)."""
    start, end = sql.find("("), sql.rfind(")")
    if start < 0 or end < start:
        return [" ".join(sql.split())]
    parts, depth, current = [" ".join(sql[:start].split())], 0, []
    for char in sql[start + 1 : end]:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(" ".join("".join(current).split()))
            current = []
        else:
            current.append(char)
    parts.append(" ".join("".join(current).split()))
    return parts


def _stored(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _all_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    tables = [name for (name,) in _stored(db, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: _stored(db, f'SELECT * FROM "{name}" ORDER BY 1') for name in tables}


def _legacy_copy(tmp_path: Path, version: int = 2) -> tuple[Path, str]:
    """A copy of the release-before-Alembic store; version 1 is that file less what version 2 added."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    db = workspace / "workbench.db"
    shutil.copyfile(LEGACY_V2, db)
    if version == 1:
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            conn.executescript(
                "DROP TABLE filter_presets; DELETE FROM sqlite_sequence WHERE name = 'filter_presets';"
                "UPDATE schema_version SET version = 1;"
            )
        finally:
            conn.close()
    return db, f"sqlite:///{db}"


# -- the migrations and the models ------------------------------------------------------------------


def test_head_revision_is_the_one_head_of_the_migrations() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD_REVISION]
    assert set(LEGACY_REVISIONS.values()) <= {s.revision for s in script.walk_revisions()}


def test_migrations_build_exactly_the_models(db_url: str) -> None:
    command.upgrade(alembic_config(db_url), "head")
    assert _schema_diff(db_url) == []


def test_migrations_and_a_fresh_store_build_the_same_schema(
    db_url: str, new_database: Callable[[str], str], workspace: Path
) -> None:
    # A fresh store is built by create_all and stamped at head: it must be what the migrations build.
    command.upgrade(alembic_config(db_url), "head")
    fresh_url = new_database("fresh")
    Store(url=fresh_url, workspace=workspace).dispose()
    migrated, fresh = _schema_fingerprint(db_url), _schema_fingerprint(fresh_url)
    assert len(fresh) >= 3 and all(fresh.values())
    assert migrated == fresh


def test_the_comparison_sees_a_difference_when_there_is_one(store: Store, db_url: str) -> None:
    # Guards the test above against comparing nothing.
    with store.transaction() as session:
        session.execute(text("DROP INDEX ix_experiments_family"))
    assert [d[0] for d in _schema_diff(db_url)] == ["add_index"]


def test_every_revision_downgrades_and_upgrades_again(store: Store, db_url: str) -> None:
    store.dispose()
    config = alembic_config(db_url)
    command.downgrade(config, "0002")
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version FROM schema_version")) == 2  # as the previous release
    finally:
        engine.dispose()
    command.downgrade(config, "base")
    engine = create_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == [VERSION_TABLE]
    finally:
        engine.dispose()
    command.upgrade(config, "head")
    assert _schema_diff(db_url) == []


# -- stores written before Alembic ------------------------------------------------------------------


def test_the_legacy_fixture_is_what_that_release_wrote() -> None:
    assert _stored(LEGACY_V2, "SELECT version FROM schema_version") == [(2,)]
    assert not _stored(LEGACY_V2, f"SELECT name FROM sqlite_master WHERE name = '{VERSION_TABLE}'")


def test_a_version_two_store_is_upgraded_losing_nothing(tmp_path: Path) -> None:
    db, url = _legacy_copy(tmp_path)
    before = _all_rows(db)
    store = Store(url=url, workspace=db.parent)
    try:
        after = _all_rows(db)
        assert after.pop(VERSION_TABLE) == [(HEAD_REVISION,)]
        assert [row[:2] for row in after.pop("schema_version")] == [(1, LEGACY_SCHEMA_GUARD)]
        before.pop("schema_version")
        # 0004_run_heartbeats added heartbeat_at (none yet) and attempt (0) to the end of each run's row
        assert {row[-2:] for row in after["experiments"]} == {(None, 0)}
        after["experiments"] = [row[:-2] for row in after["experiments"]]
        assert after == before  # every table, every row, every value
        assert sum(map(len, after.values())) > 30

        dataset = store.get_dataset("sim-small")
        assert (dataset.id, dataset.class_names, dataset.fs, dataset.seed) == (
            1,
            ["normal", "wear", "oil whirl"],
            10_000.0,
            7,
        )
        assert dataset.extra == {"speeds_rpm": [1500, 3000], "noise": 0.05}
        runs = {r.name: r for r in store.list_experiments(limit=None)}
        assert {name: r.status for name, r in runs.items()} == {
            "baseline rf": RunStatus.COMPLETED,
            "cnn run": RunStatus.FAILED,
            "cnn run (clone)": RunStatus.PAUSED,
            "tune cnn #0": RunStatus.RUNNING,
            "waiting": RunStatus.PENDING,
            "stopped early": RunStatus.STOPPED,
        }
        rf, cnn, clone = runs["baseline rf"], runs["cnn run"], runs["cnn run (clone)"]
        assert rf.metrics == {"accuracy": 0.91, "f1_macro": 0.9, "per_class": {"normal": 1.0, "wear": 0.8}}
        assert (rf.tags, rf.notes, rf.worker) == (
            ["baseline", "rf"],
            "first try – Ölwirbel at 3000 rpm",
            "tcp://127.0.0.1:40001",
        )
        assert rf.config == {"model": {"family": "classical", "params": {"n_estimators": 50}}}
        assert isinstance(rf.finished_at, datetime) and rf.finished_at.tzinfo is not None
        assert rf.duration_s is not None and rf.duration_s >= 0
        assert (cnn.error, cnn.hint) == ("CUDA out of memory", "lower the batch size")
        assert (clone.parent_id, clone.tags) == (cnn.id, ["clone"])
        assert runs["tune cnn #0"].campaign_id == store.list_campaigns()[0].id
        assert store.count_experiments(search="ölwirbel") == 1  # the unicode-aware search still works

        epochs = store.epochs(cnn.id)
        assert [(e.epoch, e.train_loss, e.val_acc, e.extra) for e in epochs] == [
            (0, 1.0, 0.45, {"grad_norm": 0.3}),
            (1, 0.5, 0.55, {"grad_norm": 0.6}),
            (2, 1.0 / 3, 0.65, {"grad_norm": pytest.approx(0.9)}),
        ]
        events = store.events(cnn.id)
        assert [e.kind for e in events] == ["status", "checkpoint", "checkpoint", "checkpoint", "status"]
        assert events[2].payload == {"epoch": 1}
        assert store.get_explanation(rf.id, "shap", "record-3") == {"values": [0.1, -0.2, 0.05], "base": 0.33}
        campaign = store.list_campaigns()[0]
        assert (campaign.name, campaign.status, campaign.config) == (
            "tune cnn",
            "running",
            {"n_trials": 4, "metric": "val_acc"},
        )
        comparison = store.list_comparisons()[0]
        assert (comparison.experiment_ids, comparison.result) == (
            [rf.id, cnn.id],
            {"winner": rf.id, "delta_accuracy": 0.2},
        )
        preset = store.get_filter_preset("cnn runs")
        assert [r.name for r in store.list_experiments(**preset.filters.query())] == [
            "tune cnn #0",
            "cnn run (clone)",
            "cnn run",
        ]

        # Writable, and SQLite still never reuses the id of the experiment deleted before the upgrade.
        new = store.create_experiment("after upgrade", "cnn1d", {}, dataset_id=dataset.id, parent_id=rf.id)
        assert new == 8
        store.add_epoch(new, 0, train_loss=0.7)
        store.transition(new, "start")
        store.transition(clone.id, "resume")
        assert store.epochs(new)[0].train_loss == 0.7
        assert store.get_experiment(clone.id).status is RunStatus.RUNNING
        store.save_filter_preset("after upgrade", {"search": "after"})
    finally:
        store.dispose()
    assert _schema_diff(url) == []
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    Store(url=fresh_url, workspace=tmp_path).dispose()
    assert _schema_fingerprint(url) == _schema_fingerprint(fresh_url)


def test_a_version_one_store_gets_the_presets_table(tmp_path: Path) -> None:
    db, url = _legacy_copy(tmp_path, version=1)
    store = Store(url=url, workspace=db.parent)
    try:
        store.save_filter_preset("after upgrade", {"search": "waiting"})
        assert [
            r.name for r in store.list_experiments(**store.get_filter_preset("after upgrade").filters.query())
        ] == ["waiting"]
        assert store.count_experiments() == 6
    finally:
        store.dispose()
    assert _stored(db, f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD_REVISION,)]
    assert _stored(db, "SELECT version FROM schema_version") == [(LEGACY_SCHEMA_GUARD,)]
    assert _schema_diff(url) == []


def test_an_unknown_legacy_version_is_refused(tmp_path: Path) -> None:
    db, url = _legacy_copy(tmp_path)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("UPDATE schema_version SET version = 7")
    conn.close()
    with pytest.raises(SchemaVersionError, match="schema version 7, newer than this workbench"):
        Store(url=url, workspace=db.parent)
    assert _stored(db, "SELECT count(*) FROM experiments") == [(6,)]  # untouched


def test_workbench_tables_without_any_version_are_refused(tmp_path: Path) -> None:
    db, url = _legacy_copy(tmp_path)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TABLE schema_version")
    conn.close()
    with pytest.raises(StoreError, match=r"has workbench tables \(campaigns, .*\) but no schema version"):
        Store(url=url, workspace=db.parent)


def _open_legacy(url: str, workspace: str, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(timeout=120)
        store = Store(url=url, workspace=Path(workspace))
        try:
            results.put(("ok", store.count_experiments()))
        finally:
            store.dispose()
    except BaseException:
        results.put(("error", traceback.format_exc()))


def test_processes_opening_a_legacy_store_together_upgrade_it_once(tmp_path: Path) -> None:
    db, url = _legacy_copy(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    workers = [
        ctx.Process(target=_open_legacy, args=(url, str(db.parent), barrier, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == [("ok", 6)] * 4, outcomes
    assert _stored(db, f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD_REVISION,)]


# -- sharing the database with Optuna ---------------------------------------------------------------


@pytest.mark.parametrize("optuna_first", [False, True], ids=["store-first", "optuna-first"])
def test_optunas_own_alembic_history_does_not_clash(tmp_path: Path, optuna_first: bool) -> None:
    optuna = pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'workbench.db'}"

    def open_optuna() -> None:
        storage = optuna.storages.RDBStorage(url)
        optuna.create_study(storage=storage, study_name=f"s{len(optuna.get_all_study_names(storage))}")
        storage.engine.dispose()

    if optuna_first:
        open_optuna()
    store = Store(url=url, workspace=tmp_path)
    store.create_experiment("with optuna", "cnn1d", {})
    store.dispose()
    open_optuna()
    again = Store(url=url, workspace=tmp_path)
    try:
        assert again.count_experiments() == 1
    finally:
        again.dispose()
    assert _stored(tmp_path / "workbench.db", f"SELECT version_num FROM {VERSION_TABLE}") == [
        (HEAD_REVISION,)
    ]
    # A revision autogenerated on this database would be empty: Optuna's tables are not ours to drop.
    command.check(alembic_config(url))
