"""Data layer: physics-based signal generator, dataset files (HDF5), user-file loaders, splits."""

from .catalogue import DEFAULT_CLASSES, class_names, register_class
from .dataset_file import Dataset, DatasetFileError, DatasetInfo, DatasetWriter, read_info, write_dataset
from .generator import GENERATOR_VERSION, GeneratorConfig, generate_arrays, generate_dataset, generate_record
from .loaders import DataFileError, SignalSet, import_file, load_signals
from .signatures import register_signature
from .splits import LeakageError, check_no_leakage, make_windows, split_records, split_windows

__all__ = [
    "DEFAULT_CLASSES",
    "GENERATOR_VERSION",
    "DataFileError",
    "Dataset",
    "DatasetFileError",
    "DatasetInfo",
    "DatasetWriter",
    "GeneratorConfig",
    "LeakageError",
    "SignalSet",
    "check_no_leakage",
    "class_names",
    "generate_arrays",
    "generate_dataset",
    "generate_record",
    "import_file",
    "load_signals",
    "make_windows",
    "read_info",
    "register_class",
    "register_signature",
    "split_records",
    "split_windows",
    "write_dataset",
]
