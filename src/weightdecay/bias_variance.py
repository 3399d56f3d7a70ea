r"""Bias, variance and mean squared error of linear estimators, ridge above all.

Setting: a **fixed design** ``X`` (n × p) and responses drawn as

.. math::  y = X\beta + \sigma\varepsilon, \qquad \varepsilon \sim \mathcal N(0, I_n).

A *linear estimator* is :math:`\hat w = A y` with a matrix ``A`` (p × n) that does not
depend on ``y``.  Its mean squared error splits exactly into a squared bias and a variance,

.. math::

    \mathbb E\lVert\hat w - \beta\rVert^2
    = \underbrace{\lVert(AX - I)\beta\rVert^2}_{\text{bias}^2}
    + \underbrace{\sigma^2\,\mathrm{tr}(AA^\top)}_{\text{variance}} .

Ridge in the book's convention, :math:`\hat w(\lambda) = (X^\top X + n\lambda I)^{-1}X^\top y`,
is such an estimator.  With the thin SVD :math:`X = UDV^\top` (rank r), coordinates
:math:`b = V^\top\beta` and :math:`s = n\lambda`, both terms are sums over the principal
directions:

.. math::

    \text{bias}^2(\lambda) = \sum_{j=1}^r \Big(\frac{s}{d_j^2 + s}\Big)^2 b_j^2
        + \lVert(I - VV^\top)\beta\rVert^2,

.. math::

    \text{variance}(\lambda) = \sigma^2\sum_{j=1}^r \frac{d_j^2}{(d_j^2 + s)^2}.

Bias grows and variance falls with λ.  Each term of the sum,
:math:`m_j(s) = (s^2 b_j^2 + \sigma^2 d_j^2)/(d_j^2 + s)^2`, has derivative
:math:`2d_j^2(s b_j^2 - \sigma^2)/(d_j^2+s)^3`, negative for :math:`s < \sigma^2/b_j^2`: so
the MSE decreases on :math:`0 < n\lambda \le \sigma^2/\max_j b_j^2` and *some* λ > 0 always
beats least squares when σ > 0 (Hoerl & Kennard, 1970).

Every function takes ``target="coef"`` (the error :math:`\mathbb E\lVert\hat w - \beta\rVert^2`
of the coefficients) or ``target="fit"`` (the in-sample prediction error
:math:`\frac1n\mathbb E\lVert X\hat w - X\beta\rVert^2`, for which bias² is
:math:`\frac1n\lVert(H_\lambda - I)X\beta\rVert^2` and variance
:math:`\frac{\sigma^2}{n}\mathrm{tr}\,H_\lambda^2`, with the hat matrix
:math:`H_\lambda = X(X^\top X + n\lambda I)^{-1}X^\top`).

Every exact risk of the package goes through one spectral core (the private module
``weightdecay._spectral``: the thin SVD with its rank cut, the risk of a spectral filter, the
risk of any linear estimator) and returns one type, :class:`RiskCurve`: the path argument
(``grid``: λ here, steps or times for :func:`weightdecay.early_stopping.gd_risk` and
:func:`weightdecay.early_stopping.gradient_flow_risk`, drop probabilities for
:func:`weightdecay.dropout.dropout_risk`), ``bias2``, ``variance``, ``target``, and the
derived ``mse`` and ``best``.

The module also holds the book's ridge objective, its gradient and plain gradient descent
on it (an iterative linear estimator), and a generator of strongly correlated designs.
Finally, for random isotropic designs with :math:`p/n \to \gamma`, the limiting risk of ridge
through the Marchenko–Pastur law (:func:`asymptotic_ridge_risk`, :func:`optimal_ridge_lambda`),
the theory of the double-descent chapter.  numpy only.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _spectral
from ._spectral import thin_svd
from .linear import standardize
from .progress import progress_bar
from .validation import (
    check_lambda,
    check_lambdas,
    check_learning_rate,
    check_matrix,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_vector,
    check_X_y,
)

__all__ = [
    "TARGETS",
    "RiskCurve",
    "MonteCarloRisk",
    "ridge_risk",
    "ridge_risk_derivative",
    "ridge_variance_by_direction",
    "hoerl_kennard_lambda",
    "map_lambda",
    "ridge_bayes_risk",
    "linear_estimator_risk",
    "monte_carlo_risk",
    "ridge_objective",
    "ridge_gradient",
    "ridge_gradient_descent",
    "equicorrelated_design",
    "marchenko_pastur_stieltjes",
    "asymptotic_ridge_bias_variance",
    "asymptotic_ridge_risk",
    "optimal_ridge_lambda",
]

#: The two error measures: coefficients, or in-sample fitted values.
TARGETS = _spectral.TARGETS


def _deprecated_property(old: str, new: str) -> None:
    warnings.warn(
        f"RiskCurve.{old} is deprecated; use RiskCurve.{new} (the old name will be removed in the next release)",
        DeprecationWarning,
        stacklevel=3,
    )


@dataclass(frozen=True)
class RiskCurve:
    """Squared bias and variance of an estimator along a path; ``mse`` is their sum.

    The one result type of the package's exact risks: :func:`ridge_risk` and
    :func:`ridge_bayes_risk` (path: λ), :func:`weightdecay.early_stopping.gd_risk` (numbers
    of steps), :func:`weightdecay.early_stopping.gradient_flow_risk` (times),
    :func:`weightdecay.dropout.dropout_risk` (drop probabilities), and, estimated by
    simulation, :class:`MonteCarloRisk`.

    Parameters
    ----------
    grid : ndarray of shape (L,)
        The path argument: λ (book convention), steps, times or drop probabilities.
    bias2 : ndarray of shape (L,)
        Squared bias at each point of the grid.
    variance : ndarray of shape (L,)
        Variance at each point of the grid.
    target : {"coef", "fit"}
        The error measured (see :data:`TARGETS`).

    Attributes
    ----------
    mse : ndarray of shape (L,)
        Mean squared error, ``bias2 + variance``.
    best : float or int
        The grid value with the smallest MSE (the first one on a tie).
    lams : ndarray of shape (L,)
        Deprecated alias of ``grid``.
    best_lam : float or int
        Deprecated alias of ``best``.
    total : ndarray of shape (L,)
        Deprecated alias of ``mse`` (the name of the old ``weightdecay.early_stopping.RiskCurve``).

    Examples
    --------
    >>> import numpy as np
    >>> curve = RiskCurve(np.array([0.1, 1.0]), np.array([0.1, 0.5]), np.array([0.4, 0.1]), "coef")
    >>> print(curve.mse)
    [0.5 0.6]
    >>> curve.best
    0.1
    """

    grid: np.ndarray
    bias2: np.ndarray
    variance: np.ndarray
    target: str

    @property
    def mse(self) -> np.ndarray:
        """Mean squared error, ``bias2 + variance``."""
        return self.bias2 + self.variance

    @property
    def best(self) -> float | int:
        """The grid value with the smallest MSE (the first one on a tie)."""
        return np.asarray(self.grid)[int(np.argmin(self.mse))].item()

    @property
    def lams(self) -> np.ndarray:
        """Deprecated alias of ``grid``."""
        _deprecated_property("lams", "grid")
        return self.grid

    @property
    def best_lam(self) -> float | int:
        """Deprecated alias of ``best``."""
        _deprecated_property("best_lam", "best")
        return self.best

    @property
    def total(self) -> np.ndarray:
        """Deprecated alias of ``mse``."""
        _deprecated_property("total", "mse")
        return self.mse


@dataclass(frozen=True)
class MonteCarloRisk(RiskCurve):
    """A :class:`RiskCurve` estimated by simulation, with the standard error of ``mse``.

    ``mse`` is the average squared error over the ``n_rep`` simulated data sets,
    ``variance`` the unbiased sample variance (divisor ``n_rep − 1``) and ``bias2`` their
    difference, which is an unbiased estimate of the squared bias (it can come out slightly
    negative when the true bias is 0, e.g. least squares).  Returned by
    :func:`monte_carlo_risk`.

    Parameters
    ----------
    grid : ndarray of shape (L,)
        The λ grid (book convention).
    bias2 : ndarray of shape (L,)
        Estimated squared bias, ``mse - variance``.
    variance : ndarray of shape (L,)
        Sample variance of the fits.
    target : {"coef", "fit"}
        The error measured (see :data:`TARGETS`).
    mse_se : ndarray of shape (L,)
        Standard error of the estimated MSE.
    n_rep : int
        Number of simulated data sets.

    Attributes
    ----------
    mse : ndarray of shape (L,)
        The average squared error over the simulated data sets, ``bias2 + variance``.
    best : float
        The λ of the grid with the smallest estimated MSE.

    Examples
    --------
    >>> import numpy as np
    >>> X = equicorrelated_design(30, 3, 0.5, rng=0)
    >>> mc = monte_carlo_risk(X, [1.0, 0.5, -1.0], 1.0, [0.0, 0.1], 2000, rng=0)
    >>> mc.n_rep, mc.mse_se.shape
    (2000, (2,))
    """

    mse_se: np.ndarray
    n_rep: int


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------
_check_target = _spectral.check_target


def _check_problem(X, beta, sigma):
    X = check_matrix(X, "X")
    beta = check_vector(beta, "beta", size=X.shape[1])
    sigma = check_positive_float(sigma, "sigma", allow_zero=True)
    return X, beta, sigma


#: The deprecated ``kind`` of the risk functions of :mod:`weightdecay.early_stopping` -> ``target``.
_KIND_TO_TARGET = {"estimation": "coef", "prediction": "fit"}


def _legacy_risk_keywords(func: Callable) -> Callable:
    """Accept, with a ``DeprecationWarning``, the old keywords ``w_star`` (now ``beta``) and ``kind``.

    ``kind="estimation"`` is ``target="coef"`` and ``kind="prediction"`` is ``target="fit"``
    (the vocabulary of the old ``weightdecay.early_stopping`` risks).  Giving ``kind`` and
    ``target`` together is a ``ValueError``.  The signature shown is ``func``'s.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "w_star" in kwargs:
            if "beta" in kwargs:
                raise TypeError(f"{func.__name__}() got both beta and its deprecated name w_star")
            warnings.warn(
                f"the keyword w_star of {func.__name__} is deprecated; use beta "
                "(the old name will be removed in the next release)",
                DeprecationWarning,
                stacklevel=2,
            )
            kwargs["beta"] = kwargs.pop("w_star")
        if "kind" in kwargs:
            kind = kwargs.pop("kind")
            if "target" in kwargs:
                raise ValueError(f"give target or the deprecated kind, not both; got target={kwargs['target']!r}, "
                                 f"kind={kind!r}")
            warnings.warn(
                f"the keyword kind of {func.__name__} is deprecated; use target ('estimation' -> 'coef', "
                "'prediction' -> 'fit'; the old keyword will be removed in the next release)",
                DeprecationWarning,
                stacklevel=2,
            )
            if kind not in _KIND_TO_TARGET:
                raise ValueError(f"kind must be one of {tuple(_KIND_TO_TARGET)}; got {kind!r}")
            kwargs["target"] = _KIND_TO_TARGET[kind]
        return func(*args, **kwargs)

    return wrapper


