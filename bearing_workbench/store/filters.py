"""Filters of the experiment list, as one validated value: what the history page shows and saves as presets.

Two presets are built in ("failed runs", "top performers"); users save others by name in the store
(`Store.save_filter_preset`). A stored preset is JSON, read back through `HistoryFilters`, so a
hand-edited or older row that no longer validates is named with the field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bearing_workbench.config.arguments import Text, check
from bearing_workbench.store.status import RunStatus

# Columns `Store.list_experiments` sorts by; `metrics.<key>` sorts by a numeric metric.
ORDER_COLUMNS = ("created_at", "started_at", "finished_at", "duration_s", "name", "family", "status", "id")
METRIC_ORDER_PREFIX = "metrics."
_METRIC_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PRESET_NAME_MAX = 100


def check_order_by(value: str) -> str:
    """`value` if it is a sortable column or ``metrics.<key>``; ValueError naming what is allowed."""
    if value in ORDER_COLUMNS:
        return value
    if value.startswith(METRIC_ORDER_PREFIX) and _METRIC_KEY.fullmatch(value[len(METRIC_ORDER_PREFIX) :]):
        return value
    raise ValueError(
        f"order_by must be one of {', '.join(ORDER_COLUMNS)} or 'metrics.<key>' (letters, digits, _), "
        f"got {value!r}"
    )


class HistoryFilters(BaseModel):
    """What the experiment list is filtered and sorted by; empty fields filter nothing.

    Args:
        search: case-insensitive substring of the name, the notes or a tag.
        created_after: inclusive; created_before: exclusive (naive datetimes are taken as UTC).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    search: str = Field("", max_length=500)
    families: tuple[str, ...] = ()
    statuses: tuple[RunStatus, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    campaign_id: int | None = Field(None, ge=1)
    order_by: str = "created_at"
    descending: bool = True

    @field_validator("search")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("families")
    @classmethod
    def _families(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for family in value:
            name = family.strip()
            if not name:
                raise ValueError("a family name must not be empty")
            if name not in out:
                out.append(name)
        return tuple(out)

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: tuple[RunStatus, ...]) -> tuple[RunStatus, ...]:
        return tuple(dict.fromkeys(value))

    @field_validator("created_after", "created_before")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("order_by")
    @classmethod
    def _order_by(cls, value: str) -> str:
        return check_order_by(value.strip())

    @model_validator(mode="after")
    def _date_range(self) -> HistoryFilters:
        if self.created_after and self.created_before and self.created_before <= self.created_after:
            raise ValueError(
                f"created_before ({self.created_before:%Y-%m-%d %H:%M}) must be later than "
                f"created_after ({self.created_after:%Y-%m-%d %H:%M})"
            )
        return self

    def where(self) -> dict[str, Any]:
        """Keyword arguments of `Store.count_experiments` (the filters without the order)."""
        return {
            "status": list(self.statuses) or None,
            "family": list(self.families) or None,
            "search": self.search or None,
            "campaign_id": self.campaign_id,
            "created_after": self.created_after,
            "created_before": self.created_before,
        }

    def query(self) -> dict[str, Any]:
        """Keyword arguments of `Store.list_experiments` (filters and order; add limit and offset)."""
        return {**self.where(), "order_by": self.order_by, "descending": self.descending}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (dates as ISO text), as stored in a preset row."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, value: Any, where: str = "filters") -> HistoryFilters:
        """Validate stored or user-given filters; ValueError naming `where` and each field at fault."""
        if isinstance(value, HistoryFilters):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a mapping of filter fields, got {type(value).__name__}")
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'filters'}: {error['msg']}"
                for error in exc.errors()
            )
            raise ValueError(f"{where}: {problems}") from None


@dataclass(frozen=True)
class FilterPreset:
    """A named set of filters: built in (no id) or saved by a user."""

    name: str
    filters: HistoryFilters
    builtin: bool
    id: int | None = None
    created_at: datetime | None = None


BUILTIN_PRESETS: dict[str, HistoryFilters] = {
    "failed runs": HistoryFilters(statuses=(RunStatus.FAILED,)),
    "top performers": HistoryFilters(
        statuses=(RunStatus.COMPLETED,), order_by="metrics.accuracy", descending=True
    ),
}


def preset_name(value: object) -> str:
    """A preset name, stripped; ValueError when empty, too long, or a built-in preset's name."""
    name = check(Text, value, "preset name")
    if len(name) > PRESET_NAME_MAX:
        raise ValueError(f"preset name must be at most {PRESET_NAME_MAX} characters, got {len(name)}")
    return name
