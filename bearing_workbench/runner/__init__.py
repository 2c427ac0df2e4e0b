"""Runner layer: the only place that knows Dask (runner issue)."""
