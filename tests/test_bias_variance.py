"""Tests of weightdecay.bias_variance and of the ridge chapter's claims.

Exact formulas are checked against explicit matrices, Monte Carlo against the exact
formulas within sampling error, gradient descent against the closed form and PyTorch, and
the framework conversions against scikit-learn and PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime, check_grad, minimize_scalar

from weightdecay import bias_variance as bv
from weightdecay import conventions
from weightdecay.linear import ridge, ridge_path


def _problem(n=30, p=6, seed=0, rho=0.8):
    rng = np.random.default_rng(seed)
    X = bv.equicorrelated_design(n, p, rho, rng)
    beta = rng.standard_normal(p)
    return X, beta


def _ridge_operators(X, lams):
    """Explicit ridge matrices A(λ) = (XᵀX + nλI)⁺Xᵀ, one per λ."""
    n, p = X.shape
    return np.stack([np.linalg.pinv(X.T @ X + n * lam * np.eye(p)) @ X.T for lam in lams])


# ---------------------------------------------------------------------------
# Exact risk
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("target", bv.TARGETS)
@pytest.mark.parametrize("shape", [(30, 6), (8, 15)])  # full column rank, and p > n
def test_ridge_risk_matches_explicit_linear_operator(target, shape):
    X, beta = _problem(*shape, seed=1)
    lams = np.array([0.0, 1e-3, 0.1, 1.0, 10.0])
    curve = bv.ridge_risk(X, beta, 0.7, lams, target=target)
    bias2, variance = bv.linear_estimator_risk(X, beta, 0.7, _ridge_operators(X, lams), target=target)
    np.testing.assert_allclose(curve.bias2, bias2, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(curve.variance, variance, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(curve.mse, bias2 + variance, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("target", bv.TARGETS)
def test_variance_by_direction_sums_to_the_variance(target):
    X, beta = _problem(30, 6, seed=4)
    lams = np.array([0.0, 0.01, 1.0])
    terms = bv.ridge_variance_by_direction(X, 0.9, lams, target=target)
    assert terms.shape == (3, 6)
    np.testing.assert_allclose(terms.sum(axis=1), bv.ridge_risk(X, beta, 0.9, lams, target=target).variance, rtol=1e-12)
    d = np.linalg.svd(X, compute_uv=False)  # decreasing
    expected = 0.81 / d**2 if target == "coef" else np.full(6, 0.81 / 30)  # least squares
    np.testing.assert_allclose(terms[0], expected, rtol=1e-10)


def test_least_squares_variance_comes_from_the_collinear_directions():
    """Ridge chapter: on an equicorrelated design (ρ = 0.9) all but the leading principal
    direction have small variance, and they carry nearly all of least squares' variance."""
    X = bv.equicorrelated_design(40, 8, 0.9, rng=1)
    ols = bv.ridge_variance_by_direction(X, 3.0, [0.0])[0]
    share = ols / ols.sum()
    assert share[1:].sum() > 0.99
    assert 0.5 < share[-2:].sum() < 0.6  # the two smallest directions: about half, not "almost all"
    # ridge shrinks the small directions' variance most: at λ = 0.1 the smallest keeps < 10 %
    shrunk = bv.ridge_variance_by_direction(X, 3.0, [0.1])[0]
    assert shrunk[-1] < 0.1 * ols[-1] and shrunk[0] > 0.9 * ols[0]


@pytest.mark.parametrize("target", bv.TARGETS)
def test_gradient_flow_ridge_risk_bound_is_one_sided(target):
    """FAQ Q1: Ali, Kolter & Tibshirani (2019) bound gradient flow's risk at time t by 1.6862
    times ridge's risk at λ = 1/t.  The reverse does not hold: with little noise ridge's bias
    (factor 1/(1 + t s_j)) decays far more slowly than gradient flow's (e^{-t s_j}), and ridge
    at λ = 1/t can be worse by orders of magnitude.  Gradient flow is built here from a
    matrix exponential, independently of weightdecay.early_stopping."""
    rng = np.random.default_rng(0)
    X = bv.equicorrelated_design(40, 8, 0.9, rng)
    beta = rng.standard_normal(8)
    n = X.shape[0]
    ts = np.logspace(-2, 3, 41)
    flow = np.stack([np.linalg.pinv(X.T @ X) @ (np.eye(8) - scipy.linalg.expm(-t * X.T @ X / n)) @ X.T for t in ts])
    for sigma in (1.0, 0.1, 0.01):
        bias2, variance = bv.linear_estimator_risk(X, beta, sigma, flow, target=target)
        ridge_mse = np.array([bv.ridge_risk(X, beta, sigma, [1 / t], target=target).mse[0] for t in ts])
        assert np.all(bias2 + variance <= 1.6862 * ridge_mse)
        if sigma == 0.01:
            assert np.max(ridge_mse / (bias2 + variance)) > 100


