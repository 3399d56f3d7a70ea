r"""Overfitting and regularisation: the polynomial-regression demo and penalty vs constraint.

The chapter "Overfitting and regularisation" fits a degree-``d`` polynomial to a few noisy
samples of a smooth function with the book's ridge objective

.. math::  \min_w \frac{1}{2n}\lVert y - \Phi w\rVert^2 + \frac{\lambda}{2}\lVert w\rVert^2,

where :math:`\Phi` holds the standardised monomials :math:`x, x^2, \dots, x^d` (the
intercept is fitted separately and not penalised).  Everything the chapter plots is
computed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .linear import _ridge_coefs, cross_validate_ridge, standardize
from .progress import progress_bar
from .validation import (
    check_lambdas,
    check_matrix,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_vector,
    check_X_y,
)

__all__ = [
    "true_function",
    "polynomial_data",
    "polynomial_features",
    "RidgeCurve",
    "predict_ridge_polynomial",
    "ridge_polynomial_curve",
    "cv_ridge_polynomial",
    "RepeatedCurves",
    "repeated_ridge_curves",
    "bootstrap_best_lambda",
    "project_l2_ball",
    "project_l1_ball",
    "constrained_least_squares",
]


def true_function(x):
    r"""The smooth function the demo tries to learn: :math:`f(x) = \sin(\pi x)`.

    Parameters
    ----------
    x : float or array_like
        Inputs, usually in ``[-1, 1]``.

    Returns
    -------
    float or ndarray
        :math:`\sin(\pi x)`, elementwise, of the shape of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(true_function([0.0, 0.5, -0.5]), 3))
    [ 0.  1. -1.]
    """
    return np.sin(np.pi * np.asarray(x, dtype=float))


def polynomial_data(n: int, *, noise: float = 0.3, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points ``x ~ U(-1, 1)`` with ``y = sin(πx) + noise · ε``, ``ε ~ N(0, 1)``.

    Parameters
    ----------
    n : int >= 1
        Number of points.
    noise : float >= 0, default 0.3
        Standard deviation of the noise added to :func:`true_function`.
    rng : numpy Generator or seed, optional
        Source of the inputs and of the noise (inputs first).

    Returns
    -------
    x, y : ndarray of shape (n,)
        Inputs and noisy responses.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or ``noise`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> x, y = polynomial_data(5, rng=0)
    >>> x.shape, y.shape, bool(np.all(np.abs(x) <= 1))
    ((5,), (5,), True)
    >>> x0, y0 = polynomial_data(5, noise=0.0, rng=0)
    >>> bool(np.allclose(y0, true_function(x0)))
    True
    """
    n = check_positive_int(n, "n")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(rng)
    x = rng.uniform(-1.0, 1.0, size=n)
    return x, true_function(x) + noise * rng.standard_normal(n)


def polynomial_features(x, degree: int) -> np.ndarray:
    """The monomials ``x, x², …, x^degree`` as an ``(n, degree)`` matrix (no constant column).

    Parameters
    ----------
    x : array_like of shape (n,)
        Inputs.
    degree : int >= 1
        Highest power.

    Returns
    -------
    ndarray of shape (n, degree)
        Column ``k`` holds ``x ** (k + 1)``.

    Raises
    ------
    ValueError
        If ``x`` is not a finite vector or ``degree`` is not a positive integer.

    Examples
    --------
    >>> polynomial_features([1.0, 2.0], 3).tolist()
    [[1.0, 1.0, 1.0], [2.0, 4.0, 8.0]]
    """
    x = check_vector(x, "x")
    degree = check_positive_int(degree, "degree")
    return x[:, None] ** np.arange(1, degree + 1)[None, :]


