"""Dataset generation and feature extraction timings (foundation issue)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from bench.report import median, timed, write_section
from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.data.generator import GeneratorConfig, generate_arrays, generate_dataset
from bearing_workbench.features import compute_features

COMMAND = "python -m bench.run data"


def run(repeats: int = 3) -> None:
    cfg = GeneratorConfig()  # the default dataset: 11 classes x 130 records x 102400 samples
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"

        def generate(workers: int | None):
            return lambda: generate_dataset(path, cfg, workers=workers, overwrite=True)

        gen_all = timed(generate(None), repeats)
        gen_one = timed(generate(1), 1)
        with Dataset(path) as ds:
            signals = ds.signals()
            speed = ds.metadata()["speed_hz"]
        size_mb = path.stat().st_size / 1e6

    feats = timed(lambda: compute_features(signals, cfg.fs, shaft_hz=speed), repeats)
    # Same features one signal at a time: what the batch vectorisation buys.
    subset = 64
    loop = timed(
        lambda: [compute_features(signals[i], cfg.fs, shaft_hz=speed[i]) for i in range(subset)], repeats
    )
    batch = timed(lambda: compute_features(signals[:subset], cfg.fs, shaft_hz=speed[:subset]), repeats)
    sample = generate_arrays(GeneratorConfig(per_class=1))[0]
    assert np.isfinite(sample).all()

    n = cfg.n_records
    body = f"""
| task | size | median of {repeats} | per record | goal |
|---|---|---|---|---|
| generate default dataset (all cores) | {n} records x {cfg.n_samples} samples, {size_mb:.0f} MB HDF5 | {median(gen_all):.1f} s | {1000 * median(gen_all) / n:.1f} ms | <= 60 s |
| generate default dataset (1 process) | same | {gen_one[0]:.1f} s (1 run) | {1000 * gen_one[0] / n:.1f} ms | |
| 36 features, batch | {n} signals | {median(feats):.1f} s | {1000 * median(feats) / n:.2f} ms | |
| 36 features, one signal per call | {subset} signals | {median(loop):.2f} s | {1000 * median(loop) / subset:.2f} ms | |
| 36 features, one batch | same {subset} signals | {median(batch):.2f} s | {1000 * median(batch) / subset:.2f} ms | |

Parallel generation speed-up: {gen_one[0] / median(gen_all):.2f}x. Batch vs per-signal features: \
{median(loop) / median(batch):.2f}x.
"""
    write_section("data", "Dataset generation and features", body, COMMAND)
    print(body)
