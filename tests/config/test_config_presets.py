"""Presets: the built-in four, configs built from them, and user presets saved atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from bearing_workbench.config import (
    BUILTIN_PRESETS,
    ConfigError,
    ExperimentConfig,
    list_presets,
    load_preset,
    preset_config,
    save_user_preset,
)


def test_four_builtin_presets_with_card_text() -> None:
    presets = list_presets()
    assert [preset.name for preset in presets] == ["quick", "standard", "max", "fast"]
    assert [preset.title for preset in presets] == [
        "Quick test",
        "Standard training",
        "Maximum accuracy",
        "Fast iteration",
    ]
    for preset in presets:
        assert preset.builtin
        assert preset.description and "\n" not in preset.description
        assert "2-core CPU" in (preset.expected_time or "")
        assert "%" in (preset.expected_accuracy or "")


def test_preset_training_sections() -> None:
    quick, standard, best, fast = (load_preset(name).training for name in BUILTIN_PRESETS)
    assert quick["epochs"] == 3
    assert 20 <= standard["epochs"] <= 40
    assert 80 <= best["epochs"] <= 120 and best["early_stopping"]["enabled"]
    assert 5 <= fast["epochs"] <= 15
    assert fast["learning_rate"] > standard["learning_rate"] and fast["batch_size"] > standard["batch_size"]


def test_every_builtin_preset_passes_the_config_schema() -> None:
    for name in BUILTIN_PRESETS:
        config = ExperimentConfig.from_mapping(preset_config(name, "cnn1d", "synthetic"))
        assert config.data.dataset == "synthetic"
        assert config.training.epochs == load_preset(name).training["epochs"]


def test_preset_config_applies_family_overrides_and_dotted_overrides() -> None:
    config = preset_config(
        "quick",
        "cnn1d",
        "lab",
        {"training.epochs": 5, "model.params.dropout": 0.2, "data.window.length": 1024, "name": "mine"},
    )
    assert config["name"] == "mine"
    assert config["training"]["epochs"] == 5
    assert config["model"] == {
        "family": "cnn1d",
        "params": {**load_preset("quick").model["cnn1d"], "dropout": 0.2},
    }
    assert config["data"]["window"] == {"length": 1024}
    # The preset itself is left untouched.
    assert load_preset("quick").training["epochs"] == 3
    assert "dropout" not in load_preset("quick").model["cnn1d"]


def test_preset_config_for_a_family_without_overrides() -> None:
    config = preset_config("standard", "resnet1d", "lab")
    assert config["model"] == {"family": "resnet1d", "params": {}}


def test_override_inside_a_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="training.epochs"):
        preset_config("quick", "cnn1d", "lab", {"training.epochs.max": 5})
    with pytest.raises(ConfigError, match="not a valid dotted key"):
        preset_config("quick", "cnn1d", "lab", {"training..epochs": 5})


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'slow'.*quick, standard, max, fast"):
        load_preset("slow")


def test_user_preset_save_and_load(tmp_path: Path) -> None:
    config = ExperimentConfig.from_mapping(
        preset_config(
            "standard",
            "transformer",
            "lab",
            {"training.epochs": 12, "model.params.n_layers": 3, "data.augmentation.time_shift": 0.2},
        )
    )
    path = save_user_preset("my_transformer", config, tmp_path, description="Three layers, short run")
    assert path == tmp_path / "my_transformer.yaml"
    assert [p.name for p in tmp_path.iterdir()] == ["my_transformer.yaml"]  # no temp file left behind

    preset = load_preset("my_transformer", tmp_path)
    assert not preset.builtin and preset.title == "my_transformer"
    assert preset.description == "Three layers, short run"
    assert [p.name for p in list_presets(tmp_path)][-1] == "my_transformer"

    rebuilt = ExperimentConfig.from_mapping(preset_config(preset, "transformer", "other"))
    assert rebuilt.training == config.training
    assert rebuilt.model == config.model
    assert rebuilt.data.augmentation == config.data.augmentation
    assert rebuilt.data.dataset == "other"  # presets do not bind a dataset


def test_user_preset_is_not_overwritten_by_accident(tmp_path: Path) -> None:
    config = preset_config("quick", "cnn1d", "lab")
    save_user_preset("mine", config, tmp_path)
    with pytest.raises(FileExistsError, match="mine"):
        save_user_preset("mine", preset_config("max", "cnn1d", "lab"), tmp_path)
    assert load_preset("mine", tmp_path).training["epochs"] == 3
    save_user_preset("mine", preset_config("max", "cnn1d", "lab"), tmp_path, overwrite=True)
    assert load_preset("mine", tmp_path).training["epochs"] == 100


@pytest.mark.parametrize("name", ["../escape", "1st", "my-preset", "", "a b", "quick"])
def test_bad_user_preset_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="preset"):
        save_user_preset(name, preset_config("quick", "cnn1d", "lab"), tmp_path / "presets")
    assert not (tmp_path / "presets").exists()


def test_invalid_config_is_not_saved(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="training.batch_size"):
        save_user_preset("odd", preset_config("quick", "cnn1d", "lab", {"training.batch_size": 33}), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_broken_user_preset_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.yaml"):
        load_preset("broken", tmp_path)
    (tmp_path / "typo.yaml").write_text("title: T\ntraning: {epochs: 3}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="traning: unknown field"):
        load_preset("typo", tmp_path)
