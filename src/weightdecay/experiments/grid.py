r"""Seeds x settings: the shared machinery of the dropout and early-stopping experiments.

Used by :mod:`weightdecay.experiments.dropout` (chapter "Dropout"),
:mod:`weightdecay.experiments.early_stopping` (chapter "Early stopping") and so by the chapter
"Dropout and early stopping", which runs both.  Every experiment there trains one network per
*setting* (a dropout schedule, say) and per *seed*, and records six per-epoch curves
(``CURVE_KEYS``).

* :func:`run_grid` calls a training function for every (setting, seed), in the order
  settings x seeds, with a progress bar over the runs, and collects the curves of the histories
  it returns (history keys ``CURVE_SOURCES``) into arrays ``(n_settings, n_seeds, n_epochs)``.
* :class:`SeedCurves` is the base class of the results containers that hold these arrays
  (:class:`weightdecay.experiments.dropout.DropoutCurves`,
  :class:`weightdecay.experiments.early_stopping.EarlyStoppingRuns`): mean and spread over seeds,
  values at the last or at each run's best epoch, and :meth:`SeedCurves.compare`, which returns
  a :class:`SeedComparison` with paired differences between settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from ..progress import progress_bar
from ..stats import mean_se

__all__ = ["CURVE_KEYS", "CURVE_SOURCES", "SeedComparison", "SeedCurves", "run_grid"]

CURVE_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")


class SeedComparison(NamedTuple):
    """One metric of several settings over the same seeds, from :meth:`SeedCurves.compare`.

    ``values`` has shape ``(n_settings, n_seeds)``; ``mean`` and ``se`` (standard error,
    ``std(ddof=1) / sqrt(n_seeds)``) are per setting.  ``diff_mean`` and ``diff_se`` are the
    mean and standard error over seeds of the *paired* difference ``values[i] - values[baseline]``
    (zero for the baseline itself): every setting is trained from the same seeds, so pairing
    removes the part of the seed-to-seed spread that the settings share.  With one seed the
    standard errors are NaN.  ``epochs`` are the (1-based) epochs the values were taken at.

    Parameters
    ----------
    values : array of shape (n_settings, n_seeds)
        The metric of every run at the chosen epoch.
    mean : array of shape (n_settings,)
        Mean over seeds.
    se : array of shape (n_settings,)
        Standard error of the mean over seeds.
    diff_mean : array of shape (n_settings,)
        Mean over seeds of the paired difference from the baseline setting.
    diff_se : array of shape (n_settings,)
        Its standard error.
    epochs : int array of shape (n_settings, n_seeds)
        The (1-based) epoch of every run the values were taken at.

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
    >>> cmp = curves.compare("val_loss")  # at the last epoch, against setting 0
    >>> cmp.values
    array([[0.9, 0.8, 0.9],
           [0.6, 0.7, 0.7]])
    >>> np.round(cmp.mean, 3), np.round(cmp.se, 3)
    (array([0.867, 0.667]), array([0.033, 0.033]))
    >>> np.round(cmp.diff_mean, 3), np.round(cmp.diff_se, 3)
    (array([ 0. , -0.2]), array([0.   , 0.058]))
    """

    values: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    diff_mean: np.ndarray
    diff_se: np.ndarray
    epochs: np.ndarray


class SeedCurves:
    """Per-epoch curves of several settings over several seeds.

    A base class for the arrays ``train_loss``, ``train_acc``, ``val_*``, ``test_*`` of
    shape ``(n_settings, n_seeds, n_epochs)`` that its subclasses hold, shared by
    :class:`weightdecay.experiments.dropout.DropoutCurves` and
    :class:`weightdecay.experiments.early_stopping.EarlyStoppingRuns`.

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
    >>> from weightdecay.experiments.grid import SeedCurves
    >>> isinstance(curves, SeedCurves)
    True
    >>> curves.epoch_of_best("val_loss")  # the earliest epoch of the lowest loss
    array([[2, 2, 2],
           [3, 2, 3]])
    >>> best = curves.compare("test_loss", at="best")  # test loss at each run's best epoch
    >>> np.round(best.values, 3)
    array([[0.9, 0.8, 1. ],
           [0.7, 0.7, 0.8]])
    """

    def curve(self, key: str) -> np.ndarray:
        """The array named ``key`` (one of ``train_loss``, ``train_acc``, ``val_*``, ``test_*``).

        Parameters
        ----------
        key : str
            ``"train_loss"``, ``"train_acc"``, ``"val_loss"``, ``"val_acc"``, ``"test_loss"``
            or ``"test_acc"``.

        Returns
        -------
        array of shape (n_settings, n_seeds, n_epochs)
            The curves.

        Raises
        ------
        ValueError
            If ``key`` is not one of these names.
        """
        if key not in CURVE_KEYS:
            raise ValueError(f"key must be one of {CURVE_KEYS}; got {key!r}")
        return getattr(self, key)

    def mean_std(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over seeds: two arrays ``(n_settings, n_epochs)``.

        Parameters
        ----------
        key : str
            The curve, as in :meth:`curve`.

        Returns
        -------
        mean : array of shape (n_settings, n_epochs)
            Mean over seeds.
        std : array of shape (n_settings, n_epochs)
            Standard deviation over seeds (``ddof=1``; 0 with a single seed).
        """
        values = self.curve(key)
        return values.mean(axis=1), values.std(axis=1, ddof=1 if values.shape[1] > 1 else 0)

    def final(self, key: str) -> np.ndarray:
        """Values at the last epoch, ``(n_settings, n_seeds)``.

        Parameters
        ----------
        key : str
            The curve, as in :meth:`curve`.

        Returns
        -------
        array of shape (n_settings, n_seeds)
            The last value of every run.
        """
        return self.curve(key)[:, :, -1]

    def at_epoch(self, key: str, epochs) -> np.ndarray:
        """``key`` of each run at the given (1-based) epoch per run, ``(n_settings, n_seeds)``.

        Parameters
        ----------
        key : str
            The curve, as in :meth:`curve`.
        epochs : int array of shape (n_settings, n_seeds)
            One epoch per run, in ``1..n_epochs``.

        Returns
        -------
        array of shape (n_settings, n_seeds)
            The value of every run at its epoch.

        Raises
        ------
        ValueError
            If ``epochs`` has the wrong shape or holds a non-integer or out-of-range epoch.
        """
        values = self.curve(key)
        try:
            epochs = np.asarray(epochs, dtype=float)
        except (TypeError, ValueError):
            epochs = np.full(1, np.nan)
        if (epochs.shape != values.shape[:2] or not np.all(np.isfinite(epochs)) or np.any(epochs != np.round(epochs))
                or np.any(epochs < 1) or np.any(epochs > values.shape[2])):
            raise ValueError(
                f"epochs must be an integer array of shape {values.shape[:2]} in 1..{values.shape[2]}; got {epochs!r}"
            )
        return np.take_along_axis(values, epochs[:, :, None].astype(np.int64) - 1, axis=2)[:, :, 0]

    def epoch_of_best(self, monitor: str = "val_loss") -> np.ndarray:
        """The (1-based) epoch at which each run's ``monitor`` curve is best, ``(n_settings, n_seeds)``.

        Best is the smallest value of a loss and the largest of an accuracy; of equal values
        the earliest epoch wins, as for :class:`weightdecay.early_stopping.EarlyStopping` with
        ``min_delta=0`` and unlimited patience.  Choosing the epoch on ``val_*`` and reporting
        ``test_*`` there is model selection on the validation set.

        Parameters
        ----------
        monitor : str
            The curve, as in :meth:`curve`; a name ending in ``_acc`` is maximised, any other
            minimised.

        Returns
        -------
        int array of shape (n_settings, n_seeds)
            The best epoch of every run.
        """
        values = self.curve(monitor)
        best = np.argmax(values, axis=2) if monitor.endswith("_acc") else np.argmin(values, axis=2)
        return best + 1

    def compare(self, key: str, at="final", *, monitor: str = "val_loss", baseline: int = 0) -> SeedComparison:
        """``key`` of every setting and seed, summarised over seeds (see :class:`SeedComparison`).

        Parameters
        ----------
        key : str
            The metric compared, e.g. ``"test_acc"``.
        at : "final", "best" or int array ``(n_settings, n_seeds)``
            Which epoch of each run: the last one, the one where ``monitor`` is best
            (:meth:`epoch_of_best`, so each setting is scored at its own best epoch), or the
            given (1-based) epochs.
        monitor : str
            The curve whose best epoch ``at="best"`` uses, as in :meth:`epoch_of_best`.
        baseline : int
            Index of the setting the paired differences are taken against.

        Returns
        -------
        SeedComparison
            The chosen values, their means and standard errors, and the paired differences.

        Raises
        ------
        ValueError
            If ``key`` or ``at`` is unknown, the epochs are invalid, or ``baseline`` is not a
            setting index.
        """
        values = self.curve(key)
        n_settings, n_seeds, n_epochs = values.shape
        if isinstance(at, str):
            if at == "final":
                epochs = np.full((n_settings, n_seeds), n_epochs, dtype=np.int64)
            elif at == "best":
                epochs = self.epoch_of_best(monitor)
            else:
                raise ValueError(f"at must be 'final', 'best' or an array of epochs; got {at!r}")
        else:
            epochs = np.asarray(at)
        chosen = self.at_epoch(key, epochs)
        if isinstance(baseline, bool) or not isinstance(baseline, (int, np.integer)) or not 0 <= baseline < n_settings:
            raise ValueError(f"baseline must be a setting index in 0..{n_settings - 1}; got {baseline!r}")
        mean, se = mean_se(chosen)
        diff_mean, diff_se = mean_se(chosen - chosen[baseline])
        return SeedComparison(chosen, mean, se, diff_mean, diff_se, epochs)


