r"""The spectral core of the package's exact risks: one thin SVD, one filter risk, one linear-estimator risk.

Setting: a **fixed design** ``X`` (n × p) and responses :math:`y = X\beta + \sigma\varepsilon`
with :math:`\mathbb E\varepsilon = 0` and :math:`\mathrm{Cov}\,\varepsilon = I_n`.  Two error
measures (``target``):

* ``"coef"``: :math:`\mathbb E\lVert\hat w - \beta\rVert^2`, the error of the coefficients;
* ``"fit"``: :math:`\frac1n\mathbb E\lVert X(\hat w - \beta)\rVert^2`, the in-sample error of
  the fitted values.

**Thin SVD with the rank cut** (:func:`thin_svd`).  :math:`X = UDV^\top` with the numerically
zero singular values dropped: a direction is kept when
:math:`d_j > d_{\max}\cdot\max(n, p)\cdot\epsilon` (ε the float64 machine epsilon, the rule of
``numpy.linalg.matrix_rank``).  The r kept directions span the row space of ``X``; every
spectral formula of the package sums over them.

**Spectral filters** (:func:`filter_risk`).  Ridge, gradient descent from 0 and gradient flow
are all of the form

.. math::  \hat w = \sum_{j=1}^r h_j\,\frac{u_j^\top y}{d_j}\,v_j

for a filter :math:`h_j` (ridge :math:`d_j^2/(d_j^2 + n\lambda)`, gradient descent
:math:`1 - (1 - \eta d_j^2/n)^t`, gradient flow :math:`1 - e^{-t d_j^2/n}`).  Since
:math:`u_j^\top y = d_j b_j + \sigma u_j^\top\varepsilon` with :math:`b = V^\top\beta`, the
mean is :math:`\sum_j h_j b_j v_j` and the noise part has covariance
:math:`\sigma^2\sum_j (h_j/d_j)^2 v_jv_j^\top`.  With :math:`g_j = 1 - h_j`:

.. math::

    \text{coef:}\quad \text{bias}^2 = \sum_j g_j^2 b_j^2 + \lVert(I - VV^\top)\beta\rVert^2,
    \qquad \text{variance} = \sigma^2\sum_j h_j^2/d_j^2 ;

    \text{fit:}\quad \text{bias}^2 = \tfrac1n\sum_j g_j^2 d_j^2 b_j^2,
    \qquad \text{variance} = \tfrac{\sigma^2}{n}\sum_j h_j^2 .

The part of β outside the row space is never estimated: pure bias for ``"coef"``, invisible
to ``"fit"``.  Only :math:`b_j^2` and that squared norm enter, so a prior average (the Bayes
risk of ridge under :math:`\beta \sim \mathcal N(0, \tau^2 I)`) is the same formula with
:math:`b_j^2 \to \tau^2` and :math:`\lVert(I - VV^\top)\beta\rVert^2 \to (p - r)\tau^2`.

**Any linear estimator** (:func:`linear_estimator_risk`).  For :math:`\hat w = Ay`:

.. math::

    \text{coef:}\quad \text{bias}^2 = \lVert(AX - I)\beta\rVert^2,\quad
    \text{variance} = \sigma^2\lVert A\rVert_F^2 ;

    \text{fit:}\quad \text{bias}^2 = \tfrac1n\lVert X(AX - I)\beta\rVert^2,\quad
    \text{variance} = \tfrac{\sigma^2}{n}\lVert XA\rVert_F^2 .

A spectral filter is the linear estimator :math:`A = V\,\mathrm{diag}(h_j/d_j)\,U^\top`, for
which both formulas agree.

The functions here take validated arrays (the public wrappers in
:mod:`weightdecay.bias_variance`, :mod:`weightdecay.early_stopping`, :mod:`weightdecay.dropout`
and :mod:`weightdecay.linear` check their arguments).  numpy only.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "TARGETS",
    "check_target",
    "thin_svd",
    "row_space_coordinates",
    "variance_terms",
    "filter_risk",
    "linear_estimator_risk",
]

#: The two error measures: coefficients, or in-sample fitted values.
TARGETS = ("coef", "fit")


def check_target(target) -> str:
    """Return ``target`` if it is one of :data:`TARGETS`, else raise ``ValueError``."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")
    return target


