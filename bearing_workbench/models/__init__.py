"""Models layer: the registry of model families, their parameter schemas, and config validation.

Importing this package registers every family. Builders are attached by the model zoo.
"""

# isort: off
# Importing a family module registers it; this order is the order families are offered in.
from bearing_workbench.models import classical
from bearing_workbench.models import cnn1d
from bearing_workbench.models import resnet1d
from bearing_workbench.models import transformer
from bearing_workbench.models import spectrogram
from bearing_workbench.models import pinn
from bearing_workbench.models import ensemble

# isort: on
from bearing_workbench.models.classical import ClassicalParams
from bearing_workbench.models.cnn1d import CNN1DParams
from bearing_workbench.models.ensemble import EnsembleParams
from bearing_workbench.models.pinn import PINNParams
from bearing_workbench.models.preset_fit import validate_preset
from bearing_workbench.models.registry import (
    INPUT_KINDS,
    FamilyParams,
    FamilySpec,
    InputKind,
    ParamField,
    UnknownFamilyError,
    get_family,
    list_families,
    param_fields,
    register_family,
    set_builder,
    set_loader,
)
from bearing_workbench.models.resnet1d import ResNet1DParams
from bearing_workbench.models.spectrogram import SpectrogramParams
from bearing_workbench.models.transformer import TransformerParams
from bearing_workbench.models.validation import (
    DatasetFacts,
    ValidatedExperiment,
    check_config,
    experiment_errors,
    input_length,
    load_config,
    model_params,
    training_examples,
    validate_config,
    validate_experiment,
)

__all__ = [
    "INPUT_KINDS",
    "CNN1DParams",
    "ClassicalParams",
    "DatasetFacts",
    "EnsembleParams",
    "FamilyParams",
    "FamilySpec",
    "InputKind",
    "PINNParams",
    "ParamField",
    "ResNet1DParams",
    "SpectrogramParams",
    "TransformerParams",
    "UnknownFamilyError",
    "ValidatedExperiment",
    "check_config",
    "classical",
    "cnn1d",
    "ensemble",
    "experiment_errors",
    "get_family",
    "input_length",
    "list_families",
    "load_config",
    "model_params",
    "param_fields",
    "pinn",
    "register_family",
    "resnet1d",
    "set_builder",
    "set_loader",
    "spectrogram",
    "training_examples",
    "transformer",
    "validate_config",
    "validate_experiment",
    "validate_preset",
]
