"""Run benchmarks and write their figures into BENCHMARKS.md.

python -m bench.run data [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib

SUITES = {"data": "bench.bench_data"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("suites", nargs="*", default=list(SUITES), choices=list(SUITES))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in args.suites:
        importlib.import_module(SUITES[name]).run(repeats=args.repeats)


if __name__ == "__main__":
    main()
