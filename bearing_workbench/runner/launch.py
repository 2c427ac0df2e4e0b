"""Launching experiments on the cluster: `submit`, `resubmit`, and `reconcile` of runs that were lost.

`submit(config)` validates the config through the one boundary, `models.validate_experiment` (a bad
one raises `ConfigError` before anything is recorded or submitted; an already validated one is not
checked again), records the experiment as ``pending``, submits one task with the stable key
``train-<id>`` and returns its id at once. The task is fire-and-forget: closing the client, the
notebook or its kernel's connection never cancels it (a local cluster still ends with the process
that started it, see `runner.cluster`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.config.arguments import NonNegativeInt, check
from bearing_workbench.config.settings import settings
from bearing_workbench.models.validation import ValidatedExperiment, ensure_validated
from bearing_workbench.runner.cluster import GPU_RESOURCE, current_client, has_gpu_workers
from bearing_workbench.runner.control import RUN, set_command, task_key
from bearing_workbench.runner.run_end_hooks import deliver_run_ends
from bearing_workbench.runner.task import run_experiment
from bearing_workbench.store import InvalidTransition, RunStatus, Store, is_terminal
from bearing_workbench.training.experiment import create_experiment

log = logging.getLogger(__name__)

# Dask priorities: higher runs first when workers are scarce.
PRIORITIES = {"high": 10, "normal": 0, "low": -10}
# A pending run whose task no scheduler holds (the scheduler restarted, the cluster ended with its kernel).
LOST_MESSAGE = "lost: its task is no longer on the scheduler (it restarted, or its cluster ended)"
LOST_HINT = "retry submits it again to the current cluster"
# Scheduler task states of a run that is still on its way or running (released: between attempts).
_ACTIVE_STATES = frozenset({"released", "waiting", "queued", "no-worker", "processing"})
_WAITING_STATES = _ACTIVE_STATES - {"processing"}


def _priority(priority: str | int) -> int:
    if isinstance(priority, str) and priority in PRIORITIES:
        return PRIORITIES[priority]
    if isinstance(priority, int) and not isinstance(priority, bool):
        return priority
    names = ", ".join(PRIORITIES)
    raise ValueError(
        f"priority must be one of {names} (inference high, training normal, batch low) or an integer, "
        f"got {priority!r}"
    )


def _store_location(store: Store) -> tuple[str, str]:
    """(database URL with its password, workspace): what a pickled Store carries to a worker too."""
    _, (url, workspace) = store.__reduce__()
    return str(url), str(workspace)


def _submit_task(client: Any, store: Store, experiment_id: int, priority: int, retries: int) -> None:
    import distributed

    set_command(client, experiment_id, RUN)  # a stale pause/stop of an earlier attempt must not apply
    deliver_run_ends(client)  # this process's notifiers hear when the run ends
    resources = {GPU_RESOURCE: 1} if has_gpu_workers(client) else None
    db_url, workspace = _store_location(store)
    try:
        future = client.submit(
            run_experiment,
            experiment_id,
            workspace,
            db_url,
            key=task_key(experiment_id),
            retries=retries,
            priority=priority,
            pure=False,
            resources=resources,
        )
        distributed.fire_and_forget(future)
    except Exception as exc:
        error = f"could not submit to Dask: {exc}"
        store.transition(experiment_id, "fail", error=error, hint="check the scheduler")
        raise
    _wait_until_scheduled(client, store, experiment_id)


def _wait_until_scheduled(client: Any, store: Store, experiment_id: int, timeout: float = 30.0) -> None:
    """Return once the scheduler holds the task (or the run has started): `client.submit` only queues
    the graph on the client's batched stream, and a process that exits right after (the CLI's
    `submit`, a script) could close its client before the task reached the scheduler: a run that
    stays pending for ever."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if task_states(client, [experiment_id])[experiment_id] is not None:
            return
        if store.get_experiment(experiment_id).status is not RunStatus.PENDING:
            return  # it already ran (a task this fast is released once done)
        time.sleep(0.02)
    log.warning("experiment %s: task not on the scheduler after %.0f s", experiment_id, timeout)