@dataclass(frozen=True)
class RidgeCurve:
    r"""Train and test mean squared error of polynomial ridge fits along a λ grid.

    Returned by :func:`ridge_polynomial_curve`.

    Parameters
    ----------
    lams : ndarray of shape (L,)
        The λ grid.
    train_mse : ndarray of shape (L,)
        Mean squared error on the training points at each λ.
    test_mse : ndarray of shape (L,)
        Mean squared error on the test points at each λ.
    coef_norm : ndarray of shape (L,)
        :math:`\lVert w(\lambda)\rVert_2` on the standardised features.

    Attributes
    ----------
    best_lam : float
        The λ of smallest *test* error (an oracle: not available in practice).

    Examples
    --------
    >>> import numpy as np
    >>> curve = RidgeCurve(np.array([0.01, 1.0]), np.array([0.1, 0.2]), np.array([0.5, 0.3]), np.array([3.0, 1.0]))
    >>> curve.best_lam
    1.0
    """

    lams: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    coef_norm: np.ndarray  # ||w(λ)||_2 on the standardised features

    @property
    def best_lam(self) -> float:
        """The λ of smallest *test* error (an oracle: not available in practice)."""
        return float(self.lams[np.argmin(self.test_mse)])


def _fit_path(x_train, y_train, degree, lams):
    Phi, yc, stats = standardize(polynomial_features(x_train, degree), y_train)
    return _ridge_coefs(Phi, yc, lams), stats  # the coefficients of ridge_path


def predict_ridge_polynomial(x_train, y_train, x_eval, degree: int, lams) -> np.ndarray:
    """Predictions at ``x_eval`` of the polynomial ridge fits, one row per λ: ``(len(lams), m)``.

    Parameters
    ----------
    x_train, y_train : array_like of shape (n,)
        The training points.
    x_eval : array_like of shape (m,)
        Where to predict.
    degree : int >= 1
        Degree of the polynomial.
    lams : sequence of float >= 0
        The λ grid (book convention).

    Returns
    -------
    ndarray of shape (len(lams), m)
        Row ``k`` is the fit at ``lams[k]``, evaluated at ``x_eval``.

    Raises
    ------
    ValueError
        If ``x_train`` and ``y_train`` differ in length or hold non-finite values, or
        ``lams`` is not a non-empty sequence of values >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> x, y = polynomial_data(20, rng=0)
    >>> pred = predict_ridge_polynomial(x, y, np.linspace(-1, 1, 5), 5, [1e-3, 1.0])
    >>> pred.shape
    (2, 5)
    >>> # an enormous penalty leaves only the unpenalised intercept, the mean of y
    >>> flat = predict_ridge_polynomial(x, y, [0.3], 5, [1e12])
    >>> bool(np.allclose(flat, y.mean()))
    True
    """
    x_train, y_train = check_X_y(np.asarray(x_train, float)[:, None], y_train, X_name="x_train", y_name="y_train")
    lams = check_lambdas(lams)
    W, stats = _fit_path(x_train[:, 0], y_train, degree, lams)
    Phi_eval = stats.transform(polynomial_features(x_eval, degree))
    return (Phi_eval @ W.T).T + stats.y_mean


def ridge_polynomial_curve(x_train, y_train, x_test, y_test, degree: int, lams) -> RidgeCurve:
    """Train/test MSE of degree-``degree`` polynomial ridge for every λ in ``lams``.

    Features are standardised on the training set, the intercept is the training mean of
    ``y`` (unpenalised), and the whole path comes from one SVD
    (:func:`weightdecay.linear.ridge_path`).

    Parameters
    ----------
    x_train, y_train : array_like of shape (n,)
        The training points.
    x_test, y_test : array_like of shape (m,)
        The test points.
    degree : int >= 1
        Degree of the polynomial.
    lams : sequence of float >= 0
        The λ grid (book convention).

    Returns
    -------
    RidgeCurve
        Train and test MSE and the coefficient norm at every λ.

    Raises
    ------
    ValueError
        If a pair of inputs differs in length or holds non-finite values, or ``lams`` is
        not a non-empty sequence of values >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> x, y = polynomial_data(20, rng=0)
    >>> xt, yt = polynomial_data(200, rng=1)
    >>> curve = ridge_polynomial_curve(x, y, xt, yt, 9, np.logspace(-6, 1, 8))
    >>> curve.train_mse.shape
    (8,)
    >>> # more penalty: a worse fit of the training points and a smaller coefficient vector
    >>> bool(np.all(np.diff(curve.train_mse) > 0)), bool(np.all(np.diff(curve.coef_norm) < 0))
    (True, True)
    """
    x_test, y_test = check_X_y(np.asarray(x_test, float)[:, None], y_test, X_name="x_test", y_name="y_test")
    lams = check_lambdas(lams)
    pred_train = predict_ridge_polynomial(x_train, y_train, x_train, degree, lams)
    pred_test = predict_ridge_polynomial(x_train, y_train, x_test[:, 0], degree, lams)
    W, _ = _fit_path(np.asarray(x_train, float), np.asarray(y_train, float), degree, lams)
    train_mse = np.mean((np.asarray(y_train, float)[None, :] - pred_train) ** 2, axis=1)
    test_mse = np.mean((y_test[None, :] - pred_test) ** 2, axis=1)
    return RidgeCurve(lams, train_mse, test_mse, np.linalg.norm(W, axis=1))


