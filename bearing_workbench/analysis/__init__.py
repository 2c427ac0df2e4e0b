"""Analysis layer: metrics, statistics, XAI, comparison, reports over stored results (later issues)."""
