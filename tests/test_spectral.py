"""Tests of weightdecay._spectral, the one spectral core of the package's exact risks."""

from __future__ import annotations

import numpy as np
import pytest

from weightdecay import _spectral as sp
from weightdecay import bias_variance as bv
from weightdecay import early_stopping as es
from weightdecay.linear import ridge_df, ridge_path


def _rank_deficient(n=12, p=7, rank=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, p))


@pytest.mark.parametrize("shape, rank", [((12, 7), 4), ((5, 9), 3), ((20, 6), 6)])
def test_thin_svd_keeps_exactly_the_rank_of_x(shape, rank):
    X = _rank_deficient(*shape, rank)
    U, d, Vt = sp.thin_svd(X)
    assert d.size == rank == np.linalg.matrix_rank(X)
    assert U.shape == (shape[0], rank) and Vt.shape == (rank, shape[1])
    np.testing.assert_allclose(U * d @ Vt, X, atol=1e-12 * np.abs(X).max())
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(rank), atol=1e-12)
    # the values-only routine applies the same cut
    np.testing.assert_allclose(sp.thin_svd(X, compute_uv=False), d, rtol=1e-12)
    # the cut: the largest dropped value is rounding noise, the smallest kept one is not
    full = np.linalg.svd(X, compute_uv=False)
    tolerance = full.max() * max(shape) * np.finfo(float).eps
    assert np.all(full[rank:] <= tolerance) and d.min() > 1e6 * tolerance


def test_thin_svd_of_a_zero_matrix_is_empty():
    U, d, Vt = sp.thin_svd(np.zeros((4, 3)))
    assert d.size == 0 and U.shape == (4, 0) and Vt.shape == (0, 3)


def test_every_module_uses_the_core_rank_cut():
    """ridge, ridge_df and the risks all see the rank of the core on a rank-deficient design."""
    X = _rank_deficient()
    y = np.random.default_rng(1).normal(size=X.shape[0])
    assert ridge_df(X, [0.0])[0] == pytest.approx(4.0)
    np.testing.assert_allclose(ridge_path(X - X.mean(axis=0), y - y.mean(), [0.0])[1][0],
                               np.linalg.pinv(X - X.mean(axis=0)) @ (y - y.mean()), atol=1e-10)
    assert bv.ridge_variance_by_direction(X, 1.0, [0.0]).shape == (1, 4)


def test_row_space_coordinates():
    X = _rank_deficient(seed=2)
    _, _, Vt = sp.thin_svd(X)
    beta = np.random.default_rng(3).normal(size=X.shape[1])
    b2, outside = sp.row_space_coordinates(Vt, beta)
    P = np.linalg.pinv(X) @ X
    np.testing.assert_allclose(b2.sum(), beta @ P @ beta, rtol=1e-12)
    assert outside == pytest.approx(np.sum((beta - P @ beta) ** 2), rel=1e-10)
    assert b2.sum() + outside == pytest.approx(beta @ beta, rel=1e-12)


def _filter_operators(X, h):
    """A = V diag(h_j / d_j) U^T, one matrix per row of the filters h."""
    U, d, Vt = sp.thin_svd(X)
    return np.stack([(Vt.T * (row / d)) @ U.T for row in h])


