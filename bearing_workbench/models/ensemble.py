"""Ensemble family: soft voting or stacking over the predictions of stored experiments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, model_validator

from bearing_workbench.config import FieldError, rule_error
from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family

if TYPE_CHECKING:
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.models.validation import DatasetFacts

MIN_MEMBERS = 2
MAX_MEMBERS = 7


class EnsembleParams(FamilyParams):
    """Parameters of the ensemble family."""

    # Empty by default: members are chosen per run; `_check` requires 2 to 7 before anything runs.
    members: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list,
        max_length=MAX_MEMBERS,
        description=f"IDs of the {MIN_MEMBERS} to {MAX_MEMBERS} completed experiments to combine.",
        json_schema_extra={"ref": "experiment"},
    )
    method: Literal["soft_voting", "stacking"] = Field(
        "soft_voting",
        description="soft_voting: weighted mean of class probabilities; stacking: a meta-learner on them.",
    )
    weights: Literal["equal", "optimised"] = Field(
        "equal", description="Soft-voting weights: equal, or optimised on the validation split."
    )
    meta_learner: Literal["logistic_regression"] = Field(
        "logistic_regression", description="Model trained on the members' validation predictions (stacking)."
    )

    @model_validator(mode="after")
    def _distinct_members(self) -> Self:
        repeated = sorted({member for member in self.members if self.members.count(member) > 1})
        if repeated:
            raise rule_error("members", f"lists experiment {repeated[0]} more than once")
        return self


def _check(params: EnsembleParams, config: ExperimentConfig, facts: DatasetFacts | None) -> list[FieldError]:
    if len(params.members) < MIN_MEMBERS:
        return [
            FieldError(
                "model.params.members",
                f"choose {MIN_MEMBERS} to {MAX_MEMBERS} stored experiments "
                f"to combine (got {len(params.members)})",
            )
        ]
    return []


SPEC = register_family(
    FamilySpec(
        name="ensemble",
        title="Ensemble",
        description="Combines 2 to 7 stored models by soft voting or stacking; often the most accurate.",
        params=EnsembleParams,
        input_kind="predictions",
        epoch_based=False,
        check=_check,
    )
)
