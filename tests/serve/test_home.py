"""The home page's data and HTML, and the login page, without a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.runner.remote_scheduler import ClusterSummary, WorkerSummary
from bearing_workbench.serve.home import build_home, list_apps, render_error, render_home, render_login
from bearing_workbench.store import Store
from bearing_workbench.training.experiment import create_experiment

from .conftest import DATASET, ROOT, tiny_workspace, write_notebook


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(workspace=tiny_workspace(tmp_path_factory.mktemp("home-ws")))
    for name in ("first <run>", "second run"):
        create_experiment(store, preset_config("quick", "classical", DATASET, {"name": name}))
    store.transition(1, "start")
    store.transition(1, "complete")
    yield store
    store.dispose()


def test_the_workbench_apps_come_first_with_their_description(tmp_path: Path) -> None:
    apps = list_apps(ROOT / "dashboards")
    assert [a.name for a in apps] == ["wizard", "monitor", "results", "history"]
    assert all(a.description and a.url == f"voila/render/{a.name}.ipynb" for a in apps)
    write_notebook(tmp_path / "zeta.ipynb", "print(1)")
    own = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# My own app\n\ntext")])
    nbformat.write(own, tmp_path / "alpha.ipynb")
    write_notebook(tmp_path / "wizard.ipynb", "print(2)")
    assert [(a.name, a.title) for a in list_apps(tmp_path)] == [
        ("wizard", "New experiment"),
        ("alpha", "My own app"),
        ("zeta", "zeta"),
    ]


def test_runs_link_to_their_monitor_and_finished_ones_to_their_results(store: Store) -> None:
    info = build_home(store, ROOT / "dashboards", "", None)
    by_name = {r.name: r for r in info.runs}
    done, pending = by_name["first <run>"], by_name["second run"]
    assert done.status == "completed" and done.dataset == DATASET
    assert done.monitor_url == f"voila/render/monitor.ipynb?experiment={done.id}"
    assert done.results_url == f"voila/render/results.ipynb?experiment={done.id}"
    assert pending.status == "pending" and pending.results_url is None
    assert [r.id for r in info.runs] == sorted((r.id for r in info.runs), reverse=True)  # newest first
    assert [d.name for d in info.datasets] == [DATASET]
    assert info.datasets[0].classes == ("healthy", "imbalance", "misalignment")


def test_without_a_monitor_app_there_is_no_run_link(store: Store, tmp_path: Path) -> None:
    write_notebook(tmp_path / "probe.ipynb", "print(1)")
    info = build_home(store, tmp_path, "", None)
    assert all(r.monitor_url is None and r.results_url is None for r in info.runs)


def test_the_page_shows_runs_cluster_and_datasets_escaped(store: Store) -> None:
    worker = WorkerSummary("gpu-0", "tcp://10.0.0.7:40000", 4, 8 * 2**30, 1, 1)
    cluster = ClusterSummary("tcp://10.0.0.5:8786", (worker,))
    page = render_home(build_home(store, ROOT / "dashboards", cluster.scheduler, cluster), "/base/")
    assert "first &lt;run&gt;" in page and "first <run>" not in page
    assert 'href="/base/voila/render/results.ipynb?experiment=1"' in page
    assert "tcp://10.0.0.7:40000" in page and "8.0 GiB" in page and "1 worker(s)" in page
    assert "healthy, imbalance, misalignment" in page
    assert "No cluster reachable" not in page


def test_no_cluster_and_an_empty_workspace_say_so(tmp_path: Path) -> None:
    empty = Store(workspace=tmp_path)
    write_notebook(tmp_path / "wizard.ipynb", "print(1)")
    page = render_home(build_home(empty, tmp_path, "tcp://gone:8786", None))
    assert "No cluster reachable at <code>tcp://gone:8786</code>" in page
    assert "No experiment yet" in page and "No dataset registered" in page
    empty.dispose()


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("environment", "BEARING_WORKBENCH_TOKEN"),
        ("option", "--token option"),
        ("generated", "generated a new token"),
    ],
)
def test_the_login_page_says_where_the_token_is(source: str, said: str) -> None:
    page = render_login(source=source, port=8866, next_url="%2F", message="Invalid credentials")
    assert "bearing-workbench serve" in page and "http://127.0.0.1:8866/?token=…" in page
    assert said in page and "Invalid credentials" in page
    assert 'name="password"' in page and 'action="/login?next=%2F"' in page


def test_an_error_page_says_what_went_wrong() -> None:
    page = render_error("the home page could not read the workspace", "database <locked>", "/base/")
    assert "database &lt;locked&gt;" in page and 'href="/base/voila/tree"' in page
