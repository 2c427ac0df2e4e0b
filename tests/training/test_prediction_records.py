"""From a source to a model's records, and from its outputs to a PredictionResult (a fake stored model)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.store import Store
from bearing_workbench.training import stored_model
from bearing_workbench.training.evaluate import aggregate_records
from bearing_workbench.training.prediction import PredictionResult, predict, records_for
from bearing_workbench.training.sources import PredictionInputError, SignalSource, array_source
from bearing_workbench.training.stored_model import RecordOutputs, Records

CLASSES = ("healthy", "imbalance", "misalignment")


class FakeModel:
    """The StoredModel interface over a rule: window RMS above / near / below 1 picks the class."""

    def __init__(
        self,
        *,
        fs: float = 20480.0,
        length: int = 1024,
        meta_names: tuple[str, ...] = (),
        required_meta: tuple[str, ...] = (),
        per_window: bool = True,
    ):
        self.experiment_id = 7
        self.family = "fake"
        self.spec = InputSpec(
            kind="signal", n_classes=3, class_names=CLASSES, fs=fs, length=length, meta_names=meta_names
        )
        self.min_samples = length
        self.required_meta = required_meta
        self.per_window = per_window
        self.seen: list[Records] = []

    def predict_records(self, records: Records, *, progress=None) -> RecordOutputs:
        self.seen.append(records)
        length = self.spec.length
        starts = np.arange(0, records.n_samples - length + 1, length)
        index = np.repeat(np.arange(records.n_records), len(starts))
        all_starts = np.tile(starts, records.n_records)
        rms = np.array(
            [
                np.sqrt(np.mean(records.signals[r, s : s + length] ** 2))
                for r, s in zip(index, all_starts, strict=True)
            ]
        )
        scores = np.stack([-np.abs(rms - 0.5), -np.abs(rms - 1.0), -np.abs(rms - 2.0)], axis=1) * 10
        window_probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        probs = aggregate_records(window_probs, index, records.n_records)
        if not self.per_window:
            return RecordOutputs(probs=probs, window_probs=None, window_record_index=None, window_starts=None)
        return RecordOutputs(
            probs=probs, window_probs=window_probs, window_record_index=index, window_starts=all_starts
        )


def _signals(gains, n_samples=3072, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([g * rng.standard_normal(n_samples) for g in gains]).astype(np.float32)


def test_records_at_the_models_rate_pass_unchanged_with_labels_as_indices_in_the_models_order():
    signals = _signals([0.5, 2.0])
    source = array_source(signals, 20480.0, labels=["misalignment", "healthy"])
    records, warnings = records_for(FakeModel(), source)
    assert warnings == []
    np.testing.assert_array_equal(records.signals, signals)
    assert records.fs == 20480.0 and records.record_ids == source.record_ids
    assert records.labels.tolist() == [2, 0]


def test_another_rate_is_resampled_with_a_warning_naming_both_rates():
    fs = 25600.0
    t = np.arange(3200) / fs
    source = array_source(np.sin(2 * np.pi * 1000.0 * t)[np.newaxis, :], fs)
    records, warnings = records_for(FakeModel(), source)
    assert warnings == ["resampled array from 25600 Hz to 20480 Hz (the model's rate)"]
    assert records.signals.shape == (1, 2560) and records.signals.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(records.signals[0]))
    assert np.fft.rfftfreq(2560, 1 / 20480.0)[spectrum.argmax()] == pytest.approx(1000.0, abs=8.0)


def test_records_shorter_than_the_model_takes_are_refused():
    with pytest.raises(
        PredictionInputError,
        match=r"^array: records are too short: 1000 samples, "
        r"experiment 7 needs at least 1024 \(0.05 s at 20480 Hz\)",
    ):
        records_for(FakeModel(), array_source(np.zeros((2, 1000)), 20480.0))
    # long enough as given, too short once brought to the model's rate
    with pytest.raises(PredictionInputError, match="960 samples at 20480 Hz"):
        records_for(FakeModel(), array_source(np.zeros((2, 1200)), 25600.0))


def test_nan_or_infinite_samples_are_refused_naming_the_records():
    signals = _signals([1.0, 1.0, 1.0])
    signals[0, 5] = np.nan
    signals[2, 9] = np.inf
    with pytest.raises(PredictionInputError, match="NaN or infinite samples in records rec-00000, rec-00002"):
        records_for(FakeModel(), array_source(signals, 20480.0))


def test_records_that_are_not_one_channel_are_refused():
    source = SignalSource(signals=np.zeros((2, 2, 2048)), fs=20480.0, record_ids=("a", "b"), name="x.npz")
    with pytest.raises(PredictionInputError, match=r"x.npz: expected one channel per record.*\(2, 2, 2048\)"):
        records_for(FakeModel(), source)


def test_labels_the_model_does_not_know_are_listed_with_the_classes_it_knows():
    source = array_source(_signals([1.0] * 3), 20480.0, labels=["healthy", "wear", "cavitation"])
    with pytest.raises(PredictionInputError) as caught:
        records_for(FakeModel(), source)
    assert str(caught.value) == (
        "array: labels not among the classes of experiment 7: wear, cavitation; "
        "it knows healthy, imbalance, misalignment"
    )


def test_metadata_is_taken_by_column_name_and_a_needed_column_that_is_missing_is_named():
    meta = {
        "load_frac": np.array([0.2, 0.4]),
        "speed_hz": np.array([25.0, 30.0]),
        "site": np.array(["a", "b"]),
    }
    source = SignalSource(
        signals=_signals([1.0, 1.0]), fs=20480.0, record_ids=("a", "b"), meta=meta, name="f"
    )
    model = FakeModel(meta_names=("speed_hz", "load_frac"), required_meta=("speed_hz", "load_frac"))
    records, _ = records_for(model, source)
    assert set(records.meta) == {"speed_hz", "load_frac"}
    np.testing.assert_array_equal(records.meta["speed_hz"], [25.0, 30.0])

    no_load = SignalSource(
        signals=_signals([1.0, 1.0]),
        fs=20480.0,
        record_ids=("a", "b"),
        meta={"speed_hz": meta["speed_hz"]},
        name="f",
    )
    with pytest.raises(
        PredictionInputError,
        match=r"^f: experiment 7 \(fake\) needs the operating metadata "
        r"load_frac for every record; it has speed_hz \(datasets from generate-data carry it",
    ):
        records_for(model, no_load)
    gaps = SignalSource(
        signals=_signals([1.0, 1.0]), fs=20480.0, record_ids=("a", "b"),
        meta={**meta, "load_frac": np.array([0.2, np.nan])}, name="f",
    )  # fmt: skip
    with pytest.raises(PredictionInputError, match=r"load_frac for every record \(load_frac not numbers"):
        records_for(model, gaps)


@pytest.fixture
def fake_store(tmp_path, monkeypatch):
    """A store, and load_stored_model answering with the model a test puts in `models`."""
    models: dict[int, FakeModel] = {}
    monkeypatch.setattr(stored_model, "load_stored_model", lambda store, eid, device=None: models[eid])
    store = Store(workspace=tmp_path)
    yield store, models
    store.dispose()


def test_predict_gives_classes_probabilities_and_accuracy_per_record(fake_store):
    store, models = fake_store
    models[7] = model = FakeModel()
    signals = _signals([0.5, 1.0, 2.0, 2.0])
    result = predict(7, (signals, 20480.0), labels=CLASSES + ("misalignment",), store=store)
    assert isinstance(result, PredictionResult)
    assert result.class_names == CLASSES and result.n_records == 4
    assert result.predicted == ("healthy", "imbalance", "misalignment", "misalignment")
    assert result.accuracy == 1.0
    assert result.probs.shape == (4, 3) and np.allclose(result.probs.sum(axis=1), 1.0)
    assert result.windows is None
    assert model.seen[0].labels.tolist() == [0, 1, 2, 2]

    frame = result.frame()
    assert list(frame.columns) == [
        "record_id", "true_label", "predicted_label", "prob_healthy", "prob_imbalance", "prob_misalignment",
    ]  # fmt: skip
    assert frame["predicted_label"].tolist() == list(result.predicted)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["accuracy"] == 1.0 and data["records"][2]["predicted_label"] == "misalignment"
    assert data["records"][2]["probability"] == pytest.approx(result.probs[2].max())


def test_without_labels_there_is_no_truth_and_no_accuracy(fake_store):
    store, models = fake_store
    models[7] = FakeModel()
    result = predict(7, (_signals([0.5]), 20480.0), store=store)
    assert result.true_labels is None and result.accuracy is None
    assert "true_label" not in result.frame().columns


def test_windows_on_request_number_each_records_windows_and_average_to_the_record(fake_store):
    store, models = fake_store
    models[7] = FakeModel()
    result = predict(7, (_signals([0.5, 2.0]), 20480.0), windows=True, store=store)
    windows = result.windows
    assert windows["record_id"].tolist() == ["rec-00000"] * 3 + ["rec-00001"] * 3
    assert windows["window"].tolist() == [0, 1, 2] * 2
    assert windows["start"].tolist() == [0, 1024, 2048] * 2
    probs = windows.groupby("record_id")[[f"prob_{c}" for c in CLASSES]].mean().to_numpy()
    np.testing.assert_allclose(probs, result.probs)
    assert len(result.to_dict()["windows"]) == 6


def test_a_model_without_window_detail_says_so_when_windows_are_asked_for(fake_store):
    store, models = fake_store
    models[7] = FakeModel(per_window=False)
    result = predict(7, (_signals([0.5]), 20480.0), windows=True, store=store)
    assert result.windows is None
    assert any("no per-window detail" in w for w in result.warnings)