def _ridge_filters(d, n, lams):
    """Ridge's filter ``f = d**2 / (d**2 + n lam)`` and its complement ``n lam / (d**2 + n lam)``, both (L, r)."""
    d2 = d**2
    f = d2[None, :] / (d2[None, :] + n * lams[:, None])  # (L, r) shrinkage factors
    one_minus_f = (n * lams[:, None]) / (d2[None, :] + n * lams[:, None])
    return f, one_minus_f


# ---------------------------------------------------------------------------
# Exact risk of ridge
# ---------------------------------------------------------------------------
@_legacy_risk_keywords
def ridge_risk(X, beta, sigma, lams, *, target: str = "coef") -> RiskCurve:
    r"""Exact squared bias, variance and MSE of ridge under :math:`y = X\beta + \sigma\varepsilon`.

    With the thin SVD :math:`X = UDV^\top`, :math:`b = V^\top\beta`, :math:`s = n\lambda` and
    the shrinkage factors :math:`f_j = d_j^2/(d_j^2 + s)`:

    * ``target="coef"`` (error of :math:`\hat w` around β)

      .. math::  \text{bias}^2 = \sum_j (1 - f_j)^2 b_j^2 + \lVert(I - VV^\top)\beta\rVert^2,
                 \qquad \text{variance} = \sigma^2\sum_j f_j^2/d_j^2 ;

    * ``target="fit"`` (error of :math:`X\hat w` around :math:`X\beta`, per observation)

      .. math::

          \text{bias}^2 = \tfrac1n\sum_j (1 - f_j)^2 d_j^2 b_j^2
          = \tfrac1n\lVert(H_\lambda - I)X\beta\rVert^2,

          \text{variance} = \tfrac{\sigma^2}{n}\sum_j f_j^2
          = \tfrac{\sigma^2}{n}\mathrm{tr}\,H_\lambda^2 .

    ``lam = 0`` is least squares (the minimum-norm solution when ``rank(X) < p``; the part
    of β outside the row space of ``X`` is then pure bias).

    This is the package's one ridge risk: ridge is the spectral filter
    :math:`f_j = s_j/(s_j + \lambda)`, :math:`s_j = d_j^2/n`, next to gradient descent
    (:func:`weightdecay.early_stopping.gd_risk`) and gradient flow
    (:func:`weightdecay.early_stopping.gradient_flow_risk`).  The old
    ``weightdecay.early_stopping.ridge_risk`` is a deprecated alias of this function, and its
    keywords ``w_star`` (now ``beta``) and ``kind`` (``"estimation"`` is ``target="coef"``,
    ``"prediction"`` is ``target="fit"``) are accepted with a ``DeprecationWarning`` for one
    release.

    Parameters
    ----------
    X : array (n, p)
        The fixed design.
    beta : array (p,)
        The true coefficients.
    sigma : float >= 0
        The noise standard deviation.
    lams : sequence of float >= 0
        The λ grid (book convention).
    target : {"coef", "fit"}
        Error of the coefficients or of the in-sample fitted values.

    Returns
    -------
    RiskCurve
        Squared bias, variance and MSE at every λ.

    Raises
    ------
    ValueError
        If ``beta`` does not match the columns of ``X``, ``sigma`` is negative, ``lams`` is
        invalid or ``target`` is not one of :data:`TARGETS`.

    Examples
    --------
    With :math:`X = I_2` (n = 2), :math:`\beta = (1, 1)` and σ = 1, λ = 0.5 halves every
    coefficient (:math:`s = n\lambda = 1 = d_j^2`): squared bias :math:`2\cdot(1/2)^2`,
    variance :math:`2\cdot(1/2)^2`, half the MSE of least squares.

    >>> import numpy as np
    >>> risk = ridge_risk(np.eye(2), [1.0, 1.0], 1.0, [0.0, 0.5])
    >>> print(risk.bias2, risk.variance, risk.mse)
    [0.  0.5] [2.  0.5] [2. 1.]
    """
    X, beta, sigma = _check_problem(X, beta, sigma)
    lams = check_lambdas(lams)
    target = _check_target(target)
    n = X.shape[0]
    _, d, Vt = thin_svd(X)
    b2, outside = _spectral.row_space_coordinates(Vt, beta)
    f, one_minus_f = _ridge_filters(d, n, lams)
    bias2, variance = _spectral.filter_risk(d, n, sigma, f, b2, outside, target=target, complement=one_minus_f)
    return RiskCurve(lams, bias2, variance, target)


