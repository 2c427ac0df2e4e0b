"""PDF reports made on the Dask cluster: `submit_report` returns at once, progress comes back live.

A background job (`runner.jobs`): the task runs `analysis.report.write_report` on a worker (the report
prints with headless Chromium, seconds of CPU the notebook kernel should not spend) and publishes each
stage on the topic ``report-<experiment id>``. The future's result is the PDF's path; a failure is its
exception, with the message `write_report` gave (chromium missing, experiment not completed...).
"""

from __future__ import annotations

from typing import Any

import distributed

from bearing_workbench.config.arguments import ExperimentId, check
from bearing_workbench.runner.jobs import Progress, submit_job
from bearing_workbench.store import Store


def report_topic(experiment_id: int) -> str:
    """The Dask event topic a report task of this experiment publishes its progress on."""
    return f"report-{experiment_id}"


def _write_report(store: Store, experiment_id: int, *, progress: Progress) -> str:
    """On a worker: write the report; returns the PDF's path."""
    from bearing_workbench.analysis.report import write_report

    return str(write_report(store, experiment_id, on_progress=progress))


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
    return submit_job(
        _write_report,
        store,
        experiment_id,
        topic=report_topic(experiment_id),
        client=client,
        on_progress=on_progress,
    )
