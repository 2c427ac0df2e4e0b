"""Alembic keeps the schema's history from here on; `schema_version` becomes a guard for old releases.

Releases before Alembic read only `schema_version` and refuse a database above version 2 ("newer than
this workbench understands"). Setting it to 3 makes them refuse a database that Alembic manages,
instead of writing to a schema they do not know (a worker on another machine may still run one).
Later revisions leave it at 3.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE schema_version SET version = 3")


def downgrade() -> None:
    op.execute("UPDATE schema_version SET version = 2")
