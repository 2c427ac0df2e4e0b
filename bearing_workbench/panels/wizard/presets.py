"""The wizard's preset cards (step 2, preset mode): built-in and user presets, with estimates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bearing_workbench.analysis.estimates import estimate_training_time, family_overview
from bearing_workbench.config import (
    ConfigError,
    ExperimentConfig,
    Preset,
    TrainingConfig,
    list_presets,
    preset_config,
)
from bearing_workbench.models import get_family, param_fields
from bearing_workbench.models.schema_fields import filled_config
from bearing_workbench.panels.forms import field_label
from bearing_workbench.panels.kit.fragments import esc
from bearing_workbench.panels.wizard.markup import card_text, choice_card, highlight

if TYPE_CHECKING:
    from bearing_workbench.models.validation import DatasetFacts


class PresetChoice:
    """Step 2 in preset mode: one card per preset, the chosen one highlighted."""

    def _presets_dir(self) -> Any:
        from bearing_workbench.store.config_files import presets_dir

        return presets_dir(self.store.workspace)

    def _load_presets(self) -> None:
        try:
            self._presets: dict[str, Preset] = {p.name: p for p in list_presets(self._presets_dir())}
        except ConfigError as exc:  # a broken user preset file must not hide the built-in ones
            self.tell(str(exc), "error")
            self._presets = {p.name: p for p in list_presets()}
        self.preset_cards = {}
        for name, preset in self._presets.items():
            button, card = choice_card(preset.title, [], f"{preset.title}: {preset.description}", "260px")
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
            lines = preset_card_lines(self._presets[name], self.family, self.dataset, facts)
            card.children[1].value = card_text(lines)
        highlight(self.preset_cards, self.preset)

    def select_preset(self, name: str) -> None:
        """Choose preset `name` (what clicking its card does)."""
        if 2 not in self._built:
            self._build_step2()
        if name not in self._presets:
            known = ", ".join(self._presets)
            self.tell(f"unknown preset {name!r}; known presets: {known}", "error")
            return
        self.preset = name

    def _on_preset(self, change: Mapping[str, Any]) -> None:
        self._fill_needed = True
        if 2 in self._built:
            highlight(self.preset_cards, self.preset)
            split = self._presets[self.preset].data.get("split") if self.preset in self._presets else None
            if isinstance(split, Mapping):  # a user preset saved from the wizard keeps its split
                self._set_split(split)
        if not self._quiet and self.step >= 2:
            self.revalidate()


def preset_card_lines(
    preset: Preset, family: str | None, dataset: str | None, facts: DatasetFacts | None
) -> list[str]:
    """What a preset's card says for `family` on `dataset`, as escaped HTML lines.

    A preset's epochs and its rough time and accuracy ranges describe networks. A family without a
    training loop (classical, ensemble) gets no epochs and none of those ranges: its card shows what
    the preset sets for it, the family's measured accuracy and the time estimated from the family's
    measured figures (`analysis.estimates`).
    """
    estimate = _estimate(preset, family, dataset, facts)
    here = f"<b>Here ({esc(family)}, {esc(dataset)}):</b> {esc(estimate)}" if estimate else ""
    if family is not None and not get_family(family).epoch_based:
        overrides = preset.model.get(family) or {}
        labels = {spec.name: field_label(spec) for spec in param_fields(family)}
        settings = ", ".join(f"{labels.get(key, key)} {_shown(value)}" for key, value in overrides.items())
        lines = [f"<b>Sets:</b> {esc(settings or f'the {family} defaults')}"]
        lines.append(f"<b>Accuracy:</b> {esc(family_overview(family).accuracy)}")
        return [*lines, here] if here else lines
    lines = [esc(preset.description)] if preset.description else []
    epochs = preset.training.get("epochs", TrainingConfig.model_fields["epochs"].default)
    lines.append(f"<b>Epochs:</b> {esc(epochs)}")
    if preset.expected_time:
        lines.append(f"<b>Time:</b> {esc(preset.expected_time)}")
    if preset.expected_accuracy:
        lines.append(f"<b>Expected accuracy:</b> {esc(preset.expected_accuracy)}")
    return [*lines, here] if here else lines


def _estimate(preset: Preset, family: str | None, dataset: str | None, facts: DatasetFacts | None) -> str:
    """The training time `estimate_training_time` gives this preset here ('' without family or data)."""
    if family is None or not dataset:
        return ""
    try:
        config = ExperimentConfig.model_validate(filled_config(preset_config(preset, family, dataset)))
    except ConfigError:
        return ""
    return estimate_training_time(config, facts).text


def _shown(value: Any) -> str:
    return ", ".join(str(item) for item in value) if isinstance(value, list | tuple) else str(value)