def ridge_variance_by_direction(X, sigma, lams, *, target: str = "coef") -> np.ndarray:
    r"""The variance of ridge split over the principal directions of ``X``.

    Row ``k``, column ``j`` is the j-th term of the variance in :func:`ridge_risk` at
    ``lams[k]``: :math:`\sigma^2 f_j^2/d_j^2` (``target="coef"``) or
    :math:`\sigma^2 f_j^2/n` (``target="fit"``), with :math:`f_j = d_j^2/(d_j^2 + n\lambda)` and
    the singular values :math:`d_1 \ge d_2 \ge \dots` in decreasing order (numerically zero
    ones dropped).  Each row sums to ``ridge_risk(...).variance``.  At λ = 0 (least squares)
    the coefficient variance :math:`\sigma^2\sum_j 1/d_j^2` is dominated by the directions of
    smallest :math:`d_j`, those created by nearly collinear columns.

    Parameters
    ----------
    X : array (n, p)
        The fixed design.
    sigma : float >= 0
        The noise standard deviation.
    lams : sequence of float >= 0
        The λ grid (book convention).
    target : {"coef", "fit"}
        Error of the coefficients or of the in-sample fitted values.

    Returns
    -------
    ndarray of shape (len(lams), rank(X))
        The variance terms, directions in decreasing order of :math:`d_j`.

    Raises
    ------
    ValueError
        If ``X`` is not a finite matrix, ``sigma`` is negative, ``lams`` is invalid or
        ``target`` is not one of :data:`TARGETS`.

    Examples
    --------
    >>> import numpy as np
    >>> terms = ridge_variance_by_direction(np.diag([2.0, 1.0]), 1.0, [0.0, 1.0])
    >>> print(np.round(terms, 3))
    [[0.25  1.   ]
     [0.111 0.111]]
    """
    X = check_matrix(X, "X")
    sigma = check_positive_float(sigma, "sigma", allow_zero=True)
    lams = check_lambdas(lams)
    target = _check_target(target)
    n = X.shape[0]
    _, d, _ = thin_svd(X)
    f, _ = _ridge_filters(d, n, lams)
    return _spectral.variance_terms(d, n, sigma, f, target)


def ridge_risk_derivative(X, beta, sigma, lams, *, target: str = "coef") -> np.ndarray:
    r"""Exact derivative :math:`\frac{d}{d\lambda}\mathrm{MSE}(\lambda)` of ridge's risk.

    With :math:`s = n\lambda`, the j-th term of the coefficient MSE is
    :math:`m_j(s) = (s^2 b_j^2 + \sigma^2 d_j^2)/(d_j^2 + s)^2` (the fitted-value MSE weights it
    by :math:`d_j^2/n`), and

    .. math::  \frac{d\,\mathrm{MSE}}{d\lambda}
               = n\sum_j c_j\,\frac{2d_j^2\,(n\lambda\, b_j^2 - \sigma^2)}{(d_j^2 + n\lambda)^3},
               \qquad c_j = 1 \ \text{(coef)},\quad c_j = d_j^2/n \ \text{(fit)}.

    At λ = 0 this is :math:`-2n\sigma^2\sum_j 1/d_j^4` (coef) or
    :math:`-2\sigma^2\sum_j 1/d_j^2` (fit): strictly negative whenever σ > 0, so a small
    enough λ > 0 has a smaller MSE than least squares (Hoerl & Kennard, 1970).

    Parameters
    ----------
    X : array (n, p)
        The fixed design.
    beta : array (p,)
        The true coefficients.
    sigma : float >= 0
        The noise standard deviation.
    lams : sequence of float >= 0
        Where to evaluate the derivative.
    target : {"coef", "fit"}
        Error of the coefficients or of the in-sample fitted values.

    Returns
    -------
    ndarray of shape (len(lams),)
        :math:`d\,\mathrm{MSE}/d\lambda` at each λ.

    Raises
    ------
    ValueError
        If ``beta`` does not match the columns of ``X``, ``sigma`` is negative, ``lams`` is
        invalid or ``target`` is not one of :data:`TARGETS`.

    Examples
    --------
    With :math:`X = I_2`, :math:`\beta = (1, 1)` and σ = 1 the MSE falls at λ = 0
    (:math:`-2n\sigma^2\sum_j 1/d_j^4 = -8`) and is smallest where
    :math:`n\lambda b_j^2 = \sigma^2`, at λ = 0.5:

    >>> import numpy as np
    >>> print(np.round(ridge_risk_derivative(np.eye(2), [1.0, 1.0], 1.0, [0.0, 0.5]), 6) + 0.0)
    [-8.  0.]
    """
    X, beta, sigma = _check_problem(X, beta, sigma)
    lams = check_lambdas(lams)
    target = _check_target(target)
    n = X.shape[0]
    _, d, Vt = thin_svd(X)
    b = Vt @ beta
    d2 = d**2
    s = n * lams[:, None]
    weight = np.ones_like(d2) if target == "coef" else d2 / n
    terms = weight * 2 * d2 * (s * b**2 - sigma**2) / (d2 + s) ** 3
    return n * np.sum(terms, axis=1)


