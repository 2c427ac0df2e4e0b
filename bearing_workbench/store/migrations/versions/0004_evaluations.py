"""Evaluations of stored models: on another dataset, or a robustness sweep; deleted with their experiment.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported from the models, so that this revision stays what it built.
KINDS = ("dataset", "robustness")
STATUSES = ("pending", "running", "completed", "failed")


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "experiment_id", sa.Integer(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id", ondelete="SET NULL")),
        sa.Column("split", sa.String(16)),
        sa.Column("classes_map", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON()),
        sa.Column("error", sa.Text()),
        sa.Column("hint", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
        sa.CheckConstraint(_within("kind", KINDS), name="ck_evaluations_kind"),
        sa.CheckConstraint(_within("status", STATUSES), name="ck_evaluations_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_evaluations_experiment_id", "evaluations", ["experiment_id"])
    op.create_index("ix_evaluations_dataset_id", "evaluations", ["dataset_id"])


def downgrade() -> None:
    op.drop_table("evaluations")
