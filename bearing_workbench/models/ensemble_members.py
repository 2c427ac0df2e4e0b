"""Whether the stored experiments an ensemble names can be its members, before anything runs.

The ensemble's own schema check (`models.ensemble`) counts the members; this one looks them up in the
store: each must exist, be completed and not be an ensemble itself (the same rules the ensemble builder
applies when the run starts). No torch here: the wizard calls it on every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bearing_workbench.config import FieldError
from bearing_workbench.store import NotFoundError, RunStatus, Store

MEMBERS_FIELD = "model.params.members"


def member_errors(store: Store, members: Iterable[Any]) -> list[FieldError]:
    """One error on ``model.params.members`` per member that cannot be combined (in the given order)."""
    errors = []
    for member in members:
        if isinstance(member, bool) or not isinstance(member, int):
            continue  # not an id: the schema check names it
        try:
            record = store.get_experiment(member)
        except NotFoundError:
            errors.append(FieldError(MEMBERS_FIELD, f"experiment {member} does not exist in this workspace"))
            continue
        label = f"experiment {member} ({record.name!r})"
        if record.status != RunStatus.COMPLETED:
            status = RunStatus(record.status).value
            errors.append(
                FieldError(
                    MEMBERS_FIELD, f"{label} is {status}; only completed experiments can be ensemble members"
                )
            )
        elif record.family == "ensemble":
            errors.append(
                FieldError(MEMBERS_FIELD, f"{label} is itself an ensemble; choose its members instead")
            )
    return errors