def hoerl_kennard_lambda(X, beta, sigma) -> float:
    r"""A λ below which every ridge fit beats least squares: :math:`\sigma^2/(n\max_j b_j^2)`.

    Each term :math:`m_j` of the MSE (see :func:`ridge_risk_derivative`) decreases in
    :math:`s = n\lambda` as long as :math:`s < \sigma^2/b_j^2`, with :math:`b = V^\top\beta`.
    Hence the MSE (of the coefficients and of the fitted values) is strictly decreasing on
    :math:`0 < \lambda \le \sigma^2/(n\max_j b_j^2)`, and every λ in that interval has a
    smaller MSE than λ = 0.  The interval is only sufficient: the best λ is usually larger.

    Parameters
    ----------
    X : array (n, p)
        The fixed design.
    beta : array (p,)
        The true coefficients.
    sigma : float >= 0
        The noise standard deviation.

    Returns
    -------
    float
        :math:`\sigma^2/(n\max_j b_j^2)`; ``inf`` if β has no component in the row space of
        ``X`` and ``0`` if σ = 0.

    Raises
    ------
    ValueError
        If ``beta`` does not match the columns of ``X`` or ``sigma`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> X, beta = np.eye(2), [1.0, 1.0]
    >>> lam = hoerl_kennard_lambda(X, beta, 1.0)
    >>> round(lam, 6)
    0.5
    >>> mse = ridge_risk(X, beta, 1.0, [0.0, lam / 2, lam]).mse
    >>> bool(mse[1] < mse[0] and mse[2] < mse[1])
    True
    """
    X, beta, sigma = _check_problem(X, beta, sigma)
    _, _, Vt = thin_svd(X)
    b2_max = float(np.max((Vt @ beta) ** 2, initial=0.0))
    if sigma == 0:
        return 0.0
    if b2_max == 0:
        return float("inf")
    return sigma**2 / (X.shape[0] * b2_max)


# ---------------------------------------------------------------------------
# The Bayesian view
# ---------------------------------------------------------------------------
def map_lambda(noise_std, prior_std, n_samples: int) -> float:
    r"""The book's λ of the Gaussian MAP estimate: :math:`\lambda = \sigma^2/(n\tau^2)`.

    With :math:`y \mid w \sim \mathcal N(Xw, \sigma^2 I)` and the prior
    :math:`w \sim \mathcal N(0, \tau^2 I)`, the negative log posterior is, up to constants,
    :math:`\frac{1}{2\sigma^2}\lVert y - Xw\rVert^2 + \frac{1}{2\tau^2}\lVert w\rVert^2`.
    Multiplying by :math:`\sigma^2/n` gives the book's objective
    :math:`\frac1{2n}\lVert y - Xw\rVert^2 + \frac\lambda2\lVert w\rVert^2` with
    :math:`\lambda = \sigma^2/(n\tau^2)`.

    Parameters
    ----------
    noise_std : float >= 0
        The noise standard deviation σ.
    prior_std : float > 0
        The prior standard deviation τ of every weight.
    n_samples : int >= 1
        The number of observations n.

    Returns
    -------
    float
        :math:`\sigma^2/(n\tau^2)`.

    Raises
    ------
    ValueError
        If ``noise_std`` is negative, ``prior_std`` is not positive or ``n_samples`` is not
        a positive integer.

    Examples
    --------
    >>> round(map_lambda(1.0, 0.5, 100), 6)
    0.04
    """
    sigma = check_positive_float(noise_std, "noise_std", allow_zero=True)
    tau = check_positive_float(prior_std, "prior_std")
    n = check_positive_int(n_samples, "n_samples")
    return sigma**2 / (n * tau**2)


def ridge_bayes_risk(X, sigma, tau, lams, *, target: str = "coef") -> RiskCurve:
    r"""Ridge's risk averaged over the prior :math:`\beta \sim \mathcal N(0, \tau^2 I)`.

    Averaging :func:`ridge_risk` over the prior replaces :math:`b_j^2` by :math:`\tau^2` (and
    the squared norm of β outside the row space by :math:`(p - r)\tau^2`).  Each term then has
    derivative :math:`\propto s\tau^2 - \sigma^2`, so *every* term is minimised at the same
    :math:`n\lambda = \sigma^2/\tau^2`: the Bayes risk is minimised exactly at
    :func:`map_lambda`, whatever the design.

    Parameters
    ----------
    X : array (n, p)
        The fixed design.
    sigma : float >= 0
        The noise standard deviation.
    tau : float > 0
        The prior standard deviation of every coefficient.
    lams : sequence of float >= 0
        The λ grid (book convention).
    target : {"coef", "fit"}
        Error of the coefficients or of the in-sample fitted values.

    Returns
    -------
    RiskCurve
        Prior-averaged squared bias, variance and MSE at every λ.

    Raises
    ------
    ValueError
        If ``X`` is not a finite matrix, ``sigma`` is negative, ``tau`` is not positive,
        ``lams`` is invalid or ``target`` is not one of :data:`TARGETS`.

    Examples
    --------
    >>> import numpy as np
    >>> curve = ridge_bayes_risk(np.eye(2), 1.0, 1.0, [0.1, 0.5, 2.0])
    >>> curve.best, map_lambda(1.0, 1.0, 2)
    (0.5, 0.5)
    """
    X = check_matrix(X, "X")
    sigma = check_positive_float(sigma, "sigma", allow_zero=True)
    tau = check_positive_float(tau, "tau")
    lams = check_lambdas(lams)
    target = _check_target(target)
    n, p = X.shape
    _, d, _ = thin_svd(X)
    f, one_minus_f = _ridge_filters(d, n, lams)
    # the prior mean of b_j^2 is tau^2, that of the squared norm outside the row space (p - r) tau^2
    b2, outside = np.full(d.size, tau**2), (p - d.size) * tau**2
    bias2, variance = _spectral.filter_risk(d, n, sigma, f, b2, outside, target=target, complement=one_minus_f)
    return RiskCurve(lams, bias2, variance, target)


