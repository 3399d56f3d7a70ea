"""Tests of weightdecay.experiments.dropout: the MLP-on-MNIST-1D comparison of dropout settings."""

import numpy as np
import pytest

pytest.importorskip("torch")

from weightdecay.dropout import DropoutSchedule  # noqa: E402
from weightdecay.experiments import dropout as ex  # noqa: E402
from weightdecay.experiments.grid import CURVE_KEYS, SeedCurves  # noqa: E402


def test_mnist1d_experiment_shapes_determinism_and_settings():
    kwargs = dict(seeds=(0, 1), epochs=2, n_samples=200, hidden=(16,), lr=3e-3)
    settings_ = (0.0, 0.5, DropoutSchedule(0.5, start_epoch=5))
    a = ex.mnist1d_dropout_experiment(settings_, keep_models=True, **kwargs)
    b = ex.mnist1d_dropout_experiment(settings_, **kwargs)
    assert a.labels == ("no dropout", "dropout p=0.5", "late dropout p=0.5 (epochs >= 5)")
    assert a.test_acc.shape == (3, 2, 2) and a.epochs.tolist() == [1, 2]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"):
        values = a.curve(key)
        assert np.all(np.isfinite(values))
        np.testing.assert_array_equal(values, b.curve(key))
    assert np.all((a.test_acc >= 0) & (a.test_acc <= 1))
    # late dropout that starts after the last epoch trains exactly like no dropout
    np.testing.assert_array_equal(a.train_loss[0], a.train_loss[2])
    assert not np.array_equal(a.train_loss[0], a.train_loss[1])
    mean, std = a.mean_std("test_acc")
    assert mean.shape == (3, 2) and std.shape == (3, 2) and a.final("val_loss").shape == (3, 2)
    assert len(a.models) == 3 and len(a.models[1]) == 2 and not a.models[1][0].training
    assert b.models == ()
    with pytest.raises(ValueError, match="key must be one of"):
        a.curve("accuracy")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"settings": ()}, "settings must contain at least one"),
        ({"settings": (0.0, 1.0)}, r"settings\[1\] must lie in \[0, 1\)"),
        ({"seeds": ()}, "seeds must contain at least one"),
        ({"seeds": (-1,)}, "seed must be an integer >= 0"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"lr": -1.0}, "lr must be a finite number > 0"),
    ],
)
def test_mnist1d_experiment_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ex.mnist1d_dropout_experiment(**kwargs)



def test_progress_bars_show_but_do_not_change_the_numbers(capsys):
    kwargs = dict(seeds=(0, 1), epochs=2, n_samples=100, hidden=(8,))
    on = ex.mnist1d_dropout_experiment((0.0, 0.5), progress=True, **kwargs)
    assert "dropout runs" in capsys.readouterr().err
    off = ex.mnist1d_dropout_experiment((0.0, 0.5), progress=False, **kwargs)
    assert capsys.readouterr().err == ""
    for key in CURVE_KEYS:
        np.testing.assert_array_equal(on.curve(key), off.curve(key))


def test_dropout_curves_are_seed_curves():
    zeros = np.zeros((2, 1, 3))
    curves = ex.DropoutCurves(labels=("a", "b"), seeds=(0,), epochs=np.arange(1, 4),
                              **{key: zeros for key in CURVE_KEYS})
    assert isinstance(curves, SeedCurves) and curves.models == ()
    assert curves.final("test_acc").shape == (2, 1)
