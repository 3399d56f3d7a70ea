r"""Early stopping: gradient descent on least squares as a spectral filter, and the callback.

Three parts.

1. Gradient descent on the book's least-squares loss
   :math:`L(w) = \frac1{2n}\lVert y - Xw\rVert^2`, started at :math:`w_0 = 0`:
   :func:`gd_least_squares` runs the loop, :func:`gd_closed_form` and :func:`gd_path` give the
   same iterates from one SVD.  With :math:`X = UDV^\top`, :math:`s_j = d_j^2/n` (the
   eigenvalues of :math:`X^\top X/n`) and step :math:`\eta`,

   .. math::

       w_t = \sum_j \underbrace{\big[1 - (1 - \eta s_j)^t\big]}_{\text{GD filter}}
             \,\frac{u_j^\top y}{d_j}\, v_j ,
       \qquad
       \hat w_{\text{ridge}}(\lambda) = \sum_j \underbrace{\frac{s_j}{s_j + \lambda}}_{\text{ridge filter}}
             \,\frac{u_j^\top y}{d_j}\, v_j ,

   both *spectral filters* of the least-squares solution (:func:`gd_filter`,
   :func:`ridge_filter`), close to each other for :math:`\lambda \approx 1/(\eta t)`
   (:func:`gd_ridge_lambda`; Goodfellow et al. 2016, §7.8).

2. Exact risks of these estimators under :math:`y = X\beta + \varepsilon`,
   :math:`\varepsilon \sim (0, \sigma^2 I)`, computed from the spectrum by the package's one
   spectral core (``weightdecay._spectral``): :func:`gd_risk`, :func:`gradient_flow_risk`
   and, for ridge, :func:`weightdecay.bias_variance.ridge_risk`, all returning a
   :class:`weightdecay.bias_variance.RiskCurve`; and the constant
   :func:`gradient_flow_ridge_constant` :math:`\approx 1.69` of Ali, Kolter & Tibshirani (2019)
   and its discrete-step analogue :func:`gd_ridge_constant`.

3. :class:`EarlyStopping`, a callback for :func:`weightdecay.training.train` (patience,
   restore-best), and :func:`simulate_early_stopping`, the same rule applied to a recorded curve.

The book's experiment on MNIST-1D with label noise (several seeds, trained with and without
early stopping) is :func:`weightdecay.experiments.early_stopping.mnist1d_early_stopping_experiment`.

torch is imported only inside the functions that need it.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from . import _spectral
from . import bias_variance as _bv
from ._deprecation import moved_names
from .bias_variance import _check_problem, _legacy_risk_keywords
from .validation import (
    check_learning_rate,
    check_matrix,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_vector,
    check_X_y,
)

__all__ = [
    "max_stable_lr",
    "gd_least_squares",
    "gd_filter",
    "gradient_flow_filter",
    "ridge_filter",
    "gd_ridge_lambda",
    "gd_closed_form",
    "gd_path",
    "gd_risk",
    "gradient_flow_risk",
    "gradient_flow_ridge_constant",
    "gd_variance_ratio",
    "gd_ridge_constant",
    "EarlyStopping",
    "simulate_early_stopping",
    "patience_needed",
]


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------
def _check_steps(steps, name: str = "steps") -> int:
    return check_nonnegative_int(steps, name)


def _check_steps_array(steps, name: str = "steps") -> np.ndarray:
    """Non-negative integer step counts as an int array (any shape)."""
    arr = np.asarray(steps)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be non-negative integers; got {steps!r}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got {steps!r}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must be non-negative integers; got {steps!r}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative integers; got minimum {arr.min()}")
    return arr.astype(np.int64)


def _check_spectrum(s) -> np.ndarray:
    try:
        arr = np.asarray(s, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"s must be numeric; got {s!r}") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"s must contain only finite values; got {s!r}")
    if np.any(arr < 0):
        raise ValueError(f"s must be >= 0 (eigenvalues of X^T X / n); got minimum {arr.min()}")
    return arr


def max_stable_lr(X) -> float:
    r"""The step size :math:`2/s_{\max}` beyond which gradient descent on least squares diverges.

    :math:`s_{\max} = \lVert X\rVert_2^2/n` is the largest eigenvalue of the Hessian
    :math:`X^\top X/n`.  Along its eigenvector the error is multiplied by :math:`1 - \eta s_{\max}`
    at every step.  For :math:`\eta < 2/s_{\max}` its modulus is below 1 and GD converges; at
    :math:`\eta = 2/s_{\max}` exactly it is :math:`-1`: the error flips sign at every step and
    neither grows nor shrinks (bounded, but no convergence); for :math:`\eta > 2/s_{\max}` it
    grows geometrically: GD diverges.

    Parameters
    ----------
    X : array (n, p)
        The design.

    Returns
    -------
    float
        :math:`2/s_{\max}`, or ``inf`` when ``X`` is zero.

    Raises
    ------
    ValueError
        If ``X`` is not a finite matrix.

    Examples
    --------
    >>> import numpy as np
    >>> print(round(max_stable_lr(np.diag([2.0, 1.0])), 6))  # s_max = 2**2 / 2 = 2
    1.0
    """
    X = check_matrix(X, "X")
    s_max = np.linalg.norm(X, 2) ** 2 / X.shape[0]
    return math.inf if s_max == 0 else 2.0 / s_max


def _check_stability(X, lr, allow_unstable: bool) -> None:
    if allow_unstable:
        return
    bound = max_stable_lr(X)
    if lr >= bound:
        raise ValueError(
            f"lr must be < 2 / s_max = {bound:.6g} for gradient descent to converge; got {lr} "
            "(pass allow_unstable=True to run it anyway)"
        )


# ---------------------------------------------------------------------------
# Gradient descent: the loop and the filter
# ---------------------------------------------------------------------------
def gd_least_squares(X, y, lr: float, steps: int, w0=None, *, return_path: bool = False,
                     allow_unstable: bool = False) -> np.ndarray:
    r"""Gradient descent on :math:`L(w) = \frac1{2n}\lVert y - Xw\rVert^2`, the plain loop.

    .. math::

        w_{k+1} = w_k - \eta\,\nabla L(w_k) = w_k + \frac{\eta}{n} X^\top (y - X w_k),
        \qquad k = 0, \dots, t-1 .

    Parameters
    ----------
    X : array (n, p)
    y : array (n,)
    lr : float > 0
        Step size :math:`\eta`.  Must be below :func:`max_stable_lr` ``= 2/s_max``, where the
        iteration diverges, unless ``allow_unstable=True``.
    steps : int >= 0
        Number of steps :math:`t`.
    w0 : array (p,), optional
        Starting point (default 0, the case in which GD is a spectral filter).
    return_path : bool
        Return every iterate :math:`w_0, \dots, w_t` as an array ``(steps + 1, p)``.
    allow_unstable : bool
        Run even with ``lr >= max_stable_lr(X)`` (to watch the divergence).

    Returns
    -------
    array (p,) or (steps + 1, p)
        The last iterate :math:`w_t`, or all of them with ``return_path``.

    Raises
    ------
    ValueError
        If the shapes do not match, ``lr`` is not positive or too large (without
        ``allow_unstable``), or ``steps`` is not a non-negative integer.

    Examples
    --------
    With :math:`X = I_2` (n = 2) the Hessian is :math:`I/2`, and with η = 1 every step halves
    the distance to the least-squares solution ``y``:

    >>> import numpy as np
    >>> X, y = np.eye(2), np.array([1.0, 2.0])
    >>> print(gd_least_squares(X, y, 1.0, 2))  # (1 - 0.5**2) y
    [0.75 1.5 ]
    >>> gd_least_squares(X, y, 1.0, 2, return_path=True).shape
    (3, 2)
    """
    X, y = check_X_y(X, y)
    lr = check_learning_rate(lr)
    steps = _check_steps(steps)
    n, p = X.shape
    w = np.zeros(p) if w0 is None else check_vector(w0, "w0", size=p).copy()
    _check_stability(X, lr, allow_unstable)
    path = [w.copy()] if return_path else None
    for _ in range(steps):
        gradient = -X.T @ (y - X @ w) / n
        w = w - lr * gradient
        if return_path:
            path.append(w.copy())
    return np.array(path) if return_path else w


def gd_filter(s, lr: float, steps) -> np.ndarray:
    r"""Spectral filter of gradient descent from 0: :math:`\varphi_t(s) = 1 - (1 - \eta s)^t`.

    Along an eigenvector of :math:`X^\top X/n` with eigenvalue :math:`s`, the GD iterate after
    :math:`t` steps is :math:`\varphi_t(s)` times the least-squares coefficient.  It rises from
    0 at :math:`t = 0` to 1 as :math:`t\to\infty` when :math:`0 < \eta s < 2`; at
    :math:`\eta s = 2` it alternates between 0 and 2 (bounded, no convergence); for
    :math:`\eta s > 2` it grows without bound (divergence), which this function reports
    faithfully rather than rejecting.

    Parameters
    ----------
    s : float or array, >= 0
        Eigenvalues of :math:`X^\top X/n`.
    lr : float > 0
        Step size :math:`\eta`.
    steps : int or array of int, >= 0
        Numbers of steps :math:`t`; broadcast against ``s``.

    Returns
    -------
    ndarray
        :math:`\varphi_t(s)`, of the broadcast shape of ``s`` and ``steps``.

    Raises
    ------
    ValueError
        If ``s`` has negative or non-finite entries, ``lr`` is not positive or ``steps`` are
        not non-negative integers.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(gd_filter(0.5, 1.0, [0, 1, 2, 10]), 4))
    [0.    0.5   0.75  0.999]
    """
    s = _check_spectrum(s)
    lr = check_learning_rate(lr)
    t = _check_steps_array(steps)
    a = lr * s
    with np.errstate(over="ignore", invalid="ignore"):
        # 1 - (1 - a)^t, computed as -expm1(t log1p(-a)) where that is accurate (0 <= a < 1)
        small = a < 1
        stable = -np.expm1(t * np.log1p(-np.where(small, a, 0.0)))
        direct = 1.0 - (1.0 - a) ** t
    return np.where(small, stable, direct)


def gradient_flow_filter(s, t) -> np.ndarray:
    r"""Filter of gradient *flow* (GD with infinitesimal steps) at time :math:`t`.

    The filter is :math:`1 - e^{-ts}`.  It is the limit of :func:`gd_filter` for :math:`\eta\to0`, :math:`\eta\,\text{steps}\to t`,
    and the object of Ali, Kolter & Tibshirani (2019).

    Parameters
    ----------
    s : float or array, >= 0
        Eigenvalues of :math:`X^\top X/n`.
    t : float or array, >= 0
        Times; broadcast against ``s``.

    Returns
    -------
    ndarray
        :math:`1 - e^{-ts}`, of the broadcast shape.

    Raises
    ------
    ValueError
        If ``s`` or ``t`` has negative or non-finite entries.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(gradient_flow_filter(1.0, [0.0, np.log(2)]), 6))
    [0.  0.5]
    """
    s = _check_spectrum(s)
    t = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"t must be finite and >= 0; got {t!r}")
    return -np.expm1(-t * s)


def ridge_filter(s, lam) -> np.ndarray:
    r"""Spectral filter of ridge regression: :math:`s/(s + \lambda)`.

    In the book's convention ridge minimises
    :math:`\frac1{2n}\lVert y-Xw\rVert^2 + \frac\lambda2\lVert w\rVert^2`, whose solution
    multiplies the least-squares coefficient along eigenvector :math:`j` of :math:`X^\top X/n`
    by :math:`s_j/(s_j+\lambda)` (:math:`= d_j^2/(d_j^2 + n\lambda)`).  ``s`` and ``lam``
    (>= 0) broadcast; :math:`0/(0+0)` is taken as 0 (a direction without data is not fitted).

    Parameters
    ----------
    s : float or array, >= 0
        Eigenvalues of :math:`X^\top X/n`.
    lam : float or array, >= 0
        The penalty λ; broadcast against ``s``.

    Returns
    -------
    ndarray
        :math:`s/(s + \lambda)`, of the broadcast shape.

    Raises
    ------
    ValueError
        If ``s`` or ``lam`` has negative or non-finite entries.

    Examples
    --------
    >>> print(ridge_filter([0.0, 1.0, 3.0], 1.0))
    [0.   0.5  0.75]
    """
    s = _check_spectrum(s)
    lam = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"lam must be finite and >= 0; got {lam!r}")
    denominator = s + lam
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, s / np.where(denominator > 0, denominator, 1.0), 0.0)


def gd_ridge_lambda(lr: float, steps: int) -> float:
    r"""The ridge :math:`\lambda = 1/(\eta t)` that matches ``steps`` GD steps of size ``lr``.

    Heuristic: :math:`1-(1-\eta s)^t \approx \eta t s` when :math:`\eta t s \ll 1` and
    :math:`\approx 1` when :math:`\eta t s \gg 1`; the ridge filter :math:`s/(s+\lambda)` behaves the
    same way with its transition at :math:`s = \lambda`, so the two transitions coincide for
    :math:`\lambda = 1/(\eta t)` (Goodfellow et al. 2016, §7.8).  ``steps = 0`` gives
    ``inf`` (no step taken: :math:`w = 0`, ridge with infinite penalty).

    Parameters
    ----------
    lr : float > 0
        Step size :math:`\eta`.
    steps : int >= 0
        Number of steps :math:`t`.

    Returns
    -------
    float
        :math:`1/(\eta t)`.

    Raises
    ------
    ValueError
        If ``lr`` is not positive or ``steps`` is not a non-negative integer.

    Examples
    --------
    >>> round(gd_ridge_lambda(0.1, 50), 6)
    0.2
    >>> gd_ridge_lambda(0.1, 0)
    inf
    """
    lr = check_learning_rate(lr)
    steps = _check_steps(steps)
    return math.inf if steps == 0 else 1.0 / (lr * steps)


def _spectral_parts(X, y):
    """The validated ``X, y``, then from the thin SVD of X (rank cut of the spectral core): s = d²/n, U^T y / d, V^T."""
    X, y = check_X_y(X, y)
    n = X.shape[0]
    U, d, Vt = _spectral.thin_svd(X)
    return X, y, d**2 / n, (U.T @ y) / d, Vt


def gd_path(X, y, lr: float, steps, *, allow_unstable: bool = False) -> np.ndarray:
    r"""Gradient-descent iterates from 0 after every number of steps in ``steps``, from one SVD.

    .. math::

        w_t = V\,\mathrm{diag}\big(\varphi_t(s_j)/s_j\big)\,V^\top\,\frac{X^\top y}{n}
            = \sum_j \varphi_t(s_j)\,\frac{u_j^\top y}{d_j}\,v_j ,

        \varphi_t(s) = 1 - (1-\eta s)^t ,

    i.e. the minimum-norm least-squares solution :math:`\sum_j (u_j^\top y/d_j) v_j` with
    each component multiplied by the GD filter.

    Parameters
    ----------
    X : array (n, p)
        The design.
    y : array (n,)
        The responses.
    lr : float > 0
        Step size :math:`\eta`, below :func:`max_stable_lr` unless ``allow_unstable``.
    steps : int or sequence of int, >= 0
        The numbers of steps at which to return the iterate.
    allow_unstable : bool
        Accept ``lr >= max_stable_lr(X)``.

    Returns
    -------
    ndarray of shape (len(steps), p)
        Row ``k`` is :math:`w_t` for ``t = steps[k]``, like the coefficients of
        :func:`weightdecay.linear.ridge_path`.

    Raises
    ------
    ValueError
        If the shapes do not match, ``lr`` is not positive or too large (without
        ``allow_unstable``), or ``steps`` are not non-negative integers.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(gd_path(np.eye(2), [1.0, 2.0], 1.0, [0, 1, 2]), 6))
    [[0.   0.  ]
     [0.5  1.  ]
     [0.75 1.5 ]]
    """
    X, y, s, coef, Vt = _spectral_parts(X, y)
    lr = check_learning_rate(lr)
    t = _check_steps_array(steps, "steps").reshape(-1)
    _check_stability(X, lr, allow_unstable)
    filters = gd_filter(s[None, :], lr, t[:, None])  # (T, r)
    return (filters * coef[None, :]) @ Vt


def gd_closed_form(X, y, lr: float, steps: int, w0=None, *, allow_unstable: bool = False) -> np.ndarray:
    r"""The gradient-descent iterate after ``steps`` steps, in closed form.

    Unrolling :math:`w_{k+1} - \hat w = (I - \eta H)(w_k - \hat w)` with :math:`H = X^\top X/n`
    and :math:`\hat w` the minimum-norm least-squares solution gives

    .. math::

        w_t = \sum_j \big[1 - (1-\eta s_j)^t\big]\frac{u_j^\top y}{d_j}\,v_j
              \;+\; (I - \eta H)^t\,w_0 ,

    and :math:`(I-\eta H)^t w_0 = w_0 - VV^\top w_0 + V\mathrm{diag}\big((1-\eta s_j)^t\big)V^\top w_0`:
    the part of :math:`w_0` outside the row space of :math:`X` is never changed by GD.  With
    :math:`w_0 = 0` this is :func:`gd_path` for one ``steps``; it agrees with the loop
    :func:`gd_least_squares` to rounding.

    Parameters
    ----------
    X : array (n, p)
        The design.
    y : array (n,)
        The responses.
    lr : float > 0
        Step size :math:`\eta`, below :func:`max_stable_lr` unless ``allow_unstable``.
    steps : int >= 0
        Number of steps :math:`t`.
    w0 : array (p,), optional
        Starting point (default 0).
    allow_unstable : bool
        Accept ``lr >= max_stable_lr(X)``.

    Returns
    -------
    ndarray of shape (p,)
        The iterate :math:`w_t`.

    Raises
    ------
    ValueError
        If the shapes do not match, ``lr`` is not positive or too large (without
        ``allow_unstable``), or ``steps`` is not a non-negative integer.

    Examples
    --------
    >>> import numpy as np
    >>> X, y, w0 = np.eye(2), [1.0, 2.0], [5.0, -1.0]
    >>> print(np.round(gd_closed_form(X, y, 1.0, 2), 6))
    [0.75 1.5 ]
    >>> bool(np.allclose(gd_closed_form(X, y, 0.3, 7, w0), gd_least_squares(X, y, 0.3, 7, w0)))
    True
    """
    X, y, s, coef, Vt = _spectral_parts(X, y)
    lr = check_learning_rate(lr)
    steps = _check_steps(steps)
    _check_stability(X, lr, allow_unstable)
    w = (gd_filter(s, lr, steps) * coef) @ Vt
    if w0 is not None:
        w0 = check_vector(w0, "w0", size=X.shape[1])
        along = Vt @ w0
        w = w + w0 - Vt.T @ along + Vt.T @ ((1.0 - lr * s) ** steps * along)
    return w


# ---------------------------------------------------------------------------
# Exact risk from the spectrum
# ---------------------------------------------------------------------------
def _filter_risk(X, beta, sigma, filters_of_s, target: str, grid) -> _bv.RiskCurve:
    r"""Risk of :math:`\hat w = \sum_j h_j (u_j^\top y/d_j) v_j` for the filters ``h = filters_of_s(s)``, (m, r)."""
    X, beta, sigma = _check_problem(X, beta, sigma)
    target = _spectral.check_target(target)
    n = X.shape[0]
    _, d, Vt = _spectral.thin_svd(X)
    h = filters_of_s(d**2 / n)  # (m, r)
    b2, outside = _spectral.row_space_coordinates(Vt, beta)
    bias2, variance = _spectral.filter_risk(d, n, sigma, h, b2, outside, target=target)
    return _bv.RiskCurve(grid, bias2, variance, target)


_RISK_DOC = r"""
    Model: fixed design ``X`` (n, p), :math:`y = X\beta + \varepsilon` with
    :math:`\mathbb E\varepsilon = 0`, :math:`\mathrm{Cov}\,\varepsilon = \sigma^2 I`.  The
    estimator is :math:`\hat w = \sum_j h_j\,(u_j^\top y/d_j)\,v_j` for a filter
    :math:`h_j = h(s_j)`, :math:`s_j = d_j^2/n`, so with :math:`b_j = v_j^\top\beta`

    * ``target="coef"``: :math:`\mathbb E\lVert\hat w - \beta\rVert^2
      = \sum_j (1-h_j)^2 b_j^2 + \lVert P_\perp \beta\rVert^2
      + \sigma^2\sum_j \frac{h_j^2}{d_j^2}`, where :math:`P_\perp` projects onto the
      null space of :math:`X`.  For test inputs :math:`x \sim (0, I)` this is also the excess
      test risk :math:`\mathbb E(x^\top(\hat w - \beta))^2`.
    * ``target="fit"`` (in-sample): :math:`\frac1n\mathbb E\lVert X(\hat w - \beta)\rVert^2
      = \frac1n\sum_j d_j^2(1-h_j)^2 b_j^2 + \frac{\sigma^2}{n}\sum_j h_j^2`.

    Ridge's risk, the filter :math:`s/(s + \lambda)`, is :func:`weightdecay.bias_variance.ridge_risk`.
    The keywords ``w_star`` (now ``beta``) and ``kind`` (``"estimation"`` is now
    ``target="coef"``, ``"prediction"`` is ``target="fit"``) are still accepted, with a
    ``DeprecationWarning``, for one release.
