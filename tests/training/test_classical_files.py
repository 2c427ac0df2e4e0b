"""Classical model files: skops read back only with the workbench's own types, ONNX of the feature table."""

from __future__ import annotations

import collections
import itertools
import os

import numpy as np
import pytest
import skops.io as sio
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from bearing_workbench.features import FEATURE_NAMES
from bearing_workbench.models.builders.classical import ClassicalEstimator
from bearing_workbench.models.classical import ClassicalParams
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.training.classical_files import (
    ONNX_INPUT,
    TRUSTED_TYPES,
    export_classical_onnx,
    read_pipeline,
)
from bearing_workbench.training.skops_files import PLAIN_TYPES, file_types, save_skops
from bearing_workbench.training.stored_model import StoredModelError

SPEC = InputSpec(kind="features", n_classes=3, class_names=("a", "b", "c"), fs=10240.0, length=5120)
ALGORITHMS = ("random_forest", "svm", "gradient_boosting")
SELECTIONS = ("all", "top_k", "correlation")


@pytest.fixture(scope="module")
def table() -> tuple[np.ndarray, np.ndarray]:
    """A feature table with three separable classes and two near-duplicate columns."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    X = rng.normal(size=(90, len(FEATURE_NAMES)))
    X[:, 0] += 3 * y
    X[:, 1] = 2 * X[:, 0] + 0.01 * rng.normal(size=90)  # the correlation filter drops it
    return X, y


def fitted(algorithm: str, selection: str, X: np.ndarray, y: np.ndarray) -> Pipeline:
    params = ClassicalParams(algorithm=algorithm, feature_selection=selection, n_estimators=10, top_k=8)
    return ClassicalEstimator(params, SPEC, n_jobs=1).make_pipeline(0, y).fit(X, y)


@pytest.mark.parametrize(("algorithm", "selection"), list(itertools.product(ALGORITHMS, SELECTIONS)))
def test_every_pipeline_holds_only_trusted_types_and_reads_back(
    table, tmp_path, algorithm, selection
) -> None:
    X, y = table
    pipeline = fitted(algorithm, selection, X, y)
    path = save_skops(pipeline, tmp_path / "model.skops")
    assert file_types(path) <= set(TRUSTED_TYPES) | set(PLAIN_TYPES)
    loaded = read_pipeline(path, "experiments/1/model.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))
    assert [p.name for p in tmp_path.iterdir()] == ["model.skops"]  # written atomically


class Sneaky(collections.OrderedDict):
    """A dict subclass from outside the list of trusted types."""


CRAFTED = {
    # skops itself trusts these two by default; the workbench does not.
    "another estimator": (
        lambda X, y: Pipeline([("scale", StandardScaler()), ("classify", KNeighborsClassifier(3))]).fit(X, y),
        "sklearn.neighbors._classification.KNeighborsClassifier",
    ),
    "an OrderedDict": (lambda X, y: collections.OrderedDict(a=1), "collections.OrderedDict"),
    "a dict subclass": (lambda X, y: Sneaky(a=1), f"{__name__}.Sneaky"),
    "a function from another module": (
        lambda X, y: Pipeline(
            [("run", FunctionTransformer(os.system)), ("classify", KNeighborsClassifier())]
        ),
        f"{os.system.__module__}.system",
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_file_with_a_foreign_type_is_refused_naming_file_and_type(table, tmp_path, case) -> None:
    make, foreign = CRAFTED[case]
    path = save_skops(make(*table), tmp_path / "model.skops")
    if case in ("another estimator", "an OrderedDict"):
        assert sio.get_untrusted_types(file=path) == []  # skops alone would have loaded it
    with pytest.raises(
        StoredModelError, match=r"refusing to load experiments/7/model.skops: it holds types"
    ) as err:
        read_pipeline(path, "experiments/7/model.skops")
    assert foreign in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really a zip", b"\x80\x04pickle"])
def test_a_damaged_file_is_not_a_readable_skops_file(tmp_path, data) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(data)
    with pytest.raises(StoredModelError, match="experiments/7/model.skops is not a readable skops file"):
        read_pipeline(path, "experiments/7/model.skops")


@pytest.mark.parametrize("selection", SELECTIONS)
def test_onnx_of_a_forest_takes_the_feature_table(table, tmp_path, selection) -> None:
    import onnxruntime as ort

    X, y = table
    pipeline = fitted("random_forest", selection, X, y)
    entry = export_classical_onnx(pipeline, tmp_path / "model.onnx", X[:8])
    assert entry["verified"] and entry["max_abs_diff"] <= entry["tolerance"], entry
    assert "feature table" in entry["input"]
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    (declared,) = session.get_inputs()
    assert (declared.name, declared.shape[1]) == (ONNX_INPUT, len(FEATURE_NAMES))


def test_onnx_that_does_not_convert_says_why_and_leaves_no_file(table, tmp_path) -> None:
    X, y = table
    entry = export_classical_onnx(fitted("gradient_boosting", "all", X, y), tmp_path / "model.onnx", X[:8])
    if entry["verified"]:  # a later skl2onnx converts histogram boosting: then it is checked like the rest
        assert entry["max_abs_diff"] <= entry["tolerance"]
    else:
        assert "cannot convert this HistGradientBoostingClassifier pipeline" in entry["error"]
        assert list(tmp_path.iterdir()) == []
