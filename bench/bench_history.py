"""History page: the store's first page of 10 000 experiments, and ExperimentHistory up to its first page.

Setup: one SQLite store filled with 10 000 experiments in one transaction (configs and metrics shaped
like real runs: seven families, 80 % completed, notes and tags on some). Then, median of `repeats`
after one untimed call: the first page (50 rows) and the count with no filter, with a search (a
substring of names, notes and tags), sorted by ``metrics.accuracy``, and the last page; and
``ExperimentHistory(store=...)`` constructed up to its first page drawn (widgets without a front end:
their state is built, the browser's drawing is not measured).

python -m bench.run history
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.report import median, timed, write_section

N_EXPERIMENTS = 10_000
PAGE = 50
GOAL_S = 1.0
FAMILIES = ("classical", "cnn1d", "resnet1d", "transformer", "spectrogram", "pinn", "ensemble")
PARAMS: dict[str, dict[str, Any]] = {
    "classical": {"algorithm": "random_forest", "n_estimators": 200, "max_depth": None, "cv_folds": 5},
    "cnn1d": {"n_conv_layers": 3, "kernel_sizes": [7, 5, 3], "filters": 64, "pooling": "max", "dropout": 0.3},
    "resnet1d": {"depth": 18, "width_multiplier": 0.5, "dropout": 0.2},
    "transformer": {"patch_size": 256, "n_layers": 4, "n_heads": 4, "d_model": 128, "dropout": 0.1},
    "spectrogram": {"transform": "stft", "n_fft": 512, "hop": 128, "filters": 32},
    "pinn": {"n_conv_layers": 3, "filters": 32, "lambda_physics": 0.1, "physics_inputs": True},
    "ensemble": {"members": [2, 6, 1], "method": "soft_voting", "weights": "optimised"},
}
SEARCH = "whirl"  # in about 1 % of the notes


def _config(family: str, name: str, rng: random.Random) -> dict[str, Any]:
    return {
        "name": name,
        "data": {
            "dataset": "default",
            "split": {"train": 70.0, "val": 15.0, "test": 15.0},
            "window": {"length": 20480, "hop": None},
            "augmentation": {"time_shift": 0.0, "amplitude_scale": [1.0, 1.0], "gaussian_noise_snr_db": None},
        },
        "model": {"family": family, "params": PARAMS[family]},
        "training": {
            "batch_size": rng.choice([16, 32, 64]),
            "epochs": rng.choice([10, 30, 50]),
            "learning_rate": rng.choice([1e-4, 3e-4, 1e-3]),
            "optimizer": "adamw",
            "weight_decay": 1e-4,
            "scheduler": {"name": "cosine", "warmup_epochs": 2, "min_lr": 1e-6},
            "early_stopping": {"enabled": True, "patience": 8, "min_delta": 0.0},
            "checkpoint": {"policy": "best_only", "keep_last": 2},
            "seed": rng.randrange(1000),
        },
        "provenance": {"package_version": "0.1.0", "git_commit": f"{rng.getrandbits(160):040x}"},
    }


def fill(store: Any, n: int = N_EXPERIMENTS, seed: int = 0) -> None:
    """Insert `n` experiments through the store's table in one transaction."""
    from sqlalchemy import insert

    from bearing_workbench.store.tables import ExperimentRow

    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        family = FAMILIES[i % len(FAMILIES)]
        name = f"{family}-{rng.choice(['quick', 'standard', 'max'])}-default-{i}"
        status = rng.choices(["completed", "failed", "stopped", "pending"], [80, 10, 5, 5])[0]
        created = start + timedelta(minutes=50 * i)
        metrics = None
        if status == "completed":
            accuracy = rng.uniform(0.6, 0.99)
            metrics = {
                "accuracy": accuracy,
                "macro_precision": accuracy + rng.uniform(-0.01, 0.01),
                "macro_recall": accuracy,
                "macro_f1": accuracy - rng.uniform(0, 0.01),
                "log_loss": rng.uniform(0.05, 1.0),
                "window_accuracy": accuracy - 0.005,
                "epochs_run": 0 if family in ("classical", "ensemble") else rng.randint(5, 50),
                "train_seconds": rng.uniform(10, 4000),
                "val_accuracy": accuracy + 0.002,
            }
        rows.append(
            {
                "name": name,
                "family": family,
                "config": _config(family, name, rng),
                "status": status,
                "metrics": metrics,
                "error": "CUDA out of memory" if status == "failed" else None,
                "created_at": created,
                "started_at": created + timedelta(seconds=5) if status != "pending" else None,
                "finished_at": created + timedelta(minutes=30) if status not in ("pending",) else None,
                "duration_s": rng.uniform(10, 4000) if status != "pending" else None,
                "tags": rng.choice([[], [], ["baseline"], ["candidate", "paper"]]),
                "notes": "oil whirl sweep"
                if rng.random() < 0.01
                else rng.choice(["", "", "rerun with more data"]),
            }
        )
    with store.transaction() as session:
        session.execute(insert(ExperimentRow), rows)


