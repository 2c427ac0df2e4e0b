"""Configuration layer: experiment schemas, presets and validation messages (the lowest layer)."""

from bearing_workbench.config.messages import ConfigError, FieldError, field_errors, rule_error
from bearing_workbench.config.presets import (
    BUILTIN_PRESETS,
    Preset,
    list_presets,
    load_preset,
    preset_config,
    save_user_preset,
    set_dotted,
)
from bearing_workbench.config.provenance import code_version, package_version
from bearing_workbench.config.schema import (
    AugmentationConfig,
    CheckpointConfig,
    DataConfig,
    EarlyStoppingConfig,
    ExperimentConfig,
    ModelConfig,
    Provenance,
    SchedulerConfig,
    SplitConfig,
    TrainingConfig,
    WindowConfig,
    schema_errors,
)
from bearing_workbench.config.settings import Settings, SettingsError, settings

__all__ = [
    "BUILTIN_PRESETS",
    "AugmentationConfig",
    "CheckpointConfig",
    "ConfigError",
    "DataConfig",
    "EarlyStoppingConfig",
    "ExperimentConfig",
    "FieldError",
    "ModelConfig",
    "Preset",
    "Provenance",
    "SchedulerConfig",
    "Settings",
    "SettingsError",
    "SplitConfig",
    "TrainingConfig",
    "WindowConfig",
    "code_version",
    "field_errors",
    "list_presets",
    "load_preset",
    "package_version",
    "preset_config",
    "rule_error",
    "save_user_preset",
    "schema_errors",
    "set_dotted",
    "settings",
]
