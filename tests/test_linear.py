"""Tests of weightdecay.linear: ridge, lasso, elastic net, paths and cross-validation.

Every derivation of the ridge and lasso chapters is checked here: closed forms on
orthonormal designs, optimality (KKT) conditions, agreement with numpy and scikit-learn,
and the limits in λ.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from sklearn.linear_model import ElasticNet, Lasso, Ridge

import weightdecay as wd
from weightdecay.conventions import lam_from_sklearn_lasso_alpha, sklearn_ridge_alpha_from_lam
from weightdecay.linear import (
    ConvergenceWarning,
    CVResult,
    PathEvent,
    UncenteredDataWarning,
    cross_validate_lasso,
    cross_validate_ridge,
    elastic_net,
    elastic_net_path,
    kfold_indices,
    kkt_violation,
    lambda_max,
    lasso,
    lasso_cd_textbook,
    lasso_objective,
    lasso_path,
    path_events,
    ridge,
    ridge_df,
    ridge_gcv,
    ridge_path,
    ridge_shrinkage,
    soft_threshold,
    standardize,
)

TIGHT = 1e-10  # relative KKT tolerance for tests that compare with closed forms


def make_problem(n=60, p=8, seed=0, n_nonzero=3, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:n_nonzero] = rng.choice([-1.0, 1.0], n_nonzero) * rng.uniform(1.0, 3.0, n_nonzero)
    y = X @ beta + noise * rng.standard_normal(n)
    X, y, _ = standardize(X, y)
    return X, y


def orthonormal_design(n=40, p=5, seed=0):
    """A design with XᵀX = n·I (columns orthogonal, ||x_j||² = n) and a response."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, p)))
    X = np.sqrt(n) * Q
    y = X @ rng.uniform(-2, 2, p) + rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def diabetes():
    X, y, names = wd.data.diabetes(standardized=True)
    return X, y, names


# ---------------------------------------------------------------------------
# Pre-processing and folds
# ---------------------------------------------------------------------------
def test_standardize_centres_and_scales_and_transforms_new_data():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(50, 4))
    X[:, 3] = 7.0  # constant column
    y = rng.normal(5.0, 1.0, size=50)
    Xs, ys, stats = standardize(X, y)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose((Xs[:, :3] ** 2).sum(axis=0), 50.0)
    np.testing.assert_array_equal(Xs[:, 3], 0.0)
    assert abs(ys.mean()) < 1e-12
    Xt, yt = stats.transform(X, y)
    np.testing.assert_allclose(Xt, Xs)
    np.testing.assert_allclose(yt, ys)
    # intercept in original units: predictions agree
    w = rng.standard_normal(4)
    np.testing.assert_allclose(Xs @ w + stats.y_mean, X @ (w / stats.x_scale) + stats.intercept(w))
    with pytest.raises(ValueError, match="columns"):
        stats.transform(X[:, :2])


def test_kfold_indices_partition():
    folds = kfold_indices(23, 4, rng=1)
    val = np.concatenate([va for _, va in folds])
    np.testing.assert_array_equal(np.sort(val), np.arange(23))
    for tr, va in folds:
        assert np.intersect1d(tr, va).size == 0 and tr.size + va.size == 23
    sizes = [va.size for _, va in folds]
    assert max(sizes) - min(sizes) <= 1
    with pytest.raises(ValueError, match="k must be <= n"):
        kfold_indices(3, 4)
    with pytest.raises(ValueError, match="k must be an integer"):
        kfold_indices(10, 1)


# ---------------------------------------------------------------------------
# Ridge
# ---------------------------------------------------------------------------
def test_ridge_three_ways_agree():
    """Normal equations, SVD (the package) and gradient descent give the same ridge solution."""
    X, y = make_problem(n=50, p=6, seed=3)
    n, lam = X.shape[0], 0.3
    w_solve = np.linalg.solve(X.T @ X + n * lam * np.eye(6), X.T @ y)
    w_svd = ridge(X, y, lam)
    # gradient descent on (1/2n)||y - Xw||² + (lam/2)||w||², step 1/L
    L = np.linalg.eigvalsh(X.T @ X / n).max() + lam
    w_gd = np.zeros(6)
    for _ in range(3000):
        w_gd -= (-(X.T @ (y - X @ w_gd)) / n + lam * w_gd) / L
    np.testing.assert_allclose(w_svd, w_solve, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w_gd, w_solve, rtol=1e-8, atol=1e-10)


def test_ridge_path_rows_equal_single_fits():
    X, y = make_problem(p=7, seed=4)
    lams = [0.0, 0.01, 1.0, 10.0]
    lams_out, W = ridge_path(X, y, lams)
    assert W.shape == (4, 7)
    np.testing.assert_array_equal(lams_out, lams)  # ridge keeps the order given
    for lam, w in zip(lams, W):
        np.testing.assert_allclose(w, ridge(X, y, lam), rtol=1e-12)


def test_ridge_lam_zero_is_min_norm_least_squares_when_p_exceeds_n():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((12, 30))
    y = rng.standard_normal(12)
    np.testing.assert_allclose(ridge(X, y, 0.0), np.linalg.pinv(X) @ y, atol=1e-10)


def test_ridge_df_is_trace_of_hat_matrix():
    X, y = make_problem(n=30, p=5, seed=6)
    n = X.shape[0]
    lams = np.array([0.0, 0.1, 1.0, 100.0])
    df = ridge_df(X, lams)
    for lam, d in zip(lams, df):
        H = X @ np.linalg.pinv(X.T @ X + n * lam * np.eye(5)) @ X.T
        assert d == pytest.approx(np.trace(H), rel=1e-10)
    assert df[0] == pytest.approx(5.0)  # rank of X
    shrink = ridge_shrinkage(X, lams)
    np.testing.assert_allclose(shrink.sum(axis=1), df, rtol=1e-12)
    assert np.all(np.diff(df) < 0)


