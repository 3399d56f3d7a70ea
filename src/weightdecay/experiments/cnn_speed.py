r"""Experiments of the chapter "Does weight decay make CNN training faster?" (``cnn_speed``).

Fixed here: the chapter's grids.  The network, the training loop and the timing tools are
reusable building blocks and live in :mod:`weightdecay.cnn`; what this module adds is the
design of the chapter's two measurements.

* :func:`speed_switches` — where training speed comes from: the images per second of an
  fp32 baseline with the data on the device, against one engineering switch at a time
  (data on the host, bf16 autocast, ``channels_last``, ``torch.compile``, a 4× batch, all
  together), each timed by :func:`weightdecay.cnn.throughput`.
* :func:`time_to_accuracy_experiment` — where weight decay does act: one training run of
  :func:`weightdecay.cnn.train` per (weight decay, seed), a seed fixing the initialisation
  and the batch order for every weight decay; :class:`TTAResult` holds the traces and
  :meth:`TTAResult.summary` reduces them to means and standard errors over the seeds, with
  final accuracies *paired* against the first weight decay (the baseline).

The chapter calls them with MNIST-1D and ``weightdecay.cnn.fast_resnet((8, 16, 32, 64), dims=1)``
on the CPU, and with CIFAR-10 (or a larger MNIST-1D) and Page's ResNet-9 on a GPU.

Both loop for long and take ``progress=None``: a progress bar unless ``progress=False`` or the
environment variable ``WEIGHTDECAY_PROGRESS=0`` (set by ``make execute`` and ``make test``)
says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..cnn import _check_device, throughput, time_to_accuracy, train
from ..progress import progress_bar
from ..stats import mean_se
from ..validation import check_lambdas, check_nonnegative_int, check_positive_int, check_probability

__all__ = [
    "speed_switches",
    "TTAResult",
    "time_to_accuracy_experiment",
]

# ---------------------------------------------------------------------------------------
# Where speed comes from
# ---------------------------------------------------------------------------------------


def speed_switches(
    make_model: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    device=None,
    switches: Sequence[str] = ("data on host", "bf16 autocast", "channels_last", "torch.compile", "4x batch"),
    repeats: int = 10,
    warmup: int = 3,
    progress: bool | None = None,
) -> list[dict]:
    """Images per second of a baseline (fp32, data on the device) and one switch at a time.

    Each switch is measured alone against the same baseline: ``"data on host"`` (copy each
    batch from host memory), ``"bf16 autocast"``, ``"channels_last"``, ``"torch.compile"``,
    ``"4x batch"`` (the batch repeated four times), and ``"all"`` (autocast, channels_last,
    compile, 4× batch together).  Returns one dict per row with ``"setting"``,
    ``"images_per_s"`` and ``"speedup"`` (relative to the baseline).

    Parameters
    ----------
    make_model : callable
        ``make_model() -> nn.Module``, built afresh for every setting.
    x : torch.Tensor
        One batch of inputs.
    y : torch.Tensor
        Its integer labels.
    device : torch.device or str, optional
        Where to train (default: the CPU).
    switches : sequence of str
        The settings to measure after the baseline, from the list above.
    repeats : int
        Timed steps per setting.
    warmup : int
        Untimed steps per setting.
    progress : bool or None
        A progress bar over the settings; ``None`` follows ``WEIGHTDECAY_PROGRESS``.

    Returns
    -------
    list of dict
        The baseline's row first, then one row per switch.

    Raises
    ------
    ValueError
        If a switch is unknown or the device is invalid.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.experiments.cnn_speed import speed_switches
    >>> x, y = torch.randn(16, 8), torch.arange(16) % 4
    >>> rows = speed_switches(lambda: torch.nn.Linear(8, 4), x, y, switches=("4x batch",),
    ...                       repeats=2, warmup=1, progress=False)
    >>> [row["setting"] for row in rows], rows[0]["speedup"]
    (['baseline (fp32, data on device)', '4x batch'], 1.0)

    The chapter's measurement needs a CUDA GPU (and compiles the model twice, minutes)::

        rows = speed_switches(lambda: fast_resnet(), x, y, device="cuda",
                              switches=("data on host", "bf16 autocast", "channels_last",
                                        "torch.compile", "4x batch", "all"))
    """
    known = {"data on host", "bf16 autocast", "channels_last", "torch.compile", "4x batch", "all"}
    unknown = [s for s in switches if s not in known]
    if unknown:
        raise ValueError(f"unknown switches {unknown}; choose from {sorted(known)}")
    device = _check_device(device)
    kw = dict(device=device, repeats=repeats, warmup=warmup)
    x4, y4 = x.repeat(4, *[1] * (x.ndim - 1)), y.repeat(4)
    settings = {
        "baseline (fp32, data on device)": (x, y, {}),
        "data on host": (x, y, dict(data_on_device=False)),
        "bf16 autocast": (x, y, dict(autocast=True)),
        "channels_last": (x, y, dict(channels_last=True)),
        "torch.compile": (x, y, dict(compile=True)),
        "4x batch": (x4, y4, {}),
        "all": (x4, y4, dict(autocast=True, channels_last=True, compile=True)),
    }
    rows = []
    bar = progress_bar(["baseline (fp32, data on device)", *switches], desc="settings", progress=progress)
    for name in bar:
        bar.set_postfix({"setting": name})
        xs, ys, opts = settings[name]
        ips, _ = throughput(make_model, xs, ys, **opts, **kw, progress=False)
        rows.append({"setting": name, "images_per_s": ips})
    bar.close()
    base = rows[0]["images_per_s"]
    for row in rows:
        row["speedup"] = row["images_per_s"] / base
    return rows

# ---------------------------------------------------------------------------------------
# Time to accuracy
# ---------------------------------------------------------------------------------------


@dataclass
class TTAResult:
    r"""Traces of a grid of trainings; arrays are indexed ``[weight_decay, seed, epoch]``.

    Epoch 0 is the initial state.  ``epochs_to_target`` and ``seconds_to_target`` are
    ``[weight_decay, seed]`` arrays with NaN where the target was not reached.

    Parameters
    ----------
    weight_decays : ndarray of shape (K,)
        The weight decays of the grid.
    seeds : tuple of int
        Its seeds (S of them).
    target : float
        The test accuracy whose first epoch is recorded.
    test_acc : ndarray of shape (K, S, E + 1)
        Test accuracy after each epoch.
    train_loss : ndarray of shape (K, S, E + 1)
        Mean training loss of each epoch (NaN at epoch 0).
    weight_norm : ndarray of shape (K, S, E + 1)
        Total norm of the scale-invariant weights.
    effective_lr : ndarray of shape (K, S, E + 1)
        Mean effective learning rate :math:`\eta/\lVert W_l\rVert^2`.
    seconds : ndarray of shape (K, S, E + 1)
        Cumulative training time.

    Attributes
    ----------
    epochs_to_target : ndarray of shape (K, S)
        First epoch at which the test accuracy reaches ``target`` (NaN if never).
    seconds_to_target : ndarray of shape (K, S)
        Training seconds at that epoch (NaN if never).
    seconds_per_epoch : ndarray of shape (K, S)
        Median training seconds per epoch.

    Examples
    --------
    One weight decay, two seeds, two epochs; the second seed reaches 90 % one epoch earlier:

    >>> import numpy as np
    >>> from weightdecay.experiments.cnn_speed import TTAResult
    >>> acc = np.array([[[0.1, 0.5, 0.9], [0.1, 0.95, 0.97]]])
    >>> secs = np.array([[[0.0, 2.0, 4.0], [0.0, 2.0, 4.0]]])
    >>> ones = np.ones_like(acc)
    >>> res = TTAResult(np.array([0.0]), (0, 1), 0.9, test_acc=acc, train_loss=ones,
    ...                 weight_norm=ones, effective_lr=ones, seconds=secs)
    >>> res.epochs_to_target, res.seconds_to_target
    (array([[2., 1.]]), array([[4., 2.]]))
    >>> row = res.summary()[0]
    >>> row["n_reached"], row["epochs_mean"], round(row["final_acc_mean"], 3)
    (2, 1.5, 0.935)
    """

    weight_decays: np.ndarray
    seeds: tuple[int, ...]
    target: float
    test_acc: np.ndarray
    train_loss: np.ndarray
    weight_norm: np.ndarray
    effective_lr: np.ndarray
    seconds: np.ndarray
    epochs_to_target: np.ndarray = field(init=False)
    seconds_to_target: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        shape = self.test_acc.shape[:2]
        self.epochs_to_target = np.full(shape, np.nan)
        self.seconds_to_target = np.full(shape, np.nan)
        for i in range(shape[0]):
            for j in range(shape[1]):
                hist = {"epoch": range(self.test_acc.shape[2]), "test_acc": self.test_acc[i, j],
                        "seconds": self.seconds[i, j]}
                epoch, sec = time_to_accuracy(hist, self.target)
                if epoch is not None:
                    self.epochs_to_target[i, j], self.seconds_to_target[i, j] = epoch, sec

    @property
    def seconds_per_epoch(self) -> np.ndarray:
        """Median training seconds per epoch, ``[weight_decay, seed]``."""
        return np.median(np.diff(self.seconds, axis=2), axis=2)

    def summary(self) -> list[dict]:
        r"""Reduce the grid to one row per weight decay: the numbers the chapter reports.

        Means and standard errors are over seeds, the standard error being
        ``std(ddof=1) / sqrt(n)`` (NaN with fewer than two values):

        * ``n_seeds``; ``n_reached``, the number of seeds that reach the target;
        * ``epochs_mean``, ``epochs_se``: epochs to the target over the seeds that reach it
          (``epochs_mean`` is NaN if none does);
        * ``final_acc_mean``, ``final_acc_se``: test accuracy after the last epoch;
        * ``final_acc_diff_mean``, ``final_acc_diff_se``: the *paired* difference of the final
          accuracy to the first weight decay (``weight_decays[0]``, the baseline): each seed
          fixes the initialisation and the batch order for every weight decay, so pairing removes
          what the seeds share; zero for the baseline itself;
        * ``weight_norm_start``, ``weight_norm_end``, ``effective_lr_start``,
          ``effective_lr_end``: means over seeds at epoch 0 and after the last epoch.

        Returns
        -------
        list of dict
            One dict per weight decay, in the order of ``weight_decays``, with
            ``"weight_decay"`` and the keys above.
        """
        rows = []
        for i, lam in enumerate(self.weight_decays):
            epochs = self.epochs_to_target[i]
            reached = epochs[~np.isnan(epochs)]
            final = self.test_acc[i, :, -1]
            diff = final - self.test_acc[0, :, -1]
            epochs_mean, epochs_se = _mean_and_se(reached)
            acc_mean, acc_se = _mean_and_se(final)
            diff_mean, diff_se = _mean_and_se(diff)
            rows.append({
                "weight_decay": float(lam),
                "n_seeds": len(self.seeds),
                "n_reached": int(reached.size),
                "epochs_mean": epochs_mean,
                "epochs_se": epochs_se,
                "final_acc_mean": acc_mean,
                "final_acc_se": acc_se,
                "final_acc_diff_mean": diff_mean,
                "final_acc_diff_se": diff_se,
                "weight_norm_start": float(self.weight_norm[i, :, 0].mean()),
                "weight_norm_end": float(self.weight_norm[i, :, -1].mean()),
                "effective_lr_start": float(self.effective_lr[i, :, 0].mean()),
                "effective_lr_end": float(self.effective_lr[i, :, -1].mean()),
            })
        return rows


def _mean_and_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error (ddof=1) of a 1-D array; NaN where there are too few values."""
    if values.size == 0:
        return float("nan"), float("nan")
    if values.size == 1:
        return float(values[0]), float("nan")
    mean, se = mean_se(values)
    return float(mean), float(se)


