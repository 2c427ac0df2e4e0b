"""Classical family: random forest, SVM or gradient boosting on the hand-crafted features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bearing_workbench.config import FieldError
from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family

if TYPE_CHECKING:
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.models.validation import DatasetFacts

N_FEATURES = 36  # size of the hand-crafted feature set (features layer)


class ClassicalParams(FamilyParams):
    """Parameters of the classical (scikit-learn) family."""

    algorithm: Literal["random_forest", "svm", "gradient_boosting"] = Field(
        "random_forest", description="Classifier trained on the hand-crafted features."
    )
    n_estimators: int = Field(
        200, ge=10, le=2000, description="Number of trees (random forest and gradient boosting)."
    )
    max_depth: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Largest tree depth; empty = library default (no limit for forests, 3 for boosting).",
    )
    C: float = Field(
        1.0,
        ge=1e-3,
        le=1e3,
        description="SVM regularisation: larger values fit the training set more closely.",
        json_schema_extra={"log_scale": True},
    )
    kernel: Literal["rbf", "linear", "poly"] = Field("rbf", description="SVM kernel.")
    gamma: float | None = Field(
        None,
        gt=0.0,
        le=100.0,
        description="SVM kernel coefficient (rbf, poly); empty = 'scale': 1 / (n_features x variance).",
        json_schema_extra={"log_scale": True},
    )
    learning_rate: float = Field(
        0.1,
        ge=1e-3,
        le=1.0,
        description="Shrinkage applied to each tree (gradient boosting only).",
        json_schema_extra={"log_scale": True},
    )
    feature_selection: Literal["all", "top_k", "correlation"] = Field(
        "all",
        description="all features; top_k by mutual information; correlation: drop near-duplicate features.",
    )
    top_k: int = Field(20, ge=1, le=N_FEATURES, description="Features kept when feature_selection is top_k.")
    correlation_threshold: float = Field(
        0.95,
        ge=0.5,
        le=0.99,
        description="Absolute correlation above which a feature is dropped (feature_selection: correlation).",
    )
    order_features: bool = Field(
        False,
        description="Also compute the 36 features in shaft orders (the window rescaled to a 60 Hz "
        "shaft using the record's speed) and give the speed itself, so faults read the same on machines "
        "running at other speeds.",
    )
    cv_folds: int = Field(
        5, ge=2, le=10, description="Folds of the stratified cross-validation reported on the training split."
    )


def _check(params: ClassicalParams, config: ExperimentConfig, facts: DatasetFacts | None) -> list[FieldError]:
    # Stratified k-fold needs k records in every class; if k exceeds the average class size,
    # some class surely has fewer.
    if facts is None or facts.n_classes < 1:
        return []
    per_class = facts.n_train // facts.n_classes
    if params.cv_folds <= per_class:
        return []
    sizes = f"{facts.n_train} training records, {facts.n_classes} classes"
    if per_class < 2:
        message = f"cross-validation is impossible with fewer than 2 records per class ({sizes})"
    else:
        message = f"must be at most {per_class}, the average records per class ({sizes})"
    return [FieldError("model.params.cv_folds", message)]


SPEC = register_family(
    FamilySpec(
        name="classical",
        title="Classical ML",
        description="Random forest, SVM or gradient boosting on 36 hand-crafted features; fast on CPU.",
        params=ClassicalParams,
        input_kind="features",
        epoch_based=False,
        check=_check,
    )
)
