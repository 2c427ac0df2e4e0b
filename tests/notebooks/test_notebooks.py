"""The notebooks run as a user (nbval, top to bottom) and a batch job (papermill) would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
from bearing_workbench.data.registration import register_dataset
from bearing_workbench.store import Store

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "dashboards").glob("*.ipynb")])
BATCH = ROOT / "notebooks" / "batch_train.ipynb"
CLASSES = ("healthy", "imbalance", "misalignment")
ENV_KEYS = ("BEARING_WORKBENCH_WORKSPACE", "BEARING_WORKBENCH_DB_URL", "BEARING_WORKBENCH_SCHEDULER")


@pytest.fixture
def workspace_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh workspace for the kernels this test starts (they inherit the environment)."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    root = tmp_path / "ws"
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(root))
    return root


@pytest.fixture
def tiny(workspace_env: Path) -> str:
    """Dataset `tiny` registered in the workspace: 3 classes x 6 records of 1 s."""
    store = Store(workspace=workspace_env)
    path = generate_dataset(
        workspace_env / "datasets" / "tiny.h5",
        GeneratorConfig(per_class=6, duration_s=1.0, classes=CLASSES, seed=2),
        workers=1,
    )
    register_dataset(store, path, name="tiny")
    store.dispose()
    return "tiny"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_are_saved_without_outputs_or_widget_state(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: {cell.source[:60]}"
    assert nb.metadata.kernelspec.name == "python3"


def nbval(notebook: Path) -> None:
    """Run `notebook` top to bottom as nbval (lax) does, in a kernel of this environment."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", str(notebook), "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_getting_started_runs_top_to_bottom(workspace_env: Path) -> None:
    notebook = ROOT / "notebooks" / "getting_started.ipynb"
    nbval(notebook)
    store = Store(workspace=workspace_env)
    assert [d.name for d in store.list_datasets()] == ["getting-started"]
    [experiment] = store.list_experiments()
    assert experiment.family == "classical" and str(experiment.status) == "completed"
    assert experiment.metrics["accuracy"] is not None


def _batch(tmp_path: Path, **parameters: object) -> dict:
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(BATCH),
        str(out),
        parameters=parameters,
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_name="python3",
    )
    # The summary the last cell prints.
    text = "".join(o.get("text", "") for o in nbformat.read(out, as_version=4).cells[-1].outputs)
    return json.loads(text)


def test_batch_notebook_trains_in_process_and_stores_the_experiment(
    tiny: str, workspace_env: Path, tmp_path: Path
) -> None:
    summary = _batch(
        tmp_path,
        model="classical",
        preset="quick",
        dataset=tiny,
        overrides={"model.params.n_estimators": 20},
        name="batch-in-process",
    )
    record = Store(workspace=workspace_env).get_experiment(summary["experiment_id"])
    assert record.name == "batch-in-process" and str(record.status) == "completed"
    assert record.config["model"]["params"]["n_estimators"] == 20
    assert "batch" in record.tags
    assert (workspace_env / "experiments" / str(record.id) / "metrics.json").is_file()


def test_batch_notebook_on_the_cluster(tiny: str, workspace_env: Path, tmp_path: Path) -> None:
    summary = _batch(tmp_path, model="classical", dataset=tiny, on_cluster=True, name="batch-on-cluster")
    record = Store(workspace=workspace_env).get_experiment(summary["experiment_id"])
    assert str(record.status) == "completed" and record.worker  # ran on a Dask worker


def test_batch_notebook_names_a_bad_parameter(tiny: str, tmp_path: Path) -> None:
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        _batch(tmp_path, model="classical", dataset=tiny, overrides={"training.batch_size": 0})
    assert "training.batch_size" in str(failed.value)
    assert not Store().list_experiments()  # nothing half-recorded


def test_batch_notebook_refuses_a_missing_dataset_at_its_parameters(tiny: str, tmp_path: Path) -> None:
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        _batch(tmp_path, model="classical", dataset=str(tmp_path / "no-such-dataset.h5"))
    assert "data.dataset" in str(failed.value)
    assert not Store().list_experiments()  # refused where the parameters enter, before any row


def test_study_results_runs_top_to_bottom(tiny: str, workspace_env: Path) -> None:
    from bearing_workbench.config import preset_config
    from bearing_workbench.training.experiment import create_experiment, train_experiment

    store = Store(workspace=workspace_env)
    for algorithm in ("random_forest", "svm"):
        config = preset_config(
            "quick", "classical", tiny, {"name": f"study {algorithm}", "model.params.algorithm": algorithm}
        )
        train_experiment(store, create_experiment(store, config))
    store.dispose()
    notebook = ROOT / "notebooks" / "study_results.ipynb"
    nbval(notebook)
    latest = Store(workspace=workspace_env).list_experiments(order_by="finished_at", limit=1)[0]
    report = workspace_env / "experiments" / str(latest.id) / "report.pdf"
    assert report.read_bytes()[:5] == b"%PDF-"
