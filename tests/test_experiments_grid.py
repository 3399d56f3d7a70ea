"""Tests of weightdecay.experiments.grid: seeds x settings runs and their curves."""

from dataclasses import dataclass

import numpy as np
import pytest

from weightdecay.experiments.grid import CURVE_KEYS, CURVE_SOURCES, SeedComparison, SeedCurves, run_grid


@dataclass(frozen=True)
class _Curves(SeedCurves):
    """The smallest results container: labels, seeds, epochs and the six curves."""

    labels: tuple
    seeds: tuple
    epochs: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray


# ---------------------------------------------------------------------------
# Comparing settings over seeds
# ---------------------------------------------------------------------------
def _toy_curves():
    """Two settings x three seeds x four epochs, with values chosen by hand."""
    val_loss = np.array([
        [[3.0, 1.0, 2.0, 2.5], [3.0, 2.0, 1.5, 2.0], [3.0, 1.0, 1.0, 4.0]],   # best epochs 2, 3, 2 (tie: earliest)
        [[3.0, 2.0, 1.5, 1.0], [3.0, 2.0, 1.0, 1.2], [3.0, 2.0, 1.8, 1.1]],   # best epochs 4, 3, 4
    ])
    test_acc = np.arange(24, dtype=float).reshape(2, 3, 4) / 100
    zeros = np.zeros_like(val_loss)
    return _Curves(labels=("a", "b"), seeds=(0, 1, 2), epochs=np.arange(1, 5), train_loss=zeros,
                           train_acc=zeros, val_loss=val_loss, val_acc=-val_loss, test_loss=val_loss + 1,
                           test_acc=test_acc)


def test_epoch_of_best_takes_the_minimum_loss_or_maximum_accuracy_earliest_first():
    c = _toy_curves()
    np.testing.assert_array_equal(c.epoch_of_best("val_loss"), [[2, 3, 2], [4, 3, 4]])
    np.testing.assert_array_equal(c.epoch_of_best("val_acc"), [[2, 3, 2], [4, 3, 4]])  # val_acc = -val_loss
    # agrees with the EarlyStopping rule on the same curve (unlimited patience)
    from weightdecay.early_stopping import simulate_early_stopping

    for i, j in np.ndindex(2, 3):
        assert simulate_early_stopping(c.val_loss[i, j], patience=10)[0] == c.epoch_of_best()[i, j]
    with pytest.raises(ValueError, match="key must be one of"):
        c.epoch_of_best("val_error")


def test_compare_final_and_best_with_paired_differences():
    c = _toy_curves()
    final = c.compare("test_acc")
    np.testing.assert_array_equal(final.values, c.test_acc[:, :, -1])
    np.testing.assert_allclose(final.mean, [0.07, 0.19])
    np.testing.assert_allclose(final.se, [0.04 / np.sqrt(3)] * 2)  # std(ddof=1) of 0.03, 0.07, 0.11 is 0.04
    # every seed of setting b is exactly 0.12 above setting a: paired difference has no spread
    np.testing.assert_allclose(final.diff_mean, [0.0, 0.12])
    np.testing.assert_allclose(final.diff_se, [0.0, 0.0], atol=1e-15)
    best = c.compare("test_acc", "best")
    np.testing.assert_array_equal(best.epochs, [[2, 3, 2], [4, 3, 4]])
    np.testing.assert_allclose(best.values, [[0.01, 0.06, 0.09], [0.15, 0.18, 0.23]])
    np.testing.assert_allclose(best.diff_mean[1], np.mean([0.14, 0.12, 0.14]))
    np.testing.assert_allclose(best.diff_se[1], np.std([0.14, 0.12, 0.14], ddof=1) / np.sqrt(3))
    # scored at the given epochs, against setting 1
    given = c.compare("test_loss", np.ones((2, 3), dtype=int), baseline=1)
    np.testing.assert_allclose(given.values, 4.0)
    np.testing.assert_allclose(given.diff_mean, 0.0)
    np.testing.assert_array_equal(c.at_epoch("test_acc", best.epochs), best.values)
    np.testing.assert_array_equal(c.at_epoch("test_acc", best.epochs.astype(float)), best.values)  # whole floats


def test_compare_with_one_seed_has_nan_standard_errors():
    c = _toy_curves()
    one = _Curves(labels=c.labels, seeds=(0,), epochs=c.epochs,
                          **{k: getattr(c, k)[:, :1] for k in CURVE_KEYS})
    result = one.compare("test_acc")
    assert result.values.shape == (2, 1) and np.all(np.isnan(result.se)) and np.all(np.isnan(result.diff_se))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c: c.compare("test_acc", "middle"), "at must be 'final', 'best' or an array"),
        (lambda c: c.compare("test_acc", baseline=2), r"baseline must be a setting index in 0\.\.1; got 2"),
        (lambda c: c.compare("test_acc", baseline=True), "baseline must be a setting index"),
        (lambda c: c.compare("accuracy"), "key must be one of"),
        (lambda c: c.at_epoch("test_acc", np.zeros((2, 3), dtype=int)), r"epochs must be an integer array .* in 1\.\.4"),
        (lambda c: c.at_epoch("test_acc", np.full((2, 3), 5)), r"epochs must be an integer array"),
        (lambda c: c.at_epoch("test_acc", np.full((2, 3), 1.5)), r"epochs must be an integer array"),
        (lambda c: c.at_epoch("test_acc", [["a"] * 3] * 2), r"epochs must be an integer array"),
        (lambda c: c.at_epoch("test_acc", np.ones((3, 2), dtype=int)), r"of shape \(2, 3\)"),
    ],
)
def test_compare_and_at_epoch_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(_toy_curves())




def test_run_grid_runs_settings_times_seeds_in_order_and_collects_the_curves(capsys):
    calls = []

    def run(i, j):
        calls.append((i, j))
        curve = [100 * i + 10 * j + e for e in range(3)]
        history = {source: [v + k / 10 for v in curve] for k, source in enumerate(CURVE_SOURCES.values())}
        history["stopped_epoch"] = None  # other history entries are ignored
        return history

    out = run_grid(run, ("a", "b"), (5, 6, 7), epochs=3, desc="toy runs", progress=True)
    assert "toy runs" in capsys.readouterr().err
    assert calls == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]  # settings x seeds
    assert list(out) == list(CURVE_KEYS)
    for k, key in enumerate(CURVE_KEYS):
        assert out[key].shape == (2, 3, 3) and out[key].dtype == np.float64
        np.testing.assert_array_equal(out[key][1, 2], [120 + k / 10, 121 + k / 10, 122 + k / 10])
    quiet = run_grid(run, ("a", "b"), (5, 6, 7), epochs=3, progress=False)
    assert capsys.readouterr().err == ""
    for key in CURVE_KEYS:
        np.testing.assert_array_equal(quiet[key], out[key])
    curves = _Curves(labels=("a", "b"), seeds=(5, 6, 7), epochs=np.arange(1, 4), **out)
    assert isinstance(curves.compare("val_loss"), SeedComparison)
    np.testing.assert_array_equal(curves.epoch_of_best("val_loss"), np.ones((2, 3)))


def test_run_grid_rejects_curves_of_the_wrong_length():
    def run(i, j):
        return {source: [0.0, 1.0] for source in CURVE_SOURCES.values()}

    with pytest.raises(ValueError):
        run_grid(run, ("a",), (0,), epochs=3, progress=False)
