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

What lives where (reusable mathematics in a topic module; anything that fixes a dataset,
an architecture or a grid for one chapter in ``weightdecay.experiments``)::

    linear           ridge, lasso, elastic net (functions on centred data, and the
                     scikit-learn estimators Ridge, Lasso, ElasticNet), paths, CV
    bias_variance    bias, variance and exact risk (one RiskCurve for ridge, gradient
                     descent, gradient flow, dropout), finite-n and asymptotic
    overfitting      the polynomial-regression demo; penalty versus constraint
    conventions      other libraries' parameters (PyTorch, Keras, scikit-learn) -> lam
    optim            weight decay in optimisers: parameter groups, SGDW/AdamW, BatchNorm
    training         a small PyTorch training loop, evaluation, an MLP
    dropout          dropout, its exact effect on linear regression, schedules
    early_stopping   gradient descent as a spectral filter; the EarlyStopping callback
    cnn, cifar10     a fast CNN, its training loop and timing; CIFAR-10 without pickle
    data             the book's datasets (MNIST-1D, diabetes), deterministic given a seed
    stats            mean ± standard error and intervals over seeds
    plotting         the book's figure style, sized for the site's column
    progress         one progress-bar default for every long loop (WEIGHTDECAY_PROGRESS)
    reproducibility  seeding and pinned numerics (the same bits on every x86-64 CPU)
    validation       argument checks shared by every module
    experiments      one module per chapter: its dataset, architecture and grids

The book's API reference page documents every public name, module by module.
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
    "progress",
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