def thin_svd(X: np.ndarray, *, compute_uv: bool = True):
    """Thin SVD of ``X`` without its numerically zero singular values.

    A singular value is kept when ``d > d.max() * max(X.shape) * eps``.  Returns
    ``(U, d, Vt)`` with shapes ``(n, r)``, ``(r,)``, ``(r, p)``, or only ``d`` when
    ``compute_uv=False`` (numpy's cheaper values-only routine).
    """
    if not compute_uv:
        d = np.linalg.svd(X, compute_uv=False)
        return d[d > _rank_tolerance(d, X.shape)]
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    keep = d > _rank_tolerance(d, X.shape)
    return U[:, keep], d[keep], Vt[keep]


def _rank_tolerance(d: np.ndarray, shape: tuple[int, ...]) -> float:
    """The rank cut of :func:`thin_svd`: ``d.max() * max(shape) * eps`` (0 for an empty ``d``)."""
    return d.max(initial=0.0) * max(shape) * np.finfo(float).eps


def row_space_coordinates(Vt: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, float]:
    r"""Squared coordinates :math:`b_j^2` of β along the ``v_j`` and the squared norm outside the row space.

    Returns ``(b**2, outside)`` with :math:`b = V^\top\beta` and
    ``outside`` :math:`= \lVert\beta - VV^\top\beta\rVert^2`.  When ``X`` has full column
    rank (r = p) the row space is all of :math:`\mathbb R^p` and ``outside`` is exactly 0
    (computed, it would be rounding error, about 1e-32 times :math:`\lVert\beta\rVert^2`).
    """
    b = Vt @ beta
    if Vt.shape[0] == Vt.shape[1]:
        return b**2, 0.0
    return b**2, float(np.sum((beta - Vt.T @ b) ** 2))


def variance_terms(d: np.ndarray, n: int, sigma: float, h: np.ndarray, target: str) -> np.ndarray:
    r"""The variance of a filter estimator direction by direction.

    :math:`\sigma^2 h_j^2/d_j^2` for ``target="coef"``, :math:`\sigma^2 h_j^2/n` for ``"fit"``;
    ``h`` has shape ``(m, r)`` and so has the result.
    """
    return sigma**2 * (h**2 / d**2 if target == "coef" else h**2 / n)


def filter_risk(
    d: np.ndarray,
    n: int,
    sigma: float,
    h: np.ndarray,
    b2,
    outside: float = 0.0,
    *,
    target: str,
    complement: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Squared bias and variance of the filter estimators :math:`\hat w = \sum_j h_j (u_j^\top y/d_j) v_j`.

    Parameters: the kept singular values ``d`` (r,), the number of rows ``n``, the noise
    standard deviation ``sigma``, the filters ``h`` (m, r), one row per estimator, the
    squared coordinates ``b2`` (r,) of β (or their prior mean) and the squared norm
    ``outside`` of β outside the row space (see :func:`row_space_coordinates`).
    ``complement`` is :math:`g = 1 - h` where the caller has a form without cancellation
    (ridge: :math:`n\lambda/(d_j^2 + n\lambda)`); by default ``1 - h``.

    Returns ``(bias2, variance)``, two arrays of shape (m,), from the formulas of the module
    docstring.
    """
    h = np.atleast_2d(h)
    g = 1.0 - h if complement is None else complement
    if target == "coef":
        bias2 = np.sum(g**2 * b2, axis=1) + outside
    else:
        bias2 = np.sum(g**2 * d**2 * b2, axis=1) / n
    variance = np.sum(variance_terms(d, n, sigma, h, target), axis=1)
    return bias2, variance


def linear_estimator_risk(
    X: np.ndarray, beta: np.ndarray, sigma: float, A: np.ndarray, *, target: str
) -> tuple[np.ndarray, np.ndarray]:
    r"""Squared bias and variance of the linear estimators :math:`\hat w = A_k y`.

    ``A`` has shape (L, p, n); returns ``(bias2, variance)``, two arrays of shape (L,), from
    the formulas of the module docstring.
    """
    n = X.shape[0]
    bias = A @ (X @ beta) - beta  # (L, p)
    if target == "coef":
        return np.sum(bias**2, axis=1), sigma**2 * np.sum(A**2, axis=(1, 2))
    return np.sum((bias @ X.T) ** 2, axis=1) / n, sigma**2 * np.sum((X @ A) ** 2, axis=(1, 2)) / n
