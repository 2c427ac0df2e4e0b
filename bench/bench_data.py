"""Dataset generation and feature extraction timings (foundation issue)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
from bearing_workbench.features import compute_features
from bench.report import median, timed, write_section

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

    n = cfg.n_records
    rows = [
        (
            "generate default dataset (all cores)",
            f"{n} records x {cfg.n_samples} samples, {size_mb:.0f} MB HDF5",
            f"{median(gen_all):.1f} s",
            f"{1000 * median(gen_all) / n:.1f} ms",
            "<= 60 s",
        ),
        (
            "generate default dataset (1 process)",
            "same",
            f"{gen_one[0]:.1f} s (1 run)",
            f"{1000 * gen_one[0] / n:.1f} ms",
            "",
        ),
        (
            "36 features, batch",
            f"{n} signals",
            f"{median(feats):.1f} s",
            f"{1000 * median(feats) / n:.2f} ms",
            "",
        ),
        (
            "36 features, one signal per call",
            f"{subset} signals",
            f"{median(loop):.2f} s",
            f"{1000 * median(loop) / subset:.2f} ms",
            "",
        ),
        (
            "36 features, one batch",
            f"same {subset} signals",
            f"{median(batch):.2f} s",
            f"{1000 * median(batch) / subset:.2f} ms",
            "",
        ),
    ]
    table = [f"| task | size | median of {repeats} | per record | goal |", "|---|---|---|---|---|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    body = "\n".join(table) + (
        f"\n\nParallel generation speed-up: {gen_one[0] / median(gen_all):.2f}x. "
        f"Batch vs per-signal features: {median(loop) / median(batch):.2f}x.\n"
    )
    write_section("data", "Dataset generation and features", body, COMMAND)
    print(body)
