"""Background jobs on the Dask cluster: a task that reports its progress live and leaves its result in
the store or the workspace (a PDF report, an evaluation of a stored model...).

`submit_job` returns the task's future at once. On the worker the job function is called with a
``progress(fraction, message)`` callable, which publishes each stage with `log_event` on the job's
topic; the submitting client hands those to `on_progress` and stops listening shortly after the task
ends. The future's result is what the function returns; a failure is its exception, message intact.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import distributed

from bearing_workbench.runner.cluster import current_client

Progress = Callable[[float, str], Any]
# The last progress events travel through the scheduler apart from the result: listen this much longer.
LINGER_S = 2.0


def _run_job(
    function: Callable[..., Any], topic: str, job: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """On a worker: call `function` with a `progress` that publishes on `topic`, tagged with `job`."""
    worker = distributed.get_worker()

    def progress(fraction: float, message: str) -> None:
        worker.log_event(topic, {"job": job, "fraction": float(fraction), "message": str(message)})

    return function(*args, progress=progress, **kwargs)


def submit_job(
    function: Callable[..., Any],
    *args: Any,
    topic: str,
    client: Any = None,
    on_progress: Progress | None = None,
    **kwargs: Any,
) -> distributed.Future:
    """Run ``function(*args, progress=..., **kwargs)`` on the cluster; return its future at once.

    Args:
        topic: the Dask event topic its progress goes out on (one per kind of job and experiment, e.g.
            ``report-7``); several jobs may share one, each message reaches only its own `on_progress`.
        client: default `runner.cluster.current_client()` (the local cluster or the configured one).
        on_progress: called in this process with (fraction 0..1, message) as the task advances.
    """
    client = current_client(client)
    job = uuid.uuid4().hex
    if on_progress is not None:
        _listen(client, topic, job, on_progress)
    future = client.submit(_run_job, function, topic, job, args, kwargs, key=f"{topic}-{job}", pure=False)
    if on_progress is not None:
        future.add_done_callback(
            lambda _: threading.Timer(LINGER_S, _stop_listening, (client, topic, job)).start()
        )
    return future


# A client keeps one handler per topic: one dispatcher per (client, topic) serves every job of that
# topic running at once, each message going to the job that published it.
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