def test_ols_is_unbiased_with_classical_variance():
    X, beta = _problem(40, 5, seed=2)
    sigma = 1.3
    curve = bv.ridge_risk(X, beta, sigma, [0.0])
    assert curve.bias2[0] == pytest.approx(0.0, abs=1e-20)
    # Var of least squares: σ² tr (XᵀX)⁻¹
    assert curve.variance[0] == pytest.approx(sigma**2 * np.trace(np.linalg.inv(X.T @ X)), rel=1e-10)
    fit_curve = bv.ridge_risk(X, beta, sigma, [0.0], target="fit")
    assert fit_curve.variance[0] == pytest.approx(sigma**2 * 5 / 40, rel=1e-10)  # σ² p / n


def test_min_norm_bias_is_the_part_of_beta_outside_the_row_space():
    X, beta = _problem(6, 10, seed=3)
    P = np.linalg.pinv(X) @ X  # projector onto the row space
    curve = bv.ridge_risk(X, beta, 0.0, [0.0])
    assert curve.bias2[0] == pytest.approx(np.sum((beta - P @ beta) ** 2), rel=1e-9)
    assert bv.ridge_risk(X, beta, 0.0, [0.0], target="fit").bias2[0] == pytest.approx(0.0, abs=1e-20)


def test_large_lambda_risk_tends_to_norm_of_beta():
    X, beta = _problem(seed=4)
    curve = bv.ridge_risk(X, beta, 1.0, [1e9])
    assert curve.bias2[0] == pytest.approx(beta @ beta, rel=1e-6)
    assert curve.variance[0] < 1e-12


def test_risk_derivative_matches_finite_differences():
    X, beta = _problem(seed=5)
    lams = np.array([0.0, 0.01, 0.2, 3.0])
    for target in bv.TARGETS:
        exact = bv.ridge_risk_derivative(X, beta, 0.9, lams, target=target)
        h = 1e-6
        numeric = (
            bv.ridge_risk(X, beta, 0.9, lams + h, target=target).mse
            - bv.ridge_risk(X, beta, 0.9, lams, target=target).mse
        ) / h
        np.testing.assert_allclose(exact, numeric, rtol=1e-3, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 30),
    p=st.integers(1, 30),
    rho=st.floats(0.0, 0.99),
    sigma=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**16),
)
def test_mse_decreases_at_zero_and_hoerl_kennard_lambdas_beat_ols(n, p, rho, sigma, seed):
    """A16: the MSE of ridge has a negative slope at λ = 0 (Hoerl & Kennard 1970)."""
    X, beta = _problem(n, p, seed=seed, rho=rho)
    _, d, _ = np.linalg.svd(X, full_matrices=False)
    d = d[d > d.max() * max(n, p) * np.finfo(float).eps]
    for target, closed_form in [("coef", -2 * n * sigma**2 * np.sum(d**-4.0)), ("fit", -2 * sigma**2 * np.sum(d**-2.0))]:
        slope = bv.ridge_risk_derivative(X, beta, sigma, [0.0], target=target)[0]
        assert slope < 0
        assert slope == pytest.approx(closed_form, rel=1e-9)
        lam_hk = bv.hoerl_kennard_lambda(X, beta, sigma)
        assert lam_hk > 0
        grid = lam_hk * np.array([1e-3, 0.1, 0.5, 1.0]) if np.isfinite(lam_hk) else np.array([1e-3, 1.0, 1e3])
        curve = bv.ridge_risk(X, beta, sigma, np.concatenate([[0.0], grid]), target=target)
        assert np.all(curve.mse[1:] < curve.mse[0])