def test_ridge_gcv_counts_the_intercept_of_centred_data():
    """GCV of ridge = (1/n)||y - ŷ||² / (1 - tr S/n)² with S the smoother matrix of the fit
    actually made.  Centring fits an unpenalised intercept, so S = 11ᵀ/n + H_λ and
    tr S = 1 + df(λ): built here from the raw (uncentred) data with an explicit intercept
    column, against `ridge_gcv` on the centred data.  Without an intercept, tr S = df(λ)."""
    rng = np.random.default_rng(11)
    n, p = 25, 4
    X_raw = rng.standard_normal((n, p)) + rng.uniform(-3, 3, p)  # columns with non-zero means
    y_raw = X_raw @ rng.standard_normal(p) + 5.0 + rng.standard_normal(n)
    Xc, yc = X_raw - X_raw.mean(axis=0), y_raw - y_raw.mean()
    lams = np.array([0.0, 0.01, 0.3, 5.0])
    Z = np.column_stack([np.ones(n), X_raw])
    for lam, gcv, df in zip(lams, ridge_gcv(Xc, yc, lams), ridge_df(Xc, lams)):
        P = np.diag([0.0] + [n * lam] * p)  # the intercept is not penalised
        S = Z @ np.linalg.solve(Z.T @ Z + P, Z.T)
        assert np.trace(S) == pytest.approx(1 + df, rel=1e-10)
        expected = np.mean((y_raw - S @ y_raw) ** 2) / (1 - np.trace(S) / n) ** 2
        assert gcv == pytest.approx(expected, rel=1e-9)
        # counting df(λ) alone would give a smaller score
        assert gcv > np.mean((y_raw - S @ y_raw) ** 2) / (1 - df / n) ** 2
    # a fit through the origin: S = H_λ, tr S = df(λ)
    for lam, gcv in zip(lams, ridge_gcv(X_raw, y_raw, lams, intercept=False)):
        H = X_raw @ np.linalg.solve(X_raw.T @ X_raw + n * lam * np.eye(p), X_raw.T)
        expected = np.mean((y_raw - H @ y_raw) ** 2) / (1 - np.trace(H) / n) ** 2
        assert gcv == pytest.approx(expected, rel=1e-9)
    # the whole smoother used up: GCV is infinite, not a division error
    X_sq = rng.standard_normal((5, 5))
    assert np.isinf(ridge_gcv(X_sq, rng.standard_normal(5), [0.0], intercept=False)[0])
    with pytest.raises(ValueError, match="X must have centred columns when intercept=True"):
        ridge_gcv(X_raw, y_raw, lams)
    with pytest.raises(ValueError, match="intercept must be True or False; got 'yes'"):
        ridge_gcv(Xc, yc, lams, intercept="yes")
    with pytest.raises(ValueError, match="lams must all be >= 0"):
        ridge_gcv(Xc, yc, [-1.0])


def test_ridge_never_exactly_zero_and_decays_like_one_over_lambda():
    """A13/A15: ridge shrinks but is never sparse; lam * w(lam) -> Xᵀy/n as lam -> ∞."""
    X, y = make_problem(seed=7)
    n = X.shape[0]
    for lam in [1.0, 1e3, 1e6]:
        w = ridge(X, y, lam)
        assert np.all(w != 0)
    np.testing.assert_allclose(1e8 * ridge(X, y, 1e8), X.T @ y / n, rtol=1e-6)


def test_ridge_agrees_with_sklearn_with_converted_alpha():
    X, y = make_problem(seed=8)
    lam = 0.7
    alpha = sklearn_ridge_alpha_from_lam(lam, X.shape[0])
    sk = Ridge(alpha=alpha, fit_intercept=False, solver="svd").fit(X, y).coef_
    np.testing.assert_allclose(ridge(X, y, lam), sk, rtol=1e-10)


def test_cross_validate_ridge_returns_cvresult():
    X, y = make_problem(n=80, seed=9)
    lams = np.geomspace(10, 1e-3, 12)
    res = cross_validate_ridge(X, y, lams, k=4, rng=0)
    assert isinstance(res, CVResult)
    assert res.fold_mse.shape == (4, 12)
    assert res.best_lam in lams and res.lam_1se >= res.best_lam


# ---------------------------------------------------------------------------
# Soft-thresholding, lambda_max, objective, KKT
# ---------------------------------------------------------------------------
def test_soft_threshold_is_the_prox_of_the_absolute_value():
    z = np.array([-3.0, -1.0, -0.5, 0.0, 0.2, 1.0, 2.5])
    t = 1.0
    out = soft_threshold(z, t)
    np.testing.assert_array_equal(out, [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5])
    grid = np.linspace(-4, 4, 80001)
    for zi, oi in zip(z, out):
        best = grid[np.argmin(0.5 * (grid - zi) ** 2 + t * np.abs(grid))]
        assert oi == pytest.approx(best, abs=1e-4)
    assert isinstance(soft_threshold(2.0, 0.5), float) and soft_threshold(2.0, 0.5) == 1.5
    np.testing.assert_array_equal(soft_threshold([1.0, 3.0], [2.0, 1.0]), [0.0, 2.0])


def test_lasso_objective_formula():
    """A8: the lasso loss is (1/2n) Σ (y_i - x_iᵀw)² + λ||w||₁ (bounded below by 0)."""
    X, y = make_problem(n=20, p=4, seed=10)
    w = np.array([1.0, -2.0, 0.0, 0.5])
    lam = 0.3
    expected = np.sum((y - X @ w) ** 2) / (2 * 20) + lam * 3.5
    assert lasso_objective(X, y, w, lam) == pytest.approx(expected)
    enet = np.sum((y - X @ w) ** 2) / 40 + lam * (0.4 * 3.5 + 0.3 * 5.25)
    assert lasso_objective(X, y, w, lam, l1_ratio=0.4) == pytest.approx(enet)
    assert lasso_objective(X, y, w, lam, 0.4) == pytest.approx(enet)
    assert lasso_objective(X, y, 1e6 * w, lam) > 0


