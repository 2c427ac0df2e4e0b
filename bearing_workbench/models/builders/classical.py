"""Classical family builder: scaling, feature selection and a scikit-learn classifier on the 36 features.

Not trained by the epoch loop: the estimator follows the non-epoch protocol (`fit_estimator(ctx, data)`,
`predict_proba(split)`, `summary()`), reporting progress through `ctx.progress(fraction, message)`.

The fitted pipeline is written by `training.classical_files` (skops with an explicit list of trusted
types, and ONNX beside it where it converts; never pickle), which records what it wrote with
`record_saved` so that `summary()` states it. What the results page needs (importances, selected
features, cross-validation scores) is in `summary()`, plain JSON.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_selection import SelectKBest, SelectorMixin, mutual_info_classif
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from bearing_workbench.features import FEATURE_NAMES, compute_features
from bearing_workbench.features.normalisation import normalise_windows
from bearing_workbench.features.orders import ORDER_FEATURE_NAMES, compute_order_features
from bearing_workbench.models.classical import ClassicalParams
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import set_builder

SPEED_META = "speed_hz"
DEFAULT_BOOSTING_DEPTH = 3  # what the max_depth help text promises for boosting when left empty
PERMUTATION_REPEATS = 5
CALIBRATION_FOLDS = 5
# Histogram boosting parallelises with OpenMP threads that spin while they wait. On a shared CPU (Dask
# workers, other processes) 2 threads on 2 cores fitted 9x slower than 1 thread (5000 windows,
# 11 classes, measured), and on small data one thread is faster anyway.
OPENMP_THREADS = 1


class FeatureSplit(Protocol):
    """What the classical family needs of a split (training.data.SplitData has it)."""

    signals: np.ndarray  # (n_windows, L)
    labels: np.ndarray  # (n_windows,)
    meta: np.ndarray  # (n_windows, M), columns as InputSpec.meta_names
    record_index: np.ndarray  # (n_windows,)
    fs: float


class CorrelationFilter(SelectorMixin, BaseEstimator):
    """Drop near-duplicate features: walking the features in order, keep one unless its absolute
    Pearson correlation with an already kept feature exceeds `threshold`."""

    def __init__(self, threshold: float = 0.95):
        self.threshold = threshold

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> CorrelationFilter:
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.abs(np.corrcoef(X, rowvar=False)) if X.shape[0] > 1 else np.zeros((X.shape[1],) * 2)
        corr = np.nan_to_num(np.atleast_2d(corr), nan=0.0)  # a constant feature correlates with nothing
        kept: list[int] = []
        for j in range(X.shape[1]):
            if all(corr[j, k] <= self.threshold for k in kept):
                kept.append(j)
        self.support_ = np.zeros(X.shape[1], dtype=bool)
        self.support_[kept] = True
        self.n_features_in_ = X.shape[1]
        return self

    def _get_support_mask(self) -> np.ndarray:
        return self.support_


def _calibration_folds(y: np.ndarray | None) -> int:
    """Folds for the SVM's probability calibration: 5, fewer when a class has fewer windows."""
    if y is None:
        return CALIBRATION_FOLDS
    counts = np.bincount(np.asarray(y))
    smallest = int(counts[counts > 0].min()) if counts.size else 0
    if smallest < 2:
        raise ValueError(
            "classical model (svm): probability calibration needs at least 2 training windows per class"
        )
    return min(CALIBRATION_FOLDS, smallest)


def _report(ctx: Any) -> Callable[[float, str], None]:
    progress = getattr(ctx, "progress", None)
    if callable(progress):
        return progress
    return lambda fraction, message: None


def run_seed(ctx: Any) -> int:
    """The run's seed: ctx.config.training.seed, else ctx.seed, else 0."""
    config = getattr(ctx, "config", None)
    seed = getattr(getattr(config, "training", None), "seed", None)
    if seed is None:
        seed = getattr(ctx, "seed", None)
    return int(seed) if seed is not None else 0


