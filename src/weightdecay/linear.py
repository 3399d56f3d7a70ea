r"""Ridge regression and the lasso, in the book's convention.

Every function here minimises, for a centred design ``X`` (n × p) and response ``y``,

.. math::

    L(w) = \frac{1}{2n}\lVert y - Xw\rVert_2^2 + \lambda R(w),

with :math:`R(w) = \tfrac12\lVert w\rVert_2^2` (ridge) or :math:`R(w) = \lVert w\rVert_1`
(lasso); the elastic net mixes the two with ``l1_ratio`` (scikit-learn's name).

The functions fit no intercept: centre and scale the data first with :func:`standardize`.
Given clearly uncentred data, :func:`ridge`, :func:`lasso`, :func:`elastic_net` and their
path functions say so once per call with an :class:`UncenteredDataWarning`.
For coursework, the scikit-learn estimators :class:`Ridge`, :class:`Lasso` and
:class:`ElasticNet` wrap the same solvers with an intercept (``fit``/``predict``/``score``,
usable in ``Pipeline`` and ``GridSearchCV``); they load scikit-learn on first use.

Every path function returns ``(lams, coefs)`` with ``coefs`` of shape ``(len(lams), p)``.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
from numba import njit

from ._spectral import thin_svd
from .validation import (
    check_lambda,
    check_lambda_grid,
    check_matrix,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_vector,
    check_X_y,
)

__all__ = [
    "Standardization",
    "standardize",
    "UncenteredDataWarning",
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
    """Centring and scaling learnt on training data, to apply to new data.

    Returned by :func:`standardize`; apply it to test data with :meth:`transform`.

    Parameters
    ----------
    x_mean : ndarray of shape (p,)
        Column means of the training design.
    x_scale : ndarray of shape (p,)
        Column standard deviations of the training design (1 for constant columns).
    y_mean : float
        Mean of the training response (0 when no response was given).

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import standardize
    >>> X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    >>> Xs, stats = standardize(X)
    >>> stats.x_mean, np.round(stats.x_scale, 4)
    (array([ 3., 10.]), array([1.633, 1.   ]))
    >>> np.round(stats.transform([[3.0, 10.0]]), 3)
    array([[0., 0.]])
    """

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float

    def transform(self, X, y=None):
        """Apply the training-set centring/scaling to ``X`` (and ``y`` if given).

        Parameters
        ----------
        X : array-like of shape (m, p)
            New data with the training design's columns.
        y : array-like of shape (m,), optional
            New responses; centred with the training mean.

        Returns
        -------
        Xs : ndarray of shape (m, p)
            ``(X - x_mean) / x_scale``.
        ys : ndarray of shape (m,)
            ``y - y_mean``; returned only when ``y`` is given.

        Raises
        ------
        ValueError
            If ``X`` does not have ``p`` columns, or ``y`` does not match its rows.
        """
        X = check_matrix(X, "X")
        if X.shape[1] != self.x_mean.shape[0]:
            raise ValueError(f"X must have {self.x_mean.shape[0]} columns; got {X.shape[1]}")
        Xs = (X - self.x_mean) / self.x_scale
        if y is None:
            return Xs
        _, y = check_X_y(X, y)
        return Xs, y - self.y_mean

    def intercept(self, w) -> float:
        """Intercept in original units of a model fitted on standardised data.

        Parameters
        ----------
        w : array-like of shape (p,)
            Coefficients fitted on the standardised design.

        Returns
        -------
        float
            ``y_mean - (x_mean / x_scale) @ w``, so that ``X @ (w / x_scale) + intercept``
            equals ``Xs @ w + y_mean``.
        """
        return float(self.y_mean - np.dot(self.x_mean / self.x_scale, np.asarray(w, float)))


def standardize(X, y=None):
    """Centre each column of ``X`` and scale it to unit root-mean-square; centre ``y``.

    After this, every column satisfies ``x_j.mean() == 0`` and ``||x_j||² = n``, the usual
    setting in which lasso and ridge penalties treat all features alike.  Constant columns
    (a standard deviation below ``1e-12`` times the mean counts as rounding) become zero
    (scale 1).

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design matrix.
    y : array-like of shape (n,), optional
        Response.

    Returns
    -------
    Xs : ndarray of shape (n, p)
        The standardised design.
    ys : ndarray of shape (n,)
        The centred response; returned only when ``y`` is given.
    stats : Standardization
        The training statistics, to apply to test data.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D numeric array or ``y`` does not match its rows.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import standardize
    >>> X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 9.0]])
    >>> Xs, ys, stats = standardize(X, np.array([10.0, 11.0, 15.0]))
    >>> np.round(Xs.mean(axis=0), 12) + 0.0, np.round((Xs**2).sum(axis=0), 12)
    (array([0., 0.]), array([3., 3.]))
    >>> ys, stats.y_mean
    (array([-2., -1.,  3.]), 12.0)
    """
    if y is None:
        X = check_matrix(X, "X")
    else:
        X, y = check_X_y(X, y)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    # a constant column can have a rounding-level spread (0.1 + 0.1 + 0.1 != 0.3): not a scale
    constant = scale <= 1e-12 * np.abs(mean)
    scale = np.where(constant, 1.0, scale)
    y_mean = float(y.mean()) if y is not None else 0.0
    stats = Standardization(mean, scale, y_mean)
    Xs = (X - mean) / scale
    Xs[:, constant] = 0.0
    if y is None:
        return Xs, stats
    return Xs, y - y_mean, stats


# ---------------------------------------------------------------------------
# The centred convention: a warning for uncentred data
# ---------------------------------------------------------------------------
class UncenteredDataWarning(UserWarning):
    """The data given to a function that fits no intercept are clearly not centred.

    :func:`ridge`, :func:`lasso`, :func:`elastic_net` and their path functions follow the
    book's convention: centred ``X`` and ``y``, no intercept.  On data with an offset they
    fit a model forced through the origin, which is rarely what was meant.  They emit this
    warning once per call when a column of ``X``, or ``y``, has a mean that is both large
    against its standard deviation (``|mean| > 0.1 · std``) and far outside sampling noise:
    its t-statistic ``|mean| · sqrt(n - 1) / std`` exceeds the two-sided ``1e-9`` quantile
    of Student's t with ``n - 1`` degrees of freedom (about 6 standard errors for large
    ``n``, more for small ``n``, whose standard deviation is itself uncertain).  So
    zero-mean random designs and standardised data do not trigger it.  A constant non-zero
    column (an explicit intercept column) counts as uncentred: it would be penalised like
    any coefficient.

    To fix it, centre the data (:func:`standardize`) or use the estimators
    :class:`Ridge`, :class:`Lasso`, :class:`ElasticNet`, which fit an intercept.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from weightdecay.linear import UncenteredDataWarning, ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> y = 100 + X[:, 0] + rng.standard_normal(50)  # mean 100: an intercept is missing
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     w = ridge(X, y, 0.1)
    >>> [issubclass(c.category, UncenteredDataWarning) for c in caught]
    [True]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error")  # centred: no warning
    ...     w = ridge(X, y - y.mean(), 0.1)
    """


#: A column is uncentred when |mean| exceeds this fraction of its standard deviation ...
UNCENTRED_RELATIVE = 0.1
#: ... and its t-statistic has a two-sided tail probability below this under a zero mean
#: (about 6.1 standard errors for large n).
UNCENTRED_TAIL = 1e-9


@functools.lru_cache(maxsize=512)
def _t_threshold(n: int) -> float:
    """Two-sided ``UNCENTRED_TAIL`` quantile of Student's t with ``n - 1`` degrees of freedom."""
    from scipy.special import stdtrit  # loaded on first use

    return float(stdtrit(n - 1, 1.0 - UNCENTRED_TAIL / 2))


