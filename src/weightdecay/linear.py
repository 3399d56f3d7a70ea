r"""Ridge regression and the lasso, in the book's convention.

Every function here minimises, for a centred design ``X`` (n × p) and response ``y``,

.. math::

    L(w) = \frac{1}{2n}\lVert y - Xw\rVert_2^2 + \lambda R(w),

with :math:`R(w) = \tfrac12\lVert w\rVert_2^2` (ridge) or :math:`R(w) = \lVert w\rVert_1`
(lasso).

The functions fit no intercept: centre and scale the data first with :func:`standardize`.
For coursework, the scikit-learn estimators :class:`Ridge`, :class:`Lasso` and
:class:`ElasticNet` wrap the same solvers with an intercept (``fit``/``predict``/``score``,
usable in ``Pipeline`` and ``GridSearchCV``); they load scikit-learn on first use.
"""

from __future__ import annotations

import sys
import threading
import time
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
    "ridge_gcv",
    "ridge_shrinkage",
    "ConvergenceWarning",
    "soft_threshold",
    "lambda_max",
    "lasso_objective",
    "kkt_violation",
    "lasso_cd_textbook",
    "lasso",
    "lasso_path",
    "warm_up",
    "elastic_net",
    "elastic_net_path",
    "PathEvent",
    "path_events",
    "kfold_indices",
    "CVResult",
    "cross_validate_ridge",
    "cross_validate_lasso",
    "adversarial_squared_loss",
    "Ridge",
    "Lasso",
    "ElasticNet",
]

_ESTIMATORS = ("Ridge", "Lasso", "ElasticNet")


def __getattr__(name: str):
    # The scikit-learn estimators live in ._estimators, loaded on first use, so that this
    # module does not import scikit-learn.
    if name in _ESTIMATORS:
        from . import _estimators

        return getattr(_estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    return ridge_path(X, y, [check_lambda(lam)])[0]


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


def ridge_gcv(X, y, lams, *, intercept: bool = True) -> np.ndarray:
    r"""Generalised cross-validation score of ridge for every λ in ``lams`` (Golub et al., 1979).

    .. math::

        \mathrm{GCV}(\lambda) = \frac{\frac1n\lVert y - \hat y(\lambda)\rVert^2}
        {\big(1 - \mathrm{df}_{\mathrm{tot}}(\lambda)/n\big)^2},
        \qquad
        \mathrm{df}_{\mathrm{tot}}(\lambda) = [\text{intercept}] + \mathrm{df}(\lambda),

    the leave-one-out error with every diagonal entry of the smoother matrix replaced by
    their mean :math:`\mathrm{df}_{\mathrm{tot}}/n`.  In the book's setting ``X`` and ``y``
    are centred, which *is* fitting an unpenalised intercept: the fitted values of the
    uncentred data are :math:`\bar y\,\mathbf 1 + H_\lambda(y - \bar y\,\mathbf 1)`, their
    smoother matrix is :math:`\frac1n\mathbf 1\mathbf 1^\top + H_\lambda`, and its trace is
    :math:`1 + \mathrm{df}(\lambda)` with :math:`\mathrm{df}` from :func:`ridge_df`.  So with
    ``intercept=True`` (the default) the intercept's degree of freedom is counted, and the
    columns of ``X`` must be centred (a ``ValueError`` says so otherwise); ``intercept=False``
    is for a model fitted through the origin, with :math:`\mathrm{df}_{\mathrm{tot}} = \mathrm{df}`
    (``y`` is then used as given).

    Returns an array of ``len(lams)`` (``inf`` where :math:`\mathrm{df}_{\mathrm{tot}} = n`).
    The whole grid costs one SVD: no refitting.
    """
    X, y = check_X_y(X, y)
    lams = check_lambdas(lams)
    n = X.shape[0]
    if not isinstance(intercept, (bool, np.bool_)):
        raise ValueError(f"intercept must be True or False; got {intercept!r}")
    if intercept:
        relative_mean = np.abs(X.mean(axis=0)) / np.maximum(np.sqrt(np.mean(X**2, axis=0)), np.finfo(float).tiny)
        if np.any(relative_mean > 1e-8):
            j = int(np.argmax(relative_mean))
            raise ValueError(
                "X must have centred columns when intercept=True (centre it with standardize); "
                f"column {j} has mean {X[:, j].mean():.3g}"
            )
        y = y - y.mean()
    U, d, _ = _thin_svd(X)
    keep = d > _svd_rank_tol(d, X.shape)
    U, d = U[:, keep], d[keep]
    Uty = U.T @ y
    f = d[None, :] ** 2 / (d[None, :] ** 2 + n * lams[:, None])  # shrinkage factors (L, r)
    fitted = (f * Uty[None, :]) @ U.T  # (L, n): X ŵ(λ) = U diag(f) Uᵀy
    rss = np.mean((y[None, :] - fitted) ** 2, axis=1)
    df_tot = f.sum(axis=1) + (1.0 if intercept else 0.0)
    denom = (1.0 - df_tot / n) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, rss / np.where(denom > 0, denom, 1.0), np.inf)


