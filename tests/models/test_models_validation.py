"""check_config / validate_config: schema, family parameters and dataset facts, one list of field errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bearing_workbench.config import BUILTIN_PRESETS, ConfigError, ExperimentConfig, preset_config
from bearing_workbench.models import (
    CNN1DParams,
    DatasetFacts,
    check_config,
    list_families,
    load_config,
    model_params,
    validate_config,
)

DELETE = object()  # marks a key to remove instead of set
READY = {"ensemble": {"model.params.members": [3, 4]}}  # what a family needs chosen before it can run


def config_for(
    family: str = "cnn1d", preset: str = "standard", overrides: dict | None = None
) -> dict[str, Any]:
    """A preset config with dotted-key overrides applied (DELETE removes the key)."""
    dotted = {**READY.get(family, {}), **(overrides or {})}
    kept = {key: value for key, value in dotted.items() if value is not DELETE}
    config = preset_config(preset, family, "synthetic", kept)
    for key, value in dotted.items():
        if value is DELETE:
            *parents, last = key.split(".")
            node = config
            for part in parents:
                node = node[part]
            del node[last]
    return config


# (family, overrides as dotted keys, field expected to be blamed, fragment of its message)
INVALID = [
    ("cnn1d", {"training.batch_size": 48}, "training.batch_size", "must be a power of 2 (e.g. 32, 64)"),
    ("cnn1d", {"training.batch_size": 0}, "training.batch_size", "at least 1"),
    ("cnn1d", {"training.learning_rate": 1e-7}, "training.learning_rate", "at least 1e-06"),
    ("cnn1d", {"training.learning_rate": 2.0}, "training.learning_rate", "at most 1"),
    ("cnn1d", {"training.epochs": 0}, "training.epochs", "at least 1"),
    ("cnn1d", {"training.epochs": 600}, "training.epochs", "at most 500"),
    ("cnn1d", {"data.split.train": 60}, "data.split", "add up to 100; they add up to 90"),
    (
        "cnn1d",
        {"training.scheduler.warmup_epochs": 30},
        "training.scheduler.warmup_epochs",
        "less than epochs (30)",
    ),
    ("cnn1d", {"training.optimizer": "adagrad"}, "training.optimizer", "must be one of: adam, sgd, adamw"),
    ("cnn1d", {"training.batchsize": 32}, "training.batchsize", "unknown field (check the spelling"),
    ("cnn1d", {"training.epochs": "many"}, "training.epochs", "must be a whole number"),
    ("cnn1d", {"training.learning_rate": "fast"}, "training.learning_rate", "must be a number"),
    ("cnn1d", {"training.export_onnx": "perhaps"}, "training.export_onnx", "must be true or false"),
    (
        "cnn1d",
        {"training.checkpoint.policy": "daily"},
        "training.checkpoint.policy",
        "every_epoch, best_only",
    ),
    ("cnn1d", {"data.dataset": DELETE}, "data.dataset", "is required"),
    ("cnn1d", {"data.window": {"length": 1024, "hop": 2048}}, "data.window.hop", "at most the window length"),
    (
        "cnn1d",
        {"data.augmentation.amplitude_scale": [1.2, 0.8]},
        "data.augmentation.amplitude_scale",
        "exceed",
    ),
    ("cnn2d", {}, "model.family", "known families: classical, cnn1d"),
    ("cnn1d", {"model.params.dropout": 1.0}, "model.params.dropout", "less than 1"),
    ("cnn1d", {"model.params.dropout": -0.1}, "model.params.dropout", "at least 0"),
    ("cnn1d", {"model.params.dropuot": 0.1}, "model.params.dropuot", "did you mean 'dropout'"),
    (
        "cnn1d",
        {"model.params.kernel_sizes": [7, 5]},
        "model.params.kernel_sizes",
        "one size per convolution layer",
    ),
    (
        "cnn1d",
        {"model.params.kernel_sizes": [7, 5, 4]},
        "model.params.kernel_sizes[2]",
        "one of: 3, 5, 7, 11",
    ),
    ("cnn1d", {"model.params.filters": 16}, "model.params.filters", "at least 32"),
    (
        "transformer",
        {"model.params.d_model": 100, "model.params.n_heads": 8},
        "model.params.d_model",
        "divisible by n_heads (8)",
    ),
    ("transformer", {"model.params.n_layers": 13}, "model.params.n_layers", "at most 12"),
    ("transformer", {"model.params.patch_size": 100}, "model.params.patch_size", "power of 2"),
    ("resnet1d", {"model.params.depth": 20}, "model.params.depth", "one of: 18, 34, 50"),
    ("spectrogram", {"model.params.transform": "wavelet"}, "model.params.transform", "one of: stft, cwt"),
    ("pinn", {"model.params.lambda_physics": 1.5}, "model.params.lambda_physics", "at most 1"),
    ("classical", {"model.params.algorithm": "knn"}, "model.params.algorithm", "random_forest, svm"),
    ("ensemble", {"model.params.members": [3, 3]}, "model.params.members", "more than once"),
    ("ensemble", {"model.params.members": list(range(1, 9))}, "model.params.members", "at most 7 items"),
    ("ensemble", {"model.params.members": [5]}, "model.params.members", "choose 2 to 7"),
]


@pytest.mark.parametrize(("family", "overrides", "field", "fragment"), INVALID)
def test_invalid_configs_blame_the_right_field(
    family: str, overrides: dict, field: str, fragment: str
) -> None:
    config = config_for(family, overrides=overrides)
    errors = check_config(config)
    messages = [error.message for error in errors if error.field == field]
    assert messages, errors
    assert any(fragment in message for message in messages), messages
    assert all("Input should" not in error.message and "pydantic" not in error.message for error in errors)


@pytest.mark.parametrize("preset", BUILTIN_PRESETS)
@pytest.mark.parametrize("family", list_families())
def test_every_preset_is_valid_for_every_family(preset: str, family: str) -> None:
    assert check_config(config_for(family, preset)) == []
    # the default demo dataset, which the presets are made for (1 s windows of 5 s records)
    facts = DatasetFacts(n_records=1430, n_classes=11, n_train=1001, signal_length=102400)
    assert check_config(config_for(family, preset), facts) == []


def test_errors_in_several_sections_come_together() -> None:
    config = config_for(overrides={"training.epochs": 0, "model.params.dropout": 2.0, "data.split.val": 40})
    fields = {error.field for error in check_config(config)}
    assert fields == {"training.epochs", "model.params.dropout", "data.split"}


def test_config_instance_is_checked_too() -> None:
    config = ExperimentConfig.from_mapping(config_for(overrides={"model.params.n_conv_layers": 4}))
    [error] = check_config(config)
    assert error.field == "model.params.kernel_sizes"


def test_batch_size_against_the_training_set() -> None:
    facts = DatasetFacts(n_records=60, n_classes=4, n_train=42)
    [error] = check_config(config_for(preset="fast"), facts)  # batch 128
    assert error.field == "training.batch_size"
    assert "128" in error.message and "42" in error.message and "try 32" in error.message


def test_windowing_counts_windows_not_records() -> None:
    facts = DatasetFacts(n_records=60, n_classes=4, n_train=42, signal_length=4096)
    windowed = config_for(
        preset="fast", overrides={"data.window": {"length": 1024, "hop": 512}}
    )  # 7 windows per record
    assert check_config(windowed, facts) == []
    too_long = config_for(overrides={"data.window": {"length": 8192}})
    [error] = check_config(too_long, facts)
    assert error.field == "data.window.length" and "4096" in error.message


def test_families_without_batches_skip_the_batch_check() -> None:
    facts = DatasetFacts(n_records=60, n_classes=4, n_train=42)
    assert check_config(config_for("classical", "fast"), facts) == []
    assert check_config(config_for("ensemble", "fast"), facts) == []


def test_dataset_with_one_class() -> None:
    errors = check_config(config_for(), DatasetFacts(n_records=100, n_classes=1, n_train=70))
    assert [error.field for error in errors] == ["data.dataset"]


def test_cross_validation_folds_against_class_sizes() -> None:
    facts = DatasetFacts(n_records=30, n_classes=4, n_train=16)
    [error] = check_config(config_for("classical", overrides={"model.params.cv_folds": 5}), facts)
    assert error.field == "model.params.cv_folds" and "at most 4" in error.message
    assert check_config(config_for("classical", overrides={"model.params.cv_folds": 4}), facts) == []


def test_input_length_limits_patches_and_stft_windows() -> None:
    window = {"length": 128}
    [error] = check_config(
        config_for("transformer", overrides={"data.window": window, "model.params.patch_size": 256})
    )
    assert error.field == "model.params.patch_size" and "128" in error.message
    [error] = check_config(
        config_for("spectrogram", overrides={"data.window": window, "model.params.stft_window": 256})
    )
    assert error.field == "model.params.stft_window"
    cwt = config_for("spectrogram", overrides={"data.window": window, "model.params.transform": "cwt"})
    assert check_config(cwt) == []


def test_validate_config_fills_parameters() -> None:
    config = validate_config(config_for("cnn1d", "standard"))
    assert isinstance(config, ExperimentConfig)
    assert config.model.params == CNN1DParams().model_dump(mode="json")
    params = model_params(config)
    assert isinstance(params, CNN1DParams) and params.kernel_sizes == [7, 5, 3]


def test_validate_config_raises_with_every_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(config_for(overrides={"training.batch_size": 30, "model.params.pooling": "median"}))
    assert {error.field for error in caught.value.errors} == {"training.batch_size", "model.params.pooling"}
    text = str(caught.value)
    assert "training.batch_size: must be a power of 2" in text and "model.params.pooling" in text


def test_load_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    config = ExperimentConfig.from_mapping(config_for(overrides={"model.params.kernel_sizes": [3, 3]}))
    path.write_text(config.to_yaml(), encoding="utf-8")
    with pytest.raises(ConfigError, match="run.yaml") as caught:
        load_config(path)
    assert caught.value.errors[0].field == "model.params.kernel_sizes"

    path.write_text(ExperimentConfig.from_mapping(config_for()).to_yaml(), encoding="utf-8")
    assert load_config(path).model.params["kernel_sizes"] == [7, 5, 3]
