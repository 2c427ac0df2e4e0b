"""training.log: what a run writes into it, isolation between runs, warnings, and the tail API."""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path

import pytest

from bearing_workbench.config import ExperimentConfig, preset_config
from bearing_workbench.data import GeneratorConfig, generate_dataset
from bearing_workbench.runner.logs import LOG_FILENAME, ExperimentLog, LogCallback, log_path, tail_log
from bearing_workbench.training.callbacks import Callback, FitContext
from bearing_workbench.training.errors import TrainingError
from bearing_workbench.training.loop import fit

CLASSES = ("healthy", "imbalance", "misalignment")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("data")
    return {
        # 256-sample windows for cnn1d; 0.5 s records for the classical family's features.
        "short": generate_dataset(
            root / "short.h5",
            GeneratorConfig(per_class=3, duration_s=0.25, classes=CLASSES, seed=3),
            workers=1,
        ),
        "long": generate_dataset(
            root / "long.h5", GeneratorConfig(per_class=6, duration_s=0.5, classes=CLASSES, seed=4), workers=1
        ),
    }


def _cnn_config(dataset: Path, **overrides: object) -> ExperimentConfig:
    values = {"data.window": {"length": 256}, "training.epochs": 3, **overrides}
    return ExperimentConfig.model_validate(preset_config("quick", "cnn1d", str(dataset), values))


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_a_real_fit_writes_one_line_per_epoch_checkpoint_and_end(datasets, tmp_path: Path) -> None:
    config = _cnn_config(datasets["short"], **{"training.checkpoint.policy": "every_epoch"})
    with ExperimentLog(tmp_path, experiment_id=7):
        fit(config, callbacks=[LogCallback(7)], out_dir=tmp_path, device="cpu")
    assert log_path(tmp_path) == tmp_path / LOG_FILENAME
    lines = _lines(tmp_path / LOG_FILENAME)
    assert "fit started: cnn1d" in lines[0] and "3 epochs" in lines[0]
    epochs = [line for line in lines if " epoch " in line and "train_loss" in line]
    assert [line.split("epoch ")[1].split(":")[0] for line in epochs] == ["1/3", "2/3", "3/3"]
    assert all("val_acc" in line and " INFO run: " in line for line in epochs)
    assert len([line for line in lines if "checkpoint saved after epoch" in line]) == 3
    assert any("best model saved after epoch" in line for line in lines)
    assert "fit ended" in lines[-1] and "3 epochs" in lines[-1] and "best epoch" in lines[-1]


def test_early_stopping_and_a_requested_stop_are_logged(datasets, tmp_path: Path) -> None:
    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, ctx: FitContext, metrics) -> None:
            ctx.request_stop("user pressed stop")

    config = _cnn_config(datasets["short"])
    with ExperimentLog(tmp_path):
        fit(config, callbacks=[LogCallback(), StopAfterFirstEpoch()], out_dir=tmp_path, device="cpu")
    text = (tmp_path / LOG_FILENAME).read_text()
    assert "stopped on request: user pressed stop (checkpoint last.pt)" in text

    early = tmp_path / "early"
    config = _cnn_config(
        datasets["short"],
        **{
            "training.epochs": 30,
            # No epoch improves val_loss by a whole 1.0: patience runs out after epoch 2.
            "training.early_stopping": {"enabled": True, "patience": 1, "min_delta": 1.0},
        },
    )
    with ExperimentLog(early):
        result = fit(config, callbacks=[LogCallback()], out_dir=early, device="cpu")
    assert result.stopped_early and not result.stop_requested
    assert f"early stopping: {result.stop_reason}" in (early / LOG_FILENAME).read_text()


def test_progress_messages_of_a_non_epoch_family(datasets, tmp_path: Path) -> None:
    values = {"data.window": None, "model.params.n_estimators": 10, "model.params.cv_folds": 2}
    config = ExperimentConfig.model_validate(
        preset_config("quick", "classical", str(datasets["long"]), values)
    )
    with ExperimentLog(tmp_path):
        fit(config, callbacks=[LogCallback()], out_dir=tmp_path, device="cpu")
    lines = _lines(tmp_path / LOG_FILENAME)
    progress = [line for line in lines if " progress " in line]
    assert any("progress 0%: computing features" in line for line in progress)
    assert progress[-1].endswith("progress 100%: done")
    assert "fit started: classical" in lines[0]
    assert "fit ended" in lines[-1]


def test_package_records_and_warnings_are_captured_only_while_open(tmp_path: Path) -> None:
    package = logging.getLogger("bearing_workbench.training.experiment")
    level_before = logging.getLogger("bearing_workbench").level
    with ExperimentLog(tmp_path):
        package.info("an info line from the package")
        logging.getLogger("somebody.else").warning("not ours")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("a deprecated thing", DeprecationWarning, stacklevel=1)
    package.warning("after the run")
    text = (tmp_path / LOG_FILENAME).read_text()
    assert "INFO training.experiment: an info line from the package" in text
    assert "DeprecationWarning: a deprecated thing" in text
    assert "not ours" not in text
    assert "after the run" not in text
    assert logging.getLogger("bearing_workbench").level == level_before
    assert not any(
        isinstance(h, logging.FileHandler) for h in logging.getLogger("bearing_workbench").handlers
    )


