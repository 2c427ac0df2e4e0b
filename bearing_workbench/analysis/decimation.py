"""Fewer points for drawing a long curve, keeping its peaks (min-max decimation)."""

from __future__ import annotations

import numpy as np


def min_max_decimate(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` of the curve (x, y): each of max_points // 2 equal buckets keeps its lowest
    and its highest point, in x order, so spikes and spectral peaks survive (plain striding would drop
    them). A curve already short enough comes back unchanged."""
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y: expected two 1-D arrays of one length, got {x.shape} and {y.shape}")
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    n = x.size
    if n <= max_points:
        return x, y
    if not np.isfinite(y).all():
        raise ValueError("y: expected finite values (NaN or inf cannot be decimated by min and max)")
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(np.intp)
    starts = edges[:-1]
    lows = np.minimum.reduceat(y, starts)
    highs = np.maximum.reduceat(y, starts)
    # Index of each bucket's min and max: the first position in the bucket holding that value.
    index = np.arange(n)
    bucket_of = np.repeat(np.arange(buckets), np.diff(edges))
    at_low = np.where(y == lows[bucket_of], index, n)
    at_high = np.where(y == highs[bucket_of], index, n)
    low_index = np.minimum.reduceat(at_low, starts)
    high_index = np.minimum.reduceat(at_high, starts)
    pairs = np.sort(np.stack([low_index, high_index], axis=1), axis=1).ravel()
    return x[pairs], y[pairs]
