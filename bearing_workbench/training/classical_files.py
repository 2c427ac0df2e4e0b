"""The classical family's model files: the fitted pipeline as skops (trusted types only) and as ONNX.

``model.skops`` holds the scikit-learn pipeline (scaling, feature selection, classifier) and is read
back only when every type it names is in `TRUSTED_TYPES`. ``model.onnx`` is the same pipeline for
onnxruntime, where skl2onnx converts it: its input is the feature table ("features", (n, 36)
float32, the columns of `features.FEATURE_NAMES`), not the signal. The 36 features stay in Python
(`features.compute_features`), so a program using the ONNX file computes them first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bearing_workbench.features import FEATURE_NAMES
from bearing_workbench.models.builders.classical import SPEED_META, ClassicalEstimator, CorrelationFilter
from bearing_workbench.models.registry import set_loader
from bearing_workbench.models.validation import model_params
from bearing_workbench.training.skops_files import load_skops, save_skops
from bearing_workbench.training.stored_model import (
    PredictionWindows,
    Progress,
    Records,
    StoredFiles,
    StoredModel,
    StoredModelError,
)

# Every type a fitted classical pipeline holds (besides plain values and numpy arrays), for each
# algorithm and feature selection (tests/training/test_classical_files.py checks them all).
TRUSTED_TYPES: tuple[str, ...] = (
    "bearing_workbench.models.builders.classical.CorrelationFilter",
    "functools.partial",  # SelectKBest's score function, mutual_info_classif with its seed
    "numpy.random._generator.Generator",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.feature_selection._mutual_info.mutual_info_classif",
    "sklearn.feature_selection._univariate_selection.SelectKBest",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.svm._classes.SVC",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
)
ONNX_INPUT = "features"
ONNX_OUTPUT = "probabilities"
ONNX_OPSET = 17
ONNX_TOLERANCE = 1e-4  # largest absolute probability difference accepted between onnxruntime and sklearn
ONNX_NOTE = (
    f"input '{ONNX_INPUT}': the (n, {len(FEATURE_NAMES)}) float32 feature table of the windows "
    "(features.compute_features, columns in FEATURE_NAMES order), not the signal; "
    f"output '{ONNX_OUTPUT}': class probabilities"
)


def read_pipeline(path: Any, label: str) -> Any:
    """The fitted pipeline in a classical ``model.skops`` (refused when it holds a foreign type)."""
    from sklearn.pipeline import Pipeline

    pipeline = load_skops(path, TRUSTED_TYPES, label)
    if not isinstance(pipeline, Pipeline) or not hasattr(pipeline, "classes_"):
        raise StoredModelError(f"{label} does not hold a fitted scikit-learn pipeline")
    return pipeline


# -- ONNX ----------------------------------------------------------------------------------------------


def _register_correlation_filter() -> None:
    """Let skl2onnx convert our CorrelationFilter like its own selectors (a fixed column subset)."""
    from skl2onnx import update_registered_converter
    from skl2onnx.operator_converters.feature_selection import convert_sklearn_feature_selection
    from skl2onnx.shape_calculators.feature_selection import calculate_sklearn_select

    update_registered_converter(
        CorrelationFilter,
        "BearingWorkbenchCorrelationFilter",
        calculate_sklearn_select,
        convert_sklearn_feature_selection,
    )


def export_classical_onnx(pipeline: Any, path: Any, example: np.ndarray) -> dict[str, Any]:
    """Convert `pipeline` with skl2onnx and check it with onnxruntime on the `example` feature rows.

    Returns the metrics.json ``onnx`` entry: {"path", "verified", "max_abs_diff", "tolerance",
    "opset", "input"} or, when it does not convert, {"verified": False, "error"} with the reason.
    """
    from sklearn.pipeline import Pipeline

    from bearing_workbench.config.atomic_files import atomic_path

    try:
        import onnxruntime as ort
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError as exc:
        return {"verified": False, "error": f"ONNX export needs skl2onnx and onnxruntime ({exc})"}
    _register_correlation_filter()
    # skl2onnx cannot take a "passthrough" step; the same pipeline without it computes the same.
    steps = [(name, step) for name, step in pipeline.steps if step != "passthrough"]
    rows = np.ascontiguousarray(example, dtype=np.float32)
    try:
        model = to_onnx(
            Pipeline(steps),
            # As wide as the estimator's table: 36 features, 73 with model.params.order_features.
            initial_types=[(ONNX_INPUT, FloatTensorType([None, rows.shape[1]]))],
            options={"zipmap": False},
            target_opset=ONNX_OPSET,
            final_types=None,
        )
        with atomic_path(path) as tmp:
            tmp.write_bytes(model.SerializeToString())
            session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
            got = session.run([ONNX_OUTPUT], {ONNX_INPUT: rows})[0]
    except Exception as exc:  # skl2onnx raises many types for what it cannot convert
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        classifier = type(pipeline.steps[-1][1]).__name__
        return {"verified": False, "error": f"skl2onnx cannot convert this {classifier} pipeline: {first}"}
    expected = pipeline.predict_proba(rows)
    diff = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - expected))) if rows.size else 0.0
    return {
        "path": str(path),
        "verified": bool(diff <= ONNX_TOLERANCE),
        "max_abs_diff": diff,
        "tolerance": ONNX_TOLERANCE,
        "opset": ONNX_OPSET,
        "input": ONNX_NOTE,
    }


# -- saving --------------------------------------------------------------------------------------------


def save_classical(result: Any, folder: Any, config: Any) -> dict[str, Any]:
    """Write ``model.skops`` (read back once to check it loads) and, when the config asks for ONNX,
    ``model.onnx``; returns the metrics.json entries ``model_file`` and ``onnx``."""
    estimator: ClassicalEstimator = result.model
    pipeline = estimator._check_fitted()
    path = folder.classical_model
    entries: dict[str, Any] = {}
    try:
        save_skops(pipeline, path)
        read_pipeline(path, folder.where(path))
        entries["model_file"] = {"path": str(path), "format": "skops", "verified": True}
        note = f"saved as {path.name} (skops, trusted types only)"
    except StoredModelError as exc:  # our own file refused: keep the run, say why there is no file
        path.unlink(missing_ok=True)
        entries["model_file"] = {"verified": False, "error": str(exc)}
        note = None
    if config.training.export_onnx:
        example = (
            estimator.features(result.test)[:8]
            if len(result.test)
            else np.zeros((0, len(estimator.feature_names)))
        )
        entries["onnx"] = export_classical_onnx(pipeline, folder.onnx, example)
        if entries["onnx"].get("verified") and note is not None:
            note += f" and {folder.onnx.name} ({ONNX_NOTE})"
    estimator.record_saved(note)
    return entries


# -- loading -------------------------------------------------------------------------------------------


class ClassicalStoredModel(StoredModel):
    """The stored pipeline on the 36 features of each window, computed as in training."""

    def __init__(self, files: StoredFiles, estimator: ClassicalEstimator, without_speed: ClassicalEstimator):
        super().__init__(files)
        self.estimator = estimator
        self.without_speed = without_speed

    def _window_probs(
        self, windows: PredictionWindows, records: Records, progress: Progress
    ) -> tuple[np.ndarray, list[str]]:
        notes = []
        estimator = self.estimator
        if SPEED_META in self.spec.meta_names and SPEED_META not in records.meta:
            # Trained with the measured speed placing the order bands: without it, the speed is
            # estimated per window from the spectrum (what a dataset without speed gets in training).
            estimator = self.without_speed
            notes.append(
                f"{self.label} was trained with the measured shaft speed ({SPEED_META}); these records have "
                "none, so the speed was estimated per window from its spectrum"
            )
        total, done = len(windows), [0]

        def counted(count: int) -> None:
            done[0] += count
            progress(0.95 * done[0] / max(total, 1), f"features: {done[0]}/{total} windows")

        try:
            estimator.features(windows, counted)
            return estimator.predict_proba(windows), notes
        except ValueError as exc:
            raise StoredModelError(f"{self.label}: {exc}") from None
        finally:
            estimator.forget_features([windows])


def load_classical(files: StoredFiles) -> ClassicalStoredModel:
    """The classical model of a stored experiment, from its ``model.skops``."""
    path = files.folder.classical_model
    if not path.is_file():
        raise StoredModelError(
            f"{files.where(path)} is missing: experiment {files.experiment_id} has no saved classical model "
            "(runs before model files were saved have none; train it again)"
        )
    pipeline = read_pipeline(path, files.where(path))
    params = model_params(files.config)
    spec = files.spec
    no_speed = spec.model_copy(update={"meta_names": tuple(n for n in spec.meta_names if n != SPEED_META)})
    return ClassicalStoredModel(
        files,
        ClassicalEstimator.from_pipeline(params, spec, pipeline),
        ClassicalEstimator.from_pipeline(params, no_speed, pipeline),
    )


set_loader("classical", load_classical, save_classical)