# ---------------------------------------------------------------------------
# Any linear estimator
# ---------------------------------------------------------------------------
def linear_estimator_risk(X, beta, sigma, operators, *, target: str = "coef") -> tuple[np.ndarray, np.ndarray]:
    r"""Exact squared bias and variance of linear estimators :math:`\hat w = A y`.

    .. math::

        \text{coef:}\quad \text{bias}^2 = \lVert(AX - I)\beta\rVert^2,\quad
        \text{variance} = \sigma^2\lVert A\rVert_F^2 ;

        \text{fit:}\quad \text{bias}^2 = \tfrac1n\lVert X(AX - I)\beta\rVert^2,\quad
        \text{variance} = \tfrac{\sigma^2}{n}\lVert XA\rVert_F^2 .

    Parameters
    ----------
    X : array (n, p)
        The fixed design.
    beta : array (p,)
        The true coefficients.
    sigma : float >= 0
        The noise standard deviation.
    operators : array (p, n) or (L, p, n)
        One matrix ``A`` or a stack of them.
    target : {"coef", "fit"}
        Error of the coefficients or of the in-sample fitted values.

    Returns
    -------
    bias2, variance : arrays of shape (L,) (L = 1 for a single matrix)
        Squared bias and variance of each estimator.

    Raises
    ------
    ValueError
        If ``beta`` does not match ``X``, ``sigma`` is negative, ``operators`` has the wrong
        shape or non-finite entries, or ``target`` is not one of :data:`TARGETS`.

    Examples
    --------
    Least squares (:math:`A = X^{-1} = I`) and ridge at λ = 0.5 (:math:`A = I/2`) for
    :math:`X = I_2`, the numbers of :func:`ridge_risk`:

    >>> import numpy as np
    >>> bias2, variance = linear_estimator_risk(np.eye(2), [1.0, 1.0], 1.0, [np.eye(2), 0.5 * np.eye(2)])
    >>> print(bias2, variance)
    [0.  0.5] [2.  0.5]
    """
    X, beta, sigma = _check_problem(X, beta, sigma)
    target = _check_target(target)
    n, p = X.shape
    A = np.asarray(operators, dtype=float)
    if A.ndim == 2:
        A = A[None]
    if A.ndim != 3 or A.shape[1:] != (p, n):
        raise ValueError(f"operators must have shape (p, n) = ({p}, {n}) or (L, {p}, {n}); got {np.shape(operators)}")
    if not np.all(np.isfinite(A)):
        raise ValueError("operators must contain only finite values")
    return _spectral.linear_estimator_risk(X, beta, sigma, A, target=target)


# ---------------------------------------------------------------------------
# Monte Carlo
# ---------------------------------------------------------------------------
def monte_carlo_risk(
    X,
    beta,
    sigma,
    lams,
    n_rep: int,
    rng=None,
    *,
    target: str = "coef",
    fit: Callable | None = None,
    progress: bool | None = None,
) -> MonteCarloRisk:
    r"""Estimate bias², variance and MSE by simulating ``n_rep`` data sets.

    For :math:`r = 1, \dots, R`: draw :math:`y_r = X\beta + \sigma\varepsilon_r` and fit
    :math:`\hat w_r(\lambda)` for every λ.  With :math:`e_r = \hat w_r - \beta` (or
    :math:`X(\hat w_r - \beta)/\sqrt n` for ``target="fit"``) and :math:`\bar w` the mean fit,

    .. math::

        \widehat{\mathrm{MSE}} = \frac1R\sum_r\lVert e_r\rVert^2, \qquad
        \widehat{\mathrm{var}} = \frac{1}{R-1}\sum_r\lVert \hat w_r - \bar w\rVert^2,

        \widehat{\text{bias}^2} = \widehat{\mathrm{MSE}} - \widehat{\mathrm{var}},

    all three unbiased; ``mse_se`` is the standard error of :math:`\widehat{\mathrm{MSE}}`.

    Parameters
    ----------
    X, beta, sigma, lams, target
        As in :func:`ridge_risk`.
    n_rep : int >= 2
        Number of simulated data sets.
    rng : numpy Generator or seed
        Source of the noise (all noise is drawn at once, as an ``(n_rep, n)`` array).
    fit : callable, optional
        ``fit(X, y) -> array (len(lams), p)``, the estimator to simulate (called once per
        data set).  By default ridge along ``lams``, computed for all data sets from one SVD
        of ``X``: :math:`\hat w_r(\lambda) = V\,\mathrm{diag}(d_j/(d_j^2 + n\lambda))\,U^\top y_r`.
    progress : bool or None, default None
        Show a progress bar over the data sets while ``fit`` runs (the default ridge needs
        no loop); ``None`` follows the environment variable ``WEIGHTDECAY_PROGRESS`` (see
        :func:`weightdecay.progress.progress_enabled`).  The results do not depend on it.

    Returns
    -------
    MonteCarloRisk
        Estimated squared bias, variance and MSE at every λ, with the MSE's standard error.

    Raises
    ------
    ValueError
        If the problem is invalid (as in :func:`ridge_risk`), ``n_rep`` is below 2, ``fit``
        is not callable, or ``fit`` returns an array of the wrong shape.

    Examples
    --------
    The simulation agrees with the exact risk within its standard error:

    >>> import numpy as np
    >>> X = equicorrelated_design(30, 3, 0.5, rng=0)
    >>> beta, lams = [1.0, 0.5, -1.0], [0.0, 0.1]
    >>> mc = monte_carlo_risk(X, beta, 1.0, lams, 2000, rng=0)
    >>> exact = ridge_risk(X, beta, 1.0, lams)
    >>> bool(np.all(np.abs(mc.mse - exact.mse) < 4 * mc.mse_se))
    True
    """
    X, beta, sigma = _check_problem(X, beta, sigma)
    lams = check_lambdas(lams)
    n_rep = check_positive_int(n_rep, "n_rep", minimum=2)
    target = _check_target(target)
    if fit is not None and not callable(fit):
        raise ValueError(f"fit must be callable or None; got {type(fit).__name__}")
    rng = np.random.default_rng(rng)
    n, p = X.shape
    Y = X @ beta + sigma * rng.standard_normal((n_rep, n))  # (R, n): one data set per row

    if fit is None:
        U, d, Vt = thin_svd(X)
        UtY = Y @ U  # (R, r)
        factors = d[None, :] / (d[None, :] ** 2 + n * lams[:, None])  # (L, r)

        def fits_at(k):
            return (UtY * factors[k]) @ Vt  # (R, p): ridge at lams[k] for every data set

    else:
        W = np.empty((lams.size, n_rep, p))
        for r, y in enumerate(progress_bar(Y, desc="data sets", progress=progress)):
            coefs = np.asarray(fit(X, y), dtype=float)
            if coefs.shape != (lams.size, p):
                raise ValueError(f"fit(X, y) must return an array of shape ({lams.size}, {p}); got {coefs.shape}")
            W[:, r] = coefs

        def fits_at(k):
            return W[k]

    scale = 1.0 if target == "coef" else 1.0 / n
    mse, mse_se, variance = (np.empty(lams.size) for _ in range(3))
    for k in range(lams.size):
        Wk = fits_at(k)
        errors = Wk - beta
        spread = Wk - Wk.mean(axis=0)
        if target == "fit":
            errors, spread = errors @ X.T, spread @ X.T
        sq = np.sum(errors**2, axis=1) * scale  # (R,)
        mse[k] = sq.mean()
        mse_se[k] = sq.std(ddof=1) / np.sqrt(n_rep)
        variance[k] = np.sum(spread**2) * scale / (n_rep - 1)
    return MonteCarloRisk(lams, mse - variance, variance, target, mse_se, n_rep)


