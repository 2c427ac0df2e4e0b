"""Events: what happened to an experiment, in order (their ids work as a cursor)."""

from __future__ import annotations

from sqlalchemy import select

from bearing_workbench.config.arguments import AnyMapping, PositiveInt, RowId, Text, checked
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import EventRecord
from bearing_workbench.store.repositories.database import Database, get_row
from bearing_workbench.store.tables import EventRow, ExperimentRow, utcnow


class EventRepository:
    """Events, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def add(self, experiment_id: RowId, kind: Text, message: str, payload: AnyMapping | None = None) -> int:
        """Record an event; return its id (ids grow with time, so they work as a cursor)."""
        row = EventRow(
            experiment_id=experiment_id,
            kind=kind,
            message=message,
            payload=None if payload is None else to_jsonable(payload, "event payload"),
            created_at=utcnow(),
        )
        with self._db.transaction() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            session.add(row)
            session.flush()
            return row.id

    @checked
    def for_experiment(
        self, experiment_id: RowId, limit: PositiveInt | None = None, after_id: RowId | None = None
    ) -> list[EventRecord]:
        """An experiment's events, oldest first (`Store.events`)."""
        query = select(EventRow).where(EventRow.experiment_id == experiment_id)
        if after_id is not None:
            query = query.where(EventRow.id > after_id)
        query = query.order_by(EventRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as session:
            get_row(session, ExperimentRow, experiment_id, "experiment")
            return [EventRecord.from_row(r) for r in reversed(list(session.scalars(query)))]
