"""Data layer: physics-based signal generator, dataset files (HDF5), user-file loaders, splits.

Names are loaded on first use (`lazy_exports`): a module that needs one part (a dataset lookup, the
splits) does not pay for the generator's and loaders' imports (scipy.signal, about a second cold).
"""

from __future__ import annotations

from bearing_workbench.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_CLASSES": "bearing_workbench.data.catalogue",
    "class_names": "bearing_workbench.data.catalogue",
    "register_class": "bearing_workbench.data.catalogue",
    "Dataset": "bearing_workbench.data.dataset_file",
    "DatasetFileError": "bearing_workbench.data.dataset_file",
    "DatasetInfo": "bearing_workbench.data.dataset_file",
    "DatasetWriter": "bearing_workbench.data.dataset_file",
    "read_info": "bearing_workbench.data.dataset_file",
    "write_dataset": "bearing_workbench.data.dataset_file",
    "GENERATOR_VERSION": "bearing_workbench.data.generator",
    "GeneratorConfig": "bearing_workbench.data.generator",
    "generate_arrays": "bearing_workbench.data.generator",
    "generate_dataset": "bearing_workbench.data.generator",
    "generate_record": "bearing_workbench.data.generator",
    "DataFileError": "bearing_workbench.data.loaders",
    "SignalSet": "bearing_workbench.data.loaders",
    "import_file": "bearing_workbench.data.loaders",
    "load_signals": "bearing_workbench.data.loaders",
    "register_signature": "bearing_workbench.data.signatures",
    "LeakageError": "bearing_workbench.data.splits",
    "check_no_leakage": "bearing_workbench.data.splits",
    "make_windows": "bearing_workbench.data.splits",
    "split_records": "bearing_workbench.data.splits",
    "split_windows": "bearing_workbench.data.splits",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