@pytest.mark.parametrize("target", sp.TARGETS)
@pytest.mark.parametrize("shape", [(15, 6), (6, 11)])
def test_filter_risk_equals_the_linear_estimator_risk(target, shape):
    rng = np.random.default_rng(4)
    X = _rank_deficient(*shape, rank=min(shape) - 1, seed=5)
    beta, sigma, n = rng.normal(size=shape[1]), 0.8, shape[0]
    _, d, Vt = sp.thin_svd(X)
    h = rng.uniform(-0.5, 1.5, size=(5, d.size))  # any filter, not only shrinkage
    b2, outside = sp.row_space_coordinates(Vt, beta)
    bias2, variance = sp.filter_risk(d, n, sigma, h, b2, outside, target=target)
    lin_bias2, lin_variance = sp.linear_estimator_risk(X, beta, sigma, _filter_operators(X, h), target=target)
    np.testing.assert_allclose(bias2, lin_bias2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(variance, lin_variance, rtol=1e-10)
    # the complement, when given, replaces 1 - h
    same = sp.filter_risk(d, n, sigma, h, b2, outside, target=target, complement=1.0 - h)
    np.testing.assert_array_equal(same[0], bias2)


@pytest.mark.parametrize("target", sp.TARGETS)
def test_filter_risk_agrees_with_monte_carlo(target):
    rng = np.random.default_rng(6)
    n, p, sigma = 25, 5, 1.5
    X, beta = rng.normal(size=(n, p)), rng.normal(size=p)
    U, d, Vt = sp.thin_svd(X)
    h = np.array([[0.2, 0.5, 0.9, 1.0, 0.3]])
    b2, outside = sp.row_space_coordinates(Vt, beta)
    bias2, variance = sp.filter_risk(d, n, sigma, h, b2, outside, target=target)
    Y = X @ beta + sigma * rng.standard_normal((4000, n))
    W = ((Y @ U) * (h[0] / d)) @ Vt  # one filter estimate per simulated data set
    errors = W - beta
    if target == "fit":
        errors = errors @ X.T / np.sqrt(n)
    sq = np.sum(errors**2, axis=1)
    assert abs(sq.mean() - (bias2[0] + variance[0])) < 4 * sq.std(ddof=1) / np.sqrt(sq.size)


@pytest.mark.parametrize("target", sp.TARGETS)
@pytest.mark.parametrize("shape", [(30, 6), (8, 15)])
def test_ridge_risk_through_the_core_equals_the_old_closed_form(target, shape):
    """The formula bias_variance.ridge_risk had before the core, written out: equal to 1e-12."""
    rng = np.random.default_rng(7)
    X, beta, sigma = rng.normal(size=shape), rng.normal(size=shape[1]), 0.9
    n = shape[0]
    lams = np.array([0.0, 1e-3, 0.1, 1.0, 10.0])
    _, d, Vt = np.linalg.svd(X, full_matrices=False)
    keep = d > d.max() * max(shape) * np.finfo(float).eps
    d, Vt = d[keep], Vt[keep]
    b, d2, s = Vt @ beta, d**2, n * lams[:, None]
    f, g = d2 / (d2 + s), s / (d2 + s)
    if target == "coef":
        bias2 = np.sum(g**2 * b**2, axis=1) + np.sum((beta - Vt.T @ b) ** 2)
        variance = np.sum(sigma**2 * f**2 / d2, axis=1)
    else:
        bias2 = np.sum(g**2 * d2 * b**2, axis=1) / n
        variance = np.sum(sigma**2 * f**2 / n, axis=1)
    curve = bv.ridge_risk(X, beta, sigma, lams, target=target)
    np.testing.assert_allclose(curve.bias2, bias2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(curve.variance, variance, rtol=1e-12)
    # and the old early_stopping formula (filter s / (s + lam), s = d^2 / n) to rounding
    s_j = d2 / n
    h = s_j / (s_j + lams[:, None])
    old_variance = sigma**2 / n * np.sum(h**2 / s_j, axis=1) if target == "coef" else sigma**2 / n * np.sum(h**2, axis=1)
    np.testing.assert_allclose(curve.variance, old_variance, rtol=1e-12)


def test_gd_and_flow_risks_are_filter_risks_of_the_core():
    rng = np.random.default_rng(8)
    X, beta = rng.normal(size=(20, 8)), rng.normal(size=8)
    n = X.shape[0]
    lr = 0.5 * es.max_stable_lr(X)
    _, d, Vt = sp.thin_svd(X)
    b2, outside = sp.row_space_coordinates(Vt, beta)
    h = es.gd_filter(d[None, :] ** 2 / n, lr, np.array([[3], [40]]))
    for target in sp.TARGETS:
        expected = sp.filter_risk(d, n, 0.5, h, b2, outside, target=target)
        curve = es.gd_risk(X, beta, 0.5, lr, [3, 40], target=target)
        np.testing.assert_array_equal(curve.bias2, expected[0])
        np.testing.assert_array_equal(curve.variance, expected[1])


def test_check_target():
    assert sp.check_target("fit") == "fit"
    with pytest.raises(ValueError, match=r"target must be one of \('coef', 'fit'\); got 'x'"):
        sp.check_target("x")


def test_full_column_rank_has_nothing_outside_the_row_space():
    # r = p: the row space is all of R^p, so the part of beta outside it is exactly 0
    # (computed as ||beta - V V^T beta||^2 it would be rounding error, not 0)
    rng = np.random.default_rng(3)
    X, beta = rng.normal(size=(40, 6)), rng.normal(size=6)
    _, _, Vt = sp.thin_svd(X)
    b2, outside = sp.row_space_coordinates(Vt, beta)
    assert outside == 0.0
    assert b2.sum() == pytest.approx(beta @ beta, rel=1e-12)
