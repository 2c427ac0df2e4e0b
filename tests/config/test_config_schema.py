"""ExperimentConfig: defaults, rules with field messages, YAML round trip and safe loading."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field, ValidationError

from bearing_workbench.config import (
    ConfigError,
    ExperimentConfig,
    FieldError,
    Provenance,
    TrainingConfig,
    field_errors,
    schema_errors,
)


def minimal() -> dict:
    return {"data": {"dataset": "synthetic"}, "model": {"family": "cnn1d"}}


def full() -> dict:
    return {
        "name": "round trip",
        "data": {
            "dataset": "datasets/lab.h5",
            "split": {"train": 60, "val": 20, "test": 20},
            "window": {"length": 2048, "hop": 1024},
            "augmentation": {
                "time_shift": 0.1,
                "amplitude_scale": [0.8, 1.25],
                "gaussian_noise_snr_db": 20.0,
                "mixup_alpha": 0.2,
            },
        },
        "model": {"family": "transformer", "params": {"d_model": 128, "n_heads": 8}},
        "training": {
            "batch_size": 64,
            "epochs": 40,
            "learning_rate": 3e-4,
            "optimizer": "sgd",
            "scheduler": {"name": "cosine", "warmup_epochs": 3, "min_lr": 1e-6},
            "early_stopping": {"enabled": True, "patience": 5, "min_delta": 0.001},
            "gradient_clip": 2.5,
            "checkpoint": {"policy": "every_epoch", "keep_last": 4},
            "export_onnx": False,
            "mixed_precision": True,
            "seed": 7,
        },
        "provenance": {"package_version": "0.1.0", "git_commit": "a" * 40},
    }


def errors_of(data: dict) -> list[FieldError]:
    config, errors = schema_errors(data)
    assert config is None
    return errors


def test_defaults_fill_every_section() -> None:
    config = ExperimentConfig.model_validate(minimal())
    assert (config.data.split.train, config.data.split.val, config.data.split.test) == (70, 15, 15)
    assert config.data.window is None and not config.data.augmentation.enabled
    assert config.training.batch_size == 32 and config.training.optimizer == "adam"
    assert config.model.params == {}
    assert isinstance(config.provenance, Provenance)


@pytest.mark.parametrize(
    ("section", "value", "field", "fragment"),
    [
        ("training", {"batch_size": 48}, "training.batch_size", "must be a power of 2 (e.g. 32, 64)"),
        ("training", {"learning_rate": 5e-7}, "training.learning_rate", "at least 1e-06"),
        ("training", {"learning_rate": 1.5}, "training.learning_rate", "at most 1"),
        ("training", {"epochs": 501}, "training.epochs", "at most 500"),
        (
            "training",
            {"epochs": 5, "scheduler": {"warmup_epochs": 5}},
            "training.scheduler.warmup_epochs",
            "less than epochs (5)",
        ),
        ("training", {"optimizer": "rmsprop"}, "training.optimizer", "must be one of: adam, sgd, adamw"),
        ("training", {"epochs": "ten"}, "training.epochs", "must be a whole number"),
        ("training", {"weight_decay": "lots"}, "training.weight_decay", "must be a number"),
        ("training", {"bach_size": 32}, "training.bach_size", "did you mean 'batch_size'"),
        (
            "data",
            {"dataset": "x", "split": {"train": 80, "val": 15, "test": 15}},
            "data.split",
            "they add up to 110",
        ),
        (
            "data",
            {"dataset": "x", "split": {"train": 0.7, "val": 0.15, "test": 0.15}},
            "data.split",
            "not fractions",
        ),
        (
            "data",
            {"dataset": "x", "window": {"length": 512, "hop": 600}},
            "data.window.hop",
            "at most the window length",
        ),
        ("data", {"dataset": "  "}, "data.dataset", "must not be empty"),
        ("data", {"split": {}}, "data.dataset", "is required"),
    ],
)
def test_rules_report_the_field_and_a_plain_message(
    section: str, value: dict, field: str, fragment: str
) -> None:
    data = minimal()
    data[section] = value
    errors = errors_of(data)
    matching = [error for error in errors if error.field == field]
    assert matching, errors
    assert fragment in matching[0].message
    assert all("Input should" not in error.message for error in errors)


def test_every_problem_is_reported_at_once() -> None:
    data = minimal()
    data["training"] = {"batch_size": 3, "epochs": 0, "optimizer": "nadam"}
    data["data"]["split"] = {"train": 50, "val": 10, "test": 10}
    fields = {error.field for error in errors_of(data)}
    assert {"training.batch_size", "training.epochs", "training.optimizer", "data.split"} <= fields


def test_extra_top_level_field_is_a_typo() -> None:
    data = minimal() | {"trainig": {"epochs": 3}}
    [error] = errors_of(data)
    assert error.field == "trainig"
    assert "unknown field (check the spelling" in error.message and "'training'" in error.message


def test_from_mapping_raises_config_error_listing_fields() -> None:
    data = minimal() | {"training": {"batch_size": 100}}
    with pytest.raises(ConfigError) as caught:
        ExperimentConfig.from_mapping(data, source="my.yaml")
    assert caught.value.errors == [FieldError("training.batch_size", "must be a power of 2 (e.g. 32, 64)")]
    assert "my.yaml" in str(caught.value) and "training.batch_size" in str(caught.value)
    assert caught.value.by_field() == {"training.batch_size": ["must be a power of 2 (e.g. 32, 64)"]}


def test_not_a_mapping() -> None:
    assert errors_of([1, 2])[0].message.startswith("must be a mapping")
    assert "is empty" in errors_of(None)[0].message  # type: ignore[arg-type]


def test_assignment_is_validated() -> None:
    training = TrainingConfig()
    with pytest.raises(ValidationError):
        training.batch_size = 12


def test_min_lr_must_sit_below_learning_rate() -> None:
    data = minimal() | {"training": {"learning_rate": 1e-4, "scheduler": {"min_lr": 1e-3}}}
    [error] = errors_of(data)
    assert error.field == "training.scheduler.min_lr" and "0.0001" in error.message
    data["training"]["scheduler"]["name"] = "none"  # no decay, so no rule
    assert schema_errors(data)[1] == []


def test_field_errors_with_prefix_and_list_indices() -> None:
    class Params(BaseModel):
        sizes: list[int] = Field(default_factory=list)
        rate: float = Field(0.1, ge=0.0, le=1.0)

    with pytest.raises(ValidationError) as caught:
        Params.model_validate({"sizes": [1, "x"], "rate": 3})
    errors = field_errors(caught.value, prefix="model.params")
    assert FieldError("model.params.sizes[1]", "must be a whole number") in errors
    assert FieldError("model.params.rate", "must be at most 1 (got 3)") in errors


def test_yaml_round_trip_is_equal() -> None:
    config = ExperimentConfig.model_validate(full())
    text = config.to_yaml()
    assert "!!" not in text  # plain YAML, no Python tags
    again = ExperimentConfig.from_yaml(text)
    assert again == config
    assert again.to_yaml() == text


def test_yaml_round_trip_through_a_file(tmp_path: Path) -> None:
    config = ExperimentConfig.model_validate(full())
    path = tmp_path / "experiment.yaml"
    path.write_text(config.to_yaml(), encoding="utf-8")
    assert ExperimentConfig.from_yaml(path) == config
    assert ExperimentConfig.from_yaml(str(path)) == config


def test_yaml_python_object_tag_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'data: !!python/object/apply:os.system ["touch {marker}"]\nmodel: {{family: cnn1d}}\n'
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        ExperimentConfig.from_yaml(path)
    assert str(path) in str(caught.value)
    assert "python/object/apply" in str(caught.value)
    assert not marker.exists()


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("data:\n  dataset: [unclosed\nmodel: {family: cnn1d}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.yaml") as caught:
        ExperimentConfig.from_yaml(broken)
    assert "not valid YAML (line" in str(caught.value)

    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(
        "data: {dataset: x}\nmodel: {family: cnn1d}\ntraining: {epochs: 0}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="invalid.yaml") as caught:
        ExperimentConfig.from_yaml(invalid)
    assert caught.value.errors[0].field == "training.epochs"

    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        ExperimentConfig.from_yaml(empty)

    with pytest.raises(ConfigError, match="file not found"):
        ExperimentConfig.from_yaml(tmp_path / "missing.yaml")


def test_provenance_is_recorded_and_can_be_restamped() -> None:
    config = ExperimentConfig.model_validate(full())
    assert config.provenance.git_commit == "a" * 40
    fresh = config.with_current_provenance()
    assert fresh.provenance == Provenance.current()
    assert fresh.training == config.training
