"""Run liveness: the heartbeats a run's worker writes, and marking runs lost when they stop.

A worker takes a run as a numbered *attempt* (`ExperimentRepository.transition` on start, `claim` when
Dask runs the task again after its worker died) and then beats (`beat`) every few seconds. A run whose
last sign of life is older than the grace period is lost (`status.is_lost`): `mark_lost` ends it as
``failed`` with a status event and a ``lost`` event, in one conditional UPDATE per run, so that any
number of watchers (the CLI, `serve`, each open monitor) racing on it mark it once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bearing_workbench.config.arguments import RowId, Text, checked
from bearing_workbench.store.records import ExperimentRecord
from bearing_workbench.store.repositories.arguments import unique_ids
from bearing_workbench.store.repositories.database import Database, get_row_for_update
from bearing_workbench.store.status import (
    HEARTBEAT_STATUSES,
    InvalidTransition,
    RunAction,
    RunStatus,
    lost_hint,
    lost_reason,
    next_status,
)
from bearing_workbench.store.tables import EpochRow, EventRow, ExperimentRow, utcnow

LOST_EVENT = "lost"
# A running run's last sign of life: its heartbeat, else (a run started before heartbeats, or whose
# worker died before its first beat) the start of its running stretch or of the run.
_LAST_SEEN = func.coalesce(ExperimentRow.heartbeat_at, ExperimentRow.running_since, ExperimentRow.started_at)
_LIVE = [status.value for status in HEARTBEAT_STATUSES]


class HeartbeatRepository:
    """Heartbeats and lost runs, for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def claim(self, experiment_id: RowId, worker: Text | None) -> ExperimentRecord:
        """A worker takes over a running or paused run whose previous worker died: a new attempt, on
        `worker`, beating from now. Raises InvalidTransition when the run is in no such state."""
        with self._db.transaction() as session:
            row = get_row_for_update(session, ExperimentRow, experiment_id, "experiment")
            if row.status not in HEARTBEAT_STATUSES:
                raise InvalidTransition(
                    f"cannot take over experiment {experiment_id}: it is {RunStatus(row.status).value}"
                )
            row.attempt += 1
            row.worker = worker
            row.heartbeat_at = utcnow()
            session.flush()
            return ExperimentRecord.from_row(row)

    @checked
    def beat(self, experiment_id: RowId, attempt: int) -> bool:
        """Write attempt `attempt`'s heartbeat; False when the run is no longer that attempt's (marked
        lost, ended, or taken over by a later attempt): its worker should stop working on it."""
        query = (
            update(ExperimentRow)
            .where(
                ExperimentRow.id == experiment_id,
                ExperimentRow.attempt == attempt,
                ExperimentRow.status.in_(_LIVE),
            )
            .values(heartbeat_at=utcnow())
        )
        with self._db.transaction() as session:
            return session.execute(query).rowcount == 1

    def mark_lost(
        self, grace_s: float, now: datetime | None = None, experiment_ids: Iterable[int] | None = None
    ) -> list[int]:
        """End as lost (``failed``) every running or paused run silent for more than `grace_s` seconds
        (only those of `experiment_ids` when given); returns the ids this call marked, which no other
        call marks again."""
        if not grace_s > 0:
            raise ValueError(f"grace_s: must be a positive number of seconds, got {grace_s!r}")
        now = utcnow() if now is None else now
        cutoff = now - timedelta(seconds=float(grace_s))
        where = [ExperimentRow.status.in_(_LIVE), _LAST_SEEN < cutoff]
        if experiment_ids is not None:
            ids = unique_ids(experiment_ids)
            if not ids:
                return []
            where.append(ExperimentRow.id.in_(ids))
        with self._db.reading() as session:
            candidates = session.execute(
                select(ExperimentRow.id, ExperimentRow.attempt).where(*where).order_by(ExperimentRow.id)
            ).all()
        return [row_id for row_id, attempt in candidates if self._mark_one(row_id, attempt, cutoff, now)]

    def _mark_one(self, experiment_id: int, attempt: int, cutoff: datetime, now: datetime) -> bool:
        """Mark one run lost if it still is (same attempt, still silent); the UPDATE's condition decides
        which of several racing watchers does it, and only that one writes the events."""
        with self._db.transaction() as session:
            row = session.execute(
                select(
                    ExperimentRow.status,
                    ExperimentRow.worker,
                    ExperimentRow.running_since,
                    ExperimentRow.duration_s,
                    _LAST_SEEN.label("last_seen"),
                ).where(ExperimentRow.id == experiment_id)
            ).one_or_none()
            if row is None or row.status not in HEARTBEAT_STATUSES or row.last_seen is None:
                return False
            old = RunStatus(row.status)
            new = next_status(old, RunAction.LOSE)
            last_seen: datetime = row.last_seen  # coalesce keeps the columns' type: aware UTC
            epochs_done = session.scalar(
                select(func.max(EpochRow.epoch)).where(EpochRow.experiment_id == experiment_id)
            )
            epochs_done = int(epochs_done or 0)
            reason, hint = lost_reason(epochs_done), lost_hint(epochs_done)
            values: dict[str, Any] = {
                "status": new,
                "error": reason,
                "hint": hint,
                "finished_at": last_seen,  # when it was last heard of, not when someone looked
                "running_since": None,
            }
            if row.running_since is not None:  # the open stretch ran until its last heartbeat
                ran = max(0.0, (last_seen - row.running_since).total_seconds())
                values["duration_s"] = (row.duration_s or 0.0) + ran
            marked = session.execute(
                update(ExperimentRow)
                .where(
                    ExperimentRow.id == experiment_id,
                    ExperimentRow.status == old,
                    ExperimentRow.attempt == attempt,
                    _LAST_SEEN < cutoff,
                )
                .values(**values)
            ).rowcount
            if marked != 1:
                return False  # another watcher marked it, or its worker beat meanwhile
            payload = {"action": RunAction.LOSE.value, "from": old.value, "to": new.value, "error": reason}
            session.add(
                EventRow(
                    experiment_id=experiment_id,
                    kind="status",
                    message=f"{RunAction.LOSE.value}: {old.value} -> {new.value}",
                    payload=payload,
                    created_at=now,
                )
            )
            session.add(
                EventRow(
                    experiment_id=experiment_id,
                    kind=LOST_EVENT,
                    message=reason,
                    payload={
                        "epoch": epochs_done,
                        "hint": hint,
                        "worker": row.worker,
                        "attempt": attempt,
                        "last_heartbeat": last_seen.isoformat(),
                    },
                    created_at=now,
                )
            )
            return True
