"""The function a Dask worker runs for one experiment: `run_experiment`.

It opens its own store (the database URL and workspace travel as plain strings), puts the run in
``running`` itself (so a cancelled run never starts), and trains through
`training.experiment.train_experiment` with the runner's callbacks: progress messages, the log file,
resource samples and cooperative control.

Dask runs a task again when its worker dies (``distributed.scheduler.allowed-failures``). The new
attempt finds the experiment still ``running`` (or ``paused``), takes it over (`Store.claim_run`: the
run's worker is now this one), records a ``retry`` event and continues from the latest checkpoint;
epochs are upserted, so the epochs table ends with exactly one row per epoch. While it runs, the task
writes heartbeats (`runner.heartbeat`): a run whose heartbeats stop is marked lost by whoever looks.

Training errors (NaN loss, out of memory, a bad dataset) are not raised to Dask: the run is marked
``failed`` with its hint and the task ends normally, so Dask does not run it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bearing_workbench.runner.control import ControlCallback, control_name
from bearing_workbench.runner.heartbeat import Heartbeat, RunSuperseded
from bearing_workbench.runner.logs import ExperimentLog, LogCallback
from bearing_workbench.runner.malloc_tuning import release_memory, tune_for_training
from bearing_workbench.runner.memory_guard import MemoryGuard
from bearing_workbench.runner.progress import ProgressPublisher
from bearing_workbench.runner.resources import ResourceCallback
from bearing_workbench.runner.run_end_hooks import (
    event_from_record,
    notifier_from_env,
    notify,
    publish_run_end,
)
from bearing_workbench.store import InvalidTransition, RunStatus, Store, is_terminal
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.callbacks import Callback
from bearing_workbench.training.checkpoint import resume_point
from bearing_workbench.training.experiment import train_experiment

log = logging.getLogger(__name__)


def _worker_address() -> str | None:
    import distributed

    try:
        return distributed.get_worker().address
    except ValueError:
        return None


def _forget_control(experiment_id: int) -> None:
    """Drop the run's control Variable from the scheduler once the run has ended."""
    import distributed

    try:
        distributed.Variable(control_name(experiment_id), client=distributed.get_client()).delete()
    except Exception as exc:  # outside a worker or scheduler gone: nothing to clean
        log.debug("control variable of experiment %s not deleted: %s", experiment_id, exc)


def run_experiment(
    experiment_id: int,
    workspace: str,
    db_url: str | None,
    *,
    callbacks: Sequence[Callback] = (),
    device: Any = None,
) -> dict[str, Any]:
    """Run experiment `experiment_id` on this worker; returns ``{"experiment_id", "status", "error"}``.

    Args:
        db_url: the store's database URL; None: ``$BEARING_WORKBENCH_DB_URL`` or the workspace's SQLite.
        callbacks: more training callbacks (after the runner's own, before the control callback).
    """
    store = Store(db_url, workspace)
    try:
        return _run(store, int(experiment_id), callbacks, device)
    finally:
        store.dispose()


def _begin(store: Store, experiment_id: int, address: str | None) -> tuple[int | None, Path | None]:
    """Put the run in ``running`` as a new attempt on this worker; returns (the attempt number, the
    checkpoint to resume from).

    The attempt is None when the run must not train: cancelled before it started, or ended by an
    attempt whose worker died right after (or marked lost meanwhile).
    """
    record = store.get_experiment(experiment_id)
    if is_terminal(record.status):
        return None, None
    point = resume_point(ExperimentFolder.of(experiment_id, store.workspace).create())
    checkpoint = point.path if point is not None else None
    # The same words as the checkpoint event the stop wrote ("during epoch 11 (batch 5 done)").
    where = f"from {point.path.name}, {point.where()}" if point is not None else None
    payload: dict[str, Any] = {
        "checkpoint": checkpoint.name if checkpoint is not None else None,
        "epoch": point.epochs_done if point is not None else 0,
        "batch": point.batches_done if point is not None else 0,
        "worker": address,
    }
    if record.status is RunStatus.PENDING:
        try:
            taken = store.transition(experiment_id, "start", worker=address)
        except InvalidTransition:
            return None, None  # cancelled this instant
        if checkpoint is not None:  # resubmitted after a stop, a failure or a loss
            on = f" on {address}" if address else ""
            store.add_event(
                experiment_id,
                "resubmitted",
                f"attempt {taken.attempt}{on}: continuing {where}",
                payload | {"attempt": taken.attempt},
            )
        return taken.attempt, checkpoint
    # running or paused: Dask runs the task again because the previous worker died
    try:
        taken = store.claim_run(experiment_id, address)
    except InvalidTransition:
        return None, None  # ended (or marked lost) this instant
    if record.status is RunStatus.PAUSED:
        store.transition(experiment_id, "resume", worker=address)
    store.add_event(
        experiment_id,
        "retry",
        f"its worker was lost; attempt {taken.attempt} continues on {address or 'another worker'} "
        f"{where or 'from the start'}",
        payload | {"attempt": taken.attempt, "previous_worker": record.worker},
    )
    return taken.attempt, checkpoint


