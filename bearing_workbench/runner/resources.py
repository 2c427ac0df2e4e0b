"""Resource samples of the machine a run is on: CPU, RAM, disk I/O rate, process memory and GPUs.

`sample_resources()` takes one sample; `ResourceSampler` takes one every ~2 s in a thread and hands
it to a sink; `ResourceCallback` runs a sampler for the duration of a training run and publishes each
sample (on a Dask worker the runner passes its progress publisher). GPUs are read through pynvml
(package ``nvidia-ml-py``); without a GPU the sample says ``gpus: []`` and ``gpu_status: "no GPU"``.

A sample is a plain JSON-safe dict::

    time, hostname, pid, cpu_percent, cpu_count, ram_used, ram_total, ram_percent,
    disk_read_bytes_per_s, disk_write_bytes_per_s, process_rss,
    gpus: [{index, name, utilization_percent, memory_used, memory_total}], gpu_status

Memory figures are bytes; ``ram_used`` is total minus available (what other programs cannot have).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psutil

from bearing_workbench.config.arguments import PositiveSeconds, check
from bearing_workbench.training.callbacks import Callback, FitContext

if TYPE_CHECKING:
    from bearing_workbench.training.loop import FitResult

log = logging.getLogger(__name__)

NO_GPU = "no GPU"
DEFAULT_INTERVAL_S = 2.0

Sink = Callable[[dict[str, Any]], Any]


class _Gpus:
    """NVML, initialised once per probe; a machine without a GPU is remembered, not retried."""

    def __init__(self) -> None:
        self.status: str | None = None  # None until the first read
        self._nvml: Any = None

    def _init(self) -> None:
        try:
            import pynvml
        except ImportError:
            self.status = NO_GPU
            log.debug("nvidia-ml-py is not installed: GPU figures are not sampled")
            return
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            # LibraryNotFound / DriverNotLoaded: a machine without a GPU (or its driver), not an error.
            no_gpu = (pynvml.NVMLError_LibraryNotFound, pynvml.NVMLError_DriverNotLoaded)
            self.status = NO_GPU if isinstance(exc, no_gpu) else f"NVML error: {exc}"
            log.debug("NVML unavailable: %s", exc)
            return
        self._nvml = pynvml
        self.status = "ok"

    def read(self) -> tuple[list[dict[str, Any]], str]:
        if self.status is None:
            self._init()
        nvml = self._nvml
        if nvml is None:
            return [], str(self.status)
        try:
            count = nvml.nvmlDeviceGetCount()
        except nvml.NVMLError as exc:
            return [], f"NVML error: {exc}"
        gpus = [self._device(nvml, index) for index in range(count)]
        return gpus, ("ok" if gpus else NO_GPU)

    @staticmethod
    def _device(nvml: Any, index: int) -> dict[str, Any]:
        gpu: dict[str, Any] = {
            "index": index,
            "name": None,
            "utilization_percent": None,
            "memory_used": None,
            "memory_total": None,
        }
        # Each figure on its own: some devices (MIG slices, older boards) do not support them all.
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
        except nvml.NVMLError as exc:
            gpu["error"] = str(exc)
            return gpu
        try:
            name = nvml.nvmlDeviceGetName(handle)
            gpu["name"] = name.decode() if isinstance(name, bytes) else str(name)
        except nvml.NVMLError:
            pass
        try:
            gpu["utilization_percent"] = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        except nvml.NVMLError:
            pass
        try:
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            gpu["memory_used"] = int(memory.used)
            gpu["memory_total"] = int(memory.total)
        except nvml.NVMLError:
            pass
        return gpu

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except self._nvml.NVMLError:
                pass
            self._nvml = None
            self.status = None


class ResourceProbe:
    """Takes resource samples; disk rates are computed since this probe's previous sample.

    CPU % is the machine's busy share since the previous call made from the same thread (psutil keeps
    that state per thread); the first call in a thread measures over 0.1 s.
    """

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._lock = threading.Lock()
        self._cpu_primed = threading.local()
        self._gpus = _Gpus()
        self._last_disk = self._disk_counters()
        self._last_time = time.monotonic()

    @staticmethod
    def _disk_counters() -> tuple[int, int] | None:
        try:
            counters = psutil.disk_io_counters()
        except (OSError, RuntimeError):
            return None
        # None where the kernel exposes no disk statistics (some containers).
        return None if counters is None else (int(counters.read_bytes), int(counters.write_bytes))

    def _cpu_percent(self) -> float:
        if getattr(self._cpu_primed, "done", False):
            return float(psutil.cpu_percent(interval=None))
        self._cpu_primed.done = True
        return float(psutil.cpu_percent(interval=0.1))

    def _disk_rates(self) -> tuple[float | None, float | None]:
        with self._lock:
            now, counters = time.monotonic(), self._disk_counters()
            last, last_time = self._last_disk, self._last_time
            self._last_disk, self._last_time = counters, now
        elapsed = now - last_time
        if counters is None or last is None or elapsed <= 0:
            return None, None
        # Counters can go down (a disk removed, a counter wrapped): report 0 rather than a negative rate.
        read = max(0, counters[0] - last[0]) / elapsed
        write = max(0, counters[1] - last[1]) / elapsed
        return read, write

    def sample(self) -> dict[str, Any]:
        """One sample (see the module docstring for its keys)."""
        cpu = self._cpu_percent()
        memory = psutil.virtual_memory()
        disk_read, disk_write = self._disk_rates()
        with self._lock:
            gpus, gpu_status = self._gpus.read()
        return {
            "time": time.time(),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "cpu_percent": cpu,
            "cpu_count": psutil.cpu_count() or 1,
            "ram_used": int(memory.total - memory.available),
            "ram_total": int(memory.total),
            "ram_percent": float(memory.percent),
            "disk_read_bytes_per_s": disk_read,
            "disk_write_bytes_per_s": disk_write,
            "process_rss": int(self._process.memory_info().rss),
            "gpus": gpus,
            "gpu_status": gpu_status,
        }

    def close(self) -> None:
        """Release NVML (a later sample initialises it again)."""
        with self._lock:
            self._gpus.close()


_default_probe: ResourceProbe | None = None
_default_lock = threading.Lock()


def sample_resources() -> dict[str, Any]:
    """One resource sample of this machine and process; disk rates since the previous call."""
    global _default_probe
    with _default_lock:
        if _default_probe is None:
            _default_probe = ResourceProbe()
        probe = _default_probe
    return probe.sample()


class ResourceSampler:
    """Samples resources every `interval` seconds in a daemon thread and passes each sample to `sink`.

    The first sample is taken at `start()`. A sink that raises is logged and sampling goes on: a
    monitor that cannot be reached must not stop the run it watches.
    """

    def __init__(self, sink: Sink, interval: float = DEFAULT_INTERVAL_S, probe: ResourceProbe | None = None):
        if not callable(sink):
            raise TypeError(f"sink must be callable, got {type(sink).__name__}")
        self.sink = sink
        self.interval = check(PositiveSeconds, interval, "interval")
        self._probe = probe
        self._own_probe = probe is None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: dict[str, Any] | None = None
        self.samples_taken = 0
        self._sink_failed = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> ResourceSampler:
        """Start sampling (a sampler runs once: start a new one after `stop`)."""
        if self._thread is not None:
            raise RuntimeError("this ResourceSampler was already started; create a new one")
        if self._probe is None:
            self._probe = ResourceProbe()
        self._thread = threading.Thread(target=self._run, name="bearing-workbench-resources", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop sampling and wait (up to `timeout` s) for the thread to end."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._own_probe and self._probe is not None and not self.running:
            self._probe.close()

    def __enter__(self) -> ResourceSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        assert self._probe is not None
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                sample = self._probe.sample()
            except Exception:  # a probe failure (psutil on an odd platform) must not kill the run
                log.exception("resource sampling failed; sampling stops")
                return
            self.last = sample
            self.samples_taken += 1
            try:
                self.sink(sample)
            except Exception as exc:
                # Warn once, then quietly: a gone monitor would otherwise fill the log every 2 s.
                if not self._sink_failed:
                    log.warning("publishing a resource sample failed (next failures: debug level): %s", exc)
                    self._sink_failed = True
                else:
                    log.debug("publishing a resource sample failed: %s", exc)
            # Fixed rate: the next tick does not drift by the time a sample takes.
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))


class ResourceCallback(Callback):
    """Samples resources while a run trains and publishes each sample as ``{"kind": "resources", ...}``.

    `on_fit_end` stops the sampler, but the loop does not call it after an error: whoever runs the fit
    calls `close()` in a ``finally`` (or uses the callback as a context manager).

    Args:
        publish: called with each message (e.g. the runner's progress publisher); None to only keep
            the latest sample in `last`.
        interval: seconds between samples.
        keep_last: keep the latest sample in `last`.
    """

    KIND = "resources"

    def __init__(
        self, publish: Sink | None = None, *, interval: float = DEFAULT_INTERVAL_S, keep_last: bool = True
    ):
        if publish is not None and not callable(publish):
            raise TypeError(f"publish must be callable or None, got {type(publish).__name__}")
        self.publish = publish
        self.interval = check(PositiveSeconds, interval, "interval")
        self.keep_last = keep_last
        self.last: dict[str, Any] | None = None
        self._sampler: ResourceSampler | None = None

    def _sink(self, sample: dict[str, Any]) -> None:
        if self.keep_last:
            self.last = sample
        if self.publish is not None:
            self.publish({"kind": self.KIND, **sample})

    @property
    def running(self) -> bool:
        return self._sampler is not None and self._sampler.running

    def on_fit_start(self, ctx: FitContext) -> None:
        self.close()  # a callback object reused for a second fit starts a fresh sampler
        self._sampler = ResourceSampler(self._sink, self.interval).start()

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        self.close()

    def close(self) -> None:
        """Stop sampling (idempotent)."""
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None

    def __enter__(self) -> ResourceCallback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
