"""Experiments: one row per training run, its state, metrics, tags and notes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SkipValidation
from sqlalchemy import Select, String, cast, delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bearing_workbench.config.arguments import (
    AnyMapping,
    NonNegativeInt,
    PositiveInt,
    RowId,
    Text,
    checked,
)
from bearing_workbench.store.engine import unicode_lower
from bearing_workbench.store.errors import InUseError, NotFoundError
from bearing_workbench.store.exports import (
    DEFAULT_CSV_COLUMNS,
    EXPORT_FILES,
    default_export_name,
    experiments_csv,
    export_path,
    write_export,
)
from bearing_workbench.store.filters import METRIC_ORDER_PREFIX, ORDER_COLUMNS, HistoryFilters
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import EpochRecord, ExperimentRecord
from bearing_workbench.store.repositories.arguments import (
    as_utc,
    clean_tags,
    statuses,
    texts,
    unique_ids,
)
from bearing_workbench.store.repositories.database import Database, get_row, get_row_for_update
from bearing_workbench.store.status import RunAction, RunStatus, is_terminal, next_status
from bearing_workbench.store.tables import CampaignRow, DatasetRow, EpochRow, EventRow, ExperimentRow, utcnow
from bearing_workbench.store.workspace import experiment_dir

_ORDER_COLUMNS = {name: getattr(ExperimentRow, name) for name in ORDER_COLUMNS}


class ExperimentRepository:
    """Experiments, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def create(
        self,
        name: Text,
        family: Text,
        config: AnyMapping,
        dataset_id: RowId | None = None,
        parent_id: RowId | None = None,
        campaign_id: RowId | None = None,
        tags: SkipValidation[Iterable[str]] = (),
    ) -> int:
        """Record a new experiment with status pending; return its id."""
        row = ExperimentRow(
            name=name,
            family=family,
            config=to_jsonable(config, "experiment config"),
            status=RunStatus.PENDING,
            dataset_id=dataset_id,
            parent_id=parent_id,
            campaign_id=campaign_id,
            tags=clean_tags(tags),
            notes="",
            created_at=utcnow(),
        )
        with self._db.transaction() as session:
            # Checked here so that a wrong link names itself instead of surfacing as an FK error.
            for row_type, link, kind in (
                (DatasetRow, row.dataset_id, "dataset"),
                (ExperimentRow, row.parent_id, "parent experiment"),
                (CampaignRow, row.campaign_id, "campaign"),
            ):
                if link is not None:
                    get_row(session, row_type, link, kind)
            session.add(row)
            session.flush()
            return row.id

    def get(self, experiment_id: int) -> ExperimentRecord:
        """One experiment by id."""
        with self._db.reading() as session:
            return ExperimentRecord.from_row(get_row(session, ExperimentRow, experiment_id, "experiment"))

    def _filters(
        self,
        status: RunStatus | str | Iterable[RunStatus | str] | None,
        family: str | Iterable[str] | None,
        search: str | None,
        campaign_id: int | None,
        dataset_id: int | None,
        created_after: datetime | None,
        created_before: datetime | None,
    ) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if status is not None:
            where.append(ExperimentRow.status.in_(statuses(status)))
        if family is not None:
            where.append(ExperimentRow.family.in_(texts(family, "family")))
        if search is not None and search.strip():
            needle = search.strip().lower()
            where.append(
                or_(
                    unicode_lower(ExperimentRow.name).contains(needle, autoescape=True),
                    unicode_lower(ExperimentRow.notes).contains(needle, autoescape=True),
                    # Tags are a JSON list; its text holds every tag, quoted.
                    unicode_lower(cast(ExperimentRow.tags, String)).contains(needle, autoescape=True),
                )
            )
        if campaign_id is not None:
            where.append(ExperimentRow.campaign_id == campaign_id)
        if dataset_id is not None:
            where.append(ExperimentRow.dataset_id == dataset_id)
        if created_after is not None:
            where.append(ExperimentRow.created_at >= as_utc(created_after))
        if created_before is not None:
            where.append(ExperimentRow.created_at < as_utc(created_before))
        return where

    @checked
    def page(
        self,
        status: SkipValidation[RunStatus | str | Iterable[RunStatus | str] | None] = None,
        family: SkipValidation[str | Iterable[str] | None] = None,
        search: str | None = None,
        campaign_id: RowId | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        order_by: str = "created_at",
        descending: bool = True,
        limit: PositiveInt | None = 50,
        offset: NonNegativeInt = 0,
        dataset_id: RowId | None = None,
    ) -> list[ExperimentRecord]:
        """One page of experiments, filtered and sorted in SQL (`Store.list_experiments`)."""
        if order_by in _ORDER_COLUMNS:
            key: ColumnElement[Any] = _ORDER_COLUMNS[order_by]
        elif order_by.startswith(METRIC_ORDER_PREFIX) and len(order_by) > len(METRIC_ORDER_PREFIX):
            key = ExperimentRow.metrics[order_by[len(METRIC_ORDER_PREFIX) :]].as_float()
        else:
            allowed = ", ".join(_ORDER_COLUMNS)
            raise ValueError(f"order_by must be one of {allowed} or 'metrics.<key>', got {order_by!r}")
        where = self._filters(status, family, search, campaign_id, dataset_id, created_after, created_before)
        # The id breaks ties so that pages neither repeat nor skip rows.
        ordering = (
            (key.desc().nulls_last(), ExperimentRow.id.desc())
            if descending
            else (key.asc().nulls_last(), ExperimentRow.id.asc())
        )
        query: Select[tuple[ExperimentRow]] = select(ExperimentRow).where(*where).order_by(*ordering)
        query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as session:
            return [ExperimentRecord.from_row(r) for r in session.scalars(query)]

    @checked
    def count(
        self,
        status: SkipValidation[RunStatus | str | Iterable[RunStatus | str] | None] = None,
        family: SkipValidation[str | Iterable[str] | None] = None,
        search: str | None = None,
        campaign_id: RowId | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        dataset_id: RowId | None = None,
    ) -> int:
        """How many experiments match the same filters as `page`."""
        where = self._filters(status, family, search, campaign_id, dataset_id, created_after, created_before)
        with self._db.reading() as session:
            return session.scalar(select(func.count()).select_from(ExperimentRow).where(*where)) or 0

    def transition(
        self,
        experiment_id: int,
        action: RunAction | str,
        error: str | None = None,
        hint: str | None = None,
        worker: str | None = None,
    ) -> ExperimentRecord:
        """Apply a run action, keeping the timings, with a status event (`Store.transition`)."""
        with self._db.transaction() as session:
            row = get_row_for_update(session, ExperimentRow, experiment_id, "experiment")
            old = RunStatus(row.status)
            new = next_status(old, action)
            act = RunAction(action)
            now = utcnow()
            if old is RunStatus.RUNNING and row.running_since is not None:
                row.duration_s = (row.duration_s or 0.0) + (now - row.running_since).total_seconds()
                row.running_since = None
            if new is RunStatus.RUNNING:
                row.running_since = now
                row.heartbeat_at = now  # alive from here; its worker's heartbeats keep it so
                if row.started_at is None:
                    row.started_at = now
            if act is RunAction.START:
                row.attempt += 1  # a new worker holds the run: the previous attempt's beats no longer count
            if act is RunAction.RETRY:
                row.finished_at = None
                row.error = None
                row.hint = None
            elif is_terminal(new):
                row.finished_at = now
            if error is not None:
                row.error = str(error)
            if hint is not None:
                row.hint = str(hint)
            if worker is not None:
                row.worker = str(worker)
            row.status = new
            payload: dict[str, Any] = {"action": act.value, "from": old.value, "to": new.value}
            if error is not None:
                payload["error"] = str(error)
            session.add(
                EventRow(
                    experiment_id=row.id,
                    kind="status",
                    message=f"{act.value}: {old.value} -> {new.value}",
                    payload=payload,
                    created_at=now,
                )
            )
            session.flush()
            return ExperimentRecord.from_row(row)

    @checked
    def set_metrics(self, experiment_id: RowId, metrics: AnyMapping) -> None:
        """Replace the experiment's final metrics."""
        value = to_jsonable(metrics, "metrics")
        with self._db.transaction() as session:
            get_row_for_update(session, ExperimentRow, experiment_id, "experiment").metrics = value

    def set_tags(self, experiment_id: int, tags: Iterable[str]) -> None:
        """Replace the experiment's tags (stripped, duplicates dropped, order kept)."""
        clean = clean_tags(tags)
        with self._db.transaction() as session:
            get_row_for_update(session, ExperimentRow, experiment_id, "experiment").tags = clean

    @checked
    def set_notes(self, experiment_id: RowId, notes: str) -> None:
        """Replace the experiment's free-text notes."""
        with self._db.transaction() as session:
            get_row_for_update(session, ExperimentRow, experiment_id, "experiment").notes = notes

    def delete(self, experiment_id: int) -> None:
        """Delete an experiment's rows and its artifact folder together (`Store.delete_experiment`)."""
        record = self.get(experiment_id)
        if record.status in (RunStatus.RUNNING, RunStatus.PAUSED):
            raise InUseError(f"experiment {record.id} is {record.status.value}; stop it before deleting it")

        def delete_rows(session: Session) -> None:
            row = get_row_for_update(session, ExperimentRow, record.id, "experiment")
            if row.status in (RunStatus.RUNNING, RunStatus.PAUSED):  # started since we looked
                raise InUseError(f"experiment {record.id} is {row.status.value}; stop it before deleting it")
            session.execute(delete(ExperimentRow).where(ExperimentRow.id == record.id))

        self._db.remove_with_folder(experiment_dir(record.id, self._db.workspace), delete_rows)

    def delete_many(self, experiment_ids: Iterable[int]) -> list[int]:
        """Delete several experiments, all or none (`Store.delete_experiments`)."""
        ids = unique_ids(experiment_ids)
        if not ids:
            return []

        def check(rows: Iterable[tuple[int, RunStatus]]) -> None:
            found = {row_id: RunStatus(status) for row_id, status in rows}
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFoundError(
                    *(("experiment", missing[0]) if len(missing) == 1 else ("experiments", missing))
                )
            busy = [
                f"{i} ({found[i].value})" for i in ids if found[i] in (RunStatus.RUNNING, RunStatus.PAUSED)
            ]
            if busy:
                raise InUseError(
                    f"experiment(s) {', '.join(busy)} still running; stop them before deleting them "
                    "(nothing was deleted)"
                )

        query = select(ExperimentRow.id, ExperimentRow.status).where(ExperimentRow.id.in_(ids))
        with self._db.reading() as session:
            check(session.execute(query).all())

        def delete_rows(session: Session) -> None:
            check(session.execute(query.with_for_update()).all())  # started since we looked?
            session.execute(delete(ExperimentRow).where(ExperimentRow.id.in_(ids)))

        self._db.remove_with_folders([experiment_dir(i, self._db.workspace) for i in ids], delete_rows)
        return ids

    def export(
        self,
        experiment_ids: Iterable[int],
        filename: str | None = None,
        files: Iterable[str] = EXPORT_FILES,
    ) -> Path:
        """Zip the experiments' rows, epochs and result files (`Store.export_experiments`)."""
        ids = unique_ids(experiment_ids)
        if not ids:
            raise ValueError("experiment_ids: choose at least one experiment to export")
        now = utcnow()
        target = export_path(self._db.workspace, filename or default_export_name(ids, now))
        with self._db.reading() as session:
            rows = {r.id: r for r in session.scalars(select(ExperimentRow).where(ExperimentRow.id.in_(ids)))}
            missing = [i for i in ids if i not in rows]
            if missing:
                raise NotFoundError(
                    *(("experiment", missing[0]) if len(missing) == 1 else ("experiments", missing))
                )
            records = [ExperimentRecord.from_row(rows[i]) for i in ids]
            epochs: dict[int, list[EpochRecord]] = {i: [] for i in ids}
            for row in session.scalars(
                select(EpochRow).where(EpochRow.experiment_id.in_(ids)).order_by(EpochRow.epoch)
            ):
                epochs[row.experiment_id].append(EpochRecord.from_row(row))
        folders = {i: experiment_dir(i, self._db.workspace) for i in ids}
        write_export(target, records, epochs, folders, files)
        return target

    def to_csv(
        self,
        filters: HistoryFilters | Mapping[str, Any] | None = None,
        columns: Sequence[str] = DEFAULT_CSV_COLUMNS,
    ) -> str:
        """Every experiment matching `filters` as CSV (`Store.experiments_csv`)."""
        chosen = HistoryFilters() if filters is None else HistoryFilters.from_json(filters)
        return experiments_csv(self.page(**chosen.query(), limit=None), columns)