def _uncentred(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Columns of ``A`` (n × k) whose mean is clearly non-zero; also their means and stds."""
    n = A.shape[0]
    mean = A.mean(axis=0)
    std = A.std(axis=0)
    if n < 2:  # one row: nothing to compare the mean with
        return np.zeros(A.shape[1], dtype=bool), mean, std, std == 0
    size = np.abs(mean)
    # rounding-level means (e.g. a constant column left at ~1e-17 by standardize) do not count
    floor = 1e-8 * float(np.sqrt(np.mean(A**2, axis=0)).max(initial=0.0))
    significant = size * np.sqrt(n - 1) > _t_threshold(n) * std  # t-test of a zero mean
    bad = (size > UNCENTRED_RELATIVE * std) & significant & (size > floor)
    return bad, mean, std, std == 0


def _warn_if_uncentred(X: np.ndarray, y: np.ndarray, func: str) -> None:
    """Emit one :class:`UncenteredDataWarning` for the caller of ``func`` if X or y is offset."""
    bad_x, mean_x, std_x, const_x = _uncentred(X)
    bad_y, mean_y, std_y, _ = _uncentred(y[:, None])
    if not (bad_x.any() or bad_y[0]):
        return
    parts = []
    if bad_x.any():
        cols = np.flatnonzero(bad_x)
        j = int(cols[np.argmax(np.abs(mean_x[cols]) / np.maximum(std_x[cols], np.finfo(float).tiny))])
        listed = ", ".join(str(int(c)) for c in cols[:8]) + (", ..." if cols.size > 8 else "")
        parts.append(f"column(s) {listed} of X (column {j}: mean {mean_x[j]:.3g}, standard deviation {std_x[j]:.3g})")
    if bad_y[0]:
        parts.append(f"y (mean {mean_y[0]:.3g}, standard deviation {std_y[0]:.3g})")
    message = (
        f"{func}: {' and '.join(parts)} not centred.  The functions of weightdecay.linear fit no "
        "intercept (the book's centred convention), so this fit is forced through the origin.  "
        "Centre the data first (e.g. with weightdecay.linear.standardize) or use the estimators "
        "weightdecay.linear.Ridge/Lasso/ElasticNet (fit_intercept=True)."
    )
    constant = np.flatnonzero(bad_x & const_x)
    if constant.size:
        message += (
            f"  Column(s) {', '.join(str(int(c)) for c in constant[:8])} of X are constant: an explicit "
            "intercept column would be penalised like any other coefficient."
        )
    warnings.warn(message, UncenteredDataWarning, stacklevel=3)


# ---------------------------------------------------------------------------
# Ridge
# ---------------------------------------------------------------------------
def _ridge_svd(X, y, lams) -> np.ndarray:
    """Ridge coefficients ``(len(lams), p)`` on validated arrays, from one thin SVD."""
    n = X.shape[0]
    U, d, Vt = thin_svd(X)
    Uty = U.T @ y
    factors = d[None, :] / (d[None, :] ** 2 + n * lams[:, None])  # (L, r)
    return (factors * Uty[None, :]) @ Vt


def _ridge_coefs(X, y, lams) -> np.ndarray:
    """The coefficients of :func:`ridge_path`, without the check for uncentred data.

    For the package's own callers that fit without an intercept on purpose (random
    features, dropout's rescaled design, ...).  ``lams`` may be a scalar (one λ).
    """
    X, y = check_X_y(X, y)
    lams = check_lambda_grid(lams, "lams", allow_scalar=True)
    return _ridge_svd(X, y, lams)


def ridge(X, y, lam) -> np.ndarray:
    r"""Minimiser of :math:`\frac{1}{2n}\lVert y - Xw\rVert^2 + \frac{\lambda}{2}\lVert w\rVert^2`.

    Setting the gradient :math:`-\frac1n X^\top(y - Xw) + \lambda w` to zero gives the normal
    equations :math:`(X^\top X + n\lambda I)\,w = X^\top y`.  With the thin SVD
    :math:`X = UDV^\top` the solution is

    .. math::  \hat w(\lambda) = V\,\mathrm{diag}\!\Big(\frac{d_j}{d_j^2 + n\lambda}\Big)\,U^\top y,

    which for ``lam = 0`` is the minimum-norm least-squares solution (singular values below
    the numerical rank tolerance are dropped).  No intercept is fitted: on clearly
    uncentred ``X`` or ``y`` an :class:`UncenteredDataWarning` says so (use :func:`standardize`
    or the estimator :class:`Ridge`).

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred (no intercept is fitted).
    y : array-like of shape (n,)
        Response, centred.
    lam : float
        Penalty strength λ ≥ 0.

    Returns
    -------
    w : ndarray of shape (p,)
        The ridge coefficients.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not a finite number, or ``X``/``y`` are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import ridge
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # XᵀX = 2 I
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> ridge(X, y, 0.0)  # least squares
    array([2., 1.])
    >>> ridge(X, y, 0.5)  # shrunk by 2 / (2 + n λ) = 1/2
    array([1. , 0.5])
    """
    X, y = check_X_y(X, y)
    lam = check_lambda(lam)
    _warn_if_uncentred(X, y, "ridge")
    return _ridge_svd(X, y, np.array([lam]))[0]


def ridge_path(X, y, lams):
    """Ridge solutions for every ``lam`` in ``lams`` from a single SVD.

    Row ``k`` of ``coefs`` is ``ridge(X, y, lams[k])``.  The SVD costs ``O(n p min(n, p))``
    once; each extra λ costs only ``O(p min(n, p))``.  Unlike :func:`lasso_path`, the grid
    keeps the order given (ridge needs no warm starts).  One :class:`UncenteredDataWarning`
    per call on clearly uncentred data, as for :func:`ridge`.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred (no intercept is fitted).
    y : array-like of shape (n,)
        Response, centred.
    lams : sequence of float
        Penalty strengths λ ≥ 0, a non-empty 1-D sequence (not a scalar).

    Returns
    -------
    lams : ndarray of shape (L,)
        The λ values, as float64, in the order given.
    coefs : ndarray of shape (L, p)
        ``coefs[k]`` is the ridge solution at ``lams[k]``.

    Raises
    ------
    ValueError
        If ``lams`` is not a non-empty 1-D sequence of finite numbers ≥ 0 (a string, a
        bool, a scalar, NaN or a negative value), or ``X``/``y`` are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import ridge_path
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> lams, coefs = ridge_path(X, y, [0.0, 0.5, 1.5])
    >>> coefs.shape
    (3, 2)
    >>> coefs[:, 0]
    array([2. , 1. , 0.5])
    """
    X, y = check_X_y(X, y)
    lams = check_lambda_grid(lams, "lams")
    _warn_if_uncentred(X, y, "ridge_path")
    return lams, _ridge_svd(X, y, lams)


def ridge_shrinkage(X, lams) -> np.ndarray:
    r"""Shrinkage factors :math:`d_j^2/(d_j^2 + n\lambda)` along the principal directions.

    Ridge multiplies the least-squares coefficient along the j-th right singular vector by
    this factor: every direction is shrunk, none is set to zero.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design.
    lams : float or sequence of float
        Penalty strengths λ ≥ 0.

    Returns
    -------
    ndarray of shape (len(lams), min(n, p))
        Row ``k``: the factors at ``lams[k]``, by decreasing singular value.

    Raises
    ------
    ValueError
        If ``lams`` holds a string, a bool, NaN, inf or a negative value.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import ridge_shrinkage
    >>> X = np.diag([2.0, 1.0])  # singular values 2 and 1, n = 2
    >>> ridge_shrinkage(X, [0.0, 0.5])
    array([[1. , 1. ],
           [0.8, 0.5]])
    """
    X = check_matrix(X, "X")
    lams = check_lambda_grid(lams, "lams", allow_scalar=True)
    d = np.linalg.svd(X, compute_uv=False)
    return d[None, :] ** 2 / (d[None, :] ** 2 + X.shape[0] * lams[:, None])


def ridge_df(X, lams) -> np.ndarray:
    r"""Effective degrees of freedom :math:`\mathrm{df}(\lambda) = \sum_j d_j^2/(d_j^2 + n\lambda)`.

    This is the trace of the hat matrix :math:`X(X^\top X + n\lambda I)^{-1}X^\top`; it falls
    from ``rank(X)`` at ``lam = 0`` towards 0 as ``lam → ∞``.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design.
    lams : float or sequence of float
        Penalty strengths λ ≥ 0.

    Returns
    -------
    ndarray of shape (len(lams),)
        ``df(λ)`` for every λ.

    Raises
    ------
    ValueError
        If ``lams`` holds a string, a bool, NaN, inf or a negative value.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import ridge_df
    >>> X = np.diag([2.0, 1.0])
    >>> ridge_df(X, [0.0, 0.5])
    array([2. , 1.3])
    """
    X = check_matrix(X, "X")
    lams = check_lambda_grid(lams, "lams", allow_scalar=True)
    d = thin_svd(X, compute_uv=False)
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
    (``y`` is then used as given).  The whole grid costs one SVD: no refitting.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design; centred columns when ``intercept=True``.
    y : array-like of shape (n,)
        Response.
    lams : float or sequence of float
        Penalty strengths λ ≥ 0.
    intercept : bool, default True
        Count the degree of freedom of an (implicit) intercept.

    Returns
    -------
    ndarray of shape (len(lams),)
        The GCV score for every λ (``inf`` where :math:`\mathrm{df}_{\mathrm{tot}} = n`).

    Raises
    ------
    ValueError
        If ``intercept=True`` and ``X`` has a column with non-zero mean, if ``intercept``
        is not a bool, or if ``lams`` is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import ridge_gcv
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 3))
    >>> X -= X.mean(axis=0)
    >>> y = X @ np.array([1.0, 0.0, -1.0]) + rng.standard_normal(30)
    >>> scores = ridge_gcv(X, y - y.mean(), [1e-3, 1.0, 100.0])
    >>> scores.shape, int(np.argmin(scores))
    ((3,), 0)
    """
    X, y = check_X_y(X, y)
    lams = check_lambda_grid(lams, "lams", allow_scalar=True)
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
    U, d, _ = thin_svd(X)
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
    """Coordinate descent stopped at ``max_iter`` sweeps before meeting the KKT tolerance.

    The message states the KKT violation reached, the tolerance and the λ; raise
    ``max_iter`` or ``tol`` to remove it.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from weightdecay.linear import ConvergenceWarning, lasso
    >>> rng = np.random.default_rng(0)
    >>> base = rng.standard_normal((30, 2))
    >>> X = np.column_stack([base, base + 1e-3 * rng.standard_normal((30, 2))])
    >>> y = rng.standard_normal(30)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     w = lasso(X, y, 1e-4, max_iter=1, tol=1e-12)
    >>> [c.category.__name__ for c in caught]
    ['ConvergenceWarning']
    """


#: Default relative tolerance: a solution is accepted when its KKT violation is at most
#: ``tol * ||X^T y||_inf / n`` (that is, ``tol * lambda_max`` for the lasso).
DEFAULT_TOL = 1e-5
#: Default cap on the number of coordinate-descent sweeps spent on each λ.
DEFAULT_MAX_ITER = 10_000


def _check_l1_ratio(l1_ratio, *, allow_zero: bool = True) -> float:
    return check_probability(l1_ratio, "l1_ratio", allow_one=True, allow_zero=allow_zero)


def _l1_ratio(l1_ratio, alpha, default: float, func: str, *, allow_zero: bool = True) -> float:
    """Validate ``l1_ratio``, honouring the deprecated keyword ``alpha`` (one release)."""
    if alpha is not None:
        try:
            explicit = bool(l1_ratio != default)
        except (TypeError, ValueError):
            explicit = True
        if explicit:
            raise ValueError(f"{func}: give the L1/L2 mix once, as l1_ratio (alpha is its deprecated name)")
        warnings.warn(
            f"{func}(alpha=...) is deprecated: the L1/L2 mix is now called l1_ratio, scikit-learn's "
            f"name; pass l1_ratio={alpha!r}.  alpha= will be removed in the next release.",
            DeprecationWarning,
            stacklevel=3,
        )
        l1_ratio = alpha
    return _check_l1_ratio(l1_ratio, allow_zero=allow_zero)


def soft_threshold(z, t):
    r"""Soft-thresholding operator :math:`S_t(z) = \operatorname{sign}(z)\,\max(|z| - t,\ 0)`.

    It is the proximal map of :math:`t\,|\cdot|`, i.e. the minimiser of
    :math:`\tfrac12 (b - z)^2 + t\,|b|`: values with :math:`|z| \le t` become exactly 0,
    larger ones move towards 0 by ``t``.  Works elementwise on arrays (``z`` and ``t``
    broadcast); a scalar ``z`` with a scalar ``t`` gives a float.

    Parameters
    ----------
    z : float or array-like
        The values to shrink.
    t : float or array-like
        Thresholds, ≥ 0, broadcasting against ``z``.

    Returns
    -------
    float or ndarray
        :math:`S_t(z)`; a float when both arguments are scalars.

    Raises
    ------
    ValueError
        If ``t`` is negative, an entry is not finite, or the shapes do not broadcast.

    Examples
    --------
    >>> from weightdecay.linear import soft_threshold
    >>> soft_threshold([-3.0, -0.5, 0.2, 2.5], 1.0)
    array([-2. ,  0. ,  0. ,  1.5])
    >>> soft_threshold(2.0, 0.5)
    1.5
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


def lambda_max(X, y, l1_ratio: float = 1.0, *, alpha: float | None = None) -> float:
    r"""Smallest λ whose lasso (or elastic-net) solution is exactly zero.

    :math:`w = 0` is optimal iff :math:`0 \in \partial L(0)`, i.e.
    :math:`\lvert x_j^\top y\rvert / n \le \lambda\rho` for every ``j``, with
    :math:`\rho` = ``l1_ratio``.  Hence

    .. math::  \lambda_{\max} = \frac{\lVert X^\top y\rVert_\infty}{n\,\rho},

    with ``l1_ratio = 1`` for the lasso.  For every ``lam >= lambda_max`` the solution is 0;
    for every ``lam < lambda_max`` it is not.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred.
    y : array-like of shape (n,)
        Response, centred.
    l1_ratio : float, default 1.0
        Share of the L1 penalty, in (0, 1] (1: lasso).
    alpha : float, optional
        Deprecated name of ``l1_ratio`` (``DeprecationWarning``); removed in the next release.

    Returns
    -------
    float
        :math:`\lambda_{\max}`.

    Raises
    ------
    ValueError
        If ``l1_ratio`` is not in (0, 1] (pure ridge has no such λ).

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import lambda_max, lasso
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> lambda_max(X, y), lambda_max(X, y, l1_ratio=0.5)
    (1.0, 2.0)
    >>> lasso(X, y, 1.0)
    array([0., 0.])
    """
    X, y = check_X_y(X, y)
    l1_ratio = _l1_ratio(l1_ratio, alpha, 1.0, "lambda_max", allow_zero=False)
    return float(np.max(np.abs(X.T @ y))) / (X.shape[0] * l1_ratio)


def lasso_objective(X, y, w, lam, l1_ratio: float = 1.0, *, alpha: float | None = None) -> float:
    r"""Elastic-net objective in the book's convention (the lasso for ``l1_ratio = 1``).

    .. math::
        L(w) = \frac{1}{2n}\lVert y - Xw\rVert_2^2
             + \lambda\Big(\rho\lVert w\rVert_1 + \frac{1-\rho}{2}\lVert w\rVert_2^2\Big),

    with :math:`\rho` = ``l1_ratio``.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design.
    y : array-like of shape (n,)
        Response.
    w : array-like of shape (p,)
        Coefficients at which to evaluate.
    lam : float
        Penalty strength λ ≥ 0.
    l1_ratio : float, default 1.0
        Share of the L1 penalty, in [0, 1] (1: lasso, 0: ridge).
    alpha : float, optional
        Deprecated name of ``l1_ratio`` (``DeprecationWarning``); removed in the next release.

    Returns
    -------
    float
        :math:`L(w)`.

    Raises
    ------
    ValueError
        If ``w`` does not have ``p`` entries, ``lam < 0`` or ``l1_ratio`` is outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import lasso_objective
    >>> X, y = np.eye(2), np.array([1.0, -1.0])
    >>> lasso_objective(X, y, np.zeros(2), 0.5)  # (1/4) * 2
    0.5
    >>> lasso_objective(X, y, np.array([1.0, 0.0]), 0.5, l1_ratio=0.5)  # 1/4 + 0.5 (0.5 + 0.25)
    0.625
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    lam = check_lambda(lam)
    l1_ratio = _l1_ratio(l1_ratio, alpha, 1.0, "lasso_objective")
    r = y - X @ w
    penalty = l1_ratio * np.abs(w).sum() + 0.5 * (1.0 - l1_ratio) * (w @ w)
    return float(r @ r / (2 * X.shape[0]) + lam * penalty)


def _violations(g, w, l1, l2) -> np.ndarray:
    """Per-coordinate KKT violations given the data gradient ``g = X^T (y - Xw) / n``."""
    on = w != 0
    viol = np.maximum(np.abs(g) - l1, 0.0)
    viol[on] = np.abs(g[on] - l2 * w[on] - l1 * np.sign(w[on]))
    return viol


def kkt_violation(X, y, w, lam, l1_ratio: float = 1.0, *, alpha: float | None = None) -> float:
    r"""Largest violation of the lasso (elastic-net) optimality conditions at ``w``.

    With :math:`g = \frac1n X^\top(y - Xw)` (minus the gradient of the data term), ``w``
    minimises the lasso objective iff :math:`0 \in -g + \lambda\,\partial\lVert w\rVert_1`:

    .. math::
        g_j = \lambda\,\operatorname{sign}(w_j) \quad (w_j \ne 0), \qquad
        \lvert g_j\rvert \le \lambda \quad (w_j = 0).

    The violation is :math:`\lvert g_j - \lambda\operatorname{sign}(w_j)\rvert` on the
    support and :math:`\max(\lvert g_j\rvert - \lambda, 0)` off it; this returns the
    largest over ``j`` (0 at the exact solution).  For the elastic net (``l1_ratio`` =
    :math:`\rho < 1`) :math:`\lambda` becomes :math:`\lambda\rho` and :math:`g_j` becomes
    :math:`g_j - \lambda(1-\rho)w_j`.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design.
    y : array-like of shape (n,)
        Response.
    w : array-like of shape (p,)
        Candidate solution.
    lam : float
        Penalty strength λ ≥ 0.
    l1_ratio : float, default 1.0
        Share of the L1 penalty, in [0, 1] (1: lasso).
    alpha : float, optional
        Deprecated name of ``l1_ratio`` (``DeprecationWarning``); removed in the next release.

    Returns
    -------
    float
        The largest KKT violation, 0 at the exact minimiser.

    Raises
    ------
    ValueError
        If ``w`` does not have ``p`` entries, ``lam < 0`` or ``l1_ratio`` is outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import kkt_violation
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])  # Xᵀy / n = (1, 0.5)
    >>> kkt_violation(X, y, np.array([1.0, 0.0]), 0.5)  # the lasso solution at λ = 0.5
    0.0
    >>> kkt_violation(X, y, np.zeros(2), 0.5)  # |g_0| - λ = 1 - 0.5
    0.5
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    lam = check_lambda(lam)
    l1_ratio = _l1_ratio(l1_ratio, alpha, 1.0, "kkt_violation")
    g = X.T @ (y - X @ w) / X.shape[0]
    return float(np.max(_violations(g, w, lam * l1_ratio, lam * (1.0 - l1_ratio))))


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

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred.
    y : array-like of shape (n,)
        Response, centred.
    lam : float
        Penalty strength λ ≥ 0.
    n_sweeps : int, default 100
        Number of sweeps over all coordinates (≥ 0).
    w0 : array-like of shape (p,), optional
        Starting point (default 0).

    Returns
    -------
    w : ndarray of shape (p,)
        The iterate after ``n_sweeps`` sweeps.
    objective : ndarray of shape (n_sweeps + 1,)
        :func:`lasso_objective` before the first sweep and after each one (non-increasing).

    Raises
    ------
    ValueError
        If ``lam < 0``, ``n_sweeps < 0`` or ``w0`` does not have ``p`` entries.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import lasso_cd_textbook
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> w, history = lasso_cd_textbook(X, y, 0.5, n_sweeps=2)
    >>> w, history.shape  # orthogonal columns: one sweep is exact
    (array([1., 0.]), (3,))
    """
    X, y = check_X_y(X, y)
    lam = check_lambda(lam)
    n_sweeps = check_nonnegative_int(n_sweeps, "n_sweeps")
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
    """Call a numba kernel, saying on stderr when its first call is slow.

    If the first call in this process takes longer than :data:`COMPILE_NOTICE_AFTER_S`
    (compiling, or loading a cold cache), a notice is printed once.
    """
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


def _fit_path(X, y, lams, l1_ratio, w0, tol, max_iter, precompute, what) -> _PathFit:
    """Run the compiled path kernel on validated inputs; warn if a λ did not converge."""
    n, p = X.shape
    L = lams.size
    coefs = np.zeros((L, p))
    n_sweeps = np.zeros(L, dtype=np.int64)
    kkts = np.zeros(L)
    xty_inf = float(np.max(np.abs(X.T @ y)))
    tol_abs = tol * xty_inf / n
    # For lam >= lambda_max the solution is exactly 0 (same expression as lambda_max()).
    top = xty_inf / (n * l1_ratio) if l1_ratio > 0 else np.inf
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
    l1s = np.ascontiguousarray(rest * l1_ratio, dtype=np.float64)
    l2s = np.ascontiguousarray(rest * (1.0 - l1_ratio), dtype=np.float64)
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
    l1_ratio: float = 0.5,
    *,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    w0=None,
    precompute="auto",
    alpha: float | None = None,
) -> np.ndarray:
    r"""Minimiser of the elastic net in the book's convention, by coordinate descent.

    .. math::
        \frac{1}{2n}\lVert y - Xw\rVert_2^2
        + \lambda\Big(\rho\lVert w\rVert_1 + \frac{1-\rho}{2}\lVert w\rVert_2^2\Big),

    with :math:`\rho` = ``l1_ratio``: ``l1_ratio = 1`` is the lasso, ``l1_ratio = 0`` is ridge and values in between mix
    the two (Zou & Hastie 2005); λ sets the overall strength.  The coordinate update is

    .. math::  w_j \leftarrow \frac{S_{\lambda\rho}\big(\tfrac1n x_j^\top r + s_j w_j\big)}{s_j + \lambda(1-\rho)},
        \qquad s_j = \tfrac1n\lVert x_j\rVert^2 .

    scikit-learn's ``ElasticNet(alpha=a, l1_ratio=rho)`` is the same objective with
    ``lam = a`` and ``l1_ratio = rho``.  No intercept is fitted: on clearly uncentred data
    an :class:`UncenteredDataWarning` says so (see :class:`ElasticNet` for an intercept).

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred (no intercept is fitted).
    y : array-like of shape (n,)
        Response, centred.
    lam : float
        Penalty strength λ ≥ 0.
    l1_ratio : float, default 0.5
        Share of the L1 penalty :math:`\rho`, in [0, 1] (1: lasso, 0: ridge).
    tol : float, default 1e-5
        Relative KKT tolerance, as in :func:`lasso`.
    max_iter : int, default 10000
        Maximum number of coordinate-descent sweeps.
    w0 : array-like of shape (p,), optional
        Warm start.
    precompute : {"auto", True, False}, default "auto"
        Use the Gram matrix ``XᵀX/n``; ``"auto"`` does when ``n > p``.
    alpha : float, optional
        Deprecated name of ``l1_ratio`` (``DeprecationWarning``); removed in the next release.

    Returns
    -------
    w : ndarray of shape (p,)
        The elastic-net coefficients.

    Raises
    ------
    ValueError
        If ``lam < 0``, ``l1_ratio`` is outside [0, 1], or another argument is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import elastic_net
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> # orthogonal design: soft-threshold at λρ, then shrink by s_j / (s_j + λ(1 - ρ))
    >>> np.round(elastic_net(X, y, 0.5, l1_ratio=0.5), 6)
    array([1.      , 0.333333])
    """
    X, y, tol, max_iter, precompute, w0 = _validate_solver_args(X, y, tol, max_iter, precompute, w0)
    lam = check_lambda(lam)
    l1_ratio = _l1_ratio(l1_ratio, alpha, 0.5, "elastic_net")
    _warn_if_uncentred(X, y, "elastic_net")
    fit = _fit_path(X, y, np.array([lam]), l1_ratio, w0, tol, max_iter, precompute, "elastic_net")
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
    violation reached if ``max_iter`` sweeps were not enough.  No intercept is fitted: on
    clearly uncentred data an :class:`UncenteredDataWarning` says so (see :class:`Lasso`).

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred (no intercept is fitted).
    y : array-like of shape (n,)
        Response, centred.
    lam : float
        Penalty strength λ ≥ 0.
    tol : float, default 1e-5
        Relative KKT tolerance (> 0).
    max_iter : int, default 10000
        Maximum number of sweeps over the working set.
    w0 : array-like of shape (p,), optional
        Warm start.
    precompute : {"auto", True, False}, default "auto"
        Use the Gram matrix ``XᵀX/n`` (covariance updates); ``"auto"`` does when ``n > p``.

    Returns
    -------
    w : ndarray of shape (p,)
        The lasso coefficients, with exact zeros.

    Raises
    ------
    ValueError
        If ``lam < 0``, ``tol <= 0``, ``max_iter < 1``, ``w0`` has the wrong length or
        ``precompute`` is not ``"auto"``, True or False.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import lasso
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> lasso(X, y, 0.5)  # soft-thresholding of Xᵀy/n = (1, 0.5), divided by s_j = 1/2
    array([1., 0.])
    """
    X, y, tol, max_iter, precompute, w0 = _validate_solver_args(X, y, tol, max_iter, precompute, w0)
    lam = check_lambda(lam)
    _warn_if_uncentred(X, y, "lasso")
    fit = _fit_path(X, y, np.array([lam]), 1.0, w0, tol, max_iter, precompute, "lasso")
    return fit.coefs[0]


def _lambda_grid(X, y, l1_ratio, lams, n_lams, eps):
    if lams is not None:
        lams = check_lambda_grid(lams, "lams")
        return np.sort(lams)[::-1].copy()
    n_lams = check_positive_int(n_lams, "n_lams")
    eps = check_positive_float(eps, "eps")
    if eps >= 1:
        raise ValueError(f"eps must lie in (0, 1); got {eps}")
    if l1_ratio == 0:
        raise ValueError("l1_ratio = 0 (pure ridge) has no lambda_max: pass lams explicitly")
    top = lambda_max(X, y, l1_ratio)
    if top == 0:
        raise ValueError("X^T y = 0, so every solution is 0 and lambda_max = 0: pass lams explicitly")
    return np.geomspace(top, eps * top, n_lams)


def _looks_like_a_mix(value) -> bool:
    """A real scalar in [0, 1]: what an old positional call passed as the L1/L2 mix."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.floating, np.integer)):
        return False
    return 0.0 <= float(value) <= 1.0


