import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Lasso, LogisticRegression

from weightdecay import overfitting as of
from weightdecay.linear import ridge, ridge_df, standardize
from weightdecay.stats import median_ci


@pytest.fixture(scope="module")
def poly():
    rng = np.random.default_rng(0)
    x, y = of.polynomial_data(20, noise=0.3, rng=rng)
    Phi, yc, _ = standardize(of.polynomial_features(x, 12), y)
    return x, y, Phi, yc


def test_polynomial_features():
    F = of.polynomial_features([2.0, -1.0], 3)
    np.testing.assert_array_equal(F, [[2, 4, 8], [-1, 1, -1]])
    with pytest.raises(ValueError, match="degree must be an integer >= 1"):
        of.polynomial_features([1.0], 0)


def test_polynomial_data_is_deterministic_given_a_seed():
    a = of.polynomial_data(5, rng=1)
    b = of.polynomial_data(5, rng=1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="noise must be >= 0"):
        of.polynomial_data(5, noise=-1)


def test_l0_is_not_a_norm_and_l1_is_not_a_count():
    w = np.array([3.0, 0.0, -0.5, 0.0, 0.01])
    assert np.count_nonzero(2 * w) == np.count_nonzero(w) != 2 * np.count_nonzero(w)
    assert np.linalg.norm(w, 1) == pytest.approx(3.51) and np.count_nonzero(w) == 3
    assert np.linalg.norm(2 * w, 1) == pytest.approx(2 * np.linalg.norm(w, 1))


def test_degrees_of_freedom_fall_and_fits_get_smoother(poly):
    x, y, Phi, yc = poly
    lams = np.logspace(-8, 1, 30)
    df = ridge_df(Phi, lams)
    assert np.all(np.diff(df) < 0) and df[0] > 10 and df[-1] < 1
    # roughness of the fitted curve: mean squared second difference on a fine grid
    grid = np.linspace(-1, 1, 300)
    preds = of.predict_ridge_polynomial(x, y, grid, 12, lams)
    roughness = np.mean(np.diff(preds, 2, axis=1) ** 2, axis=1)
    assert roughness[-1] < roughness[len(lams) // 2] < roughness[0]


def test_predictions_match_a_direct_fit(poly):
    x, y, Phi, yc = poly
    lam = 1e-3
    Phi_raw = of.polynomial_features(x, 12)
    Xs, ys, st_ = standardize(Phi_raw, y)
    w = ridge(Xs, ys, lam)
    direct = st_.transform(of.polynomial_features(np.array([0.1, 0.5]), 12)) @ w + st_.y_mean
    np.testing.assert_allclose(of.predict_ridge_polynomial(x, y, [0.1, 0.5], 12, [lam])[0], direct, rtol=1e-10)


def test_test_error_is_u_shaped_and_cv_finds_the_bottom():
    lams = np.logspace(-8, 1, 46)
    rep = of.repeated_ridge_curves(20, 12, lams, n_repeats=100, cv_folds=5, rng=1)
    med, lo, hi = median_ci(rep.test_mse)
    best = int(np.argmin(med))
    assert 0 < best < len(lams) - 1
    assert lo[0] > 3 * hi[best] and lo[-1] > 2 * hi[best]  # separated beyond the medians' uncertainty
    # cross-validation on each training set alone picks a lambda near the bottom of the U:
    # within a factor 2.5 of that set's oracle (median), far below the unpenalised fit
    ratio, _, ratio_hi = median_ci(rep.cv_test_mse / rep.oracle_test_mse)
    assert ratio_hi < 2.5
    assert np.mean(rep.cv_test_mse < rep.test_mse[:, 0]) > 0.9


def test_repeated_curves_cv_matches_single_runs_and_leaves_the_data_alone():
    lams = np.logspace(-6, 1, 15)
    plain = of.repeated_ridge_curves(15, 6, lams, n_repeats=4, n_test=50, rng=3)
    with_cv = of.repeated_ridge_curves(15, 6, lams, n_repeats=4, n_test=50, cv_folds=3, rng=3)
    np.testing.assert_array_equal(plain.test_mse, with_cv.test_mse)  # same data sets
    assert plain.cv_index is None and with_cv.cv_index.shape == (4,)
    rng = np.random.default_rng(3)
    fold_rng = rng.spawn(1)[0]
    for r in range(4):
        x, y = of.polynomial_data(15, rng=rng)
        xt, yt = of.polynomial_data(50, rng=rng)
        curve = of.ridge_polynomial_curve(x, y, xt, yt, 6, lams)
        np.testing.assert_array_equal(curve.test_mse, with_cv.test_mse[r])
        cv = of.cv_ridge_polynomial(x, y, 6, lams, k=3, rng=fold_rng)
        assert lams[with_cv.cv_index[r]] == cv.best_lam
        assert with_cv.cv_test_mse[r] == curve.test_mse[with_cv.cv_index[r]]
        assert with_cv.oracle_test_mse[r] == curve.test_mse.min()
    with pytest.raises(ValueError, match="cv_index is None"):
        plain.cv_test_mse
    with pytest.raises(ValueError, match="cv_folds must be an integer >= 2; got 1"):
        of.repeated_ridge_curves(15, 6, lams, n_repeats=2, cv_folds=1)


def test_bootstrap_best_lambda_brackets_the_minimiser():
    lams = np.logspace(-4, 0, 9)
    rng = np.random.default_rng(1)
    # curves with their minimum at lams[4] plus heavy-tailed noise
    curves = (np.log10(lams) + 2.0) ** 2 + 1.0 + rng.standard_t(3, size=(300, 9)) * 0.3
    (lam_lo, lam_hi), (mse_lo, mse_hi) = of.bootstrap_best_lambda(curves, lams, n_boot=300, rng=0)
    assert lam_lo <= lams[4] <= lam_hi and lam_lo in lams and lam_hi in lams
    assert mse_lo < np.median(curves, axis=0).min() < mse_hi
    (lam_lo1, lam_hi1), _ = of.bootstrap_best_lambda(curves[:, :5], lams[:5], n_boot=50, rng=0)
    assert lam_lo1 <= lams[4] == lam_hi1
    with pytest.raises(ValueError, match="lams must have one entry per column of test_mse"):
        of.bootstrap_best_lambda(curves, lams[:3])
    with pytest.raises(ValueError, match="n_boot must be an integer >= 1; got 0"):
        of.bootstrap_best_lambda(curves, lams, n_boot=0)


def test_penalty_equals_constraint_l2(poly):
    _, _, Phi, yc = poly
    w = ridge(Phi, yc, 1e-3)
    w_con = of.constrained_least_squares(Phi, yc, np.linalg.norm(w), "l2", steps=200_000, tol=1e-15)
    np.testing.assert_allclose(w_con, w, atol=1e-6)


def test_penalty_equals_constraint_l1(poly):
    _, _, Phi, yc = poly
    lam = 0.01
    w = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=1_000_000).fit(Phi, yc).coef_
    w_con = of.constrained_least_squares(Phi, yc, np.abs(w).sum(), "l1", steps=200_000, tol=1e-15)
    np.testing.assert_allclose(w_con, w, atol=1e-5)
    support = np.abs(w_con) > 1e-8
    corr = Phi.T @ (yc - Phi @ w_con) / len(yc)
    np.testing.assert_allclose(corr[support] * np.sign(w_con[support]), lam, atol=1e-4)


