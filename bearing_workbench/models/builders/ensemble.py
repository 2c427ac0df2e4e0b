"""Ensemble family builder: soft voting or stacking over the stored predictions of 2-7 experiments.

The members' record-level predictions on the validation and test splits (predictions_val.csv and
predictions_test.csv in their experiment folders) are all an ensemble needs: weights and the stacking
meta-learner are fitted on validation predictions only, and the test split is only predicted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from bearing_workbench.models.builders.classical import run_seed
from bearing_workbench.models.ensemble import MAX_MEMBERS, MIN_MEMBERS, EnsembleParams
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.predictions import Predictions, make_predictions, read_predictions
from bearing_workbench.models.registry import set_builder
from bearing_workbench.store import RunStatus
from bearing_workbench.store.artifacts import ExperimentFolder

SPLITS = ("val", "test")
STACKING_CV_FOLDS = 5
_EPS = 1e-15  # probability floor inside logarithms


class EnsembleError(ValueError):
    """Members that cannot be combined; the message names the member and the problem."""


@dataclass(frozen=True)
class Member:
    """One stored experiment's record-level predictions on the validation and test splits."""

    experiment_id: int
    name: str
    family: str
    dataset: Any  # dataset id, or the dataset named in its config when it has no id
    val: Predictions
    test: Predictions

    @property
    def label(self) -> str:
        return f"member {self.experiment_id} ({self.name!r})"

    def split(self, which: str) -> Predictions:
        return self.val if which == "val" else self.test


def load_member(store: Any, experiment_id: int) -> Member:
    """Read one completed experiment's validation and test predictions from its folder."""
    record = store.get_experiment(experiment_id)
    label = f"member {experiment_id} ({record.name!r})"
    if record.status != RunStatus.COMPLETED:
        raise EnsembleError(f"{label} is {record.status}; only completed experiments can be ensemble members")
    if record.family == "ensemble":
        # Its validation predictions were fitted on the validation split: fitting again on them
        # would grade the ensemble on its own training data. Combine its members directly instead.
        raise EnsembleError(f"{label} is itself an ensemble; choose its members instead")
    folder = ExperimentFolder.of(experiment_id, store.workspace)
    predictions = {}
    for which in ("val", "test"):
        path = folder.predictions(which)
        if not path.is_file():
            raise EnsembleError(
                f"{label} has no {path.name} in {path.parent}; it cannot be an ensemble member"
            )
        try:
            predictions[which] = read_predictions(path)
        except ValueError as exc:
            raise EnsembleError(f"{label}: {exc}") from exc
    dataset = record.dataset_id
    if dataset is None:
        dataset = (record.config.get("data") or {}).get("dataset")
    return Member(experiment_id, record.name, record.family, dataset, predictions["val"], predictions["test"])


def align_members(members: Sequence[Member], class_names: Sequence[str] | None = None) -> list[Member]:
    """Check that members share dataset, classes and val/test records; reorder rows as the first member's."""
    if not MIN_MEMBERS <= len(members) <= MAX_MEMBERS:
        raise EnsembleError(
            f"an ensemble combines {MIN_MEMBERS} to {MAX_MEMBERS} members, got {len(members)}"
        )
    ref = members[0]
    classes = tuple(class_names) if class_names is not None else ref.val.class_names
    aligned = []
    for member in members:
        if member.dataset != ref.dataset:
            raise EnsembleError(
                f"{member.label} was trained on dataset {member.dataset!r} but {ref.label} on "
                f"{ref.dataset!r}; ensemble members must share the dataset"
            )
        parts = {}
        for which in SPLITS:
            preds = member.split(which)
            if preds.class_names != classes:
                raise EnsembleError(
                    f"{member.label} predicts classes {list(preds.class_names)} on {which}, "
                    f"expected {list(classes)}"
                )
            ref_preds = ref.split(which)
            if set(preds.record_ids) != set(ref_preds.record_ids):
                extra = sorted(set(preds.record_ids) ^ set(ref_preds.record_ids))
                raise EnsembleError(
                    f"{member.label} has different {which} records from {ref.label} "
                    f"(e.g. {extra[:3]}); members must share the split"
                )
            position = {rid: i for i, rid in enumerate(preds.record_ids)}
            order = np.array([position[rid] for rid in ref_preds.record_ids], dtype=np.int64)
            y = preds.y_true[order]
            if not np.array_equal(y, ref_preds.y_true):
                raise EnsembleError(
                    f"{member.label} labels some {which} records differently from {ref.label}"
                )
            parts[which] = Predictions(ref_preds.record_ids, y, preds.probs[order], classes)
        aligned.append(dataclasses.replace(member, val=parts["val"], test=parts["test"]))
    return aligned