"""

_RISK_PARAMS = r"""
    Parameters
    ----------
    X : array (n, p)
        The fixed design.
    beta : array (p,)
        The true coefficients β.
    sigma : float >= 0
        The noise standard deviation σ.
"""

_RISK_RETURNS = r"""    target : {"coef", "fit"}
        The risk measured (see above).

    Returns
    -------
    weightdecay.bias_variance.RiskCurve
        One entry per value of the path argument, which is the curve's ``grid``.

    Raises
    ------
    ValueError
        If ``beta`` does not match the columns of ``X``, ``sigma`` is negative, the path
        argument is invalid or ``target`` is not one of ``"coef"``, ``"fit"``.
"""


@_legacy_risk_keywords
def gd_risk(X, beta, sigma: float, lr: float, steps, *, target: str = "coef") -> _bv.RiskCurve:
    r"""Exact risk of gradient descent from 0 after each number of ``steps``.

    The filter is :math:`1-(1-\eta s)^t`.  The formula holds for any step size, also a divergent
    one.
    """
    lr = check_learning_rate(lr)
    t = _check_steps_array(steps).reshape(-1)
    return _filter_risk(X, beta, sigma, lambda s: gd_filter(s[None, :], lr, t[:, None]), target, t)


# The rest of the docstring: the model, parameters and returns shared by the risks.
gd_risk.__doc__ = (gd_risk.__doc__ or "") + _RISK_DOC + _RISK_PARAMS + r"""    lr : float > 0
        Step size :math:`\eta`.
    steps : int or sequence of int, >= 0
        The numbers of steps (the path argument).
