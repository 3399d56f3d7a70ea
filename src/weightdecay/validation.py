"""Input validation shared by every module of the package.

Bad input gets a clear ``ValueError`` that names the argument and the value received,
never a silently wrong answer.  Every public function validates its arguments with the
helpers below.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = [
    "check_matrix",
    "check_vector",
    "check_X_y",
    "check_lambda",
    "check_lambdas",
    "check_lambda_grid",
    "check_probability",
    "check_positive_int",
    "check_nonnegative_int",
    "check_positive_float",
    "check_learning_rate",
    "check_momentum",
    "check_seeds",
]


def _describe(value) -> str:
    """Short description of a received value for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_float_array(a, name: str) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch tensor
        a = a.detach().cpu().numpy()
    if type(a).__module__.startswith("scipy.sparse"):
        raise ValueError(
            f"{name} must be a dense array; got a scipy.sparse {type(a).__name__} of shape {a.shape}: "
            f"pass {name}.toarray() (the solvers work on dense arrays)"
        )
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        bad = _non_numeric_columns(a)
        if bad:
            raise ValueError(
                f"{name} must be numeric; the DataFrame's non-numeric column(s): "
                + ", ".join(f"{c!r} (dtype {dtype})" for c, dtype in bad)
                + "; encode them as numbers (e.g. pandas.get_dummies) or drop them"
            ) from exc
        raise ValueError(f"{name} must be numeric; got {_describe(a)}") from exc
    return arr


def _non_numeric_columns(a) -> list:
    """``(name, dtype)`` of the columns of a pandas DataFrame that do not convert to float."""
    if not (hasattr(a, "columns") and hasattr(a, "dtypes")):
        return []
    bad = []
    for column in dict.fromkeys(a.columns):
        values = a[column]
        try:
            np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            bad.append((column, getattr(values, "dtype", "mixed")))
    return bad


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must contain only finite values; got {bad} NaN or infinite entries")


def check_matrix(X, name: str = "X", *, min_rows: int = 1, min_cols: int = 1) -> np.ndarray:
    """Return ``X`` as a finite 2-D float64 array, or raise ``ValueError``.

    Parameters
    ----------
    X : array-like or tensor of shape (n, p)
        The design matrix (a torch tensor is detached and copied to the CPU).
    name : str
        The argument's name, for the error message.
    min_rows : int
        The fewest rows allowed.
    min_cols : int
        The fewest columns allowed.

    Returns
    -------
    ndarray of shape (n, p)
        ``X`` as float64.

    Raises
    ------
    ValueError
        If ``X`` is not numeric, not 2-D, too small, or has NaN or infinite entries; the
        message names ``name``.

    Examples
    --------
    >>> from weightdecay.validation import check_matrix
    >>> check_matrix([[1, 2], [3, 4]])
    array([[1., 2.],
           [3., 4.]])
    >>> check_matrix([1, 2, 3], "X_train")
    Traceback (most recent call last):
        ...
    ValueError: X_train must be a 2-D array (n_samples, n_features); got array of shape (3,) and dtype float64
    """
    arr = _as_float_array(X, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features); got {_describe(arr)}")
    if arr.shape[0] < min_rows or arr.shape[1] < min_cols:
        raise ValueError(
            f"{name} must have at least {min_rows} row(s) and {min_cols} column(s); got shape {arr.shape}"
        )
    _check_finite(arr, name)
    return arr


def check_vector(v, name: str = "y", *, size: int | None = None) -> np.ndarray:
    """Return ``v`` as a finite 1-D float64 array (of length ``size`` if given).

    Parameters
    ----------
    v : array-like or tensor of shape (n,)
        The vector.
    name : str
        The argument's name, for the error message.
    size : int, optional
        The required length.

    Returns
    -------
    ndarray of shape (n,)
        ``v`` as float64.

    Raises
    ------
    ValueError
        If ``v`` is not numeric, not 1-D, of the wrong length, or not finite.

    Examples
    --------
    >>> from weightdecay.validation import check_vector
    >>> check_vector([1, 2, 3])
    array([1., 2., 3.])
    >>> check_vector([1, 2, 3], "w", size=2)
    Traceback (most recent call last):
        ...
    ValueError: w must have length 2; got length 3
    """
    arr = _as_float_array(v, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got {_describe(arr)}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size}; got length {arr.shape[0]}")
    _check_finite(arr, name)
    return arr


