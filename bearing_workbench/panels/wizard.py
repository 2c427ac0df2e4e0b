"""The configuration wizard: model, configuration, review, launch; clone or resume earlier runs.

``ConfigWizard()`` is one call in a notebook or a Voilà app. The panel is thin: its state is in
traitlets (`step`, `family`, `mode`, `preset`, `dataset`, `name`, `errors`, `valid`, `yaml`,
`experiment_id`), every check is `models.check_config` (the same one `runner.launch` applies), the
estimates and warnings come from `training.estimates`, the forms from the schemas
(`models.schema_fields`), and launching is `runner.launch` / `runner.resubmit`.

Only step 1 is built at construction, and neither the store nor torch is touched then: step 2 reads
the datasets and presets when first shown, the review builds the model once to size its checkpoints.
Tests and notebooks drive it as a user would: set widget values, ``.click()`` buttons, read the state.
"""

from __future__ import annotations

import html
import importlib
import json
import logging
import re
import shutil
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.config import (
    ConfigError,
    ExperimentConfig,
    Preset,
    TrainingConfig,
    list_presets,
    load_preset,
    preset_config,
    save_user_preset,
)
from bearing_workbench.config.naming import auto_experiment_name, preset_identifier
from bearing_workbench.models import check_config, get_family, list_families, validate_config
from bearing_workbench.models.config_summary import config_summary
from bearing_workbench.models.schema_fields import (
    data_section,
    filled_config,
    model_section,
    training_section,
)
from bearing_workbench.panels.forms import ERROR_COLOR, SchemaForm
from bearing_workbench.training.estimates import (
    estimate_checkpoints,
    estimate_training_time,
    family_overview,
    format_bytes,
    gpu_lines,
    input_spec_for,
    review_warnings,
)

if TYPE_CHECKING:
    from bearing_workbench.models.validation import DatasetFacts
    from bearing_workbench.store import Store

log = logging.getLogger(__name__)

STEPS = ("Model", "Configuration", "Review", "Launch")
RESUMABLE = ("failed", "stopped")
LAUNCHED_NOTE = "training runs in the background; you can close this page"
NO_DATASET = (
    "no dataset is registered in this workspace: generate one (bearing-workbench generate-data "
    "--register, or the getting-started notebook) and reopen the wizard"
)
_SELECTED_BORDER = "2px solid #1976d2"
_CARD_BORDER = "1px solid #c8c8c8"


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _error_html(message: str) -> str:
    return f'<span style="color:{ERROR_COLOR};font-size:90%">{_esc(message)}</span>' if message else ""


def _card(title: str, lines: list[str], tooltip: str, width: str) -> tuple[widgets.Button, widgets.VBox]:
    button = widgets.Button(description=title, tooltip=tooltip, layout={"width": "100%"})
    body = "<br>".join(lines)
    text = widgets.HTML(f'<div style="font-size:90%;line-height:1.35">{body}</div>')
    card = widgets.VBox([button, text], layout={"width": width, "border": _CARD_BORDER, "padding": "6px"})
    card.layout.margin = "4px"
    return button, card


def _highlight(cards: Mapping[str, tuple[widgets.Button, widgets.VBox]], selected: str | None) -> None:
    for key, (button, card) in cards.items():
        chosen = key == selected
        button.button_style = "info" if chosen else ""
        card.layout.border = _SELECTED_BORDER if chosen else _CARD_BORDER


