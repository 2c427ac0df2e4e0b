"""SQLite specifics: pragmas on every connection, write-lock behaviour, refused URLs."""

from __future__ import annotations

import copy
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bearing_workbench.store import Store


def _pragma(store: Store, name: str) -> object:
    with store.transaction() as session:
        return session.execute(text(f"PRAGMA {name}")).scalar()


def test_pragmas_are_set_on_every_connection(sqlite_store: Store) -> None:
    assert _pragma(sqlite_store, "journal_mode") == "wal"
    assert _pragma(sqlite_store, "foreign_keys") == 1
    assert _pragma(sqlite_store, "busy_timeout") == 20000
    assert _pragma(sqlite_store, "synchronous") == 1  # NORMAL
    sqlite_store.dispose()  # fresh connections get the same settings
    assert _pragma(sqlite_store, "foreign_keys") == 1
    assert _pragma(sqlite_store, "busy_timeout") == 20000


def test_database_file_is_in_wal_mode_for_other_programs(sqlite_store: Store, workspace: Path) -> None:
    raw = sqlite3.connect(workspace / "workbench.db")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    assert (workspace / "workbench.db.lock").exists()  # the schema lock lies next to the database


def test_write_transaction_takes_the_write_lock_at_begin(sqlite_store: Store, workspace: Path) -> None:
    # Only a read so far: a deferred BEGIN would not hold the lock yet; BEGIN IMMEDIATE does.
    raw = sqlite3.connect(workspace / "workbench.db", timeout=0, isolation_level=None)
    try:
        with sqlite_store.transaction() as session:
            session.execute(text("SELECT count(*) FROM experiments"))
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                raw.execute("BEGIN IMMEDIATE")
        raw.execute("BEGIN IMMEDIATE")  # released at commit
        raw.execute("ROLLBACK")
    finally:
        raw.close()


def test_reads_do_not_need_the_write_lock(sqlite_store: Store, workspace: Path) -> None:
    experiment = sqlite_store.create_experiment("a", "cnn1d", {})
    raw = sqlite3.connect(workspace / "workbench.db", isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE experiments SET name = 'uncommitted'")
        # Would wait 20 s and fail with "database is locked" if reads took the write lock.
        assert sqlite_store.get_experiment(experiment).name == "a"
        assert sqlite_store.count_experiments() == 1
        raw.execute("ROLLBACK")
    finally:
        raw.close()


def test_a_writer_waits_for_the_lock_instead_of_failing(sqlite_store: Store, workspace: Path) -> None:
    experiment = sqlite_store.create_experiment("a", "cnn1d", {})
    raw = sqlite3.connect(workspace / "workbench.db", isolation_level=None, check_same_thread=False)
    raw.execute("BEGIN IMMEDIATE")
    raw.execute(
        "INSERT INTO events (experiment_id, kind, message, created_at) VALUES (?, 'x', 'held', '2026-01-01')",
        (experiment,),
    )
    releaser = threading.Timer(0.3, lambda: raw.execute("COMMIT"))
    releaser.start()
    try:
        sqlite_store.add_event(experiment, "note", "queued behind the lock")
    finally:
        releaser.join()
        raw.close()
    assert [e.message for e in sqlite_store.events(experiment)] == ["held", "queued behind the lock"]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="in-memory SQLite is not supported"):
        Store(url=url, workspace=tmp_path)


def test_default_url_is_a_file_in_the_workspace(tmp_path: Path) -> None:
    store = Store(workspace=tmp_path / "ws")
    try:
        assert store.url == f"sqlite:///{(tmp_path / 'ws').resolve() / 'workbench.db'}"
        assert (tmp_path / "ws" / "workbench.db").is_file()
    finally:
        store.dispose()


def test_a_copied_store_reopens_the_same_database(sqlite_store: Store) -> None:
    # Dask pickles a store sent to a worker; copy uses the same __reduce__ path.
    experiment = sqlite_store.create_experiment("shared", "cnn1d", {})
    twin = copy.copy(sqlite_store)
    try:
        assert twin is not sqlite_store and twin.url == sqlite_store.url
        assert twin.workspace == sqlite_store.workspace
        assert twin.get_experiment(experiment).name == "shared"
    finally:
        twin.dispose()


def _dbapi_connection_id(store: Store) -> int:
    with store.transaction() as session:
        return id(session.connection().connection.dbapi_connection)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_opens_its_own_connections(sqlite_store: Store) -> None:
    experiment = sqlite_store.create_experiment("parent", "cnn1d", {})
    parent_connection = _dbapi_connection_id(sqlite_store)  # now pooled, and inherited by a fork
    results = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(
        target=_write_from_child, args=(sqlite_store, experiment, parent_connection, results)
    )
    child.start()
    reused = results.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert reused is False
    assert [e.message for e in sqlite_store.events(experiment)] == ["from the child"]
    sqlite_store.add_event(experiment, "note", "parent still fine")
    assert len(sqlite_store.events(experiment)) == 2


def _write_from_child(store: Store, experiment: int, parent_connection: int, results: object) -> None:
    # Objects keep their addresses across fork: the same id means the parent's SQLite handle.
    results.put(_dbapi_connection_id(store) == parent_connection)  # type: ignore[attr-defined]
    store.add_event(experiment, "note", "from the child")