# ---------------------------------------------------------------------------
# Lasso and elastic net
# ---------------------------------------------------------------------------
class ConvergenceWarning(UserWarning):
    """Coordinate descent stopped at ``max_iter`` sweeps before meeting the KKT tolerance."""


#: Default relative tolerance: a solution is accepted when its KKT violation is at most
#: ``tol * ||X^T y||_inf / n`` (that is, ``tol * lambda_max`` for the lasso).
DEFAULT_TOL = 1e-5
#: Default cap on the number of coordinate-descent sweeps spent on each λ.
DEFAULT_MAX_ITER = 10_000


def soft_threshold(z, t):
    r"""Soft-thresholding operator :math:`S_t(z) = \operatorname{sign}(z)\,\max(|z| - t,\ 0)`.

    It is the proximal map of :math:`t\,|\cdot|`, i.e. the minimiser of
    :math:`\tfrac12 (b - z)^2 + t\,|b|`: values with :math:`|z| \le t` become exactly 0,
    larger ones move towards 0 by ``t``.  Works elementwise on arrays (``z`` and ``t``
    broadcast); a scalar ``z`` with a scalar ``t`` gives a float.

    Parameters
    ----------
    z : float or array
    t : float or array, >= 0
    """
    z_arr, t_arr = _finite_array(z, "z"), _finite_array(t, "t")
    if np.any(t_arr < 0):
        raise ValueError(f"t must be >= 0; got minimum {t_arr.min()}")
    try:
        np.broadcast_shapes(z_arr.shape, t_arr.shape)
    except ValueError:
        raise ValueError(f"z and t must broadcast; got shapes {z_arr.shape} and {t_arr.shape}") from None
    out = np.sign(z_arr) * np.maximum(np.abs(z_arr) - t_arr, 0.0) + 0.0  # + 0.0: no "-0.0"
    return float(out) if out.ndim == 0 else out


def _finite_array(a, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {a!r}") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values; got NaN or infinite entries")
    return arr


def lambda_max(X, y, alpha: float = 1.0) -> float:
    r"""Smallest λ whose lasso (or elastic-net) solution is exactly zero.

    :math:`w = 0` is optimal iff :math:`0 \in \partial L(0)`, i.e.
    :math:`\lvert x_j^\top y\rvert / n \le \lambda\alpha` for every ``j``.  Hence

    .. math::  \lambda_{\max} = \frac{\lVert X^\top y\rVert_\infty}{n\,\alpha},

    with ``alpha = 1`` for the lasso.  For every ``lam >= lambda_max`` the solution is 0; for
    every ``lam < lambda_max`` it is not.
    """
    X, y = check_X_y(X, y)
    alpha = check_probability(alpha, "alpha", allow_one=True, allow_zero=False)
    return float(np.max(np.abs(X.T @ y))) / (X.shape[0] * alpha)


def _check_alpha(alpha) -> float:
    return check_probability(alpha, "alpha", allow_one=True, allow_zero=True)


def lasso_objective(X, y, w, lam, alpha: float = 1.0) -> float:
    r"""Elastic-net objective in the book's convention (the lasso for ``alpha = 1``).

    .. math::
        L(w) = \frac{1}{2n}\lVert y - Xw\rVert_2^2
             + \lambda\Big(\alpha\lVert w\rVert_1 + \frac{1-\alpha}{2}\lVert w\rVert_2^2\Big).
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    lam = check_lambda(lam)
    alpha = _check_alpha(alpha)
    r = y - X @ w
    penalty = alpha * np.abs(w).sum() + 0.5 * (1.0 - alpha) * (w @ w)
    return float(r @ r / (2 * X.shape[0]) + lam * penalty)


def _violations(g, w, l1, l2) -> np.ndarray:
    """Per-coordinate KKT violations given the data gradient ``g = X^T (y - Xw) / n``."""
    on = w != 0
    viol = np.maximum(np.abs(g) - l1, 0.0)
    viol[on] = np.abs(g[on] - l2 * w[on] - l1 * np.sign(w[on]))
    return viol


def kkt_violation(X, y, w, lam, alpha: float = 1.0) -> float:
    r"""Largest violation of the lasso (elastic-net) optimality conditions at ``w``.

    With :math:`g = \frac1n X^\top(y - Xw)` (minus the gradient of the data term), ``w``
    minimises the lasso objective iff :math:`0 \in -g + \lambda\,\partial\lVert w\rVert_1`:

    .. math::
        g_j = \lambda\,\operatorname{sign}(w_j) \quad (w_j \ne 0), \qquad
        \lvert g_j\rvert \le \lambda \quad (w_j = 0).

    The violation is :math:`\lvert g_j - \lambda\operatorname{sign}(w_j)\rvert` on the
    support and :math:`\max(\lvert g_j\rvert - \lambda, 0)` off it; this returns the
    largest over ``j`` (0 at the exact solution).  For the elastic net (``alpha < 1``)
    :math:`\lambda` becomes :math:`\lambda\alpha` and :math:`g_j` becomes
    :math:`g_j - \lambda(1-\alpha)w_j`.
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    lam = check_lambda(lam)
    alpha = _check_alpha(alpha)
    g = X.T @ (y - X @ w) / X.shape[0]
    return float(np.max(_violations(g, w, lam * alpha, lam * (1.0 - alpha))))