class ConfigWizard(widgets.VBox):
    """Configure an experiment in four steps and launch it on the cluster.

    Args:
        store: the experiment store (default: the workspace's, opened when first needed).
        client: the Dask client `runner.launch` uses (default: the local cluster or the configured one).
        clone_from: start from the config of this stored experiment (expert mode, step 2).
        family: preselect a model family (step 1 still shows all cards).
        members: preselect the ids of an ensemble's members (the family defaults to ensemble; expert
            mode, so that they show in their field, validated like any other).
    """

    step = traitlets.Int(1)
    family = traitlets.Unicode(None, allow_none=True)
    mode = traitlets.Enum(("preset", "expert"), "preset")
    preset = traitlets.Unicode("quick")
    dataset = traitlets.Unicode(None, allow_none=True)
    name = traitlets.Unicode("")
    errors = traitlets.Dict()
    valid = traitlets.Bool(False)
    yaml = traitlets.Unicode("")
    experiment_id = traitlets.Int(None, allow_none=True)
    parent_id = traitlets.Int(None, allow_none=True)
    message = traitlets.Unicode("")
    warnings = traitlets.List(traitlets.Unicode())

    def __init__(
        self,
        *,
        store: Store | None = None,
        client: Any = None,
        clone_from: int | None = None,
        family: str | None = None,
        members: Sequence[int] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._store = store
        self.client = client
        self.monitor: Any = None
        self.notifications: Any = None  # the shared notification area, once a run is launched
        self._members = _member_ids(members, family)
        if self._members is not None:
            family = family or "ensemble"
        self.launched_config: ExperimentConfig | None = None
        self.saved_config_path: str | None = None
        self.saved_preset_path: str | None = None
        self._facts_cache: dict[str, DatasetFacts | None] = {}
        self._info_cache: dict[str, Any] = {}
        self._checkpoint_cache: dict[str, Any] = {}
        self._model_forms: dict[str, SchemaForm] = {}
        self._common_form: SchemaForm | None = None
        self._fill_needed = True  # expert forms take the selected preset's values when next shown
        self._auto_name: str | None = None
        self._auto_preset_name = ""
        self._built: set[int] = set()
        self._pages: dict[int, widgets.Widget] = {}
        self._quiet = False  # set while several traits change at once (clone): one validation after
        self._launched = False

        self.header = widgets.HTML()
        self.message_html = widgets.HTML()
        self.back_button = widgets.Button(description="Back")
        self.next_button = widgets.Button(description="Next", button_style="primary", disabled=True)
        self.back_button.on_click(lambda _: self.go_back())
        self.next_button.on_click(lambda _: self.go_next())
        self.body = widgets.Box(layout={"width": "100%"})
        self.children = [
            self.header,
            self.body,
            self.message_html,
            widgets.HBox([self.back_button, self.next_button]),
        ]
        self._build_step1()
        self.observe(self._on_step, names="step")
        self.observe(self._on_family, names="family")
        self.observe(self._on_mode, names="mode")
        self.observe(self._on_preset, names="preset")
        self.observe(self._on_dataset, names="dataset")
        self.observe(self._on_name, names="name")
        self.observe(lambda change: self._show_message(), names="message")
        self._show_step()
        if self._members is not None:
            self.mode = "expert"  # the members field is in the expert form
        if family is not None:
            self.select_family(family)
        if clone_from is not None:
            self.clone(clone_from)

    @classmethod
    def from_experiment(
        cls, experiment_id: int, *, store: Store | None = None, client: Any = None
    ) -> ConfigWizard:
        """A wizard filled from the stored config of experiment `experiment_id`, at step 2."""
        return cls(store=store, client=client, clone_from=experiment_id)

    # -- shared plumbing ---------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The experiment store (opened on first use)."""
        if self._store is None:
            from bearing_workbench.store import Store

            self._store = Store()
        return self._store

    def _show_message(self) -> None:
        self.message_html.value = f"<div>{_esc(self.message)}</div>" if self.message else ""

    def _show_step(self) -> None:
        parts = []
        for number, title in enumerate(STEPS, start=1):
            text = f"{number} {title}"
            parts.append(
                f"<b>{text}</b>" if number == self.step else f'<span style="color:#777">{text}</span>'
            )
        self.header.value = f"<h3>Experiment configuration</h3><div>{' &rsaquo; '.join(parts)}</div>"
        self.body.children = (self._pages[self.step],)
        self._update_nav()

    def _update_nav(self) -> None:
        self.back_button.disabled = self.step == 1
        self.next_button.layout.display = "none" if self.step == len(STEPS) else ""
        if self.step == 1:
            self.next_button.disabled = self.family is None
        else:
            self.next_button.disabled = not self.valid

    def go_next(self) -> None:
        """Next step, when the current one is complete (what the Next button does)."""
        if self.step < len(STEPS) and not self.next_button.disabled:
            self.step += 1

    def go_back(self) -> None:
        """Previous step (what the Back button does)."""
        if self.step > 1:
            self.step -= 1

    def _on_step(self, change: Mapping[str, Any]) -> None:
        step = int(change["new"])
        if not 1 <= step <= len(STEPS):
            self.step = change["old"]
            return
        if step >= 2 and self.family is None:
            self.message = "choose a model first"
            self.step = 1
            return
        builders = {2: self._build_step2, 3: self._build_step3, 4: self._build_step4}
        for number in range(2, step + 1):  # later steps read what step 2 holds
            if number not in self._built:
                builders[number]()
        self.message = ""
        if step == 3:
            self._quiet = True
            try:
                self._name_if_unset()
            finally:
                self._quiet = False
        if step == 4 and change["old"] == 3:
            self._reset_launch()
        self.revalidate()  # also refreshes the review or launch page shown
        self._show_step()

    # -- step 1: model -----------------------------------------------------------------------------

    def _build_step1(self) -> None:
        standard = load_preset("standard").expected_accuracy
        self.family_cards: dict[str, tuple[widgets.Button, widgets.VBox]] = {}
        for name in list_families():
            overview = family_overview(name, standard)
            lines = [
                _esc(overview.description),
                f"<b>Accuracy:</b> {_esc(overview.accuracy)}",
                f"<b>Training time:</b> {_esc(overview.time)}",
            ]
            button, card = _card(overview.title, lines, f"Source: {overview.source}", "300px")
            button.on_click(lambda _b, family=name: self.select_family(family))
            self.family_cards[name] = (button, card)
        cards = widgets.Box(
            [card for _, card in self.family_cards.values()], layout={"flex_flow": "row wrap"}
        )
        self.history_dropdown = widgets.Dropdown(
            options=[], description="Experiment", layout={"width": "520px"}
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
        _highlight(self.family_cards, self.family)
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

    # -- step 2: configuration ---------------------------------------------------------------------

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
        )
        self.dataset_message = widgets.HTML(_error_html(NO_DATASET) if not options else "")

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

    def _presets_dir(self) -> Any:
        from bearing_workbench.store.config_files import presets_dir

        return presets_dir(self.store.workspace)

    def _load_presets(self) -> None:
        try:
            self._presets: dict[str, Preset] = {p.name: p for p in list_presets(self._presets_dir())}
        except ConfigError as exc:  # a broken user preset file must not hide the built-in ones
            self.message = str(exc)
            self._presets = {p.name: p for p in list_presets()}
        self.preset_cards = {}
        for name, preset in self._presets.items():
            button, card = _card(preset.title, [], f"{preset.title}: {preset.description}", "260px")
            button.on_click(lambda _b, chosen=name: self.select_preset(chosen))
            self.preset_cards[name] = (button, card)
        self.preset_box.children = [card for _, card in self.preset_cards.values()]
        if self.preset not in self._presets:
            self.preset = "quick"
        self._refresh_preset_cards()

    def _refresh_preset_cards(self) -> None:
        """Preset details, with the time estimated for the chosen family and dataset."""
        if 2 not in self._built:
            return
        facts = self._facts()
        for name, (_, card) in self.preset_cards.items():
            preset = self._presets[name]
            epochs = preset.training.get("epochs", TrainingConfig.model_fields["epochs"].default)
            lines = [_esc(preset.description)] if preset.description else []
            lines.append(f"<b>Epochs:</b> {_esc(epochs)}")
            if preset.expected_time:
                lines.append(f"<b>Time:</b> {_esc(preset.expected_time)}")
            if preset.expected_accuracy:
                lines.append(f"<b>Expected accuracy:</b> {_esc(preset.expected_accuracy)}")
            estimate = self._preset_estimate(preset, facts)
            if estimate:
                lines.append(f"<b>Here ({_esc(self.family)}, {_esc(self.dataset)}):</b> {_esc(estimate)}")
            card.children[1].value = f'<div style="font-size:90%;line-height:1.35">{"<br>".join(lines)}</div>'
        _highlight(self.preset_cards, self.preset)

    def _preset_estimate(self, preset: Preset, facts: DatasetFacts | None) -> str | None:
        if self.family is None or not self.dataset:
            return None
        try:
            config = ExperimentConfig.model_validate(
                filled_config(preset_config(preset, self.family, self.dataset))
            )
        except ConfigError:
            return None
        return estimate_training_time(config, facts).text

    def select_preset(self, name: str) -> None:
        """Choose preset `name` (what clicking its card does)."""
        if 2 not in self._built:
            self._build_step2()
        if name not in self._presets:
            known = ", ".join(self._presets)
            self.message = f"unknown preset {name!r}; known presets: {known}"
            return
        self.preset = name

    def _on_preset(self, change: Mapping[str, Any]) -> None:
        self._fill_needed = True
        if 2 in self._built:
            _highlight(self.preset_cards, self.preset)
            split = self._presets[self.preset].data.get("split") if self.preset in self._presets else None
            if isinstance(split, Mapping):  # a user preset saved from the wizard keeps its split
                self._set_split(split)
        if not self._quiet and self.step >= 2:
            self.revalidate()

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

    def model_form(self, family: str | None = None) -> SchemaForm:
        """The expert form of a family's parameters (built on first use, filled from the preset)."""
        family = family or self.family
        if family is None:
            raise ValueError("choose a model family first")
        if family not in self._model_forms:
            form = SchemaForm([model_section(family)], self.revalidate, ref_options=self._ref_options)
            form.widget.selected_index = 0  # the family's own parameters open, the rest folded
            self._model_forms[family] = form
            values = self._preset_values(family)
            if values is not None:
                form.set_values(values)
        return self._model_forms[family]

    @property
    def common_form(self) -> SchemaForm:
        """The expert form of the data (windows, augmentation) and training sections."""
        if self._common_form is None:
            self._build_step2()
        assert self._common_form is not None
        return self._common_form

    def _ref_options(self, ref: str) -> list[tuple[str, Any]]:
        if ref != "experiment":
            return []
        records = self.store.list_experiments(status="completed", limit=200)
        options = [(f"#{r.id} {r.name} ({r.family})", r.id) for r in records if r.family != "ensemble"]
        offered = {value for _, value in options}
        for member in self._members or ():  # preselected ones that cannot be chosen: say what they are
            if member not in offered:
                try:
                    record = self.store.get_experiment(member)
                except LookupError:
                    continue  # the form shows it as not found
                options.append((f"#{record.id} {record.name} ({record.family}, {record.status})", record.id))
        return options

    def _preset_values(self, family: str) -> dict[str, Any] | None:
        preset = self._presets.get(self.preset) if 2 in self._built else None
        try:
            values = filled_config(preset_config(preset or self.preset, family, self.dataset or "dataset"))
        except ConfigError as exc:
            self.message = f"preset {self.preset} does not fit {family}: {exc}"
            return None
        if family == "ensemble" and self._members is not None:
            values["model"]["params"]["members"] = list(self._members)
        return values

    def _fill_from_preset(self) -> None:
        if self.family is None:
            return
        values = self._preset_values(self.family)
        if values is not None:
            self.common_form.set_values(values)
            self.model_form().set_values(values)
        self._fill_needed = False

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
        dataset = dataset or self.dataset
        if not dataset:
            return None
        if dataset not in self._facts_cache:
            from bearing_workbench.training.dataset_facts import dataset_facts

            self._facts_cache[dataset] = dataset_facts({"data": {"dataset": dataset}}, self.store)
        return self._facts_cache[dataset]

    def revalidate(self) -> None:
        """Check the current config (what every change does) and show each message by its field."""
        if self.family is None or 2 not in self._built or self._quiet:
            return
        config = self.current_config()
        found = check_config(config, self._facts())
        if self.family == "ensemble":
            from bearing_workbench.models.ensemble_members import member_errors  # imports the store

            members = config["model"].get("params", {}).get("members") or []
            found += member_errors(self.store, members if isinstance(members, list) else [])
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
            return _plain(self.dataset_message.value)
        if path.startswith("data.split"):
            return _plain(self.split_message.value)
        if path == "name" and 3 in self._built:
            return _plain(self.name_message.value)
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
        self.dataset_message.value = _error_html(dataset_error)
        split = {
            path: rest.pop(path)
            for path in list(rest)
            if path == "data.split" or path.startswith("data.split.")
        }
        self.split_message.value = _error_html(
            "; ".join(
                f"{path.removeprefix('data.split').lstrip('.') or 'split'}: {m}" for path, m in split.items()
            )
        )
        name_error = rest.pop("name", "")
        if 3 in self._built:
            self.name_message.value = _error_html(name_error)
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
        self.step2_message.value = "<br>".join(_error_html(line) for line in lines)

    def _update_split_counts(self) -> None:
        facts = self._facts()
        if facts is None:
            self.split_counts.value = ""
            return
        values = self.split_values()
        counts = " / ".join(
            f"~{round(facts.n_records * values[p] / 100)} {p}" for p in ("train", "val", "test")
        )
        self.split_counts.value = f'<span style="color:#555">{counts} of {facts.n_records} records</span>'

    # -- step 3: review ----------------------------------------------------------------------------

    def _build_step3(self) -> None:
        self.name_input = widgets.Text(
            description="Name",
            tooltip="Shown in the experiment browser; generated, edit it freely",
            layout={"width": "520px"},
            continuous_update=False,
        )
        self.name_message = widgets.HTML()
        self.summary_html = widgets.HTML()
        self.estimate_html = widgets.HTML()
        self.warnings_html = widgets.HTML()
        self.yaml_html = widgets.HTML()
        self.yaml_box = widgets.Accordion([self.yaml_html], titles=("Full configuration (YAML)",))
        self.save_config_button = widgets.Button(
            description="Save config", tooltip="Write the YAML into the workspace's configs folder"
        )
        self.preset_name_input = widgets.Text(
            description="Preset name",
            tooltip="Letters, digits and _; the preset appears in step 2 (any dataset)",
            layout={"width": "320px"},
        )
        self.save_preset_button = widgets.Button(
            description="Save as preset", tooltip="Keep these settings as a user preset"
        )
        self.save_status = widgets.HTML()
        self.save_config_button.on_click(lambda _: self.save_config())
        self.save_preset_button.on_click(lambda _: self.save_as_preset())
        self._pages[3] = widgets.VBox(
            [
                self.name_input,
                self.name_message,
                self.summary_html,
                self.estimate_html,
                self.warnings_html,
                self.yaml_box,
                widgets.HBox([self.save_config_button, self.preset_name_input, self.save_preset_button]),
                self.save_status,
            ]
        )
        self._built.add(3)
        widgets.link((self, "name"), (self.name_input, "value"))  # the wizard's name fills the input

    def _taken_names(self, search: str) -> list[str]:
        return [record.name for record in self.store.list_experiments(search=search, limit=None)]

    def _name_if_unset(self) -> None:
        if self.name and self.name != self._auto_name:
            return  # the user's own name stays
        setting = self.preset if self.mode == "preset" else "custom"
        self._auto_name = auto_experiment_name(
            self.family or "", setting, self.dataset or "", self._taken_names(self.family or "")
        )
        self.name = self._auto_name

    def _on_name(self, change: Mapping[str, Any]) -> None:
        if 3 in self._built and self.preset_name_input.value in ("", self._auto_preset_name):
            # follows the name until the user types a preset name of their own
            self._auto_preset_name = preset_identifier(self.name)
            self.preset_name_input.value = self._auto_preset_name
        if not self._quiet and self.step >= 2:
            self.revalidate()

    def validated_config(self) -> ExperimentConfig:
        """The config that would be launched, every default filled; raises `ConfigError` when invalid."""
        return validate_config(self.current_config(), self._facts())

    def _refresh_review(self) -> None:
        if not self.valid:
            self.yaml = ""
            self.yaml_html.value = ""
            self.summary_html.value = _error_html("the configuration has problems: go back to fix them")
            self.estimate_html.value = self.warnings_html.value = ""
            self.warnings = []
            return
        config = self.validated_config()
        self.yaml = config.to_yaml()
        self.yaml_html.value = f'<pre style="font-size:85%">{_esc(self.yaml)}</pre>'
        facts = self._facts()
        info = self._dataset_info()
        rows = config_summary(config, facts, fs=info.fs if info is not None else None)
        self.summary_html.value = (
            "<table>"
            + "".join(
                f'<tr><td style="padding-right:12px;vertical-align:top"><b>{_esc(label)}</b></td>'
                f"<td>{_esc(text)}</td></tr>"
                for label, text in rows
            )
            + "</table>"
        )
        resources = self._resources()
        on_gpu = bool(resources and resources.get("gpus"))
        estimate = estimate_training_time(config, facts, on_gpu=on_gpu)
        checkpoints, checkpoint_problem = self._checkpoints(config, info)
        lines = [f"<b>Estimated time:</b> {_esc(estimate.text)} <i>({_esc(estimate.basis)})</i>"]
        if checkpoints is not None:
            onnx = f", ONNX file {format_bytes(checkpoints.onnx_bytes)}" if checkpoints.onnx_bytes else ""
            lines.append(
                f"<b>Disk:</b> about {format_bytes(checkpoints.total_bytes)} ({checkpoints.parameters:,} "
                f"parameters; up to {checkpoints.files} checkpoints of "
                f"{format_bytes(checkpoints.checkpoint_bytes)}{onnx})"
            )
        elif checkpoint_problem:
            lines.append(f"<b>Disk:</b> {_esc(checkpoint_problem)}")
        lines.extend(_esc(line) for line in gpu_lines(resources))
        self.estimate_html.value = "<br>".join(lines)
        free = shutil.disk_usage(self.store.workspace).free
        warnings = review_warnings(
            config,
            facts,
            time_estimate=estimate,
            checkpoints=checkpoints,
            resources=resources,
            free_disk_bytes=free,
        )
        if checkpoint_problem and checkpoints is None and get_family(config.model.family).epoch_based:
            warnings.append(checkpoint_problem)
        self.warnings = warnings
        self.warnings_html.value = (
            "<b>Warnings</b><ul>" + "".join(f"<li>{_esc(w)}</li>" for w in warnings) + "</ul>"
            if warnings
            else ""
        )

    def _dataset_info(self) -> Any:
        dataset = self.dataset
        if not dataset:
            return None
        if dataset not in self._info_cache:
            from bearing_workbench.data.dataset_file import read_info
            from bearing_workbench.training.dataset_facts import resolve_dataset_path

            try:
                self._info_cache[dataset] = read_info(resolve_dataset_path(dataset, self.store))
            except (LookupError, ValueError, OSError):
                self._info_cache[dataset] = None
        return self._info_cache[dataset]

    def _checkpoints(self, config: ExperimentConfig, info: Any) -> tuple[Any, str]:
        """(estimate or None, why there is none); cached per config, the name left out."""
        if info is None:
            return None, "checkpoint size unknown: the dataset cannot be read"
        if not get_family(config.model.family).epoch_based:
            return None, "no checkpoint files (this family saves no network weights)"
        key = json.dumps(config.model_dump(mode="json", exclude={"name", "provenance"}), sort_keys=True)
        if key not in self._checkpoint_cache:
            try:
                self._checkpoint_cache[key] = (estimate_checkpoints(config, input_spec_for(config, info)), "")
            except Exception as exc:  # the builder's own message says what does not fit the data
                self._checkpoint_cache[key] = (None, f"the model cannot be built for this dataset: {exc}")
        return self._checkpoint_cache[key]

    def _resources(self) -> dict[str, Any] | None:
        from bearing_workbench.runner.resources import sample_resources

        try:
            return sample_resources()
        except Exception:  # psutil on an odd platform: the review goes on without load figures
            log.exception("resource sample failed")
            return None

    def save_config(self) -> str | None:
        """Write the YAML into `<workspace>/configs/`; returns the path (what "Save config" does)."""
        from bearing_workbench.store.config_files import save_config_file

        if not self.valid:
            self.save_status.value = _error_html("fix the configuration first")
            return None
        config = self.validated_config()
        path = save_config_file(config, config.name or "config", self.store.workspace, overwrite=True)
        self.saved_config_path = str(path)
        self.save_status.value = f"Saved the config to <code>{_esc(path)}</code>"
        return self.saved_config_path

    def save_as_preset(self, name: str | None = None) -> str | None:
        """Save the settings as a user preset (any dataset); returns its file (what "Save as preset" does)."""
        if name is not None:
            self.preset_name_input.value = name
        preset_name = self.preset_name_input.value.strip()
        if not self.valid:
            self.save_status.value = _error_html("fix the configuration first")
            return None
        from bearing_workbench.store.config_files import presets_dir

        try:
            path = save_user_preset(
                preset_name,
                self.validated_config(),
                presets_dir(self.store.workspace, create=True),
                title=preset_name.replace("_", " "),
                description=f"Saved from the wizard ({self.family}, based on {self.name})",
            )
        except ConfigError as exc:
            self.save_status.value = _error_html("; ".join(str(e) for e in exc.errors))
            return None
        except FileExistsError:
            self.save_status.value = _error_html(
                f"preset {preset_name!r} exists already: choose another name"
            )
            return None
        self.saved_preset_path = str(path)
        self._load_presets()
        self.save_status.value = f"Saved preset <b>{_esc(preset_name)}</b> to <code>{_esc(path)}</code>"
        return self.saved_preset_path

    # -- step 4: launch ----------------------------------------------------------------------------

    def _build_step4(self) -> None:
        self._built.add(4)
        self.launch_summary = widgets.HTML()
        self.launch_button = widgets.Button(description="Launch", button_style="success", icon="play")
        self.launch_button.on_click(lambda _: self.launch())
        self.launch_status = widgets.HTML()
        self.monitor_box = widgets.VBox()
        self._pages[4] = widgets.VBox(
            [self.launch_summary, self.launch_button, self.launch_status, self.monitor_box]
        )

    def _reset_launch(self) -> None:
        """Coming back to the launch page after a change: ready for a new launch."""
        if self.monitor is not None and hasattr(self.monitor, "close"):
            self.monitor.close()
        self.monitor = None
        self.monitor_box.children = ()
        self.launch_status.value = ""
        self._launched = False

    def _refresh_launch(self) -> None:
        if self._launched:
            return  # the page shows the run
        self.launch_summary.value = (
            f"Launch <b>{_esc(self.name)}</b> ({_esc(self.family)} on {_esc(self.dataset)}): it is queued "
            f"on the Dask cluster and {LAUNCHED_NOTE}."
        )
        self.launch_button.disabled = not self.valid

    def launch(self) -> int | None:
        """Submit the config to the cluster and open its monitor; returns the new experiment's id."""
        from bearing_workbench.runner.launch import submit

        if not self.valid:
            self.launch_status.value = _error_html("the configuration has problems: go back to fix them")
            return None
        self.launch_button.disabled = True
        config = self.validated_config()
        try:
            experiment_id = submit(config, client=self.client, store=self.store, parent_id=self.parent_id)
        except ConfigError as exc:  # the dataset changed since the review
            self.launch_status.value = _error_html("; ".join(str(e) for e in exc.errors))
            self.launch_button.disabled = False
            return None
        self.launched_config = config
        self._show_launched(experiment_id, "launched")
        self._announce(experiment_id, config.name, "started")
        return experiment_id

    def resume(self, experiment_id: int) -> int | None:
        """Launch a failed or stopped experiment again from its latest checkpoint (what "Resume" does)."""
        from bearing_workbench.runner.launch import resubmit

        record = self.store.get_experiment(experiment_id)
        if str(record.status) not in RESUMABLE:
            self.message = (
                f"experiment #{experiment_id} is {record.status}: only a failed or stopped run can be resumed"
            )
            return None
        resubmit(experiment_id, client=self.client, store=self.store)
        if 4 not in self._built:
            self._build_step4()
        self._quiet = True
        try:
            self.family = record.family
        finally:
            self._quiet = False
        self._show_launched(experiment_id, "resumed from its latest checkpoint")
        self.step = 4
        self._announce(experiment_id, record.name, "resumed")
        return experiment_id

    def _announce(self, experiment_id: int, name: str | None, verb: str) -> None:
        """A "started" toast in the shared notification area, shown above the wizard; the first launch
        also offers browser notifications."""
        try:
            from bearing_workbench.panels.toast_area import notification_area

            area = notification_area(self.store)
            area.ask_for_permission()
            area.started(experiment_id, name, verb)
        except Exception:  # the run is launched whatever happens to its toast
            log.exception("no notification for experiment %s", experiment_id)
            return
        self.notifications = area
        if area not in self.children:
            self.children = (area, *self.children)

    def _show_launched(self, experiment_id: int, verb: str) -> None:
        self._launched = True
        self.launch_button.disabled = True
        self.experiment_id = experiment_id
        self.launch_summary.value = ""
        self.launch_status.value = f"Experiment <b>#{experiment_id}</b> {_esc(verb)}: {LAUNCHED_NOTE}."
        self._open_monitor(experiment_id)

    def _open_monitor(self, experiment_id: int) -> None:
        if self.monitor is not None and hasattr(self.monitor, "close"):
            self.monitor.close()
        try:
            from bearing_workbench.panels.monitor import TrainingMonitor

            monitor = TrainingMonitor(experiment_id, store=self.store, client=self.client)
        except Exception as exc:  # the run is launched whatever happens to its view
            log.exception("could not open the monitor of experiment %s", experiment_id)
            self.monitor = None
            self.monitor_box.children = (
                widgets.HTML(
                    _error_html(
                        f"could not open the monitor ({exc}); open it with TrainingMonitor({experiment_id})"
                    )
                ),
            )
            return
        self.monitor = monitor
        view = monitor if isinstance(monitor, widgets.Widget) else getattr(monitor, "widget", None)
        if isinstance(view, widgets.Widget):
            self.monitor_box.children = (view,)
        else:
            from IPython.display import display

            output = widgets.Output()
            with output:
                display(monitor)
            self.monitor_box.children = (output,)

    # -- clone -------------------------------------------------------------------------------------

    def clone(self, experiment_id: int) -> None:
        """Fill the wizard from experiment `experiment_id`'s stored config (expert mode, step 2)."""
        record = self.store.get_experiment(experiment_id)
        try:
            values = filled_config(record.config)
        except ConfigError as exc:
            self.message = f"experiment #{experiment_id} cannot be cloned: {exc}"
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
        self.message = (
            f"cloned from experiment #{experiment_id} ({record.name}); {record.family} settings loaded"
        )

    def close(self) -> None:
        """Close the wizard and the monitor it opened."""
        if self.monitor is not None and hasattr(self.monitor, "close"):
            self.monitor.close()
        super().close()


def _member_ids(members: Sequence[int] | None, family: str | None) -> list[int] | None:
    """The `members` argument as a list of ids; ValueError naming it when it is not one."""
    if members is None:
        return None
    if family not in (None, "ensemble"):
        raise ValueError(f"members: only the ensemble family combines members, not {family!r}")
    if isinstance(members, str | bytes) or not isinstance(members, Sequence):
        raise ValueError(f"members: expected a list of experiment ids, got {members!r}")
    bad = [m for m in members if isinstance(m, bool) or not isinstance(m, int)]
    if bad:
        raise ValueError(f"members: expected experiment ids (integers), got {bad[0]!r}")
    return list(members)


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))
