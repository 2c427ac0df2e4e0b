"""Saved comparisons: the experiments of a compare cart and its result."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import SkipValidation
from sqlalchemy import select

from bearing_workbench.config.arguments import AnyMapping, Text, checked
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import ComparisonRecord
from bearing_workbench.store.repositories.arguments import require_id
from bearing_workbench.store.repositories.database import Database, get_row
from bearing_workbench.store.tables import ComparisonRow, ExperimentRow, utcnow


class ComparisonRepository:
    """Saved comparisons, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def save(
        self,
        name: Text,
        experiment_ids: SkipValidation[Iterable[int]],
        result: AnyMapping | None = None,
    ) -> int:
        """Save a comparison cart (and optionally its result); return its id."""
        ids = [require_id(i, "experiment id") for i in experiment_ids]
        row = ComparisonRow(
            name=name,
            experiment_ids=ids,
            result=None if result is None else to_jsonable(result, "comparison result"),
            created_at=utcnow(),
        )
        with self._db.transaction() as session:
            for experiment in ids:
                get_row(session, ExperimentRow, experiment, "experiment")
            session.add(row)
            session.flush()
            return row.id

    def get(self, comparison_id: int) -> ComparisonRecord:
        """One saved comparison by id."""
        with self._db.reading() as session:
            return ComparisonRecord.from_row(get_row(session, ComparisonRow, comparison_id, "comparison"))

    def all(self) -> list[ComparisonRecord]:
        """Every saved comparison, newest first."""
        with self._db.reading() as session:
            rows = session.scalars(
                select(ComparisonRow).order_by(ComparisonRow.created_at.desc(), ComparisonRow.id.desc())
            )
            return [ComparisonRecord.from_row(r) for r in rows]

    def delete(self, comparison_id: int) -> None:
        """Delete a saved comparison."""
        with self._db.transaction() as session:
            session.delete(get_row(session, ComparisonRow, comparison_id, "comparison"))
