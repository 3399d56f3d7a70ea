import numpy as np
import pytest

from weightdecay import data


@pytest.fixture(scope="module")
def small():
    return data.mnist1d(600, seed=3)


def test_mnist1d_shapes_and_splits(small):
    assert small.X_train.shape == (360, 40) and small.X_val.shape == (120, 40) and small.X_test.shape == (120, 40)
    assert small.X_train.dtype == np.float32 and small.y_train.dtype == np.int64
    assert set(np.unique(np.concatenate([small.y_train, small.y_val, small.y_test]))) == set(range(10))
    # the three splits are disjoint: no row appears twice
    rows = np.concatenate([small.X_train, small.X_val, small.X_test])
    assert len(np.unique(rows, axis=0)) == len(rows)


def test_mnist1d_is_deterministic_and_leaves_global_state_alone(small):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    again = data.mnist1d(600, seed=3)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(again.X_train, small.X_train)
    np.testing.assert_array_equal(again.y_test, small.y_test)
    other = data.mnist1d(600, seed=4)
    assert not np.array_equal(other.X_train, small.X_train)


def test_label_noise_touches_train_and_val_only(small):
    noisy = data.mnist1d(600, seed=3, label_noise=0.25)
    np.testing.assert_array_equal(noisy.X_train, small.X_train)
    assert np.mean(noisy.y_train != small.y_train) == pytest.approx(0.25, abs=1 / 360)
    assert np.mean(noisy.y_val != small.y_val) == pytest.approx(0.25, abs=1 / 120)
    np.testing.assert_array_equal(noisy.y_test, small.y_test)


def test_add_label_noise_changes_exactly_the_requested_fraction():
    y = np.arange(1000) % 10
    noisy = data.add_label_noise(y, 0.3, 10, rng=0)
    assert np.sum(noisy != y) == 300
    assert noisy.min() >= 0 and noisy.max() <= 9
    with pytest.raises(ValueError, match="fraction must lie in"):
        data.add_label_noise(y, 1.5, 10, rng=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 10}, "n_samples must be an integer >= 30"),
        ({"val_fraction": 0.6, "test_fraction": 0.5}, "val_fraction \\+ test_fraction must be < 1"),
        ({"label_noise": -0.1}, "label_noise must lie in"),
        ({"test_fraction": 0.0}, "test_fraction must lie in"),
    ],
)
def test_mnist1d_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.mnist1d(**kwargs)


def test_diabetes_is_standardised():
    X, y, names = data.diabetes()
    assert X.shape == (442, 10) and len(names) == 10
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose((X**2).sum(axis=0), 442)
    assert abs(y.mean()) < 1e-10
    X_raw, y_raw, _ = data.diabetes(standardized=False)
    assert y_raw.min() > 0