def lasso_cd_textbook(X, y, lam, *, n_sweeps: int = 100, w0=None):
    r"""Coordinate descent for the lasso, written to be read (the chapter's derivation).

    Holding every coordinate but :math:`w_j` fixed, the objective is a one-dimensional
    quadratic plus :math:`\lambda|w_j|`, minimised by soft-thresholding:

    .. math::
        \rho_j = \tfrac1n x_j^\top r + s_j w_j, \qquad
        w_j \leftarrow \frac{S_\lambda(\rho_j)}{s_j}, \qquad s_j = \tfrac1n\lVert x_j\rVert^2,

    where :math:`r = y - Xw` is the current residual (so :math:`x_j^\top r/n + s_j w_j` is the
    correlation of :math:`x_j` with the partial residual that leaves :math:`x_j` out).  One
    sweep updates ``j = 0, ..., p-1`` in turn.  This plain loop costs ``O(np)`` per sweep in
    Python; :func:`lasso` runs the same update compiled, with active sets and screening.

    Returns
    -------
    w : array (p,)
        The iterate after ``n_sweeps`` sweeps.
    objective : array (n_sweeps + 1,)
        :func:`lasso_objective` before the first sweep and after each one (non-increasing).
    """
    X, y = check_X_y(X, y)
    lam = check_lambda(lam)
    n_sweeps = check_positive_int(n_sweeps, "n_sweeps", minimum=0)
    n, p = X.shape
    w = np.zeros(p) if w0 is None else check_vector(w0, "w0", size=p).copy()
    r = y - X @ w
    s = np.einsum("ij,ij->j", X, X) / n

    def objective():
        return r @ r / (2 * n) + lam * np.abs(w).sum()

    history = [objective()]
    for _ in range(n_sweeps):
        for j in range(p):
            if s[j] == 0.0:  # a zero column: its weight stays 0
                continue
            rho = X[:, j] @ r / n + s[j] * w[j]
            new = np.sign(rho) * max(abs(rho) - lam, 0.0) / s[j]
            r += X[:, j] * (w[j] - new)
            w[j] = new
        history.append(objective())
    return w, np.array(history)


# -- compiled kernels ---------------------------------------------------------------------
# Both kernels minimise (1/2n)||y - Xw||² + l1_k ||w||_1 + (l2_k / 2) ||w||² for a decreasing
# sequence of (l1_k, l2_k), warm-starting each from the previous solution.  Per λ:
#   1. strong rule (Tibshirani et al. 2012): work set = ever-nonzero ∪ {j : |g_j| >= 2 l1_k - l1_{k-1}};
#   2. sweeps over the work set, then sweeps over its non-zero part until every coordinate
#      is within `tol` of optimal (after POLISH_AFTER, 2·POLISH_AFTER, 4·POLISH_AFTER, ...
#      of these sweeps without convergence, an exact step on the support: see _polish), then
#      a sweep over the work set again;
#   3. KKT check over *all* p coordinates with the exact gradient; violators join the work
#      set and we go back to 2.  So screening is never trusted blindly: every returned
#      solution has KKT violation <= tol unless max_sweeps ran out.
# "gram" keeps g = c - G w for all p (covariance updates, O(p) per changed weight; n > p);
# "resid" keeps the residual r = y - Xw (O(n) per coordinate; p >= n).


@njit(cache=True)
def _soft(z, t):
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


@njit(cache=True)
def _coord_violation(g, w, l1, l2):
    if w > 0.0:
        return abs(g - l2 * w - l1)
    if w < 0.0:
        return abs(g - l2 * w + l1)
    a = abs(g) - l1
    return a if a > 0.0 else 0.0


@njit(cache=True)
def _sweep_gram(G, g, w, idx, m, l1, l2):
    p = g.shape[0]
    worst = 0.0
    for t in range(m):
        j = idx[t]
        wj = w[j]
        v = _coord_violation(g[j], wj, l1, l2)
        if v > worst:
            worst = v
        denom = G[j, j] + l2
        if v == 0.0 or denom <= 0.0:
            continue
        new = _soft(g[j] + G[j, j] * wj, l1) / denom
        d = new - wj
        if d != 0.0:
            w[j] = new
            for i in range(p):
                g[i] -= d * G[j, i]
    return worst