def test_lambda_max_gives_exact_zeros_and_just_below_does_not():
    """A11: w = 0 exactly iff lam >= ||Xᵀy||_∞ / n."""
    X, y = make_problem(seed=11)
    top = lambda_max(X, y)
    assert top == pytest.approx(np.max(np.abs(X.T @ y)) / X.shape[0])
    for precompute in (True, False):
        for lam in (top, 1.5 * top, 1e6):
            w = lasso(X, y, lam, precompute=precompute)
            assert np.all(w == 0.0)
        w = lasso(X, y, 0.999 * top, precompute=precompute)
        assert np.count_nonzero(w) >= 1
    lams, coefs = lasso_path(X, y)
    assert lams[0] == pytest.approx(top) and np.all(coefs[0] == 0) and np.any(coefs[1] != 0)
    # elastic net: lambda_max grows like 1/l1_ratio
    assert lambda_max(X, y, l1_ratio=0.25) == pytest.approx(4 * top)
    assert np.all(elastic_net(X, y, 4 * top, 0.25) == 0) and np.any(elastic_net(X, y, 3.9 * top, 0.25) != 0)


@pytest.mark.parametrize("precompute", [True, False])
def test_kkt_holds_at_returned_solutions(precompute):
    """A9: on the support g_j = λ sign(w_j), off it |g_j| <= λ, with g = Xᵀ(y - Xw)/n."""
    X, y = make_problem(n=50, p=12, seed=12)
    top = lambda_max(X, y)
    for frac in (0.8, 0.3, 0.05):
        lam = frac * top
        w = lasso(X, y, lam, tol=TIGHT, precompute=precompute)
        g = X.T @ (y - X @ w) / X.shape[0]
        on = w != 0
        np.testing.assert_allclose(g[on], lam * np.sign(w[on]), atol=1e-8 * top)
        assert np.all(np.abs(g[~on]) <= lam + 1e-8 * top)
        assert kkt_violation(X, y, w, lam) <= TIGHT * top
    lams, coefs = lasso_path(X, y, precompute=precompute)
    assert max(kkt_violation(X, y, w, lam) for lam, w in zip(lams, coefs)) <= 1e-5 * top
    lams, coefs = elastic_net_path(X, y, l1_ratio=0.5, n_lams=20, precompute=precompute)
    assert max(kkt_violation(X, y, w, lam, 0.5) for lam, w in zip(lams, coefs)) <= 1e-5 * top


def test_kkt_violation_detects_non_solutions():
    X, y = make_problem(seed=13)
    lam = 0.2 * lambda_max(X, y)
    w = lasso(X, y, lam, tol=TIGHT)
    bumped = w.copy()
    bumped[np.argmax(np.abs(w))] *= 1.5
    assert kkt_violation(X, y, bumped, lam) > 1e3 * kkt_violation(X, y, w, lam)
    assert kkt_violation(X, y, np.zeros_like(w), lam) == pytest.approx(lambda_max(X, y) - lam)


def test_zero_coefficients_use_the_whole_subdifferential():
    """A10: at w_j = 0 the subdifferential of |w_j| is [-1, 1]; taking sign(0) = +1 is wrong."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal(30)
    x *= np.sqrt(30) / np.linalg.norm(x)
    y = 0.2 * x + rng.standard_normal(30)
    X = x[:, None]
    g = float(x @ y / 30)
    lam = 2 * abs(g)  # so |g| < lam: w = 0 is optimal
    assert kkt_violation(X, y, np.zeros(1), lam) == 0.0
    assert np.all(lasso(X, y, lam) == 0)
    assert abs(g - lam * 1.0) > 0  # the "sign(0) = +1" condition g = lam would fail here


def test_small_lambda_tends_to_least_squares():
    """A11: as lam -> 0+ the lasso solution tends to OLS (n > p)."""
    X, y = make_problem(n=100, p=5, seed=15)
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    errs = [np.max(np.abs(lasso(X, y, lam, tol=TIGHT) - ols)) for lam in (1e-2, 1e-4, 1e-6)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-5


# ---------------------------------------------------------------------------
# Orthonormal design: closed forms
# ---------------------------------------------------------------------------
def test_orthonormal_design_closed_forms():
    """A3: with XᵀX = nI, ridge = β̂/(1+λ) (never zero), lasso = sign(β̂)(|β̂| - λ)₊ (exact zeros)."""
    X, y = orthonormal_design()
    n = X.shape[0]
    np.testing.assert_allclose(X.T @ X, n * np.eye(5), atol=1e-10)
    beta_ols = X.T @ y / n
    lam = float(np.median(np.abs(beta_ols)))  # about half the coefficients are zeroed
    np.testing.assert_allclose(ridge(X, y, lam), beta_ols / (1 + lam), rtol=1e-10)
    expected = np.sign(beta_ols) * np.maximum(np.abs(beta_ols) - lam, 0)
    w = lasso(X, y, lam, tol=TIGHT)
    np.testing.assert_allclose(w, expected, atol=1e-12)
    np.testing.assert_array_equal(w == 0, expected == 0)
    assert np.any(w == 0) and np.all(ridge(X, y, lam) != 0)
    np.testing.assert_allclose(w, soft_threshold(beta_ols, lam), atol=1e-12)
    # elastic net: soft-threshold then ridge-shrink
    rho = 0.4
    enet = soft_threshold(beta_ols, lam * rho) / (1 + lam * (1 - rho))
    np.testing.assert_allclose(elastic_net(X, y, lam, l1_ratio=rho, tol=TIGHT), enet, atol=1e-12)


# ---------------------------------------------------------------------------
# Lasso solvers
# ---------------------------------------------------------------------------
def test_lasso_agrees_with_sklearn(diabetes):
    X, y, _ = diabetes
    top = lambda_max(X, y)
    for frac in (0.5, 0.1, 0.01):
        alpha = frac * top
        lam = lam_from_sklearn_lasso_alpha(alpha)
        sk = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
        w = lasso(X, y, lam, tol=TIGHT)
        np.testing.assert_allclose(w, sk, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(w == 0, sk == 0)
        assert lasso_objective(X, y, w, lam) <= lasso_objective(X, y, sk, lam) + 1e-10


def test_elastic_net_agrees_with_sklearn_and_interpolates():
    """A12: the L1–L2 mix is the elastic net's l1_ratio: 1 is the lasso, 0 is ridge."""
    X, y = make_problem(n=40, p=10, seed=16)
    lam = 0.1 * lambda_max(X, y)
    for rho in (0.2, 0.7):
        sk = ElasticNet(alpha=lam, l1_ratio=rho, fit_intercept=False, tol=1e-12, max_iter=100_000)
        np.testing.assert_allclose(elastic_net(X, y, lam, l1_ratio=rho, tol=TIGHT), sk.fit(X, y).coef_, atol=1e-7)
    np.testing.assert_allclose(elastic_net(X, y, lam, 1.0, tol=TIGHT), lasso(X, y, lam, tol=TIGHT), atol=1e-12)
    np.testing.assert_allclose(elastic_net(X, y, lam, 0.0, tol=TIGHT), ridge(X, y, lam), atol=1e-8)


