"""The one training loop: `fit(config, callbacks=...)` for every model family.

Epoch-based (neural) families train here: seeded, deterministic on CPU, Adam/SGD/AdamW, cosine
schedule with linear warm-up stepped after every optimisation step (so warm-up is smooth even over
one epoch, and ``min_lr`` is reached at the last step), early stopping, gradient clipping, mixed
precision on CUDA, checkpoints that resume a run exactly, and callbacks at every hook (see
`training.callbacks` for their order). Non-epoch families (classical, ensemble) are handed to their
estimator's ``fit_estimator(ctx, data)`` under the same callback protocol.

Losses: ``train_loss`` and ``val_loss`` are the mean cross-entropy per window (mixup-weighted in
training); a model's ``auxiliary_loss`` is added to what is optimised and its logged values go to
``EpochMetrics.extra`` (and, computed on the validation split, as ``val_<name>``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.models.builders import build_model
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import FamilySpec, get_family
from bearing_workbench.models.validation import ValidatedExperiment, model_params, validate_config
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.store.workspace import workspace_root
from bearing_workbench.training.batch import Batch
from bearing_workbench.training.callbacks import (
    Callback,
    CallbackList,
    EpochMetrics,
    FitContext,
    as_callback_list,
)
from bearing_workbench.training.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CheckpointPolicy,
    load_checkpoint,
)
from bearing_workbench.training.data import (
    Augmenter,
    DataSplits,
    Mixup,
    SplitData,
    epoch_order,
    iterate_batches,
    load_data,
    steps_per_epoch,
)
from bearing_workbench.training.errors import CheckpointError, TrainingDataError, TrainingError
from bearing_workbench.training.seeding import global_rng_state, seed_everything, set_global_rng_state


@dataclass
class FitResult:
    """What `fit` returns.

    Args:
        model: the trained model, holding the best epoch's weights when a ``best.pt`` was written
            (the estimator object for non-epoch families).
        best_epoch: 1-based epoch with the best monitored value (None for non-epoch families).
        monitor: the metric that chose it (``val_loss`` / ``val_accuracy``; the training
            counterpart when the validation split is empty).
        stopped_early: training ended before ``training.epochs`` (early stopping or a request).
        stop_reason: why it ended early; None when every epoch ran.
        stop_requested: the end was asked for by a callback (`FitContext.request_stop`).
        last_checkpoint: ``last.pt`` when the run was stopped (resume from it), else None.
    """

    model: Any
    spec: InputSpec
    data: DataSplits
    history: list[EpochMetrics]
    best_epoch: int | None
    best_metric: float | None
    monitor: str
    stopped_early: bool
    stop_reason: str | None
    stop_requested: bool
    out_dir: Path
    best_checkpoint: Path | None
    last_checkpoint: Path | None = None
    seconds: float = 0.0

    @property
    def train(self) -> SplitData:
        return self.data.train

    @property
    def val(self) -> SplitData:
        return self.data.val

    @property
    def test(self) -> SplitData:
        return self.data.test


def fit(
    config: ValidatedExperiment | ExperimentConfig | Mapping[str, Any],
    *,
    callbacks: Callback | Sequence[Callback] | None = (),
    out_dir: str | Path,
    store: Any = None,
    device: str | torch.device | None = None,
    resume_from: str | Path | None = None,
) -> FitResult:
    """Train the model `config` describes; checkpoints go to `out_dir`.

    Args:
        store: resolves a dataset name (and the workspace of ``init_from_experiment``); without
            it ``data.dataset`` must be a file path.
        device: ``cpu``, ``cuda``, ``cuda:1`` ...; default CUDA when available.
        resume_from: a checkpoint of an interrupted run of the same config (see
            `checkpoint.latest_checkpoint`); training continues exactly where it stopped.
    """
    # A validated experiment (what runs launched through the boundary carry) is not checked again.
    checked = config if isinstance(config, ValidatedExperiment) else None
    config = checked.config if checked is not None else validate_config(config)
    family = get_family(config.model.family)
    params = checked.params if checked is not None else model_params(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cbs = as_callback_list(callbacks)
    data = load_data(config, store, path=checked.dataset.path if checked is not None else None)
    if not family.epoch_based:
        return _fit_estimator(config, family, params, data, cbs, out, store)
    trainer = _EpochTrainer(config, family, params, data, cbs, out, store, _device(device))
    return trainer.run(Path(resume_from) if resume_from is not None else None)


def _device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(f"device {device!r} was asked for but CUDA is not available", hint="use cpu")
    return resolved


# -- non-epoch families ------------------------------------------------------------------------------


def _fit_estimator(
    config: ExperimentConfig,
    family: FamilySpec,
    params: Any,
    data: DataSplits,
    cbs: CallbackList,
    out: Path,
    store: Any,
) -> FitResult:
    """Classical and ensemble families: the builder returns an estimator with
    ``fit_estimator(ctx, data)`` and ``predict_proba(split)``; progress flows through ``ctx.progress``."""
    seed_everything(config.training.seed)
    estimator = build_model(family.name, params, data.spec)
    needed = ("fit_estimator", "predict_proba")
    missing = [name for name in needed if not callable(getattr(estimator, name, None))]
    if missing:
        raise TypeError(
            f"the builder of family {family.name!r} returned a {type(estimator).__name__} without "
            f"{' and '.join(missing)} (non-epoch families return an estimator)"
        )
    ctx = FitContext(config, data.spec, model=estimator, out_dir=out, store=store, data=data, callbacks=cbs)
    started = time.perf_counter()
    cbs.on_fit_start(ctx)
    estimator.fit_estimator(ctx, data)
    result = FitResult(
        model=estimator,
        spec=data.spec,
        data=data,
        history=[],
        best_epoch=None,
        best_metric=None,
        monitor=config.training.monitor,
        stopped_early=ctx.stop_requested,
        stop_reason=ctx.stop_reason,
        stop_requested=ctx.stop_requested,
        out_dir=out,
        best_checkpoint=None,
        seconds=time.perf_counter() - started,
    )
    cbs.on_fit_end(ctx, result)
    return result


# -- epoch-based families ----------------------------------------------------------------------------


class CosineWithWarmup:
    """Learning-rate factor per optimisation step: linear warm-up to 1, then cosine decay to
    ``min_lr / lr`` at the last step (a callable object, so the scheduler's state is plain data)."""

    def __init__(self, total_steps: int, warmup_steps: int, min_factor: float, cosine: bool = True):
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.min_factor = float(min_factor)
        self.cosine = bool(cosine)

    def __call__(self, step: int) -> float:
        if not self.cosine:
            return 1.0
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps - 1)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class _EarlyStopping:
    """Best monitored value so far and epochs since it improved."""

    mode: str  # "min" or "max"
    min_delta: float
    best: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0

    def update(self, value: float, epoch: int) -> bool:
        """Record an epoch's value; True when it improved on the best by more than min_delta."""
        if math.isnan(value):
            improved = False
        elif self.best is None:
            improved = True
        elif self.mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best, self.best_epoch, self.bad_epochs = float(value), epoch, 0
        else:
            self.bad_epochs += 1
        return improved


