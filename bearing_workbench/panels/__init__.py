"""Panels layer: the only place that knows widgets. Each panel is one call in a notebook::

    from bearing_workbench.panels import ConfigWizard, TrainingMonitor
    ConfigWizard()                  # configure and launch an experiment
    TrainingMonitor(experiment_id)  # watch it live (replays the stored history first)

Names are loaded on first use, so importing the package does not import ipywidgets or plotly.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "ConfigWizard": "bearing_workbench.panels.wizard",
    "TrainingMonitor": "bearing_workbench.panels.monitor",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
