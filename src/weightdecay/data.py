"""Offline datasets used by the book, deterministic given a seed.

* :func:`mnist1d` — MNIST-1D (Greydanus 2020) made by the ``mnist1d`` package's procedural
  generator (never its download path, never a pickle), with train / validation / test
  splits and optional label noise.
* :func:`diabetes` — the diabetes data that ships with scikit-learn.
* :func:`cifar10` — the real CIFAR-10 binary archive, checksummed (see
  :mod:`weightdecay.cifar10`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .validation import check_nonnegative_int, check_positive_int, check_probability

__all__ = ["Splits", "mnist1d", "diabetes", "cifar10", "add_label_noise"]


@dataclass(frozen=True)
class Splits:
    """Train / validation / test arrays of a classification or regression dataset.

    Parameters
    ----------
    X_train : array of shape (n_train, ...)
        Training inputs.
    y_train : array of shape (n_train,)
        Training targets.
    X_val : array of shape (n_val, ...)
        Validation inputs.
    y_val : array of shape (n_val,)
        Validation targets.
    X_test : array of shape (n_test, ...)
        Test inputs.
    y_test : array of shape (n_test,)
        Test targets.
    name : str
        A name for printing.

    Attributes
    ----------
    train : tuple
        ``(X_train, y_train)``, the pair that :func:`weightdecay.training.train` takes.
    val : tuple
        ``(X_val, y_val)``.
    test : tuple
        ``(X_test, y_test)``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.data import Splits
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    >>> s = Splits(X[:6], y[:6], X[6:8], y[6:8], X[8:], y[8:], name="toy")
    >>> s
    Splits('toy': train (6, 2), val (2, 2), test (2, 2))
    >>> X_train, y_train = s.train
    >>> y_train.tolist()
    [0, 1, 0, 1, 0, 1]
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str = ""

    @property
    def train(self):
        return self.X_train, self.y_train

    @property
    def val(self):
        return self.X_val, self.y_val

    @property
    def test(self):
        return self.X_test, self.y_test

    def __repr__(self) -> str:
        return (
            f"Splits({self.name!r}: train {self.X_train.shape}, val {self.X_val.shape}, "
            f"test {self.X_test.shape})"
        )


@lru_cache(maxsize=8)
def _mnist1d_arrays(n_samples: int, seed: int, shuffle_seq: bool):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = n_samples
    args.train_split = 1.0  # we make our own splits
    args.seed = seed
    args.shuffle_seq = shuffle_seq
    state = np.random.get_state()  # make_dataset reseeds numpy's global generator
    import random

    py_state = random.getstate()
    try:
        ds = make_dataset(args)
    finally:
        np.random.set_state(state)
        random.setstate(py_state)
    X = ds["x"].astype(np.float32)
    y = ds["y"].astype(np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def add_label_noise(y, fraction: float, n_classes: int, rng) -> np.ndarray:
    """Return a copy of integer labels ``y`` with a ``fraction`` of them replaced.

    The chosen entries get a label drawn uniformly from the *other* ``n_classes − 1``
    classes, so exactly ``round(fraction · len(y))`` labels are wrong.

    Parameters
    ----------
    y : array of int, shape (n,)
        Labels in ``0..n_classes - 1``; not changed.
    fraction : float in [0, 1]
        Fraction of labels to replace.
    n_classes : int >= 2
        Number of classes.
    rng : numpy.random.Generator or seed
        Chooses the entries and their new labels (``np.random.default_rng(rng)``).

    Returns
    -------
    array of int64, shape (n,)
        The noisy labels.

    Raises
    ------
    ValueError
        If ``fraction`` is not in ``[0, 1]`` or ``n_classes < 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.data import add_label_noise
    >>> y = np.zeros(10, dtype=int)
    >>> noisy = add_label_noise(y, 0.3, n_classes=10, rng=0)
    >>> int((noisy != y).sum())  # exactly 30 % wrong
    3
    >>> bool(np.all((noisy >= 0) & (noisy < 10)))
    True
    """
    fraction = check_probability(fraction, "fraction", allow_one=True)
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    rng = np.random.default_rng(rng)
    y = np.array(y, dtype=np.int64, copy=True)
    k = int(round(fraction * y.size))
    idx = rng.choice(y.size, size=k, replace=False)
    shift = rng.integers(1, n_classes, size=k)
    y[idx] = (y[idx] + shift) % n_classes
    return y


def mnist1d(
    n_samples: int = 5000,
    *,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    label_noise: float = 0.0,
    shuffle_seq: bool = False,
) -> Splits:
    """MNIST-1D: 10 classes of 40-sample 1-D signals, generated offline.

    Generated by ``mnist1d.data.make_dataset`` with the package's default transforms
    (padding, shear, translation, correlated and i.i.d. noise); the global random state is
    restored afterwards.  The samples are split at random (seeded) into train, validation
    and test parts; ``label_noise`` replaces that fraction of the *training and validation*
    labels by a wrong class (the test labels stay clean).  Nothing is downloaded.

    Parameters
    ----------
    n_samples : int >= 30
        Number of signals in all (the generator makes ``n_samples // 10`` per class).
    seed : int >= 0
        Seed of the generator, of the split and of the label noise.
    val_fraction : float in [0, 1)
        Fraction of the samples in the validation set.
    test_fraction : float in (0, 1)
        Fraction of the samples in the test set; ``val_fraction + test_fraction < 1``.
    label_noise : float in [0, 1)
        Fraction of wrong training and validation labels (see :func:`add_label_noise`).
    shuffle_seq : bool
        Permute the 40 positions of every signal (the same permutation for all).

    Returns
    -------
    Splits
        ``X_*`` float32 arrays of shape ``(m, 40)``, ``y_*`` int64 labels in ``0..9``.

    Raises
    ------
    ValueError
        If an argument is out of range, or ``val_fraction + test_fraction >= 1``.

    Examples
    --------
    >>> import weightdecay as wd
    >>> data = wd.data.mnist1d(100, seed=0)
    >>> data
    Splits('MNIST-1D': train (60, 40), val (20, 40), test (20, 40))
    >>> data.X_train.dtype, data.y_train.dtype
    (dtype('float32'), dtype('int64'))
    >>> noisy = wd.data.mnist1d(100, seed=0, label_noise=0.2)
    >>> int((noisy.y_train != data.y_train).sum())  # 20 % of 60 training labels
    12
    >>> bool((noisy.y_test == data.y_test).all())  # the test labels stay clean
    True
    """
    n_samples = check_positive_int(n_samples, "n_samples", minimum=30)
    seed = check_nonnegative_int(seed, "seed")
    val_fraction = check_probability(val_fraction, "val_fraction")
    test_fraction = check_probability(test_fraction, "test_fraction", allow_zero=False)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1; got {val_fraction} + {test_fraction}"
        )
    label_noise = check_probability(label_noise, "label_noise")
    X, y = _mnist1d_arrays(n_samples, seed, bool(shuffle_seq))
    rng = np.random.default_rng([seed, 1])
    perm = rng.permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    n_val = int(round(val_fraction * len(y)))
    test, val, train = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]
    y_train, y_val = y[train].copy(), y[val].copy()
    if label_noise > 0:
        y_train = add_label_noise(y_train, label_noise, 10, rng)
        y_val = add_label_noise(y_val, label_noise, 10, rng)
    name = "MNIST-1D" + (f" ({label_noise:.0%} label noise)" if label_noise else "")
    return Splits(X[train].copy(), y_train, X[val].copy(), y_val, X[test].copy(), y[test].copy(), name)


