"""Panels layer: the only place that knows widgets (panels issues)."""
