"""Checkpoints: safe loading only, atomic writes, and the keep-last / keep-best policy."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from bearing_workbench.store.artifacts import epoch_checkpoint_name
from bearing_workbench.training.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CheckpointPolicy,
    latest_checkpoint,
    load_checkpoint,
    resume_point,
    save_checkpoint,
)
from bearing_workbench.training.errors import CheckpointError
from bearing_workbench.training.seeding import global_rng_state, numpy_generator_state


def _state(epoch: int = 1, batch: int = 0, **extra: object) -> dict[str, object]:
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "progress": {"epoch": epoch, "batch": batch, "step": 4 * epoch + batch, "partial": None},
        "model": {"w": torch.full((2, 3), float(epoch))},
        **extra,
    }


class Payload:
    """Unpickling this object would create a marker file: a stand-in for arbitrary code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_round_trip_of_every_kind_of_state(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rng.random(3)
    state = _state(
        rng={"global": global_rng_state(), "numpy": numpy_generator_state(rng)},
        optimizer=torch.optim.Adam([torch.nn.Parameter(torch.ones(2))]).state_dict(),
        history=[{"epoch": 1, "val_loss": float("nan"), "extra": {}}],
        config='{"model": {"family": "cnn1d"}}',
    )
    path = save_checkpoint(tmp_path / "a.pt", state)
    loaded = load_checkpoint(path)
    assert loaded["rng"]["numpy"] == numpy_generator_state(rng)  # 128-bit integers survive
    assert loaded["rng"]["global"]["python"] == random.getstate()
    assert torch.equal(loaded["model"]["w"], state["model"]["w"])
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert np.isnan(loaded["history"][0]["val_loss"])


@pytest.mark.parametrize(
    "bad, where",
    [
        (np.zeros(3), "checkpoint['model']['w']"),
        (Path("x"), "checkpoint['model']['w']"),
        ({1.5j: 1}, "checkpoint['model']['w']"),
    ],
)
def test_save_refuses_values_the_safe_loader_would_refuse(tmp_path: Path, bad: object, where: str) -> None:
    state = _state()
    state["model"] = {"w": bad}
    with pytest.raises(TypeError) as info:
        save_checkpoint(tmp_path / "a.pt", state)
    assert where in str(info.value)
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_checkpoint(tmp_path / "a.pt", _state(epoch=1))

    def broken_save(obj: object, f: object) -> None:
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, _state(epoch=2))
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]
    assert load_checkpoint(path)["progress"]["epoch"] == 1


def test_a_checkpoint_carrying_a_python_object_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    evil = tmp_path / "evil.pt"
    state = _state()
    state["model"] = {"w": Payload(marker)}
    torch.save(state, evil)

    with pytest.raises(CheckpointError) as info:
        load_checkpoint(evil)
    message = str(info.value)
    assert f"refusing to load {evil}" in message and "contains Python objects" in message
    assert "weights_only` set to `False`" not in message  # no advice to use the unsafe loader
    assert not marker.exists()

    # The control: the payload is real; an unsafe loader would have run it (never do this in code).
    torch.load(evil, weights_only=False)
    assert marker.exists()


def test_unreadable_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(os.urandom(256))
    with pytest.raises(CheckpointError, match="junk.pt is not a readable checkpoint"):
        load_checkpoint(junk)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(1)}}, foreign)
    with pytest.raises(CheckpointError, match="not a bearing-workbench-checkpoint file"):
        load_checkpoint(foreign)
    newer = tmp_path / "newer.pt"
    torch.save({**_state(), "format_version": CHECKPOINT_VERSION + 1}, newer)
    with pytest.raises(CheckpointError, match="newer than this workbench reads"):
        load_checkpoint(newer)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_every_epoch_keeps_the_last_n_and_the_best_forever(tmp_path: Path) -> None:
    policy = CheckpointPolicy(tmp_path, "every_epoch", keep_last=2)
    improved_at = {1, 2}
    written = []
    for epoch in range(1, 6):
        written.append(policy.after_epoch(_state(epoch), epoch, epoch in improved_at))
    assert _names(tmp_path) == ["best.pt", "epoch-0004.pt", "epoch-0005.pt", "last.pt"]
    assert load_checkpoint(tmp_path / "best.pt")["progress"]["epoch"] == 2
    assert load_checkpoint(tmp_path / "last.pt")["progress"]["epoch"] == 5  # the resume point
    assert [(p.name, best) for p, best in written[1]] == [("epoch-0002.pt", False), ("best.pt", True)]
    assert [(p.name, best) for p, best in written[2]] == [("epoch-0003.pt", False)]


def test_best_only_writes_only_improving_epochs(tmp_path: Path) -> None:
    policy = CheckpointPolicy(tmp_path, "best_only", keep_last=1)
    for epoch, improved in zip(range(1, 6), [True, False, True, False, False], strict=True):
        policy.after_epoch(_state(epoch), epoch, improved)
    assert _names(tmp_path) == ["best.pt", "epoch-0003.pt", "last.pt"]
    assert load_checkpoint(tmp_path / "best.pt")["progress"]["epoch"] == 3


def test_best_only_resumes_from_the_last_epoch_not_the_best(tmp_path: Path) -> None:
    """Issue 14: the policy governs what is kept, not what a resume reads. Best at epoch 3, last at 5:
    a crash after epoch 5 resumes after epoch 5 (from best.pt it would train epochs 4 and 5 again)."""
    policy = CheckpointPolicy(tmp_path, "best_only", keep_last=1)
    for epoch, improved in zip(range(1, 6), [True, False, True, False, False], strict=True):
        policy.after_epoch(_state(epoch), epoch, improved)
    point = resume_point(tmp_path)
    assert point is not None and point.path == tmp_path / "last.pt"
    assert (point.epochs_done, point.batches_done, point.where()) == (5, 0, "after epoch 5")
    assert latest_checkpoint(tmp_path) == tmp_path / "last.pt"


def test_policy_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="training.checkpoint.policy"):
        CheckpointPolicy(tmp_path, "sometimes", keep_last=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="keep_last"):
        CheckpointPolicy(tmp_path, "best_only", keep_last=0)


def test_latest_checkpoint_is_the_most_advanced(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
    policy = CheckpointPolicy(tmp_path, "every_epoch", keep_last=3)
    policy.after_epoch(_state(1), 1, True)
    policy.after_epoch(_state(2), 2, False)
    (tmp_path / "last.pt").unlink()  # a folder written before last.pt followed every epoch
    assert latest_checkpoint(tmp_path) == tmp_path / epoch_checkpoint_name(2)
    policy.save_last(_state(epoch=2, batch=3))  # stopped in the middle of epoch 3
    point = resume_point(tmp_path)
    assert point is not None and point.path == tmp_path / "last.pt"
    # 2 epochs done, 3 batches of the third: the checkpoint is "during epoch 3", where a resume goes on
    assert point.where() == "during epoch 3 (batch 3 done)"
    policy.after_epoch(_state(3), 3, False)
    assert resume_point(tmp_path).where() == "after epoch 3"
    (tmp_path / "last.pt").unlink()
    assert latest_checkpoint(tmp_path) == tmp_path / epoch_checkpoint_name(3)