@njit(cache=True, fastmath={"reassoc", "contract"})
def _sweep_resid(Xt, r, w, s, idx, m, l1, l2):
    n = r.shape[0]
    worst = 0.0
    for t in range(m):
        j = idx[t]
        wj = w[j]
        gj = 0.0
        for i in range(n):
            gj += Xt[j, i] * r[i]
        gj /= n
        v = _coord_violation(gj, wj, l1, l2)
        if v > worst:
            worst = v
        denom = s[j] + l2
        if v == 0.0 or denom <= 0.0:
            continue
        new = _soft(gj + s[j] * wj, l1) / denom
        d = new - wj
        if d != 0.0:
            w[j] = new
            for i in range(n):
                r[i] -= d * Xt[j, i]
    return worst


@njit(cache=True)
def _polish(A, b, gram, inv_n, w, g, r, active, n_active, l1, l2):
    """One exact step on the current support S = {j : w_j ≠ 0} with its signs σ.

    On S, with the signs held, the objective is the quadratic
    ``f(w_S) = ½ w_Sᵀ M w_S − c_Sᵀ w_S + l1 σᵀ w_S`` with ``M = X_SᵀX_S/n + l2·I`` and
    ``c_S = X_Sᵀy/n``.
      * M non-singular: its minimiser solves ``M w_S = c_S − l1 σ``; when no sign flips it is
        the minimiser of the objective restricted to S, and replaces ``w``.
      * M singular (more columns in S than independent ones, l2 = 0): along a null vector
        ``d`` of M the data term is constant and the ℓ1 term is linear, so moving w_S along
        ∓d until the first coordinate reaches 0 never increases the objective and shrinks S
        (why a lasso solution with at most n non-zeros exists).
    Either step is kept only if ``f`` does not increase.  This ends the slow zig-zag of
    coordinate descent on an ill-conditioned support; the caller still checks the KKT
    conditions over every coordinate.
    """
    S = np.empty(n_active, dtype=np.int64)
    k = 0
    for a in range(n_active):
        if w[active[a]] != 0.0:
            S[k] = active[a]
            k += 1
    if k == 0:
        return False
    S = S[:k]
    M = np.empty((k, k))
    c = np.empty(k)
    if gram:
        for a in range(k):
            for e in range(k):
                M[a, e] = A[S[a], S[e]]
            c[a] = b[S[a]]
    else:
        Xs = np.empty((k, A.shape[1]))
        for a in range(k):
            Xs[a] = A[S[a]]
        M[:, :] = (Xs @ Xs.T) * inv_n
        c[:] = (Xs @ b) * inv_n
    sigma = np.empty(k)
    old = np.empty(k)
    for a in range(k):
        M[a, a] += l2
        old[a] = w[S[a]]
        sigma[a] = np.sign(old[a])
    ev, vecs = np.linalg.eigh(M)
    if ev[0] > 1e-10 * ev[-1]:
        new = np.linalg.solve(M, c - l1 * sigma)
        for a in range(k):
            if new[a] * old[a] <= 0.0:
                return False  # a sign would flip: not the solution on this orthant
    else:
        d = vecs[:, 0].copy()
        if sigma @ d < 0.0:
            d = -d
        step = np.inf
        first = -1
        for a in range(k):
            if d[a] * sigma[a] > 0.0 and old[a] / d[a] < step:
                step = old[a] / d[a]
                first = a
        if first < 0:
            return False
        new = old - step * d
        new[first] = 0.0
    f_old = 0.5 * old @ (M @ old) - c @ old + l1 * np.sum(np.abs(old))
    f_new = 0.5 * new @ (M @ new) - c @ new + l1 * np.sum(np.abs(new))
    if f_new > f_old:
        return False
    for a in range(k):
        j = S[a]
        delta = new[a] - old[a]
        if delta != 0.0:
            w[j] = new[a]
            if gram:
                g -= delta * A[j]
            else:
                r -= delta * A[j]
    return True


POLISH_AFTER = 200  # support sweeps without convergence before the first exact step (then 400, 800, ...)


