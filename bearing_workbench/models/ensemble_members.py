"""Whether the stored experiments an ensemble names can be its members, before anything runs.

The ensemble's own schema check (`models.ensemble`) counts the members; this one looks them up in the
store: each must exist, be completed, not be an ensemble itself and have its predictions on file, and
all must share the ensemble's dataset and split (the rules the ensemble builder applies when the run
starts, where breaking them would cost a failed run). No torch here: the wizard calls it on every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bearing_workbench.config import ExperimentConfig, FieldError
from bearing_workbench.store import NotFoundError, RunStatus, Store
from bearing_workbench.store.artifacts import ExperimentFolder

if TYPE_CHECKING:
    from bearing_workbench.data.lookup import DatasetRef

MEMBERS_FIELD = "model.params.members"


def _same_dataset(record: Any, dataset: DatasetRef) -> bool:
    if record.dataset_id is not None or dataset.dataset_id is not None:
        return record.dataset_id == dataset.dataset_id
    return (record.config.get("data") or {}).get("dataset") == dataset.name


def _split_of(config: dict[str, Any]) -> tuple[float, float, float]:
    split = (config.get("data") or {}).get("split") or {}
    return (float(split.get("train", 70.0)), float(split.get("val", 15.0)), float(split.get("test", 15.0)))


def member_errors(
    store: Store,
    members: Iterable[Any],
    *,
    dataset: DatasetRef | None = None,
    config: ExperimentConfig | None = None,
) -> list[FieldError]:
    """One error on ``model.params.members`` per member that cannot be combined (in the given order).

    Args:
        dataset: the ensemble's dataset; members trained on another one are refused.
        config: the ensemble's config; members split with other percentages are refused.
    """
    errors = []
    for member in members:
        if isinstance(member, bool) or not isinstance(member, int):
            continue  # not an id: the schema check names it
        try:
            record = store.get_experiment(member)
        except NotFoundError:
            errors.append(FieldError(MEMBERS_FIELD, f"experiment {member} does not exist in this workspace"))
            continue
        problem = _member_problem(store, record, dataset, config)
        if problem:
            errors.append(FieldError(MEMBERS_FIELD, f"experiment {member} ({record.name!r}) {problem}"))
    return errors


def _member_problem(
    store: Store, record: Any, dataset: DatasetRef | None, config: ExperimentConfig | None
) -> str | None:
    if record.status != RunStatus.COMPLETED:
        status = RunStatus(record.status).value
        return f"is {status}; only completed experiments can be ensemble members"
    if record.family == "ensemble":
        return "is itself an ensemble; choose its members instead"
    folder = ExperimentFolder.of(record.id, store.workspace)
    # What an ensemble reads from each member's folder: its validation and test predictions.
    missing = [path.name for path in (folder.predictions_val, folder.predictions_test) if not path.is_file()]
    if missing:
        return f"has no {' or '.join(missing)} in {folder.path}; it cannot be an ensemble member"
    if dataset is not None and not _same_dataset(record, dataset):
        return f"was trained on another dataset; an ensemble on {dataset.name!r} needs members trained on it"
    if config is not None:
        split = config.data.split
        ours = (split.train, split.val, split.test)
        theirs = _split_of(record.config)
        if theirs != ours:
            shown, wanted = ("/".join(f"{v:g}" for v in split) for split in (theirs, ours))
            return f"was split {shown}; members must share the ensemble's split ({wanted})"
    return None
