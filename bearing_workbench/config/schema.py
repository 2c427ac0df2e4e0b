"""The experiment configuration: pydantic schemas for data, model, training and provenance.

Model parameters are kept here as a plain mapping; `bearing_workbench.models` validates them against
the family's own schema (this layer knows nothing of model families).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bearing_workbench.config.messages import ConfigError, FieldError, field_errors, rule_error
from bearing_workbench.config.provenance import current_provenance
from bearing_workbench.config.yaml_io import dump_yaml, read_yaml

NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ScaleBound = Annotated[float, Field(gt=0.0, le=10.0)]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SplitConfig(Section):
    """Train/validation/test percentages of the records (split by record, before windowing)."""

    train: float = Field(70.0, gt=0.0, lt=100.0, description="Percentage of records used for training.")
    val: float = Field(
        15.0,
        ge=0.0,
        lt=100.0,
        description="Percentage of records for validation (early stopping, best model).",
    )
    test: float = Field(
        15.0, gt=0.0, lt=100.0, description="Percentage of records held out for the final test."
    )

    @model_validator(mode="after")
    def _sum_is_100(self) -> Self:
        total = self.train + self.val + self.test
        if not math.isclose(total, 100.0, abs_tol=1e-6):
            hint = " (write percentages, e.g. 70/15/15, not fractions)" if math.isclose(total, 1.0) else ""
            raise rule_error("", f"train, val and test must add up to 100; they add up to {total:g}{hint}")
        return self


class WindowConfig(Section):
    """Cut each record into windows; done after the split so no record leaks across splits."""

    length: int = Field(ge=32, le=10_000_000, description="Window length in samples.")
    hop: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="Samples between window starts; empty means no overlap (= length).",
    )

    @model_validator(mode="after")
    def _hop_within_length(self) -> Self:
        if self.hop is not None and self.hop > self.length:
            raise rule_error(
                "hop", f"must be at most the window length ({self.length}) so no samples are skipped"
            )
        return self

    @property
    def step(self) -> int:
        """Samples between window starts."""
        return self.hop if self.hop is not None else self.length


class AugmentationConfig(Section):
    """Random changes applied to training windows only."""

    time_shift: float = Field(
        0.0, ge=0.0, le=0.5, description="Largest circular shift, as a fraction of the window (0 = off)."
    )
    amplitude_scale: tuple[ScaleBound, ScaleBound] = Field(
        (1.0, 1.0), description="Range [low, high] of a random gain; [1, 1] = off."
    )
    gaussian_noise_snr_db: float | None = Field(
        None,
        ge=-20.0,
        le=80.0,
        description="Add white noise at this signal-to-noise ratio in dB; empty = off.",
    )
    mixup_alpha: float = Field(
        0.0, ge=0.0, le=10.0, description="Mixup Beta(alpha, alpha) parameter; 0 = off."
    )
    time_stretch: float = Field(
        0.0,
        ge=0.0,
        le=0.3,
        description="Largest relative speed/time stretch, e.g. 0.1 resamples each window by a factor "
        "in [0.9, 1.1] (every line and mode moves with it); 0 = off.",
    )
    band_colouring_db: float = Field(
        0.0,
        ge=0.0,
        le=24.0,
        description="Largest gain (dB) of a random smooth colouring of each window's spectrum: a tilt "
        "and a few wide bands, as another mounting or transmission path would give; 0 = off.",
    )

    @model_validator(mode="after")
    def _scale_ordered(self) -> Self:
        low, high = self.amplitude_scale
        if low > high:
            raise rule_error("amplitude_scale", f"low ({low:g}) must not exceed high ({high:g})")
        return self

    @property
    def enabled(self) -> bool:
        """Whether any augmentation is switched on."""
        return (
            self.time_shift > 0
            or self.amplitude_scale != (1.0, 1.0)
            or self.gaussian_noise_snr_db is not None
            or self.mixup_alpha > 0
            or self.time_stretch > 0
            or self.band_colouring_db > 0
        )


class DataConfig(Section):
    """Which dataset, how it is split, windowed and augmented."""

    dataset: NonEmptyText = Field(description="Dataset name in the workspace, or a path to a dataset file.")
    split: SplitConfig = Field(default_factory=SplitConfig)
    window: WindowConfig | None = Field(None, description="Windowing of records; empty = whole records.")
    augmentation: AugmentationConfig = Field(default_factory=AugmentationConfig)
    normalisation: Literal["none", "standardise", "rms"] = Field(
        "none",
        description="Per-window scaling inside the model, so the vibration level of a sensor or machine "
        "cannot stand in for the class: standardise (zero mean, unit std) or rms (divide by the RMS). "
        "Neural families already standardise every window.",
    )


class ModelConfig(Section):
    """Model family and its parameters (checked against the family's schema by the models layer)."""

    family: NonEmptyText = Field(description="Registered model family, e.g. cnn1d.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Family parameters; missing ones take defaults."
    )


class SchedulerConfig(Section):
    """Learning-rate schedule."""

    name: Literal["cosine", "none"] = Field(
        "cosine", description="cosine: warm-up then cosine decay; none: constant."
    )
    warmup_epochs: int = Field(0, ge=0, le=100, description="Epochs of linear warm-up (cosine only).")
    min_lr: float = Field(
        1e-6, ge=0.0, le=1.0, description="Learning rate reached at the last epoch (cosine only)."
    )


class EarlyStoppingConfig(Section):
    """Stop when the monitored validation metric stops improving."""

    enabled: bool = Field(False, description="Stop early when the monitored metric stalls.")
    patience: int = Field(10, ge=1, le=500, description="Epochs without improvement before stopping.")
    min_delta: float = Field(
        0.0, ge=0.0, le=1.0, description="Smallest change that counts as an improvement."
    )


class CheckpointConfig(Section):
    """Which checkpoints are kept."""

    policy: Literal["every_epoch", "best_only"] = Field(
        "best_only",
        description="every_epoch: one per epoch; best_only: only when the monitored metric improves.",
    )
    keep_last: int = Field(3, ge=1, le=100, description="Number of most recent checkpoints kept on disk.")


class TrainingConfig(Section):
    """How the model is trained."""

    batch_size: int = Field(32, ge=1, le=4096, description="Windows per optimisation step (a power of 2).")
    epochs: int = Field(30, ge=1, le=500, description="Passes over the training set.")
    learning_rate: float = Field(1e-3, ge=1e-6, le=1.0, description="Initial (peak) learning rate.")
    optimizer: Literal["adam", "sgd", "adamw"] = Field("adam", description="Optimisation algorithm.")
    momentum: float = Field(0.9, ge=0.0, lt=1.0, description="Momentum (sgd only).")
    weight_decay: float = Field(0.0, ge=0.0, le=1.0, description="L2 penalty (decoupled for adamw).")
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    monitor: Literal["val_loss", "val_accuracy"] = Field(
        "val_loss",
        description="Validation metric that defines the best epoch (early stopping, best checkpoint).",
    )
    gradient_clip: float | None = Field(
        None, gt=0.0, le=1000.0, description="Clip the gradient norm to this value; empty = no clipping."
    )
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    export_onnx: bool = Field(
        True, description="Export the final model to ONNX (classical: its pipeline on the 36 features)."
    )
    mixed_precision: bool = Field(False, description="Use automatic mixed precision on GPU (ignored on CPU).")
    seed: int = Field(
        42, ge=0, le=2**32 - 1, description="Random seed for splits, initialisation and batches."
    )

    @field_validator("batch_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise PydanticCustomError("power_of_two", "must be a power of 2 (e.g. 32, 64)")
        return value

    @model_validator(mode="after")
    def _schedule_fits(self) -> Self:
        if self.scheduler.name == "cosine":
            if self.scheduler.warmup_epochs >= self.epochs:
                raise rule_error("scheduler.warmup_epochs", f"must be less than epochs ({self.epochs})")
            if self.scheduler.min_lr >= self.learning_rate:
                raise rule_error(
                    "scheduler.min_lr",
                    f"must be below learning_rate ({self.learning_rate:g}) for a cosine decay",
                )
        return self


class Provenance(Section):
    """Which code produced the experiment."""

    package_version: str | None = Field(None, description="bearing-workbench version.")
    git_commit: str | None = Field(None, description="Git commit of the code, when run from a git checkout.")

    @classmethod
    def current(cls) -> Provenance:
        """Provenance of the running code."""
        version, commit = current_provenance()
        return cls(package_version=version, git_commit=commit)


class ExperimentConfig(Section):
    """Everything needed to run one experiment."""

    name: str | None = Field(
        None, max_length=200, description="Optional label shown in the experiment browser."
    )
    data: DataConfig
    model: ModelConfig
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    provenance: Provenance = Field(default_factory=Provenance.current)

    def to_yaml(self) -> str:
        """The config as YAML text (plain types only; readable with `yaml.safe_load`)."""
        return dump_yaml(self.model_dump(mode="json"))

    @classmethod
    def from_yaml(cls, source: str | Path) -> ExperimentConfig:
        """Read a config from YAML text or a file; problems raise `ConfigError` naming the file.

        Only the config's own schema is checked here; `bearing_workbench.models.validate_config`
        also checks the model family's parameters.
        """
        data, name = read_yaml(source)
        return cls.from_mapping(data, source=name)

    @classmethod
    def from_mapping(cls, data: Any, source: str | None = None) -> ExperimentConfig:
        """Validate a plain mapping; problems raise `ConfigError` with one message per field."""
        config, errors = schema_errors(data)
        if config is None:
            raise ConfigError(errors, source=source)
        return config

    def with_current_provenance(self) -> ExperimentConfig:
        """A copy stamped with the running code's provenance (for re-running a stored config)."""
        return self.model_copy(update={"provenance": Provenance.current()})


def schema_errors(data: Any) -> tuple[ExperimentConfig | None, list[FieldError]]:
    """Validate `data` against `ExperimentConfig` alone; returns the config (or None) and field errors."""
    if isinstance(data, ExperimentConfig):
        return data, []
    if data is None:
        return None, [FieldError("", "is empty: expected the sections data, model and training")]
    if not isinstance(data, Mapping):
        return None, [FieldError("", "must be a mapping with the sections data, model and training")]
    try:
        return ExperimentConfig.model_validate(data), []
    except ValidationError as exc:
        return None, field_errors(exc, schema=ExperimentConfig)


__all__ = [
    "AugmentationConfig",
    "CheckpointConfig",
    "DataConfig",
    "EarlyStoppingConfig",
    "ExperimentConfig",
    "ModelConfig",
    "Provenance",
    "SchedulerConfig",
    "Section",
    "SplitConfig",
    "TrainingConfig",
    "WindowConfig",
    "schema_errors",
]
