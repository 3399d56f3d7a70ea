"""weightdecay.stats: mean ± standard error and the median's distribution-free interval."""

import numpy as np
import pytest

from weightdecay.stats import format_mean_se, mean_se, median_ci


def test_mean_se():
    mean, se = mean_se([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(mean, [2.0, 2.0])
    np.testing.assert_allclose(se, [1.0 / np.sqrt(3), 0.0])
    mean, se = mean_se(np.arange(6.0).reshape(3, 2), axis=0)
    np.testing.assert_allclose(mean, [2.0, 3.0])
    np.testing.assert_allclose(se, [2.0 / np.sqrt(3)] * 2)
    mean, se = mean_se([[1.0], [2.0]])  # one seed: the standard error is undefined
    np.testing.assert_array_equal(mean, [1.0, 2.0])
    assert np.all(np.isnan(se))
    with pytest.raises(ValueError, match="at least one entry along axis 0"):
        mean_se(np.ones((0, 3)), axis=0)
    with pytest.raises(ValueError, match="got the scalar 3.0"):
        mean_se(3.0)


def test_median_ci_order_statistics_and_coverage():
    # m = 10 at 95 %: the classical interval [x_(2), x_(9)], coverage 1 - 2 P(B <= 1) = 0.979
    med, lo, hi = median_ci(np.arange(10.0, 0.0, -1.0))
    assert (med, lo, hi) == (5.5, 2.0, 9.0)
    # columns are independent summaries
    med, lo, hi = median_ci(np.column_stack([np.arange(1.0, 11.0), 10 * np.arange(1.0, 11.0)]))
    np.testing.assert_array_equal(lo, [2.0, 20.0])
    # coverage of a skewed distribution's median (exponential: log 2) is at least the level
    rng = np.random.default_rng(0)
    covered = [lo <= np.log(2) <= hi for _, lo, hi in (median_ci(rng.exponential(size=41)) for _ in range(2000))]
    assert np.mean(covered) > 0.94
    with pytest.raises(ValueError, match="enough draws"):
        median_ci(np.ones(5))
    with pytest.raises(ValueError, match="values must contain only finite"):
        median_ci([1.0, np.nan] * 10)
    with pytest.raises(ValueError, match="level must lie in"):
        median_ci(np.ones(20), level=1.0)


def test_format_mean_se():
    assert format_mean_se([1.0, 2.0, 3.0]) == "2.00 ± 0.58"
    assert format_mean_se([0.1, 0.2, 0.3], 1, scale=100, signed=True) == "+20.0 ± 5.8"
    assert format_mean_se([-0.5, -0.3], 1, signed=True) == "-0.4 ± 0.1"
    with pytest.raises(ValueError, match=r"values must be one-dimensional.*\(2, 2\)"):
        format_mean_se(np.ones((2, 2)))
    with pytest.raises(ValueError, match="digits must be a non-negative integer; got -1"):
        format_mean_se([1.0, 2.0], -1)
