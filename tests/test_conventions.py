"""Every conversion in weightdecay.conventions is checked against the library it describes."""

import numpy as np
import pytest
from sklearn.linear_model import Lasso, Ridge

from weightdecay import conventions as cv
from weightdecay.linear import ridge


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = X @ rng.normal(size=5) + 0.3 * rng.normal(size=60)
    return X, y


def test_sklearn_ridge_alpha_matches_book_lambda(problem):
    X, y = problem
    lam = 0.2
    alpha = cv.sklearn_ridge_alpha_from_lam(lam, len(y))
    w_sk = Ridge(alpha=alpha, fit_intercept=False, solver="svd").fit(X, y).coef_
    np.testing.assert_allclose(w_sk, ridge(X, y, lam), rtol=1e-10, atol=1e-12)
    assert cv.lam_from_sklearn_ridge_alpha(alpha, len(y)) == pytest.approx(lam)


def test_sklearn_lasso_alpha_is_book_lambda(problem):
    X, y = problem
    lam = 0.05
    w = Lasso(alpha=cv.sklearn_lasso_alpha_from_lam(lam), fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    # book objective's subgradient optimality at the scikit-learn solution
    corr = X.T @ (y - X @ w) / len(y)
    active = w != 0
    np.testing.assert_allclose(corr[active], lam * np.sign(w[active]), atol=1e-8)
    assert np.all(np.abs(corr[~active]) <= lam + 1e-8)


def test_keras_l2_objective_is_minimised_by_book_ridge(problem):
    """Keras: mse + c * sum(w**2).  Its gradient must vanish at ridge(lam_from_keras_l2(c))."""
    X, y = problem
    n, c = len(y), 0.03
    w = ridge(X, y, cv.lam_from_keras_l2(c))
    grad_keras = -2 / n * X.T @ (y - X @ w) + 2 * c * w
    np.testing.assert_allclose(grad_keras, 0, atol=1e-12)
    assert cv.keras_l2_from_lam(cv.lam_from_keras_l2(c)) == pytest.approx(c)


@pytest.mark.parametrize("loss", ["half_mse", "mse"])
def test_torch_sgd_weight_decay_matches_book_gradient_descent(problem, loss):
    torch = pytest.importorskip("torch")
    X, y = problem
    n, lam, lr = len(y), 0.1, 0.05
    wd_ = cv.torch_weight_decay_from_lam(lam, loss=loss)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, weight_decay=wd_)
    w_book = np.zeros(X.shape[1])
    factor = 1.0 if loss == "half_mse" else 2.0  # nn.MSELoss is twice the book's data term
    for _ in range(25):
        opt.zero_grad()
        mse = torch.mean((yt - Xt @ w) ** 2)
        (0.5 * mse if loss == "half_mse" else mse).backward()
        opt.step()
        # gradient descent on factor * [(1/2n)||y - Xw||^2 + lam/2 ||w||^2]
        w_book -= lr * factor * (-X.T @ (y - X @ w_book) / n + lam * w_book)
    np.testing.assert_allclose(w.detach().numpy(), w_book, rtol=1e-12, atol=1e-14)


def test_bad_inputs():
    with pytest.raises(ValueError, match="loss must be one of"):
        cv.lam_from_torch_weight_decay(0.1, loss="l1")
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        cv.lam_from_torch_weight_decay(-0.1)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        cv.lam_from_sklearn_ridge_alpha(1.0, 0)
    with pytest.raises(ValueError, match="alpha must be finite"):
        cv.lam_from_sklearn_lasso_alpha(np.nan)
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        cv.lam_from_keras_l2(-1.0)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        cv.sklearn_ridge_alpha_from_lam(-1.0, 10)
    with pytest.raises(ValueError, match="loss must be one of"):
        cv.keras_l2_from_lam(0.1, loss="mae")


@pytest.mark.parametrize(
    "forward, inverse, kwargs",
    [
        (cv.lam_from_torch_weight_decay, cv.torch_weight_decay_from_lam, {"loss": "mse"}),
        (cv.lam_from_torch_weight_decay, cv.torch_weight_decay_from_lam, {"loss": "half_mse"}),
        (cv.lam_from_keras_l2, cv.keras_l2_from_lam, {"loss": "mse"}),
        (cv.lam_from_keras_l2, cv.keras_l2_from_lam, {"loss": "half_mse"}),
        (cv.lam_from_sklearn_lasso_alpha, cv.sklearn_lasso_alpha_from_lam, {}),
    ],
)
def test_each_pair_of_conversions_are_inverses(forward, inverse, kwargs):
    for value in (0.0, 1e-4, 0.3, 7.0):
        assert inverse(forward(value, **kwargs), **kwargs) == pytest.approx(value, rel=1e-15)
    assert cv.sklearn_ridge_alpha_from_lam(cv.lam_from_sklearn_ridge_alpha(3.0, 7), 7) == pytest.approx(3.0)
