"""Saved filters of the history page, next to the built-in ones."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bearing_workbench.store.errors import DuplicateNameError, NotFoundError
from bearing_workbench.store.filters import BUILTIN_PRESETS, FilterPreset, HistoryFilters, preset_name
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.repositories.database import Database
from bearing_workbench.store.tables import FilterPresetRow, utcnow

log = logging.getLogger(__name__)


class FilterPresetRepository:
    """Saved filters of the history page (and the built-in ones), for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, name: str, filters: HistoryFilters | Mapping[str, Any], *, replace: bool = False) -> int:
        """Save `filters` under `name`; return the row id (`Store.save_filter_preset`)."""
        name = preset_name(name)
        if name.casefold() in {b.casefold() for b in BUILTIN_PRESETS}:
            raise ValueError(f"preset name {name!r} is a built-in preset; choose another name")
        value = HistoryFilters.from_json(filters if isinstance(filters, HistoryFilters) else dict(filters))
        stored = to_jsonable(value.to_json(), "filters")
        try:
            with self._db.transaction() as session:
                row = session.scalar(
                    select(FilterPresetRow).where(FilterPresetRow.name == name).with_for_update()
                )
                if row is not None and not replace:
                    raise DuplicateNameError("filter preset", name, row.id)
                if row is None:
                    row = FilterPresetRow(name=name, filters=stored, created_at=utcnow())
                    session.add(row)
                else:
                    row.filters = stored
                session.flush()
                return row.id
        except IntegrityError:
            # A concurrent writer took the name between our check and insert.
            with self._db.reading() as session:
                found = session.scalar(select(FilterPresetRow.id).where(FilterPresetRow.name == name))
            if found is not None:
                raise DuplicateNameError("filter preset", name, found) from None
            raise

    def get(self, name: str) -> FilterPreset:
        """A built-in or saved preset by name; its stored filters are validated on the way out."""
        if name in BUILTIN_PRESETS:
            return FilterPreset(name, BUILTIN_PRESETS[name], builtin=True)
        with self._db.reading() as session:
            row = session.scalar(select(FilterPresetRow).where(FilterPresetRow.name == name))
            if row is None:
                raise NotFoundError("filter preset", name)
            return FilterPreset(
                row.name,
                HistoryFilters.from_json(row.filters, f"filter preset {row.name!r}"),
                builtin=False,
                id=row.id,
                created_at=row.created_at,
            )

    def all(self) -> list[FilterPreset]:
        """The built-in presets, then the saved ones by name (`Store.list_filter_presets`)."""
        out = [FilterPreset(name, filters, builtin=True) for name, filters in BUILTIN_PRESETS.items()]
        with self._db.reading() as session:
            rows = list(session.scalars(select(FilterPresetRow).order_by(FilterPresetRow.name)))
        for row in rows:
            try:
                filters = HistoryFilters.from_json(row.filters, f"filter preset {row.name!r}")
            except ValueError as exc:
                log.warning("skipping a saved filter preset: %s", exc)
                continue
            out.append(FilterPreset(row.name, filters, builtin=False, id=row.id, created_at=row.created_at))
        return out

    def delete(self, name: str) -> None:
        """Delete a saved preset (built-in ones cannot be deleted)."""
        if name in BUILTIN_PRESETS:
            raise ValueError(f"{name!r} is a built-in preset and cannot be deleted")
        with self._db.transaction() as session:
            if session.execute(delete(FilterPresetRow).where(FilterPresetRow.name == name)).rowcount != 1:
                raise NotFoundError("filter preset", name)