def elastic_net_path(
    X,
    y,
    lams=None,
    *,
    l1_ratio: float = 0.5,
    n_lams: int = 100,
    eps: float = 1e-3,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    precompute="auto",
    alpha: float | None = None,
):
    """Elastic-net solutions along a decreasing grid of λ, warm-started (see :func:`lasso_path`).

    The default grid runs from ``lambda_max(X, y, l1_ratio) = ||Xᵀy||_∞ / (n·l1_ratio)`` down
    to ``eps`` times that; with ``l1_ratio = 0`` (ridge) there is no such λ and ``lams``
    must be given.  ``l1_ratio`` is keyword-only: the argument order is that of
    :func:`lasso_path` (an old call ``elastic_net_path(X, y, 0.5, lams)`` fails loudly).

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred (no intercept is fitted).
    y : array-like of shape (n,)
        Response, centred.
    lams : sequence of float, optional
        Penalty strengths λ ≥ 0 (a 1-D sequence), sorted into decreasing order; default: the
        grid above.
    l1_ratio : float, default 0.5
        Share of the L1 penalty, in [0, 1] (1: lasso, 0: ridge).
    n_lams : int, default 100
        Length of the default grid.
    eps : float, default 1e-3
        Smallest λ of the default grid, relative to ``lambda_max``, in (0, 1).
    tol : float, default 1e-5
        Relative KKT tolerance, as in :func:`lasso`.
    max_iter : int, default 10000
        Maximum number of sweeps per λ.
    precompute : {"auto", True, False}, default "auto"
        Use the Gram matrix ``XᵀX/n``; ``"auto"`` does when ``n > p``.
    alpha : float, optional
        Deprecated name of ``l1_ratio`` (``DeprecationWarning``); removed in the next release.

    Returns
    -------
    lams : ndarray of shape (L,)
        Decreasing.
    coefs : ndarray of shape (L, p)
        ``coefs[k]`` solves the elastic net at ``lams[k]``.

    Raises
    ------
    ValueError
        If ``lams`` is not a 1-D sequence of numbers ≥ 0 (a scalar in [0, 1] gets a reminder
        that the mix is now the keyword ``l1_ratio``), or another argument is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import elastic_net_path
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> lams, coefs = elastic_net_path(X, y, [0.5, 2.0], l1_ratio=0.5)
    >>> lams
    array([2. , 0.5])
    >>> np.round(coefs, 6)
    array([[0.      , 0.      ],
           [1.      , 0.333333]])
    """
    X, y, tol, max_iter, precompute, _ = _validate_solver_args(X, y, tol, max_iter, precompute)
    l1_ratio = _l1_ratio(l1_ratio, alpha, 0.5, "elastic_net_path")
    try:
        grid = _lambda_grid(X, y, l1_ratio, lams, n_lams, eps)
    except ValueError as exc:
        if _looks_like_a_mix(lams):
            raise ValueError(
                f"{exc}.  Note: the argument order changed: the signature is elastic_net_path(X, y, "
                f"lams=None, *, l1_ratio=0.5, ...), so the L1/L2 mix is the keyword l1_ratio; "
                f"did you mean elastic_net_path(X, y, l1_ratio={float(lams)!r})?"
            ) from None
        raise
    _warn_if_uncentred(X, y, "elastic_net_path")
    fit = _fit_path(X, y, grid, l1_ratio, None, tol, max_iter, precompute, "elastic_net_path")
    return grid, fit.coefs


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
    answer is the same as without screening.  One :class:`UncenteredDataWarning` per call on
    clearly uncentred data.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, centred (no intercept is fitted).
    y : array-like of shape (n,)
        Response, centred.
    lams : sequence of float, optional
        Penalty strengths λ ≥ 0 (a 1-D sequence); default: the grid above.
    n_lams : int, default 100
        Length of the default grid.
    eps : float, default 1e-3
        Smallest λ of the default grid, relative to ``lambda_max``, in (0, 1).
    tol : float, default 1e-5
        Relative KKT tolerance, as in :func:`lasso`.
    max_iter : int, default 10000
        Maximum number of sweeps per λ.
    precompute : {"auto", True, False}, default "auto"
        Use the Gram matrix ``XᵀX/n``; ``"auto"`` does when ``n > p``.

    Returns
    -------
    lams : ndarray of shape (L,)
        Decreasing.
    coefs : ndarray of shape (L, p)
        ``coefs[k]`` solves the lasso at ``lams[k]`` to KKT tolerance ``tol · lambda_max``.

    Raises
    ------
    ValueError
        If ``lams`` is not a 1-D sequence of finite numbers ≥ 0, ``eps`` is not in (0, 1),
        ``Xᵀy = 0`` with no ``lams`` given, or another argument is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import lasso_path
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = np.array([2.0, -2.0, 1.0, -1.0])
    >>> lams, coefs = lasso_path(X, y, [0.1, 1.0, 0.5])
    >>> lams
    array([1. , 0.5, 0.1])
    >>> np.round(coefs, 6)
    array([[0. , 0. ],
           [1. , 0. ],
           [1.8, 0.8]])
    """
    X, y, tol, max_iter, precompute, _ = _validate_solver_args(X, y, tol, max_iter, precompute)
    lams = _lambda_grid(X, y, 1.0, lams, n_lams, eps)
    _warn_if_uncentred(X, y, "lasso_path")
    fit = _fit_path(X, y, lams, 1.0, None, tol, max_iter, precompute, "lasso_path")
    return lams, fit.coefs


@dataclass(frozen=True)
class PathEvent:
    """A change of the active set between two consecutive λ of a path.

    Parameters
    ----------
    index : int
        Position ``k`` in the path: the change happens between ``lams[k-1]`` and ``lams[k]``.
    lam : float
        ``lams[k]``.
    entered : tuple of int
        Variables that became non-zero at ``lams[k]``.
    left : tuple of int
        Variables that became zero at ``lams[k]``.

    Examples
    --------
    >>> from weightdecay.linear import PathEvent
    >>> event = PathEvent(index=3, lam=0.5, entered=(1,), left=(0,))
    >>> event.entered, event.left
    ((1,), (0,))
    """

    index: int  # position k in the path: the change happens between lams[k-1] and lams[k]
    lam: float  # lams[k]
    entered: tuple[int, ...]
    left: tuple[int, ...]


def path_events(lams, coefs) -> list[PathEvent]:
    """Where variables enter and leave the active set ``{j : w_j ≠ 0}`` along a path.

    One :class:`PathEvent` per λ at which the support differs from the previous λ; the
    support of the first λ counts as entered.  The lasso support is not monotone: variables
    can leave as λ decreases.

    Parameters
    ----------
    lams : sequence of float
        Decreasing penalty strengths (the first output of :func:`lasso_path`).
    coefs : array-like of shape (len(lams), p)
        The coefficients along the path.

    Returns
    -------
    list of PathEvent
        In path order.

    Raises
    ------
    ValueError
        If ``lams`` is not decreasing or ``coefs`` does not have one row per λ.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import path_events
    >>> coefs = np.array([[0, 0], [1.0, 0], [0.0, 2.0]])
    >>> for e in path_events([3.0, 2.0, 1.0], coefs):
    ...     print(e.index, e.lam, e.entered, e.left)
    1 2.0 (0,) ()
    2 1.0 (1,) (0,)
    """
    lams = check_lambda_grid(lams, "lams")
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

    The permutation comes from ``rng``; folds differ in size by at most one.

    Parameters
    ----------
    n : int
        Number of samples, ≥ 2.
    k : int, default 5
        Number of folds, in [2, n].
    rng : numpy.random.Generator, int or None, optional
        Source of the permutation (a seed gives the same folds every time).

    Returns
    -------
    list of (ndarray, ndarray)
        ``k`` pairs of sorted training and validation indices.

    Raises
    ------
    ValueError
        If ``n < 2``, ``k < 2`` or ``k > n``.

    Examples
    --------
    >>> from weightdecay.linear import kfold_indices
    >>> folds = kfold_indices(10, 3, rng=0)
    >>> [len(val) for _, val in folds]
    [4, 3, 3]
    >>> sorted(int(i) for _, val in folds for i in val) == list(range(10))
    True
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
    """Result of a k-fold cross-validation over a grid of λ.

    Parameters
    ----------
    lams : ndarray of shape (L,)
        The grid.
    mean_mse : ndarray of shape (L,)
        Validation mean squared error, averaged over the folds.
    se_mse : ndarray of shape (L,)
        Its standard error across folds.
    fold_mse : ndarray of shape (k, L)
        Validation mean squared error of every fold.
    best_lam : float
        The λ of smallest ``mean_mse``.
    lam_1se : float
        The largest λ whose ``mean_mse`` is within one standard error of the minimum.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import cross_validate_ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3))
    >>> y = X @ np.array([1.0, 0.0, -1.0]) + rng.standard_normal(40)
    >>> res = cross_validate_ridge(X, y, [0.01, 0.1, 1.0], k=4)
    >>> res.fold_mse.shape, bool(res.lam_1se >= res.best_lam)
    ((4, 3), True)
    """

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
    fitted on it (one SVD, as :func:`ridge_path`), and the validation part is predicted with
    the training statistics (intercept included), so no information leaks from the
    validation fold.  ``best_lam`` of the result minimises the mean validation MSE.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, in original units.
    y : array-like of shape (n,)
        Response, in original units.
    lams : sequence of float
        Penalty strengths λ ≥ 0.
    k : int, default 5
        Number of folds.
    rng : numpy.random.Generator, int or None, default 0
        Source of the fold permutation (see :func:`kfold_indices`).
    standardize_folds : bool, default True
        Standardise each training fold; ``False`` fits the raw data through the origin.

    Returns
    -------
    CVResult
        Fold and mean validation errors for every λ, the best λ and the one-SE λ.

    Raises
    ------
    ValueError
        If ``lams`` is invalid or ``k`` is not in [2, n].

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import cross_validate_ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(5.0, 2.0, size=(60, 4))  # uncentred: each fold is standardised
    >>> y = 10 + X @ np.array([1.0, 0.5, 0.0, 0.0]) + rng.standard_normal(60)
    >>> res = cross_validate_ridge(X, y, [1e-3, 1e-1, 10.0], k=5)
    >>> res.mean_mse.shape, res.best_lam < 10.0
    ((3,), True)
    """
    X, y = check_X_y(X, y)
    lams = check_lambda_grid(lams, "lams", allow_scalar=True)
    folds = kfold_indices(X.shape[0], k, rng)
    fold_mse = np.empty((len(folds), lams.size))
    for i, (tr, va) in enumerate(folds):
        if standardize_folds:
            Xtr, ytr, st = standardize(X[tr], y[tr])
            W = _ridge_svd(Xtr, ytr, lams)
            pred = st.transform(X[va]) @ W.T + st.y_mean
        else:
            W = _ridge_svd(X[tr], y[tr], lams)
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
    l1_ratio: float = 1.0,
    n_lams: int = 100,
    eps: float = 1e-3,
    standardize_folds: bool = True,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    alpha: float | None = None,
) -> CVResult:
    """k-fold cross-validated mean squared error of the lasso (elastic net) along a λ grid.

    The grid is shared by all folds: ``lams`` if given, else ``n_lams`` values log-spaced
    from ``lambda_max`` of the whole (standardised) data down to ``eps`` times it.  In each
    fold the training part is standardised, the path is fitted as by :func:`lasso_path`
    (:func:`elastic_net_path` for ``l1_ratio < 1``), and the validation part is predicted
    with the training statistics, as in :func:`cross_validate_ridge`.  ``lam_1se`` of the
    result is the largest λ within one standard error of the minimum, the usual sparser
    choice.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design, in original units.
    y : array-like of shape (n,)
        Response, in original units.
    lams : sequence of float, optional
        Penalty strengths λ ≥ 0, sorted into decreasing order; default: the grid above.
    k : int, default 5
        Number of folds.
    rng : numpy.random.Generator, int or None, default 0
        Source of the fold permutation (see :func:`kfold_indices`).
    l1_ratio : float, default 1.0
        Share of the L1 penalty, in [0, 1] (1: lasso).
    n_lams : int, default 100
        Length of the default grid.
    eps : float, default 1e-3
        Smallest λ of the default grid, relative to ``lambda_max``.
    standardize_folds : bool, default True
        Standardise each training fold; ``False`` fits the raw data through the origin.
    tol : float, default 1e-5
        Relative KKT tolerance of the solver.
    max_iter : int, default 10000
        Maximum number of sweeps per λ.
    alpha : float, optional
        Deprecated name of ``l1_ratio`` (``DeprecationWarning``); removed in the next release.

    Returns
    -------
    CVResult
        Fold and mean validation errors for every λ (decreasing), the best λ and the
        one-SE λ.

    Raises
    ------
    ValueError
        If ``lams``, ``l1_ratio``, ``k`` or a solver setting is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import cross_validate_lasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> y = 3 * X[:, 0] + rng.standard_normal(60)
    >>> res = cross_validate_lasso(X, y, k=3, n_lams=10)
    >>> res.fold_mse.shape, bool(res.mean_mse.min() < 0.5 * res.mean_mse[0])
    ((3, 10), True)
    """
    X, y, tol, max_iter, _, _ = _validate_solver_args(X, y, tol, max_iter, "auto")
    l1_ratio = _l1_ratio(l1_ratio, alpha, 1.0, "cross_validate_lasso")
    if lams is None:
        Xs, ys = (standardize(X, y)[:2]) if standardize_folds else (X, y)
        lams = _lambda_grid(Xs, ys, l1_ratio, None, n_lams, eps)
    else:
        lams = _lambda_grid(X, y, l1_ratio, lams, n_lams, eps)
    folds = kfold_indices(X.shape[0], k, rng)
    fold_mse = np.empty((len(folds), lams.size))
    for i, (tr, va) in enumerate(folds):
        if standardize_folds:
            Xtr, ytr, st = standardize(X[tr], y[tr])
            W = _fit_path(Xtr, ytr, lams, l1_ratio, None, tol, max_iter, "auto", "cross_validate_lasso").coefs
            pred = st.transform(X[va]) @ W.T + st.y_mean
        else:
            W = _fit_path(X[tr], y[tr], lams, l1_ratio, None, tol, max_iter, "auto", "cross_validate_lasso").coefs
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

    Parameters
    ----------
    X : array-like of shape (n, p)
        Inputs.
    y : array-like of shape (n,)
        Targets.
    w : array-like of shape (p,)
        Weights of the linear model.
    eps : float
        Radius ε ≥ 0 of the perturbation ball.
    norm : {"l2", "linf"}, default "l2"
        Norm of the perturbations.

    Returns
    -------
    float
        The worst-case loss.

    Raises
    ------
    ValueError
        If ``eps < 0``, ``norm`` is not ``"l2"`` or ``"linf"``, or the shapes do not match.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import adversarial_squared_loss
    >>> X, y, w = np.array([[1.0, 0.0]]), np.array([1.0]), np.array([1.0, -1.0])
    >>> adversarial_squared_loss(X, y, w, 0.5, "linf")  # (0 + 0.5 * ||w||_1)^2 / 2
    0.5
    >>> adversarial_squared_loss(X, y, w, 0.0)  # no perturbation: the plain loss
    0.0
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
