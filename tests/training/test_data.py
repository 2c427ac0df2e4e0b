"""Training data: record-level splits, windows after the split, metadata, batches, augmentation."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from bearing_workbench.config import AugmentationConfig, ExperimentConfig
from bearing_workbench.data import Dataset, check_no_leakage, split_records, write_dataset
from bearing_workbench.models.inputs import PHYSICS_META
from bearing_workbench.store import Store
from bearing_workbench.training import data as training_data
from bearing_workbench.training.batch import Batch
from bearing_workbench.training.data import (
    Augmenter,
    epoch_order,
    iterate_batches,
    load_data,
    steps_per_epoch,
)
from bearing_workbench.training.errors import TrainingDataError

from .conftest import WINDOW, make_config

pytestmark = pytest.mark.usefixtures("tiny_family")


def _stored_seed(path: Path) -> int:
    with h5py.File(path, "r") as f:
        return int(f["splits"].attrs["seed"])


def test_stored_split_is_used_when_percentages_match(tiny_dataset: Path) -> None:
    data = load_data(make_config(tiny_dataset))
    with Dataset(tiny_dataset) as ds:
        stored = ds.splits()
    seed = _stored_seed(tiny_dataset)
    assert data.split_source == "stored" and data.split_seed == seed
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(data[name].records, np.sort(stored[name]))


def test_other_percentages_recompute_the_split_with_the_stored_seed(tiny_dataset: Path) -> None:
    data = load_data(make_config(tiny_dataset, split=(34.0, 33.0, 33.0)))
    with Dataset(tiny_dataset) as ds:
        labels = ds.labels
    seed = _stored_seed(tiny_dataset)
    expected = split_records(labels, (0.34, 0.33, 0.33), seed=seed)
    assert data.split_source == "recomputed" and data.split_seed == seed
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(data[name].records, expected[name])
    check_no_leakage({name: data[name].window_record_ids for name in ("train", "val", "test")})


def test_a_file_without_split_uses_the_training_seed(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 4)
    path = write_dataset(
        tmp_path / "plain.h5",
        rng.normal(size=(8, 300)).astype(np.float32),
        labels,
        fs=1000.0,
        class_names=("a", "b"),
    )
    config = make_config(path, split=(50.0, 25.0, 25.0), window=100, seed=11)
    data = load_data(config)
    expected = split_records(labels, (0.5, 0.25, 0.25), seed=11)
    assert data.split_source == "recomputed" and data.split_seed == 11
    np.testing.assert_array_equal(data.train.records, expected["train"])
    # No PHYSICS_META columns in this file: the metadata has zero columns, not missing rows.
    assert data.spec.meta_names == () and data.train.meta.shape == (len(data.train), 0)


def test_windows_are_cut_after_the_split_and_map_back_to_records(tiny_dataset: Path) -> None:
    data = load_data(make_config(tiny_dataset, window=WINDOW))
    with Dataset(tiny_dataset) as ds:
        signals = ds.signals()
        n_samples = ds.n_samples
        record_ids = ds.record_ids
        labels = ds.labels
    per_record = n_samples // WINDOW
    train = data.train
    assert train.signals.shape == (train.n_records * per_record, WINDOW)
    assert train.signals.dtype == np.float32 and train.labels.dtype == np.int64
    assert data.spec.length == WINDOW and data.spec.kind == "signal"
    assert data.spec.class_names == ("healthy", "imbalance", "misalignment") and data.spec.fs == 20480.0
    for w in (0, per_record - 1, per_record, len(train) - 1):
        record = train.records[train.record_index[w]]
        offset = (w % per_record) * WINDOW
        np.testing.assert_array_equal(train.signals[w], signals[record, offset : offset + WINDOW])
        assert train.labels[w] == labels[record]
        assert train.window_record_ids[w] == record_ids[record]
    np.testing.assert_array_equal(train.record_labels, labels[train.records])
    check_no_leakage({name: data[name].window_record_ids for name in ("train", "val", "test")})


def test_overlapping_windows_and_whole_records(tiny_dataset: Path) -> None:
    raw = make_config(tiny_dataset).model_dump()
    raw["data"]["window"] = {"length": 512, "hop": 256}
    data = load_data(ExperimentConfig.model_validate(raw))
    assert data.train.signals.shape[1] == 512
    assert len(data.train) == data.train.n_records * ((5120 - 512) // 256 + 1)
    whole = load_data(make_config(tiny_dataset, window=None))
    assert whole.spec.length == 5120 and whole.train.signals.shape == (whole.train.n_records, 5120)
    np.testing.assert_array_equal(whole.train.record_index, np.arange(whole.train.n_records))


def test_physics_metadata_columns_in_order_per_window(tiny_dataset: Path) -> None:
    data = load_data(make_config(tiny_dataset))
    with Dataset(tiny_dataset) as ds:
        columns = ds.metadata()
    assert data.spec.meta_names == PHYSICS_META
    val = data.val
    assert val.meta.shape == (len(val), len(PHYSICS_META)) and val.meta.dtype == np.float32
    rows = val.records[val.record_index]
    expected = np.stack([columns[name][rows] for name in PHYSICS_META], axis=1).astype(np.float32)
    np.testing.assert_array_equal(val.meta, expected)


def test_records_are_read_in_blocks(tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = load_data(make_config(tiny_dataset, window=None))
    calls: list[int] = []
    original = Dataset.signals

    def counting(self: Dataset, indices=None) -> np.ndarray:
        calls.append(len(indices))
        return original(self, indices)

    # Two records per read: a split of 3 records takes 2 reads, and the result is unchanged.
    monkeypatch.setattr(training_data, "_READ_BLOCK_BYTES", 2 * 4 * 5120)
    monkeypatch.setattr(Dataset, "signals", counting)
    blocked = load_data(make_config(tiny_dataset, window=None), splits=("train",))
    assert calls == [2, 1]
    np.testing.assert_array_equal(blocked.train.signals, whole.train.signals)
    assert len(blocked.val) == 0 and len(blocked.test) == 0  # not asked for, not read


def test_dataset_name_resolves_through_the_store(tiny_dataset: Path, tmp_path: Path) -> None:
    store = Store(workspace=tmp_path / "ws")
    try:
        store.add_dataset(
            "tiny",
            tiny_dataset,
            n_records=9,
            n_classes=3,
            class_names=["healthy", "imbalance", "misalignment"],
            fs=20480.0,
            n_samples=5120,
        )
        data = load_data(make_config(Path("tiny")), store=store)
        assert data.dataset_path == tiny_dataset and len(data.train) > 0
        with pytest.raises(TrainingDataError, match="data.dataset: no dataset of that name"):
            load_data(make_config(Path("missing-name")), store=store)
    finally:
        store.dispose()


def test_bad_window_and_bad_path_name_the_field(tiny_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match=r"data\.window\.length: 8192 samples is longer"):
        load_data(make_config(tiny_dataset, window=8192))
    with pytest.raises(TrainingDataError, match=r"data\.dataset: no file at"):
        load_data(make_config(tmp_path / "nope.h5"))


# -- batches -----------------------------------------------------------------------------------------


def test_epoch_order_depends_on_seed_and_epoch_only() -> None:
    first = epoch_order(50, seed=3, epoch=1)
    assert sorted(first.tolist()) == list(range(50))
    np.testing.assert_array_equal(first, epoch_order(50, seed=3, epoch=1))
    assert not np.array_equal(first, epoch_order(50, seed=3, epoch=2))
    assert not np.array_equal(first, epoch_order(50, seed=4, epoch=1))


def test_batches_cover_every_window_once(tiny_dataset: Path) -> None:
    train = load_data(make_config(tiny_dataset)).train
    order = epoch_order(len(train), seed=0, epoch=1)
    batches = list(iterate_batches(train, 16, order=order))
    assert [len(b) for b in batches] == [16, 16, 16, 12]
    seen = torch.cat([b.index for b in batches]).numpy()
    np.testing.assert_array_equal(seen, order)
    b = batches[1]
    assert isinstance(b, Batch) and b.x.dtype == torch.float32 and b.y.dtype == torch.int64
    np.testing.assert_array_equal(b.x.numpy(), train.signals[b.index.numpy()])
    np.testing.assert_array_equal(b.meta.numpy(), train.meta[b.index.numpy()])
    # Resuming mid-epoch: batches 2.. of the same order.
    later = list(iterate_batches(train, 16, order=order, start=2))
    assert torch.equal(later[0].index, batches[2].index) and len(later) == 2


def test_steps_per_epoch_leaves_out_a_lone_last_window() -> None:
    assert steps_per_epoch(60, 16) == 4
    assert steps_per_epoch(33, 16) == 2  # batch norm cannot train on a batch of one
    assert steps_per_epoch(33, 16, drop_single=False) == 3
    assert steps_per_epoch(1, 16) == 1


# -- augmentation ------------------------------------------------------------------------------------


def _batch(n: int = 8, length: int = 1024, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(
        x=torch.randn((n, length), generator=g),
        y=torch.arange(n) % 3,
        meta=torch.rand((n, 2), generator=g),
        index=torch.arange(n),
    )


def test_no_augmentation_returns_the_batch_unchanged() -> None:
    batch = _batch()
    out, mix = Augmenter(AugmentationConfig(), seed=0)(batch)
    assert out is batch and mix is None


def test_time_shift_is_a_circular_roll_within_the_limit() -> None:
    batch = _batch(length=200)
    out, _ = Augmenter(AugmentationConfig(time_shift=0.1), seed=1)(batch)
    shifts = []
    for row, shifted in zip(batch.x, out.x, strict=True):
        found = [s for s in range(-20, 21) if torch.equal(torch.roll(row, s), shifted)]
        assert len(found) == 1
        shifts.append(found[0])
    assert len(set(shifts)) > 1  # each window draws its own shift


def test_amplitude_scale_is_a_gain_in_range() -> None:
    batch = _batch()
    out, _ = Augmenter(AugmentationConfig(amplitude_scale=(0.5, 2.0)), seed=2)(batch)
    gains = (out.x / batch.x).median(dim=1).values
    assert torch.allclose(out.x, batch.x * gains[:, None], rtol=1e-5, atol=1e-6)
    assert ((gains >= 0.5) & (gains <= 2.0)).all() and gains.std() > 0


@pytest.mark.parametrize("snr_db", [0.0, 20.0])
def test_noise_has_the_asked_snr_per_window(snr_db: float) -> None:
    batch = _batch(n=16, length=8192)
    batch.x[:8] *= 100.0  # windows of different power get noise of different power
    out, _ = Augmenter(AugmentationConfig(gaussian_noise_snr_db=snr_db), seed=3)(batch)
    noise = out.x - batch.x
    measured = 10 * torch.log10(batch.x.pow(2).mean(1) / noise.pow(2).mean(1))
    assert torch.allclose(measured, torch.full_like(measured, snr_db), atol=0.3)


def test_mixup_mixes_pairs_with_one_beta_weight() -> None:
    n = 8
    batch = Batch(
        x=torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 64),
        y=torch.arange(n),
        meta=torch.arange(n, dtype=torch.float32)[:, None],
        index=torch.arange(n),
    )
    out, mix = Augmenter(AugmentationConfig(mixup_alpha=0.4), seed=4)(batch)
    assert mix is not None and 0.0 < mix.lam < 1.0
    partner = (out.x[:, 0] - mix.lam * torch.arange(n)) / (1 - mix.lam)
    assert torch.allclose(partner, mix.y_b.float(), atol=1e-3)  # x_i mixed with x_{y_b[i]}
    assert sorted(mix.y_b.tolist()) == list(range(n))  # partners are a permutation
    assert torch.allclose(out.meta[:, 0], out.x[:, 0])


def test_augmentation_is_seeded_and_resumable() -> None:
    cfg = AugmentationConfig(
        time_shift=0.2, amplitude_scale=(0.8, 1.2), gaussian_noise_snr_db=10.0, mixup_alpha=0.2
    )
    a, b = Augmenter(cfg, seed=5), Augmenter(cfg, seed=5)
    first = a(_batch())[0].x
    assert torch.equal(first, b(_batch())[0].x)
    assert not torch.equal(first, Augmenter(cfg, seed=6)(_batch())[0].x)
    saved = a.state_dict()
    x_next, mix_next = a(_batch(seed=9))
    restored = Augmenter(cfg, seed=123)
    restored.load_state_dict(saved)
    x_again, mix_again = restored(_batch(seed=9))
    assert torch.equal(x_next.x, x_again.x)
    assert mix_next.lam == mix_again.lam and torch.equal(mix_next.y_b, mix_again.y_b)


def test_cut_windows_gives_each_window_its_record_and_start() -> None:
    from bearing_workbench.config.schema import WindowConfig
    from bearing_workbench.training.data import cut_windows

    signals = np.arange(2 * 300, dtype=np.float32).reshape(2, 300)
    cut = cut_windows(signals, WindowConfig(length=100, hop=50))
    assert cut.record_index.tolist() == [0] * 5 + [1] * 5
    assert cut.starts.tolist() == [0, 50, 100, 150, 200] * 2
    for window, record, start in zip(cut.signals, cut.record_index, cut.starts, strict=True):
        np.testing.assert_array_equal(window, signals[record, start : start + 100])
    whole = cut_windows(signals, None)  # no window: each record is one input
    assert (
        whole.signals is signals and whole.starts.tolist() == [0, 0] and whole.record_index.tolist() == [0, 1]
    )


def _dominant_bin(x: torch.Tensor) -> torch.Tensor:
    return torch.fft.rfft(x, dim=1).abs().argmax(dim=1)


def test_time_stretch_moves_every_line_by_a_factor_in_range() -> None:
    length, k = 4096, 200  # a tone at bin 200
    t = torch.arange(length, dtype=torch.float32)
    batch = _batch(n=16, length=length)
    batch = Batch(
        x=torch.sin(2 * torch.pi * k * t / length).repeat(16, 1),
        y=batch.y,
        meta=batch.meta,
        index=batch.index,
    )
    out, _ = Augmenter(AugmentationConfig(time_stretch=0.1), seed=7)(batch)
    factors = _dominant_bin(out.x).float() / k
    assert out.x.shape == batch.x.shape
    assert ((factors >= 0.9 - 0.01) & (factors <= 1.1 + 0.01)).all()
    assert factors.std() > 0.02  # each window draws its own factor


def test_band_colouring_is_smooth_bounded_and_random_per_window() -> None:
    batch = _batch(n=8, length=8192)
    out, _ = Augmenter(AugmentationConfig(band_colouring_db=6.0), seed=8)(batch)
    gain_db = 20 * torch.log10(torch.fft.rfft(out.x, dim=1).abs() / torch.fft.rfft(batch.x, dim=1).abs())
    assert out.x.shape == batch.x.shape
    assert gain_db[:, 1:].abs().max() <= 6.0 + 1e-3
    assert (gain_db[:, 1:].abs().amax(dim=1) > 1.0).all()  # every window is coloured
    assert (gain_db[:, 2:] - gain_db[:, 1:-1]).abs().max() < 0.5  # smooth across neighbouring bins
    assert not torch.allclose(gain_db[0], gain_db[1], atol=0.5)


def test_new_augmentations_are_off_by_default_and_seeded() -> None:
    assert not AugmentationConfig().enabled
    assert AugmentationConfig(time_stretch=0.05).enabled and AugmentationConfig(band_colouring_db=3.0).enabled
    cfg = AugmentationConfig(time_stretch=0.1, band_colouring_db=6.0)
    first = Augmenter(cfg, seed=5)(_batch())[0].x
    assert torch.equal(first, Augmenter(cfg, seed=5)(_batch())[0].x)
    assert not torch.equal(first, Augmenter(cfg, seed=6)(_batch())[0].x)


def test_the_config_normalisation_travels_in_the_input_spec(tiny_dataset: Path) -> None:
    assert load_data(make_config(tiny_dataset)).spec.normalisation == "none"
    raw = make_config(tiny_dataset).model_dump(mode="json")
    raw["data"]["normalisation"] = "rms"
    spec = load_data(ExperimentConfig.model_validate(raw), splits=("test",)).spec
    assert spec.normalisation == "rms"
    # input_spec.json holds it, and a spec written before the field existed still reads as none.
    assert type(spec).model_validate(spec.model_dump(mode="json")).normalisation == "rms"
    old = {k: v for k, v in spec.model_dump(mode="json").items() if k != "normalisation"}
    assert type(spec).model_validate(old).normalisation == "none"