@njit(cache=True)
def _cd_path(A, b, gram, l1s, l2s, w, tol, max_sweeps, coefs, n_sweeps, kkts):
    """Path kernel.  gram: A = XᵀX/n, b = Xᵀy/n.  Otherwise: A = Xᵀ (p × n), b = y."""
    p = w.shape[0]
    if gram:
        g = b - A @ w
        s = np.empty(p)
        for j in range(p):
            s[j] = A[j, j]
        r = np.empty(0)
        inv_n = 1.0
    else:
        n = b.shape[0]
        inv_n = 1.0 / n
        r = b - A.T @ w
        g = (A @ r) * inv_n
        s = np.empty(p)
        for j in range(p):
            s[j] = (A[j] @ A[j]) * inv_n
    in_work = np.zeros(p, dtype=np.bool_)
    work = np.empty(p, dtype=np.int64)
    active = np.empty(p, dtype=np.int64)
    n_work = 0
    prev_l1 = 0.0
    for j in range(p):
        if abs(g[j]) > prev_l1:
            prev_l1 = abs(g[j])
    for k in range(l1s.shape[0]):
        l1 = l1s[k]
        l2 = l2s[k]
        if gram and k > 0:
            g = b - A @ w  # refresh: no drift of the incremental updates
        threshold = 2.0 * l1 - prev_l1  # sequential strong rule
        for j in range(p):
            if not in_work[j] and (w[j] != 0.0 or abs(g[j]) >= threshold):
                in_work[j] = True
                work[n_work] = j
                n_work += 1
        sweeps = 0
        worst_all = 0.0
        while True:
            if gram:
                worst = _sweep_gram(A, g, w, work, n_work, l1, l2)
            else:
                worst = _sweep_resid(A, r, w, s, work, n_work, l1, l2)
            sweeps += 1
            if worst > tol and sweeps < max_sweeps:
                n_active = 0
                for t in range(n_work):
                    if w[work[t]] != 0.0:
                        active[n_active] = work[t]
                        n_active += 1
                inner = 0
                next_polish = POLISH_AFTER
                while sweeps < max_sweeps:
                    if gram:
                        worst = _sweep_gram(A, g, w, active, n_active, l1, l2)
                    else:
                        worst = _sweep_resid(A, r, w, s, active, n_active, l1, l2)
                    sweeps += 1
                    inner += 1
                    if worst <= tol:
                        break
                    if inner == next_polish:  # stalled: try an exact step, then back off
                        _polish(A, b, gram, inv_n, w, g, r, active, n_active, l1, l2)
                        next_polish *= 2
                if sweeps < max_sweeps:
                    continue
            # KKT check over every coordinate with the exact gradient
            if not gram:
                g = (A @ r) * inv_n
            worst_all = 0.0
            for j in range(p):
                v = _coord_violation(g[j], w[j], l1, l2)
                if v > worst_all:
                    worst_all = v
                if v > tol and not in_work[j]:
                    in_work[j] = True
                    work[n_work] = j
                    n_work += 1
            if worst_all <= tol or sweeps >= max_sweeps:
                break
        coefs[k] = w
        n_sweeps[k] = sweeps
        kkts[k] = worst_all
        prev_l1 = l1
    return 0


def _check_precompute(precompute):
    if isinstance(precompute, str) and precompute == "auto":
        return precompute
    if isinstance(precompute, (bool, np.bool_)):
        return bool(precompute)
    raise ValueError(f"precompute must be 'auto', True or False; got {precompute!r}")


@dataclass(frozen=True)
class _PathFit:
    coefs: np.ndarray  # (L, p)
    n_sweeps: np.ndarray  # (L,)
    kkt: np.ndarray  # (L,)
    tol_abs: float


#: Seconds after which a first, compiling call of a numba solver says what it is doing.
COMPILE_NOTICE_AFTER_S = 5.0
_COMPILE_NOTICE = (
    "weightdecay.linear: numba is compiling the coordinate-descent solver.\n"
    "This happens once per environment (then it is cached); `make setup` does it ahead."
)


