"""The experiment store: one object through which every layer reads and writes the database.

`Store` is a facade: each aggregate (datasets, experiments, epochs, events, explanations, campaigns,
comparisons, filter presets) has its repository in `store/repositories/`, and the methods here call
them. The engines, the schema and the sessions are set up here once and shared.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bearing_workbench.store.engine import create_engines, sqlite_file
from bearing_workbench.store.exports import DEFAULT_CSV_COLUMNS, EXPORT_FILES
from bearing_workbench.store.filters import FilterPreset, HistoryFilters
from bearing_workbench.store.records import (
    CampaignRecord,
    ComparisonRecord,
    DatasetRecord,
    EpochRecord,
    EventRecord,
    ExperimentRecord,
)
from bearing_workbench.store.repositories import (
    CampaignRepository,
    ComparisonRepository,
    Database,
    DatasetRepository,
    EpochRepository,
    EventRepository,
    ExperimentRepository,
    ExplanationRepository,
    FilterPresetRepository,
    HeartbeatRepository,
)
from bearing_workbench.store.schema import ensure_schema
from bearing_workbench.store.status import RunAction, RunStatus
from bearing_workbench.store.workspace import database_url, workspace_root


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
        self._db = Database(self._read_engine, self._write_engine, self.workspace)
        self._datasets = DatasetRepository(self._db)
        self._experiments = ExperimentRepository(self._db)
        self._epochs = EpochRepository(self._db)
        self._events = EventRepository(self._db)
        self._explanations = ExplanationRepository(self._db)
        self._campaigns = CampaignRepository(self._db)
        self._comparisons = ComparisonRepository(self._db)
        self._filter_presets = FilterPresetRepository(self._db)
        self._heartbeats = HeartbeatRepository(self._db)

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
        with self._db.transaction() as session:
            yield session

    # -- datasets ----------------------------------------------------------------------------------------

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
        return self._datasets.add(
            name,
            path,
            n_records=n_records,
            n_classes=n_classes,
            class_names=class_names,
            fs=fs,
            n_samples=n_samples,
            source=source,
            generator_version=generator_version,
            seed=seed,
            extra=extra,
        )

    def get_dataset(self, id_or_name: int | str) -> DatasetRecord:
        """A dataset by id (int) or by name (str)."""
        return self._datasets.get(id_or_name)

    def list_datasets(self) -> list[DatasetRecord]:
        """Every dataset, newest first."""
        return self._datasets.all()

    def delete_dataset(self, dataset_id: int, *, delete_files: bool = False) -> None:
        """Forget a dataset; refused while experiments use it.

        Args:
            delete_files: also remove its file or folder, which must lie in the workspace's datasets folder.
        """
        self._datasets.delete(dataset_id, delete_files=delete_files)

    # -- experiments -------------------------------------------------------------------------------------

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
        return self._experiments.create(name, family, config, dataset_id, parent_id, campaign_id, tags)

    def get_experiment(self, experiment_id: int) -> ExperimentRecord:
        """One experiment by id."""
        return self._experiments.get(experiment_id)

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
        return self._experiments.page(
            status,
            family,
            search,
            campaign_id,
            created_after,
            created_before,
            order_by,
            descending,
            limit,
            offset,
            dataset_id,
        )

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
        return self._experiments.count(
            status, family, search, campaign_id, created_after, created_before, dataset_id
        )

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
        return self._experiments.transition(experiment_id, action, error, hint, worker)

    def claim_run(self, experiment_id: int, worker: str | None) -> ExperimentRecord:
        """Take over a running or paused run whose worker died (Dask runs its task again): a new
        attempt on `worker`, beating from now. Raises InvalidTransition for a run in another state."""
        return self._heartbeats.claim(experiment_id, worker)

    def beat(self, experiment_id: int, attempt: int) -> bool:
        """Write the run's heartbeat for `attempt` (the record's ``attempt`` when its worker took it);
        False when the run is no longer that attempt's: lost, ended, or taken over by a later one."""
        return self._heartbeats.beat(experiment_id, attempt)

    def mark_lost(
        self,
        grace_s: float | None = None,
        *,
        now: datetime | None = None,
        experiment_ids: Iterable[int] | None = None,
    ) -> list[int]:
        """End as ``failed`` ("lost: ...", with a ``lost`` event) every running or paused run whose
        worker has not written a heartbeat for `grace_s` seconds; returns the ids marked by this call.
        Atomic per run: racing callers mark each run once.

        Args:
            grace_s: default ``$BEARING_WORKBENCH_LOST_AFTER_S`` (60 s).
            experiment_ids: only these runs (default: all).
        """
        if grace_s is None:
            from bearing_workbench.config.settings import settings

            grace_s = settings().lost_after_s
        return self._heartbeats.mark_lost(grace_s, now, experiment_ids)

    def set_metrics(self, experiment_id: int, metrics: Mapping[str, Any]) -> None:
        """Replace the experiment's final metrics."""
        self._experiments.set_metrics(experiment_id, metrics)

    def set_tags(self, experiment_id: int, tags: Iterable[str]) -> None:
        """Replace the experiment's tags (stripped, duplicates dropped, order kept)."""
        self._experiments.set_tags(experiment_id, tags)

    def set_notes(self, experiment_id: int, notes: str) -> None:
        """Replace the experiment's free-text notes."""
        self._experiments.set_notes(experiment_id, notes)

    def delete_experiment(self, experiment_id: int) -> None:
        """Delete an experiment's rows (epochs, events, cached explanations) and its artifact folder together.

        Refused while it is running or paused: stop it first.
        """
        self._experiments.delete(experiment_id)

    def delete_experiments(self, experiment_ids: Iterable[int]) -> list[int]:
        """Delete several experiments (rows and artifact folders) in one go: all of them or, on any error,
        none. Refused, naming them, when some do not exist or are running or paused. Returns the ids."""
        return self._experiments.delete_many(experiment_ids)

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
        return self._experiments.export(experiment_ids, filename, files)

    def experiments_csv(
        self,
        filters: HistoryFilters | Mapping[str, Any] | None = None,
        columns: Sequence[str] = DEFAULT_CSV_COLUMNS,
    ) -> str:
        """Every experiment matching `filters` (in their order) as CSV with `columns` (a column name or
        ``metrics.<key>``; see `store.exports.EXPERIMENT_COLUMNS`)."""
        return self._experiments.to_csv(filters, columns)

    # -- saved filters of the history page ---------------------------------------------------------------

    def save_filter_preset(
        self, name: str, filters: HistoryFilters | Mapping[str, Any], *, replace: bool = False
    ) -> int:
        """Save `filters` under `name` (unique; built-in names are reserved); return the row id.

        Args:
            replace: overwrite a saved preset of that name instead of raising DuplicateNameError.
        """
        return self._filter_presets.save(name, filters, replace=replace)

    def get_filter_preset(self, name: str) -> FilterPreset:
        """A built-in or saved preset by name; its stored filters are validated on the way out."""
        return self._filter_presets.get(name)

    def list_filter_presets(self) -> list[FilterPreset]:
        """The built-in presets, then the saved ones by name (a saved one that no longer validates is
        left out, with a warning in the log)."""
        return self._filter_presets.all()

    def delete_filter_preset(self, name: str) -> None:
        """Delete a saved preset (built-in ones cannot be deleted)."""
        self._filter_presets.delete(name)

    # -- epochs and events -------------------------------------------------------------------------------

    def add_epoch(self, experiment_id: int, epoch: int, **metrics: Any) -> None:
        """Write one epoch's metrics; writing the same epoch again replaces the row (retried workers).

        Known metrics (train_loss, train_acc, val_loss, val_acc, lr, seconds) get columns; any other
        keyword goes to `extra`. Non-finite numbers are stored as null.
        """
        self._epochs.add(experiment_id, epoch, **metrics)

    def epochs(self, experiment_id: int) -> list[EpochRecord]:
        """Every epoch of an experiment, in epoch order."""
        return self._epochs.for_experiment(experiment_id)

    def add_event(
        self, experiment_id: int, kind: str, message: str, payload: Mapping[str, Any] | None = None
    ) -> int:
        """Record an event; return its id (ids grow with time, so they work as a cursor)."""
        return self._events.add(experiment_id, kind, message, payload)

    def events(
        self, experiment_id: int, limit: int | None = None, after_id: int | None = None
    ) -> list[EventRecord]:
        """An experiment's events, oldest first.

        Args:
            limit: keep only the latest `limit` events.
            after_id: only events newer than this id (to follow a run incrementally).
        """
        return self._events.for_experiment(experiment_id, limit, after_id)

    # -- explanation cache -------------------------------------------------------------------------------

    def put_explanation(self, experiment_id: int, kind: str, key: str, payload: Mapping[str, Any]) -> None:
        """Cache an explanation result under (experiment, kind, key), replacing any older one."""
        self._explanations.put(experiment_id, kind, key, payload)

    def get_explanation(self, experiment_id: int, kind: str, key: str) -> dict[str, Any] | None:
        """A cached explanation payload, or None when not cached."""
        return self._explanations.get(experiment_id, kind, key)

    # -- campaigns ---------------------------------------------------------------------------------------

    def create_campaign(self, name: str, study_name: str, config: Mapping[str, Any] | None = None) -> int:
        """Record an HPO campaign (status pending); return its id."""
        return self._campaigns.create(name, study_name, config)

    def get_campaign(self, campaign_id: int) -> CampaignRecord:
        """One campaign by id."""
        return self._campaigns.get(campaign_id)

    def list_campaigns(self) -> list[CampaignRecord]:
        """Every campaign, newest first."""
        return self._campaigns.all()

    def set_campaign_status(self, campaign_id: int, status: str) -> None:
        """Set a campaign's status (pending, running, completed, stopped, failed)."""
        self._campaigns.set_status(campaign_id, status)

    # -- saved comparisons -------------------------------------------------------------------------------

    def save_comparison(
        self, name: str, experiment_ids: Iterable[int], result: Mapping[str, Any] | None = None
    ) -> int:
        """Save a comparison cart (and optionally its result); return its id."""
        return self._comparisons.save(name, experiment_ids, result)

    def get_comparison(self, comparison_id: int) -> ComparisonRecord:
        """One saved comparison by id."""
        return self._comparisons.get(comparison_id)

    def list_comparisons(self) -> list[ComparisonRecord]:
        """Every saved comparison, newest first."""
        return self._comparisons.all()

    def delete_comparison(self, comparison_id: int) -> None:
        """Delete a saved comparison."""
        self._comparisons.delete(comparison_id)