def test_lasso_and_ridge_both_vanish_as_lambda_grows_but_only_lasso_hits_zero():
    """A12/A13: lambda -> ∞ does not turn the lasso into ridge (or back): both go to 0."""
    X, y = make_problem(seed=17)
    top = lambda_max(X, y)
    for lam in (2 * top, 100 * top):
        assert np.all(lasso(X, y, lam) == 0)
        w_ridge = ridge(X, y, lam)
        assert np.all(w_ridge != 0) and np.linalg.norm(w_ridge) < np.linalg.norm(ridge(X, y, lam / 2))


def test_elastic_net_groups_duplicated_columns():
    """With two identical columns the lasso's split is arbitrary; the elastic net's is equal."""
    X, y = make_problem(n=50, p=4, seed=18)
    X2 = np.column_stack([X, X[:, 0]])
    lam = 0.1 * lambda_max(X2, y)
    w_lasso = lasso(X2, y, lam, tol=TIGHT)
    w_enet = elastic_net(X2, y, lam, 0.5, tol=TIGHT)
    assert w_enet[0] == pytest.approx(w_enet[4], rel=1e-6) and w_enet[0] != 0
    # the lasso's total weight on the pair is what a single copy gets, but any split of it
    # with the same sign is equally optimal: the lasso solution is not unique here
    total = lasso(X, y, lam, tol=TIGHT)[0]
    assert w_lasso[0] + w_lasso[4] == pytest.approx(total, rel=1e-6)
    other = w_lasso.copy()
    other[0], other[4] = total, 0.0
    assert lasso_objective(X2, y, other, lam) == pytest.approx(lasso_objective(X2, y, w_lasso, lam), rel=1e-12)
    enet_other = w_enet.copy()
    enet_other[0], enet_other[4] = w_enet[0] + w_enet[4], 0.0
    assert lasso_objective(X2, y, enet_other, lam, 0.5) > lasso_objective(X2, y, w_enet, lam, 0.5)


def test_warm_started_path_equals_cold_solves():
    X, y = make_problem(n=40, p=60, seed=19)  # p > n
    lams, coefs = lasso_path(X, y, n_lams=30, eps=0.02, tol=1e-9)
    assert np.all(np.diff(lams) < 0) and coefs.shape == (30, 60)
    for k in (0, 5, 17, 29):
        cold = lasso(X, y, lams[k], tol=1e-9)
        np.testing.assert_allclose(coefs[k], cold, atol=1e-6)
    # warm start from w0 gives the same answer
    np.testing.assert_allclose(lasso(X, y, lams[20], tol=1e-9, w0=coefs[19]), coefs[20], atol=1e-6)


def test_lasso_path_sorts_given_lambdas_and_modes_agree():
    X, y = make_problem(seed=20)
    top = lambda_max(X, y)
    lams, coefs_gram = lasso_path(X, y, [0.1 * top, top, 0.5 * top], precompute=True, tol=TIGHT)
    np.testing.assert_allclose(lams, [top, 0.5 * top, 0.1 * top])
    _, coefs_resid = lasso_path(X, y, lams, precompute=False, tol=TIGHT)
    np.testing.assert_allclose(coefs_gram, coefs_resid, atol=1e-8)