def test_penalty_does_not_fix_the_norm_but_projection_does(poly):
    _, _, Phi, yc = poly
    n1 = np.linalg.norm(ridge(Phi, yc, 1e-3))
    n10 = np.linalg.norm(ridge(Phi, 10 * yc, 1e-3))
    assert n10 == pytest.approx(10 * n1)
    w = of.constrained_least_squares(Phi, 10 * yc, 1.0, "l2", steps=5000)
    assert np.linalg.norm(w) <= 1 + 1e-12


def test_same_penalty_any_loss():
    """The ridge penalty on a logistic loss: scikit-learn's C = 1/(n lam) solves the book's objective."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X @ [1.0, -2.0, 0.5] + rng.normal(size=80) > 0).astype(float)
    n, lam = len(y), 0.05
    w = LogisticRegression(C=1 / (n * lam), fit_intercept=False, tol=1e-12, max_iter=10_000).fit(X, y).coef_[0]
    p = 1 / (1 + np.exp(-X @ w))
    grad = X.T @ (p - y) / n + lam * w  # gradient of mean log-loss + (lam/2)||w||^2
    np.testing.assert_allclose(grad, 0, atol=1e-7)


@settings(max_examples=50, deadline=None)
@given(
    w=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=8),
    radius=st.floats(0, 20),
)
def test_l1_projection_properties(w, radius):
    w = np.array(w)
    p = of.project_l1_ball(w, radius)
    assert np.abs(p).sum() <= radius + 1e-9
    if np.abs(w).sum() <= radius:
        np.testing.assert_array_equal(p, w)
    # optimality of a projection onto a convex set: <w - p, q - p> <= 0 for q in the ball
    q = np.zeros_like(w)
    assert (w - p) @ (q - p) <= 1e-9
    if radius > 0 and w.size:
        e = np.zeros_like(w)
        e[0] = radius
        assert (w - p) @ (e - p) <= 1e-7 * max(1, np.abs(w).sum())


def test_projection_and_constraint_errors():
    with pytest.raises(ValueError, match="radius must be >= 0"):
        of.project_l2_ball([1.0], -1)
    with pytest.raises(ValueError, match="norm must be 'l1' or 'l2'"):
        of.constrained_least_squares(np.ones((3, 2)), np.ones(3), 1.0, norm="linf")
    with pytest.raises(ValueError, match="lams must all be >= 0"):
        of.ridge_polynomial_curve([0.1, 0.2], [1, 2], [0.3], [1], 2, [-1.0])


def test_repeated_curves_progress_bar_does_not_change_the_numbers():
    kwargs = dict(n_repeats=3, n_test=40, cv_folds=3, rng=5)
    quiet = of.repeated_ridge_curves(12, 4, [1e-3, 1.0], progress=False, **kwargs)
    shown = of.repeated_ridge_curves(12, 4, [1e-3, 1.0], progress=True, **kwargs)
    np.testing.assert_array_equal(shown.train_mse, quiet.train_mse)
    np.testing.assert_array_equal(shown.test_mse, quiet.test_mse)
    np.testing.assert_array_equal(shown.cv_index, quiet.cv_index)
