"""wd.linear.Ridge / Lasso / ElasticNet: scikit-learn estimators at the book's lambda."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn import linear_model
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import weightdecay as wd

ESTIMATORS = [wd.linear.Ridge, wd.linear.Lasso, wd.linear.ElasticNet]


@pytest.fixture(scope="module")
def uncentred():
    """Features far from zero mean and a response with a large offset (like raw wine data)."""
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[5.0, -3.0, 20.0, 0.5, 10.0], scale=[1.0, 2.0, 5.0, 0.1, 10.0], size=(80, 5))
    y = 30.0 + X @ np.array([1.0, 0.0, -0.3, 4.0, 0.02]) + rng.normal(size=80)
    return X, y


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_passes_scikit_learns_estimator_checks(estimator):
    check_estimator(estimator())


def test_ridge_equals_scikit_learn_with_alpha_n_lam(uncentred):
    X, y = uncentred
    n, lam = len(y), 0.05
    ours = wd.linear.Ridge(lam=lam).fit(X, y)
    ref = linear_model.Ridge(alpha=n * lam).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9)


@pytest.mark.parametrize("lam", [0.01, 0.3])
def test_lasso_and_elastic_net_equal_scikit_learn_on_uncentred_data(uncentred, lam):
    X, y = uncentred
    pairs = [
        (wd.linear.Lasso(lam=lam, tol=1e-10), linear_model.Lasso(alpha=lam, tol=1e-12, max_iter=100_000)),
        (
            wd.linear.ElasticNet(lam=lam, l1_ratio=0.3, tol=1e-10),
            linear_model.ElasticNet(alpha=lam, l1_ratio=0.3, tol=1e-12, max_iter=100_000),
        ),
    ]
    for ours, ref in pairs:
        ours.fit(X, y)
        ref.fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-5)
        assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-8)


def test_the_intercept_matters_on_uncentred_data(uncentred):
    X, y = uncentred
    with_b = wd.linear.Lasso(lam=0.05).fit(X, y)
    without = wd.linear.Lasso(lam=0.05, fit_intercept=False).fit(X, y)
    assert without.intercept_ == 0.0
    assert with_b.score(X, y) > without.score(X, y) + 0.05
    with pytest.warns(wd.linear.UncenteredDataWarning):  # the functional lasso fits no intercept
        w_functional = wd.linear.lasso(X, y, 0.05)
    np.testing.assert_allclose(without.coef_, w_functional, atol=1e-12)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_estimators_do_not_warn_about_uncentred_data(estimator, fit_intercept, uncentred):
    # With an intercept the solver sees centred data; without, the fit through the origin is
    # asked for explicitly: the functional solvers' UncenteredDataWarning is not for them.
    X, y = uncentred
    with warnings.catch_warnings():
        warnings.simplefilter("error", wd.linear.UncenteredDataWarning)
        estimator(lam=0.05, fit_intercept=fit_intercept).fit(X, y)


def test_ridge_without_intercept_is_the_functional_ridge(uncentred):
    X, y = uncentred
    with pytest.warns(wd.linear.UncenteredDataWarning):
        w_functional = wd.linear.ridge(X, y, 0.05)
    model = wd.linear.Ridge(lam=0.05, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(model.coef_, w_functional, rtol=1e-12, atol=1e-12)
    assert model.intercept_ == 0.0


def test_pipeline_and_grid_search_over_lam(uncentred):
    X, y = uncentred
    pipe = make_pipeline(StandardScaler(), wd.linear.Lasso())
    grid = {"lasso__lam": [1e-3, 1e-2, 1e-1, 1.0, 10.0]}
    search = GridSearchCV(pipe, grid, cv=KFold(5, shuffle=True, random_state=0)).fit(X, y)
    assert search.best_params_["lasso__lam"] in (1e-3, 1e-2, 1e-1)  # 10 zeroes every coefficient
    assert search.best_score_ > 0.5
    assert search.best_estimator_.predict(X[:3]).shape == (3,)
    assert wd.linear.ElasticNet(l1_ratio=0.2).get_params()["l1_ratio"] == 0.2


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_bad_parameters_raise_a_clear_error(estimator, uncentred):
    X, y = uncentred
    with pytest.raises(ValueError, match="lam"):
        estimator(lam=-1.0).fit(X, y)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        estimator().fit(X_nan, y)
    model = estimator().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])


def test_elastic_net_rejects_l1_ratio_outside_0_1(uncentred):
    X, y = uncentred
    with pytest.raises(ValueError, match="l1_ratio"):
        wd.linear.ElasticNet(l1_ratio=1.5).fit(X, y)


def test_elastic_net_is_the_functional_elastic_net_on_centred_data(uncentred):
    X, y = uncentred
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    model = wd.linear.ElasticNet(lam=0.05, l1_ratio=0.3, tol=1e-10).fit(X, y)
    w = wd.linear.elastic_net(Xc, yc, 0.05, l1_ratio=0.3, tol=1e-10)
    np.testing.assert_allclose(model.coef_, w, atol=1e-9)
    assert model.intercept_ == pytest.approx(y.mean() - X.mean(axis=0) @ w, abs=1e-8)


def test_linear_does_not_import_scikit_learn_until_an_estimator_is_used():
    code = (
        "import sys, weightdecay.linear as l; a = 'sklearn' in sys.modules; "
        "l.Ridge; print(a, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
