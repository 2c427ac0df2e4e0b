"""One repository per aggregate of the store, behind the `Store` facade (`store/store.py`).

Each takes the shared `Database` (sessions and workspace); none calls another: what one aggregate
needs of another's rows (a link that must exist, a dataset still in use) it reads in its own
transaction.
"""

from bearing_workbench.store.repositories.campaigns import CampaignRepository
from bearing_workbench.store.repositories.comparisons import ComparisonRepository
from bearing_workbench.store.repositories.database import Database
from bearing_workbench.store.repositories.datasets import DatasetRepository
from bearing_workbench.store.repositories.epochs import EpochRepository
from bearing_workbench.store.repositories.events import EventRepository
from bearing_workbench.store.repositories.experiments import ExperimentRepository
from bearing_workbench.store.repositories.explanations import ExplanationRepository
from bearing_workbench.store.repositories.filter_presets import FilterPresetRepository
from bearing_workbench.store.repositories.heartbeats import HeartbeatRepository

__all__ = [
    "CampaignRepository",
    "ComparisonRepository",
    "Database",
    "DatasetRepository",
    "EpochRepository",
    "EventRepository",
    "ExperimentRepository",
    "ExplanationRepository",
    "FilterPresetRepository",
    "HeartbeatRepository",
]
