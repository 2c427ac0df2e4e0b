"""The wizard's expert forms (step 2, expert mode): generated from the schemas, filled from a preset."""

from __future__ import annotations

from typing import Any

from bearing_workbench.config import ConfigError, preset_config
from bearing_workbench.models.schema_fields import filled_config, model_section
from bearing_workbench.panels.forms import SchemaForm


class ExpertForms:
    """Step 2 in expert mode: a form per family's parameters and one for the data and training sections."""

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
            self.tell(f"preset {self.preset} does not fit {family}: {exc}", "warning")
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
