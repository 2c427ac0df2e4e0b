"""What every repository shares: the sessions (read and write), row lookups, upserts, and deleting rows
together with their folders in the workspace."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bearing_workbench.store.errors import NotFoundError
from bearing_workbench.store.repositories.arguments import require_id
from bearing_workbench.store.tables import Base
from bearing_workbench.store.workspace import confined_path

log = logging.getLogger(__name__)

TRASH_DIR = ".trash"

_Row = TypeVar("_Row", bound=Base)


class Database:
    """The store's sessions on one database, and the workspace its rows' folders live in."""

    def __init__(self, read_engine: Engine, write_engine: Engine, workspace: Path) -> None:
        self.workspace = workspace
        self._read_sessions = sessionmaker(read_engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(write_engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session: committed at the end, rolled back on any exception."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read session: a consistent snapshot that never takes the SQLite write lock (deferred)."""
        with self._read_sessions() as session, session.begin():
            yield session

    def remove_with_folder(self, folder: Path | None, delete_rows: Callable[[Session], None]) -> None:
        """Delete rows and a folder together: never rows without the folder or the folder without rows."""
        self.remove_with_folders([] if folder is None else [folder], delete_rows)

    def remove_with_folders(self, folders: Iterable[Path], delete_rows: Callable[[Session], None]) -> None:
        """Delete rows and folders together: all of them, or (on any error) none.

        The folders are first moved aside inside the workspace (atomic renames), the rows are deleted
        in one transaction, and only then are the moved folders removed; if a move or the transaction
        fails, the folders already moved are moved back.
        """
        moved: list[tuple[Path, Path]] = []  # (original, trash)
        try:
            for folder in folders:
                if not (folder.exists() or folder.is_symlink()):
                    continue
                trash_root = confined_path(self.workspace, TRASH_DIR)
                trash_root.mkdir(exist_ok=True)
                trash = trash_root / f"{folder.name}-{uuid.uuid4().hex}"
                os.replace(folder, trash)
                moved.append((folder, trash))
            with self.transaction() as session:
                delete_rows(session)
        except BaseException:
            for folder, trash in reversed(moved):
                os.replace(trash, folder)
            raise
        for _folder, trash in moved:
            if trash.is_symlink() or trash.is_file():
                trash.unlink()
            else:
                shutil.rmtree(trash, ignore_errors=True)
            if trash.exists():
                log.warning("could not remove %s completely; its rows are gone, delete it by hand", trash)


def get_row(session: Session, row_type: type[_Row], row_id: object, kind: str) -> _Row:
    """The row of `row_type` with this id; NotFoundError naming `kind` otherwise."""
    row = session.get(row_type, require_id(row_id, f"{kind} id"))
    if row is None:
        raise NotFoundError(kind, row_id)
    return row


def get_row_for_update(session: Session, row_type: type[_Row], row_id: object, kind: str) -> _Row:
    """`get_row`, locking the row until the transaction ends."""
    # FOR UPDATE serialises concurrent read-modify-writes on PostgreSQL; SQLite's IMMEDIATE does it there.
    row = session.get(row_type, require_id(row_id, f"{kind} id"), with_for_update=True)
    if row is None:
        raise NotFoundError(kind, row_id)
    return row


def upsert(session: Session, row_type: type[Base], values: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Insert `values`, or overwrite the row with the same `keys` (one statement where possible)."""
    changed = [name for name in values if name not in keys]
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = insert(row_type).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={name: stmt.excluded[name] for name in changed}
        )
        session.execute(stmt)
        return
    table = row_type.__table__  # type: ignore[attr-defined]
    existing = session.execute(
        select(table).where(*(table.c[k] == values[k] for k in keys)).with_for_update()
    ).first()
    if existing is None:
        session.execute(table.insert().values(**values))
    else:
        session.execute(
            table.update()
            .where(*(table.c[k] == values[k] for k in keys))
            .values(**{name: values[name] for name in changed})
        )
