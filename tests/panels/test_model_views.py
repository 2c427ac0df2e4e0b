"""The model-views widget on real tiny runs: one block per section, figures from the section data, and a
layer selector that redraws the attention heatmap."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest

from bearing_workbench.analysis.model_views import attention_section, model_sections
from bearing_workbench.panels.live_figure import LiveFigureWidget
from bearing_workbench.panels.model_views import HIGHLIGHT_COLOR, ModelViews, model_views_widget

# The analysis tests' trained tiny workspace (real runs of every family) and a blank store.
from ..analysis.conftest import analysis_store, empty_store, trained_ids  # noqa: F401


def _texts(widget: widgets.Widget) -> str:
    found = [widget.value] if isinstance(widget, widgets.HTML) else []
    for child in getattr(widget, "children", ()):
        found.append(_texts(child))
    return "\n".join(found)


@pytest.mark.parametrize("family", ["cnn1d", "transformer", "spectrogram", "pinn", "classical", "ensemble"])
def test_every_family_builds_one_block_per_section(analysis_store, trained_ids, family):  # noqa: F811
    experiment_id = trained_ids[family]
    sections = model_sections(analysis_store, experiment_id)
    view = model_views_widget(analysis_store, experiment_id)
    assert isinstance(view, ModelViews) and isinstance(view, widgets.Widget)
    assert len(view.children) == len(sections)
    drawn = [s for s in sections if s.kind != "note"]
    assert drawn, f"{family}: every view of a completed run has data"
    assert set(view.figures) == {s.title for s in drawn}
    assert all(isinstance(f, LiveFigureWidget) for figures in view.figures.values() for f in figures)
    text = _texts(view)
    for section in sections:
        assert section.title in text


def test_filters_heatmap_rows_are_the_filters_sorted_by_peak_frequency(analysis_store, trained_ids):  # noqa: F811
    section = model_sections(analysis_store, trained_ids["cnn1d"])[0]
    view = ModelViews(analysis_store, trained_ids["cnn1d"], sections=[section])
    weights_fig, spectra_fig = view.figures[section.title]
    order = np.argsort(section.data["peak_hz"], kind="stable")
    np.testing.assert_allclose(np.array(weights_fig.data[0].z), section.data["weights"][order])
    spectra = np.array(spectra_fig.data[0].z)
    np.testing.assert_allclose(spectra.max(axis=1), 1.0)
    assert list(weights_fig.data[0].y) == [f"#{i}" for i in order]


def test_layer_selector_changes_the_attention_heatmap(analysis_store, trained_ids):  # noqa: F811
    experiment_id = trained_ids["transformer"]
    view = ModelViews(analysis_store, experiment_id)
    data = model_sections(analysis_store, experiment_id)[0].data
    selector, heatmap = view.layer_selector, view.attention_figure
    assert selector is not None and heatmap is not None
    assert [value for _, value in selector.options] == [0, 1]
    assert selector.value == 1  # the last layer first: the one the class token is read from
    np.testing.assert_allclose(np.array(heatmap.data[0].z), data["layers"][1], atol=1e-12)
    selector.value = 0
    np.testing.assert_allclose(np.array(heatmap.data[0].z), data["layers"][0], atol=1e-12)
    assert "layer 1" in heatmap.layout.title.text
    received = view.received_figure
    np.testing.assert_allclose(np.array(received.data[1].y), data["received"][0])
    np.testing.assert_allclose(np.array(received.data[2].y), data["cls_attention"][0])
    assert not np.allclose(data["layers"][0], data["layers"][1])  # the change is visible
    # The window under the bars is decimated for display and says so.
    assert len(received.data[0].x) <= 4000
    assert "min-max decimated to" in received.layout.xaxis.title.text


def test_record_selector_recomputes_the_attention(analysis_store, trained_ids):  # noqa: F811
    experiment_id = trained_ids["transformer"]
    view = ModelViews(analysis_store, experiment_id)
    records = [value for _, value in view.record_selector.options]
    assert len(records) == 3 and view.record_selector.value == records[0]
    view.layer_selector.value = 0
    view.record_selector.value = records[2]
    expected = attention_section(analysis_store, experiment_id, records[2]).data
    np.testing.assert_allclose(np.array(view.attention_figure.data[0].z), expected["layers"][0], atol=1e-12)
    np.testing.assert_allclose(np.array(view.received_figure.data[1].y), expected["received"][0])
    assert records[2] in view.received_figure.layout.title.text
    assert records[2] in view.attention_message.value


def test_the_ensemble_bar_is_highlighted(analysis_store, trained_ids):  # noqa: F811
    view = ModelViews(analysis_store, trained_ids["ensemble"])
    (figure,) = view.figures["Test accuracy: members and ensemble"]
    colors = list(figure.data[0].marker.color)
    assert colors[-1] == HIGHLIGHT_COLOR and HIGHLIGHT_COLOR not in colors[:-1]
    assert list(figure.data[0].y)[-1] == "ensemble"


def test_missing_parts_show_their_note_and_no_figure(empty_store):  # noqa: F811
    experiment_id = empty_store.create_experiment("no weights", "cnn1d", {"model": {"family": "cnn1d"}})
    view = model_views_widget(empty_store, experiment_id)
    assert view.figures == {}
    assert "best.pt does not exist" in _texts(view)
