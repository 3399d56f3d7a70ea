r"""Ridge regression and the lasso, in the book's convention.

Every function here minimises, for a centred design ``X`` (n × p) and response ``y``,

.. math::

    L(w) = \frac{1}{2n}\lVert y - Xw\rVert_2^2 + \lambda R(w),
    \qquad R(w) = \tfrac12\lVert w\rVert_2^2 \ \text{(ridge)}
    \quad\text{or}\quad R(w) = \lVert w\rVert_1 \ \text{(lasso)}.

No intercept is fitted: centre and scale the data first with :func:`standardize`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numba import njit

from .validation import (
    check_lambda,
    check_lambdas,
    check_matrix,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_vector,
    check_X_y,
)

__all__ = [
    "Standardization",
    "standardize",
    "ridge",
    "ridge_path",
    "ridge_df",
    "ridge_shrinkage",
    "ConvergenceWarning",
    "soft_threshold",
    "lambda_max",
    "lasso_objective",
    "kkt_violation",
    "lasso_cd_textbook",
    "lasso",
    "lasso_path",
    "elastic_net",
    "elastic_net_path",
    "PathEvent",
    "path_events",
    "kfold_indices",
    "CVResult",
    "cross_validate_ridge",
    "cross_validate_lasso",
]


# ---------------------------------------------------------------------------
# Pre-processing
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Standardization:
    """Centring and scaling learnt on training data, to apply to new data."""

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float

    def transform(self, X, y=None):
        """Apply the training-set centring/scaling to ``X`` (and ``y`` if given)."""
        X = check_matrix(X, "X")
        if X.shape[1] != self.x_mean.shape[0]:
            raise ValueError(f"X must have {self.x_mean.shape[0]} columns; got {X.shape[1]}")
        Xs = (X - self.x_mean) / self.x_scale
        if y is None:
            return Xs
        _, y = check_X_y(X, y)
        return Xs, y - self.y_mean

    def intercept(self, w) -> float:
        """Intercept in original units of a model fitted on standardised data."""
        return float(self.y_mean - np.dot(self.x_mean / self.x_scale, np.asarray(w, float)))


def standardize(X, y=None):
    """Centre each column of ``X`` and scale it to unit root-mean-square; centre ``y``.

    After this, every column satisfies ``x_j.mean() == 0`` and ``||x_j||² = n``, the usual
    setting in which lasso and ridge penalties treat all features alike.  Constant columns
    are left at zero (scale 1).

    Returns
    -------
    Xs, (ys), Standardization
        The transformed data and the statistics to apply to test data.
    """
    if y is None:
        X = check_matrix(X, "X")
    else:
        X, y = check_X_y(X, y)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    y_mean = float(y.mean()) if y is not None else 0.0
    stats = Standardization(mean, scale, y_mean)
    Xs = (X - mean) / scale
    if y is None:
        return Xs, stats
    return Xs, y - y_mean, stats


# ---------------------------------------------------------------------------
# Ridge
# ---------------------------------------------------------------------------
def _thin_svd(X):
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    return U, d, Vt


def _svd_rank_tol(d, shape):
    return d.max(initial=0.0) * max(shape) * np.finfo(float).eps


def ridge(X, y, lam) -> np.ndarray:
    r"""Minimiser of :math:`\frac{1}{2n}\lVert y - Xw\rVert^2 + \frac{\lambda}{2}\lVert w\rVert^2`.

    Setting the gradient :math:`-\frac1n X^\top(y - Xw) + \lambda w` to zero gives the normal
    equations :math:`(X^\top X + n\lambda I)\,w = X^\top y`.  With the thin SVD
    :math:`X = UDV^\top` the solution is

    .. math::  \hat w(\lambda) = V\,\mathrm{diag}\!\Big(\frac{d_j}{d_j^2 + n\lambda}\Big)\,U^\top y,

    which for ``lam = 0`` is the minimum-norm least-squares solution (singular values below
    the numerical rank tolerance are dropped).

    Parameters
    ----------
    X : array (n, p)
    y : array (n,)
    lam : float >= 0

    Returns
    -------
    w : array (p,)
    """
    return ridge_path(X, y, [lam])[0]


def ridge_path(X, y, lams) -> np.ndarray:
    """Ridge solutions for every ``lam`` in ``lams`` from a single SVD.

    Returns an array of shape ``(len(lams), p)``; row ``k`` is ``ridge(X, y, lams[k])``.
    The SVD costs ``O(n p min(n, p))`` once; each extra λ costs only ``O(p min(n, p))``.
    """
    X, y = check_X_y(X, y)
    lams = check_lambdas(lams)
    n = X.shape[0]
    U, d, Vt = _thin_svd(X)
    keep = d > _svd_rank_tol(d, X.shape)
    U, d, Vt = U[:, keep], d[keep], Vt[keep]
    Uty = U.T @ y
    factors = d[None, :] / (d[None, :] ** 2 + n * lams[:, None])  # (L, r)
    return (factors * Uty[None, :]) @ Vt


def ridge_shrinkage(X, lams) -> np.ndarray:
    r"""Shrinkage factors :math:`d_j^2/(d_j^2 + n\lambda)` along the principal directions.

    Returns an array ``(len(lams), min(n, p))``.  Ridge multiplies the least-squares
    coefficient along the j-th right singular vector by this factor: every direction is
    shrunk, none is set to zero.
    """
    X = check_matrix(X, "X")
    lams = check_lambdas(lams)
    d = np.linalg.svd(X, compute_uv=False)
    return d[None, :] ** 2 / (d[None, :] ** 2 + X.shape[0] * lams[:, None])


def ridge_df(X, lams) -> np.ndarray:
    r"""Effective degrees of freedom :math:`\mathrm{df}(\lambda) = \sum_j d_j^2/(d_j^2 + n\lambda)`.

    This is the trace of the hat matrix :math:`X(X^\top X + n\lambda I)^{-1}X^\top`; it falls
    from ``rank(X)`` at ``lam = 0`` towards 0 as ``lam → ∞``.  Returns an array of
    ``len(lams)``.
    """
    X = check_matrix(X, "X")
    lams = check_lambdas(lams)
    d = np.linalg.svd(X, compute_uv=False)
    d = d[d > _svd_rank_tol(d, X.shape)]
    return np.sum(d[None, :] ** 2 / (d[None, :] ** 2 + X.shape[0] * lams[:, None]), axis=1)


# ---------------------------------------------------------------------------
# Cross-validation
# ---------------------------------------------------------------------------
def kfold_indices(n: int, k: int = 5, rng=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split ``range(n)`` into ``k`` folds: a list of ``(train_idx, val_idx)`` pairs.

    The permutation comes from ``rng`` (a ``numpy.random.Generator`` or a seed); folds
    differ in size by at most one.
    """
    n = check_positive_int(n, "n", minimum=2)
    k = check_positive_int(k, "k", minimum=2)
    if k > n:
        raise ValueError(f"k must be <= n = {n}; got {k}")
    rng = np.random.default_rng(rng)
    perm = rng.permutation(n)
    folds = np.array_split(perm, k)
    out = []
    for i in range(k):
        train = np.concatenate([folds[j] for j in range(k) if j != i])
        out.append((np.sort(train), np.sort(folds[i])))
    return out