def cv_ridge_polynomial(x_train, y_train, degree: int, lams, k: int = 5, rng=0):
    """k-fold cross-validation of polynomial ridge over ``lams``; see :func:`weightdecay.linear.cross_validate_ridge`.

    Parameters
    ----------
    x_train, y_train : array_like of shape (n,)
        The training points.
    degree : int >= 1
        Degree of the polynomial.
    lams : sequence of float >= 0
        The λ grid (book convention).
    k : int >= 2, default 5
        Number of folds.
    rng : numpy Generator or seed, default 0
        Source of the folds.

    Returns
    -------
    weightdecay.linear.CVResult
        Validation MSE per fold and λ, their mean, and the λ that minimises it.

    Raises
    ------
    ValueError
        If the inputs are not finite vectors of equal length, or ``lams``, ``degree`` or ``k``
        are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> x, y = polynomial_data(30, rng=0)
    >>> lams = np.logspace(-6, 1, 8)
    >>> cv = cv_ridge_polynomial(x, y, 9, lams, k=5, rng=0)
    >>> cv.mean_mse.shape, bool(cv.best_lam in lams)
    ((8,), True)
    """
    x_train = check_vector(x_train, "x_train")
    return cross_validate_ridge(polynomial_features(x_train, degree), y_train, lams, k=k, rng=rng)


# ---------------------------------------------------------------------------
# Penalty versus constraint
# ---------------------------------------------------------------------------
def project_l2_ball(w, radius: float) -> np.ndarray:
    """Euclidean projection onto ``{w : ||w||_2 <= radius}``: rescale if outside.

    Parameters
    ----------
    w : array_like of shape (p,)
        The point to project.
    radius : float >= 0
        Radius of the ball.

    Returns
    -------
    ndarray of shape (p,)
        ``w`` itself (a copy) if it lies in the ball, else ``w`` scaled onto the sphere.

    Raises
    ------
    ValueError
        If ``w`` is not a finite vector or ``radius`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(project_l2_ball([3.0, 4.0], 1.0), 3))
    [0.6 0.8]
    >>> print(project_l2_ball([0.3, 0.4], 1.0))
    [0.3 0.4]
    """
    w = check_vector(w, "w")
    radius = check_positive_float(radius, "radius", allow_zero=True)
    norm = np.linalg.norm(w)
    return w.copy() if norm <= radius else w * (radius / norm)


