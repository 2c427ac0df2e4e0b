"""Database engines, safe for many processes writing at once (the schema: `store/schema.py`)."""

from __future__ import annotations

import json
import os
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, String, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bearing_workbench.store.json_values import dumps

BUSY_TIMEOUT_MS = 20_000
# Execution option that marks the engine whose transactions write (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "bearing_workbench_write"


class unicode_lower(FunctionElement[str]):  # noqa: N801 - named like the SQL function it stands for
    """lower() that lowers non-ASCII letters too (SQLite's built-in lower() is ASCII-only)."""

    type = String()
    inherit_cache = True


@compiles(unicode_lower)
def _compile_lower(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _compile_lower_sqlite(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"bw_lower({compiler.process(element.clauses, **kw)})"


def _py_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Take transaction control from the sqlite3 module: the "begin" hook below emits BEGIN itself.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("bw_lower", 1, _py_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first, so that switching to WAL also waits instead of failing.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _ensure_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _ensure_wal(cursor: Any) -> None:
    """Switch the database to WAL unless it already is (the mode is stored in the file).

    Changing the journal mode needs an exclusive lock and SQLite answers "database is locked" at
    once, without its busy handler, while another process holds one (seen when several workers open
    a new database together), so retry until the busy timeout has passed.
    """
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes cannot wait for the lock (SQLite answers
    # "database is locked" at once to avoid a deadlock); IMMEDIATE takes the write lock up front,
    # so concurrent writers queue on busy_timeout. Readers stay deferred and never block writers (WAL).
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


# Engines of this process. A forked child must not reuse its parent's pooled connections (two processes
# on one SQLite handle corrupt its locks): it drops them, without closing them, and opens its own.
_LIVE_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_parent_connections() -> None:
    for engine in list(_LIVE_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_connections)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or parsed.query.get("mode") == "memory":
        raise ValueError(
            f"database URL {url!r}: in-memory SQLite is not supported (each connection would see its "
            "own database); use a file, e.g. sqlite:////tmp/workbench.db"
        )
    return Path(database).expanduser().resolve()


def create_engines(url: str) -> tuple[Engine, Engine]:
    """Return (read engine, write engine) for `url`; both share one connection pool."""
    common: dict[str, Any] = {"json_serializer": dumps, "json_deserializer": json.loads}
    db_file = sqlite_file(url)
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **common)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True, **common)
    _LIVE_ENGINES.add(engine)
    return engine, engine.execution_options(**{WRITE_OPTION: True})
