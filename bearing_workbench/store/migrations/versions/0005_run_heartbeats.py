"""Run heartbeats: experiments get heartbeat_at (the worker's last sign of life) and attempt (which
worker holds the run), so that a run whose worker or scheduler died is found lost and marked once.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy): SQLite's copy would drop and recreate `experiments`, and with
    # foreign keys on, dropping it cascades to every epoch and event.
    op.add_column("experiments", sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
    op.add_column("experiments", sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+) for the same reason: a table copy would cascade to the children.
    op.drop_column("experiments", "attempt")
    op.drop_column("experiments", "heartbeat_at")
