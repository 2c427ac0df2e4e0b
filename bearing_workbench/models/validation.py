"""The one place that validates a whole experiment config: schema, family params, dataset facts.

`validate_experiment` is the boundary: the wizard, the CLI (`train`, `submit`), papermill parameter
cells and `runner.submit` call it once where a config enters. It looks the dataset up once, checks
everything a run needs (schema, family parameters, the dataset and its split, ensemble members) and
returns a `ValidatedExperiment` that travels typed to the store and the worker; nothing downstream
validates or looks the dataset up again. `check_config` / `validate_config` are the store-free
checks a form runs on every change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from bearing_workbench.config import (
    ConfigError,
    ExperimentConfig,
    FieldError,
    ModelConfig,
    SplitConfig,
    field_errors,
    schema_errors,
)
from bearing_workbench.config.yaml_io import read_yaml
from bearing_workbench.data.lookup import DATASET_FIELD, DatasetNotFound, DatasetRef, resolve_dataset
from bearing_workbench.models.registry import (
    FamilySpec,
    UnknownFamilyError,
    get_family,
    unknown_family_message,
)

if TYPE_CHECKING:
    from bearing_workbench.store import Store


@dataclass(frozen=True)
class DatasetFacts:
    """What validation needs to know about the chosen dataset.

    Args:
        n_records: records in the whole dataset.
        n_classes: distinct labels.
        n_train: records in the training split (before windowing).
        signal_length: samples per record, when known.
        records: records per split (train, val, test) as the run draws them (`data.splits`).
    """

    n_records: int
    n_classes: int
    n_train: int
    signal_length: int | None = None
    records: dict[str, int] = field(default_factory=dict, compare=False)


def split_fractions(split: SplitConfig) -> tuple[float, float, float]:
    """A split's percentages as fractions (train, val, test)."""
    return split.train / 100.0, split.val / 100.0, split.test / 100.0


def facts_for(dataset: DatasetRef, split: SplitConfig) -> DatasetFacts:
    """The facts of `dataset` under `split`; raises ``ValueError`` when the split cannot be drawn.

    The record counts come from `data.splits.records_per_split`, the function the run's split agrees with.
    """
    info = dataset.info
    # here, not at the top: the splits bring numpy and h5py, which a page importing the boundary
    # (the wizard, before any dataset is chosen) does not need yet
    from bearing_workbench.data.splits import records_per_split

    records = records_per_split(
        info.class_counts,
        split_fractions(split),
        stored_sizes=info.split_sizes,
        stored_fractions=info.split_fractions,
    )
    return DatasetFacts(
        n_records=info.n_records,
        n_classes=len(info.class_names),
        n_train=records["train"],
        signal_length=info.n_samples,
        records=records,
    )


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
    """Every problem in a config that can be seen without the store, by field (a form's live check).

    Checks the config schema, then the model family's parameters (``model.params.<name>``), then,
    once both pass, the family's own rules and the facts of the dataset when given. The boundary,
    `validate_experiment`, also looks the dataset up and checks an ensemble's members.
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


# -- the boundary ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidatedExperiment:
    """A config that passed `validate_experiment`: what launching, storing and training receive.

    Args:
        config: the config with every model parameter filled in.
        params: the family's typed parameters (what the builder receives).
        dataset: the dataset, looked up once.
        facts: the dataset's facts under the config's split (record counts per split).
        notes: values a preset had to fit to this dataset, one sentence each (shown to the user).
    """

    config: ExperimentConfig
    params: BaseModel
    dataset: DatasetRef
    facts: DatasetFacts
    notes: tuple[str, ...] = ()

    @property
    def family(self) -> FamilySpec:
        return get_family(self.config.model.family)


def _dataset_name(data: Any) -> str | None:
    if isinstance(data, ExperimentConfig):
        return data.data.dataset
    section = data.get("data") if isinstance(data, Mapping) else None
    name = section.get("dataset") if isinstance(section, Mapping) else None
    if not isinstance(name, str | Path) or not str(name).strip():
        return None  # missing or not text: the schema check names the field
    return str(name).strip()


def _lookup(data: Any, store: Store | None) -> tuple[DatasetRef | None, list[FieldError]]:
    name = _dataset_name(data)
    if name is None:
        return None, []  # the schema check says the field is missing
    try:
        return resolve_dataset(name, store), []
    except DatasetNotFound as exc:
        return None, [FieldError(DATASET_FIELD, exc.problem)]


def _experiment_check(
    data: Any, store: Store | None, dataset: DatasetRef | None, adapt: Collection[str]
) -> tuple[ValidatedExperiment | None, list[FieldError]]:
    from bearing_workbench.models.preset_fit import fit_to_data

    errors: list[FieldError] = []
    if dataset is None or dataset.name != _dataset_name(data):  # a caller's lookup of another dataset
        dataset, errors = _lookup(data, store)
    config, _ = schema_errors(data)
    facts = None
    if config is not None and dataset is not None:
        try:
            facts = facts_for(dataset, config.data.split)
        except ValueError as exc:
            errors.append(FieldError("data.split", str(exc)))
    notes: tuple[str, ...] = ()
    if facts is not None and adapt and isinstance(data, Mapping):
        data, notes = fit_to_data(data, facts, adapt)
    config, params, found = _validate(data, facts)
    errors += [error for error in found if error not in errors]
    if config is not None and params is not None and store is not None and config.model.family == "ensemble":
        from bearing_workbench.models.ensemble_members import member_errors

        errors += member_errors(store, getattr(params, "members", []), dataset=dataset, config=config)
    if errors or config is None or params is None or dataset is None or facts is None:
        return None, errors
    full_model = config.model.model_copy(update={"params": params.model_dump(mode="json")})
    config = config.model_copy(update={"model": full_model})
    return ValidatedExperiment(config, params, dataset, facts, notes), []


def experiment_errors(
    data: Mapping[str, Any] | ExperimentConfig,
    store: Store | None = None,
    *,
    dataset: DatasetRef | None = None,
) -> list[FieldError]:
    """Every problem `validate_experiment` would refuse `data` for, by field (for forms)."""
    return _experiment_check(data, store, dataset, ())[1]


def validate_experiment(
    data: Mapping[str, Any] | ExperimentConfig,
    store: Store | None = None,
    *,
    dataset: DatasetRef | None = None,
    adapt: Collection[str] = (),
) -> ValidatedExperiment:
    """Validate a config completely where it enters; raises `ConfigError` with every problem.

    Checks the schema, the family's parameters, that the dataset exists and can be split as asked,
    the family's rules on its facts, and an ensemble's members (stored, completed, not ensembles,
    on the same dataset and split). Nothing is recorded when it raises.

    Args:
        store: where dataset names and ensemble members are looked up; without it ``data.dataset``
            must be a file path and members are not checked.
        dataset: the dataset already looked up by the caller (from `data.lookup.resolve_dataset`).
        adapt: dotted fields a preset derived that may be fitted to the dataset instead of failing
            (see `models.preset_fit`); each change is said in ``notes``.
    """
    checked, errors = _experiment_check(data, store, dataset, adapt)
    if checked is None:
        raise ConfigError(errors)
    return checked


def ensure_validated(
    data: ValidatedExperiment | Mapping[str, Any] | ExperimentConfig, store: Store | None = None
) -> ValidatedExperiment:
    """`data` itself when it was validated already, else `validate_experiment(data, store)`."""
    if isinstance(data, ValidatedExperiment):
        return data
    return validate_experiment(data, store)
