"""failure_case on real tiny runs, the amplitude spectrum on synthetic tones, and display decimation."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.analysis.decimation import min_max_decimate
from bearing_workbench.analysis.failure_cases import failure_case, magnitude_spectrum, order_markers
from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.store.workspace import experiment_dir
from bearing_workbench.training.artifacts import read_predictions

from .conftest import SYNTHETIC_TONE_HZ


def test_spectrum_of_two_tones_peaks_at_their_frequencies_with_their_amplitudes():
    fs, n = 1000.0, 2000  # 0.5 Hz bins: both tones on a bin
    t = np.arange(n) / fs
    x = 3.0 + 2.0 * np.sin(2 * np.pi * 50.0 * t) + 0.5 * np.sin(2 * np.pi * 120.0 * t + 0.3)
    frequencies, magnitude = magnitude_spectrum(x, fs)
    assert frequencies.shape == magnitude.shape == (n // 2 + 1,)
    assert frequencies[1] == pytest.approx(0.5) and frequencies[-1] == pytest.approx(500.0)
    assert frequencies[np.argmax(magnitude)] == pytest.approx(50.0)
    assert magnitude[frequencies == 50.0][0] == pytest.approx(2.0, rel=1e-6)
    assert magnitude[frequencies == 120.0][0] == pytest.approx(0.5, rel=1e-6)
    assert magnitude[0] < 1e-9  # the mean is removed


@pytest.mark.parametrize(
    ("signal", "fs"), [(np.zeros((2, 4)), 100.0), (np.zeros(1), 100.0), (np.zeros(8), 0.0)]
)
def test_spectrum_refuses_bad_input(signal, fs):
    with pytest.raises(ValueError, match="signal|fs"):
        magnitude_spectrum(signal, fs)


def test_order_markers_below_nyquist():
    assert order_markers(30.0, 200.0) == (("0.5X", 15.0), ("1X", 30.0), ("2X", 60.0), ("3X", 90.0))
    assert order_markers(None, 200.0) == ()
    assert order_markers(float("nan"), 200.0) == ()


def _test_records(store, experiment_id):
    return read_predictions(experiment_dir(experiment_id, store.workspace) / "predictions_test.csv")


def test_failure_case_reads_the_record_and_its_prediction(analysis_store, trained_ids):
    experiment_id = trained_ids["cnn1d"]
    predictions = _test_records(analysis_store, experiment_id)
    dataset = analysis_store.get_dataset("tiny-analysis")
    with Dataset(dataset.path) as ds:
        for row, record_id in enumerate(predictions.record_ids):
            case = failure_case(analysis_store, experiment_id, record_id)
            index = int(np.flatnonzero(ds.record_ids == record_id)[0])
            np.testing.assert_array_equal(case.signal, ds.signals([index])[0])
            assert case.true_label == ds.class_names[ds.labels[index]]
            np.testing.assert_allclose(case.probabilities, predictions.probs[row])
            assert case.predicted_label == predictions.class_names[int(predictions.probs[row].argmax())]
            assert case.correct == (case.true_label == case.predicted_label)
            assert case.confidence == pytest.approx(case.probabilities.max())
            speed = float(ds.metadata()["speed_hz"][index])
            assert case.metadata["speed_hz"] == pytest.approx(speed) and case.speed_hz == pytest.approx(speed)
            assert dict(case.order_markers)["1X"] == pytest.approx(speed)
    assert case.fs == 20480.0 and case.signal.shape == (14336,)
    np.testing.assert_allclose(np.diff(case.time_s), 1 / 20480.0)
    assert case.window_samples == 2048
    assert case.frequencies_hz.shape == case.magnitude.shape == (14336 // 2 + 1,)
    assert case.class_names == ("healthy", "imbalance", "misalignment")


def test_whole_record_runs_have_no_window(analysis_store, trained_ids):
    experiment_id = trained_ids["classical"]
    record_id = _test_records(analysis_store, experiment_id).record_ids[0]
    assert failure_case(analysis_store, experiment_id, record_id).window_samples is None


def test_a_record_outside_the_test_predictions_is_named(analysis_store, trained_ids):
    experiment_id = trained_ids["cnn1d"]
    with pytest.raises(ValueError, match=r"record 'rec-nope' is not in the test predictions of experiment"):
        failure_case(analysis_store, experiment_id, "rec-nope")
    test_ids = set(_test_records(analysis_store, experiment_id).record_ids)
    with Dataset(analysis_store.get_dataset("tiny-analysis").path) as ds:
        train_id = next(r for r in ds.record_ids if r not in test_ids)
    with pytest.raises(ValueError, match=f"record '{train_id}' is not in the test predictions"):
        failure_case(analysis_store, experiment_id, train_id)


def test_an_experiment_without_predictions_says_which_file(empty_store):
    experiment_id = empty_store.create_experiment("no run", "cnn1d", {"data": {"dataset": "x"}})
    with pytest.raises(ValueError, match="predictions_test.csv: does not exist"):
        failure_case(empty_store, experiment_id, "rec-00000")


def test_min_max_decimation_keeps_peaks_and_order():
    rng = np.random.default_rng(0)
    x = np.arange(100_000) / 1000.0
    y = rng.standard_normal(x.size)
    y[12_345] = 50.0  # one spike: plain striding would drop it
    y[87_654] = -40.0
    xs, ys = min_max_decimate(x, y, 4000)
    assert xs.size <= 4000
    assert ys.max() == 50.0 and ys.min() == -40.0
    assert np.all(np.diff(xs) >= 0)
    assert set(xs.tolist()) <= set(x.tolist())
    short_x, short_y = min_max_decimate(x[:10], y[:10], 4000)
    np.testing.assert_array_equal(short_y, y[:10])
    with pytest.raises(ValueError, match="max_points"):
        min_max_decimate(x, y, 1)


def test_a_synthetic_tone_peaks_at_its_frequency_and_has_no_order_markers(synthetic_experiment):
    store, experiment_id, record_id = synthetic_experiment
    case = failure_case(store, experiment_id, record_id)
    assert case.dataset_path.name == "tones.h5"  # found through the config's path: not registered
    assert case.frequencies_hz[np.argmax(case.magnitude)] == pytest.approx(SYNTHETIC_TONE_HZ)
    assert case.magnitude.max() == pytest.approx(2.0, rel=1e-4)
    assert case.speed_hz is None and case.order_markers == ()
    assert case.metadata == {"load_frac": pytest.approx(0.5)}
    assert (case.true_label, case.predicted_label, case.correct) == ("healthy", "wear", False)
    assert case.true_probability == 0.25 and case.confidence == 0.75
    assert case.window_samples is None


def test_a_missing_dataset_is_named(synthetic_experiment):
    store, experiment_id, record_id = synthetic_experiment
    failure_case(store, experiment_id, record_id).dataset_path.unlink()
    with pytest.raises(ValueError, match="data.dataset: .*tones.h5"):
        failure_case(store, experiment_id, record_id)