def _with_compile_notice(kernel, *args):
    """Call a numba kernel; if its first call in this process takes longer than
    :data:`COMPILE_NOTICE_AFTER_S` (compiling, or loading a cold cache), say so on stderr."""
    if kernel.signatures:  # compiled, or loaded from the cache, earlier in this process
        return kernel(*args)
    timer = threading.Timer(COMPILE_NOTICE_AFTER_S, lambda: print(_COMPILE_NOTICE, file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        return kernel(*args)
    finally:
        timer.cancel()


def warm_up() -> float:
    """Compile the coordinate-descent solver, or load it from numba's cache; return seconds.

    The first call of :func:`lasso`, :func:`lasso_path`, :func:`elastic_net` or
    :func:`elastic_net_path` in a new environment compiles the solver (tens of seconds);
    numba caches the machine code next to this module (or in ``$NUMBA_CACHE_DIR``), so later
    processes only load it.  ``make setup`` calls this once, so that chapters and tests do
    not pay the compilation.

    Returns
    -------
    float
        Seconds the call took (compiling, loading from the cache, or nothing).

    Examples
    --------
    >>> from weightdecay.linear import warm_up
    >>> warm_up() >= 0
    True
    """
    start = time.perf_counter()
    X = np.array([[1.0, -1.0], [-1.0, 0.5], [0.5, 1.0], [-0.5, -0.5]])
    y = np.array([1.0, -1.0, 0.5, -0.5])
    lasso(X, y, 0.01)  # one compiled kernel holds both the Gram and the residual updates
    return time.perf_counter() - start


def _fit_path(X, y, lams, alpha, w0, tol, max_iter, precompute, what) -> _PathFit:
    """Run the compiled path kernel on validated inputs; warn if a λ did not converge."""
    n, p = X.shape
    L = lams.size
    coefs = np.zeros((L, p))
    n_sweeps = np.zeros(L, dtype=np.int64)
    kkts = np.zeros(L)
    xty_inf = float(np.max(np.abs(X.T @ y)))
    tol_abs = tol * xty_inf / n
    # For lam >= lambda_max the solution is exactly 0 (same expression as lambda_max()).
    top = xty_inf / (n * alpha) if alpha > 0 else np.inf
    start = int(np.count_nonzero(lams >= top)) if xty_inf > 0 else L
    if start == L:
        return _PathFit(coefs, n_sweeps, kkts, tol_abs)
    use_gram = (n > p) if precompute == "auto" else precompute
    if use_gram:
        A = X.T @ X / n
        b = X.T @ y / n
    else:
        A = np.ascontiguousarray(X.T)
        b = np.ascontiguousarray(y)
    w = np.zeros(p) if w0 is None else np.array(w0, dtype=np.float64)
    rest = lams[start:]
    l1s = np.ascontiguousarray(rest * alpha, dtype=np.float64)
    l2s = np.ascontiguousarray(rest * (1.0 - alpha), dtype=np.float64)
    _with_compile_notice(
        _cd_path,
        A, b, bool(use_gram), l1s, l2s, w, float(tol_abs), int(max_iter),
        coefs[start:], n_sweeps[start:], kkts[start:],
    )  # fmt: skip
    bad = kkts > tol_abs
    if np.any(bad):
        i = int(np.argmax(kkts))
        warnings.warn(
            f"{what} did not converge for {int(bad.sum())} of {L} λ: KKT violation "
            f"{kkts[i]:.3e} > tolerance {tol_abs:.3e} at lam={lams[i]:.4g} after "
            f"{max_iter} sweeps; increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=3,
        )
    return _PathFit(coefs, n_sweeps, kkts, tol_abs)


def _validate_solver_args(X, y, tol, max_iter, precompute, w0=None):
    X, y = check_X_y(X, y)
    tol = check_positive_float(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    precompute = _check_precompute(precompute)
    if w0 is not None:
        w0 = check_vector(w0, "w0", size=X.shape[1])
    return X, y, tol, max_iter, precompute, w0


def elastic_net(
    X,
    y,
    lam,
    alpha: float = 0.5,
    *,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    w0=None,
    precompute="auto",
) -> np.ndarray:
    r"""Minimiser of the elastic net in the book's convention, by coordinate descent.

    .. math::
        \frac{1}{2n}\lVert y - Xw\rVert_2^2
        + \lambda\Big(\alpha\lVert w\rVert_1 + \frac{1-\alpha}{2}\lVert w\rVert_2^2\Big),

    so ``alpha = 1`` is the lasso, ``alpha = 0`` is ridge and ``alpha`` in between mixes
    the two (Zou & Hastie 2005); λ sets the overall strength.  The coordinate update is

    .. math::  w_j \leftarrow \frac{S_{\lambda\alpha}\big(\tfrac1n x_j^\top r + s_j w_j\big)}{s_j + \lambda(1-\alpha)},
        \qquad s_j = \tfrac1n\lVert x_j\rVert^2 .

    scikit-learn's ``ElasticNet(alpha=a, l1_ratio=rho)`` is the same objective with
    ``lam = a`` and ``alpha = rho``.  Parameters as in :func:`lasso`.
    """
    X, y, tol, max_iter, precompute, w0 = _validate_solver_args(X, y, tol, max_iter, precompute, w0)
    lam = check_lambda(lam)
    alpha = _check_alpha(alpha)
    fit = _fit_path(X, y, np.array([lam]), alpha, w0, tol, max_iter, precompute, "elastic_net")
    return fit.coefs[0]


def lasso(
    X,
    y,
    lam,
    *,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    w0=None,
    precompute="auto",
) -> np.ndarray:
    r"""Minimiser of :math:`\frac{1}{2n}\lVert y - Xw\rVert^2 + \lambda\lVert w\rVert_1` by coordinate descent.

    Each coordinate update is an exact one-dimensional minimisation, a soft-threshold
    (see :func:`lasso_cd_textbook`), so coefficients are *exactly* zero, not merely small.
    The solver stops when the KKT conditions hold to within ``tol · λ_max``, i.e. when

    .. math::  \max_j \operatorname{viol}_j(w) \le \mathrm{tol}\cdot\lVert X^\top y\rVert_\infty/n

    (see :func:`kkt_violation`), and emits a :class:`ConvergenceWarning` stating the
    violation reached if ``max_iter`` sweeps were not enough.

    Parameters
    ----------
    X : array (n, p)
        Design, centred (no intercept is fitted).
    y : array (n,)
    lam : float >= 0
    tol : float > 0
        Relative KKT tolerance (default ``1e-5``).
    max_iter : int
        Maximum number of sweeps over the working set.
    w0 : array (p,), optional
        Warm start.
    precompute : "auto", bool
        Use the Gram matrix ``XᵀX/n`` (covariance updates); ``"auto"`` does when ``n > p``.

    Returns
    -------
    w : array (p,)
    """
    X, y, tol, max_iter, precompute, w0 = _validate_solver_args(X, y, tol, max_iter, precompute, w0)
    lam = check_lambda(lam)
    fit = _fit_path(X, y, np.array([lam]), 1.0, w0, tol, max_iter, precompute, "lasso")
    return fit.coefs[0]


def _lambda_grid(X, y, alpha, lams, n_lams, eps):
    if lams is not None:
        lams = check_lambdas(lams)
        return np.sort(lams)[::-1].copy()
    n_lams = check_positive_int(n_lams, "n_lams")
    eps = check_positive_float(eps, "eps")
    if eps >= 1:
        raise ValueError(f"eps must lie in (0, 1); got {eps}")
    if alpha == 0:
        raise ValueError("alpha = 0 (pure ridge) has no lambda_max: pass lams explicitly")
    top = lambda_max(X, y, alpha)
    if top == 0:
        raise ValueError("X^T y = 0, so every solution is 0 and lambda_max = 0: pass lams explicitly")
    return np.geomspace(top, eps * top, n_lams)


def elastic_net_path(
    X,
    y,
    alpha: float = 0.5,
    lams=None,
    *,
    n_lams: int = 100,
    eps: float = 1e-3,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    precompute="auto",
):
    """Elastic-net solutions along a decreasing grid of λ, warm-started (see :func:`lasso_path`).

    The default grid runs from ``lambda_max(X, y, alpha) = ||Xᵀy||_∞ / (n·alpha)`` down to
    ``eps`` times that; with ``alpha = 0`` (ridge) there is no such λ and ``lams`` must be
    given.  Returns ``(lams, coefs)`` with ``coefs.shape == (len(lams), p)``.
    """
    X, y, tol, max_iter, precompute, _ = _validate_solver_args(X, y, tol, max_iter, precompute)
    alpha = _check_alpha(alpha)
    lams = _lambda_grid(X, y, alpha, lams, n_lams, eps)
    fit = _fit_path(X, y, lams, alpha, None, tol, max_iter, precompute, "elastic_net_path")
    return lams, fit.coefs


def lasso_path(
    X,
    y,
    lams=None,
    *,
    n_lams: int = 100,
    eps: float = 1e-3,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    precompute="auto",
):
    r"""Lasso solutions along a decreasing grid of λ, each warm-started from the previous one.

    The default grid is ``n_lams`` values, log-spaced from :math:`\lambda_{\max} =
    \lVert X^\top y\rVert_\infty/n` (where the solution is exactly 0) down to
    ``eps · lambda_max``.  A given ``lams`` is sorted into decreasing order.

    The solver is pathwise coordinate descent (Friedman et al. 2010) compiled with numba:
    covariance (Gram) updates when ``n > p``, active-set iterations, and the sequential
    strong rule (Tibshirani et al. 2012) to skip predictors that will almost surely stay at
    0 — every discarded predictor is checked against the KKT conditions afterwards, so the
    answer is the same as without screening.

    Returns
    -------
    lams : array (L,)
        Decreasing.
    coefs : array (L, p)
        ``coefs[k]`` solves the lasso at ``lams[k]`` to KKT tolerance ``tol · lambda_max``.
    """
    X, y, tol, max_iter, precompute, _ = _validate_solver_args(X, y, tol, max_iter, precompute)
    lams = _lambda_grid(X, y, 1.0, lams, n_lams, eps)
    fit = _fit_path(X, y, lams, 1.0, None, tol, max_iter, precompute, "lasso_path")
    return lams, fit.coefs


@dataclass(frozen=True)
class PathEvent:
    """A change of the active set between two consecutive λ of a path."""

    index: int  # position k in the path: the change happens between lams[k-1] and lams[k]
    lam: float  # lams[k]
    entered: tuple[int, ...]
    left: tuple[int, ...]


def path_events(lams, coefs) -> list[PathEvent]:
    """Where variables enter and leave the active set ``{j : w_j ≠ 0}`` along a path.

    ``lams`` must be decreasing and ``coefs`` of shape ``(len(lams), p)`` (the output of
    :func:`lasso_path`).  Returns one :class:`PathEvent` per λ at which the support differs
    from the previous λ; the support of the first λ counts as entered.  The lasso support
    is not monotone: variables can leave as λ decreases.
    """
    lams = check_lambdas(lams)
    coefs = check_matrix(coefs, "coefs")
    if coefs.shape[0] != lams.size:
        raise ValueError(f"coefs must have {lams.size} rows (one per λ); got {coefs.shape[0]}")
    if np.any(np.diff(lams) > 0):
        raise ValueError("lams must be in decreasing order")
    events = []
    prev = np.zeros(coefs.shape[1], dtype=bool)
    for k, (lam, w) in enumerate(zip(lams, coefs)):
        now = w != 0
        entered = tuple(int(j) for j in np.flatnonzero(now & ~prev))
        left = tuple(int(j) for j in np.flatnonzero(prev & ~now))
        if entered or left:
            events.append(PathEvent(k, float(lam), entered, left))
        prev = now
    return events


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


def cross_validate_lasso(
    X,
    y,
    lams=None,
    k: int = 5,
    rng=0,
    *,
    alpha: float = 1.0,
    n_lams: int = 100,
    eps: float = 1e-3,
    standardize_folds: bool = True,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> CVResult:
    """k-fold cross-validated mean squared error of the lasso (elastic net) along a λ grid.

    The grid is shared by all folds: ``lams`` if given, else ``n_lams`` values log-spaced
    from ``lambda_max`` of the whole (standardised) data down to ``eps`` times it.  In each
    fold the training part is standardised, the path is fitted with :func:`lasso_path`
    (:func:`elastic_net_path` for ``alpha < 1``), and the validation part is predicted with
    the training statistics, as in :func:`cross_validate_ridge`.  Returns a
    :class:`CVResult`; ``lam_1se`` is the largest λ within one standard error of the
    minimum, the usual sparser choice.
    """
    X, y = check_X_y(X, y)
    alpha = _check_alpha(alpha)
    if lams is None:
        Xs, ys = (standardize(X, y)[:2]) if standardize_folds else (X, y)
        lams = _lambda_grid(Xs, ys, alpha, None, n_lams, eps)
    else:
        lams = _lambda_grid(X, y, alpha, lams, n_lams, eps)
    folds = kfold_indices(X.shape[0], k, rng)
    fold_mse = np.empty((len(folds), lams.size))
    for i, (tr, va) in enumerate(folds):
        if standardize_folds:
            Xtr, ytr, st = standardize(X[tr], y[tr])
            _, W = elastic_net_path(Xtr, ytr, alpha, lams, tol=tol, max_iter=max_iter)
            pred = st.transform(X[va]) @ W.T + st.y_mean
        else:
            _, W = elastic_net_path(X[tr], y[tr], alpha, lams, tol=tol, max_iter=max_iter)
            pred = X[va] @ W.T
        fold_mse[i] = np.mean((y[va][:, None] - pred) ** 2, axis=0)
    return _summarise_cv(lams, fold_mse)


# ---------------------------------------------------------------------------
# Adversarial training of a linear model
# ---------------------------------------------------------------------------
def adversarial_squared_loss(X, y, w, eps, norm: str = "l2") -> float:
    r"""Worst-case squared loss when every input may be perturbed within a norm ball.

    .. math::

        \frac1{2n}\sum_i \max_{\lVert\delta_i\rVert\le\varepsilon}
        \big(y_i - (x_i + \delta_i)^\top w\big)^2
        = \frac1{2n}\sum_i \big(\lvert y_i - x_i^\top w\rvert + \varepsilon\lVert w\rVert_*\big)^2 ,

    where :math:`\lVert\cdot\rVert_*` is the dual norm: :math:`\lVert w\rVert_2` for
    ``norm="l2"`` perturbations, :math:`\lVert w\rVert_1` for ``norm="linf"``.  The inner
    maximum is attained at :math:`\delta_i = -\operatorname{sign}(r_i)\,\varepsilon\,u` with
    :math:`u^\top w = \lVert w\rVert_*`, :math:`\lVert u\rVert\le 1`
    (:math:`u = w/\lVert w\rVert_2`, resp. :math:`u = \operatorname{sign}(w)`), by Hölder's
    inequality.  So adversarial training of a linear model is itself a norm-penalised
    regression: robustness and weight penalties work together, not against each other.
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    eps = check_lambda(eps, "eps")
    if norm == "l2":
        dual = float(np.linalg.norm(w))
    elif norm == "linf":
        dual = float(np.abs(w).sum())
    else:
        raise ValueError(f"norm must be 'l2' or 'linf'; got {norm!r}")
    r = np.abs(y - X @ w)
    return float(np.sum((r + eps * dual) ** 2) / (2 * X.shape[0]))
