"""Estimates before a run: card texts from the benchmark table, time scaling, checkpoint size, warnings."""

from __future__ import annotations

import sys

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.models import list_families, validate_config
from bearing_workbench.models.inputs import PHYSICS_META, InputSpec
from bearing_workbench.models.validation import DatasetFacts
from bearing_workbench.training.estimates import (
    BENCH_FACTS,
    FAMILY_BENCHMARKS,
    estimate_checkpoints,
    estimate_training_time,
    family_overview,
    format_bytes,
    format_duration,
    gpu_lines,
    review_warnings,
)

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
    assert cnn.accuracy == "97.6 % measured" and "7.6 min" in cnn.time and "13 epochs" in cnn.time
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
    # the benchmark run itself: 13 epochs on the benchmark data take the measured 7.6 min
    thirteen = estimate_training_time(config_for("cnn1d", **{"training.epochs": 13}), BENCH_FACTS)
    assert thirteen.seconds == pytest.approx(7.6 * 60)
    half = estimate_training_time(config_for("cnn1d", **{"data.window.length": 10240}), BENCH_FACTS)
    # twice the windows, each half as long
    assert half.seconds == pytest.approx(standard.seconds)
    assert "early stopping may end it sooner" in standard.text
    assert "GPU" in estimate_training_time(config_for("cnn1d"), BENCH_FACTS, on_gpu=True).text
    classical = estimate_training_time(config_for("classical"), TINY)
    assert classical.seconds == pytest.approx(0.5 * 60 * 9 / 1430)
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
    assert any("only 1.0 kB are free" in w for w in disk)
    assert gpu_lines({"gpus": [], "gpu_status": "no GPU"}) == ["GPU: no GPU; training runs on the CPU"]
    assert [format_bytes(n) for n in (512, 3_400_000)] == ["512 B", "3.4 MB"]


def test_estimates_module_does_not_import_torch_by_itself() -> None:
    import subprocess

    code = "import sys, bearing_workbench.training.estimates as e; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