def _first_page(store: Any, **query: Any) -> None:
    where = {k: v for k, v in query.items() if k not in ("order_by", "descending", "offset")}
    store.list_experiments(**query, limit=PAGE)
    store.count_experiments(**where)


def run(repeats: int = 3) -> None:
    """Fill a store with 10 000 experiments, time the first pages and the panel, write BENCHMARKS.md."""
    from bearing_workbench.panels.history import ExperimentHistory
    from bearing_workbench.store import Store

    workspace = tempfile.mkdtemp(prefix="bench-history-")
    try:
        with Store(workspace=workspace) as store:
            begin = time.perf_counter()
            fill(store)
            fill_s = time.perf_counter() - begin
            assert store.count_experiments() == N_EXPERIMENTS
            found = store.count_experiments(search=SEARCH)
            cases = {
                "no filter (newest first)": lambda: _first_page(store),
                f"search {SEARCH!r} ({found} matches)": lambda: _first_page(store, search=SEARCH),
                "sorted by metrics.accuracy": lambda: _first_page(store, order_by="metrics.accuracy"),
                "completed, sorted by accuracy (preset 'top performers')": lambda: _first_page(
                    store, status="completed", order_by="metrics.accuracy"
                ),
                f"last page (offset {N_EXPERIMENTS - PAGE})": lambda: _first_page(
                    store, offset=N_EXPERIMENTS - PAGE
                ),
            }
            figures = {label: timed(fn, repeats, warmup=1) for label, fn in cases.items()}

            def panel() -> None:
                history = ExperimentHistory(store=store)
                assert len(history.table.rows) == PAGE and history.total == N_EXPERIMENTS
                history.close()

            figures["`ExperimentHistory(store=...)` to its first page"] = timed(panel, repeats, warmup=1)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    for label, times in figures.items():
        print(f"{label}: {1e3 * median(times):.1f} ms")
    lines = [
        f"| {N_EXPERIMENTS:_} experiments, page of {PAGE} + count | median of {repeats} | goal |".replace(
            "_", " "
        ),
        "|---|---|---|",
        *(
            f"| {label} | {1e3 * median(times):.1f} ms | <= {GOAL_S:g} s |"
            for label, times in figures.items()
        ),
    ]
    body = (
        "\n".join(lines)
        + f"\n\nSQLite (WAL) in a temporary workspace, filled in one transaction in {fill_s:.1f} s (configs "
        "and "
        "metrics shaped like real runs). The store filters, sorts, pages and counts in SQL; the search is "
        "a case-insensitive substring of names, notes and tags (a scan: SQLite has no index for "
        "substrings), the accuracy sort reads the metrics JSON of every matching row. The panel's figure "
        "includes building its widgets and the table's state (no browser attached); after one untimed "
        "warm-up, so imports are not counted."
    )
    write_section(
        "history", "History page: first page of 10 000 experiments", body, "python -m bench.run history"
    )