def check_X_y(X, y, *, X_name: str = "X", y_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Validate a design matrix and a response vector with matching numbers of rows.

    Parameters
    ----------
    X : array-like or tensor of shape (n, p)
        The design matrix (see :func:`check_matrix`).
    y : array-like or tensor of shape (n,)
        The response.
    X_name : str
        The name of ``X`` in error messages.
    y_name : str
        The name of ``y`` in error messages.

    Returns
    -------
    X : ndarray of shape (n, p)
        The design matrix as float64.
    y : ndarray of shape (n,)
        The response as float64.

    Raises
    ------
    ValueError
        If either is malformed or not finite, or their numbers of rows differ.

    Examples
    --------
    >>> from weightdecay.validation import check_X_y
    >>> X, y = check_X_y([[1, 0], [0, 1], [1, 1]], [1, 2, 3])
    >>> X.shape, y.shape, y.dtype
    ((3, 2), (3,), dtype('float64'))
    >>> check_X_y([[1, 0], [0, 1]], [1, 2, 3])
    Traceback (most recent call last):
        ...
    ValueError: X and y must have the same number of rows; got X with 2 rows and y with 3
    """
    X = check_matrix(X, X_name)
    y_arr = _as_float_array(y, y_name)
    if y_arr.ndim != 1:
        raise ValueError(f"{y_name} must be a 1-D array of length {X.shape[0]}; got {_describe(y_arr)}")
    if y_arr.shape[0] != X.shape[0]:
        raise ValueError(
            f"{X_name} and {y_name} must have the same number of rows; "
            f"got {X_name} with {X.shape[0]} rows and {y_name} with {y_arr.shape[0]}"
        )
    _check_finite(y_arr, y_name)
    return X, y_arr


def _check_real_scalar(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise ValueError(f"{name} must be a real number; got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return value


def check_lambda(lam, name: str = "lam") -> float:
    r"""Return a regularisation strength as a float; it must be finite and ``>= 0``.

    Parameters
    ----------
    lam : float
        The regularisation strength :math:`\lambda`.
    name : str
        The argument's name, for the error message.

    Returns
    -------
    float
        ``lam`` as a Python float.

    Raises
    ------
    ValueError
        If ``lam`` is not a real number (booleans are refused), not finite, or negative.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.validation import check_lambda
    >>> check_lambda(np.float32(0.5))
    0.5
    >>> check_lambda(-1, "alpha")
    Traceback (most recent call last):
        ...
    ValueError: alpha must be >= 0; got -1.0
    """
    value = _check_real_scalar(lam, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")
    return value


def check_lambdas(lams, name: str = "lams") -> np.ndarray:
    """Return a non-empty 1-D array of finite, non-negative regularisation strengths.

    Parameters
    ----------
    lams : float or sequence of float
        The strengths (a scalar becomes an array of length 1).
    name : str
        The argument's name, for the error message.

    Returns
    -------
    ndarray of shape (k,)
        The strengths as float64, in the given order.

    Raises
    ------
    ValueError
        If ``lams`` is empty, not 1-D, not finite, or has a negative entry.

    Examples
    --------
    >>> from weightdecay.validation import check_lambdas
    >>> check_lambdas([0, 0.1, 1])
    array([0. , 0.1, 1. ])
    >>> check_lambdas(2.0)
    array([2.])
    """
    arr = _as_float_array(lams, name)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got {_describe(arr)}")
    _check_finite(arr, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must all be >= 0; got minimum {arr.min()}")
    return arr


def check_lambda_grid(lams, name: str = "lams", *, allow_scalar: bool = False) -> np.ndarray:
    """Return a grid of regularisation strengths, validated as strictly as :func:`check_lambda`.

    Strings (``"0.1"``), booleans, NaN/inf, negative values, an empty or 2-D sequence raise a
    ``ValueError`` naming ``name``; so does a scalar unless ``allow_scalar`` (then it is one λ).

    Parameters
    ----------
    lams : sequence of float
        The λ values (a list, tuple, 1-D array or tensor).
    name : str, default "lams"
        The argument's name, for error messages.
    allow_scalar : bool, default False
        Accept a single number as a grid of one λ.

    Returns
    -------
    ndarray of shape (len(lams),)
        The λ values as float64, in the order given.

    Raises
    ------
    ValueError
        If ``lams`` is not a non-empty 1-D sequence of finite numbers ``>= 0``.

    Examples
    --------
    >>> from weightdecay.validation import check_lambda_grid
    >>> check_lambda_grid([1, 0.5, 0])
    array([1. , 0.5, 0. ])
    >>> check_lambda_grid("0.1")
    Traceback (most recent call last):
    ...
    ValueError: lams must be a 1-D sequence of numbers >= 0; got the string '0.1'
    """
    if isinstance(lams, (str, bytes)):
        raise ValueError(f"{name} must be a 1-D sequence of numbers >= 0; got the string {lams!r}")
    if isinstance(lams, (list, tuple)):
        for v in lams:
            if isinstance(v, (str, bytes, bool, np.bool_)):
                raise ValueError(f"{name} must contain numbers >= 0; got {v!r} in {_describe(lams)}")
    raw = np.asarray(lams) if not (hasattr(lams, "detach") and hasattr(lams, "cpu")) else None
    if raw is not None and raw.dtype.kind in "USb":
        kind = "booleans" if raw.dtype.kind == "b" else "strings"
        raise ValueError(f"{name} must contain numbers >= 0; got {kind}: {_describe(lams)}")
    if isinstance(lams, (Real, np.generic)) or (raw is not None and raw.ndim == 0):
        if not allow_scalar:
            value = raw.item() if raw is not None else lams
            raise ValueError(f"{name} must be a 1-D sequence of λ values; got the scalar {value!r}")
        return np.array([check_lambda(raw.item() if raw is not None else lams, name)])
    arr = _as_float_array(lams, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got {_describe(arr)}")
    _check_finite(arr, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must all be >= 0; got minimum {arr.min()}")
    return arr


def check_probability(p, name: str = "p", *, allow_one: bool = False, allow_zero: bool = True) -> float:
    """Return a probability; by default it must lie in ``[0, 1)`` (a drop probability).

    Parameters
    ----------
    p : float
        The probability.
    name : str
        The argument's name, for the error message.
    allow_one : bool
        Accept 1 (the interval becomes closed on the right).
    allow_zero : bool
        Accept 0.

    Returns
    -------
    float
        ``p`` as a Python float.

    Raises
    ------
    ValueError
        If ``p`` is not a finite real number in the allowed interval.

    Examples
    --------
    >>> from weightdecay.validation import check_probability
    >>> check_probability(0.25)
    0.25
    >>> check_probability(1, "target", allow_one=True)
    1.0
    >>> check_probability(1.0, "dropout")
    Traceback (most recent call last):
        ...
    ValueError: dropout must lie in [0, 1); got 1.0
    """
    value = _check_real_scalar(p, name)
    upper_ok = value <= 1 if allow_one else value < 1
    lower_ok = value >= 0 if allow_zero else value > 0
    if not (upper_ok and lower_ok):
        interval = ("[" if allow_zero else "(") + "0, 1" + ("]" if allow_one else ")")
        raise ValueError(f"{name} must lie in {interval}; got {value}")
    return value


def check_positive_int(k, name: str, *, minimum: int = 1) -> int:
    """Return ``k`` as an int, which must be ``>= minimum``.

    Parameters
    ----------
    k : int
        The integer (a numpy integer is accepted; floats and booleans are not).
    name : str
        The argument's name, for the error message.
    minimum : int
        The smallest value allowed.

    Returns
    -------
    int
        ``k`` as a Python int.

    Raises
    ------
    ValueError
        If ``k`` is not an integer or is below ``minimum``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.validation import check_positive_int
    >>> check_positive_int(np.int64(3), "epochs")
    3
    >>> check_positive_int(1, "seed")
    1
    >>> check_positive_int(2.0, "epochs")
    Traceback (most recent call last):
        ...
    ValueError: epochs must be an integer >= 1; got 2.0
    """
    if isinstance(k, bool) or not isinstance(k, (Integral, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {_describe(k)}")
    k = int(k)
    if k < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {k}")
    return k


def check_nonnegative_int(value, name: str) -> int:
    """Return ``value`` as an int, which must be ``>= 0`` (a seed, a step count that may be zero).

    Parameters
    ----------
    value : int
        The integer (a numpy integer is accepted; floats and booleans are not).
    name : str
        The argument's name, for the error message.

    Returns
    -------
    int
        ``value`` as a Python int.

    Raises
    ------
    ValueError
        If ``value`` is not an integer or is negative; the message names ``name`` and ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.validation import check_nonnegative_int
    >>> check_nonnegative_int(0, "seed")
    0
    >>> check_nonnegative_int(np.int64(7), "steps")
    7
    >>> check_nonnegative_int(-1, "seed")
    Traceback (most recent call last):
        ...
    ValueError: seed must be an integer >= 0; got -1
    """
    return check_positive_int(value, name, minimum=0)


def check_positive_float(x, name: str, *, allow_zero: bool = False) -> float:
    """Return ``x`` as a finite float that is ``> 0`` (or ``>= 0`` with ``allow_zero``).

    Parameters
    ----------
    x : float
        The number.
    name : str
        The argument's name, for the error message.
    allow_zero : bool
        Accept 0.

    Returns
    -------
    float
        ``x`` as a Python float.

    Raises
    ------
    ValueError
        If ``x`` is not a finite real number, or is negative (or zero, unless allowed).

    Examples
    --------
    >>> from weightdecay.validation import check_positive_float
    >>> check_positive_float(3, "lr")
    3.0
    >>> check_positive_float(0.0, "lr")
    Traceback (most recent call last):
        ...
    ValueError: lr must be > 0; got 0.0
    """
    value = _check_real_scalar(x, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return value


def check_learning_rate(lr, name: str = "lr") -> float:
    """Return a learning rate as a float; it must be finite and ``> 0``.

    Parameters
    ----------
    lr : float
        The learning rate (step size).
    name : str, default "lr"
        The argument's name, for the error message.

    Returns
    -------
    float
        ``lr`` as a Python float.

    Raises
    ------
    ValueError
        If ``lr`` is not a real number (booleans are refused), not finite, or ``<= 0``; the
        message names ``name`` and the value received.

    Examples
    --------
    >>> from weightdecay.validation import check_learning_rate
    >>> check_learning_rate(0.1)
    0.1
    >>> check_learning_rate(0, "sgd_lr")
    Traceback (most recent call last):
        ...
    ValueError: sgd_lr must be > 0; got 0.0
    """
    return check_positive_float(lr, name)


def check_momentum(momentum, name: str = "momentum") -> float:
    r"""Return a heavy-ball momentum coefficient as a float; it must lie in ``[0, 1)``.

    With momentum :math:`\mu` the velocity is :math:`v_{t+1} = \mu v_t + g_t`, a geometric
    average of past gradients with memory :math:`1/(1-\mu)` steps; :math:`\mu = 1` never forgets
    (the velocity sums every gradient ever seen), so it is refused.

    Parameters
    ----------
    momentum : float
        The momentum coefficient :math:`\mu`; 0 is plain gradient descent.
    name : str, default "momentum"
        The argument's name, for the error message.

    Returns
    -------
    float
        ``momentum`` as a Python float.

    Raises
    ------
    ValueError
        If ``momentum`` is not a finite real number in ``[0, 1)``; the message names ``name``
        and the value received.

    Examples
    --------
    >>> from weightdecay.validation import check_momentum
    >>> check_momentum(0.9)
    0.9
    >>> check_momentum(0)
    0.0
    >>> check_momentum(1)
    Traceback (most recent call last):
        ...
    ValueError: momentum must lie in [0, 1); got 1.0
    """
    return check_probability(momentum, name)


def check_seeds(seeds, name: str = "seeds") -> tuple[int, ...]:
    """Check a non-empty sequence of non-negative integer seeds and return it as a tuple.

    Parameters
    ----------
    seeds : iterable of int
        The seeds.
    name : str
        The argument's name, for the error message.

    Returns
    -------
    tuple of int
        The seeds, in order.

    Raises
    ------
    ValueError
        If ``seeds`` is a string or not iterable, is empty, or holds something other than
        an integer ``>= 0``.

    Examples
    --------
    >>> from weightdecay.validation import check_seeds
    >>> check_seeds(range(3))
    (0, 1, 2)
    >>> check_seeds([])
    Traceback (most recent call last):
        ...
    ValueError: seeds must contain at least one seed; got none
    """
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"{name} must be a sequence of integers >= 0; got {_describe(seeds)}")
    seeds = tuple(check_nonnegative_int(s, "seed") for s in seeds)
    if not seeds:
        raise ValueError(f"{name} must contain at least one seed; got none")
    return seeds
