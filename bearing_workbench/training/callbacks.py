"""The callback protocol of the training loop: hooks, the context they receive, and epoch metrics.

Hook order for epoch-based families (the loop test checks it)::

    on_fit_start
    for each epoch:
        on_epoch_start
        on_batch_end            (after every optimisation step)
        on_epoch_end            (after validation, with the epoch's metrics)
        on_checkpoint           (for each checkpoint written: epoch file, best.pt; last.pt when a
                                 stop or pause makes it the run's checkpoint)
    on_fit_end                  (also after an early or requested stop; not after an error)

Non-epoch families (classical, ensemble) call ``on_fit_start``, ``on_progress`` (any number of
times) and ``on_fit_end``.

A callback stops a run with ``ctx.request_stop(reason)``: the loop ends after the current batch,
writes ``last.pt`` (resumable) and returns normally. ``ctx.request_pause()`` makes the loop write
``last.pt`` after the current batch and wait until ``ctx.resume()`` (or a stop) is called from
another thread; a callback may also simply block inside a hook.

One wording of where a run stands (`where_in_training`), used by the checkpoint, pause, stop and
resume texts alike: a checkpoint holds the epochs *done* and the batches done in the next one, so one
taken mid-epoch 11 is "during epoch 11" (10 epochs done) and a resume continues epoch 11 from the
next batch; one taken once epoch 11 has ended is "after epoch 11".
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.models.inputs import InputSpec
    from bearing_workbench.training.loop import FitResult


@dataclass
class EpochMetrics:
    """One epoch's numbers. Losses are mean cross-entropy per window; accuracies are fractions.

    Args:
        epoch: 1-based epoch number.
        lr: learning rate of the epoch's last optimisation step.
        seconds: wall time of the epoch (training and validation, pauses excluded).
        extra: family-specific values averaged over the epoch (e.g. physics_loss) and their
            validation counterparts prefixed ``val_``.
    """

    epoch: int
    total_epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (``extra`` nested), JSON- and checkpoint-safe."""
        out = dataclasses.asdict(self)
        out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochMetrics:
        """Inverse of `as_dict`."""
        values = dict(data)
        values["extra"] = {str(k): float(v) for k, v in dict(values.get("extra") or {}).items()}
        return cls(**values)


def where_in_training(epochs_done: int, batches_done: int = 0, steps_per_epoch: int = 0) -> str:
    """Where a run stands, from a checkpoint's progress (epochs done, batches done in the next epoch).

    ``"before the first epoch"``, ``"after epoch 10"``, or ``"during epoch 11 (batch 5/20 done)"``
    (the batch count is left out when `steps_per_epoch` is not known).
    """
    if batches_done:
        steps = f"/{steps_per_epoch}" if steps_per_epoch else ""
        return f"during epoch {epochs_done + 1} (batch {batches_done}{steps} done)"
    return f"after epoch {epochs_done}" if epochs_done else "before the first epoch"


