"""Panels layer: the only place that knows widgets. Each panel is one call in a notebook::

    from bearing_workbench.panels import ConfigWizard, TrainingMonitor
    ConfigWizard()                  # configure and launch an experiment
    TrainingMonitor(experiment_id)  # watch it live (replays the stored history first)

Names are loaded on first use, so importing the package does not import ipywidgets or plotly.
"""

from __future__ import annotations

from bearing_workbench.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "ConfigWizard": "bearing_workbench.panels.wizard",
    "TrainingMonitor": "bearing_workbench.panels.monitor",
    "ExperimentResults": "bearing_workbench.panels.results",
    "ExperimentHistory": "bearing_workbench.panels.history",
    "CompareView": "bearing_workbench.panels.compare",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
