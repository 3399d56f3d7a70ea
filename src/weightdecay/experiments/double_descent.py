r"""The double-descent chapter's settings and simulations.

Two problems, both fitted with the book's ridge (:func:`weightdecay.linear.ridge_path`,
:math:`\frac1{2n}\lVert y - Xw\rVert^2 + \frac\lambda2\lVert w\rVert^2`, the minimum-norm
least-squares solution at λ = 0):

* **Linear regression on isotropic Gaussian features.**  Rows :math:`x_i \sim \mathcal N(0, I_p)`,
  :math:`y_i = x_i^\top w^* + \varepsilon_i` with :math:`\lVert w^*\rVert^2 = r^2` (direction
  uniform on the sphere) and :math:`\varepsilon_i \sim \mathcal N(0, \sigma^2)`.  For a fresh
  :math:`x` the excess prediction risk of an estimate is
  :math:`\mathbb E_x[(x^\top(\hat w - w^*))^2] = \lVert\hat w - w^*\rVert^2`, computed exactly
  for each simulated training set; its limit is
  :func:`weightdecay.bias_variance.asymptotic_ridge_risk`.
* **Random-features regression** (a two-layer network whose first layer is drawn at random
  and frozen): inputs :math:`x \sim \mathcal N(0, I_d)`, features
  :math:`\phi_j(x) = \max(0, \theta_j^\top x/\sqrt d)` with :math:`\theta_j \sim \mathcal N(0, I_d)`,
  the same linear target :math:`y = x^\top\beta + \varepsilon` with :math:`\lVert\beta\rVert = 1`,
  and ridge on the second layer.  The excess risk is estimated on a test sample.

The simulations run numpy's BLAS on one thread (``threadpoolctl``, a dependency of
scikit-learn): the matrices are small, and on a busy machine extra threads cost far more
than they save.  Training set ``(seed, p)`` of the linear problem is drawn from the
generator ``numpy.random.default_rng([seed, p])``, so every sweep sees the same data for
the same seed and number of features.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

try:  # installed with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    def threadpool_limits(*args, **kwargs):
        return nullcontext()

from ..linear import _ridge_coefs, cross_validate_ridge
from ..progress import progress_bar
from ..validation import check_lambdas, check_positive_float, check_positive_int, check_seeds

__all__ = [
    "R2",
    "SIGMA2",
    "N_TRAIN",
    "GAMMAS",
    "N_SEEDS",
    "RF_N_TRAIN",
    "RF_INPUT_DIM",
    "RF_SIGMA2",
    "RF_N_TEST",
    "RF_N_FEATURES",
    "RF_LAMS",
    "isotropic_problem",
    "n_features_for",
    "ridge_excess_risk",
    "gamma_sweep",
    "cv_gamma_sweep",
    "relu_random_features",
    "random_features_risk",
]

#: Signal strength :math:`\lVert w^*\rVert^2` and noise variance σ² of the linear problem.
R2 = 1.0
SIGMA2 = 0.25
#: Training-set size of the sweep over γ = p/n.
N_TRAIN = 200
#: Aspect ratios γ = p/n of the sweep (γ = 1 itself is left out: there the risk of the
#: minimum-norm fit has no finite mean at finite n).
GAMMAS = np.array(
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2, 1.4, 1.7, 2.0, 2.5, 3.0, 4.0, 5.0]
)
#: Independent training sets (seeds) per point.
N_SEEDS = 20

#: Random features: training-set size, input dimension, noise variance, test-set size.
RF_N_TRAIN = 100
RF_INPUT_DIM = 20
RF_SIGMA2 = 0.25
RF_N_TEST = 1000
#: Numbers of random features N (the peak is expected at N = n = 100).
RF_N_FEATURES = np.array([10, 25, 50, 70, 85, 95, 100, 105, 115, 130, 160, 200, 300, 500, 1000])
#: The book's λ on the second layer: almost none, light and moderate weight decay.
RF_LAMS = np.array([1e-6, 1e-2, 1e-1])


def _rng(seed):
    return np.random.default_rng(seed)


def isotropic_problem(n: int, p: int, rng, *, r2: float = R2, sigma2: float = SIGMA2):
    r"""One training set of the isotropic linear problem.

    Parameters
    ----------
    n, p : int >= 1
        Rows and features.
    rng : numpy Generator or seed
    r2 : float >= 0
        :math:`\lVert w^*\rVert^2`; the direction of :math:`w^*` is uniform on the sphere.
    sigma2 : float >= 0
        The noise variance.

    Returns
    -------
    X : array (n, p)
        Standard normal entries.
    y : array (n,)
        :math:`Xw^* + \varepsilon`.
    w_star : array (p,)

    Examples
    --------
    >>> X, y, w = isotropic_problem(5, 3, 0, r2=4.0)
    >>> X.shape, y.shape, round(float(w @ w), 12)
    ((5, 3), (5,), 4.0)
    """
    n = check_positive_int(n, "n")
    p = check_positive_int(p, "p")
    r2 = check_positive_float(r2, "r2", allow_zero=True)
    sigma2 = check_positive_float(sigma2, "sigma2", allow_zero=True)
    rng = _rng(rng)
    X = rng.standard_normal((n, p))
    direction = rng.standard_normal(p)
    w_star = np.sqrt(r2) * direction / np.linalg.norm(direction)
    y = X @ w_star + np.sqrt(sigma2) * rng.standard_normal(n)
    return X, y, w_star


def n_features_for(gamma, n: int = N_TRAIN) -> np.ndarray:
    """The numbers of features ``p = round(gamma * n)`` (at least 1) of a sweep over γ.

    Parameters
    ----------
    gamma : float or sequence of float > 0
        Aspect ratios γ = p/n.
    n : int, default N_TRAIN
        Training-set size.

    Returns
    -------
    ndarray of int
        One ``p`` per γ.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or a γ is not a finite positive number.

    Examples
    --------
    >>> n_features_for([0.5, 1.05, 2.0], 200).tolist()
    [100, 210, 400]
    """
    n = check_positive_int(n, "n")
    gamma = np.atleast_1d(np.asarray(gamma, dtype=float))
    if gamma.ndim != 1 or not np.all(np.isfinite(gamma)) or np.any(gamma <= 0):
        raise ValueError(f"gamma must be a 1-D sequence of finite numbers > 0; got {gamma!r}")
    return np.maximum(np.rint(gamma * n).astype(int), 1)


def ridge_excess_risk(X, y, w_star, lams) -> np.ndarray:
    r"""Excess risk :math:`\lVert\hat w(\lambda) - w^*\rVert^2` of ridge for every λ in ``lams``.

    For isotropic features this is :math:`\mathbb E_x[(x^\top(\hat w - w^*))^2]` exactly.
    ``lam = 0`` is the minimum-norm least-squares fit.

    Parameters
    ----------
    X : array (n, p)
        Training inputs.
    y : array (n,)
        Training targets.
    w_star : array (p,)
        The true coefficients.
    lams : sequence of float >= 0
        The book's λ.

    Returns
    -------
    ndarray
        Shape ``(len(lams),)``.

    Raises
    ------
    ValueError
        If a λ is negative or not finite.

    Examples
    --------
    >>> X, y, w = isotropic_problem(50, 10, 0, sigma2=0.0)
    >>> # noiseless and p < n: least squares is exact
    >>> bool(ridge_excess_risk(X, y, w, [0.0])[0] < 1e-20)
    True
    """
    lams = check_lambdas(lams)
    with threadpool_limits(1, user_api="blas"):
        W = _ridge_coefs(X, y, lams)  # the coefficients of ridge_path
    return np.sum((W - np.asarray(w_star, dtype=float)) ** 2, axis=1)


def gamma_sweep(
    gammas, lams, seeds, *, n: int = N_TRAIN, r2: float = R2, sigma2: float = SIGMA2, progress: bool | None = None
):
    r"""Excess risk of ridge over a grid of γ = p/n, for several λ and seeds.

    Parameters
    ----------
    gammas : sequence of float > 0
        Aspect ratios; ``p = round(γ n)``.
    lams : array (L,) or (len(gammas), L)
        The book's λ: the same for every γ, or one row per γ (e.g. the optimal λ* = σ²γ/r²).
    seeds : iterable of int
        One training set per seed and γ, drawn from ``default_rng([seed, p])``.
    n, r2, sigma2
        As in :func:`isotropic_problem`.
    progress : bool or None, default None
        A progress bar over the seeds; ``None`` follows ``WEIGHTDECAY_PROGRESS``
        (:func:`weightdecay.progress.progress_enabled`).  It never changes the result.

    Returns
    -------
    array (len(seeds), len(gammas), L)
        The excess risk :math:`\lVert\hat w - w^*\rVert^2`.

    Raises
    ------
    ValueError
        If ``lams`` has the wrong shape, or a γ or a seed is invalid.

    Examples
    --------
    >>> gamma_sweep([0.5, 2.0], [0.0, 0.1], range(2), n=20).shape
    (2, 2, 2)
    """
    p_values = n_features_for(gammas, n)
    lams = np.asarray(lams, dtype=float)
    if lams.ndim == 1:
        lams = np.broadcast_to(lams, (p_values.size, lams.size))
    if lams.ndim != 2 or lams.shape[0] != p_values.size:
        raise ValueError(f"lams must have shape (L,) or ({p_values.size}, L); got {lams.shape}")
    seeds = check_seeds(seeds)
    out = np.empty((len(seeds), p_values.size, lams.shape[1]))
    for s, seed in enumerate(progress_bar(seeds, desc="gamma_sweep", progress=progress)):
        for i, p in enumerate(p_values):
            X, y, w_star = isotropic_problem(n, int(p), [seed, int(p)], r2=r2, sigma2=sigma2)
            out[s, i] = ridge_excess_risk(X, y, w_star, lams[i])
    return out


def cv_gamma_sweep(
    gammas,
    seeds,
    lam_grid,
    *,
    k: int = 5,
    n: int = N_TRAIN,
    r2: float = R2,
    sigma2: float = SIGMA2,
    progress: bool | None = None,
):
    r"""Ridge with λ chosen by k-fold cross-validation, over a grid of γ.

    On each training set (the same ones as :func:`gamma_sweep` with the same seeds),
    :func:`weightdecay.linear.cross_validate_ridge` picks the λ of ``lam_grid`` with the
    smallest mean validation error (no intercept, no standardisation: the model has
    neither), and ridge is refitted on the whole training set at that λ.

    Parameters
    ----------
    gammas : sequence of float > 0
        Aspect ratios; ``p = round(γ n)``.
    seeds : iterable of int
        One training set per seed and γ (the folds are drawn from ``[seed, p, 1]``).
    lam_grid : sequence of float >= 0
        The candidate λ.
    k : int, default 5
        Number of folds, at least 2.
    n, r2, sigma2
        As in :func:`isotropic_problem`.
    progress : bool or None, default None
        A progress bar over the seeds; ``None`` follows ``WEIGHTDECAY_PROGRESS``
        (:func:`weightdecay.progress.progress_enabled`).  It never changes the result.

    Returns
    -------
    risk : array (len(seeds), len(gammas))
        Excess risk :math:`\lVert\hat w - w^*\rVert^2` of the refitted model.
    lam : array (len(seeds), len(gammas))
        The λ chosen.

    Raises
    ------
    ValueError
        If ``lam_grid``, ``k``, a γ or a seed is invalid.

    Examples
    --------
    >>> risk, lam = cv_gamma_sweep([0.5], range(2), [0.01, 0.1, 1.0], n=40)
    >>> risk.shape, lam.shape
    ((2, 1), (2, 1))
    """
    p_values = n_features_for(gammas, n)
    lam_grid = check_lambdas(lam_grid, "lam_grid")
    k = check_positive_int(k, "k", minimum=2)
    seeds = check_seeds(seeds)
    risk = np.empty((len(seeds), p_values.size))
    lam = np.empty_like(risk)
    for s, seed in enumerate(progress_bar(seeds, desc="cv_gamma_sweep", progress=progress)):
        for i, p in enumerate(p_values):
            X, y, w_star = isotropic_problem(n, int(p), [seed, int(p)], r2=r2, sigma2=sigma2)
            with threadpool_limits(1, user_api="blas"):
                cv = cross_validate_ridge(X, y, lam_grid, k, rng=[seed, int(p), 1], standardize_folds=False)
            lam[s, i] = cv.best_lam
            risk[s, i] = ridge_excess_risk(X, y, w_star, [cv.best_lam])[0]
    return risk, lam


def relu_random_features(X, theta) -> np.ndarray:
    r"""The random ReLU features :math:`\max(0, X\theta^\top/\sqrt d)`, an array (n, N).

    Parameters
    ----------
    X : array (n, d)
        Inputs.
    theta : array (N, d)
        The frozen first-layer weights, one row per feature.

    Returns
    -------
    ndarray
        Shape ``(n, N)``, non-negative.

    Raises
    ------
    ValueError
        If ``X`` and ``theta`` are not matrices with the same number of columns.

    Examples
    --------
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> relu_random_features(np.array([[1.0, -1.0]]), W).round(3)
    array([[0.707, 0.   ]])
    """
    X = np.asarray(X, dtype=float)
    theta = np.asarray(theta, dtype=float)
    if X.ndim != 2 or theta.ndim != 2 or X.shape[1] != theta.shape[1]:
        raise ValueError(f"X (n, d) and theta (N, d) must share d; got shapes {X.shape} and {theta.shape}")
    return np.maximum(X @ theta.T / np.sqrt(X.shape[1]), 0.0)


def random_features_risk(
    n_features,
    lams,
    seeds,
    *,
    n: int = RF_N_TRAIN,
    d: int = RF_INPUT_DIM,
    sigma2: float = RF_SIGMA2,
    n_test: int = RF_N_TEST,
    progress: bool | None = None,
):
    r"""Test excess risk of random-features ridge regression, for each N and λ.

    For each seed: draw β (unit norm), ``n`` training and ``n_test`` test inputs, the noisy
    training targets and ``max(n_features)`` first-layer weights; the model with N features
    uses the first N of them (nested models, so differences between N are not drawn anew).
    The second layer is fitted by :func:`weightdecay.linear.ridge_path` on the features, and
    the excess risk is :math:`\frac1{n_\text{test}}\sum_i(\phi(x_i)^\top\hat a - x_i^\top\beta)^2`
    over the test inputs.

    Parameters
    ----------
    n_features : sequence of int >= 1
        Numbers of random features N.
    lams : sequence of float >= 0
        The book's λ on the second layer.
    seeds : iterable of int
        One draw of the data and the features per seed.
    n : int, default RF_N_TRAIN
        Training-set size.
    d : int, default RF_INPUT_DIM
        Input dimension.
    sigma2 : float, default RF_SIGMA2
        Noise variance of the training targets.
    n_test : int, default RF_N_TEST
        Test-set size.
    progress : bool or None, default None
        A progress bar over the seeds; ``None`` follows ``WEIGHTDECAY_PROGRESS``
        (:func:`weightdecay.progress.progress_enabled`).  It never changes the result.

    Returns
    -------
    array (len(seeds), len(n_features), len(lams))
        The test excess risk.

    Raises
    ------
    ValueError
        If ``n_features``, ``lams``, a size, ``sigma2`` or a seed is invalid.

    Examples
    --------
    >>> risk = random_features_risk(
    ...     [5, 50], [1e-6, 0.1], range(2), n=20, d=5, n_test=100
    ... )
    >>> risk.shape
    (2, 2, 2)
    """
    n_features = np.atleast_1d(np.asarray(n_features))
    if n_features.ndim != 1 or not np.issubdtype(n_features.dtype, np.integer) or np.any(n_features < 1):
        raise ValueError(f"n_features must be a 1-D sequence of integers >= 1; got {n_features!r}")
    lams = check_lambdas(lams)
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    sigma2 = check_positive_float(sigma2, "sigma2", allow_zero=True)
    n_test = check_positive_int(n_test, "n_test")
    seeds = check_seeds(seeds)
    out = np.empty((len(seeds), n_features.size, lams.size))
    for s, seed in enumerate(progress_bar(seeds, desc="random_features_risk", progress=progress)):
        rng = _rng(seed)
        beta = rng.standard_normal(d)
        beta /= np.linalg.norm(beta)
        X = rng.standard_normal((n, d))
        X_test = rng.standard_normal((n_test, d))
        y = X @ beta + np.sqrt(sigma2) * rng.standard_normal(n)
        theta = rng.standard_normal((int(n_features.max()), d))
        features = relu_random_features(X, theta)
        features_test = relu_random_features(X_test, theta)
        target_test = X_test @ beta
        with threadpool_limits(1, user_api="blas"):
            for j, N in enumerate(n_features):
                A = _ridge_coefs(features[:, :N], y, lams)  # (L, N); ReLU features: uncentred on purpose
                out[s, j] = np.mean((features_test[:, :N] @ A.T - target_test[:, None]) ** 2, axis=0)
    return out
