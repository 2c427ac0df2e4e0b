"""Evaluations: a stored model applied to a dataset, or its robustness sweep; one row each, with its
result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bearing_workbench.config.arguments import AnyMapping, ArgumentError, RowId, Text, checked
from bearing_workbench.store.evaluation_status import (
    EvaluationAction,
    EvaluationStatus,
    evaluation_action,
    evaluation_finished,
    evaluation_kind,
    next_evaluation_status,
)
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import EvaluationRecord
from bearing_workbench.store.repositories.arguments import require_text
from bearing_workbench.store.repositories.database import Database, get_row, get_row_for_update
from bearing_workbench.store.tables import DatasetRow, EvaluationRow, ExperimentRow, utcnow


def _classes_map(value: Mapping[str, Any]) -> dict[str, str]:
    """Dataset class -> model class, both non-empty names."""
    out = {}
    for key, item in value.items():
        source = require_text(key, "classes_map key")
        if not isinstance(item, str) or not item.strip():
            raise ArgumentError(f"classes_map[{source!r}]: must be a class name (text), got {item!r}")
        out[source] = item.strip()
    return out


class EvaluationRepository:
    """Evaluations, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def create(
        self,
        experiment_id: RowId,
        kind: str,
        dataset: Text,
        *,
        dataset_id: RowId | None = None,
        split: Text | None = None,
        classes_map: AnyMapping | None = None,
        options: AnyMapping | None = None,
    ) -> int:
        """Record a pending evaluation of an experiment's model; return its id."""
        row = EvaluationRow(
            experiment_id=experiment_id,
            kind=evaluation_kind(kind).value,
            dataset=dataset,
            dataset_id=dataset_id,
            split=split,
            classes_map=_classes_map(classes_map or {}),
            options=to_jsonable(dict(options or {}), "evaluation options"),
            status=EvaluationStatus.PENDING,
            created_at=utcnow(),
        )
        with self._db.transaction() as session:
            # Checked here so that a wrong link names itself instead of surfacing as an FK error.
            get_row(session, ExperimentRow, experiment_id, "experiment")
            if dataset_id is not None:
                get_row(session, DatasetRow, dataset_id, "dataset")
            session.add(row)
            session.flush()
            return row.id

    def get(self, evaluation_id: int) -> EvaluationRecord:
        """One evaluation by id."""
        with self._db.reading() as session:
            return EvaluationRecord.from_row(get_row(session, EvaluationRow, evaluation_id, "evaluation"))

    @checked
    def for_experiment(self, experiment_id: RowId) -> list[EvaluationRecord]:
        """Every evaluation of an experiment, newest first (none for an unknown experiment)."""
        query = (
            select(EvaluationRow)
            .where(EvaluationRow.experiment_id == experiment_id)
            .order_by(EvaluationRow.created_at.desc(), EvaluationRow.id.desc())
        )
        with self._db.reading() as session:
            return [EvaluationRecord.from_row(r) for r in session.scalars(query)]

    @checked
    def transition(
        self,
        evaluation_id: RowId,
        action: str,
        *,
        result: AnyMapping | None = None,
        error: str | None = None,
        hint: str | None = None,
    ) -> EvaluationRecord:
        """Start, complete (with its result) or fail (with an error and a hint) an evaluation at once."""
        act = evaluation_action(action)
        if act is EvaluationAction.COMPLETE and result is None:
            raise ArgumentError("result: completing an evaluation needs its result")
        if act is EvaluationAction.FAIL and not (error and error.strip()):
            raise ArgumentError("error: failing an evaluation needs the error's message")
        if act is not EvaluationAction.COMPLETE and result is not None:
            raise ArgumentError("result: only a completed evaluation has a result")
        value = None if result is None else to_jsonable(result, "evaluation result")
        with self._db.transaction() as session:
            row = get_row_for_update(session, EvaluationRow, evaluation_id, "evaluation")
            new = next_evaluation_status(row.status, action)
            now = utcnow()
            if new is EvaluationStatus.RUNNING:
                row.started_at = now
            if evaluation_finished(new):
                row.finished_at = now
            if value is not None:
                row.result = value
            if error is not None:
                row.error = error.strip()
            if hint is not None:
                row.hint = hint.strip() or None
            row.status = new
            session.flush()
            return EvaluationRecord.from_row(row)

    @checked
    def delete(self, evaluation_id: RowId) -> None:
        """Forget one evaluation."""
        with self._db.transaction() as session:
            session.delete(get_row(session, EvaluationRow, evaluation_id, "evaluation"))