def test_lasso_is_the_lagrangian_of_the_l1_constrained_problem(diabetes):
    """A4: ŵ(λ) also minimises RSS subject to ||w||₁ <= t with t = ||ŵ(λ)||₁ (Tibshirani 1996)."""
    X, y, _ = diabetes
    lam = 0.05 * lambda_max(X, y)
    w = lasso(X, y, lam, tol=TIGHT)
    t = np.abs(w).sum()
    p = X.shape[1]

    def rss(uv):  # w = u - v with u, v >= 0 and sum(u + v) <= t
        r = y - X @ (uv[:p] - uv[p:])
        return r @ r / (2 * len(y))

    res = minimize(
        rss,
        np.zeros(2 * p),
        jac=lambda uv: (
            np.concatenate([-(X.T @ (y - X @ (uv[:p] - uv[p:]))), X.T @ (y - X @ (uv[:p] - uv[p:]))]) / len(y)
        ),
        bounds=[(0, None)] * (2 * p),
        constraints=[{"type": "ineq", "fun": lambda uv: t - uv.sum(), "jac": lambda uv: -np.ones(2 * p)}],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    assert res.success
    assert rss(res.x) == pytest.approx(rss(np.concatenate([np.maximum(w, 0), np.maximum(-w, 0)])), rel=1e-6)
    np.testing.assert_allclose(res.x[:p] - res.x[p:], w, atol=1e-3 * np.abs(w).max())


def test_lasso_cd_textbook_decreases_the_objective_and_agrees():
    X, y = make_problem(n=40, p=6, seed=21)
    lam = 0.2 * lambda_max(X, y)
    w, history = lasso_cd_textbook(X, y, lam, n_sweeps=200)
    assert history.shape == (201,)
    assert np.all(np.diff(history) <= 1e-12)
    assert history[-1] == pytest.approx(lasso_objective(X, y, w, lam))
    np.testing.assert_allclose(w, lasso(X, y, lam, tol=TIGHT), atol=1e-8)


def test_convergence_warning_reports_the_kkt_violation():
    rng = np.random.default_rng(22)
    base = rng.standard_normal((30, 3))
    X = np.column_stack([base, base + 1e-3 * rng.standard_normal((30, 3))])  # nearly collinear
    y = rng.standard_normal(30)
    lam = 1e-3 * lambda_max(X, y)
    with pytest.warns(ConvergenceWarning, match=r"KKT violation \d\.\d+e[-+]\d+ > tolerance"):
        lasso(X, y, lam, max_iter=2, tol=1e-12)
    assert issubclass(ConvergenceWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lasso(X, y, 0.5 * lambda_max(X, y))  # converges: no warning


def test_zero_columns_and_zero_correlation():
    X, y = make_problem(seed=23)
    X = np.column_stack([X, np.zeros(X.shape[0])])
    for precompute in (True, False):
        w = lasso(X, y, 0.1 * lambda_max(X, y), precompute=precompute)
        assert w[-1] == 0 and np.all(np.isfinite(w))
    # Xᵀy = 0: every solution is zero
    Xo = np.column_stack([np.ones(4), [1.0, -1.0, 1.0, -1.0]])
    yo = np.array([1.0, 1.0, -1.0, -1.0])
    assert lambda_max(Xo, yo) == 0.0
    with pytest.warns(UncenteredDataWarning, match="constant"):  # the column of ones
        assert np.all(lasso(Xo, yo, 0.0) == 0)


# ---------------------------------------------------------------------------
# Path events and cross-validation
# ---------------------------------------------------------------------------
def test_path_events_on_a_toy_path():
    lams = np.array([3.0, 2.0, 1.0, 0.5])
    coefs = np.array([[0, 0, 0], [1.0, 0, 0], [0.5, 0, -1.0], [0, 2.0, -1.0]])
    events = path_events(lams, coefs)
    assert events == [
        PathEvent(1, 2.0, (0,), ()),
        PathEvent(2, 1.0, (2,), ()),
        PathEvent(3, 0.5, (1,), (0,)),
    ]


def test_diabetes_path_has_a_variable_leaving_the_active_set(diabetes):
    """A11: the support is not monotone in λ: on the diabetes data s3 (HDL) leaves, then re-enters."""
    X, y, names = diabetes
    lams, coefs = lasso_path(X, y)
    left = [(e, names[j]) for e in path_events(lams, coefs) for j in e.left]
    assert [name for _, name in left] == ["s3"]
    k = left[0][0].index
    assert coefs[k - 1, names.index("s3")] != 0 and coefs[k, names.index("s3")] == 0
    assert kkt_violation(X, y, coefs[k], lams[k]) <= 1e-5 * lams[0]
    # leaving is a property of the solution, not of the grid: also on a finer grid
    lams_f, coefs_f = lasso_path(X, y, n_lams=400)
    assert any(names.index("s3") in e.left for e in path_events(lams_f, coefs_f))


def test_cross_validate_lasso_matches_a_manual_fold_computation():
    X, y = make_problem(n=90, p=12, seed=24, n_nonzero=3, noise=1.0)
    res = cross_validate_lasso(X, y, k=3, rng=5, n_lams=25)
    assert isinstance(res, CVResult) and res.fold_mse.shape == (3, 25)
    assert np.all(np.diff(res.lams) < 0)
    assert res.lam_1se >= res.best_lam and res.best_lam in res.lams
    tr, va = kfold_indices(90, 3, 5)[1]
    Xtr, ytr, stats = standardize(X[tr], y[tr])
    _, W = lasso_path(Xtr, ytr, res.lams)
    pred = stats.transform(X[va]) @ W.T + stats.y_mean
    np.testing.assert_allclose(res.fold_mse[1], np.mean((y[va][:, None] - pred) ** 2, axis=0), rtol=1e-8)
    # the CV minimum is well inside the grid and beats the null model by far
    assert res.mean_mse.min() < 0.5 * res.mean_mse[0]
    enet = cross_validate_lasso(X, y, k=3, rng=5, n_lams=10, l1_ratio=0.5, standardize_folds=False)
    assert enet.fold_mse.shape == (3, 10)


@pytest.mark.parametrize("precompute", [False, True])
def test_ill_conditioned_support_converges_without_many_sweeps(precompute):
    """p > n, small λ: the support is a nearly singular set of n columns, where plain
    coordinate descent zig-zags for tens of thousands of sweeps.  The exact solve on the
    support (kept only when no sign flips) must finish it well inside 2000 sweeps."""
    rng = np.random.default_rng(17)
    X, y = rng.standard_normal((4, 21)), rng.standard_normal(4)
    top = lambda_max(X, y)
    lam = 0.05 * top
    slow, _ = lasso_cd_textbook(X, y, lam, n_sweeps=2000)
    assert kkt_violation(X, y, slow, lam) > 1e-6 * top  # the problem really is hard for CD
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        w = lasso(X, y, lam, tol=1e-10, max_iter=2000, precompute=precompute)
    assert kkt_violation(X, y, w, lam) <= 1e-10 * top
    assert lasso_objective(X, y, w, lam) <= lasso_objective(X, y, slow, lam)


# ---------------------------------------------------------------------------
# Property-based tests
# ---------------------------------------------------------------------------
@st.composite
def lasso_problems(draw):
    n = draw(st.integers(3, 25))
    p = draw(st.integers(1, 40))  # includes p > n
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if p >= 2 and draw(st.booleans()):  # collinear columns
        X[:, 1] = draw(st.sampled_from([1.0, -2.0, 0.5])) * X[:, 0]
    y = rng.standard_normal(n)
    frac = draw(st.sampled_from([1.0, 0.9, 0.5, 0.2, 0.05]))
    return X, y, frac


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lasso_problems(), st.booleans())
def test_property_lasso_is_optimal(problem, precompute):
    X, y, frac = problem
    top = lambda_max(X, y)
    lam = frac * top
    w = lasso(X, y, lam, tol=1e-9, precompute=precompute)
    assert kkt_violation(X, y, w, lam) <= 1e-9 * top + 1e-12
    if frac == 1.0:
        assert np.all(w == 0)
    # no other point does better (the objective is convex, KKT is sufficient)
    rng = np.random.default_rng(0)
    obj = lasso_objective(X, y, w, lam)
    for _ in range(5):
        assert obj <= lasso_objective(X, y, w + 1e-3 * rng.standard_normal(w.size), lam) + 1e-12
    if lam > 0:
        sk = Lasso(alpha=lam, fit_intercept=False, tol=1e-10, max_iter=50_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk.fit(X, y)
        assert obj <= lasso_objective(X, y, sk.coef_, lam) + 1e-9 * max(1.0, obj)


@settings(max_examples=25, deadline=None)
@given(lasso_problems(), st.floats(0.0, 1.0))
def test_property_ridge_and_elastic_net(problem, l1_ratio):
    X, y, frac = problem
    n, p = X.shape
    lam = frac + 0.05
    w = ridge(X, y, lam)
    np.testing.assert_allclose((X.T @ X + n * lam * np.eye(p)) @ w, X.T @ y, atol=1e-8 * (1 + np.abs(X.T @ y).max()))
    w_en = elastic_net(X, y, lam, l1_ratio, tol=1e-9)
    assert kkt_violation(X, y, w_en, lam, l1_ratio) <= 1e-9 * np.abs(X.T @ y).max() / n + 1e-12


# ---------------------------------------------------------------------------
# Error paths
# ---------------------------------------------------------------------------
def test_error_paths():
    X, y = make_problem(n=20, p=4, seed=25)
    bad_X = X.copy()
    bad_X[0, 0] = np.nan
    with pytest.raises(ValueError, match="lam must be >= 0"):
        lasso(X, y, -1.0)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        ridge(X, y, -0.1)
    with pytest.raises(ValueError, match="lams must all be >= 0"):
        lasso_path(X, y, [1.0, -1.0])
    with pytest.raises(ValueError, match="lams must all be >= 0"):
        ridge_path(X, y, [1.0, -1.0])
    with pytest.raises(ValueError, match="lams must all be >= 0"):
        ridge_df(X, [-1.0])
    with pytest.raises(ValueError, match="X must contain only finite"):
        lasso(bad_X, y, 0.1)
    with pytest.raises(ValueError, match="X must contain only finite"):
        lambda_max(bad_X, y)
    with pytest.raises(ValueError, match="y must contain only finite"):
        lasso_path(X, np.full(20, np.inf))
    with pytest.raises(ValueError, match="same number of rows"):
        lasso(X, y[:-1], 0.1)
    with pytest.raises(ValueError, match="same number of rows"):
        kkt_violation(X, y[:-1], np.zeros(4), 0.1)
    with pytest.raises(ValueError, match="2-D"):
        lasso(X[:, 0], y, 0.1)
    with pytest.raises(ValueError, match="w must have length 4"):
        kkt_violation(X, y, np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="w must have length 4"):
        lasso_objective(X, y, np.zeros(5), 0.1)
    with pytest.raises(ValueError, match="w0 must have length 4"):
        lasso(X, y, 0.1, w0=np.zeros(3))
    with pytest.raises(ValueError, match="tol must be > 0"):
        lasso(X, y, 0.1, tol=0.0)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        lasso(X, y, 0.1, max_iter=0)
    with pytest.raises(ValueError, match="precompute must be"):
        lasso(X, y, 0.1, precompute="yes")
    with pytest.raises(ValueError, match="l1_ratio must lie in"):
        elastic_net(X, y, 0.1, 1.5)
    with pytest.raises(ValueError, match="l1_ratio must lie in"):
        lambda_max(X, y, l1_ratio=0.0)
    with pytest.raises(ValueError, match="l1_ratio = 0"):
        elastic_net_path(X, y, l1_ratio=0.0)
    with pytest.raises(ValueError, match="eps must lie in"):
        lasso_path(X, y, eps=1.0)
    with pytest.raises(ValueError, match="eps must be > 0"):
        lasso_path(X, y, eps=0.0)
    with pytest.raises(ValueError, match="n_lams must be an integer"):
        lasso_path(X, y, n_lams=0)
    with pytest.raises(ValueError, match="lambda_max = 0"):
        lasso_path(np.ones((4, 1)), np.array([1.0, -1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match="t must be >= 0"):
        soft_threshold([1.0], -1.0)
    with pytest.raises(ValueError, match="z must contain only finite"):
        soft_threshold([np.nan], 1.0)
    with pytest.raises(ValueError, match="z must be numeric"):
        soft_threshold("abc", 1.0)
    with pytest.raises(ValueError, match="must broadcast"):
        soft_threshold(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="n_sweeps must be an integer >= 0"):
        lasso_cd_textbook(X, y, 0.1, n_sweeps=-1)
    with pytest.raises(ValueError, match="coefs must have 2 rows"):
        path_events([2.0, 1.0], np.zeros((3, 4)))
    with pytest.raises(ValueError, match="decreasing"):
        path_events([1.0, 2.0], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="k must be <= n"):
        cross_validate_lasso(X, y, k=50)
    with pytest.raises(ValueError, match="lams must all be >= 0"):
        cross_validate_lasso(X, y, lams=[-1.0])


def test_adversarial_training_of_a_linear_model_is_norm_penalised():
    """B9: adversarial training and norm penalties are allies.  The worst case over an
    ℓ∞ ball (a convex function is maximised at a vertex: enumerate all 2^p) and over an ℓ2
    ball (dense sampling of the sphere, plus the maximiser from Hölder) equals
    (|r| + ε‖w‖_*)² with the dual norm."""
    from itertools import product

    from weightdecay.linear import adversarial_squared_loss

    rng = np.random.default_rng(9)
    X, y, w = rng.standard_normal((5, 4)), rng.standard_normal(5), rng.standard_normal(4)
    eps = 0.3
    r = y - X @ w
    vertices = eps * np.array(list(product([-1.0, 1.0], repeat=4)))  # (16, 4)
    worst_linf = np.max((r[:, None] - vertices @ w) ** 2, axis=1)
    assert adversarial_squared_loss(X, y, w, eps, "linf") == pytest.approx(worst_linf.sum() / 10, rel=1e-12)
    u = rng.standard_normal((200_000, 4))
    sphere = eps * u / np.linalg.norm(u, axis=1, keepdims=True)
    sampled = np.max((r[:, None] - sphere @ w) ** 2, axis=1).sum() / 10
    holder = -np.sign(r)[:, None] * eps * w / np.linalg.norm(w)  # the maximiser, per sample
    attained = np.sum((r - holder @ w) ** 2) / 10
    closed = adversarial_squared_loss(X, y, w, eps, "l2")
    assert attained == pytest.approx(closed, rel=1e-12)
    assert sampled <= closed * (1 + 1e-12) and sampled > closed * (1 - 1e-3)
    assert adversarial_squared_loss(X, y, w, 0.0) == pytest.approx(np.sum(r**2) / 10)
    with pytest.raises(ValueError, match="eps"):
        adversarial_squared_loss(X, y, w, -1.0)
    with pytest.raises(ValueError, match="norm"):
        adversarial_squared_loss(X, y, w, eps, "l3")


# ---------------------------------------------------------------------------
# One API: l1_ratio, (lams, coefs) from every path, strict lams, dense numeric X
# ---------------------------------------------------------------------------
def test_every_path_function_returns_lams_and_coefs_of_shape_n_lams_by_p():
    X, y = make_problem(n=30, p=7, seed=30)
    grid = [1.0, 0.1, 0.01]
    for path in (ridge_path, lasso_path, elastic_net_path):
        lams, coefs = path(X, y, grid)
        assert lams.shape == (3,) and coefs.shape == (3, 7), path.__name__
    lams, coefs = lasso_path(X, y, n_lams=12)
    assert lams.shape == (12,) and coefs.shape == (12, 7)
    lams, coefs = elastic_net_path(X, y, n_lams=12, l1_ratio=0.3)
    assert lams.shape == (12,) and coefs.shape == (12, 7)


def test_the_mix_is_called_l1_ratio_everywhere_and_keyword_only_in_the_path():
    import inspect

    for fn in (elastic_net, elastic_net_path, lambda_max, lasso_objective, kkt_violation, cross_validate_lasso):
        params = inspect.signature(fn).parameters
        assert "l1_ratio" in params, fn.__name__
    assert inspect.signature(elastic_net_path).parameters["l1_ratio"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(elastic_net).parameters)[:4] == ["X", "y", "lam", "l1_ratio"]
    assert list(inspect.signature(elastic_net_path).parameters)[:3] == ["X", "y", "lams"]
    X, y = make_problem(n=30, p=5, seed=31)
    grid = [0.5, 0.05]
    # the old positional order fails loudly instead of swapping the meanings
    with pytest.raises(TypeError):
        elastic_net_path(X, y, 0.5, grid)
    with pytest.raises(ValueError, match=r"lams must be a 1-D sequence.*argument order changed.*l1_ratio=0\.5"):
        elastic_net_path(X, y, 0.5)
    with pytest.raises(ValueError, match="argument order changed"):
        elastic_net_path(X, y, 0.0)  # the old call for pure ridge


@pytest.mark.parametrize(
    "call",
    [
        lambda X, y, **kw: elastic_net(X, y, 0.1, **kw),
        lambda X, y, **kw: elastic_net_path(X, y, [0.1, 0.01], **kw)[1],
        lambda X, y, **kw: lambda_max(X, y, **kw),
        lambda X, y, **kw: lasso_objective(X, y, np.ones(X.shape[1]), 0.1, **kw),
        lambda X, y, **kw: kkt_violation(X, y, np.ones(X.shape[1]), 0.1, **kw),
        lambda X, y, **kw: cross_validate_lasso(X, y, k=3, n_lams=5, **kw).mean_mse,
    ],
    ids=["elastic_net", "elastic_net_path", "lambda_max", "lasso_objective", "kkt_violation", "cross_validate_lasso"],
)
def test_alpha_is_a_deprecated_alias_of_l1_ratio(call):
    X, y = make_problem(n=30, p=5, seed=32)
    with pytest.warns(DeprecationWarning, match=r"alpha.*deprecated.*l1_ratio=0\.3"):
        old = call(X, y, alpha=0.3)
    np.testing.assert_array_equal(old, call(X, y, l1_ratio=0.3))
    with pytest.raises(ValueError, match="once, as l1_ratio"):
        call(X, y, alpha=0.3, l1_ratio=0.7)


BAD_LAMS = [
    ("0.1", "string"),
    (True, "booleans"),
    ([0.1, True], "True"),
    (["0.1"], "'0.1'"),
    ([0.1, np.nan], "finite"),
    ([np.inf], "finite"),
    ([0.1, -1.0], ">= 0"),
    ([], "non-empty"),
    ([[0.1, 0.01]], "1-D"),
    (0.1, "scalar"),
]


@pytest.mark.parametrize("bad, what", BAD_LAMS, ids=[repr(b) for b, _ in BAD_LAMS])
@pytest.mark.parametrize("path", [ridge_path, lasso_path, elastic_net_path], ids=lambda f: f.__name__)
def test_lams_are_validated_as_strictly_as_lam(path, bad, what):
    X, y = make_problem(n=20, p=4, seed=33)
    with pytest.raises(ValueError, match=r"^lams .*" + re.escape(what)):
        path(X, y, bad)


def test_lams_of_the_other_functions_refuse_strings_and_bools():
    X, y = make_problem(n=20, p=4, seed=34)
    for fn in (ridge_df, ridge_shrinkage):
        with pytest.raises(ValueError, match="lams .*string"):
            fn(X, "0.1")
        with pytest.raises(ValueError, match="lams .*booleans"):
            fn(X, True)
        assert fn(X, 0.5).shape[0] == 1  # a single number is still one λ here
    with pytest.raises(ValueError, match="lams .*string"):
        ridge_gcv(X, y, "0.1")
    with pytest.raises(ValueError, match="lams .*string"):
        cross_validate_ridge(X, y, "0.1")


def test_sparse_X_is_refused_with_a_pointer_to_toarray():
    import scipy.sparse

    X, y = make_problem(n=20, p=4, seed=35)
    for fn in (lambda A: ridge(A, y, 0.1), lambda A: lasso_path(A, y), lambda A: standardize(A)):
        with pytest.raises(ValueError, match=r"X must be a dense array.*scipy\.sparse.*X\.toarray\(\)"):
            fn(scipy.sparse.csr_matrix(X))


class _FakeFrame:
    """The part of a pandas DataFrame that validation uses: columns, dtypes, item access."""

    def __init__(self, data):
        self.data = {k: np.asarray(v) for k, v in data.items()}
        self.columns = list(self.data)
        self.dtypes = {k: v.dtype for k, v in self.data.items()}

    def __getitem__(self, key):
        return self.data[key]

    def __array__(self, dtype=None, copy=None):
        return np.column_stack(list(self.data.values())).astype(dtype)


def test_a_dataframe_with_non_numeric_columns_names_them():
    frame = _FakeFrame({"age": [50.0, 60.0, 70.0], "sex": ["f", "m", "f"], "bmi": [20.0, 25.0, 30.0]})
    with pytest.raises(ValueError, match=r"X must be numeric.*'sex'") as info:
        ridge(frame, np.zeros(3), 0.1)
    assert "'age'" not in str(info.value) and "'bmi'" not in str(info.value)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"age": [50.0, 60.0, 70.0], "sex": ["f", "m", "f"], "city": pd.Categorical(["a", "b", "a"])})
    with pytest.raises(ValueError, match=r"'sex'.*'city'"):
        lasso(df, np.zeros(3), 0.1)


# ---------------------------------------------------------------------------
# The centred convention: UncenteredDataWarning
# ---------------------------------------------------------------------------
def _fits(X, y):
    """Every function that fits without an intercept, once."""
    return [
        lambda: ridge(X, y, 0.1),
        lambda: ridge_path(X, y, [1.0, 0.1]),
        lambda: lasso(X, y, 0.01),
        lambda: lasso_path(X, y, n_lams=5),
        lambda: elastic_net(X, y, 0.01, 0.5),
        lambda: elastic_net_path(X, y, n_lams=5, l1_ratio=0.5),
    ]


def _uncentred_warnings(fn) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [c for c in caught if issubclass(c.category, UncenteredDataWarning)]


@pytest.mark.parametrize("n", [20, 100, 1000, 10_000])
def test_no_warning_on_zero_mean_random_designs(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        X = rng.standard_normal((n, 30))
        y = X[:, :3] @ np.array([1.0, -1.0, 0.5]) + rng.standard_normal(n)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UncenteredDataWarning)
            for fit in _fits(X, y):
                fit()


def test_no_warning_on_standardised_data(diabetes):
    X, y, _ = diabetes
    X_raw, y_raw, _ = wd.data.diabetes(standardized=False)
    X_const = np.column_stack([X_raw, np.full(len(y_raw), 0.1)])  # a constant column
    Xs, ys, _ = standardize(X_const, y_raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncenteredDataWarning)
        for data in ((X, y), (Xs, ys), (X_raw - X_raw.mean(axis=0), y_raw - y_raw.mean())):
            for fit in _fits(*data):
                fit()


def test_warns_once_per_call_on_the_raw_diabetes_response():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)  # X centred and scaled, y in original units (mean 152)
    for fit in _fits(X, y):
        caught = _uncentred_warnings(fit)
        assert len(caught) == 1  # once per call, not once per λ
        message = str(caught[0].message)
        assert "y (mean 152" in message and "no intercept" in message
        assert "weightdecay.linear.standardize" in message and "Ridge/Lasso/ElasticNet" in message
        assert caught[0].filename == __file__  # attributed to the caller
    caught = _uncentred_warnings(lambda: ridge_path(X, y, np.geomspace(10, 1e-3, 50)))
    assert len(caught) == 1


def test_warns_on_an_offset_feature_and_on_an_intercept_column():
    rng = np.random.default_rng(40)
    for n in (20, 500):
        X = rng.standard_normal((n, 4))
        X[:, 2] = 10 + rng.standard_normal(n)  # mean 10, standard deviation 1
        y = X[:, 0] + rng.standard_normal(n)
        y -= y.mean()
        for fit in _fits(X, y):
            (caught,) = _uncentred_warnings(fit)
            assert "column(s) 2 of X" in str(caught.message)
    X = np.column_stack([np.ones(50), rng.standard_normal(50)])  # an explicit intercept column
    (caught,) = _uncentred_warnings(lambda: ridge(X, rng.standard_normal(50), 0.1))
    assert "constant" in str(caught.message) and "intercept column would be penalised" in str(caught.message)
    assert issubclass(UncenteredDataWarning, UserWarning)


def test_the_packages_own_fits_without_intercept_do_not_warn():
    """Code that fits uncentred data through the origin on purpose does not warn."""
    from weightdecay import dropout as dr
    from weightdecay.experiments import double_descent as dd

    rng = np.random.default_rng(41)
    X = rng.normal(5.0, 1.0, size=(60, 4))
    y = 30 + X @ np.array([1.0, 0.0, -1.0, 2.0]) + rng.standard_normal(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncenteredDataWarning)
        cross_validate_ridge(X, y, [0.1, 1.0], k=3, standardize_folds=False)
        cross_validate_lasso(X, y, [0.1, 1.0], k=3, standardize_folds=False)
        cross_validate_ridge(X, y, [0.1, 1.0], k=3)
        dr.dropout_path(X, y, [0.1, 0.5])
        dd.ridge_excess_risk(X, y, np.zeros(4), [0.1])
        for estimator in (wd.linear.Ridge, wd.linear.Lasso, wd.linear.ElasticNet):
            estimator(lam=0.1).fit(X, y)


def test_a_slow_first_call_of_a_numba_kernel_says_what_it_is_doing(monkeypatch, capsys):
    import time

    from weightdecay import linear

    class SlowKernel:
        signatures = []

        def __call__(self, seconds):
            time.sleep(seconds)
            return "done"

    monkeypatch.setattr(linear, "COMPILE_NOTICE_AFTER_S", 0.05)
    assert linear._with_compile_notice(SlowKernel(), 0.3) == "done"
    assert "numba is compiling" in capsys.readouterr().err
    assert linear._with_compile_notice(SlowKernel(), 0.0) == "done"  # fast: no notice
    time.sleep(0.1)
    assert capsys.readouterr().err == ""
    compiled = SlowKernel()
    compiled.signatures = ["(float64,)"]
    linear._with_compile_notice(compiled, 0.3)  # already compiled: never a notice
    assert capsys.readouterr().err == ""


def test_warm_up_compiles_the_solver_once_per_process():
    from weightdecay import linear

    linear.warm_up()
    assert linear._cd_path.signatures
    assert linear.warm_up() < 1.0
