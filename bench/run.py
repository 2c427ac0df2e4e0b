"""Run benchmarks and write their figures into BENCHMARKS.md.

python -m bench.run data [--repeats 3]
python -m bench.run training [--families cnn1d resnet1d ...]   (hours on a 2-core CPU)
python -m bench.run throughput
python -m bench.run runner                                      (progress and control channels, ~1 min)
python -m bench.run overhead                                    (runner vs direct training, ~5 min)
python -m bench.run monitor                                     (training monitor construction and redraws)
python -m bench.run apps                                        (Voila apps in Chromium, ~5 min)
python -m bench.run results                                     (results panel build, ~2 min)
python -m bench.run history                                     (history with 10 000 experiments)
python -m bench.run report                                      (PDF report generation)
"""

from __future__ import annotations

import argparse
import importlib

# suite -> (module, function)
SUITES = {
    "data": ("bench.bench_data", "run"),
    "training": ("bench.bench_training", "run"),
    "throughput": ("bench.bench_training", "run_throughput"),
    "runner": ("bench.bench_runner", "run"),
    "overhead": ("bench.bench_runner_overhead", "run"),
    "monitor": ("bench.bench_panels", "run"),
    "apps": ("bench.bench_apps", "run"),
    "results": ("bench.bench_results", "run"),
    "history": ("bench.bench_history", "run"),
    "report": ("bench.bench_report", "run"),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("suites", nargs="*", default=["data"], choices=list(SUITES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--families", nargs="*", help="training suite: only these runs (names or families)")
    args = parser.parse_args()
    for name in args.suites:
        module, function = SUITES[name]
        kwargs = {"repeats": args.repeats}
        if name == "training" and args.families:
            kwargs["families"] = args.families
        getattr(importlib.import_module(module), function)(**kwargs)


if __name__ == "__main__":
    main()
