"""The per-experiment log file ``<experiment folder>/training.log`` and a tail API for log viewers.

`ExperimentLog` attaches a file handler to the ``bearing_workbench`` logger (and to captured Python
warnings) for the duration of a run; `LogCallback` writes one line per epoch, checkpoint, progress
message and at the start and end of the fit; `tail_log` reads the file incrementally from a byte
offset, for a viewer that follows the log while the run writes it.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bearing_workbench.config.arguments import NonNegativeInt, PositiveInt, checked
from bearing_workbench.store.artifacts import KIND_BY_KEY, ExperimentFolder
from bearing_workbench.training.callbacks import Callback, EpochMetrics, FitContext

if TYPE_CHECKING:
    from bearing_workbench.training.loop import FitResult

LOG_FILENAME = KIND_BY_KEY["log"].filename
PACKAGE_LOGGER = "bearing_workbench"
RUN_LOGGER = "bearing_workbench.run"  # LogCallback's lines
WARNINGS_LOGGER = "py.warnings"  # where logging.captureWarnings sends warnings
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_shared_lock = threading.Lock()
_active = 0  # ExperimentLogs open in this process
_saved_level: int | None = None  # the package logger's level before the first one opened
_we_capture_warnings = False


def log_path(out_dir: str | os.PathLike[str] | ExperimentFolder) -> Path:
    """The log file of the experiment whose folder is `out_dir`."""
    return ExperimentFolder.at(out_dir).log


class _ShortNames(logging.Formatter):
    """Logger names without the package prefix: 'run', 'training.experiment', 'py.warnings'."""

    def format(self, record: logging.LogRecord) -> str:
        name = record.name
        if name.startswith(PACKAGE_LOGGER + "."):
            record = logging.makeLogRecord({**record.__dict__, "name": name[len(PACKAGE_LOGGER) + 1 :]})
        return super().format(record)


class _BelongsToRun(logging.Filter):
    """Keeps the records of one run when several runs share a process (Dask worker threads)."""

    def __init__(self, thread_id: int, experiment_id: int | None):
        super().__init__()
        self.thread_id = thread_id
        self.experiment_id = experiment_id

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "experiment_log", None) is self:
            return True  # written through ExperimentLog.write
        tagged = getattr(record, "experiment_id", None)
        if tagged is not None:
            return tagged == self.experiment_id
        return record.thread == self.thread_id


def _open_shared(level: int) -> None:
    """First log opened: let `level` records through the package logger, capture warnings."""
    global _active, _saved_level, _we_capture_warnings
    with _shared_lock:
        _active += 1
        if _active > 1:
            return
        package = logging.getLogger(PACKAGE_LOGGER)
        if package.getEffectiveLevel() > level:
            _saved_level = package.level
            package.setLevel(level)
        import warnings

        before = warnings.showwarning
        logging.captureWarnings(True)
        _we_capture_warnings = warnings.showwarning is not before


def _close_shared() -> None:
    global _active, _saved_level, _we_capture_warnings
    with _shared_lock:
        _active -= 1
        if _active > 0:
            return
        if _saved_level is not None:
            logging.getLogger(PACKAGE_LOGGER).setLevel(_saved_level)
            _saved_level = None
        if _we_capture_warnings:
            logging.captureWarnings(False)
            _we_capture_warnings = False


class ExperimentLog:
    """Context manager writing a run's log records to ``<out_dir>/training.log`` (appending).

    While open, records of the ``bearing_workbench`` loggers (INFO and above by default) and Python
    warnings go to the file. Only records made in the thread that opened the log are kept, plus records
    from any thread that carry ``extra={"experiment_id": <this id>}``, so that runs sharing a worker
    process do not write into each other's logs.

    Args:
        out_dir: the experiment's folder (created if missing).
        experiment_id: tags the log so that other threads (a control watcher) can write into it.
        level: the lowest level written.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | ExperimentFolder,
        experiment_id: int | None = None,
        level: int = logging.INFO,
    ):
        self.path = log_path(out_dir)
        self.experiment_id = experiment_id
        self.level = level
        self._handler: logging.FileHandler | None = None
        self._filter: _BelongsToRun | None = None

    def __enter__(self) -> ExperimentLog:
        if self._handler is not None:
            raise RuntimeError(f"{self.path} is already open")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.path, mode="a", encoding="utf-8")
        handler.setLevel(self.level)
        handler.setFormatter(_ShortNames(LINE_FORMAT))
        self._filter = _BelongsToRun(threading.get_ident(), self.experiment_id)
        handler.addFilter(self._filter)
        _open_shared(self.level)
        for name in (PACKAGE_LOGGER, WARNINGS_LOGGER):
            logging.getLogger(name).addHandler(handler)
        self._handler = handler
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self._handler is None:
            return
        if exc is not None:
            # One line, no traceback: the code that failed logs its own traceback where it has one.
            hint = getattr(exc, "hint", None)
            text = getattr(exc, "message", None) or str(exc)  # TrainingError's str already has the hint
            line = f"run ended with an error: {type(exc).__name__}: {text}"
            self.write(line + (f" (hint: {hint})" if hint else ""), logging.ERROR)
        for name in (PACKAGE_LOGGER, WARNINGS_LOGGER):
            logging.getLogger(name).removeHandler(self._handler)
        self._handler.close()
        self._handler = None
        _close_shared()

    def write(self, message: str, level: int = logging.INFO) -> None:
        """Write one line to this log only (from any thread)."""
        if self._handler is None:
            raise RuntimeError(f"{self.path} is not open: use ExperimentLog as a context manager")
        record = logging.getLogger(RUN_LOGGER).makeRecord(
            RUN_LOGGER, level, __file__, 0, message, None, None, extra={"experiment_log": self._filter}
        )
        if record.levelno >= self._handler.level:
            self._handler.handle(record)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


