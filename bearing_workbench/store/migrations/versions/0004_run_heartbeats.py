"""Run heartbeats: experiments get heartbeat_at (the worker's last sign of life) and attempt (which
worker holds the run), so that a run whose worker or scheduler died is found lost and marked once.

Revision ID: 0004_run_heartbeats
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_run_heartbeats"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy): SQLite's copy would drop and recreate `experiments`, and with
    # foreign keys on, dropping it cascades to every epoch and event.
    op.add_column("experiments", sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
    op.add_column("experiments", sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("attempt")
        batch.drop_column("heartbeat_at")
