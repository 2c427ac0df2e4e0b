"""The launch controls of the Evaluations tab: evaluate the experiment's model on another registered
dataset (which split, and a classes map when the dataset names its classes differently), or run a
robustness sweep on its own test split. They check what was typed and hand it on; the tab
(`evaluations`) submits the job."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from bearing_workbench.panels.kit import MessageLine, fragments

CLASSES_MAP_FIELD = "classes map"
EXAMPLE = "a=b, c=d"
ALL_RECORDS = "all"  # a Dropdown shows no choice for the value None: "all" stands for it
# (what the dropdown says, the split the runner takes; ALL_RECORDS: every record of the dataset)
SPLITS: tuple[tuple[str, str], ...] = (
    ("all records", ALL_RECORDS),
    ("test split", "test"),
    ("validation split", "val"),
    ("training split", "train"),
)
SWEEP = "noise at SNR 20, 10 and 5 dB, gain x0.5 and x2, speed -10 % and +10 %"


def _row() -> widgets.Layout:
    return widgets.Layout(align_items="center", flex_flow="row wrap")


class LaunchControls(widgets.VBox):
    """Dataset, split and classes map, and the two buttons.

    Args:
        datasets: the registered datasets' names, in the dropdown's order (the first one chosen).
        on_evaluate: called with (dataset, split or None, classes map) once the fields are valid.
        on_robustness: called by the "Robustness sweep" button.

    Parts: `dataset`, `split`, `classes_map`, `evaluate_button`, `robustness_button`, `message` (what
    was wrong with the fields).
    """

    def __init__(
        self,
        datasets: Sequence[str],
        *,
        on_evaluate: Callable[[str, str | None, Mapping[str, str]], Any],
        on_robustness: Callable[[], Any],
    ):
        self._on_evaluate = on_evaluate
        wide = {"description_width": "initial"}
        self.dataset = widgets.Dropdown(
            options=list(datasets), description="dataset", style=wide, layout=widgets.Layout(width="auto")
        )
        self.split = widgets.Dropdown(
            options=list(SPLITS),
            value=ALL_RECORDS,
            description="records",
            style=wide,
            layout=widgets.Layout(width="auto"),
        )
        self.classes_map = widgets.Text(
            description=CLASSES_MAP_FIELD,
            placeholder=f"optional, e.g. {EXAMPLE}",
            style=wide,
            layout=widgets.Layout(width="300px"),
        )
        self.evaluate_button = widgets.Button(
            description="Evaluate on another dataset",
            button_style="primary",
            layout=widgets.Layout(width="auto"),
        )
        self.evaluate_button.on_click(lambda _: self.evaluate())
        self.robustness_button = widgets.Button(
            description="Robustness sweep", layout=widgets.Layout(width="auto")
        )
        self.robustness_button.on_click(lambda _: on_robustness())
        self.message = MessageLine()
        map_note = widgets.HTML(
            fragments.muted(
                "classes map: dataset class = model class, for a dataset that names its classes "
                "differently; classes are otherwise matched by name"
            )
        )
        sweep_note = widgets.HTML(fragments.muted(f"on the experiment's own test split: {SWEEP}"))
        super().__init__(
            [
                widgets.HBox(
                    [self.dataset, self.split, self.classes_map, self.evaluate_button], layout=_row()
                ),
                self.message,
                map_note,
                widgets.HBox([self.robustness_button, sweep_note], layout=_row()),
            ]
        )
        self.add_class("bw-evaluation-launch")
        if not datasets:
            self.dataset.disabled = self.evaluate_button.disabled = True
            self.message.say("no dataset is registered: import or generate one first", "muted")

    def evaluate(self) -> bool:
        """Check the fields and hand them on; False (and a message naming the field) when one is wrong."""
        if not self.dataset.value:
            self.message.say("dataset: choose a registered dataset", "error")
            return False
        # The CLI's parser (training.cross_evaluation), so the same text means the same map everywhere;
        # imported on the first click (it brings numpy and the prediction code), not with the page.
        from bearing_workbench.training.cross_evaluation import parse_classes_map
        from bearing_workbench.training.sources import PredictionInputError

        try:
            classes_map = parse_classes_map(self.classes_map.value)
        except PredictionInputError as exc:
            self.message.say(f"{CLASSES_MAP_FIELD}: {exc.problem}", "error")
            return False
        self.message.say("")
        split = None if self.split.value == ALL_RECORDS else self.split.value
        self._on_evaluate(self.dataset.value, split, classes_map)
        return True

    def set_running(self, running: bool) -> None:
        """Grey the buttons out while this page's evaluation job runs (one at a time)."""
        self.evaluate_button.disabled = running or not self.dataset.options
        self.robustness_button.disabled = running
