"""Epochs: one row of metrics per epoch of an experiment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bearing_workbench.config.arguments import NonNegativeInt, RowId, checked
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import EpochRecord
from bearing_workbench.store.repositories.arguments import metric_float
from bearing_workbench.store.repositories.database import Database, get_row, upsert
from bearing_workbench.store.tables import EpochRow, ExperimentRow, utcnow

# Metrics with a column of their own; any other goes to `extra`.
EPOCH_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


class EpochRepository:
    """Epochs, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def add(self, experiment_id: RowId, epoch: NonNegativeInt, **metrics: Any) -> None:
        """Write one epoch's metrics, replacing the same epoch's row (`Store.add_epoch`)."""
        values: dict[str, Any] = {
            "experiment_id": experiment_id,
            "epoch": epoch,
        }
        for name in EPOCH_COLUMNS:
            values[name] = metric_float(metrics.get(name), name)
        values["extra"] = to_jsonable(
            {k: v for k, v in metrics.items() if k not in EPOCH_COLUMNS}, "epoch extra"
        )
        values["created_at"] = utcnow()
        with self._db.transaction() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            upsert(session, EpochRow, values, ("experiment_id", "epoch"))

    def for_experiment(self, experiment_id: int) -> list[EpochRecord]:
        """Every epoch of an experiment, in epoch order."""
        with self._db.reading() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            rows = session.scalars(
                select(EpochRow).where(EpochRow.experiment_id == experiment_id).order_by(EpochRow.epoch)
            )
            return [EpochRecord.from_row(r) for r in rows]