# Where each curve comes from in the history of :func:`weightdecay.training.train` with a
# :class:`weightdecay.training.RecordMetrics` callback (``train_*`` in evaluation mode).
CURVE_SOURCES = {
    "train_loss": "eval_train_loss",
    "train_acc": "eval_train_acc",
    "val_loss": "val_loss",
    "val_acc": "val_acc",
    "test_loss": "test_loss",
    "test_acc": "test_acc",
}


def run_grid(
    run: Callable[[int, int], Mapping[str, Sequence[float]]],
    labels: Sequence[str],
    seeds: Sequence[int],
    *,
    epochs: int,
    desc: str = "runs",
    progress: bool | None = None,
) -> dict[str, np.ndarray]:
    """Run ``run(i, j)`` for every setting ``i`` and seed ``j``; collect the per-epoch curves.

    The runs go in the order settings x seeds (setting 0 with every seed, then setting 1, ...),
    under one progress bar whose postfix names the setting and seed.  ``run(i, j)`` trains
    setting ``i`` with seed ``seeds[j]`` and returns its history: for every curve of
    ``CURVE_KEYS``, the history key ``CURVE_SOURCES`` names holds one value per epoch
    (what :func:`weightdecay.training.train` returns with a
    :class:`weightdecay.training.RecordMetrics` callback).  Anything else a run produces (a
    trained model, an early-stopping result) it stores itself.  The returned arrays are the
    curve fields of a :class:`SeedCurves` subclass.

    Parameters
    ----------
    run : callable
        ``run(i, j)`` trains setting ``i`` with seed ``seeds[j]`` and returns its history, a
        mapping from history keys to sequences of ``epochs`` floats.
    labels : sequence of str
        One label per setting, shown in the progress bar; ``len(labels)`` is the number of
        settings.
    seeds : sequence of int
        The seeds, shown in the progress bar; ``len(seeds)`` is the number of seeds.
    epochs : int
        Length of every curve.
    desc : str
        Text of the progress bar.
    progress : bool or None
        A progress bar over the ``len(labels) * len(seeds)`` runs (see
        :func:`weightdecay.progress.progress_enabled`; ``None`` follows
        ``WEIGHTDECAY_PROGRESS``).  It never changes the result.

    Returns
    -------
    dict of str to array of shape (n_settings, n_seeds, epochs)
        One array per name of ``CURVE_KEYS``.

    Examples
    --------
    A stand-in for training, with two settings, three seeds and two epochs:

    >>> from weightdecay.experiments.grid import CURVE_KEYS, CURVE_SOURCES, run_grid
    >>> def run(i, j):
    ...     curve = [10 * i + j, 10 * i + j + 0.5]
    ...     return {source: curve for source in CURVE_SOURCES.values()}
    >>> curves = run_grid(run, ("a", "b"), seeds=(0, 1, 2), epochs=2, progress=False)
    >>> sorted(curves) == sorted(CURVE_KEYS)
    True
    >>> curves["val_loss"][1]  # setting "b", one row per seed
    array([[10. , 10.5],
           [11. , 11.5],
           [12. , 12.5]])
    """
    shape = (len(labels), len(seeds), epochs)
    out = {key: np.full(shape, np.nan) for key in CURVE_KEYS}
    runs = [(i, j) for i in range(len(labels)) for j in range(len(seeds))]
    bar = progress_bar(runs, desc=desc, progress=progress)
    for i, j in bar:
        bar.set_postfix({"setting": labels[i], "seed": seeds[j]})
        history = run(i, j)
        for key, source in CURVE_SOURCES.items():
            out[key][i, j] = history[source]
    return out
