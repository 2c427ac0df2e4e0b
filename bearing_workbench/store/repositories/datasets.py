"""Datasets: the data files experiments train on."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import SkipValidation
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bearing_workbench.config.arguments import (
    AnyMapping,
    Integer,
    PositiveInt,
    RowId,
    SamplingRate,
    Text,
    checked,
)
from bearing_workbench.store.errors import DuplicateNameError, InUseError, NotFoundError
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import DatasetRecord
from bearing_workbench.store.repositories.arguments import require_text
from bearing_workbench.store.repositories.database import Database, get_row
from bearing_workbench.store.tables import DatasetRow, ExperimentRow, utcnow
from bearing_workbench.store.workspace import datasets_dir

DATASET_SOURCES = ("generated", "imported")


class DatasetRepository:
    """Datasets, read and written for the `Store` facade."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @checked
    def add(
        self,
        name: Text,
        path: str | os.PathLike[str],
        *,
        n_records: PositiveInt,
        n_classes: PositiveInt,
        class_names: SkipValidation[Iterable[str]],
        fs: SamplingRate,
        n_samples: PositiveInt,
        source: str = "generated",
        generator_version: str | None = None,
        seed: Integer | None = None,
        extra: AnyMapping | None = None,
    ) -> int:
        """Record a dataset file; return its id (`Store.add_dataset`)."""
        names = [require_text(c, "class name") for c in class_names]
        if source not in DATASET_SOURCES:
            raise ValueError(f"dataset source must be one of {', '.join(DATASET_SOURCES)}, got {source!r}")
        if len(names) != n_classes:
            raise ValueError(f"dataset class_names has {len(names)} names but n_classes is {n_classes}")
        row = DatasetRow(
            name=name,
            path=os.fspath(path),
            n_records=n_records,
            n_classes=n_classes,
            class_names=names,
            fs=fs,
            n_samples=n_samples,
            source=source,
            generator_version=generator_version,
            seed=seed,
            extra=to_jsonable(extra or {}, "dataset extra"),
            created_at=utcnow(),
        )
        try:
            with self._db.transaction() as session:
                existing = session.scalar(select(DatasetRow.id).where(DatasetRow.name == name))
                if existing is not None:
                    raise DuplicateNameError("dataset", name, existing)
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            # A concurrent writer (PostgreSQL, READ COMMITTED) took the name between our check and insert.
            found = self._id_by_name(name)
            if found is not None:
                raise DuplicateNameError("dataset", name, found) from None
            raise

    def _id_by_name(self, name: str) -> int | None:
        with self._db.reading() as session:
            return session.scalar(select(DatasetRow.id).where(DatasetRow.name == name))

    def get(self, id_or_name: int | str) -> DatasetRecord:
        """A dataset by id (int) or by name (str)."""
        with self._db.reading() as session:
            if isinstance(id_or_name, str):
                row = session.scalar(select(DatasetRow).where(DatasetRow.name == id_or_name))
                if row is None:
                    raise NotFoundError("dataset", id_or_name)
            else:
                row = get_row(session, DatasetRow, id_or_name, "dataset")
            return DatasetRecord.from_row(row)

    def all(self) -> list[DatasetRecord]:
        """Every dataset, newest first."""
        with self._db.reading() as session:
            rows = session.scalars(
                select(DatasetRow).order_by(DatasetRow.created_at.desc(), DatasetRow.id.desc())
            )
            return [DatasetRecord.from_row(r) for r in rows]

    @checked
    def delete(self, dataset_id: RowId, *, delete_files: bool = False) -> None:
        """Forget a dataset; refused while experiments use it (`Store.delete_dataset`)."""
        record = self.get(dataset_id)
        folder: Path | None = None
        if delete_files:
            data_root = datasets_dir(self._db.workspace)
            # The entry itself (file, folder or link) is moved, never what a link points to.
            folder = Path(os.path.abspath(record.path))
            if folder.name in ("", ".", "..") or not folder.parent.resolve().is_relative_to(data_root):
                raise ValueError(
                    f"refusing to delete {record.path}: dataset files are deleted only inside {data_root}"
                )

        def delete_rows(session: Session) -> None:
            users = session.scalar(
                select(func.count()).select_from(ExperimentRow).where(ExperimentRow.dataset_id == record.id)
            )
            if users:
                raise InUseError(
                    f"dataset {record.name!r} (id {record.id}) is used by {users} experiment(s); "
                    "delete them first"
                )
            if session.execute(delete(DatasetRow).where(DatasetRow.id == record.id)).rowcount != 1:
                raise NotFoundError("dataset", record.id)

        self._db.remove_with_folder(folder, delete_rows)
