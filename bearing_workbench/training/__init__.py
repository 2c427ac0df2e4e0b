"""Training layer: the one training loop, callbacks, evaluation, checkpoints, export (model-zoo issue)."""
