"""Tests of the double-descent chapter: the asymptotic ridge risk in weightdecay.bias_variance
(closed forms, quadrature, simulation, the optimal λ) and weightdecay.experiments.double_descent.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
from scipy.optimize import minimize_scalar

from weightdecay import bias_variance as bv
from weightdecay.experiments import double_descent as dd
from weightdecay.linear import ridge
from weightdecay.stats import mean_se


def _mp_integral(gamma, f):
    """∫ f dμ_γ by quadrature of the Marchenko–Pastur density, plus the atom at 0 when γ > 1."""
    lo, hi = (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2

    def density(s):
        return np.sqrt(max((hi - s) * (s - lo), 0.0)) / (2 * np.pi * gamma * s)

    value = scipy.integrate.quad(lambda s: density(s) * f(s), lo, hi, limit=200)[0]
    return value + (1 - 1 / gamma) * f(0.0) if gamma > 1 else value


# ---------------------------------------------------------------------------
# The Marchenko–Pastur transform
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("lam", [0.02, 0.5, 3.0])
def test_stieltjes_transform_matches_quadrature_of_the_density(gamma, lam):
    m, dm = bv.marchenko_pastur_stieltjes(gamma, lam)
    assert m == pytest.approx(_mp_integral(gamma, lambda s: 1 / (s + lam)), rel=1e-7)
    assert dm == pytest.approx(_mp_integral(gamma, lambda s: 1 / (s + lam) ** 2), rel=1e-6)


def test_stieltjes_transform_solves_the_quadratic_and_matches_a_large_sample():
    gamma = np.array([0.2, 0.9, 1.0, 1.1, 4.0])[:, None]
    lam = np.array([1e-6, 1e-3, 0.1, 10.0])[None, :]
    m, _ = bv.marchenko_pastur_stieltjes(gamma, lam)
    residual = gamma * lam * m**2 + (1 - gamma + lam) * m - 1
    np.testing.assert_allclose(residual, 0.0, atol=1e-9)
    assert np.all(m > 0)
    # (1/p) tr(Σ̂ + λI)^{-1} of one sample, n = 800, γ = 0.5
    rng = np.random.default_rng(0)
    X = rng.standard_normal((800, 400))
    s = np.linalg.eigvalsh(X.T @ X / 800)
    assert np.mean(1 / (s + 0.2)) == pytest.approx(bv.marchenko_pastur_stieltjes(0.5, 0.2)[0], rel=0.01)


def test_stieltjes_transform_at_zero():
    m, dm = bv.marchenko_pastur_stieltjes([0.5, 1.0, 2.0], 0.0)
    np.testing.assert_allclose(m, [2.0, np.inf, np.inf])
    np.testing.assert_allclose(dm, [8.0, np.inf, np.inf])


# ---------------------------------------------------------------------------
# The asymptotic risk
# ---------------------------------------------------------------------------
def _ridgeless(gamma, r2, sigma2):
    return sigma2 * gamma / (1 - gamma) if gamma < 1 else r2 * (1 - 1 / gamma) + sigma2 / (gamma - 1)


@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.9, 1.1, 2.0, 10.0])
@pytest.mark.parametrize("r2, sigma2", [(1.0, 1.0), (2.0, 0.25), (0.5, 0.0)])
def test_lambda_zero_gives_the_ridgeless_closed_forms(gamma, r2, sigma2):
    closed = _ridgeless(gamma, r2, sigma2)
    assert bv.asymptotic_ridge_risk(gamma, 0.0, r2=r2, sigma2=sigma2) == pytest.approx(closed, rel=1e-12)
    bias2, _ = bv.asymptotic_ridge_bias_variance(gamma, 0.0, r2=r2, sigma2=sigma2)
    assert bias2 == pytest.approx(r2 * max(0.0, 1 - 1 / gamma), rel=1e-12, abs=1e-15)
    # continuity: small λ > 0 (through the general formula) tends to the λ = 0 branch
    previous = np.inf
    for lam in [1e-4, 1e-6, 1e-8, 1e-10]:
        gap = abs(bv.asymptotic_ridge_risk(gamma, lam, r2=r2, sigma2=sigma2) - closed)
        assert gap <= previous
        previous = gap
    assert previous <= 1e-7 * max(closed, 1.0)


def test_gamma_one_is_infinite_without_penalty_and_finite_with_one():
    assert bv.asymptotic_ridge_risk(1.0, 0.0) == np.inf
    assert bv.asymptotic_ridge_risk(1.0, 0.0, sigma2=0.0) == 0.0  # noiseless: no variance
    # the variance diverges like σ²/(2√λ)
    for lam in [1e-6, 1e-10]:
        assert bv.asymptotic_ridge_risk(1.0, lam) * 2 * np.sqrt(lam) == pytest.approx(1.0, rel=1e-2)
    assert np.isfinite(bv.asymptotic_ridge_risk(1.0, 1e-300))


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("lam", [0.01, 0.3, 2.0])
def test_bias_and_variance_match_quadrature(gamma, lam):
    bias2, variance = bv.asymptotic_ridge_bias_variance(gamma, lam, r2=1.3, sigma2=0.7)
    assert bias2 == pytest.approx(1.3 * lam**2 * _mp_integral(gamma, lambda s: 1 / (s + lam) ** 2), rel=1e-6)
    assert variance == pytest.approx(0.7 * gamma * _mp_integral(gamma, lambda s: s / (s + lam) ** 2), rel=1e-6)


def test_large_lambda_predicts_zero():
    bias2, variance = bv.asymptotic_ridge_bias_variance([0.5, 3.0], 1e8, r2=2.0, sigma2=1.0)
    np.testing.assert_allclose(bias2, 2.0, rtol=1e-6)
    assert np.all(variance < 1e-7)


@pytest.mark.parametrize("gamma, lams", [(0.5, [0.0, 0.1, 1.0]), (2.0, [0.0, 0.1, 1.0])])
def test_asymptotic_risk_matches_simulation_at_finite_n(gamma, lams):
    """n = 400, 12 training sets: mean excess risk within 3 se + 3 % of the limit."""
    n, r2, sigma2 = 400, 1.0, 0.5
    risk = dd.gamma_sweep([gamma], lams, range(12), n=n, r2=r2, sigma2=sigma2)[:, 0]
    mean, se = mean_se(risk, axis=0)
    limit = bv.asymptotic_ridge_risk(gamma, np.array(lams), r2=r2, sigma2=sigma2)
    assert np.all(np.abs(mean - limit) <= 3 * se + 0.03 * limit), (mean, se, limit)


def test_broadcasting_and_scalar_output():
    out = bv.asymptotic_ridge_risk(np.array([0.5, 2.0])[:, None], np.array([0.0, 0.1, 1.0]))
    assert out.shape == (2, 3)
    assert isinstance(bv.asymptotic_ridge_risk(0.5, 0.1), float)
    assert isinstance(bv.optimal_ridge_lambda(0.5), float)
    np.testing.assert_allclose(out[1], [bv.asymptotic_ridge_risk(2.0, lam) for lam in (0.0, 0.1, 1.0)])


# ---------------------------------------------------------------------------
# The optimal λ
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("gamma", [0.2, 0.8, 1.0, 1.5, 5.0])
@pytest.mark.parametrize("r2, sigma2", [(1.0, 1.0), (1.0, 0.25), (3.0, 2.0)])
def test_asymptotic_risk_is_u_shaped_in_lambda_with_its_minimum_at_lambda_star(gamma, r2, sigma2):
    """Errata B8: the risk falls, then rises in λ; its minimum is at λ* = σ²γ/r²."""
    star = bv.optimal_ridge_lambda(gamma, r2=r2, sigma2=sigma2)
    assert star == pytest.approx(sigma2 * gamma / r2)
    res = minimize_scalar(
        lambda t: bv.asymptotic_ridge_risk(gamma, np.exp(t), r2=r2, sigma2=sigma2),
        bounds=(-12, 6),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert np.exp(res.x) == pytest.approx(star, rel=1e-4)
    lams = np.logspace(-6, 3, 400)
    slope = np.diff(bv.asymptotic_ridge_risk(gamma, lams, r2=r2, sigma2=sigma2))
    assert np.all(slope[lams[1:] < 0.99 * star] < 0)
    assert np.all(slope[lams[:-1] > 1.01 * star] > 0)
    # at λ*, R = σ²γ m(−λ*)
    m, _ = bv.marchenko_pastur_stieltjes(gamma, star)
    assert bv.asymptotic_ridge_risk(gamma, star, r2=r2, sigma2=sigma2) == pytest.approx(sigma2 * gamma * m, rel=1e-12)


@pytest.mark.parametrize("snr", [0.25, 1.0, 4.0, 100.0])
def test_optimal_risk_is_monotone_in_gamma_but_a_fixed_small_lambda_is_not(snr):
    gammas = np.logspace(-2, 2, 800)
    r2, sigma2 = 1.0, 1.0 / snr
    optimal = bv.asymptotic_ridge_risk(gammas, bv.optimal_ridge_lambda(gammas, r2=r2, sigma2=sigma2), r2=r2, sigma2=sigma2)
    assert np.all(np.diff(optimal) > 0)
    assert optimal[-1] < r2  # never worse than predicting 0
    alpha = sigma2 / r2
    c = 1 / gammas - 1 + alpha
    np.testing.assert_allclose(optimal, r2 * (np.sqrt(c**2 + 4 * alpha) - c) / 2, rtol=1e-10)
    fixed = np.diff(bv.asymptotic_ridge_risk(gammas, 1e-3, r2=r2, sigma2=sigma2))
    assert np.any(fixed[gammas[1:] < 1] > 0) and np.any(fixed[gammas[1:] > 1] < 0)


def test_optimal_lambda_is_the_map_lambda_and_minimises_the_finite_n_bayes_risk():
    n, p, r2, sigma2 = 60, 90, 2.0, 0.5
    tau = np.sqrt(r2 / p)
    lam_star = bv.optimal_ridge_lambda(p / n, r2=r2, sigma2=sigma2)
    assert lam_star == pytest.approx(bv.map_lambda(np.sqrt(sigma2), tau, n), rel=1e-12)
    X = np.random.default_rng(3).standard_normal((n, p))
    res = minimize_scalar(
        lambda t: bv.ridge_bayes_risk(X, np.sqrt(sigma2), tau, [np.exp(t)]).mse[0],
        bounds=(-8, 3),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert np.exp(res.x) == pytest.approx(lam_star, rel=1e-4)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"gamma": 0.0, "lam": 0.1}, "gamma"),
        ({"gamma": -1.0, "lam": 0.1}, "gamma"),
        ({"gamma": np.inf, "lam": 0.1}, "gamma"),
        ({"gamma": [0.5, np.nan], "lam": 0.1}, "gamma"),
        ({"gamma": "a", "lam": 0.1}, "gamma"),
        ({"gamma": 0.5, "lam": -0.1}, "lam"),
        ({"gamma": 0.5, "lam": np.inf}, "lam"),
        ({"gamma": 0.5, "lam": 0.1, "r2": -1.0}, "r2"),
        ({"gamma": 0.5, "lam": 0.1, "r2": np.nan}, "r2"),
        ({"gamma": 0.5, "lam": 0.1, "sigma2": -1.0}, "sigma2"),
        ({"gamma": [0.5, 1.0], "lam": [0.1, 0.2, 0.3]}, "broadcast"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(kwargs, name):
    for func in (bv.asymptotic_ridge_risk, bv.asymptotic_ridge_bias_variance):
        with pytest.raises(ValueError, match=name):
            func(**kwargs)
    if "r2" not in kwargs and "sigma2" not in kwargs:
        with pytest.raises(ValueError, match=name):
            bv.marchenko_pastur_stieltjes(kwargs["gamma"], kwargs["lam"])


def test_optimal_lambda_validates():
    for kwargs, name in [({"gamma": 0.0}, "gamma"), ({"gamma": 1.0, "r2": 0.0}, "r2"), ({"gamma": 1.0, "sigma2": -1.0}, "sigma2")]:
        with pytest.raises(ValueError, match=name):
            bv.optimal_ridge_lambda(**kwargs)


# ---------------------------------------------------------------------------
# The chapter's experiments
# ---------------------------------------------------------------------------
def test_isotropic_problem_and_minimum_norm_excess_risk():
    X, y, w = dd.isotropic_problem(30, 70, 1, r2=2.0, sigma2=0.5)
    assert X.shape == (30, 70) and y.shape == (30,)
    assert w @ w == pytest.approx(2.0)
    risk = dd.ridge_excess_risk(X, y, w, [0.0, 1e-9, 1.0])
    w_min = np.linalg.lstsq(X, y, rcond=None)[0]  # LAPACK's minimum-norm solution
    assert risk[0] == pytest.approx(np.sum((w_min - w) ** 2), rel=1e-9)
    assert risk[1] == pytest.approx(risk[0], rel=1e-6)  # λ → 0⁺ is the minimum-norm fit
    np.testing.assert_allclose(X @ ridge(X, y, 0.0), y, atol=1e-10)  # it interpolates


def test_sweeps_reuse_the_training_set_of_each_seed_and_p():
    a = dd.gamma_sweep([0.5, 2.0], [0.0, 0.3], range(3), n=20)
    b = dd.gamma_sweep([2.0], [0.3], range(3), n=20)
    assert a.shape == (3, 2, 2)
    np.testing.assert_allclose(a[:, 1, 1], b[:, 0, 0], rtol=1e-12)  # same data, same fit
    per_gamma = dd.gamma_sweep([0.5, 2.0], [[0.1], [0.3]], range(3), n=20)
    np.testing.assert_allclose(per_gamma[:, 1, 0], b[:, 0, 0], rtol=1e-12)
    risk, lam = dd.cv_gamma_sweep([2.0], range(3), [0.01, 0.3, 3.0], n=20)
    assert set(lam.ravel()) <= {0.01, 0.3, 3.0}
    refit = [dd.gamma_sweep([2.0], [l], [s], n=20)[0, 0, 0] for s, l in zip(range(3), lam[:, 0])]
    np.testing.assert_allclose(risk[:, 0], refit, rtol=1e-12)
    with pytest.raises(ValueError, match="lams"):
        dd.gamma_sweep([0.5, 2.0], [[0.1], [0.2], [0.3]], range(2), n=20)
    with pytest.raises(ValueError, match="gamma"):
        dd.gamma_sweep([0.0], [0.1], range(2), n=20)
    with pytest.raises(ValueError, match="seeds"):
        dd.gamma_sweep([0.5], [0.1], [], n=20)


def test_ridgeless_peak_and_optimal_lambda_in_a_small_sweep():
    gammas = [0.5, 0.95, 1.05, 2.0]
    lams = np.stack([np.zeros(4), bv.optimal_ridge_lambda(np.array(gammas), r2=dd.R2, sigma2=dd.SIGMA2)], axis=1)
    risk = np.median(dd.gamma_sweep(gammas, lams, range(9), n=100), axis=0)
    assert min(risk[1, 0], risk[2, 0]) > 3 * max(risk[0, 0], risk[3, 0])  # the peak
    assert np.all(np.diff(risk[:, 1]) > 0)  # optimal λ: no peak


def test_relu_random_features():
    feats = dd.relu_random_features(np.array([[2.0, -2.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [1.0, -1.0]]))
    np.testing.assert_allclose(feats, [[0.0, 4 / np.sqrt(2)], [1 / np.sqrt(2), 0.0]])
    with pytest.raises(ValueError, match="share d"):
        dd.relu_random_features(np.ones((2, 3)), np.ones((4, 2)))


def test_random_features_peak_at_the_interpolation_threshold_and_decay_tames_it():
    n_features = np.array([20, 40, 80])
    risk = dd.random_features_risk(n_features, [1e-6, 0.1], range(8), n=40, d=10, n_test=400)
    assert risk.shape == (8, 3, 2)
    med = np.median(risk, axis=0)
    assert med[1, 0] > 3 * max(med[0, 0], med[2, 0])  # peak at N = n = 40
    assert med[1, 1] < med[0, 1]  # with λ = 0.1: no peak
    with pytest.raises(ValueError, match="n_features"):
        dd.random_features_risk([0, 10], [0.1], range(2), n=10, d=3, n_test=10)
    with pytest.raises(ValueError, match="n_features"):
        dd.random_features_risk([2.5], [0.1], range(2), n=10, d=3, n_test=10)
