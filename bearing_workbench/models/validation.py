"""The one place that validates a whole experiment config: schema, family params, dataset facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bearing_workbench.config import (
    ConfigError,
    ExperimentConfig,
    FieldError,
    ModelConfig,
    field_errors,
    schema_errors,
)
from bearing_workbench.config.yaml_io import read_yaml
from bearing_workbench.models.registry import (
    FamilySpec,
    UnknownFamilyError,
    get_family,
    unknown_family_message,
)


@dataclass(frozen=True)
class DatasetFacts:
    """What validation needs to know about the chosen dataset.

    Args:
        n_records: records in the whole dataset.
        n_classes: distinct labels.
        n_train: records in the training split (before windowing).
        signal_length: samples per record, when known.
    """

    n_records: int
    n_classes: int
    n_train: int
    signal_length: int | None = None


def input_length(config: ExperimentConfig, facts: DatasetFacts | None) -> int | None:
    """Samples in one model input: the window length, else the record length when known."""
    if config.data.window is not None:
        return config.data.window.length
    return facts.signal_length if facts is not None else None


def training_examples(config: ExperimentConfig, facts: DatasetFacts) -> int:
    """Examples in the training split: records, times windows per record when windowing."""
    window = config.data.window
    if window is None or facts.signal_length is None or window.length > facts.signal_length:
        return facts.n_train
    per_record = (facts.signal_length - window.length) // window.step + 1
    return facts.n_train * per_record


def check_config(
    data: Mapping[str, Any] | ExperimentConfig, dataset: DatasetFacts | None = None
) -> list[FieldError]:
    """Every problem in a config, by field; an empty list means it can run.

    Checks the config schema, then the model family's parameters (``model.params.<name>``), then,
    once both pass, the family's own rules and the facts of the dataset when given.
    """
    return _validate(data, dataset)[2]


def validate_config(
    data: Mapping[str, Any] | ExperimentConfig, dataset: DatasetFacts | None = None
) -> ExperimentConfig:
    """The validated config with every model parameter filled in; raises `ConfigError` otherwise."""
    config, params, errors = _validate(data, dataset)
    if errors or config is None or params is None:
        raise ConfigError(errors)
    full_model = config.model.model_copy(update={"params": params.model_dump(mode="json")})
    return config.model_copy(update={"model": full_model})


def load_config(source: str | Path, dataset: DatasetFacts | None = None) -> ExperimentConfig:
    """Read and fully validate a config from YAML text or a file; problems raise `ConfigError` naming it."""
    data, name = read_yaml(source)
    try:
        return validate_config(data, dataset)
    except ConfigError as exc:
        raise ConfigError(exc.errors, source=name) from None


def model_params(config: ExperimentConfig) -> BaseModel:
    """The typed parameters of the config's model family (what a builder receives)."""
    return get_family(config.model.family).params.model_validate(config.model.params)


def _validate(
    data: Any, facts: DatasetFacts | None
) -> tuple[ExperimentConfig | None, BaseModel | None, list[FieldError]]:
    config, errors = schema_errors(data)
    spec, params, param_errors = _family_params(data, config, blocked=any(_blocks_params(e) for e in errors))
    errors = errors + param_errors
    if errors or config is None or spec is None or params is None:
        return config, params, errors
    errors = _dataset_errors(config, spec, facts)
    if spec.check is not None:
        errors += spec.check(params, config, facts)
    return config, params, errors


def _blocks_params(error: FieldError) -> bool:
    """Whether a schema error leaves no usable model section (so params cannot be checked)."""
    return error.field == "model" or error.field.startswith("model.") or error.field == ""


def _family_params(
    data: Any, config: ExperimentConfig | None, blocked: bool
) -> tuple[FamilySpec | None, BaseModel | None, list[FieldError]]:
    """Validate model.params against the family schema, even when other sections have errors."""
    if blocked:
        return None, None, []
    # When other sections failed, the model section still passed the schema: check its params too.
    model = config.model if config is not None else ModelConfig.model_validate(data["model"])
    family, raw_params = model.family, model.params
    try:
        spec = get_family(family)
    except UnknownFamilyError:
        return None, None, [FieldError("model.family", unknown_family_message(family))]
    try:
        return spec, spec.params.model_validate(raw_params), []
    except ValidationError as exc:
        return spec, None, field_errors(exc, prefix="model.params", schema=spec.params)


def _dataset_errors(
    config: ExperimentConfig, spec: FamilySpec, facts: DatasetFacts | None
) -> list[FieldError]:
    if facts is None:
        return []
    errors = []
    if facts.n_classes < 2:
        errors.append(
            FieldError("data.dataset", f"has {facts.n_classes} class(es); a classifier needs at least 2")
        )
    if facts.n_train < 1:
        errors.append(FieldError("data.split", f"leaves no training records out of {facts.n_records}"))
    window = config.data.window
    if window is not None and facts.signal_length is not None and window.length > facts.signal_length:
        errors.append(
            FieldError(
                "data.window.length", f"must be at most the record length ({facts.signal_length} samples)"
            )
        )
    if spec.epoch_based and facts.n_train >= 1:
        examples = training_examples(config, facts)
        batch_size = config.training.batch_size
        if batch_size > examples:
            fits = 1 << (examples.bit_length() - 1)
            errors.append(
                FieldError(
                    "training.batch_size",
                    f"must be at most the training-set size: {batch_size} > {examples} training examples "
                    f"(try {fits})",
                )
            )
    return errors
