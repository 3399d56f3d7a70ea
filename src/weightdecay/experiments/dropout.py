r"""Experiments of the chapter "Dropout" (also run by the chapter "Dropout and early stopping").

Fixed here: the data (MNIST-1D, :func:`weightdecay.data.mnist1d`), the architecture (an MLP
40-hidden-10 trained with Adam) and the grid of dropout settings x seeds.

* :func:`mnist1d_dropout_experiment` trains the MLP for every dropout setting (a drop
  probability or a :class:`weightdecay.dropout.DropoutSchedule`: constant, early or late
  dropout) and every seed, recording six per-epoch curves;
* :class:`DropoutCurves` holds them; its methods (:class:`weightdecay.experiments.grid.SeedCurves`)
  compare the settings at the last epoch or at each run's best validation epoch, with standard
  errors over seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..dropout import DropoutSchedule
from ..validation import check_nonnegative_int, check_positive_int, check_probability
from .grid import SeedCurves, run_grid

__all__ = ["DropoutCurves", "mnist1d_dropout_experiment"]


@dataclass(frozen=True)
class DropoutCurves(SeedCurves):
    """Per-epoch curves of several dropout settings over several seeds.

    Every curve array has shape ``(n_settings, n_seeds, n_epochs)``.  ``train_*`` are
    evaluated on the whole training set in evaluation mode (no dropout) after each epoch, so
    they are comparable with ``val_*`` and ``test_*``.  Made by
    :func:`mnist1d_dropout_experiment`; the methods come from
    :class:`weightdecay.experiments.grid.SeedCurves`.

    Parameters
    ----------
    labels : tuple of str
        One label per setting (:attr:`weightdecay.dropout.DropoutSchedule.label`).
    seeds : tuple of int
        The seeds, in the order of the second axis.
    epochs : int array of shape (n_epochs,)
        The epochs ``1..n_epochs``.
    train_loss : array of shape (n_settings, n_seeds, n_epochs)
        Loss on the training set, in evaluation mode.
    train_acc : array of shape (n_settings, n_seeds, n_epochs)
        Accuracy on the training set, in evaluation mode.
    val_loss : array of shape (n_settings, n_seeds, n_epochs)
        Validation loss.
    val_acc : array of shape (n_settings, n_seeds, n_epochs)
        Validation accuracy.
    test_loss : array of shape (n_settings, n_seeds, n_epochs)
        Test loss.
    test_acc : array of shape (n_settings, n_seeds, n_epochs)
        Test accuracy.
    models : tuple of tuples of nn.Module
        ``models[i][j]``: the trained model of setting ``i`` and seed ``j`` (empty unless
        ``keep_models=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.experiments.dropout import DropoutCurves
    >>> val_loss = np.array([[[1.0, 0.8, 0.9], [1.0, 0.7, 0.8], [1.0, 0.9, 0.9]],  # no dropout
    ...                      [[1.0, 0.8, 0.6], [1.0, 0.6, 0.7], [1.0, 0.8, 0.7]]])  # dropout
    >>> zeros = np.zeros_like(val_loss)
    >>> curves = DropoutCurves(
    ...     labels=("no dropout", "dropout p=0.5"), seeds=(0, 1, 2), epochs=np.arange(1, 4),
    ...     train_loss=zeros, train_acc=zeros, val_loss=val_loss, val_acc=1 - val_loss,
    ...     test_loss=val_loss + 0.1, test_acc=zeros,
    ... )
    >>> curves.final("val_loss")
    array([[0.9, 0.8, 0.9],
           [0.6, 0.7, 0.7]])
    >>> mean, std = curves.mean_std("val_loss")  # over seeds, per epoch
    >>> np.round(mean, 3)
    array([[1.   , 0.8  , 0.867],
           [1.   , 0.733, 0.667]])
    """

    labels: tuple[str, ...]
    seeds: tuple[int, ...]
    epochs: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    models: tuple = ()  # models[i][j]: trained model of setting i, seed j (if keep_models)


def _as_schedule(setting, index: int) -> DropoutSchedule:
    if isinstance(setting, DropoutSchedule):
        return setting
    return DropoutSchedule(check_probability(setting, f"settings[{index}]"))


def mnist1d_dropout_experiment(
    settings: Sequence = (0.0, 0.5),
    seeds: Sequence[int] = (0, 1, 2),
    *,
    epochs: int = 40,
    n_samples: int = 4000,
    hidden: Sequence[int] = (256, 256),
    lr: float = 1e-3,
    batch_size: int = 128,
    label_noise: float = 0.0,
    data_seed: int = 0,
    keep_models: bool = False,
    progress: bool | None = None,
) -> DropoutCurves:
    """Train an MLP on MNIST-1D for every dropout setting and seed; return the curves.

    For every ``setting`` (a drop probability, or a :class:`weightdecay.dropout.DropoutSchedule`)
    and every seed: ``seed_everything(seed)``, build ``mlp(40, hidden, 10, dropout=...)`` (so the same seed
    gives the same initial weights in every setting: dropout modules have no parameters),
    train it with Adam (``lr``, no weight decay) for ``epochs`` epochs on the training split
    of ``mnist1d(n_samples, seed=data_seed, label_noise=label_noise)`` with
    :func:`weightdecay.training.train`, and record after every epoch the loss and accuracy
    on the training, validation and test splits in evaluation mode.  The data are the same for
    every seed; the seed changes the initialisation, the mini-batch order and the masks.
    With ``keep_models=True`` the trained models are returned in ``models[setting][seed]``.

    Parameters
    ----------
    settings : sequence of float or DropoutSchedule
        The dropout settings compared; a float ``p`` is ``DropoutSchedule(p)``.
    seeds : sequence of int >= 0
        One run per setting and seed.
    epochs : int >= 1
        Training epochs of every run.
    n_samples : int
        Size of the MNIST-1D data set, before the train / validation / test split.
    hidden : sequence of int
        Widths of the MLP's hidden layers.
    lr : float > 0
        Adam's learning rate.
    batch_size : int
        Mini-batch size.
    label_noise : float in [0, 1)
        Fraction of wrong training and validation labels (see :func:`weightdecay.data.mnist1d`).
    data_seed : int >= 0
        Seed of the data set, the same for every run.
    keep_models : bool
        Return the trained models in ``models``.
    progress : bool or None
        A progress bar over the ``len(settings) * len(seeds)`` runs (see
        :func:`weightdecay.progress.progress_enabled`; ``None`` follows
        ``WEIGHTDECAY_PROGRESS``).  It never changes the result.

    Returns
    -------
    DropoutCurves
        Per-epoch curves of shape ``(len(settings), len(seeds), epochs)``.

    Raises
    ------
    ValueError
        If ``settings`` or ``seeds`` is empty, a setting is not a drop probability in
        ``[0, 1)`` or a :class:`weightdecay.dropout.DropoutSchedule`, a seed is negative,
        ``epochs < 1`` or ``lr`` is not a finite positive number.

    Examples
    --------
    A tiny run (the book's uses 4000 samples, 30 epochs and 8 seeds):

    >>> from weightdecay.experiments.dropout import mnist1d_dropout_experiment
    >>> curves = mnist1d_dropout_experiment(
    ...     (0.0, 0.5), seeds=(0,), epochs=2, n_samples=100, hidden=(16,), progress=False
    ... )
    >>> curves.labels
    ('no dropout', 'dropout p=0.5')
    >>> curves.test_acc.shape  # (settings, seeds, epochs)
    (2, 1, 2)
    >>> curves.epochs
    array([1, 2])
    """
    import torch

    from ..data import mnist1d
    from ..reproducibility import seed_everything
    from ..training import RecordMetrics, mlp, train

    schedules = [_as_schedule(s, i) for i, s in enumerate(settings)]
    if not schedules:
        raise ValueError("settings must contain at least one drop probability or DropoutSchedule; got none")
    seeds = tuple(check_nonnegative_int(s, "seed") for s in seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed; got none")
    epochs = check_positive_int(epochs, "epochs")
    lr = float(lr)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr}")
    data = mnist1d(n_samples, seed=data_seed, label_noise=label_noise)
    models = [[None] * len(seeds) for _ in schedules]

    def run(i, j):
        schedule, seed = schedules[i], seeds[j]
        seed_everything(seed)
        model = mlp(40, hidden, 10, dropout=schedule.p)
        callbacks = [RecordMetrics(train=data.train, test=data.test)]
        if schedule.p > 0:
            callbacks.insert(0, schedule)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        hist = train(model, data.train, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                     val_data=data.val, callbacks=callbacks, seed=seed, progress=False)
        if keep_models:
            models[i][j] = model.eval()
        return hist

    # one bar over all runs, in the order settings x seeds; each run's own bar stays off
    out = run_grid(run, [s.label for s in schedules], seeds, epochs=epochs, desc="dropout runs", progress=progress)
    return DropoutCurves(
        labels=tuple(s.label for s in schedules),
        seeds=seeds,
        epochs=np.arange(1, epochs + 1),
        models=tuple(tuple(row) for row in models) if keep_models else (),
        **out,
    )
