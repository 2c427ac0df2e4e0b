"""PDF reports made on the Dask cluster: `submit_report` returns at once, progress comes back live.

The task runs `analysis.report.write_report` on a worker (the report prints with headless Chromium,
seconds of CPU the notebook kernel should not spend) and publishes each stage with `log_event` on
the topic ``report-<experiment id>``; the client that submitted it hands them to `on_progress` and
stops listening when the task ends. The future's result is the PDF's path; a failure is its
exception, with the message `write_report` gave (chromium missing, experiment not completed...).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import distributed

from bearing_workbench.config.arguments import ExperimentId, check
from bearing_workbench.runner.cluster import current_client
from bearing_workbench.store import Store

Progress = Callable[[float, str], Any]
LINGER_S = 2.0


def report_topic(experiment_id: int) -> str:
    """The Dask event topic a report task of this experiment publishes its progress on."""
    return f"report-{experiment_id}"


def _report_task(store: Store, experiment_id: int, topic: str, job: str) -> str:
    """On a worker: write the report, publishing each stage; returns the PDF's path."""
    from bearing_workbench.analysis.report import write_report

    worker = distributed.get_worker()

    def publish(fraction: float, message: str) -> None:
        worker.log_event(topic, {"job": job, "fraction": float(fraction), "message": str(message)})

    return str(write_report(store, experiment_id, on_progress=publish))


def submit_report(
    experiment_id: int,
    *,
    store: Store | None = None,
    client: Any = None,
    on_progress: Progress | None = None,
) -> distributed.Future:
    """Write the PDF report of a completed experiment on the cluster; returns its future at once.

    Args:
        store: default the workspace's store (the task gets its URL and workspace).
        client: default `runner.cluster.current_client()` (the local cluster or the configured one).
        on_progress: called in this process with (fraction 0..1, message) as the task advances.
    """
    experiment_id = check(ExperimentId, experiment_id, "experiment_id")
    store = store if store is not None else Store()
    client = current_client(client)
    topic = report_topic(experiment_id)
    job = uuid.uuid4().hex
    if on_progress is not None:
        _listen(client, topic, job, on_progress)
    future = client.submit(
        _report_task, store, experiment_id, topic, job, key=f"report-{experiment_id}-{job}", pure=False
    )
    if on_progress is not None:
        # The last events travel through the scheduler apart from the result: listen a little longer.
        future.add_done_callback(
            lambda _: threading.Timer(LINGER_S, _stop_listening, (client, topic, job)).start()
        )
    return future


# A client keeps one handler per topic: one dispatcher per (client, topic) serves every report of
# that experiment running at once, each message going to the job that published it.
_listeners: dict[tuple[str, str], dict[str, Progress]] = {}
_lock = threading.Lock()


def _listen(client: Any, topic: str, job: str, on_progress: Progress) -> None:
    with _lock:
        jobs = _listeners.setdefault((client.id, topic), {})
        first = not jobs
        jobs[job] = on_progress
    if first:

        def dispatch(event: tuple[float, dict[str, Any]]) -> None:
            message = event[1]
            with _lock:
                callback = _listeners.get((client.id, topic), {}).get(message.get("job"))
            if callback is not None:
                callback(message["fraction"], message["message"])

        client.subscribe_topic(topic, dispatch)


def _stop_listening(client: Any, topic: str, job: str) -> None:
    with _lock:
        jobs = _listeners.get((client.id, topic), {})
        jobs.pop(job, None)
        last = not jobs
        if last:
            _listeners.pop((client.id, topic), None)
    if last:
        try:
            client.unsubscribe_topic(topic)
        except Exception:  # the client is closing: nothing is left to listen to
            pass