def test_hoerl_kennard_lambda_edge_cases():
    X, beta = _problem(seed=6)
    assert bv.hoerl_kennard_lambda(X, beta, 0.0) == 0.0
    X_wide = np.array([[1.0, -1.0], [2.0, -2.0]]) - np.array([[1.5, -1.5]])  # row space: (1, -1)
    # β ⟂ row space: every λ beats least squares (up to rounding in the SVD, which gives ~1e-16)
    assert bv.hoerl_kennard_lambda(X_wide, np.array([1.0, 1.0]), 1.0) > 1e20
    assert bv.hoerl_kennard_lambda(np.zeros((3, 2)), np.array([1.0, 1.0]), 1.0) == float("inf")


def test_orthogonal_design_optimal_lambda():
    """With XᵀX = nI the risk-optimal λ is pσ²/(n‖β‖²) (a chapter exercise)."""
    n, p, sigma = 50, 5, 1.5
    Q, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((n, p)))
    X = np.sqrt(n) * Q
    beta = np.array([1.0, -0.5, 0.25, 2.0, 0.0])
    res = minimize_scalar(
        lambda log_lam: bv.ridge_risk(X, beta, sigma, [np.exp(log_lam)]).mse[0],
        bounds=(-12, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert np.exp(res.x) == pytest.approx(p * sigma**2 / (n * beta @ beta), rel=1e-5)


# ---------------------------------------------------------------------------
# The Bayesian view
# ---------------------------------------------------------------------------
def test_map_lambda_formula_and_posterior_mean():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((25, 4))
    y = rng.standard_normal(25)
    sigma, tau = 0.8, 0.3
    lam = bv.map_lambda(sigma, tau, 25)
    assert lam == pytest.approx(sigma**2 / (25 * tau**2))
    # Gaussian posterior mean (conjugate formula) equals the ridge solution at the MAP λ
    precision = X.T @ X / sigma**2 + np.eye(4) / tau**2
    posterior_mean = np.linalg.solve(precision, X.T @ y / sigma**2)
    np.testing.assert_allclose(ridge(X, y, lam), posterior_mean, rtol=1e-10)


@pytest.mark.parametrize("target", bv.TARGETS)
@pytest.mark.parametrize("shape", [(30, 6), (8, 15)])
def test_bayes_risk_is_prior_average_and_minimised_at_map_lambda(target, shape):
    X, _ = _problem(*shape, seed=9)
    sigma, tau = 1.2, 0.4
    p = X.shape[1]
    lams = np.array([0.0, 0.05, 0.5, 5.0])
    bayes = bv.ridge_bayes_risk(X, sigma, tau, lams, target=target)
    # E_β ‖Mβ‖² = τ² Σ_k ‖M e_k‖²: sum the bias of the basis vectors scaled by τ
    bias_sum = sum(bv.ridge_risk(X, tau * e, sigma, lams, target=target).bias2 for e in np.eye(p))
    np.testing.assert_allclose(bayes.bias2, bias_sum, rtol=1e-9, atol=1e-12)
    res = minimize_scalar(
        lambda log_lam: bv.ridge_bayes_risk(X, sigma, tau, [np.exp(log_lam)], target=target).mse[0],
        bounds=(-10, 6),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert np.exp(res.x) == pytest.approx(bv.map_lambda(sigma, tau, X.shape[0]), rel=1e-4)


def test_risk_curve_fields_best_and_deprecated_names():
    curve = bv.ridge_risk(*_problem(seed=4), 1.0, [0.0, 0.1, 1.0])
    assert isinstance(curve, bv.RiskCurve) and curve.target == "coef"
    np.testing.assert_array_equal(curve.grid, [0.0, 0.1, 1.0])
    assert curve.best == curve.grid[np.argmin(curve.mse)] and isinstance(curve.best, float)
    # positional construction, as before the field was renamed: (grid, bias2, variance, target)
    same = bv.RiskCurve(curve.grid, curve.bias2, curve.variance, "coef")
    np.testing.assert_array_equal(same.mse, curve.mse)
    for old, new in [("lams", "grid"), ("best_lam", "best"), ("total", "mse")]:
        with pytest.warns(DeprecationWarning, match=rf"RiskCurve\.{old} is deprecated; use RiskCurve\.{new}") as rec:
            value = getattr(curve, old)
        np.testing.assert_array_equal(value, getattr(curve, new))
        assert rec[0].filename == __file__  # points at the caller
    mc = bv.monte_carlo_risk(*_problem(seed=4), 1.0, [0.0, 1.0], 10, rng=0)
    assert isinstance(mc, bv.RiskCurve)
    with pytest.warns(DeprecationWarning, match="best_lam"):
        assert mc.best_lam == mc.best


@pytest.mark.parametrize("target", bv.TARGETS)
def test_bayes_risk_matches_the_closed_form_it_replaced(target):
    """Through the spectral core the Bayes risk is the old closed form up to rounding."""
    X, _ = _problem(8, 15, seed=5)
    n, p = X.shape
    sigma, tau = 1.1, 0.6
    lams = np.array([0.0, 0.01, 0.3, 4.0])
    d = np.linalg.svd(X, compute_uv=False)
    d = d[d > d.max() * max(n, p) * np.finfo(float).eps]
    d2, s = d**2, n * lams[:, None]
    f, g = d2 / (d2 + s), s / (d2 + s)
    if target == "coef":
        bias2 = tau**2 * (np.sum(g**2, axis=1) + (p - d.size))
        variance = sigma**2 * np.sum(f**2 / d2, axis=1)
    else:
        bias2 = tau**2 * np.sum(g**2 * d2, axis=1) / n
        variance = sigma**2 * np.sum(f**2, axis=1) / n
    curve = bv.ridge_bayes_risk(X, sigma, tau, lams, target=target)
    np.testing.assert_allclose(curve.bias2, bias2, rtol=1e-13)
    np.testing.assert_allclose(curve.variance, variance, rtol=1e-13)


# ---------------------------------------------------------------------------
# Monte Carlo
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("target", bv.TARGETS)
def test_monte_carlo_agrees_with_exact_risk(target):
    X, beta = _problem(40, 8, seed=10, rho=0.9)
    sigma, n_rep = 2.0, 4000
    lams = np.array([0.0, 0.01, 0.1, 1.0, 10.0])
    exact = bv.ridge_risk(X, beta, sigma, lams, target=target)
    mc = bv.monte_carlo_risk(X, beta, sigma, lams, n_rep, rng=11, target=target)
    assert mc.n_rep == n_rep and mc.target == target
    np.testing.assert_allclose(mc.mse, mc.bias2 + mc.variance)
    assert np.all(np.abs(mc.mse - exact.mse) <= 4 * mc.mse_se)
    # the variance estimate is a sum of sample variances: relative sd <= sqrt(2 / (R - 1))
    var_tol = 5 * np.sqrt(2 / (n_rep - 1)) * exact.variance
    assert np.all(np.abs(mc.variance - exact.variance) <= var_tol)
    assert np.all(np.abs(mc.bias2 - exact.bias2) <= 4 * mc.mse_se + var_tol)


def test_monte_carlo_finds_a_lambda_that_beats_ols():
    """A16 by simulation: the best λ on the grid is > 0 and beats λ = 0 by many standard errors."""
    X, beta = _problem(40, 8, seed=10, rho=0.9)
    lams = np.concatenate([[0.0], np.logspace(-3, 1, 9)])
    mc = bv.monte_carlo_risk(X, beta, 3.0, lams, 2000, rng=12)
    best = int(np.argmin(mc.mse))
    assert mc.grid[best] > 0 and mc.best == mc.grid[best]
    assert mc.mse[0] - mc.mse[best] > 5 * (mc.mse_se[0] + mc.mse_se[best])


def test_monte_carlo_custom_fit_equals_vectorised_ridge():
    X, beta = _problem(20, 4, seed=13)
    lams = [0.0, 0.3]
    default = bv.monte_carlo_risk(X, beta, 1.0, lams, 50, rng=14, target="fit")
    custom = bv.monte_carlo_risk(X, beta, 1.0, lams, 50, rng=14, target="fit", fit=lambda X, y: ridge_path(X, y, lams)[1])
    np.testing.assert_allclose(custom.mse, default.mse, rtol=1e-10)
    np.testing.assert_allclose(custom.variance, default.variance, rtol=1e-10)
    again = bv.monte_carlo_risk(X, beta, 1.0, lams, 50, rng=14, target="fit")
    np.testing.assert_array_equal(again.mse, default.mse)


def test_monte_carlo_without_noise_has_no_variance():
    X, beta = _problem(seed=15)
    mc = bv.monte_carlo_risk(X, beta, 0.0, [0.0, 1.0], 5, rng=0)
    np.testing.assert_allclose(mc.variance, 0.0, atol=1e-20)
    np.testing.assert_allclose(mc.mse, bv.ridge_risk(X, beta, 0.0, [0.0, 1.0]).mse, atol=1e-18)


# ---------------------------------------------------------------------------
# Objective, gradient (A14), gradient descent, limits (A13, A15)
# ---------------------------------------------------------------------------
def test_ridge_gradient_is_the_gradient_and_vanishes_at_ridge():
    """A14: ∇L(w) = −Xᵀ(y − Xw)/n + λw (sign included), zero at the ridge solution."""
    rng = np.random.default_rng(16)
    X, y = rng.standard_normal((30, 5)), rng.standard_normal(30)
    lam = 0.4
    w = rng.standard_normal(5)
    assert check_grad(lambda v: bv.ridge_objective(X, y, v, lam), lambda v: bv.ridge_gradient(X, y, v, lam), w) < 1e-5
    np.testing.assert_allclose(bv.ridge_gradient(X, y, np.zeros(5), lam), -X.T @ y / 30)
    np.testing.assert_allclose(bv.ridge_gradient(X, y, ridge(X, y, lam), lam), 0.0, atol=1e-12)
    numeric = approx_fprime(w, lambda v: bv.ridge_objective(X, y, v, lam), 1e-7)
    np.testing.assert_allclose(bv.ridge_gradient(X, y, w, lam), numeric, atol=1e-5)


def test_gradient_descent_closed_form_and_convergence():
    X, beta = _problem(30, 5, seed=17)
    y = X @ beta + np.random.default_rng(18).standard_normal(30)
    lam, lr = 0.2, 0.1
    path = bv.ridge_gradient_descent(X, y, lam, lr, 50)
    assert path.shape == (51, 5)
    np.testing.assert_array_equal(path[0], 0.0)
    w_hat = ridge(X, y, lam)
    G = X.T @ X / 30 + lam * np.eye(5)
    for t in (1, 7, 50):  # w_t = [I − (I − ηG)^t] ŵ
        np.testing.assert_allclose(path[t], w_hat - np.linalg.matrix_power(np.eye(5) - lr * G, t) @ w_hat, atol=1e-12)
    step = 1.0 / np.linalg.eigvalsh(G).max()
    long = bv.ridge_gradient_descent(X, y, lam, step, 3000, w0=np.ones(5))
    np.testing.assert_allclose(long[-1], w_hat, atol=1e-9)  # solve, SVD and GD agree


def test_ridge_shrinks_but_is_never_sparse():
    """A15: every coefficient is non-zero along the path; shrinkage factors lie in (0, 1]."""
    rng = np.random.default_rng(19)
    X = bv.equicorrelated_design(50, 6, 0.5, rng)
    y = X @ np.array([2.0, 0.0, 0.0, -1.0, 0.5, 0.0]) + rng.standard_normal(50)
    lams = np.logspace(-4, 6, 41)
    _, W = ridge_path(X, y, lams)
    assert np.count_nonzero(W == 0.0) == 0
    norms = np.linalg.norm(W, axis=1)
    assert np.all(np.diff(norms) < 0)  # ‖ŵ(λ)‖ strictly decreases in λ


def test_ridge_large_lambda_limit_is_order_one_over_lambda():
    """A13: λ ŵ(λ) → Xᵀy/n, and λ(λŵ(λ) − Xᵀy/n) → −(XᵀX/n)(Xᵀy/n): ŵ = O(1/λ), never 0."""
    rng = np.random.default_rng(20)
    X, y = rng.standard_normal((40, 5)), rng.standard_normal(40)
    c = X.T @ y / 40
    G = X.T @ X / 40
    lams = np.array([1e2, 1e4, 1e6])
    _, W = ridge_path(X, y, lams)
    gaps = np.linalg.norm(lams[:, None] * W - c, axis=1)
    assert np.all(np.diff(np.log10(gaps)) == pytest.approx(-2.0, abs=0.05))  # error ∝ 1/λ
    np.testing.assert_allclose(lams[-1] * (lams[-1] * W[-1] - c), -G @ c, rtol=1e-4)
    assert np.all(W != 0.0)


def test_ridge_small_lambda_limit_is_min_norm_least_squares():
    rng = np.random.default_rng(21)
    X, y = rng.standard_normal((8, 20)), rng.standard_normal(8)
    min_norm = np.linalg.pinv(X) @ y
    np.testing.assert_allclose(ridge(X, y, 1e-10), min_norm, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ridge(X, y, 0.0), min_norm, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# Framework conversions (B4)
# ---------------------------------------------------------------------------
def test_sklearn_ridge_alpha_is_n_times_lambda():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(22)
    X, y = rng.standard_normal((60, 7)), rng.standard_normal(60)
    lam = 0.05
    alpha = conventions.sklearn_ridge_alpha_from_lam(lam, 60)
    assert alpha == pytest.approx(60 * lam)
    coef = Ridge(alpha=alpha, fit_intercept=False, solver="svd").fit(X, y).coef_
    np.testing.assert_allclose(coef, ridge(X, y, lam), rtol=1e-9, atol=1e-12)


def test_sklearn_lasso_alpha_is_the_book_lambda():
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(23)
    X = bv.equicorrelated_design(80, 6, 0.3, rng)
    y = X @ np.array([1.5, 0.0, -0.7, 0.0, 0.0, 0.2]) + 0.5 * rng.standard_normal(80)
    alpha = 0.1
    lam = conventions.lam_from_sklearn_lasso_alpha(alpha)
    w = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    correlation = X.T @ (y - X @ w) / 80  # KKT in the book's convention
    active = w != 0
    assert active.any() and (~active).any()
    np.testing.assert_allclose(correlation[active], lam * np.sign(w[active]), atol=1e-6)
    assert np.all(np.abs(correlation[~active]) <= lam + 1e-8)


@pytest.mark.parametrize("loss", ["half_mse", "mse"])
def test_torch_sgd_weight_decay_matches_book_gradient_descent(loss):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(24)
    X, y = rng.standard_normal((32, 4)), rng.standard_normal(32)
    lam, lr, steps = 0.3, 0.1, 10
    weight_decay = conventions.torch_weight_decay_from_lam(lam, loss=loss)
    # nn.MSELoss is twice the book's data term: halve the step to get the same iterates
    torch_lr = lr if loss == "half_mse" else lr / 2
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=torch_lr, weight_decay=weight_decay)
    for _ in range(steps):
        mse = torch.mean((Xt @ w - yt) ** 2)
        data_loss = 0.5 * mse if loss == "half_mse" else mse
        opt.zero_grad()
        data_loss.backward()
        opt.step()
    book = bv.ridge_gradient_descent(X, y, lam, lr, steps)[-1]
    np.testing.assert_allclose(w.detach().numpy(), book, rtol=1e-10, atol=1e-12)


def test_keras_l2_objective_has_the_ridge_minimiser():
    """Keras' ``mse + l2(c)`` objective (1/n)‖r‖² + c‖w‖²: stationary at ridge with λ = c."""
    rng = np.random.default_rng(25)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    lam = 0.2
    c = conventions.keras_l2_from_lam(lam)
    # gradient of the Keras objective: −(2/n)Xᵀr + 2cw
    w = ridge(X, y, lam)
    np.testing.assert_allclose(-2 * X.T @ (y - X @ w) / 30 + 2 * c * w, 0.0, atol=1e-12)


# ---------------------------------------------------------------------------
# Designs
# ---------------------------------------------------------------------------
def test_equicorrelated_design_is_standardised_and_correlated():
    X = bv.equicorrelated_design(4000, 5, 0.7, rng=26)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sum(X**2, axis=0), 4000, rtol=1e-12)
    corr = np.corrcoef(X, rowvar=False)[np.triu_indices(5, 1)]
    np.testing.assert_allclose(corr, 0.7, atol=0.03)


# ---------------------------------------------------------------------------
# Error paths
# ---------------------------------------------------------------------------
_X, _BETA = _problem(10, 3, seed=27)
_Y = _X @ _BETA


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: bv.ridge_risk(np.ones(5), _BETA, 1.0, [0.1]), "X must be a 2-D array"),
        (lambda: bv.ridge_risk(np.where(_X > 0, np.nan, _X), _BETA, 1.0, [0.1]), "X must contain only finite"),
        (lambda: bv.ridge_risk(_X, _BETA[:2], 1.0, [0.1]), "beta must have length 3; got length 2"),
        (lambda: bv.ridge_risk(_X, _BETA, -1.0, [0.1]), r"sigma must be >= 0; got -1.0"),
        (lambda: bv.ridge_risk(_X, _BETA, 1.0, [0.1, -2.0]), r"lams must all be >= 0; got minimum -2.0"),
        (lambda: bv.ridge_risk(_X, _BETA, 1.0, [np.inf]), "lams must contain only finite"),
        (lambda: bv.ridge_risk(_X, _BETA, 1.0, [0.1], target="risk"), "target must be one of .*'risk'"),
        (lambda: bv.ridge_risk_derivative(_X, _BETA, np.nan, [0.1]), "sigma must be finite; got nan"),
        (lambda: bv.hoerl_kennard_lambda(_X, np.ones(4), 1.0), "beta must have length 3"),
        (lambda: bv.map_lambda(1.0, 0.0, 10), r"prior_std must be > 0; got 0.0"),
        (lambda: bv.map_lambda(-1.0, 1.0, 10), r"noise_std must be >= 0; got -1.0"),
        (lambda: bv.map_lambda(1.0, 1.0, 0), "n_samples must be an integer >= 1; got 0"),
        (lambda: bv.ridge_bayes_risk(_X, 1.0, -0.5, [0.1]), r"tau must be > 0; got -0.5"),
        (lambda: bv.ridge_bayes_risk(_X, 1.0, 1.0, [0.1], target="x"), "target must be one of"),
        (lambda: bv.linear_estimator_risk(_X, _BETA, 1.0, np.ones((10, 3))), r"operators must have shape \(p, n\)"),
        (lambda: bv.linear_estimator_risk(_X, _BETA, 1.0, np.full((3, 10), np.nan)), "operators must contain only finite"),
        (lambda: bv.monte_carlo_risk(_X, _BETA, 1.0, [0.1], 1), "n_rep must be an integer >= 2; got 1"),
        (lambda: bv.monte_carlo_risk(_X, _BETA, 1.0, [0.1], 2.5), "n_rep must be an integer"),
        (lambda: bv.monte_carlo_risk(_X, _BETA, 1.0, [0.1], 5, fit=3), "fit must be callable or None; got int"),
        (
            lambda: bv.monte_carlo_risk(_X, _BETA, 1.0, [0.1, 1.0], 5, fit=lambda X, y: ridge(X, y, 0.1)),
            r"fit\(X, y\) must return an array of shape \(2, 3\); got \(3,\)",
        ),
        (lambda: bv.ridge_objective(_X, _Y[:-1], _BETA, 0.1), "X and y must have the same number of rows"),
        (lambda: bv.ridge_objective(_X, _Y, _BETA[:2], 0.1), "w must have length 3"),
        (lambda: bv.ridge_gradient(_X, _Y, _BETA, -0.1), r"lam must be >= 0; got -0.1"),
        (lambda: bv.ridge_gradient_descent(_X, _Y, 0.1, 0.0, 5), r"lr must be > 0; got 0.0"),
        (lambda: bv.ridge_gradient_descent(_X, _Y, 0.1, 0.1, -1), "n_steps must be an integer >= 0; got -1"),
        (lambda: bv.ridge_gradient_descent(_X, _Y, 0.1, 0.1, 3, w0=np.ones(2)), "w0 must have length 3"),
        (lambda: bv.ridge_variance_by_direction(_X, -1.0, [0.1]), r"sigma must be >= 0; got -1.0"),
        (lambda: bv.ridge_variance_by_direction(_X, 1.0, [0.1], target="x"), "target must be one of"),
        (lambda: bv.equicorrelated_design(10, 3, 1.0), r"rho must lie in \[0, 1\); got 1.0"),
        (lambda: bv.equicorrelated_design(10, 3, -0.1), r"rho must lie in \[0, 1\); got -0.1"),
        (lambda: bv.equicorrelated_design(1, 3, 0.5), "n must be an integer >= 2; got 1"),
        (lambda: bv.equicorrelated_design(10, 0, 0.5), "p must be an integer >= 1; got 0"),
    ],
)
def test_invalid_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("custom", [False, True])
def test_monte_carlo_progress_bar_does_not_change_the_numbers(custom):
    X, beta = _problem(15, 3, seed=16)
    lams = [0.0, 0.5]
    fit = (lambda X, y: np.stack([ridge(X, y, lam) for lam in lams])) if custom else None
    quiet = bv.monte_carlo_risk(X, beta, 1.0, lams, 20, rng=17, fit=fit, progress=False)
    shown = bv.monte_carlo_risk(X, beta, 1.0, lams, 20, rng=17, fit=fit, progress=True)
    for field in ("bias2", "variance", "mse", "mse_se"):
        np.testing.assert_array_equal(getattr(shown, field), getattr(quiet, field))
