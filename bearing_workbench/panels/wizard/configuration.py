"""Step 2 of the wizard: dataset, split, preset or expert settings; the live check of the config."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from bearing_workbench.config import SplitConfig, preset_config
from bearing_workbench.models import validation
from bearing_workbench.models.schema_fields import data_section, training_section
from bearing_workbench.panels.forms import SchemaForm
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.wizard.markup import LABEL_FITS, error_html, plain_text

if TYPE_CHECKING:
    from bearing_workbench.models.validation import DatasetFacts

NO_DATASET = (
    "no dataset is registered in this workspace: generate one (bearing-workbench generate-data "
    "--register, or the getting-started notebook) and reopen the wizard"
)


class ConfigurationStep:
    """Step 2: the page, the config it describes (`current_config`) and its messages by field."""

    def _build_step2(self) -> None:
        self.mode_buttons = widgets.ToggleButtons(
            options=[("Preset", "preset"), ("Expert", "expert")],
            value=self.mode,
            tooltips=["Start from a tested preset", "Set every parameter (form from the schemas)"],
        )
        widgets.link((self.mode_buttons, "value"), (self, "mode"))
        records = self.store.list_datasets()
        self._datasets = {record.name: record for record in records}
        options = [
            (f"{r.name} ({r.n_records} records, {r.n_classes} classes, {r.n_samples / r.fs:g} s)", r.name)
            for r in records
        ]
        if self.dataset is not None and self.dataset not in self._datasets:
            options.append((self.dataset, self.dataset))  # a cloned config may name a dataset file
        self.dataset_dropdown = widgets.Dropdown(
            options=options,
            value=None,
            description="Dataset",
            tooltip="Registered datasets of this workspace",
            layout={"width": "520px"},
            style=LABEL_FITS,
        )
        self.dataset_message = widgets.HTML(error_html(NO_DATASET) if not options else "")

        self.split_inputs = {
            part: widgets.FloatText(
                value=default,
                description=part,
                tooltip=f"Percentage of the records in the {part} split (the three add up to 100)",
                layout={"width": "160px"},
                style={"description_width": "40px"},
            )
            for part, default in (("train", 70.0), ("val", 15.0), ("test", 15.0))
        }
        for split_input in self.split_inputs.values():
            split_input.observe(lambda change: self._quiet or self.revalidate(), names="value")
        self.split_counts = widgets.HTML()
        self.split_message = widgets.HTML()
        split_box = widgets.VBox(
            [
                widgets.HTML("Split of the records, in % (records never cross splits):"),
                widgets.HBox([*self.split_inputs.values(), self.split_counts]),
                self.split_message,
            ]
        )

        self.preset_cards: dict[str, tuple[widgets.Button, widgets.VBox]] = {}
        self.preset_box = widgets.Box(layout={"flex_flow": "row wrap"})
        self._load_presets()
        self._common_form = SchemaForm([data_section(), training_section()], self.revalidate)
        self.model_form_box = widgets.Box()
        self.expert_box = widgets.VBox([self.model_form_box, self._common_form.widget])
        self.step2_message = widgets.HTML()
        self._pages[2] = widgets.VBox(
            [
                self.mode_buttons,
                widgets.HTML("<b>Data</b>"),
                self.dataset_dropdown,
                self.dataset_message,
                split_box,
                widgets.HTML("<b>Settings</b>"),
                self.preset_box,
                self.expert_box,
                self.step2_message,
            ]
        )
        self._built.add(2)
        self._quiet = True
        try:
            if self.dataset is None and options:
                self.dataset = options[0][1]
            self.dataset_dropdown.value = self.dataset
            widgets.link((self.dataset_dropdown, "value"), (self, "dataset"))
        finally:
            self._quiet = False
        self._refresh_preset_cards()
        self._show_mode()
        # The review builds the model once to size its checkpoints: import torch meanwhile, off the
        # UI thread, so that the Next click does not wait for it.
        threading.Thread(
            target=importlib.import_module,
            args=("bearing_workbench.models.builders",),
            name="bearing-workbench-warm-up",
            daemon=True,
        ).start()

    def _on_mode(self, change: Mapping[str, Any]) -> None:
        if 2 in self._built:
            self._show_mode()
        if not self._quiet and self.step >= 2:
            self.revalidate()

    def _on_dataset(self, change: Mapping[str, Any]) -> None:
        if 2 in self._built:
            self._refresh_preset_cards()
        if not self._quiet and self.step >= 2:
            self.revalidate()

    def _show_mode(self) -> None:
        expert = self.mode == "expert"
        if expert and self.family is not None:
            form = self.model_form()
            if self._fill_needed:
                self._fill_from_preset()
            self.model_form_box.children = (form.widget,)
        self.preset_box.layout.display = "none" if expert else ""
        self.expert_box.layout.display = "" if expert else "none"

    def _set_split(self, split: Mapping[str, Any]) -> None:
        quiet, self._quiet = self._quiet, True
        try:
            for part, box in self.split_inputs.items():
                if part in split:
                    box.value = float(split[part])
        finally:
            self._quiet = quiet

    def split_values(self) -> dict[str, float]:
        """The split editor's percentages."""
        if 2 not in self._built:
            self._build_step2()
        return {part: float(box.value) for part, box in self.split_inputs.items()}

    def current_config(self) -> dict[str, Any]:
        """The config the wizard shows now, as a mapping (not validated: see `errors`)."""
        if self.family is None:
            raise ValueError("choose a model family first")
        if 2 not in self._built:
            self._build_step2()
        dataset = self.dataset or ""
        if self.mode == "preset":
            config = preset_config(self._presets.get(self.preset, self.preset), self.family, dataset)
        else:
            common = self.common_form.values()
            params = self.model_form().values()["model"]["params"]
            config = {
                "data": {"dataset": dataset, **common["data"]},
                "model": {"family": self.family, "params": params},
                "training": common["training"],
            }
        config["data"]["split"] = self.split_values()
        config["name"] = self.name.strip() or None
        return config

    def _facts(self, dataset: str | None = None) -> DatasetFacts | None:
        ref = self._dataset_ref(dataset)
        if ref is None:
            return None
        try:  # the record counts of the split being edited (data.splits, as the run draws them)
            split = SplitConfig(**self.split_values()) if 2 in self._built else SplitConfig()
            return validation.facts_for(ref, split)
        except ValueError:
            return None

    def _dataset_ref(self, dataset: str | None = None) -> Any:
        """The dataset's `DatasetRef` (None: not found), looked up once per dataset."""
        dataset = dataset or self.dataset
        if not dataset:
            return None
        if dataset not in self._facts_cache:
            from bearing_workbench.data.lookup import DatasetNotFound, resolve_dataset

            try:
                self._facts_cache[dataset] = resolve_dataset(dataset, self.store)
            except DatasetNotFound:
                self._facts_cache[dataset] = None
        return self._facts_cache[dataset]

    def revalidate(self) -> None:
        """Check the current config (what every change does) and show each message by its field."""
        if self.family is None or 2 not in self._built or self._quiet:
            return
        config = self.current_config()
        # Every check of the boundary (members included), the dataset looked up once per dataset.
        found = validation.experiment_errors(config, self.store, dataset=self._dataset_ref())
        errors: dict[str, str] = {}
        for error in found:
            errors[error.field] = (
                f"{errors[error.field]}; {error.message}" if error.field in errors else error.message
            )
        self.errors = errors
        self.valid = not errors
        self._show_errors(errors)
        self._update_split_counts()
        if self.step == 3 and 3 in self._built:
            self._refresh_review()
        if self.step == 4 and 4 in self._built:
            self._refresh_launch()
        self._update_nav()

    def field_message(self, path: str) -> str:
        """The message shown next to the field at dotted `path` ('' when it has none)."""
        if path == "data.dataset":
            return plain_text(self.dataset_message.value)
        if path.startswith("data.split"):
            return plain_text(self.split_message.value)
        if path == "name" and 3 in self._built:
            return plain_text(self.name_message.value)
        for form in (self.model_form(), self.common_form):
            field_input = form.input_for(path)
            if field_input is not None:
                return field_input.message_text
        return ""

    def _show_errors(self, errors: Mapping[str, str]) -> None:
        rest = dict(errors)
        dataset_error = rest.pop("data.dataset", "")
        if not self._datasets and not self.dataset:
            dataset_error = NO_DATASET
        self.dataset_message.value = error_html(dataset_error)
        split = {
            path: rest.pop(path)
            for path in list(rest)
            if path == "data.split" or path.startswith("data.split.")
        }
        self.split_message.value = error_html(
            "; ".join(
                f"{path.removeprefix('data.split').lstrip('.') or 'split'}: {m}" for path, m in split.items()
            )
        )
        name_error = rest.pop("name", "")
        if 3 in self._built:
            self.name_message.value = error_html(name_error)
        elif name_error:
            rest["name"] = name_error
        if self.mode == "expert":
            rest = self.model_form().show_errors(rest)
            rest = self.common_form.show_errors(rest)
        else:
            for form in (*self._model_forms.values(), self.common_form):
                form.show_errors({})
        lines = [f"{path or 'config'}: {message}" for path, message in rest.items()]
        if lines and self.mode == "preset":
            lines.append("(switch to Expert mode to change these settings)")
        self.step2_message.value = "<br>".join(error_html(line) for line in lines)

    def _update_split_counts(self) -> None:
        facts = self._facts()
        if facts is None or not facts.records:
            self.split_counts.value = ""
            return
        counts = " / ".join(f"{facts.records[p]} {p}" for p in ("train", "val", "test"))
        self.split_counts.value = fragments.muted(f"{counts} of {facts.n_records} records")
