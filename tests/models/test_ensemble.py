"""Ensemble family: soft voting and stacking over stored experiments' predictions, with diversity."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from bearing_workbench.models.builders.ensemble import (
    EnsembleError,
    EnsembleEstimator,
    build,
    load_member,
    optimise_weights,
)
from bearing_workbench.models.ensemble import EnsembleParams
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.predictions import make_predictions
from bearing_workbench.models.registry import get_family
from bearing_workbench.store import Store, experiment_dir
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import write_artifacts

CLASSES = ("healthy", "wear", "oil_whirl")
N_VAL, N_TEST = 300, 400


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)
    s = Store(url=f"sqlite:///{tmp_path / 'workbench.db'}", workspace=tmp_path)
    yield s
    s.dispose()


def _labels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, len(CLASSES), n)


Y = {"val": _labels(N_VAL, 100), "test": _labels(N_TEST, 101)}
# Noise every member shares: their errors are correlated, but only partly.
SHARED = {
    s: np.random.default_rng(7 + i).standard_normal((len(y), len(CLASSES)))
    for i, (s, y) in enumerate(Y.items())
}


def _member_probs(split: str, seed: int, signal: float, own: float = 0.85, shared: float = 0.5) -> np.ndarray:
    y = Y[split]
    rng = np.random.default_rng([seed, len(y)])
    logits = (
        signal * np.eye(len(CLASSES))[y]
        + shared * SHARED[split]
        + own * rng.standard_normal(SHARED[split].shape)
    )
    logits *= 2.0
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _store_member(
    store: Store,
    name: str,
    seed: int,
    signal: float = 1.0,
    *,
    family: str = "cnn1d",
    dataset: str = "demo",
    complete: bool = True,
    shuffle: bool = False,
    classes: tuple[str, ...] = CLASSES,
    drop_test_record: bool = False,
    own: float = 0.85,
) -> int:
    config = {"data": {"dataset": dataset}, "model": {"family": family}}
    eid = store.create_experiment(name, family, config)
    store.transition(eid, "start")
    preds = {}
    for split in ("val", "test"):
        probs = _member_probs(split, seed, signal, own=own)
        ids = [f"{split}{i}" for i in range(len(Y[split]))]
        order = np.random.default_rng(seed).permutation(len(ids)) if shuffle else np.arange(len(ids))
        if drop_test_record and split == "test":
            order = order[1:]
        preds[split] = make_predictions([ids[i] for i in order], Y[split][order], probs[order], classes)
    write_artifacts(
        experiment_dir(eid, store.workspace, create=True),
        config=config,
        history=[],
        metrics={},
        test_predictions=preds["test"],
        val_predictions=preds["val"],
        class_names=classes,
    )
    if complete:
        store.transition(eid, "complete")
    return eid


def _fit(store: Store, members: list[int], **params) -> EnsembleEstimator:
    spec = InputSpec("predictions", len(CLASSES), CLASSES, 10240.0, 1)
    ctx = SimpleNamespace(store=store, seed=0, progress=None)
    return build(EnsembleParams(members=members, **params), spec).fit_estimator(ctx)


def _accuracy(probs: np.ndarray, split: str = "test") -> float:
    return float(np.mean(probs.argmax(axis=1) == Y[split]))


@pytest.fixture
def three(store) -> list[int]:
    return [_store_member(store, f"m{i}", seed=i) for i in range(3)]


def test_the_builder_is_registered():
    assert get_family("ensemble").builder is build


def test_equal_soft_voting_beats_the_best_member_on_test(store, three):
    model = _fit(store, three)
    best = max(_accuracy(_member_probs("test", i, 1.0)) for i in range(3))
    probs = model.predict_proba("test")
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs, np.mean([_member_probs("test", i, 1.0) for i in range(3)], axis=0))
    assert _accuracy(probs) > best + 0.02
    summary = model.summary()
    json.dumps(summary, allow_nan=False)
    assert [m["contribution"] for m in summary["members"]] == pytest.approx([1 / 3] * 3)
    assert summary["test_accuracy"] == pytest.approx(_accuracy(probs))
    assert summary["best_member_test_accuracy"] == pytest.approx(best)
    assert summary["val_in_sample"] is False
    assert [m["experiment_id"] for m in summary["members"]] == three


def test_optimised_weights_turn_down_a_useless_member(store, three):
    noise = _store_member(store, "noise", seed=9, signal=0.0)
    model = _fit(store, [*three, noise], weights="optimised")
    weights = [m["contribution"] for m in model.summary()["members"]]
    assert sum(weights) == pytest.approx(1.0)
    assert weights[3] < 0.1 < min(weights[:3])
    assert model.summary()["val_in_sample"] is True
    equal = _fit(store, [*three, noise])
    assert _accuracy(model.predict_proba("test")) > _accuracy(equal.predict_proba("test"))


def test_optimise_weights_finds_the_minimum_of_the_validation_log_loss():
    y = Y["val"]
    member_probs = np.stack([_member_probs("val", s, sig) for s, sig in [(0, 1.0), (1, 0.6), (2, 0.0)]])
    w = optimise_weights(y, member_probs)

    def loss(weights):
        q = np.tensordot(weights, member_probs, axes=1)[np.arange(y.size), y]
        return -np.mean(np.log(q))

    rng = np.random.default_rng(0)
    for other in rng.dirichlet(np.ones(3), size=200):
        assert loss(w) <= loss(other) + 1e-6
    assert w[0] > w[1] > w[2]


def test_stacking_beats_the_best_member_and_reports_an_honest_validation_score(store, three):
    model = _fit(store, three, method="stacking")
    best = max(_accuracy(_member_probs("test", i, 1.0)) for i in range(3))
    assert _accuracy(model.predict_proba("test")) > best + 0.02
    summary = model.summary()
    assert summary["contribution_kind"] == "coefficient_norm_share"
    assert sum(m["contribution"] for m in summary["members"]) == pytest.approx(1.0)
    # The validation predictions are out-of-fold, so they score what the cross-validation says.
    assert summary["stacking_cv_val_accuracy"] == pytest.approx(_accuracy(model.predict_proba("val"), "val"))
    assert summary["val_in_sample"] is False
    assert 0.5 < summary["stacking_cv_val_accuracy"] < 1.0


def test_diversity_matrices(store, three):
    twin = _store_member(store, "twin of m0", seed=0)
    diversity = _fit(store, [*three, twin]).summary()["diversity"]
    agreement = np.array(diversity["agreement"])
    errors = np.array(diversity["error_correlation"], dtype=float)
    assert diversity["split"] == "test" and diversity["member_ids"] == [*three, twin]
    np.testing.assert_allclose(np.diag(agreement), 1.0)
    np.testing.assert_allclose(agreement, agreement.T)
    np.testing.assert_allclose(errors, errors.T)
    assert agreement[0, 3] == 1.0 and errors[0, 3] == pytest.approx(1.0)  # identical predictions
    assert 0.0 < errors[0, 1] < 0.8 and agreement[0, 1] < 1.0  # partly independent errors
    assert diversity["error_rate"][0] == pytest.approx(1 - _accuracy(_member_probs("test", 0, 1.0)))


def test_members_stored_in_another_row_order_are_aligned_by_record(store, three):
    shuffled = [_store_member(store, f"s{i}", seed=i, shuffle=True) for i in range(3)]
    model = _fit(store, shuffled)
    assert model.predictions("test").record_ids != tuple(f"test{i}" for i in range(N_TEST))  # shuffled rows
    in_order = SimpleNamespace(record_ids=[f"test{i}" for i in range(N_TEST)])
    np.testing.assert_allclose(model.predict_proba(in_order), _fit(store, three).predict_proba("test"))


def test_predicting_a_split_object_follows_its_record_order(store, three):
    model = _fit(store, three)
    ids = [f"test{i}" for i in np.random.default_rng(3).permutation(N_TEST)]
    rows = [int(r[4:]) for r in ids]
    np.testing.assert_allclose(
        model.predict_proba(SimpleNamespace(record_ids=ids)), model.predict_proba("test")[rows]
    )
    windows = SimpleNamespace(record_ids=ids, record_index=np.repeat(np.arange(N_TEST), 2))
    np.testing.assert_allclose(model.predict_proba(windows), model.predict_proba("test")[np.repeat(rows, 2)])
    with pytest.raises(EnsembleError, match="not the members' validation or test records"):
        model.predict_proba(SimpleNamespace(record_ids=["x"]))
    preds = model.predictions("val")
    assert preds.record_ids[:2] == ("val0", "val1") and preds.probs.shape == (N_VAL, 3)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (dict(complete=False), "is running; only completed experiments"),
        (dict(family="ensemble"), "is itself an ensemble"),
        (dict(dataset="other"), "was trained on dataset 'other'"),
        (dict(classes=("healthy", "oil_whirl", "wear")), "predicts classes"),
        (dict(drop_test_record=True), "different test records"),
    ],
)
def test_members_that_cannot_be_combined_are_named(store, three, bad, message):
    odd = _store_member(store, "odd one", seed=5, **bad)
    with pytest.raises(EnsembleError, match=message) as info:
        _fit(store, [three[0], odd])
    assert f"member {odd} ('odd one')" in str(info.value)


def test_a_member_without_prediction_files_is_named(store, three):
    ExperimentFolder.of(three[1], store.workspace).predictions_val.unlink()
    with pytest.raises(EnsembleError, match=rf"member {three[1]} \('m1'\) has no predictions_val.csv"):
        load_member(store, three[1])


def test_too_few_members_is_a_clear_error(store, three):
    with pytest.raises(EnsembleError, match=r"model\.params\.members: choose 2 to 7"):
        _fit(store, three[:1])


def test_without_a_store_the_error_says_what_is_missing():
    model = build(EnsembleParams(members=[1, 2]))
    with pytest.raises(EnsembleError, match="ctx.store"):
        model.fit_estimator(SimpleNamespace())