""" + _RISK_RETURNS + r"""
    Examples
    --------
    With :math:`X = I_2` (n = 2, :math:`s_j = 1/2`), :math:`\beta = (1, 1)`, σ = 1 and η = 1,
    the filter after ``t`` steps is :math:`h = 1 - 2^{-t}`: the squared bias
    :math:`2(1-h)^2` falls, the variance :math:`2h^2` rises, and one step beats running to
    convergence (risk 2):

    >>> import numpy as np
    >>> risk = gd_risk(np.eye(2), [1.0, 1.0], 1.0, 1.0, [0, 1, 2])
    >>> print(np.round(risk.bias2, 6), np.round(risk.variance, 6), np.round(risk.mse, 6))
    [2.    0.5   0.125] [0.    0.5   1.125] [2.   1.   1.25]
    >>> risk.best
    1
"""


@_legacy_risk_keywords
def gradient_flow_risk(X, beta, sigma: float, times, *, target: str = "coef") -> _bv.RiskCurve:
    r"""Exact risk of gradient flow at each time in ``times``.

    The filter is :math:`1 - e^{-ts}`.
    """
    t = np.asarray(times, dtype=float).reshape(-1)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"times must be a non-empty sequence of finite values >= 0; got {times!r}")
    return _filter_risk(X, beta, sigma, lambda s: gradient_flow_filter(s[None, :], t[:, None]), target, t)


gradient_flow_risk.__doc__ = (gradient_flow_risk.__doc__ or "") + _RISK_DOC + _RISK_PARAMS + r"""    times : sequence of float >= 0
        The times (the path argument).
