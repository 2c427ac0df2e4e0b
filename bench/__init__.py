"""Benchmarks: each writes its figures into BENCHMARKS.md (`python -m bench.run --help`)."""
