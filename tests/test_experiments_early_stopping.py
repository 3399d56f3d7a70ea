"""Tests of weightdecay.experiments.early_stopping: MLPs on MNIST-1D with and without early stopping."""

import numpy as np
import pytest

pytest.importorskip("torch")

from weightdecay import early_stopping as ES  # noqa: E402
from weightdecay.experiments import early_stopping as ex  # noqa: E402


def test_experiment_shapes_determinism_and_consistency():
    runs = ex.mnist1d_early_stopping_experiment(
        (0.0, 0.5), seeds=(0, 1), patience=2, epochs=6, n_samples=300, hidden=(32,), lr=1e-2)
    assert runs.labels == ("no dropout", "dropout p=0.5") and runs.test_acc.shape == (2, 2, 6)
    assert runs.max_curve_gap == 0.0  # the run with early stopping retraces the full run
    assert runs.callback_seeds == 2 and runs.replay_matches  # and replaying the rule reproduces it
    best, stop = runs.simulate(2)
    np.testing.assert_array_equal(best, runs.best_epoch)
    np.testing.assert_array_equal(stop, runs.stopped_epoch)
    # the restored model's test metrics are those recorded at its epoch in the full run
    np.testing.assert_allclose(runs.es_test_acc, runs.at_epoch("test_acc", runs.best_epoch))
    np.testing.assert_allclose(runs.es_test_loss, runs.at_epoch("test_loss", runs.best_epoch), rtol=1e-6)
    assert np.all(runs.best_epoch == np.argmin(runs.val_loss, axis=2) + 1) or np.any(runs.stopped_epoch < 6)
    mean, std = runs.mean_std("val_loss")
    assert mean.shape == std.shape == (2, 6) and runs.final("test_acc").shape == (2, 2)
    values, gain_mean, gain_se = runs.gain("test_acc")
    np.testing.assert_array_equal(values, runs.es_test_acc - runs.test_acc[:, :, -1])
    np.testing.assert_allclose(gain_mean, values.mean(axis=1))
    np.testing.assert_allclose(gain_se, values.std(axis=1, ddof=1) / np.sqrt(2))
    np.testing.assert_array_equal(runs.gain("test_loss")[0], runs.es_test_loss - runs.test_loss[:, :, -1])
    with pytest.raises(ValueError, match="key must be 'test_acc' or 'test_loss'"):
        runs.gain("val_acc")
    needed = runs.patience_needed()
    assert needed.shape == (2, 2)
    for index in np.ndindex(2, 2):
        assert needed[index] == ES.patience_needed(runs.val_loss[index])
        restored = ES.simulate_early_stopping(runs.val_loss[index], needed[index])[0]
        assert runs.val_loss[index][restored - 1] == runs.val_loss[index].min()
    with pytest.raises(ValueError, match="key must be one of"):
        runs.curve("accuracy")
    with pytest.raises(ValueError, match="epochs must be an integer array"):
        runs.at_epoch("test_acc", np.zeros((2, 2), dtype=int))


def test_replayed_seeds_equal_callback_runs():
    kwargs = dict(settings=(0.0, 0.3), seeds=(3, 4, 5), patience=1, epochs=5, n_samples=300, hidden=(16,), lr=3e-2)
    full = ex.mnist1d_early_stopping_experiment(**kwargs)
    cheap = ex.mnist1d_early_stopping_experiment(**kwargs, callback_seeds=1)
    assert full.replay_matches and cheap.replay_matches and cheap.callback_seeds == 1
    assert np.any(full.stopped_epoch < 5)  # patience 1 does stop some runs early
    for key in ("best_epoch", "stopped_epoch", "es_test_loss", "es_test_acc", "val_loss", "test_acc"):
        np.testing.assert_array_equal(getattr(cheap, key), getattr(full, key))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"settings": ()}, "settings must contain at least one"),
        ({"settings": (1.0,)}, r"settings\[0\] must lie in \[0, 1\)"),
        ({"seeds": ()}, "seeds must contain at least one"),
        ({"patience": 0}, "patience must be an integer >= 1"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"callback_seeds": 0}, "callback_seeds must be an integer >= 1"),
        ({"seeds": (0, 1), "callback_seeds": 3}, r"callback_seeds must be at most the number of seeds \(2\); got 3"),
    ],
)
def test_experiment_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ex.mnist1d_early_stopping_experiment(**kwargs)



def test_experiment_progress_bar_does_not_change_the_numbers():
    kwargs = dict(settings=(0.0, 0.2), seeds=(0, 1), patience=1, epochs=3, n_samples=200, hidden=(8,),
                  callback_seeds=1)
    quiet = ex.mnist1d_early_stopping_experiment(**kwargs, progress=False)
    shown = ex.mnist1d_early_stopping_experiment(**kwargs, progress=True)
    for key in ("val_loss", "test_acc", "best_epoch", "stopped_epoch", "es_test_loss", "es_test_acc"):
        np.testing.assert_array_equal(getattr(shown, key), getattr(quiet, key))
    assert shown.replay_matches == quiet.replay_matches and shown.max_curve_gap == quiet.max_curve_gap
