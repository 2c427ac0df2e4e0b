"""Estimates before a run: card texts from the benchmark table, time scaling, checkpoint size, warnings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bearing_workbench.analysis.benchmarks import BenchmarksFileError, load_benchmarks
from bearing_workbench.analysis.estimates import (
    BENCH_FACTS,
    FAMILY_BENCHMARKS,
    EstimateInfo,
    estimate_checkpoints,
    estimate_info,
    estimate_training_time,
    family_overview,
    gpu_lines,
    review_warnings,
)
from bearing_workbench.analysis.format import rough_duration as format_duration
from bearing_workbench.analysis.format import size as format_bytes
from bearing_workbench.config import preset_config
from bearing_workbench.models import list_families, validate_config
from bearing_workbench.models.inputs import PHYSICS_META, InputSpec
from bearing_workbench.models.validation import DatasetFacts

TINY = DatasetFacts(n_records=9, n_classes=3, n_train=3, signal_length=10240)


def config_for(family: str, preset: str = "standard", **overrides):
    if family == "ensemble":
        overrides.setdefault("model.params.members", [1, 2])
    return validate_config(preset_config(preset, family, "demo", overrides))


def test_every_family_has_a_card_and_measured_figures_come_from_the_table(monkeypatch) -> None:
    for family in list_families():
        overview = family_overview(family, "85-97 %")
        assert overview.title and overview.description and overview.accuracy and overview.time
    cnn = family_overview("cnn1d")
    assert cnn.accuracy == "97.1 % measured" and "15.0 min" in cnn.time and "13 epochs" in cnn.time
    assert "BENCHMARKS.md" in cnn.source
    assert family_overview("classical").accuracy.startswith("98.1-98.6 %")
    assert family_overview("transformer").accuracy == "98.1 % measured"
    monkeypatch.delitem(FAMILY_BENCHMARKS, "transformer")  # as for a family added without a benchmark
    assert family_overview("transformer", "85-97 %").accuracy == (
        "not measured yet (the standard preset expects 85-97 %)"
    )


def test_time_scales_with_windows_epochs_and_window_length() -> None:
    standard = estimate_training_time(config_for("cnn1d"), BENCH_FACTS)
    per_window = FAMILY_BENCHMARKS["cnn1d"].seconds_per_window_epoch()
    assert standard.seconds == pytest.approx(per_window * 5005 * 30)
    # the benchmark run itself: 13 epochs on the benchmark data take the measured 15.0 min
    thirteen = estimate_training_time(config_for("cnn1d", **{"training.epochs": 13}), BENCH_FACTS)
    assert thirteen.seconds == pytest.approx(15.0 * 60)
    half = estimate_training_time(config_for("cnn1d", **{"data.window.length": 10240}), BENCH_FACTS)
    # twice the windows, each half as long
    assert half.seconds == pytest.approx(standard.seconds)
    assert "early stopping may end it sooner" in standard.text
    assert "GPU" in estimate_training_time(config_for("cnn1d"), BENCH_FACTS, on_gpu=True).text
    classical = estimate_training_time(config_for("classical"), TINY)
    assert classical.seconds == pytest.approx(0.8 * 60 * 9 / 1430)  # random forest: 0.8 min measured
    transformer = estimate_training_time(config_for("transformer", **{"training.epochs": 21}), BENCH_FACTS)
    assert transformer.seconds == pytest.approx(54.6 * 60)  # its benchmark run: 21 epochs
    assert estimate_training_time(config_for("ensemble"), BENCH_FACTS).seconds is None
    assert estimate_training_time(config_for("cnn1d"), None).text.startswith("unknown")
    assert [format_duration(s) for s in (12, 600, 9000)] == ["12 s", "10 min", "2.5 h"]


def spec(n_classes: int = 3, length: int = 2048) -> InputSpec:
    names = ("healthy", "imbalance", "misalignment", "wear")[:n_classes]
    return InputSpec("signal", n_classes, names, 20480.0, length, PHYSICS_META)


def test_checkpoint_size_follows_the_weights_and_the_optimizer() -> None:
    adam = config_for("cnn1d", "quick", **{"training.checkpoint.keep_last": 2})
    estimate = estimate_checkpoints(adam, spec())
    assert estimate is not None and estimate.parameters > 1000
    assert estimate.state_bytes >= 4 * estimate.parameters
    assert estimate.files == 3 and estimate.onnx_bytes == 0
    assert estimate.total_bytes == 3 * estimate.checkpoint_bytes
    plain_sgd = config_for("cnn1d", "quick", **{"training.optimizer": "sgd", "training.momentum": 0.0})
    smaller = estimate_checkpoints(plain_sgd, spec())
    assert smaller is not None
    # Adam keeps two moments per weight (and a step count per tensor), plain SGD nothing
    assert estimate.checkpoint_bytes - smaller.checkpoint_bytes == pytest.approx(
        8 * estimate.parameters, rel=0.15
    )
    wider = estimate_checkpoints(config_for("cnn1d", "quick", **{"model.params.filters": 64}), spec())
    assert wider is not None and wider.parameters > estimate.parameters
    assert estimate_checkpoints(config_for("classical"), spec()) is None


def test_warnings_name_busy_gpus_a_busy_cpu_small_data_and_long_runs() -> None:
    config = config_for("cnn1d", "quick", **{"data.window": None, "training.batch_size": 2})
    busy_gpu = {
        "cpu_percent": 95.0,
        "gpus": [
            {
                "index": 0,
                "name": "H200",
                "utilization_percent": 85.0,
                "memory_used": 8e10,
                "memory_total": 1.4e11,
            }
        ],
        "gpu_status": "ok",
    }
    warnings = review_warnings(config, TINY, resources=busy_gpu)
    text = "\n".join(warnings)
    assert "GPU 0 H200: 85 % busy" in text and "another job is using it" in text
    assert "CPU is 95 % busy" in text
    assert "3 training windows make 2 step(s) of 2" in text
    assert "about 1 training record(s) per class" in text
    quiet = review_warnings(config_for("cnn1d"), BENCH_FACTS, resources={"cpu_percent": 5.0, "gpus": []})
    assert quiet == []
    long_run = estimate_training_time(config_for("resnet1d", "max"), BENCH_FACTS)
    assert any(
        "a long run" in w for w in review_warnings(config_for("resnet1d"), None, time_estimate=long_run)
    )
    mixed = config_for("cnn1d", **{"training.mixed_precision": True})
    assert any("mixed_precision" in w for w in review_warnings(mixed, None, resources={"gpus": []}))
    checkpoints = estimate_checkpoints(config_for("cnn1d", "quick"), spec())
    assert checkpoints is not None
    disk = review_warnings(config_for("cnn1d"), None, checkpoints=checkpoints, free_disk_bytes=1000)
    assert any("only 1000 B are free" in w for w in disk)
    assert gpu_lines({"gpus": [], "gpu_status": "no GPU"}) == ["GPU: no GPU; training runs on the CPU"]
    assert [format_bytes(n) for n in (512, 3_400_000)] == ["512 B", "3.2 MiB"]


def test_estimates_module_does_not_import_torch_by_itself() -> None:
    import subprocess

    code = "import sys, bearing_workbench.analysis.estimates as e; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def _benchmarks_md_rows() -> dict[str, list[str]]:
    """BENCHMARKS.md's model-zoo table: run name -> its cells."""
    text = (Path(__file__).resolve().parents[2] / "BENCHMARKS.md").read_text(encoding="utf-8")
    section = text[text.index("<!-- bench:training -->") : text.index("<!-- /bench:training -->")]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells] for cells in rows[1:]}  # rows[0]: the header


