"""Frozen, detached copies of store rows: safe to keep after the session closed, or to pass to threads."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from bearing_workbench.store.status import RunStatus


class _FromRow:
    @classmethod
    def from_row(cls, row: Any) -> Self:
        """Copy the same-named attributes of an ORM row."""
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True)
class DatasetRecord(_FromRow):
    """A dataset known to the workbench."""

    id: int
    name: str
    path: str
    n_records: int
    n_classes: int
    class_names: list[str]
    fs: float
    n_samples: int
    source: str
    generator_version: str | None
    seed: int | None
    created_at: datetime
    extra: dict[str, Any]


@dataclass(frozen=True)
class ExperimentRecord(_FromRow):
    """One experiment (training run) as stored."""

    id: int
    name: str
    family: str
    dataset_id: int | None
    config: dict[str, Any]
    status: RunStatus
    metrics: dict[str, Any] | None
    error: str | None
    hint: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    running_since: datetime | None
    tags: list[str]
    notes: str
    parent_id: int | None
    campaign_id: int | None
    worker: str | None
    heartbeat_at: datetime | None
    attempt: int

    @property
    def last_seen(self) -> datetime | None:
        """The run's last sign of life: its latest heartbeat, else when it started running."""
        return self.heartbeat_at or self.running_since or self.started_at

    def elapsed_s(self, now: datetime) -> float | None:
        """Seconds spent running up to `now` (aware UTC), counting the stretch still open."""
        if self.running_since is None:
            return self.duration_s
        return (self.duration_s or 0.0) + (now - self.running_since).total_seconds()


@dataclass(frozen=True)
class EpochRecord(_FromRow):
    """Metrics of one epoch; family-specific values are in `extra`."""

    experiment_id: int
    epoch: int
    train_loss: float | None
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None
    lr: float | None
    seconds: float | None
    extra: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class EventRecord(_FromRow):
    """Something that happened to an experiment."""

    id: int
    experiment_id: int
    kind: str
    message: str
    payload: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class CampaignRecord(_FromRow):
    """An HPO campaign."""

    id: int
    name: str
    study_name: str
    config: dict[str, Any]
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ComparisonRecord(_FromRow):
    """A saved comparison cart."""

    id: int
    name: str
    experiment_ids: list[int]
    result: dict[str, Any] | None
    created_at: datetime
