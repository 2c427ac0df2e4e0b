"""Database engines and schema creation, safe for many processes writing at once."""

from __future__ import annotations

import json
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock
from filelock import Timeout as LockTimeout
from sqlalchemy import Connection, Engine, String, create_engine, event, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bearing_workbench.store.errors import SchemaVersionError, StoreError
from bearing_workbench.store.json_values import dumps
from bearing_workbench.store.tables import SCHEMA_VERSION, Base, FilterPresetRow, SchemaVersionRow, utcnow

BUSY_TIMEOUT_MS = 20_000
SCHEMA_LOCK_TIMEOUT_S = 120.0
# Execution option that marks the engine whose transactions write (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "bearing_workbench_write"
# Key of the PostgreSQL advisory lock held while creating or migrating the schema.
_PG_SCHEMA_LOCK_KEY = 0x4257_5343  # "BWSC"


def _add_filter_presets(conn: Connection) -> None:
    FilterPresetRow.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]


# version -> function bringing a database at version-1 up to version, run in one transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _add_filter_presets}


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


def _stored_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(SchemaVersionRow.__tablename__):
        return None
    return conn.execute(select(SchemaVersionRow.version).where(SchemaVersionRow.id == 1)).scalar_one_or_none()


def _check_not_newer(version: int | None, url: str) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"database {url} has schema version {version}, newer than this workbench understands "
            f"({SCHEMA_VERSION}); upgrade bearing-workbench"
        )


def ensure_schema(read_engine: Engine, write_engine: Engine, lock_path: Path) -> None:
    """Create the tables or migrate them to SCHEMA_VERSION, once, under a file lock."""
    url = read_engine.url.render_as_string(hide_password=True)
    db_file = sqlite_file(str(read_engine.url))
    if db_file is None or db_file.exists():
        # Fast path, no lock: a database already at this version (the usual case for every worker).
        with read_engine.connect() as conn:
            version = _stored_version(conn)
        _check_not_newer(version, url)
        if version == SCHEMA_VERSION:
            return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(lock_path), timeout=SCHEMA_LOCK_TIMEOUT_S), write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The file lock only covers one machine; workers elsewhere share the database.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK_KEY})
            version = _stored_version(conn)
            _check_not_newer(version, url)
            if version == SCHEMA_VERSION:
                return  # another process did it while we waited
            if version is None:
                Base.metadata.create_all(conn)
                conn.execute(
                    SchemaVersionRow.__table__.insert().values(
                        id=1, version=SCHEMA_VERSION, updated_at=utcnow()
                    )
                )
                return
            for target in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[target](conn)
            Base.metadata.create_all(conn)  # tables added by the new version
            conn.execute(
                update(SchemaVersionRow)
                .where(SchemaVersionRow.id == 1)
                .values(version=SCHEMA_VERSION, updated_at=utcnow())
            )
    except LockTimeout as exc:
        raise StoreError(
            f"could not take the schema lock {lock_path} within {SCHEMA_LOCK_TIMEOUT_S:.0f} s; "
            "another process may be stuck creating the database schema"
        ) from exc
