"""What a front end receives from a `LiveFigureWidget`: the whole figure in the message that creates
its model, never an empty figure followed by the data (anywidget holds such updates back while a
box may already draw the figure: the failure detail's charts came out blank at random)."""

from __future__ import annotations

from typing import Any

import ipywidgets
import pytest

from bearing_workbench.panels.live_figure import LiveFigureWidget


class RecordingComm:
    """A comm to a pretend front end that keeps what it is sent."""

    def __init__(self, sent: list[tuple[str, dict[str, Any]]], data: dict[str, Any]):
        self.comm_id = f"comm-{len(sent)}"
        self.kernel = object()  # ipywidgets sends updates only over a comm with a kernel
        self._sent = sent
        sent.append(("open", data["state"]))

    def send(self, data: dict[str, Any], metadata: Any = None, buffers: Any = None) -> None:
        self._sent.append((data["method"], data.get("state", {})))

    def on_msg(self, callback: Any) -> None:
        pass

    def on_close(self, callback: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    messages: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        ipywidgets.widgets.widget.comm,
        "create_comm",
        lambda **kwargs: RecordingComm(messages, kwargs["data"]),
    )
    return messages


def test_the_model_is_created_with_the_whole_figure(sent: list[tuple[str, dict[str, Any]]]) -> None:
    figure = LiveFigureWidget(
        data=[{"type": "scatter", "x": [0.0, 1.0, 2.0], "y": [3.0, 1.0, 2.0], "name": "signal"}],
        layout={"height": 300, "title": {"text": "signal"}},
    )
    opens = [state for kind, state in sent if kind == "open"]
    assert len(opens) == 1
    (state,) = opens
    (trace,) = state["_widget_data"]
    assert trace["x"] == [0.0, 1.0, 2.0] and trace["y"] == [3.0, 1.0, 2.0] and trace["name"] == "signal"
    assert state["_widget_layout"]["height"] == 300
    assert state["_widget_layout"]["title"]["text"] == "signal"
    # Nothing of the figure comes after the opening: a view drawn from it is complete.
    assert not [s for kind, s in sent if kind == "update" and {"_widget_data", "_widget_layout"} & set(s)]
    assert figure.comm is not None


def test_changes_after_construction_still_reach_the_front_end(sent: list[tuple[str, dict[str, Any]]]) -> None:
    figure = LiveFigureWidget(data=[{"type": "scatter", "x": [0], "y": [1]}])
    sent.clear()
    figure.data[0].y = [5]
    restyles = [s["_py2js_restyle"] for kind, s in sent if kind == "update" and s.get("_py2js_restyle")]
    assert restyles and restyles[0]["restyle_data"] == {"y": [[5]]}
