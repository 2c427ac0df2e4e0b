"""The one error a user's data file gets: `DataFileError`, a message naming the file."""

from __future__ import annotations

from ..dataset_file import DatasetFileError

OBJECTS = "contains Python objects; save plain numeric arrays"


class DataFileError(DatasetFileError):
    """A user's data file cannot be loaded; the message is ``<file name>: <problem>``."""
