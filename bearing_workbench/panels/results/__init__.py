"""The results page of one experiment, ``ExperimentResults(experiment_id)``: one module per tab
(`overview`, `details`, `visuals` with `failures`, `artifacts` with `downloads` and `report`), the
page of a stopped or failed run in `ended`, the page itself in `page`."""

from __future__ import annotations

from bearing_workbench.panels.results.page import TAB_TITLES, ExperimentResults

__all__ = ["TAB_TITLES", "ExperimentResults"]
