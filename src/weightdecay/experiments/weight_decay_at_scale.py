r"""Experiments of the chapter "Weight decay at scale: timescales, schedules and equilibrium".

Fixed here: the data (MNIST-1D, a pool of training examples and a test set), the
architecture (a one-hidden-layer MLP for the AdamW sweeps, :func:`weightdecay.optim.bn_mlp`
for the equilibrium measurements) and the grids.

* :func:`train_mlp_ensemble` trains many small MLPs *at once* with AdamW: ``K`` models,
  each with its own seed, training subset and weight decay, are stacked into batched
  tensors and trained with one ``torch.optim.Adam``; decoupled decay is applied to the
  weight matrices before every Adam step, which is exactly what ``torch.optim.AdamW`` does
  (tested).  Adam acts coordinate by coordinate, so the models do not interact.
* :func:`dataset_size_sweep` — the test of Wang & Aitchison's rule: the best
  :math:`\lambda` at fixed :math:`\eta` for training sets of size :math:`n, 4n, 16n`.
* :func:`schedule_comparison` — cosine schedule, decay following the schedule or not.
* :func:`equilibrium_run` — per-step norms and angular updates of the scale-invariant
  weights of a BatchNorm MLP under SGD or AdamW.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..optim import (
    _check_seeds,
    bn_mlp,
    lr_schedule,
    scale_invariant_parameters,
)
from ..progress import progress_bar
from ..reproducibility import single_thread
from ..training import mlp
from ..validation import check_lambdas, check_learning_rate, check_momentum, check_positive_float, check_positive_int

__all__ = [
    "N_POOL",
    "N_TEST",
    "BASE_N",
    "SIZE_FACTORS",
    "LR",
    "BATCH_SIZE",
    "EPOCHS",
    "HIDDEN",
    "LAMBDAS",
    "data",
    "train_mlp_ensemble",
    "SizeSweep",
    "dataset_size_sweep",
    "ScheduleComparison",
    "schedule_comparison",
    "EquilibriumRun",
    "equilibrium_run",
]

#: Training pool and test-set sizes (MNIST-1D, generated with data seed 0).
N_POOL, N_TEST = 4000, 1000
#: Smallest training set and the factors of the sweep: n = 250, 1000, 4000.
BASE_N, SIZE_FACTORS = 250, (1, 4, 16)
#: AdamW's learning rate, batch size, epochs and hidden width for the sweeps.
LR, BATCH_SIZE, EPOCHS, HIDDEN = 0.01, 50, 20, 32
#: The weight-decay grid (PyTorch's convention), factors of 4 apart.
LAMBDAS = (1 / 16, 1 / 4, 1.0, 4.0, 16.0)


def data():
    """MNIST-1D: ``(X_pool, y_pool, X_test, y_test)`` with ``N_POOL`` and ``N_TEST`` rows.

    Generated with data seed 0 by :func:`weightdecay.data.mnist1d` (the same arrays on every
    call).

    Returns
    -------
    X_pool : ndarray of shape (N_POOL, 40)
        Training pool, float32.
    y_pool : ndarray of shape (N_POOL,)
        Its labels, int64 in ``0..9``.
    X_test : ndarray of shape (N_TEST, 40)
        Test inputs.
    y_test : ndarray of shape (N_TEST,)
        Test labels.

    Examples
    --------
    Generating the 5,000 signals takes several seconds, too long for a doctest:

    >>> from weightdecay.experiments import weight_decay_at_scale as ex
    >>> X, y, Xt, yt = ex.data()  # doctest: +SKIP
    >>> X.shape, Xt.shape  # doctest: +SKIP
    ((4000, 40), (1000, 40))
    """
    from ..data import mnist1d

    splits = mnist1d(N_POOL + N_TEST, seed=0, val_fraction=0.0, test_fraction=N_TEST / (N_POOL + N_TEST))
    return splits.X_train, splits.y_train, splits.X_test, splits.y_test


def _stacked_init(seeds, hidden, in_features=40, out_features=10):
    """Stack the initial weights of ``mlp(in, [hidden], out)`` built after ``manual_seed(seed)``."""
    Ws1, bs1, Ws2, bs2 = [], [], [], []
    for seed in seeds:
        torch.manual_seed(seed)
        net = mlp(in_features, [hidden], out_features)
        Ws1.append(net[0].weight.detach().T.clone())
        bs1.append(net[0].bias.detach().clone())
        Ws2.append(net[2].weight.detach().T.clone())
        bs2.append(net[2].bias.detach().clone())
    return [
        nn.Parameter(torch.stack(Ws1)),  # (K, in, h)
        nn.Parameter(torch.stack(bs1)[:, None, :]),  # (K, 1, h)
        nn.Parameter(torch.stack(Ws2)),  # (K, h, out)
        nn.Parameter(torch.stack(bs2)[:, None, :]),  # (K, 1, out)
    ]


def _forward(params, X):
    W1, b1, W2, b2 = params
    return torch.relu(X @ W1 + b1) @ W2 + b2  # X: (K, m, in) -> (K, m, out)


def train_mlp_ensemble(
    X,
    y,
    subsets,
    X_test,
    y_test,
    *,
    weight_decays,
    seeds: Sequence[int],
    lr: float = LR,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    hidden: int = HIDDEN,
    schedule: str = "constant",
    coupled: bool = True,
    progress: bool | None = None,
) -> dict:
    r"""Train ``K`` one-hidden-layer MLPs with AdamW at once; return their test metrics.

    Model ``k`` is ``mlp(40, [hidden], 10)`` initialised after ``torch.manual_seed(seeds[k])``,
    trained on the rows ``subsets[k]`` of ``(X, y)`` for ``epochs`` epochs of mini-batches
    of ``batch_size`` (a fresh permutation each epoch, from a generator seeded with
    ``seeds[k]``), with Adam (default betas) at the learning rate of
    :func:`weightdecay.optim.lr_schedule` ``(schedule, lr, steps)`` and decoupled decay
    ``weight_decays[k]`` on both weight matrices (not the biases):
    ``coupled=True`` shrinks by :math:`1-\eta_t\lambda` (``torch.optim.AdamW`` with a
    scheduler), ``coupled=False`` by :math:`1-\eta_{\max}\lambda` at every step.

    Parameters
    ----------
    X, y : arrays
        Training pool, ``(N, 40)`` float and ``(N,)`` integer labels.
    subsets : array of int, shape ``(K, n)``
        Row indices of each model's training set (``n`` divisible by ``batch_size``).
    X_test, y_test : arrays
        Test set.
    weight_decays : array_like, shape ``(K,)``
    seeds : sequence of int, length ``K``
    lr, epochs, batch_size, hidden, schedule, coupled
        As described above.
    progress : bool or None, default None
        A progress bar over the epochs; ``None`` follows ``WEIGHTDECAY_PROGRESS``
        (:func:`weightdecay.progress.progress_enabled`).  It never changes the result.

    Returns
    -------
    dict
        ``"test_acc"``, ``"test_loss"``, ``"train_acc"`` (arrays ``(K,)``) and
        ``"params"`` (the four stacked parameter tensors, ``W1`` of shape ``(K, 40, hidden)``
        holding the transposed first-layer weights).

    Raises
    ------
    ValueError
        If the shapes of ``weight_decays``, ``seeds`` and ``subsets`` disagree, the subset
        size is not divisible by ``batch_size``, or a hyperparameter is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.experiments.weight_decay_at_scale import train_mlp_ensemble
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 40)).astype(np.float32)
    >>> y = np.arange(20) % 10
    >>> out = train_mlp_ensemble(
    ...     X, y, [np.arange(20)], X, y, weight_decays=[0.1],
    ...     seeds=[0], epochs=2, batch_size=10, hidden=8, progress=False,
    ... )
    >>> out["test_acc"].shape
    (1,)
    """
    seeds = _check_seeds(seeds)
    lams = check_lambdas(weight_decays, "weight_decays")
    subsets = np.asarray(subsets)
    K = len(seeds)
    if lams.shape != (K,) or subsets.ndim != 2 or subsets.shape[0] != K:
        raise ValueError(
            f"weight_decays must have shape ({K},) and subsets ({K}, n); got {lams.shape} and {subsets.shape}"
        )
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    n = subsets.shape[1]
    if n % batch_size:
        raise ValueError(f"the subset size {n} must be divisible by batch_size={batch_size}")
    steps_per_epoch = n // batch_size
    lrs = lr_schedule(schedule, lr, epochs * steps_per_epoch)
    lr_max = float(lrs.max())
    if not isinstance(coupled, bool):
        raise ValueError(f"coupled must be True or False; got {coupled!r}")
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y, dtype=np.int64))
    Xt = torch.as_tensor(np.asarray(X_test, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y_test, dtype=np.int64))
    sub = torch.as_tensor(subsets, dtype=torch.int64)
    lam = torch.as_tensor(lams, dtype=torch.float32)[:, None, None]
    with single_thread():
        params = _stacked_init(seeds, check_positive_int(hidden, "hidden"))
        weights = (params[0], params[2])
        optimizer = torch.optim.Adam(params, lr=lr_max)
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        step = 0
        for _ in progress_bar(range(epochs), desc="train_mlp_ensemble", progress=progress):
            order = torch.stack([sub[k][torch.randperm(n, generator=g)] for k, g in enumerate(generators)])
            for i in range(steps_per_epoch):
                idx = order[:, i * batch_size : (i + 1) * batch_size]  # (K, B)
                out = _forward(params, X[idx])
                loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y[idx].reshape(-1),
                                                   reduction="sum") / batch_size
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                eta = float(lrs[step])
                with torch.no_grad():
                    factor = 1 - (eta if coupled else lr_max) * lam
                    for w in weights:
                        w.mul_(factor)
                for group in optimizer.param_groups:
                    group["lr"] = eta
                optimizer.step()
                step += 1
        with torch.no_grad():
            out_test = _forward(params, Xt.expand(K, *Xt.shape))
            test_loss = nn.functional.cross_entropy(out_test.transpose(1, 2), yt.expand(K, -1),
                                                    reduction="none").mean(dim=1)
            test_acc = (out_test.argmax(-1) == yt).float().mean(dim=1)
            out_train = _forward(params, X[sub])
            train_acc = (out_train.argmax(-1) == y[sub]).float().mean(dim=1)
    return {
        "test_acc": test_acc.double().numpy(),
        "test_loss": test_loss.double().numpy(),
        "train_acc": train_acc.double().numpy(),
        "params": [p.detach() for p in params],
    }


def _subsets(n: int, seeds, n_pool: int = N_POOL) -> np.ndarray:
    """A random subset of ``n`` pool rows per seed (all rows when ``n == n_pool``)."""
    return np.stack([np.sort(np.random.default_rng([seed, n]).permutation(n_pool)[:n]) for seed in seeds])


@dataclass(frozen=True)
class SizeSweep:
    """Result of :func:`dataset_size_sweep`, arrays ``(n_sizes, n_lambdas, n_seeds)``.

    ``test_acc[i, j, s]`` is for size ``sizes[i]``, weight decay ``lambdas[j]`` and seed
    ``seeds[s]`` (likewise ``test_loss``, ``train_acc``).

    Parameters
    ----------
    sizes : tuple of int
        The training-set sizes.
    lambdas : ndarray
        The weight-decay grid.
    seeds : tuple of int
        The seeds.
    test_acc, test_loss, train_acc : ndarray
        Shape ``(len(sizes), len(lambdas), len(seeds))``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.experiments import weight_decay_at_scale as ex
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 40)).astype(np.float32)
    >>> y = rng.integers(0, 10, size=200)
    >>> pool = (X, y, X[:50], y[:50])  # a stand-in for data(): (X_pool, y_pool, X_test, y_test)
    >>> sweep = ex.dataset_size_sweep(
    ...     seeds=[0], base_n=20, factors=[1, 2], lambdas=[0.1, 1.0], epochs=1,
    ...     batch_size=10, hidden=8, pool=pool, progress=False,
    ... )
    >>> sweep.sizes, sweep.test_acc.shape
    ((20, 40), (2, 2, 1))
    """

    sizes: tuple[int, ...]
    lambdas: np.ndarray
    seeds: tuple[int, ...]
    test_acc: np.ndarray
    test_loss: np.ndarray
    train_acc: np.ndarray


def dataset_size_sweep(
    seeds: Sequence[int] = tuple(range(6)),
    *,
    base_n: int = BASE_N,
    factors: Sequence[int] = SIZE_FACTORS,
    lambdas=LAMBDAS,
    lr: float = LR,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    hidden: int = HIDDEN,
    pool=None,
    progress: bool | None = None,
) -> SizeSweep:
    r"""Test accuracy of AdamW-trained MLPs over training-set sizes and weight decays.

    For every size :math:`n` = ``base_n * factor`` all ``len(lambdas) * len(seeds)``
    models are trained together by :func:`train_mlp_ensemble` (same ``lr``, batch size
    and number of *epochs* for every size, so a larger set gets proportionally more
    steps).  Seed ``s`` fixes the initialisation, the mini-batch order and the training
    subset drawn from the pool; for a given seed and size every :math:`\lambda` sees the
    same subset, initialisation and batches.

    Parameters
    ----------
    seeds : sequence of int
        One initialisation, batch order and training subset per seed.
    base_n : int
        The smallest training set.
    factors : sequence of int
        The sizes are ``base_n * factor``.
    lambdas : array_like
        The weight-decay grid.
    lr, epochs, batch_size, hidden
        See :func:`train_mlp_ensemble`.
    pool : tuple, optional
        ``(X_pool, y_pool, X_test, y_test)``; default :func:`data`.
    progress : bool or None, default None
        Progress bars over the sizes and, inside, the epochs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  They never
        change the result.

    Returns
    -------
    SizeSweep
        Test accuracy and loss and training accuracy per size, λ and seed.

    Raises
    ------
    ValueError
        If the largest size exceeds the pool, or an argument is invalid.

    Examples
    --------
    A tiny configuration on a random stand-in for the pool (the chapter's sweep, on
    :func:`data`, takes minutes):

    >>> import numpy as np
    >>> from weightdecay.experiments import weight_decay_at_scale as ex
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 40)).astype(np.float32)
    >>> y = rng.integers(0, 10, size=200)
    >>> pool = (X, y, X[:50], y[:50])  # a stand-in for data(): (X_pool, y_pool, X_test, y_test)
    >>> sweep = ex.dataset_size_sweep(
    ...     seeds=[0, 1], base_n=20, factors=[1, 4], lambdas=[0.1, 1.0], epochs=1,
    ...     batch_size=10, hidden=8, pool=pool, progress=False,
    ... )
    >>> sweep.sizes, sweep.test_loss.shape
    ((20, 80), (2, 2, 2))
    """
    seeds = _check_seeds(seeds)
    lambdas = check_lambdas(lambdas, "lambdas")
    X, y, Xt, yt = pool if pool is not None else data()
    sizes = tuple(check_positive_int(base_n, "base_n") * check_positive_int(f, "factor") for f in factors)
    if max(sizes) > len(y):
        raise ValueError(f"the largest size {max(sizes)} exceeds the pool of {len(y)} examples")
    L, S = len(lambdas), len(seeds)
    shape = (len(sizes), L, S)
    acc, loss, tr = np.empty(shape), np.empty(shape), np.empty(shape)
    for i, n in enumerate(progress_bar(sizes, desc="dataset_size_sweep", progress=progress)):
        subsets = _subsets(n, seeds, len(y))
        out = train_mlp_ensemble(
            X, y, np.tile(subsets, (L, 1)), Xt, yt,
            weight_decays=np.repeat(lambdas, S), seeds=list(seeds) * L,
            lr=lr, epochs=epochs, batch_size=batch_size, hidden=hidden, progress=progress,
        )
        acc[i] = out["test_acc"].reshape(L, S)
        loss[i] = out["test_loss"].reshape(L, S)
        tr[i] = out["train_acc"].reshape(L, S)
    return SizeSweep(sizes, lambdas, seeds, acc, loss, tr)


@dataclass(frozen=True)
class ScheduleComparison:
    """Result of :func:`schedule_comparison`, arrays ``(2, n_lambdas, n_seeds)``.

    ``test_acc[v, j, s]`` is for variant ``variants[v]`` (``"scheduled"``: the decay follows
    the schedule; ``"constant"``: it does not), weight decay ``lambdas[j]`` and seed
    ``seeds[s]``.

    Parameters
    ----------
    variants : tuple of str
        ``("scheduled", "constant")``.
    lambdas : ndarray
        The weight-decay grid.
    seeds : tuple of int
        The seeds.
    n : int
        The training-set size.
    test_acc, test_loss : ndarray
        Shape ``(2, len(lambdas), len(seeds))``.
    weight_norm : ndarray
        Same shape: the final Frobenius norm of the first-layer weights.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.experiments import weight_decay_at_scale as ex
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 40)).astype(np.float32)
    >>> y = rng.integers(0, 10, size=200)
    >>> pool = (X, y, X[:50], y[:50])  # a stand-in for data(): (X_pool, y_pool, X_test, y_test)
    >>> cmp = ex.schedule_comparison(
    ...     seeds=[0], n=40, lambdas=[0.1, 1.0], epochs=1, batch_size=10, hidden=8,
    ...     pool=pool, progress=False,
    ... )
    >>> cmp.variants, cmp.weight_norm.shape
    (('scheduled', 'constant'), (2, 2, 1))
    """

    variants: tuple[str, ...]
    lambdas: np.ndarray
    seeds: tuple[int, ...]
    n: int
    test_acc: np.ndarray
    test_loss: np.ndarray
    weight_norm: np.ndarray


def schedule_comparison(
    seeds: Sequence[int] = tuple(range(6)),
    *,
    n: int = 1000,
    schedule: str = "cosine",
    lambdas=(1 / 4, 1.0, 4.0),
    lr: float = LR,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    hidden: int = HIDDEN,
    pool=None,
    progress: bool | None = None,
) -> ScheduleComparison:
    r"""AdamW under a decaying schedule, with the decay following the schedule or not.

    Same models as :func:`dataset_size_sweep` at one size ``n``; for every seed and
    :math:`\lambda` the two variants start from the same weights and see the same batches.
    ``weight_norm[v, j, s]`` is the final Frobenius norm of the first-layer weights.

    Parameters
    ----------
    seeds : sequence of int
        One initialisation, batch order and training subset per seed.
    n : int
        Training-set size.
    schedule : {"cosine", "linear", "constant"}
        The learning-rate schedule (:func:`weightdecay.optim.lr_schedule`).
    lambdas : array_like
        The weight-decay grid.
    lr, epochs, batch_size, hidden, pool
        See :func:`dataset_size_sweep`.
    progress : bool or None, default None
        Progress bars over the two variants and, inside, the epochs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  They never
        change the result.

    Returns
    -------
    ScheduleComparison
        Test accuracy and loss and first-layer norm per variant, λ and seed.

    Raises
    ------
    ValueError
        If an argument is invalid.

    Examples
    --------
    A tiny configuration on a random stand-in for the pool (the chapter's, on :func:`data`,
    takes minutes):

    >>> import numpy as np
    >>> from weightdecay.experiments import weight_decay_at_scale as ex
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 40)).astype(np.float32)
    >>> y = rng.integers(0, 10, size=200)
    >>> pool = (X, y, X[:50], y[:50])  # a stand-in for data(): (X_pool, y_pool, X_test, y_test)
    >>> cmp = ex.schedule_comparison(
    ...     seeds=[0, 1], n=40, lambdas=[0.1, 1.0], epochs=1, batch_size=10, hidden=8,
    ...     pool=pool, progress=False,
    ... )
    >>> cmp.test_loss.shape
    (2, 2, 2)
    """
    seeds = _check_seeds(seeds)
    lambdas = check_lambdas(lambdas, "lambdas")
    X, y, Xt, yt = pool if pool is not None else data()
    n = check_positive_int(n, "n")
    L, S = len(lambdas), len(seeds)
    subsets = np.tile(_subsets(n, seeds, len(y)), (L, 1))
    variants = ("scheduled", "constant")
    acc, loss, norm = np.empty((2, L, S)), np.empty((2, L, S)), np.empty((2, L, S))
    for v, coupled in enumerate(progress_bar((True, False), desc="schedule_comparison", progress=progress)):
        out = train_mlp_ensemble(
            X, y, subsets, Xt, yt, weight_decays=np.repeat(lambdas, S), seeds=list(seeds) * L,
            lr=lr, epochs=epochs, batch_size=batch_size, hidden=hidden, schedule=schedule, coupled=coupled,
            progress=progress,
        )
        acc[v] = out["test_acc"].reshape(L, S)
        loss[v] = out["test_loss"].reshape(L, S)
        norm[v] = out["params"][0].double().pow(2).sum(dim=(1, 2)).sqrt().numpy().reshape(L, S)
    return ScheduleComparison(variants, lambdas, seeds, n, acc, loss, norm)


@dataclass(frozen=True)
class EquilibriumRun:
    r"""Result of :func:`equilibrium_run`: arrays ``(n_seeds, steps, n_layers)``.

    ``norms[s, t, k]`` is :math:`\lVert w_k\rVert` after step ``t + 1``; ``angles[s, t, k]``
    the angle between :math:`w_k` before and after step ``t + 1``;
    ``unit_grad_norms[s, t, k]`` is :math:`\lVert\nabla_{w_k}\rVert\,\lVert w_k\rVert`, the
    gradient norm the weight would have at unit norm (before the step).
    ``initial_norms[s, k]``, ``n_elements[k]``.

    Parameters
    ----------
    optimizer : str
        ``"sgd"`` or ``"adamw"``.
    lr, weight_decay, momentum : float
        The hyperparameters of the run.
    seeds : tuple of int
        The seeds.
    weight_names : tuple of str
        The scale-invariant weights, as named in :func:`weightdecay.optim.bn_mlp`.
    n_elements : tuple of int
        Their numbers of coordinates.
    initial_norms : ndarray
        Shape ``(n_seeds, n_layers)``.
    norms, angles, unit_grad_norms : ndarray
        Shape ``(n_seeds, steps, n_layers)``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.experiments import weight_decay_at_scale as ex
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 40)).astype(np.float32)
    >>> y = rng.integers(0, 10, size=200)
    >>> pool = (X, y, X[:50], y[:50])  # a stand-in for data(): (X_pool, y_pool, X_test, y_test)
    >>> run = ex.equilibrium_run(
    ...     "adamw", seeds=[0], lr=0.01, weight_decay=0.1, momentum=0.9, steps=3,
    ...     batch_size=50, hidden=(8, 8), pool=pool, progress=False,
    ... )
    >>> run.weight_names, run.n_elements, run.angles.shape
    (('0.weight', '3.weight'), (320, 64), (1, 3, 2))
    """

    optimizer: str
    lr: float
    weight_decay: float
    momentum: float
    seeds: tuple[int, ...]
    weight_names: tuple[str, ...]
    n_elements: tuple[int, ...]
    initial_norms: np.ndarray
    norms: np.ndarray
    angles: np.ndarray
    unit_grad_norms: np.ndarray


def _stacked_bn_init(seeds, in_features, hidden, out_features):
    """Stack the parameters of ``bn_mlp(in, hidden, out)`` built after ``manual_seed(seed)``."""
    nets = []
    for seed in seeds:
        torch.manual_seed(seed)
        nets.append(bn_mlp(in_features, hidden, out_features))
    n_hidden = len(hidden)
    Ws, gammas, betas = [], [], []
    for layer in range(n_hidden):
        lin, bn = 3 * layer, 3 * layer + 1
        Ws.append(nn.Parameter(torch.stack([m[lin].weight.detach().T for m in nets])))  # (K, in, h)
        gammas.append(nn.Parameter(torch.stack([m[bn].weight.detach() for m in nets])[:, None, :]))
        betas.append(nn.Parameter(torch.stack([m[bn].bias.detach() for m in nets])[:, None, :]))
    out = nets[0][-1]
    W_out = nn.Parameter(torch.stack([m[-1].weight.detach().T for m in nets]))
    b_out = nn.Parameter(torch.stack([m[-1].bias.detach() for m in nets])[:, None, :])
    return Ws, gammas, betas, W_out, b_out, out.in_features, nets[0][1].eps


def _bn_forward(Ws, gammas, betas, W_out, b_out, X, eps):
    """Training-mode forward pass of the stacked BatchNorm MLPs; X: (K, m, in)."""
    h = X
    for W, g, b in zip(Ws, gammas, betas):
        z = h @ W
        mean = z.mean(dim=1, keepdim=True)
        var = z.var(dim=1, unbiased=False, keepdim=True)
        h = torch.relu((z - mean) / torch.sqrt(var + eps) * g + b)
    return h @ W_out + b_out


def equilibrium_run(
    optimizer: str = "sgd",
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    lr: float = 0.2,
    weight_decay: float = 0.02,
    momentum: float = 0.0,
    steps: int = 600,
    batch_size: int = 100,
    hidden: Sequence[int] = (32, 32),
    init_scale: float = 1.0,
    pool=None,
    progress: bool | None = None,
) -> EquilibriumRun:
    r"""Per-step norms and angular updates of the scale-invariant weights of BatchNorm MLPs.

    One :func:`weightdecay.optim.bn_mlp` ``(40, hidden, 10)`` per seed, initialised after
    ``torch.manual_seed(seed)`` (its hidden weights then multiplied by ``init_scale``), is
    trained on the MNIST-1D pool for ``steps`` mini-batch steps (batches drawn by a
    generator seeded with the seed, reshuffled after each pass) with ``"sgd"``
    (``torch.optim.SGD`` with ``momentum`` and ``weight_decay``, the penalty convention) or
    ``"adamw"`` (``torch.optim.AdamW``, ``momentum`` as :math:`\beta_1`,
    :math:`\beta_2 = 0.999`); the weight matrices are decayed (as by
    :func:`weightdecay.optim.decay_param_groups`), BatchNorm's parameters and the output
    bias are not.  The models of all seeds are stacked into batched tensors and trained
    together (they do not interact; tested against ``bn_mlp`` trained alone).

    Parameters
    ----------
    optimizer : {"sgd", "adamw"}
        The optimiser.
    seeds : sequence of int
        One model per seed.
    lr, weight_decay, momentum : float
        Learning rate, ``weight_decay`` (:math:`> 0`) and momentum (:math:`\beta_1` for AdamW).
    steps, batch_size : int
        Number of steps and mini-batch size (at most the pool size).
    hidden : sequence of int
        Hidden widths.
    init_scale : float
        Factor applied to the initial hidden weights (to start above or below equilibrium).
    pool : tuple, optional
        ``(X_pool, y_pool, X_test, y_test)``; default :func:`data`.
    progress : bool or None, default None
        A progress bar over the steps; ``None`` follows ``WEIGHTDECAY_PROGRESS``
        (:func:`weightdecay.progress.progress_enabled`).  It never changes the result.

    Returns
    -------
    EquilibriumRun
        Per-step norms, angular updates and unit-norm gradient norms.

    Raises
    ------
    ValueError
        If ``optimizer`` is unknown or an argument is invalid.

    Examples
    --------
    A few steps on a random stand-in for the pool (the chapter runs 600 steps on
    :func:`data`):

    >>> import numpy as np
    >>> from weightdecay.experiments import weight_decay_at_scale as ex
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 40)).astype(np.float32)
    >>> y = rng.integers(0, 10, size=200)
    >>> pool = (X, y, X[:50], y[:50])  # a stand-in for data(): (X_pool, y_pool, X_test, y_test)
    >>> run = ex.equilibrium_run(
    ...     "sgd", seeds=[0, 1], steps=5, batch_size=50, hidden=(8, 8), pool=pool, progress=False
    ... )
    >>> run.norms.shape, run.initial_norms.shape
    ((2, 5, 2), (2, 2))
    >>> bool((run.angles > 0).all())
    True
    """
    if optimizer not in ("sgd", "adamw"):
        raise ValueError(f"optimizer must be 'sgd' or 'adamw'; got {optimizer!r}")
    seeds = _check_seeds(seeds)
    lr = check_learning_rate(lr)
    momentum = check_momentum(momentum)
    weight_decay = check_positive_float(weight_decay, "weight_decay")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    init_scale = check_positive_float(init_scale, "init_scale")
    X, y, _, _ = pool if pool is not None else data()
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y, dtype=np.int64))
    N = X.shape[0]
    if batch_size > N:
        raise ValueError(f"batch_size must be <= {N}; got {batch_size}")
    probe = bn_mlp(X.shape[1], hidden, 10)
    names = tuple(scale_invariant_parameters(probe))
    sizes = tuple(dict(probe.named_parameters())[nm].numel() for nm in names)
    K = len(seeds)
    with single_thread():
        Ws, gammas, betas, W_out, b_out, _, eps = _stacked_bn_init(seeds, X.shape[1], hidden, 10)
        with torch.no_grad():
            for W in Ws:
                W.mul_(init_scale)
        groups = [
            {"params": [*Ws, W_out], "weight_decay": weight_decay},
            {"params": [*gammas, *betas, b_out], "weight_decay": 0.0},
        ]
        if optimizer == "sgd":
            opt = torch.optim.SGD(groups, lr=lr, momentum=momentum)
        else:
            opt = torch.optim.AdamW(groups, lr=lr, betas=(float(momentum), 0.999))
        init = torch.stack([W.detach().double().pow(2).sum(dim=(1, 2)).sqrt() for W in Ws], dim=1)
        L = len(Ws)
        norms = torch.empty(steps, K, L, dtype=torch.float64)
        angles, gnorms = torch.empty_like(norms), torch.empty_like(norms)
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        order = torch.stack([torch.randperm(N, generator=g) for g in generators])
        pos = 0
        for t in progress_bar(range(steps), desc="equilibrium_run", progress=progress):
            if pos + batch_size > N:
                order, pos = torch.stack([torch.randperm(N, generator=g) for g in generators]), 0
            idx = order[:, pos : pos + batch_size]
            pos += batch_size
            out = _bn_forward(Ws, gammas, betas, W_out, b_out, X[idx], eps)
            loss = nn.functional.cross_entropy(out.reshape(-1, 10), y[idx].reshape(-1), reduction="sum")
            opt.zero_grad(set_to_none=True)
            (loss / batch_size).backward()
            with torch.no_grad():
                before = [W.detach().double() for W in Ws]  # .double() copies
                nb = torch.stack([b.pow(2).sum(dim=(1, 2)).sqrt() for b in before], dim=1)
                gn = torch.stack([W.grad.double().pow(2).sum(dim=(1, 2)).sqrt() for W in Ws], dim=1)
                gnorms[t] = gn * nb
                opt.step()
                for k, (b, W) in enumerate(zip(before, Ws)):
                    a = W.detach().double()
                    na = a.pow(2).sum(dim=(1, 2)).sqrt()
                    ua, ub = a / na[:, None, None], b / nb[:, k, None, None]
                    cos = (ua * ub).sum(dim=(1, 2))
                    sin = (ua - cos[:, None, None] * ub).pow(2).sum(dim=(1, 2)).sqrt()
                    angles[t, :, k] = torch.atan2(sin, cos)
                    norms[t, :, k] = na
    return EquilibriumRun(
        optimizer, lr, weight_decay, float(momentum), seeds, names, sizes, init.numpy(),
        norms.permute(1, 0, 2).numpy().copy(), angles.permute(1, 0, 2).numpy().copy(),
        gnorms.permute(1, 0, 2).numpy().copy(),
    )
