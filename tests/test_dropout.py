"""Tests of weightdecay.dropout: the operation, the linear-regression identity, schedules."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weightdecay import dropout as D
from weightdecay.linear import ridge, standardize

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from weightdecay.training import mlp, train  # noqa: E402


def _problem(n=40, d=5, seed=0, scales=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if scales is not None:
        X = X * np.asarray(scales, float)
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    return X, y, rng.normal(size=d)


# ---------------------------------------------------------------------------
# The operation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_training_values_are_zero_or_x_over_keep_probability(p):
    x = torch.randn(10_000, generator=torch.Generator().manual_seed(0)) + 5.0  # no zeros in x
    out = D.dropout(x, p, generator=torch.Generator().manual_seed(1))
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / (1 - p))
    assert 0 < int(kept.sum()) < x.numel()


def test_dropout_preserves_the_mean_and_has_the_binomial_variance():
    p, n = 0.3, 400_000
    x = torch.full((n,), 2.0, dtype=torch.float64)
    out = D.dropout(x, p, generator=torch.Generator().manual_seed(0))
    # E[out] = x and Var[out] = x^2 p / (1 - p): the mean is preserved, single values are not
    var = 4.0 * p / (1 - p)
    assert abs(float(out.mean()) - 2.0) < 5 * math.sqrt(var / n)
    assert float(out.var()) == pytest.approx(var, rel=0.02)
    assert float((out == 0).double().mean()) == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))


def test_mask_is_blind_to_unit_magnitude():
    # Errata A17: every unit is dropped with the same probability, however large it is.
    p, rows = 0.4, 50_000
    magnitudes = torch.tensor([1e-3, 1e-1, 1.0, 1e1, 1e3])
    x = magnitudes.repeat(rows, 1)
    dropped = (D.dropout(x, p, generator=torch.Generator().manual_seed(2)) == 0).double().mean(dim=0)
    tol = 5 * math.sqrt(p * (1 - p) / rows)
    assert torch.all((dropped - p).abs() < tol), dropped


@pytest.mark.parametrize("scaling", ["inverted", "classic"])
def test_eval_output_is_the_expectation_of_the_training_output(scaling):
    p, rows = 0.25, 200_000
    x = torch.tensor([[-3.0, 0.5, 2.0]], dtype=torch.float64)
    train_out = D.dropout(x.repeat(rows, 1), p, generator=torch.Generator().manual_seed(3), scaling=scaling)
    eval_out = D.dropout(x, p, training=False, scaling=scaling)
    expected = x if scaling == "inverted" else (1 - p) * x
    torch.testing.assert_close(eval_out, expected)
    torch.testing.assert_close(train_out.mean(dim=0, keepdim=True), eval_out, atol=0.02, rtol=0)


def test_eval_mode_is_the_identity_and_p_zero_too():
    x = torch.randn(7, 3)
    assert D.dropout(x, 0.7, training=False) is x
    torch.testing.assert_close(D.dropout(x, 0.0), x)


def test_classic_training_does_not_rescale():
    x = torch.full((1000,), 3.0)
    out = D.dropout(x, 0.5, scaling="classic", generator=torch.Generator().manual_seed(0))
    assert set(out.unique().tolist()) == {0.0, 3.0}


def test_fresh_mask_every_call_and_reproducible_with_a_generator():
    x = torch.ones(1000)
    torch.manual_seed(0)
    a, b = D.dropout(x, 0.5), D.dropout(x, 0.5)
    assert not torch.equal(a, b)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(D.dropout(x, 0.5, generator=g1), D.dropout(x, 0.5, generator=g2))


def test_output_keeps_shape_dtype_and_device_cpu():
    x = torch.randn(4, 5, 6, dtype=torch.float64)
    out = D.dropout(x, 0.5)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_mask_is_drawn_on_the_device_of_x_cuda():
    x = torch.ones(10_000, device="cuda")
    out = D.dropout(x, 0.5, generator=torch.Generator(device="cuda").manual_seed(0))
    assert out.device == x.device
    assert float((out == 0).float().mean()) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError, match="generator must be on x's device"):
        D.dropout(x, 0.5, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_statistics_agree_with_torch_functional_dropout(p):
    n = 200_000
    x = torch.rand(n, dtype=torch.float64) + 0.5
    torch.manual_seed(11)
    ours = D.dropout(x, p)
    theirs = nn.functional.dropout(x, p, training=True)
    zeros_ours, zeros_theirs = (ours == 0).double().mean(), (theirs == 0).double().mean()
    assert abs(float(zeros_ours - zeros_theirs)) < 6 * math.sqrt(2 * p * (1 - p) / n)
    # both rescale the kept entries by the same factor 1 / (1 - p)
    torch.testing.assert_close(ours[ours != 0] / x[ours != 0], torch.full_like(x[ours != 0], 1 / (1 - p)))
    torch.testing.assert_close(theirs[theirs != 0] / x[theirs != 0], torch.full_like(x[theirs != 0], 1 / (1 - p)))
    assert abs(float(ours.mean() - theirs.mean())) < 6 * math.sqrt(2 * p / (1 - p) / n) * float(x.max())
    # and the evaluation mode of both is the identity
    assert torch.equal(D.dropout(x, p, training=False), nn.functional.dropout(x, p, training=False))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.ones(3), "p": 0.5}, "x must be a torch.Tensor"),
        ({"x": torch.ones(3, dtype=torch.int64), "p": 0.5}, "x must be a floating-point tensor"),
        ({"x": torch.tensor([1.0, float("nan")]), "p": 0.5}, "x must contain only finite values"),
        ({"x": torch.ones(3), "p": 1.0}, r"p must lie in \[0, 1\); got 1.0"),
        ({"x": torch.ones(3), "p": -0.1}, r"p must lie in \[0, 1\); got -0.1"),
        ({"x": torch.ones(3), "p": float("nan")}, "p must be finite"),
        ({"x": torch.ones(3), "p": "0.5"}, "p must be a real number"),
        ({"x": torch.ones(3), "p": 0.5, "generator": np.random.default_rng(0)}, "generator must be a torch.Generator"),
        ({"x": torch.ones(3), "p": 0.5, "scaling": "keep"}, "scaling must be one of"),
    ],
)
def test_dropout_rejects_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.dropout(**kwargs)


# ---------------------------------------------------------------------------
# Linear regression
# ---------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 30),
    d=st.integers(1, 8),
    p=st.floats(0.0, 0.95),
    seed=st.integers(0, 10_000),
)
def test_enumeration_equals_closed_form(n, d, p, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d)  # unequal column norms
    y, w = rng.normal(size=n), rng.normal(size=d)
    exact = D.enumerate_dropout_loss(X, y, w, p)
    closed = D.expected_dropout_loss(X, y, w, p)
    assert exact == pytest.approx(closed, rel=1e-10, abs=1e-12)


def test_enumeration_at_p_zero_is_the_plain_loss_and_handles_16_features():
    X, y, w = _problem(n=20, d=16, seed=1)
    plain = np.sum((y - X @ w) ** 2) / (2 * len(y))
    assert D.enumerate_dropout_loss(X, y, w, 0.0) == pytest.approx(plain, rel=1e-12)
    assert D.enumerate_dropout_loss(X, y, w, 0.3) == pytest.approx(D.expected_dropout_loss(X, y, w, 0.3), rel=1e-10)


def test_monte_carlo_agrees_within_standard_errors_which_shrink_like_one_over_root_n():
    X, y, w = _problem(scales=[1, 2, 0.5, 3, 1])
    p = 0.4
    exact = D.expected_dropout_loss(X, y, w, p)
    small = D.monte_carlo_dropout_loss(X, y, w, p, 2_000, rng=0)
    large = D.monte_carlo_dropout_loss(X, y, w, p, 200_000, rng=1)
    assert large.n_samples == 200_000
    assert abs(small.mean - exact) < 4 * small.std_error
    assert abs(large.mean - exact) < 4 * large.std_error
    assert large.std_error == pytest.approx(small.std_error / 10, rel=0.1)
    assert D.monte_carlo_dropout_loss(X, y, w, p, 500, rng=3) == D.monte_carlo_dropout_loss(X, y, w, p, 500, rng=3)


def test_expected_gradient_matches_finite_differences():
    X, y, w = _problem(scales=[1, 4, 0.2, 1, 2])
    p, h = 0.3, 1e-6
    grad = D.expected_dropout_gradient(X, y, w, p)
    fd = [(D.expected_dropout_loss(X, y, w + h * e, p) - D.expected_dropout_loss(X, y, w - h * e, p)) / (2 * h)
          for e in np.eye(len(w))]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_dropout_ridge_has_zero_gradient_of_the_expected_loss(p):
    X, y, _ = _problem(n=60, d=6, scales=[1, 10, 0.1, 3, 1, 0.5])
    w_hat = D.dropout_ridge(X, y, p)
    grad = D.expected_dropout_gradient(X, y, w_hat, p)
    assert np.abs(grad).max() < 1e-10 * max(1.0, np.abs(X.T @ y).max() / len(y))
    # and it is a minimum: moving away increases the expected loss
    rng = np.random.default_rng(0)
    base = D.expected_dropout_loss(X, y, w_hat, p)
    for _ in range(5):
        assert D.expected_dropout_loss(X, y, w_hat + 1e-3 * rng.normal(size=6), p) > base


def test_dropout_ridge_equals_ridge_for_standardized_features():
    # Errata B5: dropout on a linear model is ridge with lambda = p / (1 - p).
    X_raw, y_raw, _ = _problem(n=80, d=6, scales=[1, 10, 0.1, 3, 1, 0.5])
    X, y, _ = standardize(X_raw, y_raw)
    np.testing.assert_allclose(np.sum(X**2, axis=0), len(y))
    for p in [0.0, 0.2, 0.5, 0.8]:
        np.testing.assert_allclose(D.dropout_ridge(X, y, p), ridge(X, y, p / (1 - p)), rtol=1e-10, atol=1e-12)
    assert D.dropout_ridge_lambda(0.5) == 1.0 and D.dropout_ridge_lambda(0.2) == pytest.approx(0.25)


def test_equivalent_ridge_lambda_was_renamed_dropout_ridge_lambda():
    match = r"weightdecay\.dropout\.equivalent_ridge_lambda was renamed weightdecay\.dropout\.dropout_ridge_lambda"
    with pytest.warns(DeprecationWarning, match=match) as rec:
        old = D.equivalent_ridge_lambda
    assert old is D.dropout_ridge_lambda
    assert rec[0].filename == __file__  # the warning points at the caller
    assert "equivalent_ridge_lambda" not in D.__all__


@pytest.mark.parametrize("target", ["coef", "fit"])
def test_dropout_risk_on_standardized_features_is_ridge_risk(target):
    from weightdecay.bias_variance import RiskCurve, ridge_risk

    X_raw, _, beta = _problem(n=30, d=5, seed=3, scales=[1, 5, 0.2, 2, 1])
    X, _, _ = standardize(X_raw, np.zeros(30))
    ps = np.array([0.0, 0.1, 0.5, 0.9])
    risk = D.dropout_risk(X, beta, 0.8, ps, target=target)
    assert isinstance(risk, RiskCurve) and risk.target == target
    np.testing.assert_array_equal(risk.grid, ps)
    ridge_curve = ridge_risk(X, beta, 0.8, ps / (1 - ps), target=target)
    np.testing.assert_allclose(risk.bias2, ridge_curve.bias2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(risk.variance, ridge_curve.variance, rtol=1e-9)


@pytest.mark.parametrize("target", ["coef", "fit"])
def test_dropout_risk_equals_the_closed_form_and_monte_carlo_on_raw_features(target):
    # columns of very different norms: the generalised ridge (X^T X + p/(1-p) D^2)^{-1} X^T
    X, _, beta = _problem(n=25, d=4, seed=4, scales=[0.2, 1, 5, 20])
    n, sigma, ps = X.shape[0], 1.5, [0.0, 0.3, 0.7]
    risk = D.dropout_risk(X, beta, sigma, ps, target=target)
    D2 = np.diag(np.sum(X**2, axis=0))
    for k, p in enumerate(ps):
        A = np.linalg.solve(X.T @ X + p / (1 - p) * D2, X.T)
        err = A @ X @ beta - beta
        if target == "coef":
            bias2, variance = err @ err, sigma**2 * np.sum(A**2)
        else:
            bias2, variance = np.sum((X @ err) ** 2) / n, sigma**2 * np.sum((X @ A) ** 2) / n
        assert risk.bias2[k] == pytest.approx(bias2, rel=1e-8, abs=1e-12)
        assert risk.variance[k] == pytest.approx(variance, rel=1e-8)
    # Monte Carlo with the solver itself
    rng = np.random.default_rng(5)
    sq = []
    for _ in range(3000):
        y = X @ beta + sigma * rng.standard_normal(n)
        errors = D.dropout_path(X, y, ps) - beta
        if target == "fit":
            errors = errors @ X.T / np.sqrt(n)
        sq.append(np.sum(errors**2, axis=1))
    sq = np.array(sq)
    assert np.all(np.abs(sq.mean(axis=0) - risk.mse) < 4 * sq.std(axis=0, ddof=1) / np.sqrt(len(sq)))


def test_dropout_ridge_is_a_data_dependent_ridge():
    # Errata A5: even in the linear case dropout is not weight decay: the penalty on w_j is
    # proportional to ||x_j||^2, so features with large columns are shrunk more.
    X, y, _ = _problem(n=80, d=4, scales=[0.1, 1, 10, 100])
    n, p = len(y), 0.5
    c = p / (1 - p)
    normal_eq = np.linalg.solve(X.T @ X + c * np.diag(np.sum(X**2, axis=0)), X.T @ y)
    w_hat = D.dropout_ridge(X, y, p)
    np.testing.assert_allclose(w_hat, normal_eq, rtol=1e-9)
    # no single ridge lambda reproduces it
    lams = np.logspace(-6, 6, 200)
    gaps = [np.abs(ridge(X, y, lam) - w_hat).max() for lam in lams]
    assert min(gaps) > 1e-3 * np.abs(w_hat).max()
    # the shrinkage relative to least squares is larger for the larger-norm columns
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    Xs = X / np.sqrt(np.sum(X**2, axis=0) / n)  # same model with ||x_j||^2 = n
    assert np.allclose(D.dropout_ridge(Xs, y, p), ridge(Xs, y, c))
    assert np.abs(w_hat / ols - ridge(X, y, c) / ols).max() > 0.1


def test_dropout_path_rows_equal_dropout_ridge_and_p_zero_is_least_squares():
    X, y, _ = _problem(n=50, d=5, scales=[1, 2, 3, 4, 5])
    ps = [0.0, 0.25, 0.5, 0.75]
    path = D.dropout_path(X, y, ps)
    assert path.shape == (4, 5)
    for row, p in zip(path, ps):
        np.testing.assert_allclose(row, D.dropout_ridge(X, y, p), rtol=1e-12)
    np.testing.assert_allclose(path[0], np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)
    assert np.all(np.diff(np.linalg.norm(path, axis=1)) < 0)  # more dropout, more shrinkage


def test_zero_columns_get_zero_coefficients():
    X, y, _ = _problem(n=30, d=3)
    X[:, 1] = 0.0
    w_hat = D.dropout_ridge(X, y, 0.3)
    assert w_hat[1] == 0.0 and np.all(np.isfinite(w_hat))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, y, w: D.expected_dropout_loss(X, y, w, 1.0), r"p must lie in \[0, 1\)"),
        (lambda X, y, w: D.expected_dropout_loss(X, y, w[:-1], 0.5), "w must have length 5"),
        (lambda X, y, w: D.expected_dropout_loss(X, y[:-1], w, 0.5), "same number of rows"),
        (lambda X, y, w: D.expected_dropout_loss(np.where(X > 1, np.nan, X), y, w, 0.5), "X must contain only finite"),
        (lambda X, y, w: D.expected_dropout_gradient(X, y, w, -0.5), r"p must lie in \[0, 1\)"),
        (lambda X, y, w: D.enumerate_dropout_loss(np.ones((3, 17)), np.ones(3), np.ones(17), 0.5), "at most 16 columns"),
        (lambda X, y, w: D.monte_carlo_dropout_loss(X, y, w, 0.5, 1), "n_samples must be an integer >= 2"),
        (lambda X, y, w: D.dropout_ridge(X, y, 1.5), r"p must lie in \[0, 1\)"),
        (lambda X, y, w: D.dropout_ridge(X[:, 0], y, 0.5), "X must be a 2-D array"),
        (lambda X, y, w: D.dropout_path(X, y, [0.1, 1.0]), r"ps\[1\] must lie in \[0, 1\)"),
        (lambda X, y, w: D.dropout_path(X, y, []), "ps must be a non-empty"),
        (lambda X, y, w: D.dropout_path(X, y, ["a"]), "ps must be a sequence"),
        (lambda X, y, w: D.dropout_ridge_lambda(1), r"p must lie in \[0, 1\); got 1.0"),
        (lambda X, y, w: D.dropout_risk(X, w, 1.0, [0.1, 1.0]), r"ps\[1\] must lie in \[0, 1\)"),
        (lambda X, y, w: D.dropout_risk(X, w[:2], 1.0, [0.1]), "beta must have length 5"),
        (lambda X, y, w: D.dropout_risk(X, w, -1.0, [0.1]), "sigma must be >= 0"),
        (lambda X, y, w: D.dropout_risk(X, w, 1.0, [0.1], target="x"), "target must be one of"),
    ],
)
def test_linear_functions_reject_bad_inputs(call, match):
    X, y, w = _problem()
    with pytest.raises(ValueError, match=match):
        call(X, y, w)


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------
def test_set_dropout_sets_every_dropout_module():
    model = nn.Sequential(mlp(4, [8, 8], 2, dropout=0.1), nn.Dropout2d(0.2))
    assert D.set_dropout(model, 0.6) == 3
    assert [m.p for m in model.modules() if isinstance(m, (nn.Dropout, nn.Dropout2d))] == [0.6] * 3
    with pytest.raises(ValueError, match="model has no dropout modules"):
        D.set_dropout(mlp(4, [8], 2), 0.5)
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        D.set_dropout("model", 0.5)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        D.set_dropout(model, 1.0)


def test_remove_dropout_keeps_the_parameters_and_the_eval_function():
    # Errata A19: dropout adds no parameters and changes no connection; in evaluation mode
    # the trained network is the plain network with the same weights.
    torch.manual_seed(0)
    model = mlp(6, [16, 16], 3, dropout=0.5)
    plain = D.remove_dropout(model)
    assert not any(isinstance(m, nn.Dropout) for m in plain.modules())
    assert any(isinstance(m, nn.Dropout) for m in model.modules())  # the original is untouched
    assert [p.shape for p in model.parameters()] == [p.shape for p in plain.parameters()]
    for a, b in zip(model.parameters(), plain.parameters()):
        assert torch.equal(a, b)
    x = torch.randn(32, 6)
    model.eval(), plain.eval()
    assert torch.equal(model(x), plain(x))
    model.train()
    assert not torch.equal(model(x), plain(x))  # in training mode the masks make the difference


def test_mc_average_converges_to_eval_output_for_a_linear_model():
    # Errata A18: evaluation mode = the average over thinned networks; exact when the network
    # is linear in the dropped units.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(5, 2))
    X = np.random.default_rng(0).normal(size=(20, 5))
    state = torch.random.get_rng_state()
    mc = D.mc_dropout_predict(model, X, 4000, seed=1)
    assert torch.equal(state, torch.random.get_rng_state())  # global generator untouched
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        exact = model(torch.as_tensor(X, dtype=torch.float32)).numpy()
    assert np.abs(mc - exact).max() < 0.1
    np.testing.assert_array_equal(mc, D.mc_dropout_predict(model, X, 4000, seed=1))
    assert not model.training
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        D.mc_dropout_predict(model, X, 0)


def test_schedule_rates_for_constant_early_and_late_dropout():
    assert [D.DropoutSchedule(0.3).rate(e) for e in (1, 5, 100)] == [0.3, 0.3, 0.3]
    early = D.DropoutSchedule(0.1, stop_epoch=3)
    assert [early.rate(e) for e in range(1, 6)] == [0.1, 0.1, 0.0, 0.0, 0.0]
    late = D.DropoutSchedule(0.1, start_epoch=3)
    assert [late.rate(e) for e in range(1, 6)] == [0.0, 0.0, 0.1, 0.1, 0.1]
    window = D.DropoutSchedule(0.2, start_epoch=2, stop_epoch=4)
    assert [window.rate(e) for e in range(1, 6)] == [0.0, 0.2, 0.2, 0.0, 0.0]
    assert early.label == "early dropout p=0.1 (epochs < 3)" and late.label == "late dropout p=0.1 (epochs >= 3)"
    assert D.DropoutSchedule(0.0).label == "no dropout"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"p": 1.0}, r"p must lie in \[0, 1\)"),
        ({"p": 0.1, "start_epoch": 0}, "start_epoch must be an integer >= 1"),
        ({"p": 0.1, "stop_epoch": 2.5}, "stop_epoch must be an integer >= 1"),
        ({"p": 0.1, "start_epoch": 5, "stop_epoch": 5}, "stop_epoch must be > start_epoch"),
    ],
)
def test_schedule_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.DropoutSchedule(**kwargs)


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, 5)).astype(np.float32) + 2 * np.eye(3, 5, dtype=np.float32)[y]
    return X, y


class _Spy:
    def __init__(self):
        self.seen = []

    def on_epoch_end(self, epoch, model, logs):
        self.seen.append([m.p for m in model.modules() if isinstance(m, nn.Dropout)])
        return False


def _train_with(callbacks, epochs=4):
    torch.manual_seed(0)
    model = mlp(5, [16, 16], 3, dropout=0.5)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    return train(model, _blobs(), optimizer=opt, epochs=epochs, batch_size=32, callbacks=callbacks, seed=0)


def test_schedule_switches_the_model_dropout_during_training():
    spy = _Spy()
    hist = _train_with([D.DropoutSchedule(0.5, stop_epoch=3), spy])
    assert hist["dropout_p"] == [0.5, 0.5, 0.0, 0.0]
    assert spy.seen == [[0.5, 0.5], [0.5, 0.5], [0.0, 0.0], [0.0, 0.0]]


def test_late_dropout_that_never_starts_equals_training_without_dropout():
    off = _train_with([D.DropoutSchedule(0.5, start_epoch=10)])
    torch.manual_seed(0)
    plain = mlp(5, [16, 16], 3)
    hist = train(plain, _blobs(), optimizer=torch.optim.SGD(plain.parameters(), lr=0.1), epochs=4, batch_size=32, seed=0)
    assert off["train_loss"] == hist["train_loss"]
    on = _train_with([D.DropoutSchedule(0.5)])
    assert on["train_loss"] != hist["train_loss"]


def test_sgd_with_dropout_on_the_inputs_finds_the_dropout_ridge_solution():
    X_raw, y_raw, _ = _problem(n=200, d=3, seed=4, scales=[1, 5, 0.2])
    X, y, _ = standardize(X_raw, y_raw)
    p = 0.5
    w_sgd = D.fit_linear_dropout(X, y, p, epochs=150, lr=0.05, batch_size=50, seed=0)
    w_dropout, w_ols = D.dropout_ridge(X, y, p), D.dropout_ridge(X, y, 0.0)
    assert np.linalg.norm(w_sgd - w_dropout) < 0.05 * np.linalg.norm(w_dropout)
    assert np.linalg.norm(w_sgd - w_ols) > 0.3 * np.linalg.norm(w_dropout)
    with pytest.raises(ValueError, match="lr must be > 0"):
        D.fit_linear_dropout(X, y, p, lr=0.0)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        D.fit_linear_dropout(X, y, 1.0)


def test_linear_part_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np; from weightdecay import dropout as D; "
        "X = np.eye(3); D.dropout_ridge(X, np.ones(3), 0.5); D.enumerate_dropout_loss(X, np.ones(3), np.ones(3), 0.5); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_input_noise_is_ridge_with_lambda_sigma_squared():
    """B6: Gaussian input noise (data augmentation) adds (σ²/2)‖w‖² to the expected loss —
    checked by Monte Carlo, and its minimiser is ridge with λ = σ² (zero gradient)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.standard_normal(30)
    w = rng.standard_normal(4)
    sigma = 0.7
    closed = D.expected_input_noise_loss(X, y, w, sigma)
    mc = D.monte_carlo_input_noise_loss(X, y, w, sigma, n_samples=20_000, rng=5)
    assert abs(mc.mean - closed) < 4 * mc.std_error
    noiseless = D.expected_input_noise_loss(X, y, w, 0.0)
    assert closed - noiseless == pytest.approx(sigma**2 / 2 * np.sum(w**2))
    # minimiser: gradient of the closed form vanishes at ridge(X, y, σ²)
    w_star = ridge(X, y, sigma**2)
    grad = -X.T @ (y - X @ w_star) / X.shape[0] + sigma**2 * w_star
    np.testing.assert_allclose(grad, 0, atol=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        D.expected_input_noise_loss(X, y, w, -0.1)
    with pytest.raises(ValueError, match="w"):
        D.monte_carlo_input_noise_loss(X, y, w[:3], sigma, n_samples=10)


def test_fit_linear_dropout_seeds_runs_fit_linear_dropout_once_per_seed():
    X_raw, y_raw, _ = _problem(n=60, d=3, seed=5)
    X, y, _ = standardize(X_raw, y_raw)
    kwargs = dict(epochs=4, lr=0.05, batch_size=20)
    W = D.fit_linear_dropout_seeds(X, y, 0.3, (0, 1), **kwargs)
    assert W.shape == (2, 3)
    np.testing.assert_array_equal(W[1], D.fit_linear_dropout(X, y, 0.3, seed=1, **kwargs))
    assert not np.array_equal(W[0], W[1])
    with pytest.raises(ValueError, match="seeds must contain at least one seed"):
        D.fit_linear_dropout_seeds(X, y, 0.3, ())
    with pytest.raises(ValueError, match="seeds must be a sequence"):
        D.fit_linear_dropout_seeds(X, y, 0.3, 3)


def test_mc_dropout_predict_follows_a_float64_model():
    torch.manual_seed(0)
    model = mlp(3, [8], 2, dropout=0.5).double()
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    out = D.mc_dropout_predict(model, X, 50, seed=0)
    assert out.dtype == np.float64 and out.shape == (5, 2)


def test_progress_bars_show_but_do_not_change_the_numbers(capsys):
    X_raw, y_raw, _ = _problem(n=60, d=3, seed=6)
    X, y, _ = standardize(X_raw, y_raw)
    fit = dict(epochs=3, lr=0.05, batch_size=20)
    W_on = D.fit_linear_dropout_seeds(X, y, 0.3, (0, 1), progress=True, **fit)
    assert "seeds" in capsys.readouterr().err
    W_off = D.fit_linear_dropout_seeds(X, y, 0.3, (0, 1), progress=False, **fit)
    np.testing.assert_array_equal(W_on, W_off)
    w_on = D.fit_linear_dropout(X, y, 0.3, seed=1, progress=True, **fit)
    assert "epochs" in capsys.readouterr().err
    np.testing.assert_array_equal(w_on, D.fit_linear_dropout(X, y, 0.3, seed=1, progress=False, **fit))
    np.testing.assert_array_equal(w_on, W_off[1])


@pytest.mark.parametrize(
    "name, new",
    [
        ("CURVE_KEYS", "weightdecay.experiments.grid"),
        ("SeedComparison", "weightdecay.experiments.grid"),
        ("SeedCurves", "weightdecay.experiments.grid"),
        ("DropoutCurves", "weightdecay.experiments.dropout"),
        ("mnist1d_dropout_experiment", "weightdecay.experiments.dropout"),
    ],
)
def test_moved_names_still_work_with_a_deprecation_warning(name, new):
    import importlib

    with pytest.warns(DeprecationWarning, match=rf"weightdecay\.dropout\.{name} moved to {new}\.{name}"):
        old = getattr(D, name)
    assert old is getattr(importlib.import_module(new), name)
    assert name not in D.__all__
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        D.no_such_name  # noqa: B018