def test_an_error_ending_the_run_is_written_with_its_hint(tmp_path: Path) -> None:
    with pytest.raises(TrainingError), ExperimentLog(tmp_path):
        raise TrainingError("loss became NaN at epoch 2", "lower the learning rate")
    last = _lines(tmp_path / LOG_FILENAME)[-1]
    assert "ERROR run: run ended with an error: TrainingError" in last
    assert "(hint: lower the learning rate)" in last


def test_two_runs_in_one_process_keep_their_own_lines(tmp_path: Path) -> None:
    """Dask runs two tasks of one worker in two threads: each log keeps its own thread's records,
    plus records tagged with its experiment id from any thread."""
    run_log = logging.getLogger("bearing_workbench.run")
    barrier = threading.Barrier(2)

    def run(experiment_id: int) -> None:
        with ExperimentLog(tmp_path / str(experiment_id), experiment_id=experiment_id):
            barrier.wait()
            for i in range(20):
                run_log.info("run %d line %d", experiment_id, i)
            barrier.wait()

    threads = [threading.Thread(target=run, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for experiment_id, other in ((1, 2), (2, 1)):
        text = (tmp_path / str(experiment_id) / LOG_FILENAME).read_text()
        assert text.count(f"run {experiment_id} line") == 20
        assert f"run {other} line" not in text

    with ExperimentLog(tmp_path / "3", experiment_id=3) as log:
        watcher = threading.Thread(
            target=lambda: (
                run_log.info("paused by the user", extra={"experiment_id": 3}),
                run_log.info("untagged from another thread"),
                log.write("written directly"),
            )
        )
        watcher.start()
        watcher.join()
    text = (tmp_path / "3" / LOG_FILENAME).read_text()
    assert "paused by the user" in text and "written directly" in text
    assert "untagged from another thread" not in text


def test_a_log_appends_across_runs(tmp_path: Path) -> None:
    for run in (1, 2):
        with ExperimentLog(tmp_path) as log:
            log.write(f"run {run}")
    assert [line.split(": ", 1)[1] for line in _lines(tmp_path / LOG_FILENAME)] == ["run 1", "run 2"]


# -- tail_log ----------------------------------------------------------------------------------------


def test_tail_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert tail_log(tmp_path / "nope.log") == ([], 0)
    assert tail_log(tmp_path / "nope.log", offset=12) == ([], 12)


def test_tail_returns_the_last_lines_then_follows(tmp_path: Path) -> None:
    path = tmp_path / LOG_FILENAME
    path.write_text("".join(f"line {i}\n" for i in range(500)))
    lines, offset = tail_log(path, n_lines=200)
    assert lines == [f"line {i}" for i in range(300, 500)]
    assert offset == path.stat().st_size
    assert tail_log(path, offset=offset) == ([], offset)

    with path.open("a") as handle:
        handle.write("line 500\nline 5")  # the last line is still being written
    lines, offset = tail_log(path, offset=offset)
    assert lines == ["line 500"]
    with path.open("a") as handle:
        handle.write("01\n")
    lines, offset = tail_log(path, offset=offset)
    assert lines == ["line 501"]
    assert offset == path.stat().st_size


def test_tail_reads_across_blocks_and_keeps_unicode_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / LOG_FILENAME
    body = [f"{i:05d} " + "é" * 300 for i in range(2000)]  # ~1.2 MB: many 64 KiB blocks
    body[-3] = ""
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    lines, _ = tail_log(path, n_lines=1000)
    assert lines == body[-1000:]
    lines, _ = tail_log(path, n_lines=5000)
    assert lines == body


def test_tail_limits_what_a_follow_call_returns(tmp_path: Path) -> None:
    path = tmp_path / LOG_FILENAME
    path.write_text("")
    _, offset = tail_log(path)
    assert offset == 0
    path.write_text("".join(f"{i}\r\n" for i in range(50)))
    lines, offset = tail_log(path, n_lines=10, offset=offset)
    assert lines == [str(i) for i in range(40, 50)]
    assert offset == path.stat().st_size


def test_a_replaced_shorter_file_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / LOG_FILENAME
    path.write_text("a long first line of the old file\n")
    _, offset = tail_log(path)
    path.write_text("new\n")
    assert tail_log(path, offset=offset) == (["new"], 4)


def test_bad_tail_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_lines"):
        tail_log(tmp_path / "x", n_lines=0)
    with pytest.raises(ValueError, match="offset"):
        tail_log(tmp_path / "x", offset=-1)
