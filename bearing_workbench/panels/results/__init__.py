"""The results page of one experiment, ``ExperimentResults(experiment_id)``: one module per tab
(`overview`, `details`, `visuals` with `failures`, `artifacts` with `report`), the page in `page`."""

from __future__ import annotations

from bearing_workbench.panels.results.page import TAB_TITLES, ExperimentResults

__all__ = ["TAB_TITLES", "ExperimentResults"]