@dataclass
class _Sums:
    """Running sums of the epoch in progress (kept in checkpoints taken mid-epoch)."""

    loss: float = 0.0
    correct: float = 0.0
    count: int = 0
    extra: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    lr: float = 0.0

    def add(self, loss: float, correct: float, n: int, extra: Mapping[str, float], lr: float) -> None:
        self.loss += loss * n
        self.correct += correct
        self.count += n
        for key, value in extra.items():
            self.extra[key] = self.extra.get(key, 0.0) + float(value) * n
        self.lr = lr


# Training settings that may differ between an interrupted run and its resumption.
_RESUME_MAY_CHANGE = ("checkpoint", "export_onnx", "early_stopping")


class _Stopped(Exception):
    """Internal: a stop request ended the epoch before its last batch."""


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError | MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


class _EpochTrainer:
    def __init__(
        self,
        config: ExperimentConfig,
        family: FamilySpec,
        params: Any,
        data: DataSplits,
        cbs: CallbackList,
        out: Path,
        store: Any,
        device: torch.device,
    ):
        self.config = config
        self.tc = config.training
        self.family = family
        self.params = params
        self.data = data
        self.spec = data.spec
        self.cbs = cbs
        self.out = out
        self.store = store
        self.device = device
        self.amp = device.type == "cuda" and self.tc.mixed_precision
        if len(data.train) == 0:
            raise TrainingDataError("data.split: the training split has no windows")
        self.steps = steps_per_epoch(len(data.train), self.tc.batch_size)
        self.policy = CheckpointPolicy(out, self.tc.checkpoint.policy, self.tc.checkpoint.keep_last)
        self.has_val = len(data.val) > 0
        # Without a validation split, the training counterpart chooses the best epoch.
        if self.tc.monitor == "val_loss":
            self.monitor = "val_loss" if self.has_val else "train_loss"
            mode = "min"
        else:
            self.monitor = "val_accuracy" if self.has_val else "train_accuracy"
            mode = "max"
        self.early = _EarlyStopping(mode, self.tc.early_stopping.min_delta)
        self.history: list[EpochMetrics] = []
        self.step = 0
        self.position = (0, 0)  # (epoch, batch) being run, for error messages

    # -- setup ------------------------------------------------------------------------------------

    def _build(self, resuming: bool) -> None:
        seed_everything(self.tc.seed)
        model = build_model(self.family.name, self.params, self.spec)
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"the builder of family {self.family.name!r} returned a {type(model).__name__}, "
                "not a torch.nn.Module (epoch-based families build torch models)"
            )
        source = getattr(self.params, "init_from_experiment", None)
        if source is not None and not resuming:
            _init_from_experiment(model, int(source), self.store, self.spec)
        if callable(getattr(model, "prepare", None)):
            model.prepare(self.data.train_data())
        self.model = model.to(self.device)
        self.optimizer = _optimizer(self.model, self.tc)
        total = self.steps * self.tc.epochs
        sched = self.tc.scheduler
        factor = CosineWithWarmup(
            total,
            sched.warmup_epochs * self.steps,
            sched.min_lr / self.tc.learning_rate,
            cosine=sched.name == "cosine",
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.augmenter = Augmenter(self.config.data.augmentation, self.tc.seed)
        self.aux = callable(getattr(self.model, "auxiliary_loss", None))
        self.ctx = FitContext(
            self.config,
            self.spec,
            model=self.model,
            optimizer=self.optimizer,
            device=self.device,
            out_dir=self.out,
            store=self.store,
            data=self.data,
            callbacks=self.cbs,
        )
        self.ctx.steps_per_epoch = self.steps
        self.ctx.history = self.history

    # -- state ------------------------------------------------------------------------------------

    def _state(self, epoch_done: int, batch_done: int, sums: _Sums | None) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "format_version": CHECKPOINT_VERSION,
            "family": self.family.name,
            "config": self.config.model_dump_json(),
            "spec": self.spec.model_dump(mode="json"),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "progress": {
                "epoch": epoch_done,
                "batch": batch_done,
                "step": self.step,
                "steps_per_epoch": self.steps,  # for the texts of where it stands (`ResumePoint`)
                "partial": asdict(sums) if sums is not None else None,
            },
            "early_stopping": {
                "best": self.early.best,
                "best_epoch": self.early.best_epoch,
                "bad_epochs": self.early.bad_epochs,
            },
            "rng": {"global": global_rng_state(), "augment": self.augmenter.state_dict()},
            "history": [m.as_dict() for m in self.history],
        }

    def _restore(self, path: Path) -> tuple[int, int, _Sums | None]:
        state = load_checkpoint(path, map_location="cpu")
        if state.get("family") != self.family.name:
            raise CheckpointError(
                f"{path} is a checkpoint of family {state.get('family')!r}, not {self.family.name!r}"
            )
        stored = json.loads(state["config"])
        mine = json.loads(self.config.model_dump_json())
        for section in ("model", "data", "training"):
            theirs, ours = dict(stored.get(section) or {}), dict(mine.get(section) or {})
            if section == "training":  # these do not change the trajectory of the weights
                for key in _RESUME_MAY_CHANGE:
                    theirs.pop(key, None)
                    ours.pop(key, None)
            changed = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
            if changed:
                raise CheckpointError(
                    f"{path} was written with a different config ({section}: {', '.join(changed)}); "
                    "resume with the config of the interrupted run"
                )
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{path} does not fit this model: {exc}") from None
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        early = state["early_stopping"]
        self.early.best = early["best"]
        self.early.best_epoch = int(early["best_epoch"])
        self.early.bad_epochs = int(early["bad_epochs"])
        self.history[:] = [EpochMetrics.from_dict(m) for m in state["history"]]
        self.augmenter.load_state_dict(state["rng"]["augment"])
        set_global_rng_state(state["rng"]["global"])
        progress = state["progress"]
        self.step = int(progress["step"])
        partial = progress.get("partial")
        sums = None
        if partial:
            sums = _Sums(**{**partial, "extra": dict(partial["extra"])})
        return int(progress["epoch"]), int(progress["batch"]), sums

    # -- the run ----------------------------------------------------------------------------------

    def run(self, resume_from: Path | None) -> FitResult:
        previous = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
        )
        if self.device.type == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            return self._run(resume_from)
        except TrainingError:
            raise
        except Exception as exc:
            if _is_out_of_memory(exc):
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                epoch, batch = self.position
                where = f"in epoch {epoch}, batch {batch + 1}" if epoch else "while building the model"
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise TrainingError(
                    f"out of memory on {self.device} {where}: {detail}",
                    hint=f"reduce batch size (current {self.tc.batch_size})",
                ) from exc
            raise
        finally:
            torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])

    def _run(self, resume_from: Path | None) -> FitResult:
        started = time.perf_counter()
        self._build(resuming=resume_from is not None)
        epoch_done, batch_done, sums = 0, 0, None
        if resume_from is not None:
            epoch_done, batch_done, sums = self._restore(resume_from)
        ctx = self.ctx
        ctx.epoch = epoch_done
        ctx.batches_done = batch_done  # a resume mid-epoch continues epoch_done + 1 from here
        self.cbs.on_fit_start(ctx)
        stopped_early, stop_reason, last = False, None, None
        for epoch in range(epoch_done + 1, self.tc.epochs + 1):
            ctx.epoch = epoch
            self.cbs.on_epoch_start(ctx, epoch)
            try:
                metrics = self._epoch(epoch, batch_done, sums)
            except _Stopped:
                stopped_early, stop_reason = True, ctx.stop_reason
                last = self.policy.last_path
                break
            batch_done, sums = 0, None
            improved = self.early.update(self._monitored(metrics), epoch)
            self.history.append(metrics)
            ctx.batches_done = 0
            self.cbs.on_epoch_end(ctx, metrics)
            state = self._state(epoch, 0, None)
            for path, is_best in self.policy.after_epoch(state, epoch, improved):
                self.cbs.on_checkpoint(ctx, path, is_best)
            es = self.tc.early_stopping
            if es.enabled and self.early.bad_epochs >= es.patience and epoch < self.tc.epochs:
                stopped_early = True
                stop_reason = (
                    f"early stopping: {self.monitor} did not improve by more than {es.min_delta:g} "
                    f"for {es.patience} epoch(s)"
                )
                break
            # after_epoch has just made last.pt this state (the resume point): a stop or pause here
            # reports it rather than writing it a second time.
            if ctx.stop_requested and epoch < self.tc.epochs:
                last = self._report_last()
                stopped_early, stop_reason = True, ctx.stop_reason
                break
            if ctx.pause_requested and epoch < self.tc.epochs:
                self._pause(None)
                if ctx.stop_requested:
                    stopped_early, stop_reason, last = True, ctx.stop_reason, self.policy.last_path
                    break
        # best.pt belongs to this run once an epoch improved (a stale file from another run does not).
        best = self.policy.best_path if self.early.best_epoch and self.policy.best_path.is_file() else None
        if best is not None:
            # Hand back the model chosen on validation, not merely the last epoch's.
            self.model.load_state_dict(load_checkpoint(best, map_location="cpu")["model"])
        result = FitResult(
            model=self.model,
            spec=self.spec,
            data=self.data,
            history=list(self.history),
            best_epoch=self.early.best_epoch or None,
            best_metric=self.early.best,
            monitor=self.monitor,
            stopped_early=stopped_early,
            stop_reason=stop_reason,
            stop_requested=ctx.stop_requested,
            out_dir=self.out,
            best_checkpoint=best,
            last_checkpoint=last,
            seconds=time.perf_counter() - started,
        )
        self.cbs.on_fit_end(ctx, result)
        return result

    def _monitored(self, m: EpochMetrics) -> float:
        return {
            "val_loss": m.val_loss,
            "val_accuracy": m.val_acc,
            "train_loss": m.train_loss,
            "train_accuracy": m.train_acc,
        }[self.monitor]

    def _save_last(self, state: dict[str, Any]) -> Path:
        self.policy.save_last(state)
        return self._report_last()

    def _report_last(self) -> Path:
        self.cbs.on_checkpoint(self.ctx, self.policy.last_path, False)
        return self.policy.last_path

    def _pause(self, state: dict[str, Any] | None) -> float:
        """Checkpoint (None: last.pt already holds this point), then wait until resumed or stopped;
        returns the seconds spent paused."""
        if state is None:
            self._report_last()
        else:
            self._save_last(state)
        paused = time.perf_counter()
        while not self.ctx.wait_while_paused(0.1):
            pass
        return time.perf_counter() - paused

    @contextmanager
    def _autocast(self):
        with torch.autocast(device_type=self.device.type, dtype=torch.float16, enabled=self.amp):
            yield

    def _forward(self, batch: Batch) -> torch.Tensor:
        meta = batch.meta if batch.meta.shape[1] > 0 else None
        return self.model(batch.x, meta) if meta is not None else self.model(batch.x)

    def _epoch(self, epoch: int, start_batch: int, sums: _Sums | None) -> EpochMetrics:
        sums = sums or _Sums()
        tick = time.perf_counter()
        model, ctx, bs = self.model, self.ctx, self.tc.batch_size
        model.train()
        order = epoch_order(len(self.data.train), self.tc.seed, epoch)
        for b, cpu_batch in enumerate(
            iterate_batches(self.data.train, bs, order=order, start=start_batch, stop=self.steps),
            start=start_batch,
        ):
            self.position = (epoch, b)
            batch, mix = self.augmenter(cpu_batch)
            batch = batch.to(self.device)
            if mix is not None:
                mix = Mixup(y_b=mix.y_b.to(self.device, non_blocking=True), lam=mix.lam)
            lr = self.optimizer.param_groups[0]["lr"]
            with self._autocast():
                logits = self._forward(batch)
                ce = _cross_entropy(logits, batch.y, mix)
                loss, extra = ce, {}
                if self.aux:
                    aux_loss, extra = self.model.auxiliary_loss(batch, logits)
                    loss = ce + aux_loss
            # One device sync per step: loss, cross-entropy and hits read together.
            loss_value, ce_value, correct = _step_numbers(loss, ce, logits, batch.y, mix)
            if not math.isfinite(loss_value):
                hint = f"lower the learning rate (current {self.tc.learning_rate:g})"
                raise TrainingError(
                    f"the training loss became {loss_value} in epoch {epoch}, batch {b + 1} "
                    f"(learning rate at that step {lr:.3g})",
                    hint=hint + (" or turn off mixed precision" if self.amp else ""),
                )
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if self.tc.gradient_clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), self.tc.gradient_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            self.step += 1
            n = len(batch)
            extra = {k: float(v) for k, v in extra.items()}
            sums.add(ce_value, correct, n, extra, lr)
            ctx.batches_done = b + 1
            self.cbs.on_batch_end(
                ctx, b, {"loss": ce_value, "acc": correct / n, "lr": lr, "batch_size": n, **extra}
            )
            last_batch = b + 1 == self.steps
            if ctx.stop_requested and not last_batch:
                sums.seconds += time.perf_counter() - tick
                self._save_last(self._state(epoch - 1, b + 1, sums))
                raise _Stopped
            if ctx.pause_requested and not last_batch:
                sums.seconds += time.perf_counter() - tick
                self._pause(self._state(epoch - 1, b + 1, sums))
                tick = time.perf_counter()
                if ctx.stop_requested:
                    raise _Stopped
        val_loss, val_acc, val_extra = self._validate(epoch)
        seconds = sums.seconds + time.perf_counter() - tick
        extra = {k: v / sums.count for k, v in sums.extra.items()}
        extra.update({f"val_{k}": v for k, v in val_extra.items()})
        return EpochMetrics(
            epoch=epoch,
            total_epochs=self.tc.epochs,
            train_loss=sums.loss / sums.count,
            train_acc=sums.correct / sums.count,
            val_loss=val_loss,
            val_acc=val_acc,
            lr=sums.lr,
            seconds=seconds,
            extra=extra,
        )

    @torch.no_grad()
    def _validate(self, epoch: int) -> tuple[float, float, dict[str, float]]:
        split = self.data.val
        if len(split) == 0:
            return math.nan, math.nan, {}
        self.model.eval()
        loss_sum, correct, count = 0.0, 0.0, 0
        extra: dict[str, float] = {}
        for b, batch in enumerate(iterate_batches(split, self.tc.batch_size)):
            self.position = (epoch, b)
            batch = batch.to(self.device)
            with self._autocast():
                logits = self._forward(batch)
                loss = F.cross_entropy(logits.float(), batch.y, reduction="sum")
                if self.aux:
                    _, logged = self.model.auxiliary_loss(batch, logits)
                    for key, value in logged.items():
                        extra[key] = extra.get(key, 0.0) + float(value) * len(batch)
            loss_sum += float(loss)
            correct += float((logits.argmax(dim=1) == batch.y).sum())
            count += len(batch)
        return loss_sum / count, correct / count, {k: v / count for k, v in extra.items()}