def _log_loss(y: np.ndarray, probs: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(y.size), y], _EPS, 1.0))))


def optimise_weights(y: np.ndarray, member_probs: np.ndarray) -> np.ndarray:
    """Soft-voting weights on the simplex minimising log loss: softmax-parameterised, L-BFGS-B.

    Args:
        member_probs: (M, n, C) validation probabilities of each member.
    """
    n_members = member_probs.shape[0]
    # Only each record's true-class probability enters the log loss.
    a = member_probs[:, np.arange(y.size), y].T  # (n, M)

    def loss_and_grad(z: np.ndarray) -> tuple[float, np.ndarray]:
        w = softmax(z)
        q = np.clip(a @ w, _EPS, None)
        loss = -np.mean(np.log(q))
        g_w = -np.mean(a / q[:, None], axis=0)
        return float(loss), w * (g_w - np.dot(w, g_w))

    result = minimize(loss_and_grad, np.zeros(n_members), jac=True, method="L-BFGS-B")
    return softmax(result.x)


def _pairwise(values: np.ndarray, fn: Any) -> list[list[float | None]]:
    m = values.shape[0]
    return [[fn(values[i], values[j]) for j in range(m)] for i in range(m)]


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.std() == 0 or b.std() == 0:
        return None  # a member that is always right (or always wrong) has no error correlation
    return float(np.corrcoef(a, b)[0, 1])


def diversity(y: np.ndarray, member_probs: np.ndarray) -> dict[str, Any]:
    """Pairwise agreement (share of records with the same predicted class) and the correlation of
    the members' error indicators (None where a member makes no error or only errors)."""
    preds = member_probs.argmax(axis=2)  # (M, n)
    errors = (preds != y[None, :]).astype(np.float64)
    return {
        "agreement": _pairwise(preds, lambda p, q: float(np.mean(p == q))),
        "error_correlation": _pairwise(errors, _correlation),
        "error_rate": [float(e.mean()) for e in errors],
    }


