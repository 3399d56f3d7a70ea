"""weightdecay: the companion package of the book *Weight decay and regularisation*.

One convention is used everywhere in the package and the book::

    L(w) = (1/2n) ||y - X w||^2 + lam * R(w),

with ``R(w) = ||w||^2 / 2`` for ridge regression / weight decay and ``R(w) = ||w||_1``
for the lasso.  Functions that talk to other libraries (PyTorch ``weight_decay``, Keras
``l2``, scikit-learn ``alpha``) convert to this convention explicitly; see
:mod:`weightdecay.conventions`.

Submodules are imported lazily, so ``import weightdecay`` is cheap and never imports
torch; ``weightdecay.linear`` (numpy only) or ``weightdecay.optim`` (torch) load on first
use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "bias_variance",
    "cifar10",
    "cnn",
    "conventions",
    "data",
    "dropout",
    "early_stopping",
    "experiments",
    "linear",
    "optim",
    "overfitting",
    "plotting",
    "reproducibility",
    "stats",
    "training",
    "validation",
)

__all__ = ["__version__", "seed_everything", *_SUBMODULES]


def seed_everything(seed: int):
    """Seed every random generator the book uses; see :func:`weightdecay.reproducibility.seed_everything`."""
    from .reproducibility import seed_everything as _seed

    return _seed(seed)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'weightdecay' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
