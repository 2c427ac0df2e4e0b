"""Experiment store: SQLAlchemy tables, run-state machine, workspace layout."""

from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.store.config_files import presets_dir
from bearing_workbench.store.errors import (
    DuplicateNameError,
    InUseError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
)
from bearing_workbench.store.filters import BUILTIN_PRESETS, FilterPreset, HistoryFilters
from bearing_workbench.store.records import (
    CampaignRecord,
    ComparisonRecord,
    DatasetRecord,
    EpochRecord,
    EvaluationRecord,
    EventRecord,
    ExperimentRecord,
)
from bearing_workbench.store.status import (
    InvalidTransition,
    RunAction,
    RunStatus,
    allowed_actions,
    is_terminal,
    next_status,
)
from bearing_workbench.store.store import Store
from bearing_workbench.store.workspace import (
    confined_path,
    database_url,
    datasets_dir,
    experiment_dir,
    workspace_root,
)

__all__ = [
    "presets_dir",
    "BUILTIN_PRESETS",
    "CampaignRecord",
    "ComparisonRecord",
    "DatasetRecord",
    "DuplicateNameError",
    "EpochRecord",
    "EvaluationRecord",
    "EventRecord",
    "ExperimentFolder",
    "ExperimentRecord",
    "FilterPreset",
    "HistoryFilters",
    "InUseError",
    "InvalidTransition",
    "NotFoundError",
    "RunAction",
    "RunStatus",
    "SchemaVersionError",
    "Store",
    "StoreError",
    "allowed_actions",
    "confined_path",
    "database_url",
    "datasets_dir",
    "experiment_dir",
    "is_terminal",
    "next_status",
    "workspace_root",
]
