"""The explanation cache: results keyed by (experiment, kind, key)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.repositories.arguments import require_id, require_text
from bearing_workbench.store.repositories.database import Database, get_row, upsert
from bearing_workbench.store.tables import ExperimentRow, ExplanationRow, utcnow


class ExplanationRepository:
    """The explanation cache, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, experiment_id: int, kind: str, key: str, payload: Mapping[str, Any]) -> None:
        """Cache an explanation result under (experiment, kind, key), replacing any older one."""
        if not isinstance(payload, Mapping):
            raise TypeError(f"explanation payload must be a dict, got {type(payload).__name__}")
        values = {
            "experiment_id": require_id(experiment_id, "experiment id"),
            "kind": require_text(kind, "explanation kind"),
            "key": require_text(key, "explanation key"),
            "payload": to_jsonable(dict(payload), "explanation payload"),
            "created_at": utcnow(),
        }
        with self._db.transaction() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            upsert(session, ExplanationRow, values, ("experiment_id", "kind", "key"))

    def get(self, experiment_id: int, kind: str, key: str) -> dict[str, Any] | None:
        """A cached explanation payload, or None when not cached."""
        with self._db.reading() as session:
            return session.scalar(
                select(ExplanationRow.payload).where(
                    ExplanationRow.experiment_id == require_id(experiment_id, "experiment id"),
                    ExplanationRow.kind == kind,
                    ExplanationRow.key == key,
                )
            )
