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

from .linear import cross_validate_ridge, ridge_path, standardize
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
    """The smooth function the demo tries to learn: :math:`f(x) = \\sin(\\pi x)`."""
    return np.sin(np.pi * np.asarray(x, dtype=float))


def polynomial_data(n: int, *, noise: float = 0.3, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points ``x ~ U(-1, 1)`` with ``y = sin(πx) + noise · ε``, ``ε ~ N(0, 1)``."""
    n = check_positive_int(n, "n")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(rng)
    x = rng.uniform(-1.0, 1.0, size=n)
    return x, true_function(x) + noise * rng.standard_normal(n)


def polynomial_features(x, degree: int) -> np.ndarray:
    """The monomials ``x, x², …, x^degree`` as an ``(n, degree)`` matrix (no constant column)."""
    x = check_vector(x, "x")
    degree = check_positive_int(degree, "degree")
    return x[:, None] ** np.arange(1, degree + 1)[None, :]


@dataclass(frozen=True)
class RidgeCurve:
    """Train and test mean squared error of polynomial ridge fits along a λ grid."""

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
    return ridge_path(Phi, yc, lams), stats


def predict_ridge_polynomial(x_train, y_train, x_eval, degree: int, lams) -> np.ndarray:
    """Predictions at ``x_eval`` of the polynomial ridge fits, one row per λ: ``(len(lams), m)``."""
    x_train, y_train = check_X_y(np.asarray(x_train, float)[:, None], y_train, X_name="x_train", y_name="y_train")
    lams = check_lambdas(lams)
    W, stats = _fit_path(x_train[:, 0], y_train, degree, lams)
    Phi_eval = stats.transform(polynomial_features(x_eval, degree))
    return (Phi_eval @ W.T).T + stats.y_mean


def ridge_polynomial_curve(x_train, y_train, x_test, y_test, degree: int, lams) -> RidgeCurve:
    """Train/test MSE of degree-``degree`` polynomial ridge for every λ in ``lams``.

    Features are standardised on the training set, the intercept is the training mean of
    ``y`` (unpenalised), and the whole path comes from one SVD (:func:`ridge_path`).
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
    """k-fold cross-validation of polynomial ridge over ``lams``; see :func:`cross_validate_ridge`."""
    x_train = check_vector(x_train, "x_train")
    return cross_validate_ridge(polynomial_features(x_train, degree), y_train, lams, k=k, rng=rng)


# ---------------------------------------------------------------------------
# Penalty versus constraint
# ---------------------------------------------------------------------------
def project_l2_ball(w, radius: float) -> np.ndarray:
    """Euclidean projection onto ``{w : ||w||_2 <= radius}``: rescale if outside."""
    w = check_vector(w, "w")
    radius = check_positive_float(radius, "radius", allow_zero=True)
    norm = np.linalg.norm(w)
    return w.copy() if norm <= radius else w * (radius / norm)


def project_l1_ball(w, radius: float) -> np.ndarray:
    r"""Euclidean projection onto ``{w : ||w||_1 <= radius}`` (Duchi et al. 2008).

    The projection is soft-thresholding :math:`\mathrm{sign}(w_j)(|w_j| - \theta)_+` with the
    threshold :math:`\theta \ge 0` that puts the result on the ball's surface, found from the
    sorted magnitudes in :math:`O(p \log p)`.
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

    Returns
    -------
    w : array (p,)
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

    ``train_mse`` and ``test_mse`` have shape ``(n_repeats, len(lams))``; ``cv_index`` (one
    entry per training set, or ``None``) is the index in ``lams`` of the λ that k-fold
    cross-validation on that training set alone picks.
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
) -> RepeatedCurves:
    """Train and test MSE curves of polynomial ridge over ``n_repeats`` fresh training sets.

    Each repeat draws a training set of ``n_train`` points (and a test set of ``n_test``)
    from :func:`polynomial_data` and computes :func:`ridge_polynomial_curve`.  Averaging over
    training sets shows the *expected* behaviour that one draw only hints at.  With
    ``cv_folds = k`` each training set also gets its own k-fold cross-validation
    (:func:`cv_ridge_polynomial`, folds drawn from a generator spawned from ``rng``, so the
    data sets are the same with or without it), recorded in ``cv_index``.

    Returns
    -------
    RepeatedCurves
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
    for r in range(n_repeats):
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

    Returns
    -------
    (lam_low, lam_high), (mse_low, mse_high)
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
