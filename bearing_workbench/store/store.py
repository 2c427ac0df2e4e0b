"""The experiment store: one object through which every layer reads and writes the database."""

from __future__ import annotations

import logging
import math
import operator
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, String, cast, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from bearing_workbench.store.engine import create_engines, sqlite_file, unicode_lower
from bearing_workbench.store.errors import DuplicateNameError, InUseError, NotFoundError
from bearing_workbench.store.exports import (
    DEFAULT_CSV_COLUMNS,
    EXPORT_FILES,
    default_export_name,
    experiments_csv,
    export_path,
    write_export,
)
from bearing_workbench.store.filters import (
    BUILTIN_PRESETS,
    METRIC_ORDER_PREFIX,
    ORDER_COLUMNS,
    FilterPreset,
    HistoryFilters,
    preset_name,
)
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import (
    CampaignRecord,
    ComparisonRecord,
    DatasetRecord,
    EpochRecord,
    EventRecord,
    ExperimentRecord,
)
from bearing_workbench.store.schema import ensure_schema
from bearing_workbench.store.status import RunAction, RunStatus, is_terminal, next_status
from bearing_workbench.store.tables import (
    Base,
    CampaignRow,
    ComparisonRow,
    DatasetRow,
    EpochRow,
    EventRow,
    ExperimentRow,
    ExplanationRow,
    FilterPresetRow,
    utcnow,
)
from bearing_workbench.store.workspace import (
    confined_path,
    database_url,
    datasets_dir,
    experiment_dir,
    workspace_root,
)

log = logging.getLogger(__name__)

EPOCH_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
DATASET_SOURCES = ("generated", "imported")
_ORDER_COLUMNS = {name: getattr(ExperimentRow, name) for name in ORDER_COLUMNS}
_METRIC_ORDER_PREFIX = METRIC_ORDER_PREFIX
_TRASH_DIR = ".trash"

_Row = TypeVar("_Row", bound=Base)


def _require_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value.strip()