class FitContext:
    """What every hook receives: the run's config, model and state, and the stop/pause controls.

    Attributes set by the loop: ``config``, ``spec``, ``model``, ``optimizer`` (None for non-epoch
    families), ``device``, ``out_dir``, ``store``, ``data`` (the `DataSplits`), ``epoch`` (1-based
    epoch in progress, 0 before the first), ``steps_per_epoch``, ``history`` (one `EpochMetrics`
    per finished epoch) and ``batches_done`` (optimisation steps done in the epoch after the last
    finished one; 0 at an epoch boundary). ``(len(history), batches_done)`` is exactly the progress a
    checkpoint written at that moment stores.
    """

    def __init__(
        self,
        config: ExperimentConfig,
        spec: InputSpec,
        *,
        model: Any = None,
        optimizer: Any = None,
        device: Any = None,
        out_dir: Path | None = None,
        store: Any = None,
        data: Any = None,
        callbacks: CallbackList | None = None,
    ):
        self.config = config
        self.spec = spec
        self.model = model
        self.optimizer = optimizer
        self.device = device
        self.out_dir = out_dir
        self.store = store
        self.data = data
        self.epoch = 0
        self.steps_per_epoch = 0  # optimisation steps per epoch (epoch-based families)
        self.history: list[EpochMetrics] = []
        self.batches_done = 0
        self._callbacks = callbacks if callbacks is not None else CallbackList()
        self._stop_reason: str | None = None
        self._stop = threading.Event()
        self._running = threading.Event()  # set = not paused
        self._running.set()

    @property
    def position(self) -> tuple[int, int]:
        """(epochs done, batches done in the next epoch): what a checkpoint written now stores."""
        return len(self.history), self.batches_done

    def where(self) -> str:
        """`where_in_training` of `position`: the one text for checkpoints, pauses, stops, resumes."""
        return where_in_training(*self.position, self.steps_per_epoch)

    # -- stop ---------------------------------------------------------------------------------------

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the loop to end after the current batch (thread-safe; the first reason is kept)."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stop.set()
        self._running.set()  # a paused run wakes up to stop

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    # -- pause --------------------------------------------------------------------------------------

    def request_pause(self) -> None:
        """Ask the loop to checkpoint after the current batch and wait for `resume()` (thread-safe)."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused run continue (thread-safe)."""
        self._running.set()

    @property
    def pause_requested(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block until resumed or stopped; True when no longer paused."""
        return self._running.wait(timeout)

    # -- progress of non-epoch families ------------------------------------------------------------

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1) of a non-epoch fit to the callbacks' `on_progress`."""
        self._callbacks.on_progress(self, min(max(float(fraction), 0.0), 1.0), message)


class Callback:
    """Base class of training callbacks: every hook is a no-op; override the ones you need."""

    def on_fit_start(self, ctx: FitContext) -> None:
        """Before the first epoch (after data, model and optimizer are ready)."""

    def on_epoch_start(self, ctx: FitContext, epoch: int) -> None:
        """Before the epoch's first batch; `epoch` is 1-based."""

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        """After each optimisation step; logs: loss, acc, lr, batch_size and the model's extra values."""

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        """After validation, with the epoch's metrics (already appended to ``ctx.history``)."""

    def on_checkpoint(self, ctx: FitContext, path: Path, is_best: bool) -> None:
        """After a checkpoint file was written."""

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        """After training ended normally, early or on request (not after an error)."""

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        """Progress of a non-epoch family (classical, ensemble): fraction in [0, 1]."""


class CallbackList(Callback):
    """Several callbacks called in order, as one."""

    def __init__(self, callbacks: Iterable[Callback] = ()):
        self.callbacks: list[Callback] = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must subclass training.Callback; got {type(cb).__name__}")

    def on_fit_start(self, ctx: FitContext) -> None:
        for cb in self.callbacks:
            cb.on_fit_start(ctx)

    def on_epoch_start(self, ctx: FitContext, epoch: int) -> None:
        for cb in self.callbacks:
            cb.on_epoch_start(ctx, epoch)

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        for cb in self.callbacks:
            cb.on_batch_end(ctx, batch_index, logs)

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(ctx, metrics)

    def on_checkpoint(self, ctx: FitContext, path: Path, is_best: bool) -> None:
        for cb in self.callbacks:
            cb.on_checkpoint(ctx, path, is_best)

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        for cb in self.callbacks:
            cb.on_fit_end(ctx, result)

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        for cb in self.callbacks:
            cb.on_progress(ctx, fraction, message)

    def __len__(self) -> int:
        return len(self.callbacks)


class ProgressBar(Callback):
    """A tqdm progress bar for the CLI: one bar over all optimisation steps (or 0-100 % for
    non-epoch families), with the latest loss and validation accuracy in its postfix."""

    def __init__(self, file: Any = None, leave: bool = True, disable: bool | None = False):
        self._file = file
        self._leave = leave
        self._disable = disable
        self._bar: Any = None
        self._last_val: dict[str, str] = {}

    def _open(self, total: float | None, unit: str) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, unit=unit, file=self._file, leave=self._leave, disable=self._disable)

    def on_fit_start(self, ctx: FitContext) -> None:
        steps = ctx.steps_per_epoch
        if ctx.optimizer is None or not steps:
            self._open(100.0, "%")
            self._bar.bar_format = "{l_bar}{bar}| {n:.0f}/{total:.0f}% [{elapsed}<{remaining}{postfix}]"
            return
        self._open(steps * ctx.config.training.epochs, "step")
        done, batches = ctx.position
        self._bar.update(steps * done + batches)  # a resumed run starts where it stopped

    def on_epoch_start(self, ctx: FitContext, epoch: int) -> None:
        if self._bar is not None:
            self._bar.set_description(f"epoch {epoch}/{ctx.config.training.epochs}")

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{logs['loss']:.4f}", **self._last_val, refresh=False)

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        self._last_val = {"val_acc": f"{metrics.val_acc:.3f}"}
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{metrics.train_loss:.4f}", **self._last_val)

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        if self._bar is not None:
            self._bar.update(100.0 * fraction - self._bar.n)
            if message:
                self._bar.set_description(message)

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        if self._bar is not None:
            if ctx.optimizer is None:
                self._bar.update(100.0 - self._bar.n)
            self._bar.close()
            self._bar = None


def as_callback_list(callbacks: Callback | Sequence[Callback] | None) -> CallbackList:
    """A `CallbackList` from one callback, a sequence of them, or None."""
    if callbacks is None:
        return CallbackList()
    if isinstance(callbacks, CallbackList):
        return callbacks
    if isinstance(callbacks, Callback):
        return CallbackList([callbacks])
    return CallbackList(callbacks)
