"""The first schema (what the store called version 1): datasets, campaigns, experiments and their
epochs, events, cached explanations, saved comparisons, and the `schema_version` table.

Written out as it stood, not from today's models, so that it stays what version-1 databases hold.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_STATUSES = ("pending", "running", "paused", "stopped", "failed", "completed")


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(), nullable=False)


def upgrade() -> None:
    # Releases before Alembic read this table; later revisions keep it up to date for them.
    version = op.create_table(
        "schema_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.bulk_insert(version, [{"id": 1, "version": 1, "updated_at": datetime.now(UTC).replace(tzinfo=None)}])
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_classes", sa.Integer(), nullable=False),
        sa.Column("class_names", sa.JSON(), nullable=False),
        sa.Column("fs", sa.Float(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("generator_version", sa.String(64)),
        sa.Column("seed", sa.Integer()),
        _created_at(),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.CheckConstraint("source IN ('generated', 'imported')", name="ck_datasets_source"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("study_name", sa.String(200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _created_at(),
        sqlite_autoincrement=True,
    )
    statuses = ", ".join(f"'{s}'" for s in RUN_STATUSES)
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id")),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metrics", sa.JSON()),
        sa.Column("error", sa.Text()),
        sa.Column("hint", sa.Text()),
        _created_at(),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("duration_s", sa.Float()),
        sa.Column("running_since", sa.DateTime()),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("experiments.id", ondelete="SET NULL")),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id", ondelete="SET NULL")),
        sa.Column("worker", sa.String(200)),
        sa.CheckConstraint(f"status IN ({statuses})", name="ck_experiments_status"),
        sqlite_autoincrement=True,
    )
    for column in ("status", "family", "created_at", "campaign_id", "parent_id", "dataset_id"):
        op.create_index(f"ix_experiments_{column}", "experiments", [column])
    op.create_table(
        "epochs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "experiment_id", sa.Integer(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("epoch", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float()) for name in ("train_loss", "train_acc", "val_loss", "val_acc", "lr")),
        sa.Column("seconds", sa.Float()),
        sa.Column("extra", sa.JSON(), nullable=False),
        _created_at(),
        sa.UniqueConstraint("experiment_id", "epoch", name="uq_epochs_experiment_epoch"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "experiment_id", sa.Integer(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON()),
        _created_at(),
    )
    op.create_index("ix_events_experiment_id_id", "events", ["experiment_id", "id"])
    op.create_table(
        "explanations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "experiment_id", sa.Integer(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _created_at(),
        sa.UniqueConstraint("experiment_id", "kind", "key", name="uq_explanations_experiment_kind_key"),
    )
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("experiment_ids", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON()),
        _created_at(),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ("comparisons", "explanations", "events", "epochs", "experiments", "campaigns", "datasets"):
        op.drop_table(table)
    op.drop_table("schema_version")
