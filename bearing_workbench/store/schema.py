"""Bring a database's schema to the migrations' head, once, however many processes open it together.

The schema's history is the Alembic revisions in `store/migrations/`. A fresh database is built from
the models (`create_all`) and stamped at head, as Alembic's cookbook recommends: it is the same DDL the
previous releases ran, and about half the time of replaying every revision (tests and workers open
fresh stores by the hundred). The migrations upgrade existing databases; tests check that they build
exactly what `create_all` builds, so fresh and upgraded stores cannot differ.

Databases written before the store used Alembic carry only the `schema_version` table (1 or 2); they
are stamped at the matching revision and upgraded from there, losing nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from filelock import Timeout as LockTimeout
from sqlalchemy import Connection, Engine, column, inspect, select, table, text

from bearing_workbench.store.engine import sqlite_file
from bearing_workbench.store.errors import SchemaVersionError, StoreError
from bearing_workbench.store.migrations import HEAD_REVISION, VERSION_TABLE, alembic_config
from bearing_workbench.store.tables import LEGACY_SCHEMA_GUARD, Base, SchemaVersionRow, utcnow

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

SCHEMA_LOCK_TIMEOUT_S = 120.0
# Key of the PostgreSQL advisory lock held while creating or migrating the schema.
_PG_SCHEMA_LOCK_KEY = 0x4257_5343  # "BWSC"
# `schema_version` of databases from before Alembic -> the revision that built that schema.
LEGACY_REVISIONS = {1: "0001", 2: "0002"}


@cache
def _script() -> ScriptDirectory:
    # Alembic is imported only off the fast path (see HEAD_REVISION); the revisions are read once.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def known_revisions() -> frozenset[str]:
    """Every revision of the migrations."""
    return frozenset(s.revision for s in _script().walk_revisions())


def _stamp(conn: Connection, revision: str) -> None:
    from alembic.runtime.migration import MigrationContext

    MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).stamp(_script(), revision)


def stored_revisions(conn: Connection) -> list[str]:
    """The revisions the database is stamped at: none before Alembic, one normally."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return []
    return list(conn.execute(select(column("version_num")).select_from(table(VERSION_TABLE))).scalars())


def _legacy_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(SchemaVersionRow.__tablename__):
        return None
    return conn.execute(select(SchemaVersionRow.version).where(SchemaVersionRow.id == 1)).scalar_one_or_none()


def _check_known(revisions: list[str], url: str) -> None:
    unknown = [r for r in revisions if r not in known_revisions()]
    if unknown:
        raise SchemaVersionError(
            f"database {url} is at schema revision {unknown[0]!r}, newer than this workbench understands "
            f"(it knows up to {HEAD_REVISION!r}); upgrade bearing-workbench"
        )
    if len(revisions) > 1:
        raise StoreError(f"database {url} is at several schema revisions at once: {', '.join(revisions)}")


def _create(conn: Connection) -> None:
    """A fresh database: the models' tables, the guard row for old releases, stamped at head."""
    Base.metadata.create_all(conn)
    conn.execute(
        SchemaVersionRow.__table__.insert().values(id=1, version=LEGACY_SCHEMA_GUARD, updated_at=utcnow())
    )
    _stamp(conn, HEAD_REVISION)


def _upgrade(conn: Connection, url: str) -> None:
    """Within the caller's transaction and locks: create, or adopt a legacy database, then upgrade."""
    revisions = stored_revisions(conn)
    if revisions == [HEAD_REVISION]:
        return  # another process did it while we waited
    _check_known(revisions, url)
    if not revisions:
        legacy = _legacy_version(conn)
        if legacy is None:
            ours = set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
            if ours:
                raise StoreError(
                    f"database {url} has workbench tables ({', '.join(sorted(ours))}) but no schema "
                    "version: it was not made by the workbench, or its version tables were removed; "
                    "use another database"
                )
            _create(conn)
            return
        if legacy not in LEGACY_REVISIONS:
            raise SchemaVersionError(
                f"database {url} has schema version {legacy}, newer than this workbench understands "
                f"(it knows {', '.join(map(str, LEGACY_REVISIONS))}); upgrade bearing-workbench"
            )
        _stamp(conn, LEGACY_REVISIONS[legacy])
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = conn  # env.py runs the revisions in our transaction
    command.upgrade(config, "head")


def ensure_schema(read_engine: Engine, write_engine: Engine, lock_path: Path) -> None:
    """Migrate the database to the head revision, once, under a file lock (and, on PostgreSQL, an
    advisory lock: the file lock covers one machine only, workers elsewhere share the database)."""
    url = read_engine.url.render_as_string(hide_password=True)
    db_file = sqlite_file(str(read_engine.url))
    if db_file is None or db_file.exists():
        # Fast path, no lock and no Alembic: a database already at head (the usual case for every worker).
        with read_engine.connect() as conn:
            revisions = stored_revisions(conn)
        if revisions == [HEAD_REVISION]:
            return
        _check_known(revisions, url)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(lock_path), timeout=SCHEMA_LOCK_TIMEOUT_S), write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK_KEY})
            _upgrade(conn, url)
    except LockTimeout as exc:
        raise StoreError(
            f"could not take the schema lock {lock_path} within {SCHEMA_LOCK_TIMEOUT_S:.0f} s; "
            "another process may be stuck creating the database schema"
        ) from exc
