"""Form descriptions of the config sections, and configs filled with every default."""

from __future__ import annotations

import pytest

from bearing_workbench.config import ConfigError, TrainingConfig, preset_config
from bearing_workbench.models import list_families, param_fields
from bearing_workbench.models.registry import ParamField
from bearing_workbench.models.schema_fields import (
    FormSection,
    data_section,
    filled_config,
    model_section,
    training_section,
)


def _leaves(section: FormSection) -> dict[str, object]:
    found = {}
    for item in section.items:
        if isinstance(item, FormSection):
            found.update(_leaves(item))
        else:
            found[f"{section.path}.{item.name}"] = item
    return found


def test_training_section_covers_every_field_with_nested_sections() -> None:
    section = training_section()
    leaves = _leaves(section)
    assert section.field_paths() == list(leaves)
    for name in TrainingConfig.model_fields:
        assert any(path == f"training.{name}" or path.startswith(f"training.{name}.") for path in leaves), (
            name
        )
    batch = leaves["training.batch_size"]
    assert (batch.type, batch.default, batch.minimum, batch.maximum) == ("int", 32, 1, 4096)
    assert leaves["training.optimizer"].choices == ("adam", "sgd", "adamw")
    assert leaves["training.gradient_clip"].nullable and leaves["training.gradient_clip"].exclusive_minimum


def test_data_section_has_an_optional_window_the_augmentation_and_the_normalisation() -> None:
    window, augmentation, normalisation = data_section().items
    assert isinstance(window, FormSection) and window.nullable and window.path == "data.window"
    assert _leaves(window)["data.window.length"].default == 20480
    assert isinstance(augmentation, FormSection) and not augmentation.nullable
    leaves = _leaves(augmentation)
    assert leaves["data.augmentation.amplitude_scale"].type == "list"
    stretch = leaves["data.augmentation.time_stretch"]
    colouring = leaves["data.augmentation.band_colouring_db"]
    assert (stretch.default, stretch.maximum, colouring.default, colouring.maximum) == (0.0, 0.3, 0.0, 24.0)
    assert isinstance(normalisation, ParamField) and normalisation.name == "normalisation"
    assert (normalisation.default, normalisation.choices) == ("none", ("none", "standardise", "rms"))
    assert "data.normalisation" in data_section().field_paths()


def test_model_sections_are_the_family_params() -> None:
    for family in list_families():
        section = model_section(family)
        assert section.path == "model.params"
        assert [item.name for item in section.items] == [f.name for f in param_fields(family)]


def test_filled_config_applies_every_default_but_no_family_rule() -> None:
    filled = filled_config(preset_config("quick", "ensemble", "demo"))
    assert filled["model"]["params"]["members"] == []  # the family rule (2 to 7 members) is not applied
    assert filled["training"]["scheduler"]["name"] == "none"
    assert filled["data"]["augmentation"]["time_shift"] == 0.0
    with pytest.raises(ConfigError) as err:
        filled_config(preset_config("quick", "cnn1d", "demo", {"model.params.filters": 1}))
    assert err.value.errors[0].field == "model.params.filters"
    with pytest.raises(ConfigError) as err:
        filled_config(preset_config("quick", "nope", "demo"))
    assert err.value.errors[0].field == "model.family"