@dataclass(frozen=True)
class CVResult:
    """Result of a k-fold cross-validation over a grid of λ."""

    lams: np.ndarray
    mean_mse: np.ndarray  # (L,)
    se_mse: np.ndarray  # (L,) standard error across folds
    fold_mse: np.ndarray  # (k, L)
    best_lam: float
    lam_1se: float  # largest λ within one SE of the minimum


def _summarise_cv(lams, fold_mse) -> CVResult:
    k = fold_mse.shape[0]
    mean = fold_mse.mean(axis=0)
    se = fold_mse.std(axis=0, ddof=1) / np.sqrt(k)
    best = int(np.argmin(mean))
    within = np.nonzero(mean <= mean[best] + se[best])[0]
    lam_1se = float(lams[within].max())
    return CVResult(lams, mean, se, fold_mse, float(lams[best]), lam_1se)


def cross_validate_ridge(X, y, lams, k: int = 5, rng=0, *, standardize_folds: bool = True) -> CVResult:
    """k-fold cross-validated mean squared error of ridge for every λ in ``lams``.

    In each fold the training part is standardised (:func:`standardize`), the ridge path is
    fitted on it with :func:`ridge_path`, and the validation part is predicted with the
    training statistics (intercept included), so no information leaks from the validation
    fold.  Returns a :class:`CVResult`; ``best_lam`` minimises the mean validation MSE.
    """
    X, y = check_X_y(X, y)
    lams = check_lambdas(lams)
    folds = kfold_indices(X.shape[0], k, rng)
    fold_mse = np.empty((len(folds), lams.size))
    for i, (tr, va) in enumerate(folds):
        if standardize_folds:
            Xtr, ytr, st = standardize(X[tr], y[tr])
            W = ridge_path(Xtr, ytr, lams)
            pred = st.transform(X[va]) @ W.T + st.y_mean
        else:
            W = ridge_path(X[tr], y[tr], lams)
            pred = X[va] @ W.T
        fold_mse[i] = np.mean((y[va][:, None] - pred) ** 2, axis=0)
    return _summarise_cv(lams, fold_mse)