def test_the_figures_file_agrees_with_the_benchmarks_table() -> None:
    # Both are written by `python -m bench.run training` from the same runs; nothing is copied by hand.
    table = _benchmarks_md_rows()
    runs = {run.name: run for run in load_benchmarks().runs}
    assert set(runs) == set(table)
    for name, cells in table.items():
        run = runs[name]
        _, accuracy, f1, minutes, epochs = cells[:5]
        assert accuracy == f"{100 * run.accuracy:.1f} %", name
        assert f1 == f"{run.macro_f1:.3f}", name
        assert minutes == f"{run.seconds / 60:.1f} min", name
        assert epochs == ("" if run.epochs_run is None else f"{run.epochs_run} ({run.best_epoch})"), name


def test_a_classical_card_has_no_epochs_and_its_figures_come_from_its_algorithms() -> None:
    # Defect 5: the classical card showed epochs and figures copied from another table.
    table = _benchmarks_md_rows()
    classical = {name: cells for name, cells in table.items() if name.startswith("classical")}
    accuracies = sorted(float(cells[1].split()[0]) for cells in classical.values())
    minutes = sorted(float(cells[3].split()[0]) for cells in classical.values())
    card = family_overview("classical")
    assert card.accuracy.startswith(f"{accuracies[0]:.1f}-{accuracies[-1]:.1f} % measured over random forest")
    assert f"about {minutes[0]:.1f}-{minutes[-1]:.1f} min" in card.time and "epoch" not in card.time
    assert FAMILY_BENCHMARKS["classical"].epochs_run is None
    assert "pinn (lambda = 0)" in table and FAMILY_BENCHMARKS["pinn"].epochs_run == 24  # the standard pinn
    svm = estimate_training_time(config_for("classical", **{"model.params.algorithm": "svm"}), BENCH_FACTS)
    assert svm.seconds == pytest.approx(float(table["classical (SVM)"][3].split()[0]) * 60)
    assert "epoch" not in svm.text


def test_estimate_info_gathers_what_the_review_shows() -> None:
    info = estimate_info(config_for("cnn1d", "quick"), TINY, spec=spec(), resources={"gpus": []})
    assert isinstance(info, EstimateInfo) and info.family.name == "cnn1d"
    assert info.time.seconds is not None and info.checkpoints is not None
    assert info.disk_text.startswith("about ") and "checkpoint files" in info.disk_text
    assert info.gpus == ("GPU: no GPU; training runs on the CPU",)
    assert any("per class" in w for w in info.warnings)
    classical = estimate_info(config_for("classical"), TINY, spec=spec())
    assert classical.checkpoints is None and "not trained in epochs" in classical.disk_text


def test_a_broken_figures_file_is_named(tmp_path) -> None:
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps({"source": "x", "dataset": {"records": 1}, "runs": []}))
    with pytest.raises(BenchmarksFileError, match=r"benchmarks.json: TypeError"):
        load_benchmarks(path)
