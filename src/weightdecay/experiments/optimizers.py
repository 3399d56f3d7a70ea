r"""Experiments of the chapter "Weight decay is not always L2" (``book/chapters/optimizers.ipynb``).

Fixed here: the data (the source article's regression data, MNIST-1D), the architectures
(the corrected Keras MLP, a ReLU MLP and :func:`weightdecay.optim.bn_mlp` on MNIST-1D) and
the chapter's grids and settings.  The reusable pieces they are built from (parameter
groups, the reference update rules, the effective learning rate, the closed-form ceiling
:func:`weightdecay.optim.direction_only_r2_ceiling`) live in :mod:`weightdecay.optim`.

* **The source's Keras MLP, corrected**: :func:`source_regression_data` (the source's
  generator, with noise), :func:`row_normalize` (the source's preprocessing, kept to show
  what it loses) and :func:`mlp_regression_sweep`, training and validation loss against
  :math:`\lambda`.
* **MNIST-1D**: :func:`mnist1d_optimizer_comparison` trains the same MLP with SGD+L2, SGDW,
  Adam+L2 and AdamW over several seeds (:data:`DEFAULT_SETTINGS`);
  :func:`bn_decay_experiment` records what decay does to the norms, the effective learning
  rate and the training curves of a BatchNorm MLP, and what decaying BatchNorm's
  :math:`\gamma` does (:data:`BN_DECAY_VARIANTS`).
  :func:`weightdecay.stats.mean_se` summarises any of them over seeds.

Every run uses one torch thread (:func:`weightdecay.reproducibility.single_thread`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._deprecation import moved_names
from ..optim import (
    METHODS,
    SGDW,
    EffectiveLearningRate,
    bn_mlp,
    decay_decisions,
    decay_param_groups,
    make_optimizer,
    scale_invariant_parameters,
)
from ..progress import progress_bar
from ..reproducibility import single_thread
from ..stats import mean_se
from ..validation import (
    check_lambda,
    check_lambdas,
    check_learning_rate,
    check_matrix,
    check_positive_float,
    check_positive_int,
    check_seeds,
)

__all__ = [
    # the source's Keras MLP, corrected
    "source_regression_data",
    "row_normalize",
    "RegressionSweep",
    "mlp_regression_sweep",
    # MNIST-1D
    "OptimizerComparison",
    "DEFAULT_SETTINGS",
    "mnist1d_optimizer_comparison",
    "BNDecayResult",
    "BN_DECAY_VARIANTS",
    "bn_decay_experiment",
]

#: Deprecated names of this module: old name -> new fully qualified name.
_RENAMED = {"row_normalise": f"{__name__}.row_normalize"}
__getattr__ = moved_names(__name__, _RENAMED, verb="was renamed")


# ---------------------------------------------------------------------------
# The source's Keras MLP, corrected
# ---------------------------------------------------------------------------
def source_regression_data(n_samples: int, n_features: int = 2, *, noise: float = 1.0, rng=None):
    r"""The source's regression data, with noise: :math:`y = X\beta + 0.5 + \sigma\varepsilon`.

    Rows :math:`x_i \sim N(0, I_p)`, coefficients :math:`\beta \sim N(0, I_p)` drawn once,
    :math:`\varepsilon_i \sim N(0,1)`.  The source's generator is the case ``noise=0``
    (it then calls ``np.random.seed(42)`` inside the function; here the generator is
    passed in).  Returns ``X`` (float64, ``(n, p)``), ``y`` (``(n,)``) and ``beta``.

    Parameters
    ----------
    n_samples : int
        Rows :math:`n`.
    n_features : int, default 2
        Columns :math:`p`.
    noise : float, default 1.0
        :math:`\sigma \ge 0`.
    rng : numpy Generator or seed, optional
        The random generator.

    Returns
    -------
    X : ndarray of shape (n, p)
        The inputs.
    y : ndarray of shape (n,)
        The targets.
    beta : ndarray of shape (p,)
        The coefficients.

    Raises
    ------
    ValueError
        If ``n_samples`` or ``n_features`` is not a positive integer or ``noise`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.experiments import optimizers as ex
    >>> X, y, beta = ex.source_regression_data(5, 3, noise=0.0, rng=0)
    >>> X.shape, y.shape, beta.shape
    ((5, 3), (5,), (3,))
    >>> bool(np.allclose(y, X @ beta + 0.5))
    True
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_features = check_positive_int(n_features, "n_features")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(rng)
    beta = rng.standard_normal(n_features)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ beta + 0.5 + noise * rng.standard_normal(n_samples)
    return X, y, beta


def row_normalize(X) -> np.ndarray:
    r"""The source's preprocessing ``X / ‖x_i‖``: every *row* scaled to unit length.

    It keeps only the direction of each input and throws away its length
    :math:`\lVert x_i\rVert`, on which :math:`y = X\beta + 0.5` depends.

    Parameters
    ----------
    X : array_like of shape (n, p)
        The inputs.

    Returns
    -------
    ndarray of shape (n, p)
        Every row divided by its Euclidean norm.

    Raises
    ------
    ValueError
        If ``X`` is not a finite matrix or has an all-zero row.

    Examples
    --------
    >>> from weightdecay.experiments import optimizers as ex
    >>> ex.row_normalize([[3.0, 4.0], [0.0, 2.0]]).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    """
    X = check_matrix(X, "X")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("X must have no all-zero rows (their direction is undefined)")
    return X / norms


@dataclass(frozen=True)
class RegressionSweep:
    r"""Training and validation mean squared error of the corrected MLP along a :math:`\lambda` grid.

    Arrays ``(n_lams, n_seeds)``.  ``weight_norm`` is
    :math:`(\sum_W\lVert W\rVert^2)^{1/2}` over the decayed weight matrices at the end of
    training; ``noise_var`` is :math:`\sigma^2`, the smallest expected validation MSE any
    model can reach.

    Parameters
    ----------
    lams : ndarray
        The :math:`\lambda` grid.
    seeds : tuple of int
        The seeds.
    train_mse, val_mse : ndarray
        Shape ``(n_lams, n_seeds)``, the final mean squared errors.
    weight_norm : ndarray
        Shape ``(n_lams, n_seeds)``, the final norm of the decayed weights.
    noise_var : float
        :math:`\sigma^2`.

    Examples
    --------
    >>> from weightdecay.experiments import optimizers as ex
    >>> sweep = ex.mlp_regression_sweep(
    ...     [0.0, 1.0], seeds=[0], n_train=20, n_val=20, n_features=3, hidden=(8,),
    ...     epochs=2, batch_size=10, progress=False,
    ... )
    >>> sweep.val_mse.shape, sweep.noise_var
    ((2, 1), 1.0)
    >>> sweep.best_lam in (0.0, 1.0)
    True
    """

    lams: np.ndarray
    seeds: tuple[int, ...]
    train_mse: np.ndarray
    val_mse: np.ndarray
    weight_norm: np.ndarray
    noise_var: float

    @property
    def best_lam(self) -> float:
        r"""The :math:`\lambda` of smallest mean validation MSE."""
        return float(self.lams[np.argmin(self.val_mse.mean(axis=1))])


def mlp_regression_sweep(
    lams,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    n_train: int = 100,
    n_val: int = 1000,
    n_features: int = 10,
    noise: float = 1.0,
    hidden: Sequence[int] = (64, 64),
    epochs: int = 100,
    lr: float = 1e-2,
    batch_size: int = 32,
    data_seed: int = 0,
    progress: bool | None = None,
) -> RegressionSweep:
    r"""The source's MLP example done right, for every :math:`\lambda` in ``lams`` and every seed.

    Data: :func:`source_regression_data` with ``n_train + n_val`` rows, split into a
    training and a validation set; columns standardised with the *training* means and
    standard deviations (:func:`weightdecay.linear.standardize`), which keeps
    :math:`y = X\beta + 0.5 + \sigma\varepsilon` a linear function of the inputs.  Model:
    ``mlp(n_features, hidden, 1)``, ReLU hidden layers and a *linear* output (built once).
    Objective, in the book's convention,

    .. math::  \frac{1}{2n}\sum_i (y_i - f(x_i))^2 + \frac\lambda2\sum_W\lVert W\rVert^2,

    with every weight matrix penalised and no bias (:func:`~weightdecay.optim.decay_param_groups`), minimised
    by Adam with the penalty's gradient added to the data gradient (``torch.optim.Adam``
    with ``weight_decay=λ`` on the weight group, which *is* this objective's gradient).
    The seed sets the initialisation and the mini-batch order; the data are the same for
    every seed.

    Parameters
    ----------
    lams : array_like
        The book's :math:`\lambda` grid, each :math:`\ge 0`.
    seeds : sequence of int, default (0, 1, 2)
        One run per seed and :math:`\lambda`.
    n_train, n_val : int, default 100 and 1000
        Training and validation rows.
    n_features : int, default 10
        Input dimension :math:`p`.
    noise : float, default 1.0
        :math:`\sigma`.
    hidden : sequence of int, default (64, 64)
        Hidden widths.
    epochs : int, default 100
        Training epochs.
    lr : float, default 1e-2
        Adam's learning rate.
    batch_size : int, default 32
        Mini-batch size.
    data_seed : int, default 0
        Seed of the data.
    progress : bool or None, default None
        A progress bar over the ``len(lams) * len(seeds)`` runs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  It never
        changes the result.

    Returns
    -------
    RegressionSweep
        Training and validation MSE and weight norms, ``(n_lams, n_seeds)``.

    Raises
    ------
    ValueError
        If ``lams``, ``seeds`` or a size or learning rate is invalid.

    Examples
    --------
    A tiny configuration (the chapter uses 8 values of :math:`\lambda`, 5 seeds and 150 epochs,
    about a minute):

    >>> from weightdecay.experiments import optimizers as ex
    >>> sweep = ex.mlp_regression_sweep(
    ...     [0.0, 1.0], seeds=[0, 1], n_train=20, n_val=20, n_features=3, hidden=(8,),
    ...     epochs=2, batch_size=10, progress=False,
    ... )
    >>> sweep.train_mse.shape, sweep.weight_norm.shape
    ((2, 2), (2, 2))
    """
    from ..linear import standardize
    from ..reproducibility import seed_everything
    from ..training import evaluate, half_mse_loss, mlp, train

    lams = check_lambdas(lams)
    seeds = check_seeds(seeds)
    n_train = check_positive_int(n_train, "n_train", minimum=2)
    n_val = check_positive_int(n_val, "n_val")
    lr = check_learning_rate(lr)
    X, y, _ = source_regression_data(n_train + n_val, n_features, noise=noise, rng=data_seed)
    X_train, _, stats = standardize(X[:n_train], y[:n_train])
    X_val = stats.transform(X[n_train:])
    train_data = (X_train.astype(np.float32), y[:n_train].astype(np.float32))
    val_data = (X_val.astype(np.float32), y[n_train:].astype(np.float32))
    shape = (len(lams), len(seeds))
    train_mse, val_mse, norms = np.empty(shape), np.empty(shape), np.empty(shape)
    runs = [(i, j) for i in range(len(lams)) for j in range(len(seeds))]  # lambda-major, as before
    with single_thread():
        for i, j in progress_bar(runs, desc="mlp_regression_sweep", progress=progress):
            lam, seed = lams[i], seeds[j]
            seed_everything(seed)
            model = mlp(n_features, hidden, 1)
            groups = decay_param_groups(model, float(lam))
            optimizer = torch.optim.Adam(groups, lr=lr)
            train(model, train_data, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                  loss_fn=half_mse_loss, seed=seed, progress=False)
            train_mse[i, j] = 2 * evaluate(model, train_data, half_mse_loss)["loss"]
            val_mse[i, j] = 2 * evaluate(model, val_data, half_mse_loss)["loss"]
            norms[i, j] = math.sqrt(sum(float(w.detach().pow(2).sum()) for w in groups[0]["params"]))
    return RegressionSweep(lams, seeds, train_mse, val_mse, norms, float(noise) ** 2)


# ---------------------------------------------------------------------------
# Experiments on MNIST-1D
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class OptimizerComparison:
    r"""Results of :func:`mnist1d_optimizer_comparison`.

    ``labels[k]`` names setting ``k`` (method and weight decay).  Arrays have shape
    ``(n_settings, n_seeds)`` (final test and validation accuracy, final training loss) and
    ``(n_settings, n_seeds, n_layers)`` for ``layer_norms``, the Frobenius norms
    :math:`\lVert W_l\rVert` of the weight matrices ``layer_names`` at the end of training.

    Parameters
    ----------
    labels : tuple of str
        ``"method (weight_decay)"``, one per setting.
    methods : tuple of str
        The method of each setting.
    weight_decays : ndarray
        The ``weight_decay`` of each setting.
    seeds : tuple of int
        The seeds.
    layer_names : tuple of str
        The decayed weight matrices.
    test_acc, val_acc, train_loss : ndarray
        Shape ``(n_settings, n_seeds)``: final test and validation accuracy, final training
        loss.
    layer_norms : ndarray
        Shape ``(n_settings, n_seeds, n_layers)``.

    Examples
    --------
    >>> from weightdecay.experiments import optimizers as ex
    >>> res = ex.mnist1d_optimizer_comparison(
    ...     [("SGD+L2", 0.0), ("AdamW", 1.0)], seeds=[0, 1], epochs=1, n_samples=100,
    ...     hidden=(8,), progress=False,
    ... )
    >>> res.labels, res.layer_names
    (('SGD+L2 (0)', 'AdamW (1)'), ('0.weight', '2.weight'))
    >>> mean, se = res.summary("test_acc")
    >>> mean.shape, res.paired_difference("train_loss", 1, 0).shape
    ((2,), (2,))
    """

    labels: tuple[str, ...]
    methods: tuple[str, ...]
    weight_decays: np.ndarray
    seeds: tuple[int, ...]
    layer_names: tuple[str, ...]
    test_acc: np.ndarray
    val_acc: np.ndarray
    train_loss: np.ndarray
    layer_norms: np.ndarray

    def _values(self, key: str) -> np.ndarray:
        if key not in ("test_acc", "val_acc", "train_loss"):
            raise ValueError(f"key must be 'test_acc', 'val_acc' or 'train_loss'; got {key!r}")
        return getattr(self, key)

    def summary(self, key: str = "test_acc") -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard error over seeds of ``key`` (:func:`weightdecay.stats.mean_se`), one entry per setting.

        Parameters
        ----------
        key : {"test_acc", "val_acc", "train_loss"}
            The quantity.

        Returns
        -------
        mean, se : ndarray
            Shape ``(n_settings,)``.

        Raises
        ------
        ValueError
            If ``key`` is not one of the three.
        """
        return mean_se(self._values(key), axis=1)

    def paired_difference(self, key: str, k: int, base: int) -> np.ndarray:
        """Per-seed difference ``key[k] - key[base]`` between two settings, shape ``(n_seeds,)``.

        Every seed gives both settings the same initial weights and mini-batches, so the
        paired difference has a much smaller spread than the difference of two means.

        Parameters
        ----------
        key : {"test_acc", "val_acc", "train_loss"}
            The quantity.
        k, base : int
            Setting indices.

        Returns
        -------
        ndarray
            Shape ``(n_seeds,)``.

        Raises
        ------
        ValueError
            If ``key`` is unknown or ``k`` or ``base`` is not a setting index.
        """
        values = self._values(key)
        for name, index in (("k", k), ("base", base)):
            if not (isinstance(index, (int, np.integer)) and 0 <= index < values.shape[0]):
                raise ValueError(f"{name} must be a setting index in [0, {values.shape[0]}); got {index!r}")
        return values[k] - values[base]


def _check_settings(settings) -> list[tuple[str, float]]:
    checked = []
    for i, item in enumerate(settings):
        try:
            method, lam = item
        except (TypeError, ValueError):
            raise ValueError(f"settings[{i}] must be a pair (method, weight_decay); got {item!r}") from None
        if method not in METHODS:
            raise ValueError(f"settings[{i}]: method must be one of {METHODS}; got {method!r}")
        checked.append((method, check_lambda(lam, f"settings[{i}] weight_decay")))
    if not checked:
        raise ValueError("settings must contain at least one (method, weight_decay) pair; got none")
    return checked


#: The chapter's settings: no decay, and decay strengths fixed by one rule (see
#: :func:`mnist1d_optimizer_comparison`).
DEFAULT_SETTINGS = (
    ("SGD+L2", 0.0),
    ("SGD+L2", 3e-3),
    ("SGDW", 3e-2),
    ("Adam+L2", 0.0),
    ("Adam+L2", 3e-3),
    ("AdamW", 1.0),
)


def mnist1d_optimizer_comparison(
    settings: Sequence[tuple[str, float]] = DEFAULT_SETTINGS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    epochs: int = 30,
    n_samples: int = 3000,
    hidden: Sequence[int] = (64, 64),
    sgd_lr: float = 0.1,
    adam_lr: float = 3e-3,
    momentum: float = 0.9,
    batch_size: int = 128,
    data_seed: int = 0,
    progress: bool | None = None,
) -> OptimizerComparison:
    r"""Train the same MLP on MNIST-1D with every ``(method, weight_decay)`` setting and seed.

    ``method`` is one of :data:`~weightdecay.optim.METHODS` (built by :func:`~weightdecay.optim.make_optimizer`, SGD methods with
    ``sgd_lr`` and ``momentum``, Adam methods with ``adam_lr``); ``weight_decay`` is given
    to the weight matrices only (:func:`~weightdecay.optim.decay_param_groups`; biases are not decayed) and
    means what the method makes of it (an L2 coefficient for ``+L2``, a decoupled rate
    multiplied by the learning rate for ``SGDW`` and ``AdamW``).  For every seed:
    ``seed_everything(seed)``, ``mlp(40, hidden, 10)`` (the same initial weights for every
    setting), ``epochs`` epochs of :func:`weightdecay.training.train` on the training split
    of ``mnist1d(n_samples, seed=data_seed)`` (the same data for every seed), then the
    accuracy on the validation and test splits and the norm of every weight matrix.

    :data:`DEFAULT_SETTINGS` fix the decay strengths by one rule rather than a search: the
    decoupled methods shrink the weights by the same factor :math:`1-\eta\lambda = 1 - 3\cdot
    10^{-3}` per step (SGDW :math:`\lambda = 0.03` at :math:`\eta = 0.1`, AdamW
    :math:`\lambda = 1` at :math:`\eta = 3\cdot10^{-3}`); SGD+L2 gets
    :math:`\lambda_{\rm SGDW}(1-\mu) = 0.003`, which with momentum :math:`\mu = 0.9` has the
    same fixed points as that SGDW (:func:`~weightdecay.optim.stationary_l2_coefficient`) and decays about as
    fast; Adam+L2 gets the same penalty as SGD+L2 (the same objective).

    Parameters
    ----------
    settings : sequence of (str, float), default DEFAULT_SETTINGS
        ``(method, weight_decay)`` pairs.
    seeds : sequence of int, default (0, 1, 2, 3, 4)
        One run per seed and setting.
    epochs : int, default 30
        Training epochs.
    n_samples : int, default 3000
        Size of the MNIST-1D data set (60/20/20 train/validation/test).
    hidden : sequence of int, default (64, 64)
        Hidden widths of the MLP.
    sgd_lr, adam_lr : float, default 0.1 and 3e-3
        Learning rates of the SGD and the Adam methods.
    momentum : float, default 0.9
        Momentum of the SGD methods.
    batch_size : int, default 128
        Mini-batch size.
    data_seed : int, default 0
        Seed of the data set.
    progress : bool or None, default None
        A progress bar over the ``len(settings) * len(seeds)`` runs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  It never
        changes the result.

    Returns
    -------
    OptimizerComparison
        Accuracies, losses and weight norms per setting and seed.

    Raises
    ------
    ValueError
        If a setting is not a ``(method, weight_decay)`` pair of :data:`~weightdecay.optim.METHODS`, or a seed,
        size or learning rate is invalid.

    Examples
    --------
    A tiny configuration (the chapter's, 6 settings x 5 seeds x 30 epochs, takes minutes):

    >>> from weightdecay.experiments import optimizers as ex
    >>> res = ex.mnist1d_optimizer_comparison(
    ...     [("SGDW", 0.03), ("AdamW", 1.0)], seeds=[0], epochs=1, n_samples=100,
    ...     hidden=(8,), progress=False,
    ... )
    >>> res.test_acc.shape, res.layer_norms.shape
    ((2, 1), (2, 1, 2))
    """
    from ..data import mnist1d
    from ..reproducibility import seed_everything
    from ..training import evaluate, mlp, train

    settings = _check_settings(settings)
    seeds = check_seeds(seeds)
    epochs = check_positive_int(epochs, "epochs")
    sgd_lr, adam_lr = check_learning_rate(sgd_lr, "sgd_lr"), check_learning_rate(adam_lr, "adam_lr")
    data = mnist1d(n_samples, seed=data_seed)
    shape = (len(settings), len(seeds))
    test_acc, val_acc, train_loss = np.empty(shape), np.empty(shape), np.empty(shape)
    norms, layer_names = None, None
    runs = [(i, j) for i in range(len(settings)) for j in range(len(seeds))]  # setting-major, as before
    with single_thread():
        for i, j in progress_bar(runs, desc="mnist1d_optimizer_comparison", progress=progress):
            (method, lam), seed = settings[i], seeds[j]
            seed_everything(seed)
            model = mlp(40, hidden, 10)
            groups = decay_param_groups(model, lam)
            lr = sgd_lr if method.startswith("SGD") else adam_lr
            optimizer = make_optimizer(method, groups, lr=lr, momentum=momentum)
            hist = train(model, data.train, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                         val_data=data.val, seed=seed, progress=False)
            val_acc[i, j] = hist["val_acc"][-1]
            train_loss[i, j] = hist["train_loss"][-1]
            test_acc[i, j] = evaluate(model, data.test)["acc"]
            weights = [d.name for d in decay_decisions(model) if d.decay]
            if norms is None:
                layer_names = tuple(weights)
                norms = np.empty((*shape, len(weights)))
            params = dict(model.named_parameters())
            norms[i, j] = [float(params[n].detach().norm()) for n in layer_names]
    return OptimizerComparison(
        labels=tuple(f"{m} ({lam:g})" for m, lam in settings),
        methods=tuple(m for m, _ in settings),
        weight_decays=np.array([lam for _, lam in settings]),
        seeds=seeds,
        layer_names=layer_names,
        test_acc=test_acc,
        val_acc=val_acc,
        train_loss=train_loss,
        layer_norms=norms,
    )


@dataclass(frozen=True)
class BNDecayResult:
    r"""Results of :func:`bn_decay_experiment`, arrays ``(n_variants, n_seeds, …)``.

    Per epoch ``e`` (0-based, after epoch ``e + 1``): ``train_loss[v, s, e]`` (the mean
    mini-batch training loss of the epoch), ``val_acc[v, s, e]``,
    ``weight_norms[v, s, e, k]`` (the norm of the scale-invariant weight ``k``) and
    ``eff_lr[v, s, e, k]`` (its effective learning rate :math:`\eta/\lVert w\rVert^2`).
    ``initial_norms[s, k]`` are the norms at initialisation (the same for every variant).
    At the end of training: ``test_acc[v, s]`` and ``gamma_mean_abs[v, s, k]``, the mean
    :math:`|\gamma|` of BatchNorm layer ``k``.

    Parameters
    ----------
    variants : tuple of str
        :data:`BN_DECAY_VARIANTS`.
    seeds : tuple of int
        The seeds.
    weight_names : tuple of str
        The scale-invariant weights.
    bn_names : tuple of str
        The BatchNorm layers.
    lr : float
        The learning rate :math:`\eta`.
    train_loss, val_acc : ndarray
        Shape ``(n_variants, n_seeds, epochs)``.
    test_acc : ndarray
        Shape ``(n_variants, n_seeds)``.
    gamma_mean_abs : ndarray
        Shape ``(n_variants, n_seeds, n_bn)``.
    initial_norms : ndarray
        Shape ``(n_seeds, n_weights)``.
    weight_norms, eff_lr : ndarray
        Shape ``(n_variants, n_seeds, epochs, n_weights)``.

    Examples
    --------
    >>> from weightdecay.experiments import optimizers as ex
    >>> res = ex.bn_decay_experiment(
    ...     seeds=[0], epochs=2, n_samples=100, hidden=(8,), progress=False
    ... )
    >>> res.weight_names, res.bn_names, res.variant("weights only")
    (('0.weight',), ('1',), 1)
    >>> res.eff_lr.shape
    (3, 1, 2, 1)
    """

    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    weight_names: tuple[str, ...]
    bn_names: tuple[str, ...]
    lr: float
    train_loss: np.ndarray
    val_acc: np.ndarray
    test_acc: np.ndarray
    gamma_mean_abs: np.ndarray
    initial_norms: np.ndarray
    weight_norms: np.ndarray
    eff_lr: np.ndarray

    def variant(self, name: str) -> int:
        """Index of the variant ``name`` (one of :data:`BN_DECAY_VARIANTS`).

        Parameters
        ----------
        name : str
            ``"none"``, ``"weights only"`` or ``"all parameters"``.

        Returns
        -------
        int
            Its index along the first axis of the arrays.

        Raises
        ------
        ValueError
            If ``name`` is not a variant.
        """
        if name not in self.variants:
            raise ValueError(f"name must be one of {self.variants}; got {name!r}")
        return self.variants.index(name)


#: The parameter sets decayed in :func:`bn_decay_experiment`.
BN_DECAY_VARIANTS = ("none", "weights only", "all parameters")


def bn_decay_experiment(
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    weight_decay: float = 0.03,
    epochs: int = 20,
    n_samples: int = 3000,
    hidden: Sequence[int] = (64, 64),
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 128,
    data_seed: int = 0,
    progress: bool | None = None,
) -> BNDecayResult:
    r"""What weight decay does to a BatchNorm MLP on MNIST-1D, in three variants.

    The model is :func:`~weightdecay.optim.bn_mlp` ``(40, hidden, 10)``, trained with :class:`~weightdecay.optim.SGDW`
    (``lr``, ``momentum``, decoupled ``weight_decay``) on one of three parameter sets
    (:data:`BN_DECAY_VARIANTS`): ``"none"`` (no decay), ``"weights only"``
    (:func:`~weightdecay.optim.decay_param_groups`: the matrices, which BatchNorm makes scale-invariant, and
    the output layer's matrix) and ``"all parameters"`` (the source's proposal: also the
    output bias and BatchNorm's :math:`\gamma` and :math:`\beta`).  For every seed the three
    variants start from the same weights and see the same mini-batches, so differences
    between variants can be taken seed by seed.  Records, every epoch, the training loss,
    the validation accuracy and the norm and effective learning rate of the scale-invariant
    weights (:class:`~weightdecay.optim.EffectiveLearningRate`); at the end, the test accuracy and the mean
    :math:`|\gamma|` of every BatchNorm layer.

    Parameters
    ----------
    seeds : sequence of int, default (0, 1, 2, 3, 4)
        One run per seed and variant.
    weight_decay : float, default 0.03
        :class:`~weightdecay.optim.SGDW`'s decoupled rate.
    epochs : int, default 20
        Training epochs.
    n_samples : int, default 3000
        Size of the MNIST-1D data set.
    hidden : sequence of int, default (64, 64)
        Hidden widths of :func:`~weightdecay.optim.bn_mlp`.
    lr : float, default 0.1
        The learning rate.
    momentum : float, default 0.9
        SGDW's momentum.
    batch_size : int, default 128
        Mini-batch size.
    data_seed : int, default 0
        Seed of the data set.
    progress : bool or None, default None
        A progress bar over the ``3 * len(seeds)`` runs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  It never
        changes the result.

    Returns
    -------
    BNDecayResult
        Per-epoch curves, norms and effective learning rates, final accuracies and
        :math:`|\gamma|`.

    Raises
    ------
    ValueError
        If a seed, ``weight_decay``, ``epochs`` or ``lr`` is invalid.

    Examples
    --------
    A tiny configuration (the chapter's, 5 seeds x 20 epochs, takes about a minute):

    >>> from weightdecay.experiments import optimizers as ex
    >>> res = ex.bn_decay_experiment(
    ...     seeds=[0], epochs=2, n_samples=100, hidden=(8,), progress=False
    ... )
    >>> res.variants
    ('none', 'weights only', 'all parameters')
    >>> res.train_loss.shape, res.test_acc.shape
    ((3, 1, 2), (3, 1))
    """
    from ..data import mnist1d
    from ..reproducibility import seed_everything
    from ..training import evaluate, train

    seeds = check_seeds(seeds)
    weight_decay = check_lambda(weight_decay, "weight_decay")
    epochs = check_positive_int(epochs, "epochs")
    lr = check_learning_rate(lr)
    data = mnist1d(n_samples, seed=data_seed)
    probe = bn_mlp(40, hidden, 10)
    weight_names = tuple(scale_invariant_parameters(probe))
    bn_names = tuple(n for n, m in probe.named_modules() if isinstance(m, nn.BatchNorm1d))
    V, S, E, K = len(BN_DECAY_VARIANTS), len(seeds), epochs, len(weight_names)
    train_loss, val_acc, test_acc = np.empty((V, S, E)), np.empty((V, S, E)), np.empty((V, S))
    gammas = np.empty((V, S, len(bn_names)))
    initial = np.empty((S, K))
    norms, eff = np.empty((V, S, E, K)), np.empty((V, S, E, K))
    runs = [(v, s) for v in range(V) for s in range(S)]  # variant-major, as before
    with single_thread():
        for v, s in progress_bar(runs, desc="bn_decay_experiment", progress=progress):
            variant, seed = BN_DECAY_VARIANTS[v], seeds[s]
            seed_everything(seed)
            model = bn_mlp(40, hidden, 10)
            named = dict(model.named_parameters())
            initial[s] = [float(named[n].detach().double().norm()) for n in weight_names]
            if variant == "all parameters":
                params = [{"params": list(model.parameters()), "weight_decay": weight_decay}]
            else:
                params = decay_param_groups(model, weight_decay if variant == "weights only" else 0.0)
            optimizer = SGDW(params, lr=lr, momentum=momentum)
            monitor = EffectiveLearningRate(optimizer, weight_names)
            hist = train(model, data.train, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                         val_data=data.val, callbacks=[monitor], seed=seed, progress=False)
            train_loss[v, s] = hist["train_loss"]
            val_acc[v, s] = hist["val_acc"]
            test_acc[v, s] = evaluate(model, data.test)["acc"]
            modules = dict(model.named_modules())
            gammas[v, s] = [float(modules[b].weight.detach().abs().mean()) for b in bn_names]
            norms[v, s] = np.array([hist[f"norm/{n}"] for n in weight_names]).T
            eff[v, s] = np.array([hist[f"eff_lr/{n}"] for n in weight_names]).T
    return BNDecayResult(BN_DECAY_VARIANTS, seeds, weight_names, bn_names, lr, train_loss, val_acc, test_acc,
                         gammas, initial, norms, eff)