def project_l1_ball(w, radius: float) -> np.ndarray:
    r"""Euclidean projection onto ``{w : ||w||_1 <= radius}`` (Duchi et al. 2008).

    The projection is soft-thresholding :math:`\mathrm{sign}(w_j)(|w_j| - \theta)_+` with the
    threshold :math:`\theta \ge 0` that puts the result on the ball's surface, found from the
    sorted magnitudes in :math:`O(p \log p)`.

    Parameters
    ----------
    w : array_like of shape (p,)
        The point to project.
    radius : float >= 0
        Radius of the ℓ1 ball.

    Returns
    -------
    ndarray of shape (p,)
        The closest point of the ball to ``w``; exact zeros where :math:`|w_j| \le \theta`.

    Raises
    ------
    ValueError
        If ``w`` is not a finite vector or ``radius`` is negative.

    Examples
    --------
    >>> print(project_l1_ball([3.0, -2.0, 0.5], 3.0))
    [ 2. -1.  0.]
    """
    w = check_vector(w, "w")
    radius = check_positive_float(radius, "radius", allow_zero=True)
    a = np.abs(w)
    if a.sum() <= radius:
        return w.copy()
    if radius == 0:
        return np.zeros_like(w)
    u = np.sort(a)[::-1]
    css = np.cumsum(u)
    j = np.arange(1, u.size + 1)
    positive = np.nonzero(u - (css - radius) / j > 0)[0]
    rho = positive[-1] if positive.size else 0  # j = 1 is always feasible in exact arithmetic
    theta = (css[rho] - radius) / (rho + 1)
    return np.sign(w) * np.maximum(a - theta, 0.0)


def constrained_least_squares(X, y, radius: float, norm: str = "l2", *, steps: int = 5000, tol: float = 1e-12):
    r"""Solve :math:`\min_w \frac{1}{2n}\lVert y - Xw\rVert^2` subject to :math:`\lVert w\rVert \le t`.

    Projected gradient descent with step :math:`1/L`, :math:`L = \sigma_{\max}(X)^2/n`:
    :math:`w \leftarrow \Pi_t\big(w + \tfrac{1}{Ln}X^\top(y - Xw)\big)`, where
    :math:`\Pi_t` projects onto the ℓ2 or ℓ1 ball of radius ``t``.  Used to check that the
    constrained problem and the penalised one (ridge / lasso) have the same solution when
    ``t`` equals the norm of the penalised solution, i.e. the penalty is the Lagrangian of
    the constraint.

    Parameters
    ----------
    X : array (n, p)
        The design.
    y : array (n,)
        The responses.
    radius : float >= 0
        The bound ``t`` on the norm of ``w``.
    norm : {"l2", "l1"}, default "l2"
        Which ball.
    steps : int >= 1, default 5000
        Maximum number of iterations.
    tol : float, default 1e-12
        Stop when an iterate moves by at most ``tol`` times :math:`\max(1, \lVert w\rVert)`.

    Returns
    -------
    w : array (p,)
        The constrained least-squares solution.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` do not match, ``radius`` is negative, ``steps`` is not a positive
        integer or ``norm`` is neither ``"l1"`` nor ``"l2"``.

    Examples
    --------
    With :math:`X = I` the loss is isotropic, so the solution is the projection of the
    least-squares solution ``y`` onto the ball:

    >>> import numpy as np
    >>> w = constrained_least_squares(np.eye(2), [3.0, 4.0], 1.0)
    >>> print(np.round(w, 3))
    [0.6 0.8]
    """
    X, y = check_X_y(X, y)
    radius = check_positive_float(radius, "radius", allow_zero=True)
    steps = check_positive_int(steps, "steps")
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2'; got {norm!r}")
    project = project_l2_ball if norm == "l2" else project_l1_ball
    n = X.shape[0]
    lipschitz = np.linalg.norm(X, 2) ** 2 / n
    step = 1.0 / lipschitz
    # Accelerated (FISTA-style) projected gradient.
    w = np.zeros(X.shape[1])
    z, t_k = w.copy(), 1.0
    for _ in range(steps):
        w_new = project(z + step * X.T @ (y - X @ z) / n, radius)
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t_k**2))
        z = w_new + ((t_k - 1) / t_next) * (w_new - w)
        if np.linalg.norm(w_new - w) <= tol * max(1.0, np.linalg.norm(w)):
            w = w_new
            break
        w, t_k = w_new, t_next
    return w