# ---------------------------------------------------------------------------
# The objective, its gradient, gradient descent
# ---------------------------------------------------------------------------
def ridge_objective(X, y, w, lam) -> float:
    r"""The book's ridge objective :math:`L(w) = \frac{1}{2n}\lVert y - Xw\rVert^2 + \frac\lambda2\lVert w\rVert^2`.

    Parameters
    ----------
    X : array (n, p)
        The design.
    y : array (n,)
        The responses.
    w : array (p,)
        Where to evaluate.
    lam : float >= 0
        The penalty λ.

    Returns
    -------
    float
        :math:`L(w)`.

    Raises
    ------
    ValueError
        If the shapes do not match or ``lam`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> ridge_objective(np.eye(2), [1.0, 2.0], [0.0, 0.0], 1.0)  # (1 + 4) / (2 * 2)
    1.25
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    lam = check_lambda(lam)
    r = y - X @ w
    return float(r @ r / (2 * X.shape[0]) + 0.5 * lam * (w @ w))


def ridge_gradient(X, y, w, lam) -> np.ndarray:
    r"""Gradient of the ridge objective: :math:`\nabla L(w) = -\frac1n X^\top(y - Xw) + \lambda w`.

    Setting it to zero gives the normal equations :math:`(X^\top X + n\lambda I)w = X^\top y`.

    Parameters
    ----------
    X : array (n, p)
        The design.
    y : array (n,)
        The responses.
    w : array (p,)
        Where to evaluate.
    lam : float >= 0
        The penalty λ.

    Returns
    -------
    ndarray of shape (p,)
        :math:`\nabla L(w)`.

    Raises
    ------
    ValueError
        If the shapes do not match or ``lam`` is negative.

    Examples
    --------
    With :math:`X = I_2` (n = 2) and λ = 1 the ridge solution is :math:`y/(1 + n\lambda) = y/3`:

    >>> import numpy as np
    >>> X, y = np.eye(2), np.array([1.0, 2.0])
    >>> print(ridge_gradient(X, y, [0.0, 0.0], 1.0))
    [-0.5 -1. ]
    >>> bool(np.allclose(ridge_gradient(X, y, y / 3, 1.0), 0.0))
    True
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    lam = check_lambda(lam)
    return -X.T @ (y - X @ w) / X.shape[0] + lam * w


def ridge_gradient_descent(X, y, lam, lr, n_steps: int, w0=None) -> np.ndarray:
    r"""Iterates of gradient descent on the ridge objective, from ``w0`` (default 0).

    .. math::  w_{t+1} = w_t - \eta\,\nabla L(w_t)
               = (1 - \eta\lambda)\,w_t + \frac{\eta}{n}X^\top(y - Xw_t),

    the first form is "gradient of the penalised loss", the second "weight decay": the same
    update.  With :math:`G = X^\top X/n + \lambda I` the error contracts as
    :math:`w_t - \hat w = (I - \eta G)^t (w_0 - \hat w)`, so the iterates converge to the
    ridge solution :math:`\hat w(\lambda)` when :math:`0 < \eta < 2/\lambda_{\max}(G)`.  From
    :math:`w_0 = 0`, :math:`w_t = [I - (I - \eta G)^t]\,\hat w(\lambda)` is linear in ``y``.

    Parameters
    ----------
    X : array (n, p)
        The design.
    y : array (n,)
        The responses.
    lam : float >= 0
        The penalty λ.
    lr : float > 0
        The step size η.
    n_steps : int >= 0
        Number of steps.
    w0 : array (p,), optional
        The starting point (default 0).

    Returns
    -------
    array (n_steps + 1, p)
        Row ``t`` is :math:`w_t`; row 0 is ``w0``.

    Raises
    ------
    ValueError
        If the shapes do not match, ``lam`` is negative, ``lr`` is not positive or
        ``n_steps`` is not a non-negative integer.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.eye(2), np.array([1.0, 2.0])
    >>> path = ridge_gradient_descent(X, y, 1.0, 0.5, 30)
    >>> path.shape
    (31, 2)
    >>> bool(np.allclose(path[-1], y / 3))  # the ridge solution (X^T X + 2 I)^{-1} X^T y
    True
    """
    X, y = check_X_y(X, y)
    lam = check_lambda(lam)
    lr = check_learning_rate(lr)
    n_steps = check_nonnegative_int(n_steps, "n_steps")
    n, p = X.shape
    w = np.zeros(p) if w0 is None else check_vector(w0, "w0", size=p).copy()
    path = np.empty((n_steps + 1, p))
    path[0] = w
    for t in range(1, n_steps + 1):
        gradient = -X.T @ (y - X @ w) / n + lam * w
        w = w - lr * gradient
        path[t] = w
    return path


# ---------------------------------------------------------------------------
# Designs
# ---------------------------------------------------------------------------
def equicorrelated_design(n: int, p: int, rho: float, rng=None) -> np.ndarray:
    r"""A standardised design whose columns all have correlation ``rho`` with each other.

    Rows are drawn as :math:`x = \sqrt\rho\,z_0\mathbf 1 + \sqrt{1-\rho}\,z` with independent
    standard normal :math:`z_0` and :math:`z \in \mathbb R^p`, so
    :math:`\mathrm{Cov}(x) = (1-\rho)I + \rho\mathbf 1\mathbf 1^\top`, whose eigenvalues are
    :math:`1 + (p-1)\rho` (once) and :math:`1 - \rho` (p − 1 times): for ρ near 1 the
    columns are nearly collinear.  The columns are then centred and scaled with
    :func:`weightdecay.linear.standardize` (mean 0, :math:`\lVert x_j\rVert^2 = n`).

    Parameters
    ----------
    n : int >= 2
        Number of rows.
    p : int >= 1
        Number of columns.
    rho : float in [0, 1)
        The correlation between any two columns.
    rng : numpy Generator or seed, optional
        Source of the rows.

    Returns
    -------
    ndarray of shape (n, p)
        The standardised design.

    Raises
    ------
    ValueError
        If ``n`` is below 2, ``p`` is not a positive integer or ``rho`` is not in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> X = equicorrelated_design(200, 3, 0.9, rng=0)
    >>> X.shape, bool(np.allclose(X.mean(axis=0), 0)), bool(np.allclose((X**2).sum(axis=0), 200))
    ((200, 3), True, True)
    >>> bool(np.corrcoef(X.T)[0, 1] > 0.8)
    True
    """
    n = check_positive_int(n, "n", minimum=2)
    p = check_positive_int(p, "p")
    rho = check_probability(rho, "rho")
    rng = np.random.default_rng(rng)
    common = rng.standard_normal((n, 1))
    X = np.sqrt(rho) * common + np.sqrt(1.0 - rho) * rng.standard_normal((n, p))
    X, _ = standardize(X)
    return X