def diabetes(*, standardized: bool = True):
    """The diabetes data (442 patients, 10 features) that ships with scikit-learn.

    With ``standardized=True`` the columns are centred and scaled with
    :func:`weightdecay.linear.standardize` and ``y`` is centred, the setting of the book's
    lasso and ridge chapters.

    Parameters
    ----------
    standardized : bool
        Centre and scale the columns (``||x_j||² = n``) and centre ``y``; ``False`` gives the
        raw measurements.

    Returns
    -------
    X : array of shape (442, 10)
        The features.
    y : array of shape (442,)
        Disease progression one year after baseline.
    feature_names : list of str
        ``["age", "sex", "bmi", "bp", "s1", ..., "s6"]``.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> X, y, names = wd.data.diabetes()
    >>> X.shape, names[:4]
    ((442, 10), ['age', 'sex', 'bmi', 'bp'])
    >>> bool(np.allclose(np.sum(X**2, axis=0), len(X)) and abs(y.mean()) < 1e-9)
    True
    >>> X_raw, y_raw, _ = wd.data.diabetes(standardized=False)
    >>> X_raw[0, :3].tolist(), float(y_raw[0])  # age, sex, bmi of the first patient
    ([59.0, 2.0, 32.1], 151.0)
    """
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.float64)
    if standardized:
        from .linear import standardize

        X, y, _ = standardize(X, y)
    return X, y, list(bunch.feature_names)


def cifar10(root=None, download: bool = True):
    """CIFAR-10 from the official binary archive; see :func:`weightdecay.cifar10.cifar10`.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Directory that holds (or will hold) ``cifar-10-binary.tar.gz``; default
        ``$WEIGHTDECAY_DATA``, else ``~/.cache/weightdecay``.
    download : bool
        Download the archive (about 170 MB) if it is not there.

    Returns
    -------
    weightdecay.cifar10.CIFAR10
        ``X_train`` ``(50000, 3, 32, 32)`` uint8, ``y_train`` int64, ``X_test``, ``y_test``.

    Raises
    ------
    weightdecay.cifar10.CIFAR10Error
        If the archive is missing and cannot be downloaded, or is corrupt.

    Examples
    --------
    Without the archive and with ``download=False`` it says what to do:

    >>> import tempfile
    >>> import weightdecay as wd
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         wd.data.cifar10(empty, download=False)
    ...     except wd.cifar10.CIFAR10Error as exc:
    ...         print("download=False" in str(exc))
    True

    Loading the real data downloads the archive on first use, which needs the network, so
    these lines are not run as doctests:

    >>> data = wd.data.cifar10()  # doctest: +SKIP
    >>> data.X_train.shape, data.y_test.shape  # doctest: +SKIP
    ((50000, 3, 32, 32), (10000,))
    """
    from .cifar10 import cifar10 as _cifar10

    return _cifar10(root=root, download=download)
