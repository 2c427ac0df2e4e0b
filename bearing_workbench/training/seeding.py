"""Seeding and the random-number states a checkpoint must carry to resume a run exactly."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's legacy global and torch's (CPU and CUDA) generators."""
    random.seed(seed)
    # Legacy global numpy state: third-party code (and old habits) still draw from it.
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds every CUDA device too


def derive_seed(seed: int, *keys: int) -> int:
    """An independent 63-bit seed for a sub-stream (e.g. the shuffle of one epoch)."""
    words = np.random.SeedSequence([seed, *keys]).generate_state(2, dtype=np.uint32)
    return int((int(words[0]) << 31) ^ int(words[1]))


def global_rng_state() -> dict[str, Any]:
    """The global generators' states, as types `torch.load(weights_only=True)` accepts."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy_legacy": _legacy_numpy_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def set_global_rng_state(state: dict[str, Any]) -> None:
    """Restore what `global_rng_state` captured (CUDA states only where CUDA is in use)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    legacy = state["numpy_legacy"]
    np.random.set_state(
        (
            legacy["name"],
            legacy["keys"].numpy().astype(np.uint32),
            int(legacy["pos"]),
            int(legacy["has_gauss"]),
            float(legacy["cached_gaussian"]),
        )
    )
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _legacy_numpy_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    # uint32 keys travel as an int64 tensor: plain, and loadable without unpickling numpy objects.
    return {
        "name": str(name),
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def numpy_generator_state(rng: np.random.Generator) -> dict[str, Any]:
    """A numpy Generator's bit-generator state (plain dict of str and int; big ints load fine)."""
    return dict(rng.bit_generator.state)


def set_numpy_generator_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Restore a state from `numpy_generator_state`."""
    rng.bit_generator.state = state
