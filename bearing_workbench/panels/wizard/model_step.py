"""Step 1 of the wizard: the model family cards, and the earlier experiments to clone or resume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.estimates import family_overview
from bearing_workbench.config import ConfigError, load_preset
from bearing_workbench.config.naming import auto_experiment_name
from bearing_workbench.models import get_family, list_families
from bearing_workbench.models.schema_fields import filled_config
from bearing_workbench.panels.kit.fragments import esc
from bearing_workbench.panels.wizard.launch import RESUMABLE
from bearing_workbench.panels.wizard.markup import LABEL_FITS, choice_card, highlight


class ModelStep:
    """Step 1: choose a family, or start from an earlier experiment (clone; resume is in `LaunchStep`)."""

    def _build_step1(self) -> None:
        standard = load_preset("standard").expected_accuracy
        self.family_cards: dict[str, tuple[widgets.Button, widgets.VBox]] = {}
        for name in list_families():
            overview = family_overview(name, standard)
            lines = [
                esc(overview.description),
                f"<b>Accuracy:</b> {esc(overview.accuracy)}",
                f"<b>Training time:</b> {esc(overview.time)}",
            ]
            button, card = choice_card(overview.title, lines, f"Source: {overview.source}", "300px")
            button.on_click(lambda _b, family=name: self.select_family(family))
            self.family_cards[name] = (button, card)
        cards = widgets.Box(
            [card for _, card in self.family_cards.values()], layout={"flex_flow": "row wrap"}
        )
        self.history_dropdown = widgets.Dropdown(
            options=[], description="Experiment", layout={"width": "520px"}, style=LABEL_FITS
        )
        self.clone_button = widgets.Button(
            description="Clone", tooltip="Start from its config", disabled=True
        )
        self.resume_button = widgets.Button(
            description="Resume",
            tooltip="Continue a failed or stopped run from its checkpoint",
            disabled=True,
        )
        self.refresh_button = widgets.Button(description="Refresh", tooltip="Reload the experiment list")
        self.clone_button.on_click(lambda _: self.clone(self.history_dropdown.value))
        self.resume_button.on_click(lambda _: self.resume(self.history_dropdown.value))
        self.refresh_button.on_click(lambda _: self.refresh_experiments())
        self.history_dropdown.observe(lambda change: self._history_buttons(), names="value")
        self._history_status: dict[int, str] = {}
        self.history_box = widgets.Accordion(
            [
                widgets.VBox(
                    [
                        self.history_dropdown,
                        widgets.HBox([self.clone_button, self.resume_button, self.refresh_button]),
                    ]
                )
            ],
            titles=("Start from an earlier experiment (clone or resume)",),
        )
        # The store is read only when this section is opened: construction stays fast.
        self.history_box.observe(self._on_history_opened, names="selected_index")
        self._pages[1] = widgets.VBox([widgets.HTML("<b>Choose a model family</b>"), cards, self.history_box])
        self._built.add(1)

    def select_family(self, family: str) -> None:
        """Choose model family `family` (what clicking its card does)."""
        get_family(family)  # unknown names raise, listing the known ones
        self.family = family

    def _on_family(self, change: Mapping[str, Any]) -> None:
        highlight(self.family_cards, self.family)
        if 2 in self._built:
            self._show_mode()
            self._refresh_preset_cards()
        if not self._quiet and self.step >= 2:
            self.revalidate()
        self._update_nav()

    def _on_history_opened(self, change: Mapping[str, Any]) -> None:
        if change["new"] is not None:
            self.refresh_experiments()

    def refresh_experiments(self) -> None:
        """Reload the earlier experiments offered for cloning and resuming (newest first)."""
        records = self.store.list_experiments(limit=200)
        self._history_status = {record.id: str(record.status) for record in records}
        self.history_dropdown.options = [
            (f"#{r.id} {r.name} ({r.family}, {r.status})", r.id) for r in records
        ]
        self._history_buttons()

    def _history_buttons(self) -> None:
        chosen = self.history_dropdown.value
        self.clone_button.disabled = chosen is None
        self.resume_button.disabled = self._history_status.get(chosen) not in RESUMABLE

    # -- clone -------------------------------------------------------------------------------------

    def clone(self, experiment_id: int) -> None:
        """Fill the wizard from experiment `experiment_id`'s stored config (expert mode, step 2)."""
        record = self.store.get_experiment(experiment_id)
        try:
            values = filled_config(record.config)
        except ConfigError as exc:
            self.tell(f"experiment #{experiment_id} cannot be cloned: {exc}", "error")
            return
        self._quiet = True
        try:
            self.family = values["model"]["family"]
            self.dataset = values["data"]["dataset"]
            if 2 not in self._built:
                self._build_step2()
            elif self.dataset not in [option[1] for option in self.dataset_dropdown.options]:
                self.dataset_dropdown.options = [*self.dataset_dropdown.options, (self.dataset, self.dataset)]
                self.dataset_dropdown.value = self.dataset
            self._set_split(values["data"]["split"])
            self._fill_needed = False
            self.common_form.set_values(values)
            self.model_form(self.family).set_values(values)
            self.mode = "expert"
            self.parent_id = experiment_id
            self.experiment_id = None
            self._auto_name = auto_experiment_name(record.name, "clone", "", self._taken_names(record.name))
            self.name = self._auto_name
        finally:
            self._quiet = False
        if self.step == 2:
            self.revalidate()
        else:
            self.step = 2
        self.tell(f"cloned from experiment #{experiment_id} ({record.name}); {record.family} settings loaded")
