"""The training loop: hook order, determinism and exact resumption, schedule, stopping, failures."""

from __future__ import annotations

import io
import math
import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from bearing_workbench.store import Store, experiment_dir
from bearing_workbench.training.callbacks import Callback, EpochMetrics, FitContext, ProgressBar
from bearing_workbench.training.checkpoint import load_checkpoint
from bearing_workbench.training.errors import CheckpointError, TrainingError
from bearing_workbench.training.loop import FitResult, fit

from .conftest import FakeEstimator, TinyAuxNet, make_config

pytestmark = pytest.mark.usefixtures("tiny_family")

AUGMENT = {
    "time_shift": 0.1,
    "amplitude_scale": [0.8, 1.25],
    "gaussian_noise_snr_db": 20.0,
    "mixup_alpha": 0.4,
}


def _numbers(history: list[EpochMetrics]) -> list[dict[str, Any]]:
    """Every metric except wall time, which is the only thing allowed to differ between runs."""
    return [{k: v for k, v in m.as_dict().items() if k != "seconds"} for m in history]


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class Recorder(Callback):
    """Records every hook call as a tuple."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.batch_logs: list[dict[str, float]] = []

    def on_fit_start(self, ctx: FitContext) -> None:
        self.calls.append(("fit_start",))

    def on_epoch_start(self, ctx: FitContext, epoch: int) -> None:
        self.calls.append(("epoch_start", epoch))

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        self.calls.append(("batch_end", ctx.epoch, batch_index))
        self.batch_logs.append(dict(logs))

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        assert ctx.history[-1] is metrics
        self.calls.append(("epoch_end", metrics.epoch))

    def on_checkpoint(self, ctx: FitContext, path: Path, is_best: bool) -> None:
        self.calls.append(("checkpoint", path.name, is_best))

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        self.calls.append(("fit_end",))

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        self.calls.append(("progress", fraction, message))


class StopAt(Callback):
    """Requests a stop at (epoch, batch index), or at the end of `epoch` when batch is None."""

    def __init__(self, epoch: int, batch: int | None = None):
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        if self.batch is not None and (ctx.epoch, batch_index) == (self.epoch, self.batch):
            ctx.request_stop("user pressed stop")

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        if self.batch is None and metrics.epoch == self.epoch:
            ctx.request_stop("user pressed stop")


def test_hooks_are_called_in_the_documented_order(tiny_dataset: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    result = fit(make_config(tiny_dataset, epochs=3), callbacks=[recorder], out_dir=tmp_path, device="cpu")
    expected: list[tuple[Any, ...]] = [("fit_start",)]
    best = None
    for m in result.history:
        expected.append(("epoch_start", m.epoch))
        expected += [("batch_end", m.epoch, b) for b in range(4)]  # 60 windows / 16 = 4 steps
        expected.append(("epoch_end", m.epoch))
        expected.append(("checkpoint", f"epoch-{m.epoch:04d}.pt", False))
        if best is None or m.val_loss < best:
            best = m.val_loss
            expected.append(("checkpoint", "best.pt", True))
    expected.append(("fit_end",))
    assert recorder.calls == expected
    assert len(result.history) == 3 and not result.stopped_early and result.stop_reason is None


def test_two_runs_with_the_same_seed_are_identical(tiny_dataset: Path, tmp_path: Path) -> None:
    config = make_config(tiny_dataset, epochs=2, augmentation=AUGMENT)
    a = fit(config, out_dir=tmp_path / "a", device="cpu")
    b = fit(config, out_dir=tmp_path / "b", device="cpu")
    assert _numbers(a.history) == _numbers(b.history)
    assert _same_weights(_weights(a.model), _weights(b.model))
    other = fit(make_config(tiny_dataset, epochs=2, augmentation=AUGMENT, seed=1), out_dir=tmp_path / "c")
    assert _numbers(other.history) != _numbers(a.history)


@pytest.mark.parametrize("stop_batch", [None, 1], ids=["at-epoch-end", "mid-epoch"])
def test_stop_and_resume_reproduces_the_uninterrupted_run(
    tiny_dataset: Path, tmp_path: Path, stop_batch: int | None
) -> None:
    """4 epochs straight versus stopped in epoch 2 and resumed: the same floats, the same weights."""
    config = make_config(tiny_dataset, epochs=4, augmentation=AUGMENT, optimizer="adamw", weight_decay=0.01)
    straight = fit(config, out_dir=tmp_path / "straight", device="cpu")
    straight_final = load_checkpoint(tmp_path / "straight" / "epoch-0004.pt")["model"]

    first = fit(config, callbacks=[StopAt(2, stop_batch)], out_dir=tmp_path / "resumed", device="cpu")
    assert first.stopped_early and first.stop_requested and first.stop_reason == "user pressed stop"
    assert first.last_checkpoint == tmp_path / "resumed" / "last.pt"
    assert len(first.history) == (2 if stop_batch is None else 1)

    recorder = Recorder()
    second = fit(
        config,
        callbacks=[recorder],
        out_dir=tmp_path / "resumed",
        device="cpu",
        resume_from=first.last_checkpoint,
    )
    assert _numbers(second.history) == _numbers(straight.history)
    resumed_final = load_checkpoint(tmp_path / "resumed" / "epoch-0004.pt")["model"]
    assert _same_weights(resumed_final, straight_final)
    assert second.best_epoch == straight.best_epoch and second.best_metric == straight.best_metric
    # The resumed run starts where the first one stopped.
    first_batch = next(c for c in recorder.calls if c[0] == "batch_end")
    assert first_batch == (("batch_end", 3, 0) if stop_batch is None else ("batch_end", 2, stop_batch + 1))


def test_resume_refuses_a_changed_config(tiny_dataset: Path, tmp_path: Path) -> None:
    config = make_config(tiny_dataset, epochs=3)
    first = fit(config, callbacks=[StopAt(1)], out_dir=tmp_path, device="cpu")
    changed = make_config(tiny_dataset, epochs=3, learning_rate=1e-2)
    with pytest.raises(CheckpointError, match=r"different config \(training: learning_rate\)"):
        fit(changed, out_dir=tmp_path, device="cpu", resume_from=first.last_checkpoint)


def test_pause_checkpoints_waits_and_continues_unchanged(tiny_dataset: Path, tmp_path: Path) -> None:
    config = make_config(tiny_dataset, epochs=2)

    class PauseOnce(Recorder):
        def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
            super().on_batch_end(ctx, batch_index, logs)
            if (ctx.epoch, batch_index) == (1, 1):
                ctx.request_pause()
                threading.Timer(0.2, ctx.resume).start()  # e.g. the runner's control thread

    paused = PauseOnce()
    result = fit(config, callbacks=[paused], out_dir=tmp_path / "paused", device="cpu")
    plain = fit(config, out_dir=tmp_path / "plain", device="cpu")
    i = paused.calls.index(("batch_end", 1, 1))
    assert paused.calls[i + 1] == ("checkpoint", "last.pt", False)  # saved before waiting
    assert paused.calls[i + 2] == ("batch_end", 1, 2)
    assert _numbers(result.history) == _numbers(plain.history)
    assert not result.stopped_early


def test_stop_while_paused_ends_the_run(tiny_dataset: Path, tmp_path: Path) -> None:
    class PauseThenStop(Callback):
        def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
            ctx.request_pause()
            threading.Timer(0.05, ctx.request_stop, args=("stopped while paused",)).start()

    result = fit(make_config(tiny_dataset, epochs=3), callbacks=[PauseThenStop()], out_dir=tmp_path)
    assert len(result.history) == 1 and result.stop_reason == "stopped while paused"
    assert load_checkpoint(tmp_path / "last.pt")["progress"]["epoch"] == 1


def test_cosine_schedule_with_warmup_per_step(tiny_dataset: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    fit(make_config(tiny_dataset, epochs=3), callbacks=[recorder], out_dir=tmp_path, device="cpu")
    lrs = [log["lr"] for log in recorder.batch_logs]
    assert len(lrs) == 12
    assert lrs[:4] == pytest.approx([3e-3 * k / 4 for k in (1, 2, 3, 4)])  # one warm-up epoch
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:], strict=False))  # then decays
    assert lrs[-1] == pytest.approx(1e-4)  # min_lr at the last step

    flat = Recorder()
    fit(
        make_config(tiny_dataset, epochs=2, scheduler={"name": "none"}),
        callbacks=[flat],
        out_dir=tmp_path / "flat",
    )
    assert {log["lr"] for log in flat.batch_logs} == {3e-3}


@pytest.mark.parametrize(
    "name, kind", [("adam", torch.optim.Adam), ("sgd", torch.optim.SGD), ("adamw", torch.optim.AdamW)]
)
def test_optimizers(tiny_dataset: Path, tmp_path: Path, name: str, kind: type) -> None:
    seen: dict[str, Any] = {}

    class Look(Callback):
        def on_fit_start(self, ctx: FitContext) -> None:
            seen["optimizer"] = ctx.optimizer

    config = make_config(tiny_dataset, epochs=1, optimizer=name, momentum=0.5, weight_decay=0.01)
    fit(config, callbacks=[Look()], out_dir=tmp_path, device="cpu")
    optimizer = seen["optimizer"]
    assert type(optimizer) is kind
    group = optimizer.param_groups[0]
    assert group["weight_decay"] == 0.01 and (name != "sgd" or group["momentum"] == 0.5)


def test_training_lowers_the_loss(tiny_dataset: Path, tmp_path: Path) -> None:
    config = make_config(tiny_dataset, epochs=6, learning_rate=1e-2, scheduler={"name": "none"})
    result = fit(config, out_dir=tmp_path, device="cpu")
    assert result.history[-1].train_loss < 0.8 * result.history[0].train_loss


def test_gradient_clipping_bounds_the_gradient_norm(tiny_dataset: Path, tmp_path: Path) -> None:
    norms: dict[str, list[float]] = {"clipped": [], "free": []}

    def probe(key: str) -> Callback:
        class Norm(Callback):
            def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
                grads = [p.grad.norm() for p in ctx.model.parameters() if p.grad is not None]
                norms[key].append(float(torch.linalg.vector_norm(torch.stack(grads))))

        return Norm()

    fit(
        make_config(tiny_dataset, epochs=1, gradient_clip=0.01),
        callbacks=[probe("clipped")],
        out_dir=tmp_path / "a",
    )
    fit(make_config(tiny_dataset, epochs=1), callbacks=[probe("free")], out_dir=tmp_path / "b")
    assert max(norms["clipped"]) <= 0.01 * 1.001
    assert max(norms["free"]) > 0.01


def test_early_stopping_on_patience(tiny_dataset: Path, tmp_path: Path) -> None:
    config = make_config(
        tiny_dataset, epochs=5, early_stopping={"enabled": True, "patience": 2, "min_delta": 1.0}
    )
    result = fit(config, out_dir=tmp_path, device="cpu")
    # Epoch 1 sets the best; no later epoch improves val_loss by 1.0, so epochs 2 and 3 use up patience.
    assert len(result.history) == 3 and result.stopped_early and not result.stop_requested
    assert result.stop_reason is not None and result.stop_reason.startswith("early stopping: val_loss")
    assert result.best_epoch == 1 and result.best_metric == result.history[0].val_loss
    assert load_checkpoint(result.best_checkpoint)["progress"]["epoch"] == 1


def test_monitor_val_accuracy_and_best_only_policy(tiny_dataset: Path, tmp_path: Path) -> None:
    config = make_config(
        tiny_dataset,
        epochs=4,
        monitor="val_accuracy",
        learning_rate=1e-2,
        checkpoint={"policy": "best_only", "keep_last": 5},
    )
    result = fit(config, out_dir=tmp_path, device="cpu")
    accs = [m.val_acc for m in result.history]
    improving = [i + 1 for i, a in enumerate(accs) if a > max(accs[:i], default=-1.0)]
    assert sorted(p.name for p in tmp_path.glob("epoch-*.pt")) == [f"epoch-{e:04d}.pt" for e in improving]
    assert result.best_epoch == improving[-1] and result.best_metric == max(accs)
    # The model handed back holds the best epoch's weights.
    best = load_checkpoint(result.best_checkpoint)["model"]
    assert _same_weights(_weights(result.model), best)


def test_auxiliary_loss_and_prepare(tiny_dataset: Path, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    class Look(Callback):
        def on_fit_start(self, ctx: FitContext) -> None:
            seen["model"] = ctx.model

    result = fit(
        make_config(tiny_dataset, epochs=2, params={"aux": True}), callbacks=[Look()], out_dir=tmp_path
    )
    model = seen["model"]
    assert isinstance(model, TinyAuxNet) and len(model.prepared) == 1
    prepared = model.prepared[0]
    assert prepared.signals.shape == (60, 256) and prepared.meta.shape == (60, 5)
    assert prepared.spec == result.spec
    for m in result.history:
        assert set(m.extra) == {"aux_penalty", "rms_seen", "val_aux_penalty", "val_rms_seen"}
        assert m.extra["aux_penalty"] > 0 and m.extra["val_aux_penalty"] > 0
        assert m.extra["rms_seen"] == pytest.approx(float(model.train_rms))
    plain = fit(make_config(tiny_dataset, epochs=2), out_dir=tmp_path / "plain")
    assert _numbers(plain.history) != [dict(m, extra={}) for m in _numbers(result.history)]


def test_nan_loss_fails_with_a_learning_rate_hint(tiny_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as info:
        fit(make_config(tiny_dataset, params={"fault": "nan"}), out_dir=tmp_path, device="cpu")
    assert info.value.hint == "lower the learning rate (current 0.003)"
    assert "epoch 1, batch 2" in info.value.message and "nan" in info.value.message


@pytest.mark.parametrize("fault", ["cuda_oom", "cpu_oom"])
def test_out_of_memory_fails_with_a_batch_size_hint(tiny_dataset: Path, tmp_path: Path, fault: str) -> None:
    with pytest.raises(TrainingError) as info:
        fit(make_config(tiny_dataset, params={"fault": fault}), out_dir=tmp_path, device="cpu")
    assert info.value.hint == "reduce batch size (current 16)"
    assert "out of memory" in info.value.message and "epoch 1, batch 2" in info.value.message


def test_other_errors_pass_through_unchanged(tiny_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="mat1 and mat2") as info:
        fit(make_config(tiny_dataset, params={"fault": "other"}), out_dir=tmp_path, device="cpu")
    assert not isinstance(info.value, TrainingError)


def test_deterministic_mode_is_restored_after_fit(tiny_dataset: Path, tmp_path: Path) -> None:
    assert not torch.are_deterministic_algorithms_enabled()
    fit(make_config(tiny_dataset, epochs=1), out_dir=tmp_path, device="cpu")
    assert not torch.are_deterministic_algorithms_enabled()


def test_mixed_precision_is_ignored_on_cpu(tiny_dataset: Path, tmp_path: Path) -> None:
    on = fit(make_config(tiny_dataset, epochs=1, mixed_precision=True), out_dir=tmp_path / "a", device="cpu")
    off = fit(make_config(tiny_dataset, epochs=1), out_dir=tmp_path / "b", device="cpu")
    assert _numbers(on.history) == _numbers(off.history)


def test_init_from_a_stored_experiment(tiny_dataset: Path, tiny_dataset_4: Path, tmp_path: Path) -> None:
    store = Store(workspace=tmp_path / "ws")
    try:
        source_dir = experiment_dir(7, store.workspace, create=True)
        fit(make_config(tiny_dataset, epochs=1), out_dir=source_dir, store=store, device="cpu")
        stored = load_checkpoint(source_dir / "best.pt")["model"]
        seen: dict[str, dict[str, torch.Tensor]] = {}

        class Look(Callback):
            def on_fit_start(self, ctx: FitContext) -> None:
                seen["start"] = _weights(ctx.model)

        params = {"init_from_experiment": 7}
        fit(
            make_config(tiny_dataset, epochs=1, params=params),
            callbacks=[Look()],
            out_dir=tmp_path / "a",
            store=store,
        )
        assert _same_weights(seen["start"], stored)

        # Four classes instead of three: everything but the output layer is taken over.
        fit(
            make_config(tiny_dataset_4, epochs=1, params=params),
            callbacks=[Look()],
            out_dir=tmp_path / "b",
            store=store,
        )
        start = seen["start"]
        assert torch.equal(start["conv.weight"], stored["conv.weight"])
        assert start["head.weight"].shape[0] == 4 and start["head.bias"].shape == (4,)

        with pytest.raises(TrainingError, match=r"tensor 'conv\.weight' of experiment 7 has shape"):
            fit(
                make_config(tiny_dataset, params={**params, "channels": 4}),
                out_dir=tmp_path / "c",
                store=store,
            )
        with pytest.raises(TrainingError, match="experiment 8 has no best checkpoint") as info:
            fit(
                make_config(tiny_dataset, params={"init_from_experiment": 8}),
                out_dir=tmp_path / "d",
                store=store,
            )
        assert "init_from_experiment" in info.value.message
    finally:
        store.dispose()


def test_progress_bar_reports_steps_and_epochs(tiny_dataset: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    fit(make_config(tiny_dataset, epochs=2), callbacks=[ProgressBar(file=out)], out_dir=tmp_path)
    text = out.getvalue()
    assert "epoch 2/2" in text and "8/8" in text and "val_acc" in text


def test_non_epoch_families_follow_the_same_protocol(tiny_dataset: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    out = io.StringIO()
    config = make_config(tiny_dataset, family="tiny_estimator")
    result = fit(config, callbacks=[recorder, ProgressBar(file=out)], out_dir=tmp_path)
    assert recorder.calls == [
        ("fit_start",),
        ("progress", 0.5, "counting classes"),
        ("progress", 1.0, "done"),
        ("fit_end",),
    ]
    assert isinstance(result.model, FakeEstimator) and result.history == [] and result.best_checkpoint is None
    proba = result.model.predict_proba(result.test)
    assert proba.shape == (len(result.test), 3)
    assert "100/100%" in out.getvalue()


def test_without_a_validation_split_the_training_metric_chooses_the_best(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    result = fit(make_config(tiny_dataset, epochs=2, split=(85.0, 0.0, 15.0)), out_dir=tmp_path)
    assert len(result.val) == 0 and result.monitor == "train_loss"
    assert all(math.isnan(m.val_loss) and math.isnan(m.val_acc) for m in result.history)
    losses = [m.train_loss for m in result.history]
    assert result.best_metric == min(losses) and result.best_epoch == losses.index(min(losses)) + 1