class EnsembleEstimator:
    """Soft voting (equal or validation-optimised weights) or stacking over stored experiments."""

    def __init__(self, params: EnsembleParams, spec: InputSpec | None = None):
        self.params = params
        self.spec = spec
        self.members_: list[Member] | None = None

    def fit_estimator(self, ctx: Any, data: Any = None) -> EnsembleEstimator:
        """Load the members named in params from `ctx.store` and fit; `data` is not used (the members'
        stored predictions are the inputs)."""
        store = getattr(ctx, "store", None)
        if store is None:
            raise EnsembleError("an ensemble needs the experiment store (ctx.store) to read its members")
        report = getattr(ctx, "progress", None)
        report = report if callable(report) else (lambda fraction, message: None)
        if not MIN_MEMBERS <= len(self.params.members) <= MAX_MEMBERS:
            raise EnsembleError(
                f"model.params.members: choose {MIN_MEMBERS} to {MAX_MEMBERS} stored experiments "
                f"(got {len(self.params.members)})"
            )
        members = []
        for i, experiment_id in enumerate(self.params.members):
            report(0.5 * i / len(self.params.members), f"reading member {experiment_id}")
            members.append(load_member(store, experiment_id))
        report(0.5, "fitting the combination")
        self.fit_members(members, seed=run_seed(ctx))
        report(1.0, "done")
        return self

    def fit_members(self, members: Sequence[Member], seed: int = 0) -> EnsembleEstimator:
        """Fit the combination on the members' validation predictions."""
        classes = self.spec.class_names if self.spec is not None else None
        self.members_ = align_members(members, classes)
        self.class_names_ = self.members_[0].val.class_names
        y_val = self.members_[0].val.y_true
        val = self._stack("val")
        n_members = len(self.members_)
        self.weights_ = None
        self.meta_learner_ = None
        self.stacking_cv_accuracy_ = None
        self.val_in_sample_ = False
        if self.params.method == "soft_voting":
            if self.params.weights == "optimised":
                self.weights_ = optimise_weights(y_val, val)
                self.val_in_sample_ = True  # the weights were chosen on these very predictions
            else:
                self.weights_ = np.full(n_members, 1.0 / n_members)
            self.val_proba_ = np.tensordot(self.weights_, val, axes=1)
        else:
            self.meta_learner_ = LogisticRegression(max_iter=2000, random_state=seed)
            X_val = self._meta_features(val)
            smallest = int(np.bincount(y_val, minlength=len(self.class_names_))[np.unique(y_val)].min())
            folds = min(STACKING_CV_FOLDS, smallest)
            if folds >= 2:
                # Out-of-fold predictions: an honest validation score for the meta-learner itself.
                cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
                oof = cross_val_predict(self.meta_learner_, X_val, y_val, cv=cv, method="predict_proba")
                self.val_proba_ = self._full_columns(oof, np.unique(y_val))
                self.stacking_cv_accuracy_ = float(np.mean(self.val_proba_.argmax(axis=1) == y_val))
            self.meta_learner_.fit(X_val, y_val)
            if folds < 2:
                self.val_proba_ = self._meta_proba(X_val)
                self.val_in_sample_ = True
        return self

    # -- combination ------------------------------------------------------------------------------

    def _check_fitted(self) -> list[Member]:
        if self.members_ is None:
            raise RuntimeError("the ensemble is not fitted yet: call fit_estimator first")
        return self.members_

    def _stack(self, which: str) -> np.ndarray:
        return np.stack([m.split(which).probs for m in self._check_fitted()])  # (M, n, C)

    @staticmethod
    def _meta_features(member_probs: np.ndarray) -> np.ndarray:
        m, n, c = member_probs.shape
        return member_probs.transpose(1, 0, 2).reshape(n, m * c)

    def _full_columns(self, probs: np.ndarray, classes: np.ndarray) -> np.ndarray:
        out = np.zeros((probs.shape[0], len(self.class_names_)))
        out[:, classes] = probs
        return out

    def _meta_proba(self, X: np.ndarray) -> np.ndarray:
        return self._full_columns(self.meta_learner_.predict_proba(X), self.meta_learner_.classes_)

    def restore(
        self, class_names: Sequence[str], weights: np.ndarray | None, meta_learner: Any
    ) -> EnsembleEstimator:
        """The fitted combination read back from its files (`training.ensemble_files`), to `combine`
        the members' probabilities on new records; it has no members' stored predictions."""
        self.class_names_ = tuple(class_names)
        self.weights_ = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.meta_learner_ = meta_learner
        return self

    def combine(self, member_probs: np.ndarray) -> np.ndarray:
        """Ensemble probabilities (n, C) from the members' (M, n, C), in the fitted members' order."""
        return self._combine(np.asarray(member_probs, dtype=np.float64))

    def _combine(self, member_probs: np.ndarray) -> np.ndarray:
        if self.weights_ is not None:
            return np.tensordot(self.weights_, member_probs, axes=1)
        return self._meta_proba(self._meta_features(member_probs))

    def predict_proba(self, split: Any = "test") -> np.ndarray:
        """Ensemble class probabilities on "val" or "test" (n_records, C, the members' record order),
        or on a split object: one row per window of it (its `record_index`; per record when it has
        none), each window getting its record's probabilities.

        On "val" these are the fitted validation predictions: out-of-fold for stacking, in-sample
        for optimised weights.
        """
        members = self._check_fitted()
        if isinstance(split, str):
            if split not in SPLITS:
                raise ValueError(f"split must be one of {', '.join(SPLITS)} or a split object, got {split!r}")
            return self.val_proba_.copy() if split == "val" else self._combine(self._stack("test"))
        wanted = [str(r) for r in split.record_ids]
        for which in SPLITS:
            ids = members[0].split(which).record_ids
            if set(wanted) == set(ids):
                position = {rid: i for i, rid in enumerate(ids)}
                per_record = self.predict_proba(which)[[position[r] for r in wanted]]
                index = getattr(split, "record_index", None)
                return per_record if index is None else per_record[np.asarray(index)]
        raise EnsembleError(
            f"the {getattr(split, 'name', 'given')} split's records are not the members' validation or "
            "test records: an ensemble predicts only the records its members were evaluated on; use the "
            "members' dataset and split (data.split and training.seed when the split is recomputed)"
        )

    def predictions(self, which: str = "test") -> Predictions:
        """Record-level ensemble predictions on "val" or "test" (record ids and labels from the members)."""
        ref = self._check_fitted()[0].split(which)
        return make_predictions(ref.record_ids, ref.y_true, self.predict_proba(which), ref.class_names)

    # -- report -----------------------------------------------------------------------------------

    def contributions(self) -> list[float]:
        """Each member's share: its soft-voting weight, or for stacking the norm of the meta-learner
        coefficients on its probabilities, normalised to sum to 1."""
        members = self._check_fitted()
        if self.weights_ is not None:
            return [float(w) for w in self.weights_]
        coef = self.meta_learner_.coef_
        c = len(self.class_names_)
        norms = np.array([np.linalg.norm(coef[:, i * c : (i + 1) * c]) for i in range(len(members))])
        total = norms.sum()
        return [float(v) for v in (norms / total if total > 0 else np.full(len(members), 1 / len(members)))]

    def summary(self) -> dict[str, Any]:
        """Method, member contributions and accuracies, diversity on test, as plain JSON values."""
        members = self._check_fitted()
        y_val, y_test = members[0].val.y_true, members[0].test.y_true
        val, test = self._stack("val"), self._stack("test")
        shares = self.contributions()
        test_proba = self._combine(test)
        member_rows = [
            {
                "experiment_id": m.experiment_id,
                "name": m.name,
                "family": m.family,
                "contribution": shares[i],
                "val_accuracy": float(np.mean(val[i].argmax(axis=1) == y_val)),
                "test_accuracy": float(np.mean(test[i].argmax(axis=1) == y_test)),
                "val_log_loss": _log_loss(y_val, val[i]),
            }
            for i, m in enumerate(members)
        ]
        return {
            "family": "ensemble",
            "method": self.params.method,
            "weights": self.params.weights if self.params.method == "soft_voting" else None,
            "contribution_kind": "weight" if self.weights_ is not None else "coefficient_norm_share",
            "members": member_rows,
            "val_accuracy": float(np.mean(self.val_proba_.argmax(axis=1) == y_val)),
            "val_in_sample": self.val_in_sample_,
            "stacking_cv_val_accuracy": self.stacking_cv_accuracy_,
            "test_accuracy": float(np.mean(test_proba.argmax(axis=1) == y_test)),
            "best_member_test_accuracy": max(row["test_accuracy"] for row in member_rows),
            "diversity": {
                "split": "test",
                "member_ids": [m.experiment_id for m in members],
                **diversity(y_test, test),
            },
        }


def build(params: EnsembleParams, spec: InputSpec | None = None) -> EnsembleEstimator:
    """An unfitted ensemble over the experiments in `params.members`."""
    if not isinstance(params, EnsembleParams):
        params = EnsembleParams.model_validate(params)
    return EnsembleEstimator(params, spec)


set_builder("ensemble", build)
