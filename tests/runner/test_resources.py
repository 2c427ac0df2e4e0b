"""Resource samples: values in range, disk rates, the no-GPU path, the sampler thread and the callback."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import pynvml
import pytest

from bearing_workbench.config import ExperimentConfig, preset_config
from bearing_workbench.data import GeneratorConfig, generate_dataset
from bearing_workbench.runner.resources import (
    NO_GPU,
    ResourceCallback,
    ResourceProbe,
    ResourceSampler,
    sample_resources,
)
from bearing_workbench.training.callbacks import Callback, EpochMetrics, FitContext
from bearing_workbench.training.loop import fit

CLASSES = ("healthy", "imbalance", "misalignment")


def _resource_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bearing-workbench-resources"]


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_a_sample_has_every_figure_in_range() -> None:
    sample = sample_resources()
    assert 0.0 <= sample["cpu_percent"] <= 100.0
    assert sample["cpu_count"] >= 1
    assert 0 < sample["ram_used"] <= sample["ram_total"]
    assert 0.0 <= sample["ram_percent"] <= 100.0
    assert 0 < sample["process_rss"] < sample["ram_total"]
    assert sample["time"] == pytest.approx(time.time(), abs=60)
    assert isinstance(sample["gpus"], list)
    assert isinstance(sample["gpu_status"], str)
    json.dumps(sample)  # JSON-safe: it travels through Dask events and the store


def test_disk_rates_are_non_negative_and_see_a_write() -> None:
    probe = ResourceProbe()
    first = probe.sample()
    if first["disk_read_bytes_per_s"] is None:
        pytest.skip("this kernel exposes no disk statistics")
    # Write and fsync 8 MiB (next to the tests: /tmp may be in memory) so the write counter moves.
    with tempfile.NamedTemporaryFile(dir=Path(__file__).parent) as handle:
        handle.write(os.urandom(8 << 20))
        handle.flush()
        os.fsync(handle.fileno())
        second = probe.sample()
    for sample in (first, second):
        assert sample["disk_read_bytes_per_s"] >= 0.0
        assert sample["disk_write_bytes_per_s"] >= 0.0
    assert second["disk_write_bytes_per_s"] > 0.0


def test_disk_counters_going_down_give_a_zero_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = ResourceProbe()
    probe._last_disk = (10**15, 10**15)  # as if the counters were reset since the last sample
    sample = probe.sample()
    if sample["disk_read_bytes_per_s"] is None:
        pytest.skip("this kernel exposes no disk statistics")
    assert sample["disk_read_bytes_per_s"] == 0.0
    assert sample["disk_write_bytes_per_s"] == 0.0


def test_this_machine_without_gpu_reports_no_gpu() -> None:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound:
        pass
    else:
        pynvml.nvmlShutdown()
        pytest.skip("this machine has an NVIDIA driver")
    sample = ResourceProbe().sample()
    assert sample["gpus"] == []
    assert sample["gpu_status"] == NO_GPU


def test_library_not_found_is_no_gpu_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def missing() -> None:
        calls.append(1)
        raise pynvml.NVMLError_LibraryNotFound(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", missing)
    probe = ResourceProbe()
    for _ in range(3):
        sample = probe.sample()
        assert sample["gpus"] == []
        assert sample["gpu_status"] == NO_GPU
    assert calls == [1]  # a machine without a GPU is remembered, not probed every 2 s


def test_other_nvml_errors_are_reported_in_the_status(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_UNKNOWN)

    monkeypatch.setattr(pynvml, "nvmlInit", broken)
    sample = ResourceProbe().sample()
    assert sample["gpus"] == []
    assert sample["gpu_status"].startswith("NVML error")


def test_gpu_figures_are_read_per_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """With NVML answering (two devices, one without utilisation support), each device is reported."""

    class Memory:
        used, total = 3 << 30, 16 << 30

    class Rates:
        gpu = 42

    def utilization(handle: int) -> Rates:
        if handle == 1:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return Rates()

    monkeypatch.setattr(pynvml, "nvmlInit", lambda: None)
    monkeypatch.setattr(pynvml, "nvmlShutdown", lambda: None)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetCount", lambda: 2)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetHandleByIndex", lambda i: i)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetName", lambda h: f"GPU {h}")
    monkeypatch.setattr(pynvml, "nvmlDeviceGetUtilizationRates", utilization)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetMemoryInfo", lambda h: Memory())
    sample = ResourceProbe().sample()
    assert sample["gpu_status"] == "ok"
    memory = {"memory_used": 3 << 30, "memory_total": 16 << 30}
    assert sample["gpus"] == [
        {"index": 0, "name": "GPU 0", "utilization_percent": 42.0, **memory},
        {"index": 1, "name": "GPU 1", "utilization_percent": None, **memory},
    ]


def test_sampler_calls_the_sink_and_its_thread_stops() -> None:
    got: list[dict] = []
    sampler = ResourceSampler(got.append, interval=0.05).start()
    _wait_for(lambda: len(got) >= 3)
    sampler.stop()
    assert not sampler.running
    assert not _resource_threads()
    count = len(got)
    time.sleep(0.2)
    assert len(got) == count  # nothing after stop
    assert sampler.last is got[-1]
    assert [s["time"] for s in got] == sorted(s["time"] for s in got)
    with pytest.raises(RuntimeError, match="already started"):
        sampler.start()


def test_a_failing_sink_does_not_stop_sampling(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def gone(sample: dict) -> None:
        calls.append(sample)
        raise ConnectionError("scheduler gone")

    with ResourceSampler(gone, interval=0.05) as sampler:
        _wait_for(lambda: len(calls) >= 3)
    assert not sampler.running
    warnings = [r for r in caplog.records if "publishing a resource sample failed" in r.getMessage()]
    assert len(warnings) == 1  # warned once, not every sample


def test_bad_sampler_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        ResourceSampler(print, interval=0)
    with pytest.raises(TypeError, match="sink"):
        ResourceSampler("not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="interval"):
        ResourceCallback(print, interval=-1)


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> ExperimentConfig:
    """cnn1d, quick preset, 2 epochs on 3 classes x 3 records of 256-sample windows (about 2 s)."""
    dataset = generate_dataset(
        tmp_path_factory.mktemp("data") / "tiny.h5",
        GeneratorConfig(per_class=3, duration_s=0.25, classes=CLASSES, seed=3),
        workers=1,
    )
    return ExperimentConfig.model_validate(
        preset_config("quick", "cnn1d", str(dataset), {"data.window": {"length": 256}, "training.epochs": 2})
    )


def test_callback_samples_during_a_real_fit_and_stops_at_its_end(
    tiny_config: ExperimentConfig, tmp_path: Path
) -> None:
    published: list[dict] = []
    callback = ResourceCallback(published.append, interval=0.05)
    fit(tiny_config, callbacks=[callback], out_dir=tmp_path, device="cpu")
    assert not callback.running
    assert not _resource_threads()
    assert published, "the first sample is taken when the fit starts"
    assert all(m["kind"] == "resources" for m in published)
    assert callback.last is not None
    assert {k: v for k, v in published[-1].items() if k != "kind"} == callback.last


class Boom(Callback):
    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        raise RuntimeError("boom")


def test_close_stops_the_sampler_of_a_fit_that_failed(tiny_config: ExperimentConfig, tmp_path: Path) -> None:
    """The loop does not call on_fit_end after an error: the runner closes the callback itself."""
    with ResourceCallback(interval=0.05) as callback:
        with pytest.raises(RuntimeError, match="boom"):
            fit(tiny_config, callbacks=[callback, Boom()], out_dir=tmp_path, device="cpu")
        assert callback.running
        _wait_for(lambda: callback.last is not None)  # still sampling after the failure
    assert not callback.running
    assert not _resource_threads()
