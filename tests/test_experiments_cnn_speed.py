"""Tests of weightdecay.experiments.cnn_speed: the chapter's grids (speed switches, time to accuracy)."""

import numpy as np
import pytest
import torch

from weightdecay import cnn
from weightdecay.experiments import cnn_speed as ex


def tiny_images(n=64, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    templates = torch.randn(10, 3, size, size, generator=g)
    X = torch.randn(n, 3, size, size, generator=g) + 1.5 * templates[y]  # learnable: one pattern per class
    return X, y


# --------------------------------------------------------------------------- speed switches


def test_speed_switches_measures_the_baseline_then_each_switch():
    X, y = tiny_images(8)
    rows = ex.speed_switches(lambda: cnn.fast_resnet((4, 4, 4, 4)), X, y, switches=("data on host", "4x batch"),
                             repeats=2, warmup=1, progress=False)
    assert [r["setting"] for r in rows] == ["baseline (fp32, data on device)", "data on host", "4x batch"]
    assert rows[0]["speedup"] == 1.0
    assert all(r["images_per_s"] > 0 and r["speedup"] == r["images_per_s"] / rows[0]["images_per_s"] for r in rows)
    with pytest.raises(ValueError, match="unknown switches"):
        ex.speed_switches(lambda: cnn.fast_resnet((4, 4, 4, 4)), X, y, switches=("fp8",))


# --------------------------------------------------------------------------- time to accuracy


def test_time_to_accuracy_experiment_shapes():
    X, y = tiny_images(32)
    res = ex.time_to_accuracy_experiment(
        lambda: cnn.fast_resnet((4, 4, 8, 8)), (X, y), (X, y), weight_decays=[0.0, 0.01], seeds=[0, 1],
        make_optimizer=lambda m, lam: cnn.make_optimizer_factory("sgd", lr=0.05, weight_decay=lam)(m),
        epochs=2, batch_size=8, target=0.0)
    assert res.test_acc.shape == res.weight_norm.shape == (2, 2, 3)
    np.testing.assert_array_equal(res.epochs_to_target, np.zeros((2, 2)))  # target 0 is reached at once
    assert res.seconds_per_epoch.shape == (2, 2) and np.all(res.seconds_per_epoch > 0)
    np.testing.assert_array_equal(res.weight_norm[0, :, 0], res.weight_norm[1, :, 0])  # same init per seed
    with pytest.raises(ValueError, match="weight_decays must all be >= 0"):
        ex.time_to_accuracy_experiment(lambda: None, (X, y), (X, y), weight_decays=[-1.0], seeds=[0],
                                       make_optimizer=None, epochs=1, target=0.5)


def _tta_result(test_acc, target):
    test_acc = np.asarray(test_acc, dtype=float)
    shape = test_acc.shape
    norm = np.broadcast_to(np.linspace(2.0, 1.0, shape[2]), shape).copy()
    return ex.TTAResult(np.array([0.0, 1e-3]), tuple(range(shape[1])), target, test_acc,
                        np.zeros(shape), norm, 0.1 / norm**2, np.cumsum(np.ones(shape), axis=2) - 1)


def test_tta_summary_counts_seeds_and_reports_mean_and_standard_error():
    acc = [[[0.1, 0.5, 0.9, 0.95], [0.1, 0.9, 0.9, 0.90], [0.1, 0.6, 0.7, 0.80]],   # λ = 0: reached at 2, 1, never
           [[0.1, 0.5, 0.6, 0.97], [0.1, 0.5, 0.6, 0.70], [0.1, 0.2, 0.3, 0.40]]]   # λ = 1e-3: reached at 3 only
    res = _tta_result(acc, target=0.9)
    np.testing.assert_array_equal(res.epochs_to_target, [[2, 1, np.nan], [3, np.nan, np.nan]])
    base, decayed = res.summary()
    assert base["weight_decay"] == 0.0 and decayed["weight_decay"] == 1e-3
    assert (base["n_seeds"], base["n_reached"], decayed["n_reached"]) == (3, 2, 1)
    assert base["epochs_mean"] == pytest.approx(1.5)
    assert base["epochs_se"] == pytest.approx(np.std([2, 1], ddof=1) / np.sqrt(2))  # ddof = 1: 0.5, not 0.354
    assert decayed["epochs_mean"] == 3.0 and np.isnan(decayed["epochs_se"])
    final = np.array([0.95, 0.90, 0.80])
    assert base["final_acc_mean"] == pytest.approx(final.mean())
    assert base["final_acc_se"] == pytest.approx(final.std(ddof=1) / np.sqrt(3))
    diff = np.array([0.97, 0.70, 0.40]) - final
    assert decayed["final_acc_diff_mean"] == pytest.approx(diff.mean())
    assert decayed["final_acc_diff_se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(3))
    assert base["final_acc_diff_mean"] == 0.0 and base["final_acc_diff_se"] == 0.0
    assert base["weight_norm_start"] == 2.0 and base["weight_norm_end"] == 1.0
    assert base["effective_lr_start"] == pytest.approx(0.025) and base["effective_lr_end"] == pytest.approx(0.1)


def test_tta_summary_when_no_seed_reaches_the_target():
    res = _tta_result(np.full((2, 2, 3), 0.5), target=0.9)
    for row in res.summary():
        assert row["n_reached"] == 0 and np.isnan(row["epochs_mean"]) and np.isnan(row["epochs_se"])
        assert row["final_acc_se"] == 0.0
    one_seed = _tta_result(np.full((2, 1, 3), 0.95), target=0.9).summary()[0]
    assert one_seed["n_reached"] == 1 and one_seed["epochs_mean"] == 0.0
    assert np.isnan(one_seed["epochs_se"]) and np.isnan(one_seed["final_acc_se"])


def test_tta_result_agrees_with_time_to_accuracy_of_each_run():
    """TTAResult's epochs and seconds to the target are weightdecay.cnn.time_to_accuracy of each trace."""
    res = _tta_result([[[0.1, 0.6, 0.4, 0.8]], [[0.1, 0.2, 0.3, 0.4]]], target=0.5)
    for i in range(2):
        hist = {"epoch": range(4), "test_acc": res.test_acc[i, 0], "seconds": res.seconds[i, 0]}
        epoch, sec = cnn.time_to_accuracy(hist, 0.5)
        expected = (np.nan, np.nan) if epoch is None else (epoch, sec)
        np.testing.assert_array_equal((res.epochs_to_target[i, 0], res.seconds_to_target[i, 0]), expected)
