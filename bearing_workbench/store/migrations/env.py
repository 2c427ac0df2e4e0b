"""Alembic environment: runs the migrations on the connection `ensure_schema` passes in (or on a URL)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from bearing_workbench.store.migrations import VERSION_TABLE
from bearing_workbench.store.tables import Base

config = context.config


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # The database may hold other tables (Optuna's studies share it): autogenerate must not drop them.
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_object=_ours,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("the workbench store's migrations run online only (on a connection or a URL)")

shared = config.attributes.get("connection")
if shared is not None:
    _run(shared)  # inside the caller's transaction, under its schema lock
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic_config(url): give the database URL, or pass a connection")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()
