"""Errors raised by the experiment store."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class NotFoundError(StoreError, LookupError):
    """No row of this kind has this id (or name)."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class DuplicateNameError(StoreError, ValueError):
    """A row with this unique name already exists."""

    def __init__(self, kind: str, name: str, existing_id: int | None = None) -> None:
        self.kind = kind
        self.name = name
        self.existing_id = existing_id
        where = f" (id {existing_id})" if existing_id is not None else ""
        super().__init__(f"a {kind} named {name!r} already exists{where}; choose another name")


class InUseError(StoreError, ValueError):
    """A row cannot be deleted because others still refer to it."""


class SchemaVersionError(StoreError, RuntimeError):
    """The database schema is newer than this code understands."""