def _cross_entropy(logits: torch.Tensor, y: torch.Tensor, mix: Mixup | None) -> torch.Tensor:
    logits = logits.float()
    if mix is None:
        return F.cross_entropy(logits, y)
    return mix.lam * F.cross_entropy(logits, y) + (1.0 - mix.lam) * F.cross_entropy(logits, mix.y_b)


def _step_numbers(
    loss: torch.Tensor, ce: torch.Tensor, logits: torch.Tensor, y: torch.Tensor, mix: Mixup | None
) -> tuple[float, float, float]:
    """(loss, cross-entropy, correct windows; mixup-weighted) of one step, in one transfer."""
    pred = logits.detach().argmax(dim=1)
    parts = [loss.detach().float(), ce.detach().float(), (pred == y).sum().float()]
    if mix is not None:
        parts.append((pred == mix.y_b).sum().float())
    values = torch.stack(parts).tolist()
    correct = values[2] if mix is None else mix.lam * values[2] + (1.0 - mix.lam) * values[3]
    return values[0], values[1], correct


def _optimizer(model: nn.Module, tc: Any) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainingError("the model has no trainable parameters")
    if tc.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=tc.learning_rate, momentum=tc.momentum, weight_decay=tc.weight_decay
        )
    if tc.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=tc.learning_rate, weight_decay=tc.weight_decay)
    return torch.optim.Adam(params, lr=tc.learning_rate, weight_decay=tc.weight_decay)


