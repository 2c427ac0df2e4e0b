"""Evaluations of stored models on the Dask cluster: on another dataset, or a robustness sweep.

Background jobs (`runner.jobs`): `submit_evaluation` and `submit_robustness` return the task's future
at once; the task runs `training.cross_evaluation.evaluate_on` or `training.robustness.robustness_sweep`
on a worker, publishing its stages on the topic ``evaluation-<experiment id>``. The future's result is
the stored evaluation's id; input the model cannot use (unknown experiment, dataset or class) is the
future's exception and leaves nothing in the store, while a failure once the evaluation has started is
stored with it (failed, with an error and a hint) and raised as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import distributed

from bearing_workbench.config.arguments import ExperimentId, Integer, Text, check
from bearing_workbench.runner.jobs import Progress, submit_job
from bearing_workbench.store import Store


def evaluation_topic(experiment_id: int) -> str:
    """The Dask event topic the evaluation tasks of this experiment publish their progress on."""
    return f"evaluation-{experiment_id}"


def _evaluate(store: Store, experiment_id: int, dataset: Any, *, progress: Progress, **options: Any) -> int:
    from bearing_workbench.training.cross_evaluation import evaluate_on

    return evaluate_on(store, experiment_id, dataset, progress=progress, **options)


def _sweep(store: Store, experiment_id: int, *, progress: Progress, **options: Any) -> int:
    from bearing_workbench.training.robustness import robustness_sweep

    return robustness_sweep(store, experiment_id, progress=progress, **options)


def submit_evaluation(
    experiment_id: int,
    dataset: Any,
    *,
    classes_map: Mapping[str, str] | str | None = None,
    split: str | None = None,
    store: Store | None = None,
    client: Any = None,
    on_progress: Progress | None = None,
) -> distributed.Future:
    """Evaluate an experiment's stored model on `dataset` on the cluster; returns its future at once.

    Args:
        dataset: a registered dataset name or a dataset or signal file (labelled).
        classes_map: the dataset's class names to the model's (``{"ok": "healthy"}`` or ``"ok=healthy"``).
        split: a stored split of the dataset; default every record.
        store: default the workspace's store (the task gets its URL and workspace).
        client: default `runner.cluster.current_client()`.
        on_progress: called in this process with (fraction 0..1, message) as the task advances.
    """
    from bearing_workbench.training.cross_evaluation import parse_classes_map

    experiment_id = check(ExperimentId, experiment_id, "experiment_id")
    mapping = parse_classes_map(classes_map)  # a malformed map is refused here, before any task
    store = store if store is not None else Store()
    return submit_job(
        _evaluate,
        store,
        experiment_id,
        dataset,
        classes_map=mapping,
        split=None if split is None else check(Text, split, "split"),
        topic=evaluation_topic(experiment_id),
        client=client,
        on_progress=on_progress,
    )


def submit_robustness(
    experiment_id: int,
    *,
    dataset: str | None = None,
    split: str | None = "test",
    seed: int = 0,
    store: Store | None = None,
    client: Any = None,
    on_progress: Progress | None = None,
) -> distributed.Future:
    """Sweep an experiment's stored model over noise, gain and speed on the cluster; returns its future.

    Args:
        dataset: default the run's own dataset, on its own `split` of it (default test).
        seed: seeds the added noise.
        store, client, on_progress: as for `submit_evaluation`.
    """
    experiment_id = check(ExperimentId, experiment_id, "experiment_id")
    store = store if store is not None else Store()
    return submit_job(
        _sweep,
        store,
        experiment_id,
        dataset=None if dataset is None else check(Text, dataset, "dataset"),
        split=None if split is None else check(Text, split, "split"),
        seed=check(Integer, seed, "seed"),
        topic=evaluation_topic(experiment_id),
        client=client,
        on_progress=on_progress,
    )
