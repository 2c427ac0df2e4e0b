"""The configuration wizard: model, configuration, review, launch; clone or resume earlier runs.

``ConfigWizard()`` is one call in a notebook or a Voilà app. The panel is thin: its state is in
traitlets (`step`, `family`, `mode`, `preset`, `dataset`, `name`, `errors`, `valid`, `yaml`,
`experiment_id`), every check is `models.validation.experiment_errors` (what the boundary
`validate_experiment`, called once at launch, refuses), the
estimates and warnings come from `analysis.estimates`, the forms from the schemas
(`models.schema_fields`), and launching is `runner.launch` / `runner.resubmit`.

Only step 1 is built at construction, and neither the store nor torch is touched then: step 2 reads
the datasets and presets when first shown, the review builds the model once to size its checkpoints.
Tests and notebooks drive it as a user would: set widget values, ``.click()`` buttons, read the state.

The class is composed of one mixin per step (`ModelStep`, `PresetChoice` and `ExpertForms` and
`ConfigurationStep` for step 2, `ReviewStep`, `LaunchStep`), each in its own module; they share the
wizard's traits and the caches set up here, and this module holds the navigation between them.
Validation happens in three places, all in `ConfigurationStep`/`ReviewStep`/`LaunchStep`:
`revalidate` (`models.validation.experiment_errors`, ensemble members included) on every change,
`validated_config` (`models.validate_config`) for the review, saving and launching, and
`runner.launch.submit` checks again when the run is submitted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.panels.forms import SchemaForm
from bearing_workbench.panels.kit import Page, fragments
from bearing_workbench.panels.kit.fragments import esc
from bearing_workbench.panels.wizard.configuration import ConfigurationStep
from bearing_workbench.panels.wizard.expert import ExpertForms
from bearing_workbench.panels.wizard.launch import LaunchStep
from bearing_workbench.panels.wizard.model_step import ModelStep
from bearing_workbench.panels.wizard.presets import PresetChoice
from bearing_workbench.panels.wizard.review import ReviewStep

if TYPE_CHECKING:
    from bearing_workbench.store import Store

TITLE = "Experiment configuration"
STEPS = ("Model", "Configuration", "Review", "Launch")
STEP_WORK = {
    2: "reading the datasets and presets…",
    3: "checking the configuration and sizing the model…",
    4: "checking the configuration…",
}


class ConfigWizard(ModelStep, PresetChoice, ExpertForms, ConfigurationStep, ReviewStep, LaunchStep, Page):
    """Configure an experiment in four steps and launch it on the cluster.

    A kit `Page`: its title shows the steps, its message line what the wizard has to say (`tell`),
    its busy indicator the slow moments (sizing the model for the review, submitting).

    Args:
        store: the experiment store (default: the workspace's, opened when first needed).
        client: the Dask client `runner.launch` uses (default: the local cluster or the configured one).
        clone_from: start from the config of this stored experiment (expert mode, step 2).
        family: preselect a model family (step 1 still shows all cards; the wizard app's
            ``?family=`` goes on to step 2).
        members: preselect the ids of an ensemble's members (the family defaults to ensemble; expert
            mode, so that they show in their field, validated like any other).
    """

    app = "wizard"
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
        super().__init__(TITLE, store=store, **kwargs)
        self._store = store
        self.client = client
        self.monitor: Any = None
        self._members = _member_ids(members, family)
        if self._members is not None:
            family = family or "ensemble"
        self.launched_config: ExperimentConfig | None = None
        self.saved_config_path: str | None = None
        self.saved_preset_path: str | None = None
        self._facts_cache: dict[str, Any] = {}  # dataset -> its DatasetRef (None: not found), looked up once
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

        self.back_button = widgets.Button(description="Back")
        self.next_button = widgets.Button(description="Next", button_style="primary", disabled=True)
        self.back_button.on_click(lambda _: self.go_back())
        self.next_button.on_click(lambda _: self.go_next())
        self.body = widgets.Box(layout={"width": "100%"})
        self.set_body([self.body, self.message, widgets.HBox([self.back_button, self.next_button])])
        self._build_step1()
        self.observe(self._on_step, names="step")
        self.observe(self._on_family, names="family")
        self.observe(self._on_mode, names="mode")
        self.observe(self._on_preset, names="preset")
        self.observe(self._on_dataset, names="dataset")
        self.observe(self._on_name, names="name")
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

    def _show_step(self) -> None:
        parts = []
        for number, title in enumerate(STEPS, start=1):
            text = f"{number} {title}"
            parts.append(f"<b>{esc(text)}</b>" if number == self.step else fragments.muted(text))
        self.set_title(TITLE, f'<span class="bw-wizard-steps">{" &rsaquo; ".join(parts)}</span>')
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
            self.tell("choose a model first", "error")
            self.step = 1
            return
        # The review builds the model once to size its checkpoints (seconds the first time): say so.
        work = STEP_WORK.get(step)
        with self.busy.working(work) if work else contextlib.nullcontext():
            builders = {2: self._build_step2, 3: self._build_step3, 4: self._build_step4}
            for number in range(2, step + 1):  # later steps read what step 2 holds
                if number not in self._built:
                    builders[number]()
            self.tell("")
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

    def app_params(self) -> dict[str, object]:
        """The wizard app's query for what is shown: the family, or the experiment it was cloned from."""
        return {"family": self.family, "clone": self.parent_id}

    def close(self) -> None:
        """Close the wizard and the monitor it opened (the page closes the widgets it shows)."""
        self._close_monitor()
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
