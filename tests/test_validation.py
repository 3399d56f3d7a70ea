import numpy as np
import pytest

from weightdecay import validation as v


def test_check_matrix_accepts_lists_and_returns_float64():
    X = v.check_matrix([[1, 2], [3, 4]])
    assert X.dtype == np.float64 and X.shape == (2, 2)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones(3), "X must be a 2-D array"),
        (np.ones((2, 2, 2)), "X must be a 2-D array"),
        (np.array([[1.0, np.nan]]), "X must contain only finite values; got 1 NaN"),
        (np.array([[np.inf, 1.0]]), "finite"),
        (np.ones((0, 3)), "at least 1 row"),
        ([["a", "b"]], "X must be numeric"),
    ],
)
def test_check_matrix_errors(X, match):
    with pytest.raises(ValueError, match=match):
        v.check_matrix(X)


def test_check_X_y_shape_mismatch_names_both():
    with pytest.raises(ValueError, match="X with 3 rows and y with 2"):
        v.check_X_y(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="y must be a 1-D array of length 3"):
        v.check_X_y(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="y must contain only finite"):
        v.check_X_y(np.ones((3, 2)), [1.0, np.nan, 2.0])


def test_check_vector_length():
    assert v.check_vector([1, 2, 3], "w", size=3).shape == (3,)
    with pytest.raises(ValueError, match="w must have length 4; got length 3"):
        v.check_vector([1, 2, 3], "w", size=4)


@pytest.mark.parametrize("lam", [-1e-9, -3, np.nan, np.inf, "0.1", None, [0.1], True])
def test_check_lambda_rejects(lam):
    with pytest.raises(ValueError, match="lam"):
        v.check_lambda(lam)


def test_check_lambda_accepts_numpy_scalars_and_zero():
    assert v.check_lambda(np.float32(0.5)) == 0.5
    assert v.check_lambda(0) == 0.0
    assert v.check_lambda(np.array(2.0)) == 2.0


def test_check_lambdas():
    assert v.check_lambdas(0.3).shape == (1,)
    with pytest.raises(ValueError, match="lams must all be >= 0; got minimum -1.0"):
        v.check_lambdas([1.0, -1.0])
    with pytest.raises(ValueError, match="non-empty"):
        v.check_lambdas([])
    with pytest.raises(ValueError, match="finite"):
        v.check_lambdas([1.0, np.nan])


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, np.nan])
def test_check_probability_default_is_half_open(p):
    with pytest.raises(ValueError, match=r"p must (lie in \[0, 1\)|be finite)"):
        v.check_probability(p)


def test_check_probability_options():
    assert v.check_probability(1.0, allow_one=True) == 1.0
    with pytest.raises(ValueError, match=r"q must lie in \(0, 1\]"):
        v.check_probability(0.0, "q", allow_one=True, allow_zero=False)


def test_check_positive_int_and_float():
    assert v.check_positive_int(np.int64(3), "k") == 3
    for bad in [0, 2.0, "3", True]:
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            v.check_positive_int(bad, "k")
    assert v.check_positive_float(0, "t", allow_zero=True) == 0.0
    with pytest.raises(ValueError, match="t must be > 0; got 0.0"):
        v.check_positive_float(0, "t")


def test_check_seeds_is_the_one_seed_check():
    from weightdecay.validation import check_seeds

    assert check_seeds(range(3)) == (0, 1, 2)
    assert check_seeds([5]) == (5,)
    for bad in ([], [-1], [1.5], "01", 3, [True]):
        with pytest.raises(ValueError, match="seed"):
            check_seeds(bad)