""" + _RISK_RETURNS + r"""
    Examples
    --------
    With :math:`X = I_2` (:math:`s_j = 1/2`) the filter at :math:`t = 2\log 2` is 1/2, as for
    one step of :func:`gd_risk` with η = 1 and for ridge at λ = 1/2
    (:func:`weightdecay.bias_variance.ridge_risk`; :func:`gd_ridge_lambda` ``(1, 2) = 0.5``):

    >>> import numpy as np
    >>> from weightdecay.bias_variance import ridge_risk
    >>> print(np.round(gradient_flow_risk(np.eye(2), [1.0, 1.0], 1.0, [0.0, 2 * np.log(2)]).mse, 6))
    [2. 1.]
    >>> print(np.round(ridge_risk(np.eye(2), [1.0, 1.0], 1.0, [0.0, 0.5]).mse, 6))
    [2. 1.]
"""


def gradient_flow_ridge_constant() -> float:
    r"""The constant of Ali, Kolter & Tibshirani (2019), :math:`\max_{x>0} g(x)^2 \approx 1.686`.

    Here :math:`g(x) = (1-e^{-x})(1+x)/x`.
    Direction by direction, with :math:`x = ts_j` and :math:`\lambda = 1/t`, gradient flow's
    squared bias is :math:`e^{-2x}\beta_j^2 \le \beta_j^2/(1+x)^2` (ridge's), because
    :math:`(1+x)e^{-x}\le1`; its variance is :math:`(1-e^{-x})^2` times
    :math:`\sigma^2/(ns_j)`, ridge's is :math:`(x/(1+x))^2` times the same, and the ratio of the
    two is :math:`g(x)^2`.  Hence for every design, every :math:`w_\star` and every :math:`t`,

    .. math::  \mathrm{Risk}(\hat w_{\text{flow}}(t)) \le 1.686\;\mathrm{Risk}(\hat w_{\text{ridge}}(1/t))

    for both targets of :func:`gradient_flow_risk`.  (The paper quotes 1.6862.)

    Returns
    -------
    float
        :math:`\max_{x>0} g(x)^2`, found numerically.

    Examples
    --------
    >>> round(gradient_flow_ridge_constant(), 3)
    1.686
    """
    from scipy.optimize import minimize_scalar

    def negative_g2(x):
        return -((-math.expm1(-x)) * (1 + x) / x) ** 2

    result = minimize_scalar(negative_g2, bounds=(0.1, 10.0), method="bounded", options={"xatol": 1e-10})
    return float(-result.fun)


def gd_variance_ratio(lr_s, steps) -> np.ndarray:
    r"""Ratio of the variance of GD after ``steps`` steps to ridge's at :math:`\lambda=1/(\eta t)`.

    Along a direction with :math:`\eta s = ` ``lr_s`` it is

    .. math::  \left[\frac{\big(1-(1-\eta s)^t\big)\,(1+\eta s t)}{\eta s t}\right]^2 .

    For gradient flow (:math:`\eta s\to0` with :math:`\eta s t` fixed) its maximum over
    :math:`t` is :func:`gradient_flow_ridge_constant`; discrete steps give larger values (4 at
    :math:`\eta s = 1`, :math:`t = 1`), so the 1.69 bound is a statement about small steps.

    Parameters
    ----------
    lr_s : float or array, > 0
        The product :math:`\eta s`.
    steps : int or array of int, >= 1
        Numbers of steps :math:`t`; broadcast against ``lr_s``.

    Returns
    -------
    ndarray
        The variance ratio, of the broadcast shape.

    Raises
    ------
    ValueError
        If ``lr_s`` has entries that are not finite and positive, or ``steps`` are not
        integers >= 1.

    Examples
    --------
    >>> print(gd_variance_ratio(1.0, [1, 2]))
    [4.   2.25]
    """
    a = np.asarray(lr_s, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"lr_s must be finite and > 0; got {lr_s!r}")
    t = _check_steps_array(steps)
    if np.any(t < 1):
        raise ValueError(f"steps must be >= 1; got minimum {t.min()}")
    x = a * t
    return (gd_filter(a, 1.0, t) * (1 + x) / x) ** 2


def gd_ridge_constant(lr_s):
    r"""The discrete-step analogue of :func:`gradient_flow_ridge_constant`.

    It is the largest :func:`gd_variance_ratio` over all numbers of steps :math:`t \ge 1`, for
    :math:`\eta s = ` ``lr_s``.

    With :math:`a = \eta s \in (0, 1]` and :math:`x = at`, the ratio is at most
    :math:`((1+x)/x)^2`, which is below the gradient-flow constant :math:`c \approx 1.686` once
    :math:`x > 1/(\sqrt c - 1) \approx 3.36`; since the ratio reaches about :math:`c` near
    :math:`x \approx 1.79`, scanning :math:`t = 1, \dots, \lceil 4/a\rceil + 1` finds the exact
    maximum (for :math:`a < 4\cdot10^{-6}`, where that would be millions of steps, the ratio is
    maximised over real :math:`t` and the integers next to the maximiser are compared).  For
    :math:`1 < a < 2` the maximum is :math:`(1+a)^2` at :math:`t = 1`.

    What it bounds: for :math:`0 < a \le 1`, :math:`(1-a)^t \le e^{-at} \le 1/(1+at)`, so gradient
    descent's squared bias along every direction is at most ridge's at :math:`\lambda = 1/(\eta t)`,
    and its variance is at most this constant (at that direction's :math:`\eta s_j`) times ridge's.
    Hence for a step with :math:`\eta s_{\max} \le 1`, every :math:`w_\star` and every :math:`t`,

    .. math::  \mathrm{Risk}(\hat w_{\text{GD}}(t)) \le \max_j C(\eta s_j)\;
               \mathrm{Risk}\big(\hat w_{\text{ridge}}(1/(\eta t))\big)

    for both targets of :func:`gd_risk`.  Numerically :math:`C(a)` grows with :math:`a`,
    lies above the gradient-flow constant and tends to it as :math:`a \to 0`, by about
    :math:`0.36\,a` in relative terms (1.6865 at :math:`a = 10^{-3}`, 1.692 at :math:`10^{-2}`,
    1.753 at :math:`0.1`); :math:`C(1) = 4`.

    Parameters
    ----------
    lr_s : float or array, in (0, 2)
        The product :math:`\eta s`.

    Returns
    -------
    float or ndarray
        :math:`C(\eta s)`, a float for a number, else an array of the shape of ``lr_s``.

    Raises
    ------
    ValueError
        If ``lr_s`` is empty or has entries outside :math:`(0, 2)`.

    Examples
    --------
    >>> gd_ridge_constant(1.0)
    4.0
    >>> import numpy as np
    >>> print(np.round(gd_ridge_constant([0.01, 0.1]), 3))
    [1.692 1.753]
    """
    a = np.asarray(lr_s, dtype=float)
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0) or np.any(a >= 2):
        raise ValueError(f"lr_s must lie in (0, 2), the range in which gradient descent converges; got {lr_s!r}")
    out = np.empty(a.shape)
    for index, value in np.ndenumerate(a):
        last = math.ceil(4.0 / min(value, 1.0)) + 1
        if last <= _SCAN_STEPS:
            out[index] = gd_variance_ratio(value, np.arange(1, last + 1)).max()
        else:
            out[index] = _gd_ridge_constant_small_step(value, last)
    return float(out) if out.ndim == 0 else out


#: Up to this many steps :func:`gd_ridge_constant` scans every ``t``; beyond (``eta s < 4e-6``) it
#: maximises over real ``t`` and then checks the integers around the maximiser.
_SCAN_STEPS = 1_000_000


def _gd_ridge_constant_small_step(a: float, last: int) -> float:
    r""":func:`gd_ridge_constant` for a small step ``a``.

    There the variance ratio is a smooth unimodal function of :math:`x = at` (close to gradient
    flow's :math:`g(x)^2`, peak near :math:`x \approx 1.79`): maximise it over real :math:`t` in
    ``[1, last]``, then take the best integer next to the maximiser.
    """
    from scipy.optimize import minimize_scalar

    log_keep = math.log1p(-a)

    def negative_ratio(t):
        x = a * t
        return -((-math.expm1(t * log_keep)) * (1 + x) / x) ** 2

    t_star = minimize_scalar(negative_ratio, bounds=(1.0, float(last)), method="bounded",
                             options={"xatol": 0.25}).x
    candidates = np.arange(max(1, math.floor(t_star) - 2), min(last, math.ceil(t_star) + 2) + 1)
    return float(gd_variance_ratio(a, candidates).max())


# ---------------------------------------------------------------------------
# The callback
# ---------------------------------------------------------------------------
_MODES = ("min", "max")


def _infer_mode(monitor: str) -> str:
    """``"min"`` for a loss, ``"max"`` for an accuracy; refuse to guess otherwise."""
    name = monitor.lower()
    is_loss, is_acc = "loss" in name, "acc" in name
    if is_loss != is_acc:
        return "min" if is_loss else "max"
    raise ValueError(
        f"cannot tell whether {monitor!r} should fall or rise: pass mode='min' (a loss) "
        "or mode='max' (an accuracy)"
    )


class EarlyStopping:
    r"""Stop training when a validation metric has not improved for ``patience`` epochs.

    A callback for :func:`weightdecay.training.train`.  After every epoch it reads
    ``logs[monitor]`` (``"val_loss"`` by default) and calls the epoch an *improvement* if

    .. math::

        \text{mode="min"}:\ v_e < v_{\text{best}} - \delta, \qquad
        \text{mode="max"}:\ v_e > v_{\text{best}} + \delta ,

    with :math:`\delta` = ``min_delta`` (a NaN value is never an improvement).  On an
    improvement it records ``best_epoch``, ``best_value`` and, with ``restore_best``, a deep
    copy of the model's ``state_dict``; after ``patience`` epochs in a row without one it
    returns ``True`` (stop) and sets ``stopped_epoch``.  At the end of training (stopped or
    not) it loads the best weights back into the model and writes ``best_epoch`` into the
    history.  Without ``restore_best`` the model keeps its last weights — ``patience``
    epochs past the best ones.

    One instance per training run: it resets itself at epoch 1.

    Parameters
    ----------
    patience : int >= 1
        Epochs without improvement before stopping.
    min_delta : float >= 0
        The smallest change that counts as an improvement.
    restore_best : bool
        Load the weights of the best epoch back into the model at the end.
    monitor : str
        Key of the epoch logs, e.g. ``"val_loss"`` or ``"val_acc"``.
    mode : {"min", "max"}, optional
        ``"min"`` for losses, ``"max"`` for accuracies.  By default it follows from the
        metric's name: ``"min"`` if it contains ``"loss"``, ``"max"`` if it contains
        ``"acc"``; for any other name it must be given (a wrong guess would stop at the
        worst epoch and restore it).

    Attributes
    ----------
    best_epoch : int or None
        The epoch of the best value so far.
    best_value : float
        The best value so far.
    stopped_epoch : int or None
        The epoch at which it asked to stop (``None`` while training goes on).
    wait : int
        Epochs since the last improvement.

    Raises
    ------
    ValueError
        If an argument is invalid, or ``mode`` is not given and cannot be told from
        ``monitor``.

    Examples
    --------
    The rule on a recorded curve (in training, pass the callback to
    :func:`weightdecay.training.train` as ``callbacks=[EarlyStopping(10)]``):

    >>> stopper = EarlyStopping(patience=2, restore_best=False)
    >>> for epoch, value in enumerate([1.0, 0.8, 0.9, 0.85, 0.7], start=1):
    ...     stopper.on_epoch_begin(epoch, None)
    ...     if stopper.on_epoch_end(epoch, None, {"val_loss": value}):
    ...         break
    >>> stopper.best_epoch, stopper.best_value, stopper.stopped_epoch
    (2, 0.8, 4)
    >>> stopper
    EarlyStopping(patience=2, min_delta=0, restore_best=False, monitor='val_loss', mode='min')
    """

    def __init__(self, patience: int, min_delta: float = 0.0, restore_best: bool = True,
                 monitor: str = "val_loss", mode: str | None = None):
        self.patience = check_positive_int(patience, "patience")
        self.min_delta = check_positive_float(min_delta, "min_delta", allow_zero=True)
        if not isinstance(restore_best, (bool, np.bool_)):
            raise ValueError(f"restore_best must be True or False; got {restore_best!r}")
        self.restore_best = bool(restore_best)
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged metric, e.g. 'val_loss'; got {monitor!r}")
        self.monitor = monitor
        if mode is None:
            mode = _infer_mode(monitor)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}; got {mode!r}")
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_state = None
        self.stopped_epoch: int | None = None
        self.wait = 0

    def improves(self, value: float) -> bool:
        """Whether ``value`` is an improvement over the best value so far.

        Parameters
        ----------
        value : float
            The monitored metric of the current epoch.

        Returns
        -------
        bool
            ``True`` if it beats the best value by more than ``min_delta`` (never for NaN).
        """
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def on_epoch_begin(self, epoch: int, model) -> None:
        """Reset at the first epoch, so that an instance can serve one run after another.

        Parameters
        ----------
        epoch : int
            The epoch about to start (1-based).
        model : nn.Module
            The model being trained (unused).
        """
        if epoch == 1:
            self.reset()

    def on_epoch_end(self, epoch: int, model, logs: dict) -> bool:
        """Record an improvement (and the weights) or count an epoch without one.

        Parameters
        ----------
        epoch : int
            The epoch just finished (1-based).
        model : nn.Module
            The model being trained; its ``state_dict`` is copied on an improvement when
            ``restore_best``.
        logs : dict
            The epoch's metrics; must hold ``monitor``.

        Returns
        -------
        bool
            ``True`` to stop training: ``patience`` epochs in a row without improvement.

        Raises
        ------
        ValueError
            If ``logs`` has no entry ``monitor``.
        """
        if self.monitor not in logs:
            raise ValueError(
                f"monitor must be one of the logged metrics {sorted(logs)}; got {self.monitor!r} "
                "(pass val_data to train to log validation metrics)"
            )
        value = float(logs[self.monitor])
        if self.improves(value):
            self.best_value, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model, history: dict) -> None:
        """Load the best weights back (with ``restore_best``) and record ``best_epoch``.

        Parameters
        ----------
        model : nn.Module
            The trained model.
        history : dict
            The training history; gets the key ``"best_epoch"``.
        """
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)
        history["best_epoch"] = self.best_epoch

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta:g}, "
                f"restore_best={self.restore_best}, monitor={self.monitor!r}, mode={self.mode!r})")


def simulate_early_stopping(values, patience: int, min_delta: float = 0.0, mode: str = "min") -> tuple[int, int]:
    """Apply :class:`EarlyStopping`'s rule to a recorded curve ``values[e-1]`` (epoch ``e``).

    Returns ``(best_epoch, stopped_epoch)`` (1-based): the epoch whose weights the callback
    would restore and the epoch at which it would stop training (``len(values)`` if it never
    stops within the curve).  Training is deterministic given its seed, so this equals
    running the callback, without training again for each patience.

    Parameters
    ----------
    values : array (E,)
        The monitored metric after each epoch, ``E >= 1``.
    patience : int >= 1
        As for :class:`EarlyStopping`.
    min_delta : float >= 0
        As for :class:`EarlyStopping`.
    mode : {"min", "max"}
        ``"min"`` for a loss, ``"max"`` for an accuracy.

    Returns
    -------
    best_epoch, stopped_epoch : int
        The restored epoch and the epoch at which training stops (1-based).

    Raises
    ------
    ValueError
        If ``values`` is empty or not a finite vector, or an argument of the rule is invalid.

    Examples
    --------
    >>> curve = [1.0, 0.8, 0.9, 0.85, 0.7]
    >>> simulate_early_stopping(curve, 2)
    (2, 4)
    >>> simulate_early_stopping(curve, 3)  # never stops: the curve ends first
    (5, 5)
    """
    values = check_vector(values, "values")
    if values.size == 0:
        raise ValueError("values must be a non-empty curve; got length 0")
    rule = EarlyStopping(patience, min_delta, restore_best=False, monitor="v", mode=mode)
    for epoch, value in enumerate(values, start=1):
        if rule.on_epoch_end(epoch, None, {"v": value}):
            return rule.best_epoch, epoch
    return rule.best_epoch, int(values.size)


def patience_needed(values, min_delta: float = 0.0) -> int:
    """Smallest patience for which the rule of :class:`EarlyStopping` restores the curve's minimum.

    The rule is that of :class:`EarlyStopping` with ``mode="min"``; the epoch to restore is that
    of the lowest value of the whole curve ``values`` (its first minimum).

    Smaller patience stops on one of the plateaus before the minimum.  With ``min_delta > 0``
    the global minimum may never count as an improvement; then ``ValueError`` is raised.

    Parameters
    ----------
    values : array (E,)
        A validation-loss curve, one value per epoch, ``E >= 1``.
    min_delta : float >= 0
        As for :class:`EarlyStopping`.

    Returns
    -------
    int
        The smallest patience that restores the epoch of the lowest value.

    Raises
    ------
    ValueError
        If ``values`` is empty or not a finite vector, or no patience restores the minimum.

    Examples
    --------
    >>> patience_needed([1.0, 0.8, 0.9, 0.85, 0.7])  # two epochs of plateau before the minimum
    3
    """
    values = check_vector(values, "values")
    if values.size == 0:
        raise ValueError("values must be a non-empty curve; got length 0")
    target = int(np.argmin(values)) + 1
    for patience in range(1, values.size + 1):
        if simulate_early_stopping(values, patience, min_delta)[0] == target:
            return patience
    raise ValueError(f"no patience restores epoch {target} with min_delta={min_delta}; got values {values!r}")


# Moved to weightdecay.experiments.early_stopping (the MNIST-1D experiment fixes a dataset, an
# architecture and a grid), and to weightdecay.bias_variance (one RiskCurve, one ridge_risk for
# the whole package); the old names stay importable, with a DeprecationWarning, for one release.
_MOVED = {
    "EarlyStoppingRuns": "weightdecay.experiments.early_stopping.EarlyStoppingRuns",
    "mnist1d_early_stopping_experiment": "weightdecay.experiments.early_stopping.mnist1d_early_stopping_experiment",
    "RiskCurve": "weightdecay.bias_variance.RiskCurve",
    "ridge_risk": "weightdecay.bias_variance.ridge_risk",
}
# Renamed in this module: one prefix for gradient descent (gd_filter, gd_risk, gd_ridge_constant).
_RENAMED = {"equivalent_ridge_lambda": "weightdecay.early_stopping.gd_ridge_lambda"}
__getattr__ = moved_names(__name__, _MOVED, renamed=_RENAMED)