class ClassicalEstimator:
    """Scaling -> feature selection -> random forest | SVM | gradient boosting, on the 36 features."""

    def __init__(self, params: ClassicalParams, spec: InputSpec, n_jobs: int | None = -1):
        self.params = params
        self.spec = spec
        self.n_jobs = n_jobs
        self.pipeline_: Pipeline | None = None
        self._cache: dict[int, tuple[weakref.ref[Any], np.ndarray]] = {}
        # The 36 features, then (params.order_features) the same 36 in shaft orders.
        self.feature_names: tuple[str, ...] = FEATURE_NAMES + (
            ORDER_FEATURE_NAMES if params.order_features else ()
        )
        self.saved_note_: str | None = None  # what training.classical_files wrote, for summary()

    @classmethod
    def from_pipeline(
        cls, params: ClassicalParams, spec: InputSpec, pipeline: Pipeline
    ) -> ClassicalEstimator:
        """A fitted estimator around a stored pipeline, to predict (it has no training summary)."""
        estimator = cls(params, spec)
        estimator.pipeline_ = pipeline
        estimator.classes_ = pipeline.classes_
        return estimator

    def record_saved(self, note: str | None) -> None:
        """Say what files hold the fitted pipeline (None: it could not be saved)."""
        self.saved_note_ = note

    # -- features ---------------------------------------------------------------------------------

    def features(self, split: FeatureSplit, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """The (n_windows, n_features) feature table of a split, computed once per split object.

        The spec's normalisation is applied to the windows first, so a stored model applies it too.
        """
        key = id(split)
        hit = self._cache.get(key)
        if hit is not None and hit[0]() is split:
            return hit[1]
        signals = normalise_windows(np.asarray(split.signals), self.spec.normalisation)
        fs = float(getattr(split, "fs", self.spec.fs))
        shaft_hz = None
        if SPEED_META in self.spec.meta_names:
            # The measured speed places the order bands exactly; without it, it is estimated per window.
            shaft_hz = np.asarray(split.meta)[:, self.spec.meta_names.index(SPEED_META)]
        if signals.shape[0] == 0:
            values = np.zeros((0, len(self.feature_names)), dtype=np.float32)
        else:
            try:
                values = compute_features(signals, fs, shaft_hz, progress=progress)
                if self.params.order_features:
                    values = np.hstack([values, compute_order_features(signals, fs, shaft_hz)])
            except ValueError as exc:
                raise ValueError(
                    f"classical model: cannot compute the {len(self.feature_names)} features of the "
                    f"windows: {exc}"
                ) from exc
        bad = ~np.isfinite(values)
        if bad.any():
            names = sorted({self.feature_names[j] for j in np.flatnonzero(bad.any(axis=0))})
            raise ValueError(f"classical model: features {names} are not finite for some windows")
        try:
            # Weak: the cache must not keep a split's signals alive after the caller dropped them.
            self._cache[key] = (weakref.ref(split), values)
        except TypeError:
            pass  # an object that takes no weak references is simply not cached
        return values

    # -- model --------------------------------------------------------------------------------------

    def _classifier(self, seed: int, y: np.ndarray | None) -> BaseEstimator:
        p = self.params
        if p.algorithm == "random_forest":
            return RandomForestClassifier(
                n_estimators=p.n_estimators, max_depth=p.max_depth, random_state=seed, n_jobs=self.n_jobs
            )
        if p.algorithm == "svm":
            svc = SVC(
                C=p.C, kernel=p.kernel, gamma="scale" if p.gamma is None else p.gamma, random_state=seed
            )
            # Platt scaling fitted on internal folds (what SVC(probability=True) did before sklearn 1.9).
            return CalibratedClassifierCV(svc, method="sigmoid", cv=_calibration_folds(y), ensemble=False)
        # Histogram boosting: exact GradientBoostingClassifier takes minutes on a few thousand windows
        # x 11 classes. Early stopping off so that n_estimators means what it says.
        return HistGradientBoostingClassifier(
            max_iter=p.n_estimators,
            max_depth=DEFAULT_BOOSTING_DEPTH if p.max_depth is None else p.max_depth,
            learning_rate=p.learning_rate,
            early_stopping=False,
            random_state=seed,
        )

    def _selector(self, seed: int) -> Any:
        p = self.params
        if p.feature_selection == "top_k":
            score = partial(mutual_info_classif, random_state=seed)
            return SelectKBest(score, k=min(p.top_k, len(self.feature_names)))
        if p.feature_selection == "correlation":
            return CorrelationFilter(p.correlation_threshold)
        return "passthrough"

    def make_pipeline(self, seed: int = 0, y: np.ndarray | None = None) -> Pipeline:
        """The unfitted pipeline for these params.

        Args:
            y: the labels it will be fitted on; they size the SVM's probability-calibration folds.
        """
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("select", self._selector(seed)),
                ("classify", self._classifier(seed, y)),
            ]
        )

    def fit_estimator(self, ctx: Any, data: Any) -> ClassicalEstimator:
        """Compute features, cross-validate on train (grouped by record), fit on train, rank features.

        Args:
            ctx: run context; uses `ctx.progress(fraction, message)` and the seed (`ctx.config.training.seed`
                or `ctx.seed`) when present.
            data: has `train` and `val` splits (windows); val may be empty or None.
        """
        with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
            return self._fit(ctx, data)

    def _fit(self, ctx: Any, data: Any) -> ClassicalEstimator:
        report = _report(ctx)
        seed = run_seed(ctx)
        train, val = data.train, getattr(data, "val", None)
        n_train = len(train.labels)
        n_val = 0 if val is None else len(val.labels)
        total = max(n_train + n_val, 1)
        done = [0]

        def feature_progress(count: int) -> None:
            done[0] += count
            report(0.5 * done[0] / total, f"features: {done[0]}/{total} windows")

        report(0.0, "computing features")
        X = self.features(train, feature_progress)
        y = np.asarray(train.labels, dtype=np.int64)
        X_val = self.features(val, feature_progress) if n_val else None
        y_val = np.asarray(val.labels, dtype=np.int64) if n_val else None

        self.cv_scores_ = self._cross_validate(X, y, np.asarray(train.record_index), seed, report)
        report(0.85, "fitting on the training split")
        self.pipeline_ = self.make_pipeline(seed, y).fit(X, y)
        self.classes_ = self.pipeline_.classes_
        self.selected_features_ = self._selected()
        report(0.95, "ranking features")
        self.importances_, self.importance_method_ = self._importances(X, y, X_val, y_val, seed)
        self.train_accuracy_ = float(np.mean(self._proba(X).argmax(axis=1) == y))
        self.val_accuracy_ = (
            None if X_val is None else float(np.mean(self._proba(X_val).argmax(axis=1) == y_val))
        )
        report(1.0, "done")
        return self

    def _cross_validate(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        seed: int,
        report: Callable[[float, str], None],
    ) -> np.ndarray:
        k = self.params.cv_folds
        n_groups = np.unique(groups).size
        if n_groups < k:
            raise ValueError(
                f"model.params.cv_folds: {k} folds need at least {k} training records, "
                f"but the training split has {n_groups}"
            )
        # Grouped by record: windows of one record are near-copies, so they must share a fold.
        folds = list(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y, groups))
        scores = []
        for i, (fit_rows, score_rows) in enumerate(folds):
            report(0.5 + 0.35 * i / k, f"cross-validation fold {i + 1}/{k}")
            pipeline = self.make_pipeline(seed, y[fit_rows]).fit(X[fit_rows], y[fit_rows])
            scores.append(float(np.mean(pipeline.predict(X[score_rows]) == y[score_rows])))
        return np.asarray(scores)

    def _selected(self) -> list[str]:
        selector = self.pipeline_.named_steps["select"]
        if selector == "passthrough":
            return list(self.feature_names)
        return [name for name, keep in zip(self.feature_names, selector.get_support(), strict=True) if keep]

    def _importances(
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None, y_val: np.ndarray | None, seed: int
    ) -> tuple[dict[str, float], str]:
        classifier = self.pipeline_.named_steps["classify"]
        scores = dict.fromkeys(self.feature_names, 0.0)
        if hasattr(classifier, "feature_importances_"):
            for name, value in zip(self.selected_features_, classifier.feature_importances_, strict=True):
                scores[name] = float(value)
            method = "impurity"
        else:
            # SVM and histogram boosting have no built-in importance: accuracy lost when a feature is
            # shuffled, on held-out windows where there are some.
            X_eval, y_eval, where = (X_val, y_val, "val") if X_val is not None else (X, y, "train")
            result = permutation_importance(
                self.pipeline_,
                X_eval,
                y_eval,
                n_repeats=PERMUTATION_REPEATS,
                random_state=seed,
                scoring="accuracy",
            )
            for name, value in zip(self.feature_names, result.importances_mean, strict=True):
                scores[name] = float(value)
            method = f"permutation ({where})"
        ranked = dict(sorted(scores.items(), key=lambda item: -item[1]))
        return ranked, method

    # -- results ------------------------------------------------------------------------------------

    def _check_fitted(self) -> Pipeline:
        if self.pipeline_ is None:
            raise RuntimeError("the classical model is not fitted yet: call fit_estimator first")
        return self.pipeline_

    def _proba(self, X: np.ndarray) -> np.ndarray:
        pipeline = self._check_fitted()
        out = np.zeros((X.shape[0], self.spec.n_classes))
        if X.shape[0]:
            # A class missing from training gets probability 0 in its column.
            with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
                out[:, self.classes_] = pipeline.predict_proba(X)
        return out

    def predict_proba(self, split: FeatureSplit) -> np.ndarray:
        """Class probabilities (n_windows, C) for every window of `split`."""
        self._check_fitted()
        return self._proba(self.features(split))

    @property
    def selected_features(self) -> list[str]:
        """Names of the features the classifier uses, in feature-set order."""
        self._check_fitted()
        return list(self.selected_features_)

    def feature_importance(self) -> dict[str, float]:
        """Importance of each of the 36 features, largest first (0 for features not selected)."""
        self._check_fitted()
        return dict(self.importances_)

    def summary(self) -> dict[str, Any]:
        """What the model learned, as plain JSON values (for model_summary.json and the results page)."""
        self._check_fitted()
        return {
            "family": "classical",
            "algorithm": self.params.algorithm,
            "feature_selection": self.params.feature_selection,
            "selected_features": self.selected_features,
            "feature_importance": self.feature_importance(),
            "importance_method": self.importance_method_,
            "cv_folds": int(self.params.cv_folds),
            "cv_scores": [float(s) for s in self.cv_scores_],
            "cv_accuracy_mean": float(np.mean(self.cv_scores_)),
            "cv_accuracy_std": float(np.std(self.cv_scores_)),
            "train_window_accuracy": self.train_accuracy_,
            "val_window_accuracy": self.val_accuracy_,
            "persisted": self.saved_note_ is not None,
            "persisted_note": self.saved_note_ or "fitted model not saved",
        }

    def forget_features(self, splits: Sequence[FeatureSplit] = ()) -> None:
        """Drop cached feature tables (all, or those of `splits`)."""
        if not splits:
            self._cache.clear()
        for split in splits:
            self._cache.pop(id(split), None)


def build(params: ClassicalParams, spec: InputSpec) -> ClassicalEstimator:
    """An unfitted classical estimator; the measured speed is used when `spec.meta_names` has speed_hz."""
    if not isinstance(params, ClassicalParams):
        params = ClassicalParams.model_validate(params)
    return ClassicalEstimator(params, spec)


set_builder("classical", build)
