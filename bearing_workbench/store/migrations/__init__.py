"""The store's schema history as Alembic migrations, run by `store.schema.ensure_schema`.

A new schema change is a new revision in `versions/`: change the models in `store/tables.py`, then
let Alembic write the revision from the difference and review it (SQLite needs batch operations to
alter a table; `env.py` turns them on)::

    from alembic import command
    from bearing_workbench.store.migrations import alembic_config
    command.revision(alembic_config("sqlite:////tmp/at-head.db"), "what changed", autogenerate=True)

(the database named there must be at the current head), and set HEAD_REVISION below to the new
revision. `tests/store/test_store_migrations.py` checks that the migrations build exactly the models
and what `create_all` builds for a fresh store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent
# The newest revision in versions/ (a test checks it is Alembic's head). Named here so that opening a
# store already at head does not import Alembic, which costs about half a second per process.
HEAD_REVISION = "0004_run_heartbeats"
# Not Alembic's default `alembic_version`: Optuna keeps its own Alembic history under that name and
# its studies live in the same database.
VERSION_TABLE = "workbench_alembic_version"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config for these migrations, built in code (no alembic.ini).

    Args:
        url: the database `env.py` connects to when the caller passes no open connection in
            ``config.attributes["connection"]`` (as `ensure_schema` does).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser treats % as interpolation; a password may contain one.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
