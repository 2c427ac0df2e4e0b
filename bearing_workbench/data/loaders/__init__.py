"""Loaders for users' own signal files, and their import into the workbench's dataset format.

Supported: ``.h5/.hdf5`` (our dataset format, or a plain HDF5 file with ``signals``/``labels``),
``.mat`` (MATLAB v5 via scipy, v7.3 via h5py), ``.csv`` (one record per row), ``.npy`` (signals
only; labels passed separately) and ``.npz``. One module per format reads a file into `Contents`;
`validation` checks what every format shares. Files are untrusted: nothing is ever unpickled, and
every problem comes back as a `DataFileError` that names the file and says what is wrong.
"""

from __future__ import annotations

from .errors import DataFileError
from .layout import METADATA_COLUMNS, MIN_RECORD_SAMPLES, SUPPORTED_EXTENSIONS
from .load import import_file, load_signals
from .signal_set import SignalSet

__all__ = [
    "METADATA_COLUMNS",
    "MIN_RECORD_SAMPLES",
    "SUPPORTED_EXTENSIONS",
    "DataFileError",
    "SignalSet",
    "import_file",
    "load_signals",
]