@dataclass(frozen=True)
class RepeatedCurves:
    """Train and test MSE of polynomial ridge over many independent training sets.

    Returned by :func:`repeated_ridge_curves`.

    Parameters
    ----------
    lams : ndarray of shape (L,)
        The λ grid.
    train_mse, test_mse : ndarray of shape (n_repeats, L)
        One curve per training set.
    cv_index : ndarray of shape (n_repeats,) or None, default None
        The index in ``lams`` of the λ that k-fold cross-validation on each training set
        alone picks (``None`` without cross-validation).

    Attributes
    ----------
    cv_test_mse : ndarray of shape (n_repeats,)
        Test MSE of each training set's fit at its cross-validated λ (``ValueError`` when
        ``cv_index`` is ``None``).
    oracle_test_mse : ndarray of shape (n_repeats,)
        Smallest test MSE over the grid for each training set (an oracle's choice of λ).

    Examples
    --------
    >>> import numpy as np
    >>> rep = repeated_ridge_curves(15, 4, [1e-3, 0.1, 10.0], n_repeats=3, n_test=50, cv_folds=3, rng=0)
    >>> rep.test_mse.shape, rep.cv_test_mse.shape
    ((3, 3), (3,))
    >>> bool(np.all(rep.oracle_test_mse <= rep.cv_test_mse))
    True
    """

    lams: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    cv_index: np.ndarray | None = None

    @property
    def cv_test_mse(self) -> np.ndarray:
        """Test MSE of each training set's fit at its cross-validated λ."""
        if self.cv_index is None:
            raise ValueError("cv_index is None: call repeated_ridge_curves with cv_folds")
        return self.test_mse[np.arange(self.test_mse.shape[0]), self.cv_index]

    @property
    def oracle_test_mse(self) -> np.ndarray:
        """Smallest test MSE over the grid for each training set (an oracle's choice of λ)."""
        return self.test_mse.min(axis=1)


def repeated_ridge_curves(
    n_train: int,
    degree: int,
    lams,
    *,
    n_repeats: int = 50,
    noise: float = 0.3,
    n_test: int = 2000,
    cv_folds: int | None = None,
    rng=None,
    progress: bool | None = None,
) -> RepeatedCurves:
    """Train and test MSE curves of polynomial ridge over ``n_repeats`` fresh training sets.

    Each repeat draws a training set of ``n_train`` points (and a test set of ``n_test``)
    from :func:`polynomial_data` and computes :func:`ridge_polynomial_curve`.  Averaging over
    training sets shows the *expected* behaviour that one draw only hints at.  With
    ``cv_folds = k`` each training set also gets its own k-fold cross-validation
    (:func:`cv_ridge_polynomial`, folds drawn from a generator spawned from ``rng``, so the
    data sets are the same with or without it), recorded in ``cv_index``.

    Parameters
    ----------
    n_train : int >= 1
        Size of each training set.
    degree : int >= 1
        Degree of the polynomial.
    lams : sequence of float >= 0
        The λ grid (book convention).
    n_repeats : int >= 1, default 50
        Number of training sets.
    noise : float >= 0, default 0.3
        Noise level of :func:`polynomial_data`.
    n_test : int >= 1, default 2000
        Size of each test set.
    cv_folds : int >= 2, optional
        Also cross-validate each training set with this many folds.
    rng : numpy Generator or seed, optional
        Source of the data (and, through a spawned generator, of the folds).
    progress : bool or None, default None
        Show a progress bar over the training sets; ``None`` follows the environment
        variable ``WEIGHTDECAY_PROGRESS`` (see :func:`weightdecay.progress.progress_enabled`).
        The results do not depend on it.

    Returns
    -------
    RepeatedCurves
        The train and test curves of every training set (and the cross-validated indices).

    Raises
    ------
    ValueError
        If ``n_repeats`` is not a positive integer, ``lams`` is invalid or ``cv_folds`` is
        below 2.

    Examples
    --------
    >>> import numpy as np
    >>> rep = repeated_ridge_curves(15, 6, [1e-4, 1e-2, 1.0], n_repeats=4, n_test=100, rng=0, progress=False)
    >>> rep.train_mse.shape, rep.cv_index is None
    ((4, 3), True)
    >>> # the training error of ridge grows with λ on every training set
    >>> bool(np.all(np.diff(rep.train_mse, axis=1) > 0))
    True
    """
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    lams = check_lambdas(lams)
    if cv_folds is not None:
        cv_folds = check_positive_int(cv_folds, "cv_folds", minimum=2)
    rng = np.random.default_rng(rng)
    fold_rng = rng.spawn(1)[0]  # does not advance rng: the data do not depend on cv_folds
    train = np.empty((n_repeats, lams.size))
    test = np.empty((n_repeats, lams.size))
    cv_index = np.empty(n_repeats, dtype=int) if cv_folds is not None else None
    for r in progress_bar(range(n_repeats), desc="training sets", progress=progress):
        x, y = polynomial_data(n_train, noise=noise, rng=rng)
        xt, yt = polynomial_data(n_test, noise=noise, rng=rng)
        curve = ridge_polynomial_curve(x, y, xt, yt, degree, lams)
        train[r], test[r] = curve.train_mse, curve.test_mse
        if cv_folds is not None:
            cv = cv_ridge_polynomial(x, y, degree, lams, k=cv_folds, rng=fold_rng)
            cv_index[r] = int(np.argmin(cv.mean_mse))
    return RepeatedCurves(lams, train, test, cv_index)