def time_to_accuracy_experiment(
    make_model: Callable[[], nn.Module],
    train_data,
    test_data,
    *,
    weight_decays: Sequence[float],
    seeds: Sequence[int],
    make_optimizer: Callable[[nn.Module, float], torch.optim.Optimizer],
    epochs: int,
    target: float,
    batch_size: int = 128,
    device=None,
    progress: bool | None = None,
    **train_kwargs,
) -> TTAResult:
    r"""Train one model per (weight decay, seed) and collect the traces of :func:`~weightdecay.cnn.train`.

    ``make_model()`` is called after ``torch.manual_seed(seed)``, so the seed fixes the
    initialisation and (through :func:`~weightdecay.cnn.train`'s ``seed``) the order of the mini-batches.
    ``make_optimizer(model, weight_decay)`` builds the optimiser.

    Parameters
    ----------
    make_model : callable
        ``make_model() -> nn.Module``, moved to ``device``.
    train_data : pair ``(X, y)`` of arrays or tensors
        The training set.
    test_data : pair ``(X, y)`` of arrays or tensors
        The test set, evaluated after every epoch.
    weight_decays : sequence of float
        The weight decays :math:`\lambda \ge 0` of the grid.
    seeds : sequence of int
        The seeds (non-negative integers, at least one).
    make_optimizer : callable
        ``make_optimizer(model, weight_decay) -> torch.optim.Optimizer``.
    epochs : int
        Epochs per training run.
    target : float
        The test accuracy whose first epoch the result records (``epochs_to_target``), in ``[0, 1]``.
    batch_size : int
        Mini-batch size.
    device : torch.device or str, optional
        Where to train (default: the CPU).
    progress : bool or None
        A progress bar over the training runs (the runs themselves show none), with the
        latest run's weight decay, seed and final test accuracy.  ``None`` (default) follows
        ``WEIGHTDECAY_PROGRESS`` (unset: on); see :func:`weightdecay.progress.progress_enabled`.
    **train_kwargs
        Passed to :func:`~weightdecay.cnn.train` (``autocast``, ``channels_last``, ``flip``,
        ``label_smoothing``, ...).

    Returns
    -------
    TTAResult
        The traces, indexed ``[weight_decay, seed, epoch]``.

    Raises
    ------
    ValueError
        If a weight decay is negative, ``seeds`` is empty, ``target`` is not in ``[0, 1]``,
        or :func:`~weightdecay.cnn.train` rejects an argument.

    Examples
    --------
    A tiny grid on random data (two runs of two steps):

    >>> import torch
    >>> from weightdecay.cnn import fast_resnet, make_optimizer_factory
    >>> from weightdecay.experiments.cnn_speed import time_to_accuracy_experiment
    >>> X, y = torch.randn(32, 16), torch.arange(32) % 10
    >>> tta = time_to_accuracy_experiment(
    ...     lambda: fast_resnet((4, 8, 8, 8), dims=1), (X, y), (X, y),
    ...     weight_decays=[0.0, 5e-3], seeds=[0], target=0.5, epochs=1, batch_size=16,
    ...     make_optimizer=lambda m, lam: make_optimizer_factory("sgd", lr=0.05, weight_decay=lam)(m),
    ...     progress=False)
    >>> tta.test_acc.shape, tta.epochs_to_target.shape
    ((2, 1, 2), (2, 1))

    The chapter's GPU run (CIFAR-10, 5 seeds, 3 weight decays, 15 epochs: minutes on a GPU)::

        tta = time_to_accuracy_experiment(
            lambda: fast_resnet(), cifar_train, cifar_test, weight_decays=[0.0, 5e-4, 5e-3],
            seeds=[0, 1, 2, 3, 4], target=0.85, epochs=15, batch_size=512, device="cuda",
            autocast=True, channels_last=True, flip=True, label_smoothing=0.2,
            make_optimizer=lambda m, lam: make_optimizer_factory(
                "sgd", lr=0.2, weight_decay=lam, param_groups=decay_param_groups)(m))
    """
    weight_decays = check_lambdas(weight_decays, "weight_decays")
    seeds = tuple(check_nonnegative_int(s, "seeds") for s in seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    target = check_probability(target, "target", allow_one=True)
    epochs = check_positive_int(epochs, "epochs")
    device = _check_device(device)
    keys = ("test_acc", "train_loss", "weight_norm", "effective_lr", "seconds")
    out = {k: np.zeros((len(weight_decays), len(seeds), epochs + 1)) for k in keys}
    runs = [(i, j) for i in range(len(weight_decays)) for j in range(len(seeds))]
    bar = progress_bar(runs, desc="runs", progress=progress)
    for i, j in bar:
        lam, seed = float(weight_decays[i]), seeds[j]
        torch.manual_seed(seed)
        model = make_model().to(device)
        hist = train(model, train_data, test_data=test_data, epochs=epochs, batch_size=batch_size,
                     make_optimizer=lambda m, lam=lam: make_optimizer(m, lam), seed=seed,
                     progress=False, **train_kwargs)
        for k in keys:
            out[k][i, j] = hist[k]
        bar.set_postfix({"weight_decay": f"{lam:g}", "seed": seed, "test_acc": f"{hist['test_acc'][-1]:.3f}"})
    bar.close()
    return TTAResult(weight_decays, seeds, target, **out)

