"""Runner layer: the only place that knows Dask. Launch, follow and control experiments on a cluster.

Names are loaded on first use, so importing the package does not import Dask::

    from bearing_workbench.runner import submit, follow, pause, resume, stop
    experiment_id = submit(config)              # returns at once; the run is on the cluster
    follower = follow(experiment_id, print)     # stored history first, then live messages
"""

from __future__ import annotations

from bearing_workbench.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "connect": "bearing_workbench.runner.cluster",
    "close_local_clusters": "bearing_workbench.runner.cluster",
    "submit": "bearing_workbench.runner.launch",
    "resubmit": "bearing_workbench.runner.launch",
    "reconcile": "bearing_workbench.runner.launch",
    "PRIORITIES": "bearing_workbench.runner.launch",
    "LOST_MESSAGE": "bearing_workbench.runner.launch",
    "pause": "bearing_workbench.runner.control",
    "resume": "bearing_workbench.runner.control",
    "stop": "bearing_workbench.runner.control",
    "cancel": "bearing_workbench.runner.control",
    "follow": "bearing_workbench.runner.following",
    "Follower": "bearing_workbench.runner.following",
    "run_experiment": "bearing_workbench.runner.task",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