def _init_from_experiment(model: nn.Module, experiment_id: int, store: Any, spec: InputSpec) -> None:
    """Load the weights of a stored experiment's ``best.pt`` into `model` (the "pretrained" option).

    Every tensor must match in name and shape, except an output layer whose only difference is the
    number of classes: it keeps its fresh initialisation.
    """
    workspace = store.workspace if store is not None else workspace_root()
    path = ExperimentFolder.of(experiment_id, workspace).best_checkpoint
    field_name = "model.params.init_from_experiment"
    if not path.is_file():
        raise TrainingError(
            f"{field_name}: experiment {experiment_id} has no best checkpoint ({path} does not exist)",
            hint="choose a completed experiment of the same family",
        )
    source = load_checkpoint(path)["model"]
    target = model.state_dict()
    missing = sorted(set(target) - set(source))
    unexpected = sorted(set(source) - set(target))
    if missing or unexpected:
        shown = ", ".join((missing + unexpected)[:5])
        raise TrainingError(
            f"{field_name}: experiment {experiment_id}'s model has a different architecture "
            f"({len(missing)} tensor(s) missing, {len(unexpected)} unexpected: {shown})",
            hint="use the same depth and width as that experiment",
        )
    load: dict[str, torch.Tensor] = {}
    for name, tensor in target.items():
        stored = source[name]
        if stored.shape == tensor.shape:
            load[name] = stored
        elif _is_class_head(stored.shape, tensor.shape, spec.n_classes):
            load[name] = tensor  # a new class count: keep the fresh output layer
        else:
            raise TrainingError(
                f"{field_name}: tensor {name!r} of experiment {experiment_id} has shape "
                f"{tuple(stored.shape)}, this model needs {tuple(tensor.shape)}",
                hint="use the same depth and width as that experiment",
            )
    model.load_state_dict(load)


def _is_class_head(stored: torch.Size, wanted: torch.Size, n_classes: int) -> bool:
    """An output layer's weight or bias: only the first (class) dimension differs."""
    return (
        len(stored) == len(wanted)
        and len(wanted) in (1, 2)
        and wanted[0] == n_classes
        and stored[1:] == wanted[1:]
    )


def model_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights in a checkpoint (safe loading), e.g. of ``best.pt`` for evaluation."""
    return load_checkpoint(path)["model"]


__all__ = ["CosineWithWarmup", "FitResult", "fit", "model_state_dict"]
