"""The explanation cache: results keyed by (experiment, kind, key)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bearing_workbench.config.arguments import AnyMapping, RowId, Text, checked
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.repositories.database import Database, get_row, upsert
from bearing_workbench.store.tables import ExperimentRow, ExplanationRow, utcnow


class ExplanationRepository:
    """The explanation cache, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def put(self, experiment_id: RowId, kind: Text, key: Text, payload: AnyMapping) -> None:
        """Cache an explanation result under (experiment, kind, key), replacing any older one."""
        values = {
            "experiment_id": experiment_id,
            "kind": kind,
            "key": key,
            "payload": to_jsonable(payload, "explanation payload"),
            "created_at": utcnow(),
        }
        with self._db.transaction() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            upsert(session, ExplanationRow, values, ("experiment_id", "kind", "key"))

    @checked
    def get(self, experiment_id: RowId, kind: str, key: str) -> dict[str, Any] | None:
        """A cached explanation payload, or None when not cached."""
        with self._db.reading() as session:
            return session.scalar(
                select(ExplanationRow.payload).where(
                    ExplanationRow.experiment_id == experiment_id,
                    ExplanationRow.kind == kind,
                    ExplanationRow.key == key,
                )
            )
