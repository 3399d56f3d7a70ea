r"""Uncertainty of results over seeds or draws: the book's one home for mean ± standard error.

Every claim the book draws from training runs is stated over several seeds with its
uncertainty: the mean and its standard error (:func:`mean_se`, sample standard deviation
with ``ddof=1`` over :math:`\sqrt{n}`), or, for heavy-tailed quantities such as the test
error of an unregularised fit, the median with a distribution-free interval
(:func:`median_ci`).  numpy only.
"""

from __future__ import annotations

import math

import numpy as np

from .validation import check_probability

__all__ = ["format_mean_se", "mean_se", "median_ci"]


def mean_se(values, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and standard error of the mean along ``axis`` (the seed axis).

    .. math:: \bar x = \frac1n\sum_i x_i, \qquad
              \mathrm{se} = \sqrt{\frac{1}{n(n-1)}\sum_i (x_i - \bar x)^2}.

    Parameters
    ----------
    values : array_like
        At least one-dimensional; ``axis`` runs over seeds.
    axis : int, default -1
        The axis of the seeds (or draws), reduced away.

    Returns
    -------
    mean, se : ndarray
        ``values`` reduced along ``axis``.  With a single value the standard error is
        undefined and returned as NaN.

    Raises
    ------
    ValueError
        If ``values`` is a scalar or has no entry along ``axis``.

    Examples
    --------
    >>> mean, se = mean_se([1.0, 2.0, 3.0])
    >>> float(mean), round(float(se), 4)
    (2.0, 0.5774)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        raise ValueError(f"values must have a seed axis; got the scalar {float(values)!r}")
    n = values.shape[axis]
    if n == 0:
        raise ValueError(f"values must have at least one entry along axis {axis}; got none")
    mean = values.mean(axis=axis)
    if n == 1:
        return mean, np.full_like(mean, np.nan)
    return mean, values.std(axis=axis, ddof=1) / math.sqrt(n)


def format_mean_se(values, digits: int = 2, *, scale: float = 1.0, signed: bool = False) -> str:
    """``"mean ± se"`` of one-dimensional ``values`` (e.g. one number per seed), as printed in the book.

    Parameters
    ----------
    values : array_like, shape (n,)
        One number per seed.
    digits : int, default 2
        Decimals of both numbers.
    scale : float, default 1.0
        Multiplies both (``100`` for percentages or percentage points).
    signed : bool, default False
        Print the mean with its sign (for differences).

    Returns
    -------
    str
        The mean and its standard error (:func:`mean_se`), e.g. ``"0.83 ± 0.02"``.

    Raises
    ------
    ValueError
        If ``values`` is not one-dimensional or ``digits`` is not a non-negative integer.

    Examples
    --------
    >>> format_mean_se([0.1, 0.2, 0.3], 1, scale=100, signed=True)
    '+20.0 ± 5.8'
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"values must be one-dimensional (one number per seed); got shape {values.shape}")
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer; got {digits!r}")
    mean, se = mean_se(scale * values)
    return f"{mean:{'+' if signed else ''}.{digits}f} ± {se:.{digits}f}"


def median_ci(values, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Median of ``values`` along axis 0 and a distribution-free confidence interval for it.

    For :math:`m` independent draws the interval between the order statistics
    :math:`x_{(k)}` and :math:`x_{(m-k+1)}` contains the population median with probability
    :math:`1 - 2P(B \le k - 1)`, :math:`B \sim \mathrm{Binomial}(m, \tfrac12)`, whatever the
    distribution; ``k`` is the largest index for which that is at least ``level``.  Used for
    test errors, whose distribution over training sets is far from normal (a few fits
    explode), so that a mean ± standard error would mislead.

    Parameters
    ----------
    values : array_like
        The draws along axis 0 (e.g. one test-error curve per training set, as rows); all
        entries finite.
    level : float, default 0.95
        The confidence level, in (0, 1).

    Returns
    -------
    median, lower, upper : arrays of shape ``values.shape[1:]``
        The sample median and the interval's ends (floats for one-dimensional ``values``).

    Raises
    ------
    ValueError
        If ``values`` is a scalar or holds non-finite entries, if ``level`` is not a
        probability, or if there are too few draws for an interval at ``level``.

    Examples
    --------
    >>> import numpy as np
    >>> med, lo, hi = median_ci(np.arange(1.0, 21.0))
    >>> float(med), float(lo), float(hi)
    (10.5, 6.0, 15.0)
    """
    from scipy.stats import binom

    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        raise ValueError(f"values must be an array with the draws along axis 0; got the scalar {float(values)!r}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"values must contain only finite values; got {int(np.sum(~np.isfinite(values)))} NaN or infinite entries")
    level = check_probability(level, "level", allow_zero=False)
    m = values.shape[0]
    k = int(binom.ppf((1 - level) / 2, m, 0.5))  # P(B <= k - 1) <= (1 - level) / 2
    if k < 1:
        raise ValueError(f"values must hold enough draws for a {level:.0%} interval of the median; got {m}")
    s = np.sort(values, axis=0)
    return np.median(values, axis=0), s[k - 1], s[m - k]
