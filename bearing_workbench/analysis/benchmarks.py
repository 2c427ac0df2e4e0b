"""The measured model-zoo figures the estimates scale from, read from ``benchmarks.json``.

``benchmarks.json`` (package data beside this module) is written by ``python -m bench.run training``
from its runs (`bench.bench_training`), the same runs BENCHMARKS.md's table is written from: nobody
copies figures by hand. Each run is one family on the benchmark dataset with the standard preset; a
family's figures come from its standard runs (``standard``: the family's default config, or one of
its algorithms for the classical family), not from comparison runs such as the PINN without physics.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

BENCHMARKS_FILE = Path(__file__).resolve().parent / "benchmarks.json"


@dataclass(frozen=True)
class BenchmarkRun:
    """One measured training run: the family (and variant, e.g. the classical algorithm), its test
    accuracy and macro-F1 (0-1), wall time with evaluation, epochs (None for a family without epochs)."""

    name: str
    family: str
    variant: str | None
    standard: bool
    accuracy: float
    macro_f1: float
    seconds: float
    epochs_run: int | None
    best_epoch: int | None
    cores: int
    measured: str


@dataclass(frozen=True)
class BenchmarkData:
    """The benchmark's dataset: records, classes, training records, windows per record and their length."""

    records: int
    classes: int
    train_records: int
    windows_per_record: int
    window: int
    signal_length: int

    @property
    def train_windows(self) -> int:
        return self.train_records * self.windows_per_record


@dataclass(frozen=True)
class Benchmarks:
    """Every measured run, the dataset they ran on and where the figures come from (for the cards)."""

    source: str
    dataset: BenchmarkData
    runs: tuple[BenchmarkRun, ...]

    def of_family(self, family: str) -> tuple[BenchmarkRun, ...]:
        """The family's standard runs (empty when it was not measured)."""
        return tuple(run for run in self.runs if run.family == family and run.standard)


class BenchmarksFileError(ValueError):
    """benchmarks.json is missing a field or holds a value of the wrong kind."""


def parse_benchmarks(raw: Mapping[str, Any], where: str = "benchmarks.json") -> Benchmarks:
    """A `Benchmarks` from the file's JSON object; `BenchmarksFileError` names the field that is wrong."""
    try:
        dataset = BenchmarkData(**{k: int(v) for k, v in raw["dataset"].items()})
        runs = tuple(_run(row) for row in raw["runs"])
        return Benchmarks(str(raw["source"]), dataset, runs)
    except (KeyError, TypeError, ValueError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        raise BenchmarksFileError(f"{where}: {problem} (written by bench/bench_training.py)") from None


def _run(row: Mapping[str, Any]) -> BenchmarkRun:
    values = {key: row[key] for key in BenchmarkRun.__dataclass_fields__}
    for key in ("accuracy", "macro_f1", "seconds"):
        values[key] = float(values[key])
        if not math.isfinite(values[key]):
            raise ValueError(f"run {row.get('name')!r}: {key} must be a finite number")
    return BenchmarkRun(**values)


@cache
def load_benchmarks(path: Path = BENCHMARKS_FILE) -> Benchmarks:
    """The figures in `path` (the installed ``benchmarks.json`` by default), read once."""
    return parse_benchmarks(json.loads(path.read_text(encoding="utf-8")), str(path))


def benchmark_rows(
    results: Mapping[str, Mapping[str, Any]], variants: Mapping[str, str | None], comparisons: Sequence[str]
) -> list[dict[str, Any]]:
    """The ``runs`` of benchmarks.json from `bench.bench_training`'s results (name -> row).

    Args:
        variants: run name -> its variant (the classical algorithm), None for the family's default.
        comparisons: names of runs that are not a family's standard config (e.g. the PINN without physics).
    """
    rows = []
    for name, r in results.items():
        epochs = r.get("epochs_run") if r["family"] not in ("classical", "ensemble") else None
        rows.append(
            {
                "name": name,
                "family": r["family"],
                "variant": variants.get(name),
                "standard": name not in comparisons,
                "accuracy": round(float(r["accuracy"]), 6),
                "macro_f1": round(float(r["macro_f1"]), 6),
                "seconds": round(float(r["seconds"]), 1),
                "epochs_run": epochs,
                "best_epoch": r.get("best_epoch") if epochs is not None else None,
                "cores": int(str(r.get("cpu") or "1").split()[0]),
                "measured": str(r["measured"])[:10],
            }
        )
    return rows