def submit(
    config: ValidatedExperiment | ExperimentConfig | Mapping[str, Any],
    *,
    client: Any = None,
    store: Store | None = None,
    priority: str | int = "normal",
    retries: int = 2,
    tags: Sequence[str] = (),
    parent_id: int | None = None,
    campaign_id: int | None = None,
) -> int:
    """Validate `config`, record it as a pending experiment, launch it on the cluster; returns its id.

    A `ValidatedExperiment` (from `models.validate_experiment`) is launched as it is, not validated again.

    Args:
        client: default `runner.cluster.current_client()` (the local cluster or the configured one).
        store: default the workspace's store (``$BEARING_WORKBENCH_WORKSPACE``,
            ``$BEARING_WORKBENCH_DB_URL``).
        priority: ``"high"`` (inference), ``"normal"`` (training) or ``"low"`` (batch jobs), or a
            Dask priority number.
        retries: how often Dask re-runs the task after an error outside training (a worker that dies
            is handled by the scheduler's ``allowed-failures``; training errors are never retried).
    """
    level = _priority(priority)
    retries = check(NonNegativeInt, retries, "retries")
    store = store if store is not None else Store()
    # The boundary: validated once here unless the caller (the wizard) validated it already;
    # a `ConfigError` leaves nothing recorded.
    checked = ensure_validated(config, store)
    client = current_client(client)
    experiment_id = create_experiment(store, checked, parent_id=parent_id, campaign_id=campaign_id, tags=tags)
    _submit_task(client, store, experiment_id, level, retries)
    return experiment_id


def task_states(client: Any, experiment_ids: Iterable[int]) -> dict[int, str | None]:
    """What the scheduler knows of each experiment's task: its state, or None when it knows none."""
    ids = [int(i) for i in experiment_ids]
    states = client.sync(client.scheduler.get_task_status, keys=[task_key(i) for i in ids])
    return {i: states.get(task_key(i)) for i in ids}


def resubmit(
    experiment_id: int,
    *,
    client: Any = None,
    store: Store | None = None,
    priority: str | int = "normal",
    retries: int = 2,
    wait_s: float = 0.0,
) -> int:
    """Launch a failed or stopped experiment again; it continues from its latest checkpoint.

    Args:
        wait_s: how long to wait for the run's previous task to end when it is still on the scheduler
            (a run marks itself stopped a moment before its task returns: a Retry clicked right after
            Stop waits for that instead of being refused).
    """
    store = store if store is not None else Store()
    client = current_client(client)
    state = task_states(client, [experiment_id])[experiment_id]
    ended = is_terminal(store.get_experiment(experiment_id).status)
    if ended and state in _WAITING_STATES:
        # The task of a run that ended without it (lost with its worker, or stopped while nobody ran
        # it) still waits for a worker: it would find the run ended and do nothing. Replace it.
        state = "stale"
    elif state in _ACTIVE_STATES and wait_s > 0 and ended:
        import distributed

        previous = distributed.Future(task_key(experiment_id), client=client)
        with contextlib.suppress(TimeoutError):  # still there after wait_s: refused below
            distributed.wait([previous], timeout=wait_s)
        state = task_states(client, [experiment_id])[experiment_id]
    if state in _ACTIVE_STATES:
        raise InvalidTransition(
            f"experiment {experiment_id} still has a task on the scheduler ({state}); stop it first"
        )
    if state is not None:  # a finished task the scheduler still holds would be returned, not re-run
        import distributed

        client.cancel([distributed.Future(task_key(experiment_id), client=client)], force=True)
    store.transition(experiment_id, "retry")
    _submit_task(client, store, experiment_id, _priority(priority), retries)
    return experiment_id


def reconcile(client: Any = None, store: Store | None = None, *, grace_s: float | None = None) -> list[int]:
    """Mark lost the runs nobody runs any more; returns their ids. `resubmit` continues them from their
    last checkpoints.

    Running and paused runs are judged by their heartbeats alone (`Store.mark_lost`, whatever the
    scheduler says): silent for longer than `grace_s` (default ``$BEARING_WORKBENCH_LOST_AFTER_S``).
    Pending runs have no worker to beat: one older than the grace whose task this client's scheduler does
    not hold is marked failed too (one cluster per store, the usual setup).
    """
    store = store if store is not None else Store()
    lost = store.mark_lost(grace_s)
    client = current_client(client)
    grace = timedelta(seconds=grace_s if grace_s is not None else settings().lost_after_s)
    now = datetime.now(UTC)
    waiting = [
        e for e in store.list_experiments(status=RunStatus.PENDING, limit=None) if now - e.created_at > grace
    ]
    if not waiting:
        return lost
    states = task_states(client, [e.id for e in waiting])
    for record in waiting:
        if states[record.id] in _ACTIVE_STATES:
            continue
        try:
            store.transition(record.id, "fail", error=LOST_MESSAGE, hint=LOST_HINT)
        except InvalidTransition:
            continue  # it started or was cancelled meanwhile
        store.add_event(
            record.id, "failed", LOST_MESSAGE, {"task_state": states[record.id], "hint": LOST_HINT}
        )
        lost.append(record.id)
    return lost