# ---------------------------------------------------------------------------
# Uncertainty of the summaries
# ---------------------------------------------------------------------------
def bootstrap_best_lambda(test_mse, lams, *, n_boot: int = 1000, level: float = 0.95, rng=0):
    """Bootstrap intervals for the minimiser and the minimum of the median test-error curve.

    ``test_mse`` holds one curve per training set (rows) over ``lams`` (columns).  Each of
    ``n_boot`` resamples draws the training sets with replacement, takes the median curve and
    records its minimiser and its minimum; the intervals are the central ``level``
    percentiles (the minimiser's as grid values).

    Parameters
    ----------
    test_mse : array (m, L), m >= 2
        One test-error curve per training set.
    lams : sequence of float >= 0, length L
        The λ grid of the columns.
    n_boot : int >= 1, default 1000
        Number of bootstrap resamples.
    level : float in (0, 1), default 0.95
        Coverage of the intervals.
    rng : numpy Generator or seed, default 0
        Source of the resamples.

    Returns
    -------
    (lam_low, lam_high), (mse_low, mse_high) : tuple of two pairs of float
        The interval for the minimising λ (grid values) and for the minimum of the median
        curve.

    Raises
    ------
    ValueError
        If ``test_mse`` has fewer than two rows or ``lams`` does not match its columns, or
        ``n_boot`` or ``level`` are invalid.

    Examples
    --------
    Every resample's median curve has its minimum, 1.0, at the second λ:

    >>> import numpy as np
    >>> test = np.array([[2.0, 1.0, 3.0], [3.0, 1.0, 2.0], [2.0, 1.0, 2.0]])
    >>> bootstrap_best_lambda(test, [0.01, 0.1, 1.0], n_boot=50)
    ((0.1, 0.1), (1.0, 1.0))
    """
    test_mse = check_matrix(test_mse, "test_mse", min_rows=2)
    lams = check_lambdas(lams)
    if lams.size != test_mse.shape[1]:
        raise ValueError(f"lams must have one entry per column of test_mse ({test_mse.shape[1]}); got {lams.size}")
    n_boot = check_positive_int(n_boot, "n_boot")
    level = check_probability(level, "level", allow_zero=False)
    rng = np.random.default_rng(rng)
    m = test_mse.shape[0]
    best_lam, best_mse = np.empty(n_boot), np.empty(n_boot)
    for b in range(n_boot):
        med = np.median(test_mse[rng.integers(0, m, m)], axis=0)
        i = int(np.argmin(med))
        best_lam[b], best_mse[b] = lams[i], med[i]
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    lam_lo, lam_hi = np.percentile(best_lam, q, method="inverted_cdf")
    mse_lo, mse_hi = np.percentile(best_mse, q)
    return (float(lam_lo), float(lam_hi)), (float(mse_lo), float(mse_hi))