def _run(store: Store, experiment_id: int, extra: Sequence[Callback], device: Any) -> dict[str, Any]:
    address = _worker_address()
    publisher = ProgressPublisher(store, experiment_id)
    attempt, checkpoint = _begin(store, experiment_id, address)
    if attempt is None:
        record = store.get_experiment(experiment_id)
        return {"experiment_id": experiment_id, "status": str(record.status), "error": record.error}
    heartbeat = Heartbeat(store, experiment_id, attempt).start()
    try:
        return _train(store, experiment_id, checkpoint, publisher, heartbeat, extra, device)
    except RunSuperseded:
        # Marked lost while this worker was cut off, perhaps retried elsewhere: the run is not ours to
        # write to, nor its control Variable to delete.
        log.warning(
            "experiment %s: attempt %s ended without a word, its run was taken over", experiment_id, attempt
        )
        return {"experiment_id": experiment_id, "status": "superseded", "error": None}
    finally:
        heartbeat.stop()


def _train(
    store: Store,
    experiment_id: int,
    checkpoint: Path | None,
    publisher: ProgressPublisher,
    heartbeat: Heartbeat,
    extra: Sequence[Callback],
    device: Any,
) -> dict[str, Any]:
    publisher.flush_events()
    tune_for_training()  # Dask's MALLOC_TRIM_THRESHOLD_ halves training speed (see malloc_tuning)
    folder = ExperimentFolder.of(experiment_id, store.workspace)
    resources = ResourceCallback(publisher.publish)
    callbacks: list[Callback] = [
        publisher,
        LogCallback(experiment_id),
        resources,
        heartbeat,  # stops the loop once the run is no longer this attempt's
        *extra,
        MemoryGuard(),  # after the others: what they allocate in a batch counts before the check
        ControlCallback(store, experiment_id, publisher=publisher),
    ]
    error = None
    try:
        with ExperimentLog(folder, experiment_id) as run_log:
            outcome = train_experiment(
                store,
                experiment_id,
                callbacks=callbacks,
                device=device,
                resume_from=checkpoint,
                already_running=True,
            )
            run_log.write(_ending_line(outcome.status, outcome.metrics))
    except Exception as exc:
        # train_experiment marked the run failed (with its hint); a task that raised would be retried.
        error = f"{type(exc).__name__}: {exc}"
        record = store.get_experiment(experiment_id)
        if record.status in (RunStatus.RUNNING, RunStatus.PAUSED):  # failed before train_experiment could
            store.transition(experiment_id, "fail", error=error)
            store.add_event(experiment_id, "failed", error)
    finally:
        resources.close()  # the loop does not end the sampler after an error
        release_memory()
    publisher.flush_events()
    record = store.get_experiment(experiment_id)
    _forget_control(experiment_id)
    _notify_webhook(record)
    if is_terminal(record.status):
        publish_run_end(record)
    return {"experiment_id": experiment_id, "status": str(record.status), "error": record.error or error}


def _ending_line(status: str, metrics: dict[str, Any] | None) -> str:
    """The log's last line for a run that ended without an error: how it ended and its test scores."""
    metrics = metrics or {}
    if metrics.get("accuracy") is None:
        return f"run ended {status}"
    return f"run ended {status}: test accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}"


def _notify_webhook(record: Any) -> None:
    """Post the end of the run to ``$BEARING_WORKBENCH_WEBHOOK_URL`` (if set); never raises."""
    try:
        webhook = notifier_from_env()
    except ValueError as exc:
        log.warning("%s", exc)
        return
    if webhook is not None and is_terminal(record.status):
        notify(event_from_record(record), [webhook])