class LogCallback(Callback):
    """Writes one INFO line per epoch, checkpoint, progress message and early stop, and at start and end.

    The lines go to the ``bearing_workbench.run`` logger: inside an `ExperimentLog` they land in the
    run's ``training.log``.
    """

    def __init__(self, experiment_id: int | None = None):
        self.experiment_id = experiment_id
        self.log = logging.getLogger(RUN_LOGGER)

    def _line(self, message: str, *args: Any, level: int = logging.INFO) -> None:
        self.log.log(level, message, *args, extra={"experiment_id": self.experiment_id})

    def on_fit_start(self, ctx: FitContext) -> None:
        config = ctx.config
        what = f"{config.model.family}" + (f" '{config.name}'" if config.name else "")
        if ctx.optimizer is None:
            self._line("fit started: %s", what)
            return
        total = config.training.epochs
        where = f"resuming {ctx.where()}" if any(ctx.position) else "starting"
        self._line(
            "fit started: %s, %d epochs, %d steps per epoch, device %s, %s",
            what,
            total,
            ctx.steps_per_epoch,
            ctx.device,
            where,
        )

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        extra = "".join(f" {k} {_fmt(v)}" for k, v in sorted(metrics.extra.items()))
        self._line(
            "epoch %d/%d: train_loss %s train_acc %.3f val_loss %s val_acc %.3f lr %.3g%s (%.3g s)",
            metrics.epoch,
            metrics.total_epochs,
            _fmt(metrics.train_loss),
            metrics.train_acc,
            _fmt(metrics.val_loss),
            metrics.val_acc,
            metrics.lr,
            extra,
            metrics.seconds,
        )

    def on_checkpoint(self, ctx: FitContext, path: Path, is_best: bool) -> None:
        kind = "best model" if is_best else "checkpoint"
        self._line("%s saved %s: %s", kind, ctx.where(), Path(path).name)  # "during epoch N" mid-epoch

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        self._line("progress %.0f%%%s", 100.0 * fraction, f": {message}" if message else "")

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        if result.stop_requested:
            checkpoint = result.last_checkpoint.name if result.last_checkpoint else "none"
            self._line(
                "stopped on request: %s (checkpoint %s), %s", result.stop_reason, checkpoint, ctx.where()
            )
        elif result.stopped_early:
            self._line("early stopping: %s", result.stop_reason)
        best = ""
        if result.best_epoch is not None and result.best_metric is not None:
            best = f", best epoch {result.best_epoch} ({result.monitor} {_fmt(result.best_metric)})"
        epochs = len(result.history)
        self._line("fit ended after %.3g s: %d epoch%s%s", result.seconds, epochs, "s"[: epochs != 1], best)


@checked
def tail_log(
    path: str | os.PathLike[str], n_lines: PositiveInt = 200, offset: NonNegativeInt | None = None
) -> tuple[list[str], int]:
    """Complete lines of a log file and the offset to pass next time; for follow-the-log viewers.

    With ``offset=None``: the last `n_lines` lines of the file. With an offset (from the previous
    call): the lines written since, at most the last `n_lines` of them. A last line still being
    written (no newline yet) is left for the next call. A missing file gives no lines; a file that
    shrank below `offset` (replaced) is read from its start.

    Returns:
        (lines without their line ends, byte offset just after the last complete line returned).
    """
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed below; the size must come from the same handle
    except FileNotFoundError:
        return [], offset or 0
    with file:
        size = os.fstat(file.fileno()).st_size
        if offset is not None and offset > size:
            offset = 0
        if offset is None:
            start, data = _read_tail(file, size, n_lines)
        else:
            start = offset
            file.seek(start)
            data = file.read(size - start)
    end = data.rfind(b"\n")
    if end < 0:
        return [], start
    # Split on b"\n" only: str.splitlines would also break lines at form feeds and other separators.
    lines = [line.rstrip("\r") for line in data[:end].decode("utf-8", errors="replace").split("\n")]
    return lines[-n_lines:], start + end + 1


def _read_tail(file: Any, size: int, n_lines: int, block: int = 64 * 1024) -> tuple[int, bytes]:
    """(start offset, bytes from there to `size`) holding at least the last `n_lines` complete lines."""
    start, data = size, b""
    # n_lines + 1 newlines: one more than needed, since the last line may still be partial.
    while start > 0 and data.count(b"\n") <= n_lines:
        step = min(block, start)
        start -= step
        file.seek(start)
        data = file.read(step) + data
    return start, data
