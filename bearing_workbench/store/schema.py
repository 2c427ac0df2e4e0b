"""Bring a database's schema to the migrations' head, once, however many processes open it together.

The schema's history is the Alembic revisions in `store/migrations/`. A fresh database is built by
running them (not by `create_all` plus a stamp): new and upgraded databases then come from the same
code, and the test that the migrations build the models covers what every user gets.

Databases written before the store used Alembic carry only the `schema_version` table (1 or 2); they
are stamped at the matching revision and upgraded from there, losing nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as LockTimeout
from sqlalchemy import Connection, Engine, column, inspect, select, table, text

from bearing_workbench.store.engine import sqlite_file
from bearing_workbench.store.errors import SchemaVersionError, StoreError
from bearing_workbench.store.migrations import HEAD_REVISION, VERSION_TABLE, alembic_config
from bearing_workbench.store.tables import SchemaVersionRow

SCHEMA_LOCK_TIMEOUT_S = 120.0
# Key of the PostgreSQL advisory lock held while creating or migrating the schema.
_PG_SCHEMA_LOCK_KEY = 0x4257_5343  # "BWSC"
# `schema_version` of databases from before Alembic -> the revision that built that schema.
LEGACY_REVISIONS = {1: "0001", 2: "0002"}


@cache
def known_revisions() -> frozenset[str]:
    """Every revision of the migrations (read once per process)."""
    # Alembic is imported only off the fast path (see HEAD_REVISION).
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(s.revision for s in script.walk_revisions())


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


def _upgrade(conn: Connection, url: str) -> None:
    """Within the caller's transaction and locks: adopt a legacy database if need be, then upgrade."""
    from alembic import command

    revisions = stored_revisions(conn)
    if revisions == [HEAD_REVISION]:
        return  # another process did it while we waited
    _check_known(revisions, url)
    config = alembic_config()
    config.attributes["connection"] = conn
    if not revisions:
        legacy = _legacy_version(conn)
        if legacy is not None:
            if legacy not in LEGACY_REVISIONS:
                raise SchemaVersionError(
                    f"database {url} has schema version {legacy}, newer than this workbench understands "
                    f"(it knows {', '.join(map(str, LEGACY_REVISIONS))}); upgrade bearing-workbench"
                )
            command.stamp(config, LEGACY_REVISIONS[legacy])
        elif inspect(conn).has_table("experiments"):
            raise StoreError(
                f"database {url} has an experiments table but no schema version: it was not made by the "
                "workbench, or its version tables were removed; use another database"
            )
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
