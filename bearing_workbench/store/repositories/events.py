"""Events: what happened to an experiment, in order (their ids work as a cursor)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import EventRecord
from bearing_workbench.store.repositories.arguments import require_id, require_text
from bearing_workbench.store.repositories.database import Database, get_row
from bearing_workbench.store.tables import EventRow, ExperimentRow, utcnow


class EventRepository:
    """Events, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self, experiment_id: int, kind: str, message: str, payload: Mapping[str, Any] | None = None
    ) -> int:
        """Record an event; return its id (ids grow with time, so they work as a cursor)."""
        kind = require_text(kind, "event kind")
        if not isinstance(message, str):
            raise TypeError(f"event message must be a string, got {type(message).__name__}")
        if payload is not None and not isinstance(payload, Mapping):
            raise TypeError(f"event payload must be a dict or None, got {type(payload).__name__}")
        row = EventRow(
            experiment_id=require_id(experiment_id, "experiment id"),
            kind=kind,
            message=message,
            payload=None if payload is None else to_jsonable(dict(payload), "event payload"),
            created_at=utcnow(),
        )
        with self._db.transaction() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            session.add(row)
            session.flush()
            return row.id

    def for_experiment(
        self, experiment_id: int, limit: int | None = None, after_id: int | None = None
    ) -> list[EventRecord]:
        """An experiment's events, oldest first (`Store.events`)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
        query = select(EventRow).where(EventRow.experiment_id == experiment_id)
        if after_id is not None:
            query = query.where(EventRow.id > require_id(after_id, "after_id"))
        query = query.order_by(EventRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            return [EventRecord.from_row(r) for r in reversed(list(session.scalars(query)))]