def _require_id(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{field} must be an integer id, got {value!r}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{field} must be an integer id, got {value!r}") from None


def _optional_id(value: object, field: str) -> int | None:
    return None if value is None else _require_id(value, field)


def _metric_float(value: object, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, str | bytes):
        raise TypeError(f"epoch metric {field!r} must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"epoch metric {field!r} must be a number, got {type(value).__name__}") from None
    # Same rule as JSON columns: non-finite values are stored as null on every backend.
    return number if math.isfinite(number) else None


def _as_utc(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{field} must be a datetime, got {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _statuses(status: RunStatus | str | Iterable[RunStatus | str]) -> list[RunStatus]:
    items = [status] if isinstance(status, str) else list(status)
    out = []
    for item in items:
        try:
            out.append(RunStatus(item))
        except ValueError:
            allowed = ", ".join(s.value for s in RunStatus)
            raise ValueError(f"status {item!r} is not one of: {allowed}") from None
    return out


def _unique_ids(values: Iterable[int]) -> list[int]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"experiment_ids must be a list of integer ids, got {values!r}")
    return list(dict.fromkeys(_require_id(v, "experiment id") for v in values))


def _texts(value: str | Iterable[str], field: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [_require_text(item, field) for item in items]


def _clean_tags(tags: Iterable[str]) -> list[str]:
    if isinstance(tags, str):
        raise TypeError("tags must be a list of strings, not one string")
    out: list[str] = []
    for tag in tags:
        text = _require_text(tag, "tag")
        if text not in out:
            out.append(text)
    return out


class Store:
    """Experiment store on SQLite (WAL, default: `workbench.db` in the workspace) or any SQLAlchemy URL.

    Every write runs in one transaction: a failure leaves nothing half-written. Many processes may write
    at once. Methods return frozen records (see `records.py`), detached from any session.
    """

    def __init__(self, url: str | None = None, workspace: Path | str | None = None) -> None:
        self.workspace = workspace_root() if workspace is None else Path(workspace).expanduser().resolve()
        self.workspace.mkdir(parents=True, exist_ok=True)
        self._url = url or database_url(self.workspace)
        db_file = sqlite_file(self._url)
        lock_path = db_file.with_name(db_file.name + ".lock") if db_file else self.workspace / ".schema.lock"
        self._read_engine, self._write_engine = create_engines(self._url)
        try:
            ensure_schema(self._read_engine, self._write_engine, lock_path)
        except BaseException:
            self._read_engine.dispose()
            raise
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._read_engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """Backend name: 'sqlite', 'postgresql', ..."""
        return self._read_engine.dialect.name

    def __repr__(self) -> str:
        return f"Store(url={self.url!r}, workspace={str(self.workspace)!r})"

    def __reduce__(self) -> tuple[type[Store], tuple[str, Path]]:
        # Sent to a Dask worker, a store reopens the same database there (engines do not travel).
        return (Store, (self._url, self.workspace))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close every pooled connection (a forked child drops its parent's by itself)."""
        self._read_engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session for multi-step writes: committed at the end, rolled back on any exception."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        # Deferred transaction: a consistent snapshot that never takes the SQLite write lock.
        with self._read_sessions() as session, session.begin():
            yield session

    @staticmethod
    def _get(session: Session, row_type: type[_Row], row_id: object, kind: str) -> _Row:
        row = session.get(row_type, _require_id(row_id, f"{kind} id"))
        if row is None:
            raise NotFoundError(kind, row_id)
        return row

    @staticmethod
    def _get_for_update(session: Session, row_type: type[_Row], row_id: object, kind: str) -> _Row:
        # FOR UPDATE serialises concurrent read-modify-writes on PostgreSQL; SQLite's IMMEDIATE does it there.
        row = session.get(row_type, _require_id(row_id, f"{kind} id"), with_for_update=True)
        if row is None:
            raise NotFoundError(kind, row_id)
        return row

    def _upsert(
        self, session: Session, row_type: type[Base], values: dict[str, Any], keys: tuple[str, ...]
    ) -> None:
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

    def _remove_with_folder(self, folder: Path | None, delete_rows: Callable[[Session], None]) -> None:
        """Delete rows and a folder together: never rows without the folder or the folder without rows."""
        self._remove_with_folders([] if folder is None else [folder], delete_rows)

    def _remove_with_folders(self, folders: Iterable[Path], delete_rows: Callable[[Session], None]) -> None:
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
                trash_root = confined_path(self.workspace, _TRASH_DIR)
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

    # -- datasets ----------------------------------------------------------------------------------

    def add_dataset(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        n_records: int,
        n_classes: int,
        class_names: Iterable[str],
        fs: float,
        n_samples: int,
        source: str = "generated",
        generator_version: str | None = None,
        seed: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Record a dataset file; return its id. Raises DuplicateNameError if the name is taken.

        Args:
            n_records: number of signals; n_samples: samples per signal; fs: sampling rate in Hz.
            source: 'generated' (by the simulator) or 'imported' (user files).
        """
        name = _require_text(name, "dataset name")
        names = [_require_text(c, "class name") for c in class_names]
        if source not in DATASET_SOURCES:
            raise ValueError(f"dataset source must be one of {', '.join(DATASET_SOURCES)}, got {source!r}")
        for field, value in (("n_records", n_records), ("n_classes", n_classes), ("n_samples", n_samples)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"dataset {field} must be a positive integer, got {value!r}")
        if len(names) != n_classes:
            raise ValueError(f"dataset class_names has {len(names)} names but n_classes is {n_classes}")
        if not isinstance(fs, int | float) or isinstance(fs, bool) or not math.isfinite(fs) or fs <= 0:
            raise ValueError(f"dataset fs (sampling rate, Hz) must be a positive number, got {fs!r}")
        row = DatasetRow(
            name=name,
            path=os.fspath(path),
            n_records=n_records,
            n_classes=n_classes,
            class_names=names,
            fs=float(fs),
            n_samples=n_samples,
            source=source,
            generator_version=generator_version,
            seed=_optional_id(seed, "seed"),
            extra=to_jsonable(dict(extra or {}), "dataset extra"),
            created_at=utcnow(),
        )
        try:
            with self.transaction() as session:
                existing = session.scalar(select(DatasetRow.id).where(DatasetRow.name == name))
                if existing is not None:
                    raise DuplicateNameError("dataset", name, existing)
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            # A concurrent writer (PostgreSQL, READ COMMITTED) took the name between our check and insert.
            found = self._dataset_id_by_name(name)
            if found is not None:
                raise DuplicateNameError("dataset", name, found) from None
            raise

    def _dataset_id_by_name(self, name: str) -> int | None:
        with self._reading() as session:
            return session.scalar(select(DatasetRow.id).where(DatasetRow.name == name))

    def get_dataset(self, id_or_name: int | str) -> DatasetRecord:
        """A dataset by id (int) or by name (str)."""
        with self._reading() as session:
            if isinstance(id_or_name, str):
                row = session.scalar(select(DatasetRow).where(DatasetRow.name == id_or_name))
                if row is None:
                    raise NotFoundError("dataset", id_or_name)
            else:
                row = self._get(session, DatasetRow, id_or_name, "dataset")
            return DatasetRecord.from_row(row)

    def list_datasets(self) -> list[DatasetRecord]:
        """Every dataset, newest first."""
        with self._reading() as session:
            rows = session.scalars(
                select(DatasetRow).order_by(DatasetRow.created_at.desc(), DatasetRow.id.desc())
            )
            return [DatasetRecord.from_row(r) for r in rows]

    def delete_dataset(self, dataset_id: int, *, delete_files: bool = False) -> None:
        """Forget a dataset; refused while experiments use it.

        Args:
            delete_files: also remove its file or folder, which must lie in the workspace's datasets folder.
        """
        record = self.get_dataset(_require_id(dataset_id, "dataset id"))
        folder: Path | None = None
        if delete_files:
            data_root = datasets_dir(self.workspace)
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

        self._remove_with_folder(folder, delete_rows)

    # -- experiments -------------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        family: str,
        config: Mapping[str, Any],
        dataset_id: int | None = None,
        parent_id: int | None = None,
        campaign_id: int | None = None,
        tags: Iterable[str] = (),
    ) -> int:
        """Record a new experiment with status pending; return its id."""
        name = _require_text(name, "experiment name")
        family = _require_text(family, "model family")
        if not isinstance(config, Mapping):
            raise TypeError(f"experiment config must be a dict, got {type(config).__name__}")
        row = ExperimentRow(
            name=name,
            family=family,
            config=to_jsonable(dict(config), "experiment config"),
            status=RunStatus.PENDING,
            dataset_id=_optional_id(dataset_id, "dataset id"),
            parent_id=_optional_id(parent_id, "parent experiment id"),
            campaign_id=_optional_id(campaign_id, "campaign id"),
            tags=_clean_tags(tags),
            notes="",
            created_at=utcnow(),
        )
        with self.transaction() as session:
            # Checked here so that a wrong link names itself instead of surfacing as an FK error.
            for row_type, link, kind in (
                (DatasetRow, row.dataset_id, "dataset"),
                (ExperimentRow, row.parent_id, "parent experiment"),
                (CampaignRow, row.campaign_id, "campaign"),
            ):
                if link is not None:
                    self._get(session, row_type, link, kind)
            session.add(row)
            session.flush()
            return row.id

    def get_experiment(self, experiment_id: int) -> ExperimentRecord:
        """One experiment by id."""
        with self._reading() as session:
            return ExperimentRecord.from_row(self._get(session, ExperimentRow, experiment_id, "experiment"))

    def _experiment_filters(
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
            where.append(ExperimentRow.status.in_(_statuses(status)))
        if family is not None:
            where.append(ExperimentRow.family.in_(_texts(family, "family")))
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
            where.append(ExperimentRow.campaign_id == _require_id(campaign_id, "campaign id"))
        if dataset_id is not None:
            where.append(ExperimentRow.dataset_id == _require_id(dataset_id, "dataset id"))
        if created_after is not None:
            where.append(ExperimentRow.created_at >= _as_utc(created_after, "created_after"))
        if created_before is not None:
            where.append(ExperimentRow.created_at < _as_utc(created_before, "created_before"))
        return where

    def list_experiments(
        self,
        status: RunStatus | str | Iterable[RunStatus | str] | None = None,
        family: str | Iterable[str] | None = None,
        search: str | None = None,
        campaign_id: int | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        order_by: str = "created_at",
        descending: bool = True,
        limit: int | None = 50,
        offset: int = 0,
        dataset_id: int | None = None,
    ) -> list[ExperimentRecord]:
        """One page of experiments, filtered and sorted in SQL.

        Args:
            status, family: one value or several.
            search: case-insensitive substring of the name, the notes or a tag.
            created_after: inclusive; created_before: exclusive (naive datetimes are taken as UTC).
            order_by: a column (created_at, started_at, finished_at, duration_s, name, family, status,
                id) or `metrics.<key>` to sort by a numeric metric; rows without a value come last.
            limit: page size (None: all rows); offset: rows to skip.
        """
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
        if order_by in _ORDER_COLUMNS:
            key: ColumnElement[Any] = _ORDER_COLUMNS[order_by]
        elif order_by.startswith(_METRIC_ORDER_PREFIX) and len(order_by) > len(_METRIC_ORDER_PREFIX):
            key = ExperimentRow.metrics[order_by[len(_METRIC_ORDER_PREFIX) :]].as_float()
        else:
            allowed = ", ".join(_ORDER_COLUMNS)
            raise ValueError(f"order_by must be one of {allowed} or 'metrics.<key>', got {order_by!r}")
        where = self._experiment_filters(
            status, family, search, campaign_id, dataset_id, created_after, created_before
        )
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
        with self._reading() as session:
            return [ExperimentRecord.from_row(r) for r in session.scalars(query)]

    def count_experiments(
        self,
        status: RunStatus | str | Iterable[RunStatus | str] | None = None,
        family: str | Iterable[str] | None = None,
        search: str | None = None,
        campaign_id: int | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        dataset_id: int | None = None,
    ) -> int:
        """How many experiments match the same filters as `list_experiments`."""
        where = self._experiment_filters(
            status, family, search, campaign_id, dataset_id, created_after, created_before
        )
        with self._reading() as session:
            return session.scalar(select(func.count()).select_from(ExperimentRow).where(*where)) or 0

    def transition(
        self,
        experiment_id: int,
        action: RunAction | str,
        error: str | None = None,
        hint: str | None = None,
        worker: str | None = None,
    ) -> ExperimentRecord:
        """Apply a run action (start, pause, resume, stop, complete, fail, cancel, retry); return the result.

        Raises InvalidTransition when the current status does not allow it. Keeps the timings:
        started_at (first start), finished_at, and duration_s (seconds spent running, over resumes and
        retries). Records a 'status' event in the same transaction.
        """
        with self.transaction() as session:
            row = self._get_for_update(session, ExperimentRow, experiment_id, "experiment")
            old = RunStatus(row.status)
            new = next_status(old, action)
            act = RunAction(action)
            now = utcnow()
            if old is RunStatus.RUNNING and row.running_since is not None:
                row.duration_s = (row.duration_s or 0.0) + (now - row.running_since).total_seconds()
                row.running_since = None
            if new is RunStatus.RUNNING:
                row.running_since = now
                if row.started_at is None:
                    row.started_at = now
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

    def set_metrics(self, experiment_id: int, metrics: Mapping[str, Any]) -> None:
        """Replace the experiment's final metrics."""
        if not isinstance(metrics, Mapping):
            raise TypeError(f"metrics must be a dict, got {type(metrics).__name__}")
        value = to_jsonable(dict(metrics), "metrics")
        with self.transaction() as session:
            self._get_for_update(session, ExperimentRow, experiment_id, "experiment").metrics = value

    def set_tags(self, experiment_id: int, tags: Iterable[str]) -> None:
        """Replace the experiment's tags (stripped, duplicates dropped, order kept)."""
        clean = _clean_tags(tags)
        with self.transaction() as session:
            self._get_for_update(session, ExperimentRow, experiment_id, "experiment").tags = clean

    def set_notes(self, experiment_id: int, notes: str) -> None:
        """Replace the experiment's free-text notes."""
        if not isinstance(notes, str):
            raise TypeError(f"notes must be a string, got {type(notes).__name__}")
        with self.transaction() as session:
            self._get_for_update(session, ExperimentRow, experiment_id, "experiment").notes = notes

    def delete_experiment(self, experiment_id: int) -> None:
        """Delete an experiment's rows (epochs, events, cached explanations) and its artifact folder together.

        Refused while it is running or paused: stop it first.
        """
        record = self.get_experiment(experiment_id)
        if record.status in (RunStatus.RUNNING, RunStatus.PAUSED):
            raise InUseError(f"experiment {record.id} is {record.status.value}; stop it before deleting it")

        def delete_rows(session: Session) -> None:
            row = self._get_for_update(session, ExperimentRow, record.id, "experiment")
            if row.status in (RunStatus.RUNNING, RunStatus.PAUSED):  # started since we looked
                raise InUseError(f"experiment {record.id} is {row.status.value}; stop it before deleting it")
            session.execute(delete(ExperimentRow).where(ExperimentRow.id == record.id))

        self._remove_with_folder(experiment_dir(record.id, self.workspace), delete_rows)

    def delete_experiments(self, experiment_ids: Iterable[int]) -> list[int]:
        """Delete several experiments (rows and artifact folders) in one go: all of them or, on any error,
        none. Refused, naming them, when some do not exist or are running or paused. Returns the ids."""
        ids = _unique_ids(experiment_ids)
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
        with self._reading() as session:
            check(session.execute(query).all())

        def delete_rows(session: Session) -> None:
            check(session.execute(query.with_for_update()).all())  # started since we looked?
            session.execute(delete(ExperimentRow).where(ExperimentRow.id.in_(ids)))

        self._remove_with_folders([experiment_dir(i, self.workspace) for i in ids], delete_rows)
        return ids

    def export_experiments(
        self,
        experiment_ids: Iterable[int],
        filename: str | None = None,
        files: Iterable[str] = EXPORT_FILES,
    ) -> Path:
        """Write a zip of the experiments' stored rows, epochs and result files; return its path.

        Args:
            filename: the archive's name under ``<workspace>/exports/`` (default from the ids and the
                time); names that leave that folder are refused.
            files: artifact file names taken from each experiment's folder when present; names that
                leave the folder are refused.
        """
        ids = _unique_ids(experiment_ids)
        if not ids:
            raise ValueError("experiment_ids: choose at least one experiment to export")
        now = utcnow()
        target = export_path(self.workspace, filename or default_export_name(ids, now))
        with self._reading() as session:
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
        folders = {i: experiment_dir(i, self.workspace) for i in ids}
        write_export(target, records, epochs, folders, files)
        return target

    def experiments_csv(
        self,
        filters: HistoryFilters | Mapping[str, Any] | None = None,
        columns: Sequence[str] = DEFAULT_CSV_COLUMNS,
    ) -> str:
        """Every experiment matching `filters` (in their order) as CSV with `columns` (a column name or
        ``metrics.<key>``; see `store.exports.EXPERIMENT_COLUMNS`)."""
        chosen = HistoryFilters() if filters is None else HistoryFilters.from_json(filters)
        return experiments_csv(self.list_experiments(**chosen.query(), limit=None), columns)

    # -- saved filters of the history page -----------------------------------------------------------

    def save_filter_preset(
        self, name: str, filters: HistoryFilters | Mapping[str, Any], *, replace: bool = False
    ) -> int:
        """Save `filters` under `name` (unique; built-in names are reserved); return the row id.

        Args:
            replace: overwrite a saved preset of that name instead of raising DuplicateNameError.
        """
        name = preset_name(name)
        if name.casefold() in {b.casefold() for b in BUILTIN_PRESETS}:
            raise ValueError(f"preset name {name!r} is a built-in preset; choose another name")
        value = HistoryFilters.from_json(filters if isinstance(filters, HistoryFilters) else dict(filters))
        stored = to_jsonable(value.to_json(), "filters")
        try:
            with self.transaction() as session:
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
            with self._reading() as session:
                found = session.scalar(select(FilterPresetRow.id).where(FilterPresetRow.name == name))
            if found is not None:
                raise DuplicateNameError("filter preset", name, found) from None
            raise

    def get_filter_preset(self, name: str) -> FilterPreset:
        """A built-in or saved preset by name; its stored filters are validated on the way out."""
        if name in BUILTIN_PRESETS:
            return FilterPreset(name, BUILTIN_PRESETS[name], builtin=True)
        with self._reading() as session:
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

    def list_filter_presets(self) -> list[FilterPreset]:
        """The built-in presets, then the saved ones by name (a saved one that no longer validates is
        left out, with a warning in the log)."""
        out = [FilterPreset(name, filters, builtin=True) for name, filters in BUILTIN_PRESETS.items()]
        with self._reading() as session:
            rows = list(session.scalars(select(FilterPresetRow).order_by(FilterPresetRow.name)))
        for row in rows:
            try:
                filters = HistoryFilters.from_json(row.filters, f"filter preset {row.name!r}")
            except ValueError as exc:
                log.warning("skipping a saved filter preset: %s", exc)
                continue
            out.append(FilterPreset(row.name, filters, builtin=False, id=row.id, created_at=row.created_at))
        return out

    def delete_filter_preset(self, name: str) -> None:
        """Delete a saved preset (built-in ones cannot be deleted)."""
        if name in BUILTIN_PRESETS:
            raise ValueError(f"{name!r} is a built-in preset and cannot be deleted")
        with self.transaction() as session:
            if session.execute(delete(FilterPresetRow).where(FilterPresetRow.name == name)).rowcount != 1:
                raise NotFoundError("filter preset", name)

    # -- epochs and events -------------------------------------------------------------------------

    def add_epoch(self, experiment_id: int, epoch: int, **metrics: Any) -> None:
        """Write one epoch's metrics; writing the same epoch again replaces the row (retried workers).

        Known metrics (train_loss, train_acc, val_loss, val_acc, lr, seconds) get columns; any other
        keyword goes to `extra`. Non-finite numbers are stored as null.
        """
        epoch = _require_id(epoch, "epoch")
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        values: dict[str, Any] = {
            "experiment_id": _require_id(experiment_id, "experiment id"),
            "epoch": epoch,
        }
        for name in EPOCH_COLUMNS:
            values[name] = _metric_float(metrics.get(name), name)
        values["extra"] = to_jsonable(
            {k: v for k, v in metrics.items() if k not in EPOCH_COLUMNS}, "epoch extra"
        )
        values["created_at"] = utcnow()
        with self.transaction() as session:
            self._get(session, ExperimentRow, experiment_id, "experiment")
            self._upsert(session, EpochRow, values, ("experiment_id", "epoch"))

    def epochs(self, experiment_id: int) -> list[EpochRecord]:
        """Every epoch of an experiment, in epoch order."""
        with self._reading() as session:
            self._get(session, ExperimentRow, experiment_id, "experiment")
            rows = session.scalars(
                select(EpochRow).where(EpochRow.experiment_id == experiment_id).order_by(EpochRow.epoch)
            )
            return [EpochRecord.from_row(r) for r in rows]

    def add_event(
        self, experiment_id: int, kind: str, message: str, payload: Mapping[str, Any] | None = None
    ) -> int:
        """Record an event; return its id (ids grow with time, so they work as a cursor)."""
        kind = _require_text(kind, "event kind")
        if not isinstance(message, str):
            raise TypeError(f"event message must be a string, got {type(message).__name__}")
        if payload is not None and not isinstance(payload, Mapping):
            raise TypeError(f"event payload must be a dict or None, got {type(payload).__name__}")
        row = EventRow(
            experiment_id=_require_id(experiment_id, "experiment id"),
            kind=kind,
            message=message,
            payload=None if payload is None else to_jsonable(dict(payload), "event payload"),
            created_at=utcnow(),
        )
        with self.transaction() as session:
            self._get(session, ExperimentRow, experiment_id, "experiment")
            session.add(row)
            session.flush()
            return row.id

    def events(
        self, experiment_id: int, limit: int | None = None, after_id: int | None = None
    ) -> list[EventRecord]:
        """An experiment's events, oldest first.

        Args:
            limit: keep only the latest `limit` events.
            after_id: only events newer than this id (to follow a run incrementally).
        """
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
        query = select(EventRow).where(EventRow.experiment_id == experiment_id)
        if after_id is not None:
            query = query.where(EventRow.id > _require_id(after_id, "after_id"))
        query = query.order_by(EventRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._reading() as session:
            self._get(session, ExperimentRow, experiment_id, "experiment")
            return [EventRecord.from_row(r) for r in reversed(list(session.scalars(query)))]

    # -- explanation cache -------------------------------------------------------------------------

    def put_explanation(self, experiment_id: int, kind: str, key: str, payload: Mapping[str, Any]) -> None:
        """Cache an explanation result under (experiment, kind, key), replacing any older one."""
        if not isinstance(payload, Mapping):
            raise TypeError(f"explanation payload must be a dict, got {type(payload).__name__}")
        values = {
            "experiment_id": _require_id(experiment_id, "experiment id"),
            "kind": _require_text(kind, "explanation kind"),
            "key": _require_text(key, "explanation key"),
            "payload": to_jsonable(dict(payload), "explanation payload"),
            "created_at": utcnow(),
        }
        with self.transaction() as session:
            self._get(session, ExperimentRow, experiment_id, "experiment")
            self._upsert(session, ExplanationRow, values, ("experiment_id", "kind", "key"))

    def get_explanation(self, experiment_id: int, kind: str, key: str) -> dict[str, Any] | None:
        """A cached explanation payload, or None when not cached."""
        with self._reading() as session:
            return session.scalar(
                select(ExplanationRow.payload).where(
                    ExplanationRow.experiment_id == _require_id(experiment_id, "experiment id"),
                    ExplanationRow.kind == kind,
                    ExplanationRow.key == key,
                )
            )

    # -- campaigns ---------------------------------------------------------------------------------

    def create_campaign(self, name: str, study_name: str, config: Mapping[str, Any] | None = None) -> int:
        """Record an HPO campaign (status pending); return its id."""
        row = CampaignRow(
            name=_require_text(name, "campaign name"),
            study_name=_require_text(study_name, "study name"),
            config=to_jsonable(dict(config or {}), "campaign config"),
            status="pending",
            created_at=utcnow(),
        )
        with self.transaction() as session:
            session.add(row)
            session.flush()
            return row.id

    def get_campaign(self, campaign_id: int) -> CampaignRecord:
        """One campaign by id."""
        with self._reading() as session:
            return CampaignRecord.from_row(self._get(session, CampaignRow, campaign_id, "campaign"))

    def list_campaigns(self) -> list[CampaignRecord]:
        """Every campaign, newest first."""
        with self._reading() as session:
            rows = session.scalars(
                select(CampaignRow).order_by(CampaignRow.created_at.desc(), CampaignRow.id.desc())
            )
            return [CampaignRecord.from_row(r) for r in rows]

    def set_campaign_status(self, campaign_id: int, status: str) -> None:
        """Set a campaign's status (pending, running, completed, stopped, failed)."""
        value = _statuses(status)[0].value
        with self.transaction() as session:
            self._get_for_update(session, CampaignRow, campaign_id, "campaign").status = value

    # -- saved comparisons -------------------------------------------------------------------------

    def save_comparison(
        self, name: str, experiment_ids: Iterable[int], result: Mapping[str, Any] | None = None
    ) -> int:
        """Save a comparison cart (and optionally its result); return its id."""
        ids = [_require_id(i, "experiment id") for i in experiment_ids]
        row = ComparisonRow(
            name=_require_text(name, "comparison name"),
            experiment_ids=ids,
            result=None if result is None else to_jsonable(dict(result), "comparison result"),
            created_at=utcnow(),
        )
        with self.transaction() as session:
            for experiment in ids:
                self._get(session, ExperimentRow, experiment, "experiment")
            session.add(row)
            session.flush()
            return row.id

    def get_comparison(self, comparison_id: int) -> ComparisonRecord:
        """One saved comparison by id."""
        with self._reading() as session:
            return ComparisonRecord.from_row(self._get(session, ComparisonRow, comparison_id, "comparison"))

    def list_comparisons(self) -> list[ComparisonRecord]:
        """Every saved comparison, newest first."""
        with self._reading() as session:
            rows = session.scalars(
                select(ComparisonRow).order_by(ComparisonRow.created_at.desc(), ComparisonRow.id.desc())
            )
            return [ComparisonRecord.from_row(r) for r in rows]

    def delete_comparison(self, comparison_id: int) -> None:
        """Delete a saved comparison."""
        with self.transaction() as session:
            session.delete(self._get(session, ComparisonRow, comparison_id, "comparison"))
