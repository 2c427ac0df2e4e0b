"""Bearing Workbench: vibration-based fault diagnosis of hydrodynamic (journal) bearings.

The names a notebook uses are importable from here; each is loaded on first use, so
`import bearing_workbench` stays fast (no torch, dask or plotly until needed).
"""

from __future__ import annotations

from bearing_workbench.lazy_exports import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "GeneratorConfig": "bearing_workbench.data.generator",
    "generate_dataset": "bearing_workbench.data.generator",
    "Dataset": "bearing_workbench.data.dataset_file",
    "read_info": "bearing_workbench.data.dataset_file",
    "load_signals": "bearing_workbench.data.loaders",
    "import_file": "bearing_workbench.data.loaders",
    "split_records": "bearing_workbench.data.splits",
    "register_dataset": "bearing_workbench.data.registration",
    "compute_features": "bearing_workbench.features",
    "FEATURE_NAMES": "bearing_workbench.features",
    "stft_spectrogram": "bearing_workbench.features",
    "cwt_scalogram": "bearing_workbench.features",
    "Store": "bearing_workbench.store",
    "ExperimentConfig": "bearing_workbench.config",
    "load_preset": "bearing_workbench.config",
    "list_presets": "bearing_workbench.config",
    "check_config": "bearing_workbench.models",
    "validate_config": "bearing_workbench.models",
    "validate_experiment": "bearing_workbench.models",
    "list_families": "bearing_workbench.models",
    "create_experiment": "bearing_workbench.training.experiment",
    "train_experiment": "bearing_workbench.training.experiment",
    "predict": "bearing_workbench.training.prediction",
    "PredictionResult": "bearing_workbench.training.prediction",
    "evaluate": "bearing_workbench.analysis.evaluations",
    "EvaluationInfo": "bearing_workbench.analysis.evaluations",
    "write_report": "bearing_workbench.analysis.report",
    "ConfigWizard": "bearing_workbench.panels",
    "TrainingMonitor": "bearing_workbench.panels",
    "ExperimentResults": "bearing_workbench.panels",
    "ExperimentHistory": "bearing_workbench.panels",
    "CompareView": "bearing_workbench.panels",
}

__all__ = ["__version__", *_EXPORTS]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
