"""Tests of weightdecay.early_stopping: GD as a spectral filter, exact risks, the callback."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weightdecay import early_stopping as ES
from weightdecay.bias_variance import RiskCurve, ridge_risk
from weightdecay.linear import ridge_path


def _problem(n=40, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * np.linspace(0.3, 2.0, p)  # a spread of eigenvalues
    w_star = rng.normal(size=p)
    y = X @ w_star + 0.5 * rng.normal(size=n)
    return X, y, w_star


# ---------------------------------------------------------------------------
# Gradient descent = spectral filter
# ---------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 30),
    p=st.integers(1, 12),
    fraction=st.floats(0.05, 0.95),
    steps=st.integers(0, 60),
    seed=st.integers(0, 10_000),
)
def test_gd_iterate_equals_spectral_filter_formula(n, p, fraction, steps, seed):
    # Errata B5: early-stopped GD from 0 is the least-squares solution passed through the
    # filter 1 - (1 - lr s)^t, a relative of ridge's s / (s + lam) -- not a "simpler model".
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, p)), rng.normal(size=n)
    lr = fraction * ES.max_stable_lr(X)
    loop = ES.gd_least_squares(X, y, lr, steps)
    closed = ES.gd_closed_form(X, y, lr, steps)
    scale = 1.0 + np.abs(loop).max()
    np.testing.assert_allclose(closed, loop, atol=1e-9 * scale)
    # the same from the filter written out by hand: V diag(phi(s)/s) V^T X^T y / n
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    keep = d > 1e-10 * d.max()
    s = d[keep] ** 2 / n
    by_hand = Vt[keep].T @ ((ES.gd_filter(s, lr, steps) / s) * (Vt[keep] @ (X.T @ y / n)))
    np.testing.assert_allclose(by_hand, loop, atol=1e-9 * scale)


def test_gd_path_matches_the_loop_trajectory_and_converges_to_least_squares():
    X, y, _ = _problem()
    lr = 0.9 * ES.max_stable_lr(X)
    trajectory = ES.gd_least_squares(X, y, lr, 50, return_path=True)
    assert trajectory.shape == (51, X.shape[1])
    np.testing.assert_allclose(ES.gd_path(X, y, lr, np.arange(51)), trajectory, atol=1e-11)
    np.testing.assert_array_equal(trajectory[0], 0.0)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(ES.gd_path(X, y, lr, [100_000])[0], w_ls, atol=1e-9)


def test_gd_from_w0_keeps_the_part_outside_the_row_space():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(5, 9)), rng.normal(size=5)  # p > n: a 4-dimensional null space
    w0 = rng.normal(size=9)
    lr = 0.5 * ES.max_stable_lr(X)
    loop = ES.gd_least_squares(X, y, lr, 30, w0)
    np.testing.assert_allclose(ES.gd_closed_form(X, y, lr, 30, w0), loop, atol=1e-10)
    _, _, Vt = np.linalg.svd(X)
    null = Vt[5:]
    np.testing.assert_allclose(null @ loop, null @ w0, atol=1e-10)  # never moved
    # from 0, GD stays in the row space and tends to the minimum-norm solution
    w_inf = ES.gd_closed_form(X, y, lr, 20_000)
    np.testing.assert_allclose(w_inf, np.linalg.pinv(X) @ y, atol=1e-8)


def test_filters_closed_forms_and_limits():
    s = np.array([0.0, 0.01, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(ES.gd_filter(s, 0.1, 7), 1 - (1 - 0.1 * s) ** 7, rtol=1e-13)
    np.testing.assert_array_equal(ES.gd_filter(s, 0.1, 0), 0.0)
    np.testing.assert_allclose(ES.gd_filter(s[1:], 0.1, 100_000), 1.0)
    np.testing.assert_allclose(ES.ridge_filter(s, 0.5), s / (s + 0.5))
    assert ES.ridge_filter(0.0, 0.0) == 0.0 and ES.ridge_filter(2.0, 0.0) == 1.0
    # gradient flow is the small-step limit of GD with lr * steps = t
    np.testing.assert_allclose(ES.gd_filter(s, 1e-4, 20_000), ES.gradient_flow_filter(s, 2.0), atol=1e-4)
    # broadcasting: filters for several step counts at once
    assert ES.gd_filter(s[None, :], 0.1, np.array([[1], [5], [9]])).shape == (3, 5)
    # accurate for tiny lr * s (no cancellation): 1 - (1 - a)^t ~ t a
    assert ES.gd_filter(1e-12, 1.0, 3) == pytest.approx(3e-12, rel=1e-9)


def test_divergence_beyond_two_over_s_max_is_rejected_or_predicted():
    X, y, _ = _problem(seed=2)
    bound = ES.max_stable_lr(X)
    s_max = np.linalg.eigvalsh(X.T @ X / X.shape[0]).max()
    assert bound == pytest.approx(2 / s_max)
    for call in (ES.gd_least_squares, ES.gd_closed_form):
        with pytest.raises(ValueError, match=r"lr must be < 2 / s_max"):
            call(X, y, 1.01 * bound, 5)
    with pytest.raises(ValueError, match=r"lr must be < 2 / s_max"):
        ES.gd_path(X, y, bound, [5])
    # when explicitly allowed, the loop diverges exactly as the filter formula predicts
    loop = ES.gd_least_squares(X, y, 1.1 * bound, 40, allow_unstable=True)
    closed = ES.gd_closed_form(X, y, 1.1 * bound, 40, allow_unstable=True)
    assert np.linalg.norm(loop) > 100 * np.linalg.norm(np.linalg.lstsq(X, y, rcond=None)[0])
    np.testing.assert_allclose(closed, loop, rtol=1e-8)
    assert abs(ES.gd_filter(s_max, 1.1 * bound, 40)) > 1e3


def test_ridge_at_one_over_lr_t_is_close_to_early_stopping():
    X, y, _ = _problem(n=200, p=10, seed=3)
    lr = 0.5 * ES.max_stable_lr(X)
    errors = []
    for t in [2, 10, 50, 250]:
        w_gd = ES.gd_path(X, y, lr, [t])[0]
        w_ridge = ridge_path(X, y, [ES.gd_ridge_lambda(lr, t)])[1][0]
        w_far = ridge_path(X, y, [100 * ES.gd_ridge_lambda(lr, t)])[1][0]
        errors.append(np.linalg.norm(w_gd - w_ridge) / np.linalg.norm(w_gd))
        assert np.linalg.norm(w_gd - w_ridge) < np.linalg.norm(w_gd - w_far)
    assert max(errors) < 0.35
    assert ES.gd_ridge_lambda(0.1, 50) == pytest.approx(0.2) and ES.gd_ridge_lambda(0.1, 0) == math.inf


# ---------------------------------------------------------------------------
# Exact risk
# ---------------------------------------------------------------------------
def _linear_map_of_gd(X, lr, steps):
    """Matrix M with w_t = M y for GD from 0, by iterating on matrices (no SVD)."""
    n, p = X.shape
    M = np.zeros((p, n))
    for _ in range(steps):
        M = M + lr / n * X.T @ (np.eye(n) - X @ M)
    return M


@pytest.mark.parametrize("n, p", [(30, 5), (6, 10)])
def test_risk_formulas_equal_bias_and_variance_of_the_linear_map(n, p):
    rng = np.random.default_rng(4)
    X, w_star, sigma = rng.normal(size=(n, p)), rng.normal(size=p), 0.7
    lr, steps, lam = 0.4 * ES.max_stable_lr(X), 12, 0.3
    M_gd = _linear_map_of_gd(X, lr, steps)
    M_ridge = np.linalg.solve(X.T @ X + n * lam * np.eye(p), X.T)
    for M, risk in [(M_gd, lambda target: ES.gd_risk(X, w_star, sigma, lr, [steps], target=target)),
                    (M_ridge, lambda target: ridge_risk(X, w_star, sigma, [lam], target=target))]:
        # E||M(Xw* + e) - w*||^2 = ||(MX - I)w*||^2 + sigma^2 ||M||_F^2
        est = risk("coef")
        assert est.bias2[0] == pytest.approx(np.sum(((M @ X - np.eye(p)) @ w_star) ** 2), rel=1e-9)
        assert est.variance[0] == pytest.approx(sigma**2 * np.sum(M**2), rel=1e-9)
        pred = risk("fit")
        assert pred.bias2[0] == pytest.approx(np.sum((X @ (M @ X - np.eye(p)) @ w_star) ** 2) / n, rel=1e-9)
        assert pred.variance[0] == pytest.approx(sigma**2 * np.sum((X @ M) ** 2) / n, rel=1e-9)
        assert pred.mse[0] == pytest.approx(pred.bias2[0] + pred.variance[0])


def test_risk_agrees_with_monte_carlo():
    X, _, w_star = _problem(n=25, p=4, seed=5)
    sigma, lr, steps = 1.0, 0.3 * ES.max_stable_lr(X), 8
    rng = np.random.default_rng(6)
    errors = []
    for _ in range(4000):
        y = X @ w_star + sigma * rng.normal(size=X.shape[0])
        errors.append(np.sum((ES.gd_closed_form(X, y, lr, steps) - w_star) ** 2))
    errors = np.array(errors)
    exact = ES.gd_risk(X, w_star, sigma, lr, [steps]).mse[0]
    assert abs(errors.mean() - exact) < 4 * errors.std(ddof=1) / np.sqrt(errors.size)


def test_gradient_flow_ridge_constant_value():
    c = ES.gradient_flow_ridge_constant()
    x = np.linspace(1e-4, 30, 300_001)
    assert c == pytest.approx(np.max(((1 - np.exp(-x)) * (1 + x) / x) ** 2), rel=1e-8)
    assert 1.6859 < c < 1.6862  # Ali, Kolter & Tibshirani (2019) quote 1.6862


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 25), p=st.integers(1, 15), sigma=st.floats(0.0, 3.0), seed=st.integers(0, 10_000),
       target=st.sampled_from(["coef", "fit"]))
def test_gradient_flow_risk_is_within_the_constant_of_ridge_risk(n, p, sigma, seed, target):
    rng = np.random.default_rng(seed)
    X, w_star = rng.normal(size=(n, p)) * rng.uniform(0.1, 3, size=p), rng.normal(size=p)
    times = np.geomspace(1e-3, 1e4, 60)
    flow = ES.gradient_flow_risk(X, w_star, sigma, times, target=target)
    rid = ridge_risk(X, w_star, sigma, 1 / times, target=target)
    c = ES.gradient_flow_ridge_constant()
    assert np.all(flow.mse <= c * rid.mse * (1 + 1e-12) + 1e-14)
    assert np.all(flow.bias2 <= rid.bias2 * (1 + 1e-12) + 1e-14)  # the bias is never worse


def test_discrete_steps_can_exceed_the_gradient_flow_constant():
    c = ES.gradient_flow_ridge_constant()
    assert ES.gd_variance_ratio(1.0, 1) == pytest.approx(4.0)
    small = ES.gd_variance_ratio(1e-4, np.arange(1, 200_001, 7)).max()
    assert small == pytest.approx(c, rel=1e-3)
    assert ES.gd_variance_ratio(0.1, np.arange(1, 500)).max() > c


def test_gd_ridge_constant_small_step_path_equals_the_scan(monkeypatch):
    a = np.array([3e-4, 1e-3, 7e-3])
    scanned = ES.gd_ridge_constant(a)
    monkeypatch.setattr(ES, "_SCAN_STEPS", 10)  # force the continuous maximisation
    np.testing.assert_allclose(ES.gd_ridge_constant(a), scanned, rtol=1e-14)


def test_gd_ridge_constant_is_the_worst_ratio_and_tends_to_the_flow_constant():
    c = ES.gradient_flow_ridge_constant()
    a = np.array([1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0, 1.5])
    worst = ES.gd_ridge_constant(a)
    # brute force over ten times as many steps finds nothing larger
    for value, w in zip(a, worst):
        assert w == pytest.approx(ES.gd_variance_ratio(value, np.arange(1, int(40 / value) + 2)).max(), rel=1e-14)
    assert np.all(np.diff(worst) > 0) and np.all(worst > c)  # grows with eta s, above gradient flow's
    assert worst[0] == pytest.approx(c, rel=1e-4) and worst[1] == pytest.approx(c, rel=5e-4)
    assert 1.6915 < worst[2] < 1.6925  # eta s = 0.01: "approximately" 1.686, not below it
    assert worst[5] == pytest.approx(4.0) and worst[6] == pytest.approx(2.5**2)  # (1 + a)^2 at t = 1
    assert isinstance(ES.gd_ridge_constant(0.2), float)
    # tiny steps: no scan over millions of steps, the continuous maximiser gives the same value
    assert ES.gd_ridge_constant(1e-9) == pytest.approx(c, rel=1e-8)
    for bad in (0.0, -0.1, 2.0, np.nan, []):
        with pytest.raises(ValueError, match="lr_s must lie in"):
            ES.gd_ridge_constant(bad)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 25), p=st.integers(1, 15), sigma=st.floats(0.0, 3.0), fraction=st.floats(0.01, 1.0),
       seed=st.integers(0, 10_000), target=st.sampled_from(["coef", "fit"]))
def test_gd_risk_is_within_the_discrete_constant_of_ridge_risk(n, p, sigma, fraction, seed, target):
    rng = np.random.default_rng(seed)
    X, w_star = rng.normal(size=(n, p)) * rng.uniform(0.1, 3, size=p), rng.normal(size=p)
    s = np.linalg.svd(X, compute_uv=False) ** 2 / n
    s = s[s > s.max() * max(n, p) * np.finfo(float).eps]
    lr = fraction / s.max()  # eta s_max <= 1
    steps = np.unique(np.geomspace(1, 1e4, 60).astype(int))
    gd = ES.gd_risk(X, w_star, sigma, lr, steps, target=target)
    rid = ridge_risk(X, w_star, sigma, 1 / (lr * steps), target=target)
    bound = ES.gd_ridge_constant(lr * s).max()
    assert np.all(gd.mse <= bound * rid.mse * (1 + 1e-12) + 1e-14)
    assert np.all(gd.bias2 <= rid.bias2 * (1 + 1e-12) + 1e-14)  # the bias is never worse for eta s <= 1
    # and the bound is attained up to the grid when the variance dominates, s_j all equal
    Q, _ = np.linalg.qr(rng.normal(size=(max(n, p) + 1, p)))
    X_orth = np.sqrt(Q.shape[0]) * Q  # X^T X / n = I
    a = max(fraction, 0.05)
    t = np.arange(1, int(8 / a))
    ratio = (ES.gd_risk(X_orth, np.zeros(p), 1.0, a, t).mse
             / ridge_risk(X_orth, np.zeros(p), 1.0, 1 / (a * t)).mse)
    assert ratio.max() == pytest.approx(ES.gd_ridge_constant(a), rel=1e-9)


# ---------------------------------------------------------------------------
# Validation of the numerical functions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, y: ES.gd_least_squares(X, y, 0.0, 5), "lr must be > 0; got 0.0"),
        (lambda X, y: ES.gd_least_squares(X, y, -0.1, 5), "lr must be > 0"),
        (lambda X, y: ES.gd_least_squares(X, y, float("nan"), 5), "lr must be finite"),
        (lambda X, y: ES.gd_least_squares(X, y, 0.01, -1), "steps must be an integer >= 0; got -1"),
        (lambda X, y: ES.gd_least_squares(X, y, 0.01, 2.5), "steps must be an integer >= 0"),
        (lambda X, y: ES.gd_least_squares(X, y[:-1], 0.01, 5), "same number of rows"),
        (lambda X, y: ES.gd_least_squares(X, y, 0.01, 5, w0=np.ones(2)), "w0 must have length 6"),
        (lambda X, y: ES.gd_least_squares(np.where(X > 1, np.nan, X), y, 0.01, 5), "X must contain only finite"),
        (lambda X, y: ES.gd_closed_form(X, y, 0.01, -2), "steps must be an integer >= 0"),
        (lambda X, y: ES.gd_path(X, y, 0.01, [1, -3]), "steps must be non-negative integers"),
        (lambda X, y: ES.gd_path(X, y, 0.01, [1.5]), "steps must be non-negative integers"),
        (lambda X, y: ES.gd_filter([0.1, -1.0], 0.1, 3), r"s must be >= 0"),
        (lambda X, y: ES.gd_filter([0.1, np.nan], 0.1, 3), "s must contain only finite"),
        (lambda X, y: ES.gd_filter([0.1], 0.0, 3), "lr must be > 0"),
        (lambda X, y: ES.ridge_filter([0.1], -1.0), "lam must be finite and >= 0"),
        (lambda X, y: ES.gradient_flow_filter([0.1], -1.0), "t must be finite and >= 0"),
        (lambda X, y: ES.gd_ridge_lambda(0.1, -1), "steps must be an integer >= 0"),
        (lambda X, y: ES.gd_risk(X, np.ones(6), -1.0, 0.01, [3]), "sigma must be >= 0"),
        (lambda X, y: ES.gd_risk(X, np.ones(5), 1.0, 0.01, [3]), "beta must have length 6"),
        (lambda X, y: ES.gd_risk(X, np.ones(6), 1.0, 0.01, [3], target="test"), "target must be one of"),
        (lambda X, y: ES.gd_risk(X, np.ones(6), 1.0, 0.01, [-3]), "steps must be non-negative integers"),
        (lambda X, y: ES.gradient_flow_risk(X, np.ones(6), 1.0, [np.inf]), "times must be"),
        (lambda X, y: ES.gradient_flow_risk(X, np.ones(6), 1.0, [1.0], target="x"), "target must be one of"),
        (lambda X, y: ES.gd_variance_ratio(0.0, 3), "lr_s must be finite and > 0"),
        (lambda X, y: ES.gd_variance_ratio(0.1, 0), "steps must be >= 1"),
        (lambda X, y: ES.max_stable_lr(np.ones(3)), "X must be a 2-D array"),
    ],
)
def test_numerical_functions_reject_bad_inputs(call, match):
    X, y, _ = _problem()
    with pytest.raises(ValueError, match=match):
        call(X, y)


def test_risks_return_the_one_risk_curve_with_their_path_as_grid():
    X, _, w_star = _problem(n=20, p=4, seed=7)
    lr = 0.5 * ES.max_stable_lr(X)
    gd = ES.gd_risk(X, w_star, 0.5, lr, [0, 3, 30])
    flow = ES.gradient_flow_risk(X, w_star, 0.5, [0.0, 1.0, 10.0], target="fit")
    for curve in (gd, flow):
        assert type(curve) is RiskCurve
    np.testing.assert_array_equal(gd.grid, [0, 3, 30])
    assert gd.target == "coef" and flow.target == "fit"
    assert gd.best == gd.grid[np.argmin(gd.mse)] and isinstance(gd.best, int)
    np.testing.assert_array_equal(flow.grid, [0.0, 1.0, 10.0])
    # t = 0 is w = 0: all bias, the squared norm of w_star (coef) or of X w_star / sqrt(n) (fit)
    assert gd.bias2[0] == pytest.approx(w_star @ w_star) and gd.variance[0] == 0.0
    assert flow.mse[0] == pytest.approx(np.sum((X @ w_star) ** 2) / X.shape[0])


@pytest.mark.parametrize("kind, target", [("estimation", "coef"), ("prediction", "fit")])
def test_deprecated_kind_and_w_star_keywords_still_work(kind, target):
    X, _, w_star = _problem(n=20, p=4, seed=8)
    lr = 0.5 * ES.max_stable_lr(X)
    expected = ES.gd_risk(X, w_star, 0.7, lr, [5], target=target)
    with pytest.warns(DeprecationWarning, match="keyword kind of gd_risk is deprecated; use target"):
        old = ES.gd_risk(X, w_star, 0.7, lr, [5], kind=kind)
    assert old.target == target
    np.testing.assert_array_equal(old.mse, expected.mse)
    with pytest.warns(DeprecationWarning, match="keyword w_star of gradient_flow_risk is deprecated; use beta"):
        flow = ES.gradient_flow_risk(X, w_star=w_star, sigma=0.7, times=[2.0])
    np.testing.assert_array_equal(flow.mse, ES.gradient_flow_risk(X, w_star, 0.7, [2.0]).mse)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="kind must be one of"):
        ES.gd_risk(X, w_star, 0.7, lr, [5], kind="test")
    with pytest.raises(ValueError, match="give target or the deprecated kind, not both"):
        ES.gd_risk(X, w_star, 0.7, lr, [5], kind=kind, target=target)
    with pytest.raises(TypeError, match="both beta and its deprecated name w_star"):
        ES.gradient_flow_risk(X, beta=w_star, w_star=w_star, sigma=0.7, times=[2.0])


def test_old_risk_curve_total_is_a_deprecated_alias_of_mse():
    X, _, w_star = _problem(n=20, p=4, seed=9)
    curve = ES.gradient_flow_risk(X, w_star, 1.0, [0.5, 5.0])
    with pytest.warns(DeprecationWarning, match=r"RiskCurve\.total is deprecated; use RiskCurve\.mse"):
        total = curve.total
    np.testing.assert_array_equal(total, curve.mse)


@pytest.mark.parametrize(
    "name, new",
    [
        ("RiskCurve", "weightdecay.bias_variance.RiskCurve"),
        ("ridge_risk", "weightdecay.bias_variance.ridge_risk"),
    ],
)
def test_risk_curve_and_ridge_risk_moved_to_bias_variance(name, new):
    import importlib

    module, _, attribute = new.rpartition(".")
    with pytest.warns(DeprecationWarning, match=rf"weightdecay\.early_stopping\.{name} moved to {new};") as rec:
        old = getattr(ES, name)
    assert old is getattr(importlib.import_module(module), attribute)
    assert name not in ES.__all__
    assert rec[0].filename == __file__  # the warning points at the caller


def test_old_ridge_risk_calls_keep_working_through_the_alias():
    X, _, w_star = _problem(n=20, p=4, seed=10)
    with pytest.warns(DeprecationWarning):
        old_ridge_risk = ES.ridge_risk
    with pytest.warns(DeprecationWarning, match="keyword kind of ridge_risk"):
        old = old_ridge_risk(X, w_star, 1.0, [0.1, 1.0], kind="prediction")
    np.testing.assert_array_equal(old.mse, ridge_risk(X, w_star, 1.0, [0.1, 1.0], target="fit").mse)


def test_equivalent_ridge_lambda_was_renamed_gd_ridge_lambda():
    with pytest.warns(
        DeprecationWarning,
        match=r"weightdecay\.early_stopping\.equivalent_ridge_lambda was renamed weightdecay\.early_stopping\.gd_ridge_lambda",
    ) as rec:
        old = ES.equivalent_ridge_lambda
    assert old is ES.gd_ridge_lambda
    assert rec[0].filename == __file__
    assert "equivalent_ridge_lambda" not in ES.__all__


# ---------------------------------------------------------------------------
# The callback and its simulation
# ---------------------------------------------------------------------------
class _FakeModel:
    """Stands in for a module: state_dict is a dict holding a list we can mutate."""

    def __init__(self):
        self.state = {"w": [0]}

    def state_dict(self):
        return self.state

    def load_state_dict(self, state):
        self.state = state


def _feed(stopper, values, model=None):
    model = model or _FakeModel()
    stopper.on_epoch_begin(1, model)
    for epoch, value in enumerate(values, start=1):
        model.state["w"][0] = epoch  # mutate in place: a shallow copy would see the change
        if stopper.on_epoch_end(epoch, model, {"val_loss": value, "val_acc": -value}):
            break
    history = {}
    stopper.on_train_end(model, history)
    return model, history


def test_early_stopping_stops_after_patience_and_restores_a_deep_copy():
    values = [1.0, 0.8, 0.7, 0.75, 0.71, 0.72, 0.69, 0.9, 0.9, 0.9, 0.9, 0.1]
    stopper = ES.EarlyStopping(patience=4)
    model, history = _feed(stopper, values)
    assert (stopper.best_epoch, stopper.stopped_epoch) == (7, 11)
    assert stopper.best_value == 0.69 and history["best_epoch"] == 7
    assert model.state["w"] == [7]  # the weights of epoch 7, not those of epoch 10
    assert ES.simulate_early_stopping(values, 4) == (7, 11)
    assert ES.simulate_early_stopping(values, 3) == (3, 6)  # less patience: stops at the first plateau


def test_min_delta_mode_max_and_no_restore():
    values = [1.0, 0.8, 0.79, 0.78, 0.77, 0.5]
    stopper = ES.EarlyStopping(patience=2, min_delta=0.05)
    _feed(stopper, values)
    assert (stopper.best_epoch, stopper.stopped_epoch) == (2, 4)  # 0.79 and 0.78 are not 0.05 better
    by_acc = ES.EarlyStopping(patience=2, monitor="val_loss", mode="max", restore_best=False)
    model, _ = _feed(by_acc, values)
    assert (by_acc.best_epoch, by_acc.stopped_epoch) == (1, 3) and model.state["w"] == [3]
    never = ES.EarlyStopping(patience=20)
    _feed(never, values)
    assert never.stopped_epoch is None and never.best_epoch == 6
    assert ES.simulate_early_stopping(values, 20) == (6, 6)
    nan_stopper = ES.EarlyStopping(patience=2)
    _feed(nan_stopper, [1.0, float("nan"), float("nan"), 0.5])
    assert (nan_stopper.best_epoch, nan_stopper.stopped_epoch) == (1, 3)


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.floats(0, 5), min_size=1, max_size=40), patience=st.integers(1, 8),
       min_delta=st.sampled_from([0.0, 0.01, 0.3]))
def test_simulation_equals_the_textbook_rule(values, patience, min_delta):
    best, stop = ES.simulate_early_stopping(values, patience, min_delta)
    # reference: restart the count at each improvement, stop when it reaches `patience`
    best_value, best_epoch, stopped = math.inf, None, len(values)
    for epoch, v in enumerate(values, start=1):
        if v < best_value - min_delta:
            best_value, best_epoch = v, epoch
        elif epoch - best_epoch >= patience:
            stopped = epoch
            break
    assert (best, stop) == (best_epoch, stopped)
    assert best <= stop
    if min_delta == 0:
        assert values[best - 1] == min(values[:stop])  # the restored epoch is the best one seen


def test_patience_needed_is_the_longest_plateau_before_the_minimum():
    values = [1.0, 0.8, 0.7, 0.75, 0.71, 0.72, 0.69, 0.9, 0.9, 0.9, 0.9, 0.1]
    # improvements at epochs 1, 2, 3, 7, 12: the longest wait is 12 - 7 = 5 epochs
    assert ES.patience_needed(values) == 5
    assert ES.simulate_early_stopping(values, 4)[0] == 7 and ES.simulate_early_stopping(values, 5)[0] == 12
    assert ES.patience_needed([3.0, 2.0, 1.0]) == 1
    with pytest.raises(ValueError, match="no patience restores epoch 2"):
        ES.patience_needed([1.0, 0.99], min_delta=0.1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patience": 0}, "patience must be an integer >= 1; got 0"),
        ({"patience": 2.5}, "patience must be an integer >= 1"),
        ({"patience": 3, "min_delta": -0.1}, "min_delta must be >= 0"),
        ({"patience": 3, "min_delta": float("nan")}, "min_delta must be finite"),
        ({"patience": 3, "mode": "lowest"}, "mode must be one of"),
        ({"patience": 3, "monitor": ""}, "monitor must be the name"),
        ({"patience": 3, "restore_best": "yes"}, "restore_best must be True or False"),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ES.EarlyStopping(**kwargs)


def test_missing_metric_and_bad_curves_are_reported():
    with pytest.raises(ValueError, match=r"monitor must be one of the logged metrics \['train_loss'\]"):
        ES.EarlyStopping(2).on_epoch_end(1, _FakeModel(), {"train_loss": 1.0})
    with pytest.raises(ValueError, match="values must contain only finite"):
        ES.simulate_early_stopping([1.0, np.nan], 2)
    with pytest.raises(ValueError, match="values must be a 1-D array"):
        ES.simulate_early_stopping(np.ones((2, 2)), 2)


# ---------------------------------------------------------------------------
# With torch: the callback inside `train`, and the experiment
# ---------------------------------------------------------------------------
torch = pytest.importorskip("torch")


def test_callback_in_train_restores_the_best_state_dict():
    from weightdecay.training import evaluate, mlp, train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    y_noisy = np.where(rng.random(120) < 0.4, 1 - y, y)  # noisy labels: validation loss turns up
    torch.manual_seed(0)
    model = mlp(5, [64, 64], 2)
    val = (X[80:], y_noisy[80:])
    snapshots = {}

    class Snapshot:
        def on_epoch_end(self, epoch, model, logs):
            snapshots[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
            return False

    stopper = ES.EarlyStopping(patience=3)
    history = train(model, (X[:80], y_noisy[:80]), optimizer=torch.optim.Adam(model.parameters(), lr=0.02),
                    epochs=200, batch_size=16, val_data=val, callbacks=[Snapshot(), stopper], seed=0)
    best = int(np.argmin(history["val_loss"])) + 1
    assert history["stopped_epoch"] == stopper.stopped_epoch == len(history["val_loss"]) < 200
    assert history["best_epoch"] == stopper.best_epoch == best
    assert stopper.stopped_epoch - best == 3
    for key, value in model.state_dict().items():
        assert torch.equal(value, snapshots[best][key])  # restored, not the last weights
    assert evaluate(model, val)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-6)


def test_numerical_part_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from weightdecay import early_stopping as E; "
            "E.gd_path(np.eye(3), np.ones(3), 0.5, [3]); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_early_stopping_infers_the_direction_from_the_metric_or_refuses_to_guess():
    assert ES.EarlyStopping(patience=2).mode == "min"
    assert ES.EarlyStopping(patience=2, monitor="val_acc").mode == "max"
    assert ES.EarlyStopping(patience=2, monitor="train_loss").mode == "min"
    assert ES.EarlyStopping(patience=2, monitor="val_acc", mode="min").mode == "min"  # explicit wins
    for unclear in ("val_f1", "acc_per_loss"):
        with pytest.raises(ValueError, match="mode='min'"):
            ES.EarlyStopping(patience=2, monitor=unclear)


def test_early_stopping_on_accuracy_keeps_the_best_epoch_without_a_mode():
    import torch

    model = torch.nn.Linear(1, 1)
    stopper = ES.EarlyStopping(patience=2, monitor="val_acc")
    history = {"val_acc": []}
    for epoch, acc in enumerate([0.5, 0.7, 0.9, 0.8, 0.85, 0.6], start=1):
        history["val_acc"].append(acc)
        with torch.no_grad():
            model.weight.fill_(epoch)
        if stopper.on_epoch_end(epoch, model, {"val_acc": acc}):
            break
    assert stopper.best_epoch == 3 and stopper.stopped_epoch == 5


@pytest.mark.parametrize("name", ["EarlyStoppingRuns", "mnist1d_early_stopping_experiment"])
def test_moved_names_still_work_with_a_deprecation_warning(name):
    from weightdecay.experiments import early_stopping as ex

    message = rf"weightdecay\.early_stopping\.{name} moved to weightdecay\.experiments\.early_stopping\.{name}"
    with pytest.warns(DeprecationWarning, match=message):
        old = getattr(ES, name)
    assert old is getattr(ex, name)
    assert name not in ES.__all__
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        ES.no_such_name  # noqa: B018
