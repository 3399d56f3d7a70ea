"""Seeding, so that every chapter's stored outputs are reproducible."""

from __future__ import annotations

import os
import random
import sys

import numpy as np

from .validation import check_positive_int

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global generator and, if it is importable, torch.

    Every chapter calls this in its first cell.  torch is seeded (CPU and every CUDA device)
    only if it is installed; importing it here is deliberate, because a chapter that seeds
    is about to use it, while ``import weightdecay`` alone never imports torch.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Returns
    -------
    numpy.random.Generator
        A fresh ``np.random.default_rng(seed)``: pass it explicitly to the package's
        functions rather than relying on global state.
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses started from here
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules or _torch_available():
        import torch

        torch.manual_seed(seed)  # also seeds every CUDA device
    return np.random.default_rng(seed)


def _torch_available() -> bool:
    from importlib.util import find_spec

    return find_spec("torch") is not None
