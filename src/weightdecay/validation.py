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
    "check_probability",
    "check_positive_int",
    "check_positive_float",
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
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {_describe(a)}") from exc
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must contain only finite values; got {bad} NaN or infinite entries")


def check_matrix(X, name: str = "X", *, min_rows: int = 1, min_cols: int = 1) -> np.ndarray:
    """Return ``X`` as a finite 2-D float64 array, or raise ``ValueError``."""
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
    """Return ``v`` as a finite 1-D float64 array (of length ``size`` if given)."""
    arr = _as_float_array(v, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got {_describe(arr)}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size}; got length {arr.shape[0]}")
    _check_finite(arr, name)
    return arr


def check_X_y(X, y, *, X_name: str = "X", y_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Validate a design matrix and a response vector with matching numbers of rows."""
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
    """Return a regularisation strength as a float; it must be finite and ``>= 0``."""
    value = _check_real_scalar(lam, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")
    return value


def check_lambdas(lams, name: str = "lams") -> np.ndarray:
    """Return a non-empty 1-D array of finite, non-negative regularisation strengths."""
    arr = _as_float_array(lams, name)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got {_describe(arr)}")
    _check_finite(arr, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must all be >= 0; got minimum {arr.min()}")
    return arr


def check_probability(p, name: str = "p", *, allow_one: bool = False, allow_zero: bool = True) -> float:
    """Return a probability; by default it must lie in ``[0, 1)`` (a drop probability)."""
    value = _check_real_scalar(p, name)
    upper_ok = value <= 1 if allow_one else value < 1
    lower_ok = value >= 0 if allow_zero else value > 0
    if not (upper_ok and lower_ok):
        interval = ("[" if allow_zero else "(") + "0, 1" + ("]" if allow_one else ")")
        raise ValueError(f"{name} must lie in {interval}; got {value}")
    return value


def check_positive_int(k, name: str, *, minimum: int = 1) -> int:
    """Return ``k`` as an int, which must be ``>= minimum``."""
    if isinstance(k, bool) or not isinstance(k, (Integral, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {_describe(k)}")
    k = int(k)
    if k < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {k}")
    return k


def check_positive_float(x, name: str, *, allow_zero: bool = False) -> float:
    """Return ``x`` as a finite float that is ``> 0`` (or ``>= 0`` with ``allow_zero``)."""
    value = _check_real_scalar(x, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return value


def check_seeds(seeds, name: str = "seeds") -> tuple[int, ...]:
    """A non-empty sequence of non-negative integer seeds, as a tuple."""
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"{name} must be a sequence of integers >= 0; got {_describe(seeds)}")
    seeds = tuple(check_positive_int(s, "seed", minimum=0) for s in seeds)
    if not seeds:
        raise ValueError(f"{name} must contain at least one seed; got none")
    return seeds
