"""The failure-detail widget on a real tiny run: decimated signal and spectrum, order markers, bars."""

from __future__ import annotations

import numpy as np

from bearing_workbench.panels.failure_detail import MAX_POINTS, FailureDetail, failure_detail_widget
from bearing_workbench.store.workspace import experiment_dir
from bearing_workbench.training.artifacts import read_predictions

from ..analysis.conftest import analysis_store, empty_store, synthetic_experiment, trained_ids  # noqa: F401


def _first_test_record(store, experiment_id: int) -> str:
    return read_predictions(
        experiment_dir(experiment_id, store.workspace) / "predictions_test.csv"
    ).record_ids[0]


def test_a_record_in_detail(analysis_store, trained_ids):  # noqa: F811
    experiment_id = trained_ids["cnn1d"]
    record_id = _first_test_record(analysis_store, experiment_id)
    view = failure_detail_widget(analysis_store, experiment_id, record_id)
    assert isinstance(view, FailureDetail)
    case = view.case
    assert case is not None and case.record_id == record_id
    assert record_id in view.message.value and case.true_label in view.message.value

    signal = view.signal_figure.data[0]
    assert len(signal.x) <= MAX_POINTS < case.signal.size
    assert max(signal.y) == case.signal.max() and min(signal.y) == case.signal.min()
    assert f"min-max decimated to {len(signal.x)} of {case.signal.size} points" in (
        view.signal_figure.layout.xaxis.title.text
    )
    # 14336 samples in windows of 2048: 6 boundaries drawn.
    assert len(view.signal_figure.layout.shapes) == 6

    spectrum = view.spectrum_figure
    assert len(spectrum.data[0].x) <= MAX_POINTS < case.magnitude.size
    assert max(spectrum.data[0].x) == case.frequencies_hz[-1]  # up to Nyquist
    assert max(spectrum.data[0].y) == case.magnitude.max()  # the peak survives decimation
    assert "min-max decimated" in spectrum.layout.xaxis.title.text
    # The orders get a zoom of their own, with a marker and a label per order.
    orders = view.orders_figure
    top = 1.2 * case.order_markers[-1][1]
    assert max(orders.data[0].x) <= top and len(orders.data[0].x) == np.sum(case.frequencies_hz <= top)
    markers = [shape.x0 for shape in orders.layout.shapes]
    np.testing.assert_allclose(markers, [hz for _, hz in case.order_markers])
    assert [a.text for a in orders.layout.annotations] == [label for label, _ in case.order_markers]

    bars = view.probability_figure.data[0]
    np.testing.assert_allclose(bars.x, case.probabilities)
    assert list(bars.y) == list(case.class_names)
    widths = list(bars.marker.line.width)
    assert widths[case.class_names.index(case.true_label)] > 0 and sum(w > 0 for w in widths) == 1


def test_an_unknown_record_shows_the_message(analysis_store, trained_ids):  # noqa: F811
    view = failure_detail_widget(analysis_store, trained_ids["cnn1d"], "rec-nope")
    assert view.case is None and view.signal_figure is None
    assert "rec-nope" in view.message.value and "not in the test predictions" in view.message.value
    assert view.children == (view.message,)


def test_without_a_shaft_speed_there_is_no_orders_view(synthetic_experiment):  # noqa: F811
    store, experiment_id, record_id = synthetic_experiment
    view = failure_detail_widget(store, experiment_id, record_id)
    assert view.case is not None and view.orders_figure is None
    assert view.spectrum_figure.layout.shapes == ()
    assert len(view.children) == 4  # header, signal, spectrum, probabilities with metadata
    assert view.signal_figure.layout.xaxis.title.text == "time (s), min-max decimated to 4000 of 4096 points"
    assert "misclassified" in view.message.value
