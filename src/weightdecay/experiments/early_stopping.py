r"""Experiments of the chapters "Early stopping" and "Dropout and early stopping".

Fixed here: the data (MNIST-1D with label noise, :func:`weightdecay.data.mnist1d`), the
architecture (an MLP 40-hidden-10 trained with Adam) and the grid of dropout settings x seeds.

* :func:`mnist1d_early_stopping_experiment` trains the MLP for every setting and seed once to
  the end, recording six per-epoch curves, and once with the callback
  :class:`weightdecay.early_stopping.EarlyStopping` (or replays its rule on the recorded curves);
* :class:`EarlyStoppingRuns` holds the curves and the early-stopping results; its curve methods
  come from :class:`weightdecay.experiments.grid.SeedCurves`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..dropout import DropoutSchedule
from ..early_stopping import EarlyStopping, patience_needed, simulate_early_stopping
from ..stats import mean_se
from ..validation import check_learning_rate, check_nonnegative_int, check_positive_int, check_probability
from .grid import SeedCurves, run_grid

__all__ = ["EarlyStoppingRuns", "mnist1d_early_stopping_experiment"]


@dataclass(frozen=True)
class EarlyStoppingRuns(SeedCurves):
    """Results of :func:`mnist1d_early_stopping_experiment`.

    Curve arrays (``train_*``, ``val_*``, ``test_*``, evaluated in evaluation mode after each
    epoch of the run *without* early stopping) have shape ``(n_settings, n_seeds, epochs)``.
    The per-run arrays ``best_epoch``, ``stopped_epoch``, ``es_test_loss`` and ``es_test_acc``
    (shape ``(n_settings, n_seeds)``) describe the run *with*
    :class:`weightdecay.early_stopping.EarlyStopping`: the epoch restored, the epoch it stopped at (``epochs`` if it never stopped) and the test metrics of
    the restored model.  For the first ``callback_seeds`` seeds they come from a second training
    run with the callback; for the other seeds from replaying the rule on the recorded curves
    (:meth:`simulate`), which gives the same numbers because training is deterministic given its
    seed.  Both facts are measured on the callback runs: ``max_curve_gap`` is the largest
    difference between the validation losses of the two runs over the epochs both trained (0
    when training is deterministic), and ``replay_matches`` says whether the replay reproduced
    every callback run exactly (restored and stopping epochs, test loss and accuracy).

    Parameters
    ----------
    labels : tuple of str
        One label per setting, e.g. ``"dropout p=0.5"``.
    seeds : tuple of int
        The seeds.
    patience : int
        The patience of the early-stopping runs.
    epochs : ndarray of shape (n_epochs,)
        The epoch numbers ``1, ..., n_epochs``.
    train_loss, train_acc, val_loss, val_acc, test_loss, test_acc : ndarray of shape (n_settings, n_seeds, n_epochs)
        The curves of the runs without early stopping.
    best_epoch, stopped_epoch : ndarray of int, shape (n_settings, n_seeds)
        The epoch restored and the epoch stopped at, with early stopping.
    es_test_loss, es_test_acc : ndarray of shape (n_settings, n_seeds)
        Test metrics of the restored models.
    max_curve_gap : float
        Largest difference of validation losses between the two runs of a callback seed.
    callback_seeds : int
        How many seeds (the first ones) were trained a second time with the callback.
    replay_matches : bool
        Whether replaying the rule reproduced every callback run.

    Examples
    --------
    A tiny run (one seed, two epochs of a small MLP):

    >>> from weightdecay.experiments.early_stopping import mnist1d_early_stopping_experiment
    >>> runs = mnist1d_early_stopping_experiment(seeds=(0,), patience=1, epochs=2, n_samples=200,
    ...                                          hidden=(8,), progress=False)
    >>> runs.test_acc.shape, runs.best_epoch.shape, runs.replay_matches
    ((1, 1, 2), (1, 1), True)
    >>> values, mean, se = runs.gain("test_acc")
    >>> values.shape, mean.shape
    ((1, 1), (1,))
    """

    labels: tuple[str, ...]
    seeds: tuple[int, ...]
    patience: int
    epochs: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    best_epoch: np.ndarray
    stopped_epoch: np.ndarray
    es_test_loss: np.ndarray
    es_test_acc: np.ndarray
    max_curve_gap: float
    callback_seeds: int
    replay_matches: bool

    def gain(self, key: str = "test_acc") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What early stopping changed on the test split, run by run.

        ``es_test_acc`` (or ``es_test_loss`` for ``key="test_loss"``) minus the same metric
        after the last epoch.  Both models of a pair come from the same seed, so the pairing
        removes the seed-to-seed spread they share.

        Parameters
        ----------
        key : {"test_acc", "test_loss"}
            The metric compared.

        Returns
        -------
        values, mean, se : ndarray
            The paired differences ``(n_settings, n_seeds)`` and their mean and standard
            error (ddof=1) over seeds, ``(n_settings,)`` each.

        Raises
        ------
        ValueError
            If ``key`` is neither ``"test_acc"`` nor ``"test_loss"``.
        """
        if key not in ("test_acc", "test_loss"):
            raise ValueError(f"key must be 'test_acc' or 'test_loss'; got {key!r}")
        values = getattr(self, "es_" + key) - self.final(key)
        return (values, *mean_se(values))

    def simulate(self, patience: int, min_delta: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Replay early stopping with this ``patience`` on the recorded validation losses.

        The ``(best_epoch, stopped_epoch)`` arrays that the rule would give (see
        :func:`weightdecay.early_stopping.simulate_early_stopping`).

        Parameters
        ----------
        patience : int >= 1
            As for :class:`weightdecay.early_stopping.EarlyStopping`.
        min_delta : float >= 0
            As for :class:`weightdecay.early_stopping.EarlyStopping`.

        Returns
        -------
        best_epoch, stopped_epoch : ndarray of int, shape (n_settings, n_seeds)
            The restored epoch and the epoch stopped at, run by run (1-based).
        """
        best = np.zeros(self.val_loss.shape[:2], dtype=np.int64)
        stop = np.zeros_like(best)
        for index in np.ndindex(*best.shape):
            best[index], stop[index] = simulate_early_stopping(self.val_loss[index], patience, min_delta)
        return best, stop

    def patience_needed(self, min_delta: float = 0.0) -> np.ndarray:
        """The smallest patience that restores each run's lowest validation loss, ``(n_settings, n_seeds)``.

        :func:`weightdecay.early_stopping.patience_needed` of every recorded validation-loss curve:
        the smallest patience that restores the epoch of the run's lowest validation loss.

        Parameters
        ----------
        min_delta : float >= 0
            As for :class:`weightdecay.early_stopping.EarlyStopping`.

        Returns
        -------
        ndarray of int, shape (n_settings, n_seeds)
            The patience needed, run by run.
        """
        needed = np.zeros(self.val_loss.shape[:2], dtype=np.int64)
        for index in np.ndindex(*needed.shape):
            needed[index] = patience_needed(self.val_loss[index], min_delta)
        return needed


def mnist1d_early_stopping_experiment(
    settings: Sequence = (0.0,),
    seeds: Sequence[int] = (0, 1, 2),
    *,
    patience: int = 10,
    min_delta: float = 0.0,
    epochs: int = 60,
    n_samples: int = 4000,
    hidden: Sequence[int] = (128, 128),
    lr: float = 3e-3,
    batch_size: int = 128,
    label_noise: float = 0.2,
    data_seed: int = 0,
    callback_seeds: int | None = None,
    progress: bool | None = None,
) -> EarlyStoppingRuns:
    """MLPs on MNIST-1D with label noise, trained with and without early stopping.

    For every ``setting`` (a dropout probability or a
    :class:`weightdecay.dropout.DropoutSchedule`) and every seed, two runs with identical
    initial weights, batch order and masks (``seed_everything(seed)`` before each):

    1. ``epochs`` epochs of Adam (``lr``, no weight decay) with
       :func:`weightdecay.training.train`, recording loss and accuracy on the training,
       validation and test splits after every epoch (evaluation mode);
    2. the same with an :class:`weightdecay.early_stopping.EarlyStopping` callback (``patience``, ``min_delta``,
       restore-best on ``val_loss``), after which the restored model is evaluated on the test
       split.

    Step 2 is run for the first ``callback_seeds`` seeds (default: all); for the others the
    early-stopping results are replayed from the curves of step 1 (see
    :class:`EarlyStoppingRuns`), which saves their second training run.

    The data are ``mnist1d(n_samples, seed=data_seed, label_noise=label_noise)``: training and
    validation labels carry the noise, test labels are clean.

    Parameters
    ----------
    settings : sequence of float or DropoutSchedule, default (0.0,)
        Drop probabilities in [0, 1) or :class:`weightdecay.dropout.DropoutSchedule` objects.
    seeds : sequence of int >= 0, default (0, 1, 2)
        The seeds of the runs (initial weights, batch order, dropout masks).
    patience : int >= 1, default 10
        Patience of :class:`weightdecay.early_stopping.EarlyStopping`.
    min_delta : float >= 0, default 0.0
        ``min_delta`` of :class:`weightdecay.early_stopping.EarlyStopping`.
    epochs : int >= 1, default 60
        Epochs of the runs without early stopping (and the most the others may run).
    n_samples : int, default 4000
        Size of the MNIST-1D data set, split into training, validation and test sets.
    hidden : sequence of int, default (128, 128)
        Widths of the hidden layers of the MLP.
    lr : float > 0, default 3e-3
        Learning rate of Adam.
    batch_size : int, default 128
        Examples per mini-batch.
    label_noise : float, default 0.2
        Fraction of training and validation labels replaced by a wrong class.
    data_seed : int, default 0
        Seed of the data set.
    callback_seeds : int >= 1, optional
        Train the first ``callback_seeds`` seeds a second time with the callback (default:
        all); replay the rule for the others.
    progress : bool or None, default None
        Show a progress bar over the runs (settings × seeds); ``None`` follows the
        environment variable ``WEIGHTDECAY_PROGRESS`` (see
        :func:`weightdecay.progress.progress_enabled`).  The results do not depend on it.

    Returns
    -------
    EarlyStoppingRuns
        The curves of every run and the results of early stopping.

    Raises
    ------
    ValueError
        If ``settings`` or ``seeds`` is empty or holds an invalid entry, or ``patience``,
        ``epochs``, ``lr`` or ``callback_seeds`` is invalid.

    Examples
    --------
    A tiny run (two seeds, three epochs of a small MLP; the chapter trains 16 seeds for 30
    epochs):

    >>> from weightdecay.experiments.early_stopping import mnist1d_early_stopping_experiment
    >>> runs = mnist1d_early_stopping_experiment(seeds=(0, 1), patience=1, epochs=3, n_samples=200,
    ...                                          hidden=(8,), callback_seeds=1, progress=False)
    >>> runs.labels, runs.val_loss.shape, runs.callback_seeds
    (('no dropout',), (1, 2, 3), 1)
    >>> bool(runs.replay_matches and runs.max_curve_gap == 0.0)
    True
    >>> bool(((1 <= runs.best_epoch) & (runs.best_epoch <= runs.stopped_epoch)).all())
    True
    """
    import torch

    from ..data import mnist1d
    from ..reproducibility import seed_everything
    from ..training import RecordMetrics, evaluate, mlp, train

    schedules = []
    for i, setting in enumerate(settings):
        if isinstance(setting, DropoutSchedule):
            schedules.append(setting)
        else:
            schedules.append(DropoutSchedule(check_probability(setting, f"settings[{i}]")))
    if not schedules:
        raise ValueError("settings must contain at least one drop probability or DropoutSchedule; got none")
    seeds = tuple(check_nonnegative_int(s, "seed") for s in seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed; got none")
    if callback_seeds is None:
        callback_seeds = len(seeds)
    callback_seeds = check_positive_int(callback_seeds, "callback_seeds")
    if callback_seeds > len(seeds):
        raise ValueError(f"callback_seeds must be at most the number of seeds ({len(seeds)}); got {callback_seeds}")
    patience = check_positive_int(patience, "patience")
    epochs = check_positive_int(epochs, "epochs")
    lr = check_learning_rate(lr)
    data = mnist1d(n_samples, seed=data_seed, label_noise=label_noise)

    shape = (len(schedules), len(seeds))
    best_epoch = np.zeros(shape, dtype=np.int64)
    stopped_epoch = np.zeros(shape, dtype=np.int64)
    es_test_loss, es_test_acc = np.full(shape, np.nan), np.full(shape, np.nan)
    gap, matches = 0.0, True

    def run(schedule, seed, extra_callbacks):
        seed_everything(seed)
        model = mlp(40, hidden, 10, dropout=schedule.p)
        callbacks = ([schedule] if schedule.p > 0 else []) + list(extra_callbacks)
        history = train(model, data.train, optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                        epochs=epochs, batch_size=batch_size, val_data=data.val, callbacks=callbacks, seed=seed,
                        progress=False)
        return model, history

    def run_pair(i, j):
        nonlocal gap, matches
        schedule, seed = schedules[i], seeds[j]
        _, full = run(schedule, seed, [RecordMetrics(train=data.train, test=data.test)])
        # the curves as run_grid stores them (float64)
        val_loss, test_loss, test_acc = (np.asarray(full[key], dtype=float) for key in ("val_loss", "test_loss", "test_acc"))
        best, stop = simulate_early_stopping(val_loss, patience, min_delta)
        replay = (best, stop, test_loss[best - 1], test_acc[best - 1])
        if j < callback_seeds:
            stopper = EarlyStopping(patience, min_delta, restore_best=True)
            model, short = run(schedule, seed, [stopper])
            result = evaluate(model, data.test)
            measured = (stopper.best_epoch, short["stopped_epoch"] or epochs, result["loss"], result["acc"])
            both = len(short["val_loss"])
            gap = max(gap, float(np.max(np.abs(np.asarray(short["val_loss"]) - val_loss[:both]))))
            matches = matches and measured == replay
        else:
            measured = replay
        best_epoch[i, j], stopped_epoch[i, j], es_test_loss[i, j], es_test_acc[i, j] = measured
        return full

    curves = run_grid(run_pair, [s.label for s in schedules], seeds, epochs=epochs, desc="runs", progress=progress)

    return EarlyStoppingRuns(
        labels=tuple(s.label for s in schedules), seeds=seeds, patience=patience,
        epochs=np.arange(1, epochs + 1), best_epoch=best_epoch, stopped_epoch=stopped_epoch,
        es_test_loss=es_test_loss, es_test_acc=es_test_acc, max_curve_gap=gap,
        callback_seeds=callback_seeds, replay_matches=bool(matches), **curves,
    )