# ---------------------------------------------------------------------------
# High-dimensional asymptotics: isotropic features, p/n -> gamma
# ---------------------------------------------------------------------------
def _check_array(values, name: str, *, positive: bool) -> np.ndarray:
    """``values`` as a finite float array, all ``> 0`` (``positive``) or all ``>= 0``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {values!r}") from exc
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got {values!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {values!r}")
    if np.any(arr <= 0) if positive else np.any(arr < 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be {bound}; got minimum {arr.min()!r}")
    return arr


def _broadcast(gamma, lam):
    try:
        return np.broadcast_arrays(gamma, lam)
    except ValueError:
        raise ValueError(f"gamma and lam must broadcast; got shapes {gamma.shape} and {lam.shape}") from None


def _as_output(arr, *inputs):
    return float(arr) if all(np.ndim(x) == 0 for x in inputs) else arr


def _mp_terms(gamma, lam):
    r"""Building blocks of the Marchenko–Pastur transform at :math:`z = -\lambda`, for λ > 0.

    With :math:`a = 1 - \gamma + \lambda`, :math:`b = 1 - \gamma - \lambda` and
    :math:`S = \sqrt{a^2 + 4\gamma\lambda} = \sqrt{b^2 + 4\lambda}`, returns ``S``,
    :math:`t = \lambda\,m(-\lambda)` and :math:`v = m - \lambda m' = m\,(S + b)/(2S)`, each
    written without cancellation: :math:`t = (S - a)/(2\gamma) = 2\lambda/(S + a)` (the first
    form when a < 0) and :math:`S + b = 4\lambda/(S - b)` (when b < 0).  At λ = 0 only
    ``S`` and ``t`` are meaningful (for γ ≠ 1).
    """
    a = 1.0 - gamma + lam
    b = 1.0 - gamma - lam
    S = np.sqrt(b * b + 4.0 * lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(a < 0, (S - a) / (2.0 * gamma), 2.0 * lam / (S + np.abs(a)))
        m = np.where(a < 0, (S - a) / (2.0 * gamma * lam), 2.0 / (S + np.abs(a)))
        v = np.where(b < 0, 2.0 * t / (S * (S + np.abs(b))), m * (S + b) / (2.0 * S))
    return S, t, m, v


def marchenko_pastur_stieltjes(gamma, lam):
    r"""Stieltjes transform of the Marchenko–Pastur law and its derivative, at :math:`z = -\lambda`.

    For :math:`X` with i.i.d. standard normal entries, :math:`n` rows and :math:`p = \gamma n`
    columns, the eigenvalues of :math:`\hat\Sigma = X^\top X/n` follow, as
    :math:`n \to \infty`, the Marchenko–Pastur law :math:`\mu_\gamma` (with an atom of mass
    :math:`1 - 1/\gamma` at 0 when γ > 1), and for λ > 0

    .. math::

        m(-\lambda) = \int\frac{d\mu_\gamma(s)}{s + \lambda}
        = \lim \tfrac1p\,\mathrm{tr}\,(\hat\Sigma + \lambda I)^{-1},

        m(-\lambda) = \frac{-(1 - \gamma + \lambda)
               + \sqrt{(1 - \gamma + \lambda)^2 + 4\gamma\lambda}}{2\gamma\lambda},

    the positive root of :math:`\gamma\lambda m^2 + (1 - \gamma + \lambda)\,m - 1 = 0`.
    Differentiating that equation gives

    .. math::

        m'(-\lambda) = \int\frac{d\mu_\gamma(s)}{(s + \lambda)^2}
        = \frac{m\,(1 + \gamma m)}{\sqrt{(1 - \gamma + \lambda)^2 + 4\gamma\lambda}} .

    Both are evaluated in forms free of cancellation.  At λ = 0 they are
    :math:`1/(1 - \gamma)` and :math:`1/(1 - \gamma)^3` for γ < 1 and ``inf`` for γ ≥ 1.

    Parameters
    ----------
    gamma : float or array, > 0
        The aspect ratio p/n.
    lam : float or array, >= 0
        The point :math:`z = -\lambda`; broadcast against ``gamma``.

    Returns
    -------
    m, m_prime : float or array
        :math:`m(-\lambda)` and :math:`m'(-\lambda)` (floats when both inputs are scalars).

    Examples
    --------
    >>> m, dm = marchenko_pastur_stieltjes(0.5, 0.0)
    >>> round(m, 12), round(dm, 12)
    (2.0, 8.0)
    >>> # m solves m**2/4 + m/4 - 1 = 0
    >>> m, _ = marchenko_pastur_stieltjes(1.0, 0.25)
    >>> round(m, 12) == round((-1 + 17**0.5) / 2, 12)
    True
    """
    gamma_in, lam_in = gamma, lam
    gamma = _check_array(gamma, "gamma", positive=True)
    lam = _check_array(lam, "lam", positive=False)
    gamma, lam = _broadcast(gamma, lam)
    S, _, m, _ = _mp_terms(gamma, lam)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m_prime = m * (1.0 + gamma * m) / S
        at_zero = np.where(gamma < 1, 1.0 / (1.0 - gamma), np.inf)
    m = np.where(lam > 0, m, at_zero)
    m_prime = np.where(lam > 0, m_prime, at_zero**3)
    return _as_output(m, gamma_in, lam_in), _as_output(m_prime, gamma_in, lam_in)


def asymptotic_ridge_bias_variance(gamma, lam, *, r2: float = 1.0, sigma2: float = 1.0):
    r"""Limiting squared bias and variance of ridge for isotropic Gaussian features.

    Model: rows :math:`x_i \sim \mathcal N(0, I_p)`, :math:`y_i = x_i^\top w^* + \varepsilon_i`
    with :math:`\lVert w^*\rVert^2 = r^2` and noise variance σ², and ridge at the book's λ,
    :math:`\hat w = (\hat\Sigma + \lambda I)^{-1}X^\top y/n` with :math:`\hat\Sigma = X^\top X/n`.
    For a fresh :math:`x` the excess prediction risk is
    :math:`\mathbb E[(x^\top(\hat w - w^*))^2] = \lVert\hat w - w^*\rVert^2`; averaged over the
    noise it is

    .. math::

        \underbrace{\lambda^2\,w^{*\top}(\hat\Sigma + \lambda I)^{-2}w^*}_{\text{bias}^2}
        + \underbrace{\frac{\sigma^2}{n}\,\mathrm{tr}\big[\hat\Sigma(\hat\Sigma + \lambda I)^{-2}\big]}_{\text{variance}},

    and as :math:`n, p \to \infty` with :math:`p/n \to \gamma` (Dobriban & Wager, 2018;
    Hastie, Montanari, Rosset & Tibshirani, 2022) the two terms converge to

    .. math::

        \text{bias}^2 = r^2\lambda^2\,m'(-\lambda), \qquad
        \text{variance} = \sigma^2\gamma\,\big[m(-\lambda) - \lambda\,m'(-\lambda)\big],

    with :math:`m` the Marchenko–Pastur transform of :func:`marchenko_pastur_stieltjes`.
    At λ = 0 (the minimum-norm interpolant when γ > 1) they are

    .. math::

        \gamma < 1:\ \ 0,\ \ \frac{\sigma^2\gamma}{1 - \gamma}; \qquad
        \gamma > 1:\ \ r^2\Big(1 - \frac1\gamma\Big),\ \ \frac{\sigma^2}{\gamma - 1};

    at γ = 1, λ = 0 the bias is 0 and the variance ``inf`` (0 if σ² = 0).

    Parameters
    ----------
    gamma : float or array, > 0
        The aspect ratio p/n.
    lam : float or array, >= 0
        The book's λ; broadcast against ``gamma``.
    r2 : float >= 0
        The signal strength :math:`\lVert w^*\rVert^2`.
    sigma2 : float >= 0
        The noise variance σ².

    Returns
    -------
    bias2, variance : float or array
        Floats when ``gamma`` and ``lam`` are both scalars, else arrays of their broadcast shape.

    Examples
    --------
    >>> b, v = asymptotic_ridge_bias_variance(2.0, 0.0, r2=1.0, sigma2=0.5)
    >>> round(b, 12), round(v, 12)
    (0.5, 0.5)
    """
    gamma_in, lam_in = gamma, lam
    gamma = _check_array(gamma, "gamma", positive=True)
    lam = _check_array(lam, "lam", positive=False)
    r2 = check_positive_float(r2, "r2", allow_zero=True)
    sigma2 = check_positive_float(sigma2, "sigma2", allow_zero=True)
    gamma, lam = _broadcast(gamma, lam)
    S, t, _, v = _mp_terms(gamma, lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        bias_factor = t * (lam + gamma * t) / S  # λ² m' = t (λ + γ t)/S
        ridgeless_bias = np.where(gamma > 1, 1.0 - 1.0 / gamma, 0.0)
        ridgeless_v = np.where(gamma < 1, 1.0 / (1.0 - gamma), np.where(gamma > 1, 1.0 / (gamma * (gamma - 1.0)), np.inf))
    positive = lam > 0
    bias_factor = np.where(positive, bias_factor, ridgeless_bias)
    variance_factor = np.where(positive, v, ridgeless_v)
    bias2 = r2 * bias_factor
    variance = np.zeros_like(variance_factor) if sigma2 == 0 else sigma2 * gamma * variance_factor
    return _as_output(bias2, gamma_in, lam_in), _as_output(variance, gamma_in, lam_in)


def asymptotic_ridge_risk(gamma, lam, *, r2: float = 1.0, sigma2: float = 1.0):
    r"""Limiting excess prediction risk :math:`\mathbb E[(x^\top(\hat w - w^*))^2]` of ridge.

    Isotropic Gaussian features, :math:`\lVert w^*\rVert^2 = r^2`, noise variance σ², the
    book's λ, :math:`p/n \to \gamma` (Hastie, Montanari, Rosset & Tibshirani, 2022,
    isotropic ridge; Dobriban & Wager, 2018):

    .. math::

        R(\gamma, \lambda) = r^2\lambda^2\,m'(-\lambda)
        + \sigma^2\gamma\,\big[m(-\lambda) - \lambda\,m'(-\lambda)\big],

    the sum of :func:`asymptotic_ridge_bias_variance`.  At λ = 0 (ridgeless):
    :math:`\sigma^2\gamma/(1 - \gamma)` for γ < 1, :math:`r^2(1 - 1/\gamma) + \sigma^2/(\gamma - 1)`
    for γ > 1, ``inf`` at γ = 1 (when σ² > 0).  Its derivative is
    :math:`\partial_\lambda R = (2m' - \lambda m'')(r^2\lambda - \sigma^2\gamma)` with
    :math:`2m' - \lambda m'' = \int 2s\,d\mu_\gamma(s)/(s + \lambda)^3 > 0`, so for r² > 0 the
    risk falls and then rises in λ, with its minimum at :func:`optimal_ridge_lambda`.

    Parameters
    ----------
    gamma : float or array, > 0
        The aspect ratio p/n.
    lam : float or array, >= 0
        The book's λ; broadcast against ``gamma``.
    r2 : float >= 0
        The signal strength :math:`\lVert w^*\rVert^2`.
    sigma2 : float >= 0
        The noise variance σ².

    Returns
    -------
    float or array
        A float when ``gamma`` and ``lam`` are both scalars, else an array of their broadcast shape.

    Examples
    --------
    >>> # ridgeless, gamma < 1: sigma2 gamma / (1 - gamma)
    >>> round(asymptotic_ridge_risk(0.5, 0.0, sigma2=0.25), 12)
    0.25
    >>> asymptotic_ridge_risk([0.5, 1.0, 2.0], 0.0).round(6).tolist()
    [1.0, inf, 1.5]
    """
    bias2, variance = asymptotic_ridge_bias_variance(gamma, lam, r2=r2, sigma2=sigma2)
    return bias2 + variance


def optimal_ridge_lambda(gamma, *, r2: float = 1.0, sigma2: float = 1.0):
    r"""The book's λ that minimises :func:`asymptotic_ridge_risk`: :math:`\lambda^* = \sigma^2\gamma/r^2`.

    From :math:`\partial_\lambda R = (2m' - \lambda m'')(r^2\lambda - \sigma^2\gamma)`, whose
    first factor is positive.  It is the MAP value of :func:`map_lambda` for the prior
    :math:`w^* \sim \mathcal N(0, (r^2/p) I_p)`: :math:`\sigma^2/(n\,r^2/p) = \sigma^2\gamma/r^2`.
    The optimal risk is :math:`R^* = \sigma^2\gamma\,m(-\lambda^*)`, increasing in γ: optimal
    ridge has no peak at γ = 1 (Nakkiran et al., 2021).

    Parameters
    ----------
    gamma : float or array, > 0
        The aspect ratio p/n.
    r2 : float > 0
        The signal strength :math:`\lVert w^*\rVert^2`.
    sigma2 : float >= 0
        The noise variance σ².

    Returns
    -------
    float or array
        λ*, a float when ``gamma`` is a scalar.

    Examples
    --------
    >>> optimal_ridge_lambda(2.0, r2=1.0, sigma2=0.25)
    0.5
    """
    gamma_in = gamma
    gamma = _check_array(gamma, "gamma", positive=True)
    r2 = check_positive_float(r2, "r2")
    sigma2 = check_positive_float(sigma2, "sigma2", allow_zero=True)
    return _as_output(sigma2 * gamma / r2, gamma_in)
