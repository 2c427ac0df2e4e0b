"""`bearing-workbench evaluate`, run as a user would (a real subprocess): results printed and stored, bad
input refused with one line and exit code 2, leaving the store as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.store import Store

from .tiny_data import relabelled_dataset, tiny_store

DATASET = "tiny-cli"
RUN = {
    "data.window": None,
    "training.epochs": 1,
    "training.batch_size": 2,
    "model.params.filters": 32,
    "model.params.fc_sizes": [8],
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, int]]:
    """(workspace, a completed cnn1d run, a pending one) with the datasets plant-a (classes renamed) and
    plant-b (a class the model never saw)."""
    from bearing_workbench.training.experiment import create_experiment, train_experiment

    root = tmp_path_factory.mktemp("cli-evaluate-ws")
    store = tiny_store(root, per_class=3, duration_s=0.5, seed=5, name=DATASET)
    relabelled_dataset(store, "plant-a", ("healthy", "imbalance"), ("ok", "unbal"), seed=21)
    relabelled_dataset(store, "plant-b", ("healthy", "oil_whirl"), ("healthy", "oil_whirl"), seed=22)
    completed = create_experiment(store, preset_config("quick", "cnn1d", DATASET, RUN))
    train_experiment(store, completed, device="cpu")
    pending = create_experiment(store, preset_config("quick", "cnn1d", DATASET, RUN))
    store.dispose()
    yield root, completed, pending


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BEARING_WORKBENCH_WORKSPACE": str(root)}
    env.pop("BEARING_WORKBENCH_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bearing_workbench", "evaluate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _evaluations(root: Path, experiment_id: int) -> int:
    with Store(workspace=root) as store:
        return len(store.list_evaluations(experiment_id))


def test_evaluate_on_a_dataset_with_a_classes_map(workspace: tuple[Path, int, int]) -> None:
    root, completed, _ = workspace
    run = _cli(root, str(completed), "--dataset", "plant-a", "--classes-map", "ok=healthy, unbal=imbalance")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"evaluation 1 of experiment {completed}, plant-a all records: 6 records")
    assert "classes renamed: ok -> healthy, unbal -> imbalance" in lines
    assert "classes of the model without records here: misalignment" in lines
    assert any(line.startswith("healthy ") and line.endswith("      3") for line in lines), lines

    as_json = json.loads(_cli(root, str(completed), "--dataset", DATASET, "--split", "test", "--json").stdout)
    assert (as_json["kind"], as_json["label"], as_json["status"]) == (
        "dataset",
        f"{DATASET} test split",
        "completed",
    )
    assert len(as_json["per_class"]) == 3 and as_json["n_records"] == 3
    assert _evaluations(root, completed) == 2


def test_evaluate_robustness(workspace: tuple[Path, int, int]) -> None:
    root, completed, _ = workspace
    run = _cli(root, str(completed), "--robustness", "--seed", "2", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["label"] == f"robustness on {DATASET} test split"
    assert [c["name"] for c in result["conditions"]] == [
        "clean",
        "SNR 20 dB",
        "SNR 10 dB",
        "SNR 5 dB",
        "gain x0.5",
        "gain x2",
        "speed -10 %",
        "speed +10 %",
    ]
    text = _cli(root, str(completed), "--robustness")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"evaluation 4 of experiment {completed}, robustness on {DATASET} test split:")
    assert lines[1].split() == ["condition", "accuracy", "macro-F1"]
    assert [line[:11].strip() for line in lines[2:]] == [c["name"] for c in result["conditions"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("999", "--dataset", "plant-a"), "error: experiment 999 does not exist in this workspace"),
        (("{pending}", "--dataset", "plant-a"), "error: experiment {pending} is pending; only a completed"),
        (("{completed}", "--dataset", "no-such-set"), "error: no-such-set: no dataset of that name"),
        (
            ("{completed}", "--dataset", "plant-b"),
            "error: plant-b has classes that experiment {completed} does not know: oil_whirl; the dataset's "
            "classes: healthy, oil_whirl; the model's: healthy, imbalance, misalignment",
        ),
        (
            ("{completed}", "--dataset", "plant-a", "--classes-map", "ok:healthy"),
            "error: --classes-map: expected DATASET_CLASS=MODEL_CLASS pairs separated by commas, "
            "got 'ok:healthy'",
        ),
        (
            ("{completed}", "--dataset", "plant-a", "--classes-map", "okay=healthy"),
            "error: --classes-map: okay not among the classes of plant-a (ok, unbal)",
        ),
        (
            ("{completed}", "--dataset", DATASET, "--split", "holdout"),
            "error: --split: unknown split 'holdout'",
        ),
        (("{completed}",), "error: --dataset: name the dataset to evaluate on (or use --robustness)"),
        (
            ("{completed}", "--robustness", "--classes-map", "a=b"),
            "error: --classes-map: a robustness sweep uses",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_stored(
    workspace: tuple[Path, int, int], args: tuple[str, ...], message: str
) -> None:
    root, completed, pending = workspace
    before = _evaluations(root, completed), _evaluations(root, pending)
    names = {"completed": completed, "pending": pending}
    run = _cli(root, *(a.format(**names) for a in args))
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.startswith(message.format(**names)), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and run.stdout == ""
    assert (_evaluations(root, completed), _evaluations(root, pending)) == before
