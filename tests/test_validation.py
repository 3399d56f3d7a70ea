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


def test_check_nonnegative_int_accepts_zero_and_refuses_the_rest():
    assert v.check_nonnegative_int(0, "seed") == 0
    assert v.check_nonnegative_int(np.int64(7), "steps") == 7
    assert type(v.check_nonnegative_int(np.int64(7), "steps")) is int
    for bad in [-1, 1.0, "2", True, None]:
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            v.check_nonnegative_int(bad, "seed")


def test_no_caller_passes_minimum_zero():
    """Values that may be zero go through check_nonnegative_int, not check_positive_int(minimum=0)."""
    import pathlib

    import weightdecay

    root = pathlib.Path(weightdecay.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "validation.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "check_positive_int(" in line and "minimum=0" in line
    ]
    assert offenders == []


@pytest.mark.parametrize("lr", [1e-3, 0.1, 2, np.float32(0.5)])
def test_check_learning_rate_accepts_positive_finite(lr):
    out = v.check_learning_rate(lr)
    assert type(out) is float and out == float(lr)


@pytest.mark.parametrize(
    "lr, match",
    [
        (0, "lr must be > 0; got 0.0"),
        (-0.1, r"lr must be > 0; got -0.1"),
        (np.inf, "lr must be finite; got inf"),
        (np.nan, "lr must be finite; got nan"),
        (True, "lr must be a real number; got True"),
        ("0.1", "lr must be a real number; got '0.1'"),
    ],
)
def test_check_learning_rate_refuses(lr, match):
    with pytest.raises(ValueError, match=match):
        v.check_learning_rate(lr)


def test_check_learning_rate_names_the_argument():
    with pytest.raises(ValueError, match="sgd_lr must be > 0; got 0.0"):
        v.check_learning_rate(0.0, "sgd_lr")


@pytest.mark.parametrize("momentum", [0, 0.0, 0.5, 0.9, 0.999])
def test_check_momentum_accepts_half_open_interval(momentum):
    assert v.check_momentum(momentum) == float(momentum)


@pytest.mark.parametrize("momentum", [1, 1.0, 1.5, -0.1])
def test_check_momentum_refuses_one_and_outside(momentum):
    # momentum 1: the heavy ball never forgets (the velocity sums every gradient ever seen)
    with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\); got"):
        v.check_momentum(momentum)


def test_check_momentum_refuses_non_finite_and_names_the_argument():
    with pytest.raises(ValueError, match="beta must be finite"):
        v.check_momentum(np.nan, "beta")
    with pytest.raises(ValueError, match=r"mu must lie in \[0, 1\); got 1.0"):
        v.check_momentum(1, "mu")


def test_momentum_one_is_refused_by_the_optimisers():
    torch = pytest.importorskip("torch")
    from weightdecay import optim

    params = [torch.nn.Parameter(torch.zeros(2))]
    for make in (
        lambda: optim.SGDW(params, lr=0.1, momentum=1.0),
        lambda: optim.make_optimizer("SGD+L2", params, lr=0.1, momentum=1.0),
        lambda: optim.stationary_l2_coefficient("SGDW", 0.1, momentum=1.0),
        lambda: optim.equilibrium_angular_update(0.1, 0.01, momentum=1.0),
    ):
        with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\)"):
            make()


def test_moved_names_warns_at_the_caller_and_forwards():
    import math

    from weightdecay._deprecation import moved_names

    getattr_ = moved_names("pkg.old", {"root": "math.sqrt"})
    with pytest.warns(DeprecationWarning, match=r"^pkg\.old\.root moved to math\.sqrt; the old name will be removed") as rec:
        assert getattr_("root") is math.sqrt
    assert rec[0].filename == __file__
    with pytest.raises(AttributeError, match="module 'pkg.old' has no attribute 'other'"):
        getattr_("other")
    renamed = moved_names("math", {"root": "math.sqrt"}, verb="was renamed")
    with pytest.warns(DeprecationWarning, match=r"^math\.root was renamed math\.sqrt;"):
        renamed("root")
    both = moved_names("pkg.old", {"root": "math.sqrt"}, renamed={"square_root": "pkg.old.root"})
    with pytest.warns(DeprecationWarning, match=r"^pkg\.old\.root moved to math\.sqrt;") as rec:
        assert both("root") is math.sqrt
    assert rec[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"^pkg\.old\.square_root was renamed pkg\.old\.root;"):
        with pytest.raises(ModuleNotFoundError):
            both("square_root")  # pkg.old does not exist: the warning comes first


def test_moved_names_point_at_the_importing_code():
    import warnings

    import weightdecay.optim as optim_module

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optim_module.row_normalise  # noqa: B018
    assert [w.filename for w in caught] == [__file__]
