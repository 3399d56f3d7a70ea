"""Tests of weightdecay.experiments.optimizers: the chapter "Weight decay is not always L2"."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from weightdecay import optim as wo  # noqa: E402
from weightdecay.experiments import optimizers as ex  # noqa: E402
from weightdecay.training import mlp  # noqa: E402


# ---------------------------------------------------------------------------
# The source's MLP, corrected
# ---------------------------------------------------------------------------
def _r2(X, y):
    A = np.c_[np.ones(len(y)), X]
    resid = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    return 1 - resid.var() / y.var()


def test_row_normalisation_after_generating_y_loses_signal():
    """Errata B7: X / ‖x_i‖ keeps only the direction; with p = 2, R² falls from 1 to about π/4."""
    X, y, beta = ex.source_regression_data(200_000, 2, noise=0.0, rng=0)
    np.testing.assert_allclose(y, X @ beta + 0.5)
    assert _r2(X, y) == pytest.approx(1.0, abs=1e-12)
    assert _r2(ex.row_normalize(X), y) == pytest.approx(math.pi / 4, abs=0.01)
    np.testing.assert_allclose(np.linalg.norm(ex.row_normalize(X), axis=1), 1.0)
    with pytest.raises(ValueError, match="no all-zero rows"):
        ex.row_normalize(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="noise must be >= 0; got -1.0"):
        ex.source_regression_data(10, noise=-1.0)


def test_no_function_of_the_row_direction_beats_the_pi_over_4_ceiling():
    """E[y | u] = 0.5 + E[r] βᵀu is linear in u = x/‖x‖, so a flexible nonlinear fit on u
    explains no more than the linear one: E[r]²/E[r²], π/4 for two features.  The closed form
    itself: tests/test_optim.py::test_direction_only_r2_ceiling_closed_form."""
    X, y, _ = ex.source_regression_data(200_000, 2, noise=0.0, rng=3)
    U = ex.row_normalize(X)
    theta = np.arctan2(U[:, 1], U[:, 0])
    fourier = np.column_stack([f(k * theta) for k in range(1, 9) for f in (np.cos, np.sin)])  # any smooth g(u)
    r2_linear, r2_fourier = _r2(U, y), _r2(fourier, y)
    assert r2_linear == pytest.approx(math.pi / 4, abs=0.01)
    assert r2_linear <= r2_fourier <= r2_linear + 2e-4  # 14 more features, nothing more to explain
    X5, y5, _ = ex.source_regression_data(200_000, 5, noise=0.0, rng=4)
    assert _r2(ex.row_normalize(X5), y5) == pytest.approx(wo.direction_only_r2_ceiling(5), abs=0.01)


def _source_fit(output_relu, X, y, epochs=10, seed=0):
    """The source's network and training: Dense(4, relu) → Dense(1, output activation), Adam(0.01), MSE,
    batches of 32, 10 epochs."""
    from weightdecay.training import train

    torch.manual_seed(seed)
    model = mlp(X.shape[1], [4], 1)
    if output_relu:
        model = nn.Sequential(*model, nn.ReLU())
    mse = lambda out, t: nn.functional.mse_loss(out.squeeze(-1), t)
    train(model, (X, y), optimizer=torch.optim.Adam(model.parameters(), lr=0.01), epochs=epochs,
          batch_size=32, loss_fn=mse, seed=seed)
    return model


def test_source_relu_output_cannot_fit_negative_targets():
    """Errata B7: the source's output layer is Dense(1, activation='relu').  Its predictions are
    ≥ 0, so its MSE is at least mean(min(y, 0)²) whatever it learns, and an example whose output
    pre-activation is ≤ 0 contributes no gradient at all: it is stuck.  A linear output is not."""
    X, y, _ = ex.source_regression_data(1000, 2, noise=0.0, rng=42)
    X, y = X.astype(np.float32), y.astype(np.float32)
    floor = float(np.mean(np.minimum(y, 0.0) ** 2))
    assert np.mean(y < 0) > 0.2 and floor > 0.2  # many targets are negative
    relu_out = _source_fit(True, X, y)
    linear_out = _source_fit(False, X, y)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    with torch.no_grad():
        pred_relu = relu_out(Xt).squeeze(-1)
        mse_relu = float(((pred_relu - yt) ** 2).mean())
        mse_linear = float(((linear_out(Xt).squeeze(-1) - yt) ** 2).mean())
    assert float(pred_relu.min()) >= 0.0 and mse_relu >= floor
    assert mse_linear < 0.25 * floor  # the same network with a linear output fits them
    # examples with an inactive output unit receive exactly zero gradient
    with torch.no_grad():
        pre = relu_out[:-1](Xt).squeeze(-1)
    stuck = pre <= 0
    assert int(stuck.sum()) > 50 and bool((yt[stuck] < 0).any())
    relu_out.zero_grad()
    nn.functional.mse_loss(relu_out(Xt[stuck]).squeeze(-1), yt[stuck]).backward()
    assert all(float(p.grad.abs().max()) == 0.0 for p in relu_out.parameters())


def test_recreating_adam_every_epoch_restarts_its_moments():
    """Errata B7, compile() inside the epoch loop.  The source passes one Adam *instance* to every
    compile(), and Keras keeps an instance's state; compile(optimizer='adam') would build a new
    Adam every epoch.  The torch analogue shows what that would change: a fresh Adam forgets its
    moments and step count, so its first step of every epoch is the sign step −η g/(|g| + ε)."""
    from weightdecay.training import train

    X, y, _ = ex.source_regression_data(256, 2, noise=0.5, rng=0)
    data = (X.astype(np.float32), y.astype(np.float32))
    mse = lambda out, t: nn.functional.mse_loss(out.squeeze(-1), t)
    lr = 0.01

    def run(recreate, epochs=3):
        torch.manual_seed(0)
        model = mlp(2, [4], 1)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        snapshots = []
        for epoch in range(epochs):
            if recreate and epoch > 0:
                opt = torch.optim.Adam(model.parameters(), lr=lr)
            train(model, data, optimizer=opt, epochs=1, batch_size=32, loss_fn=mse, seed=epoch)
            snapshots.append([p.detach().clone() for p in model.parameters()])
        return model, opt, snapshots

    _, opt_once, once = run(False)
    model_re, opt_re, again = run(True)
    for a, b in zip(once[0], again[0]):  # the first epoch is the same run
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert max(float((a - b).abs().max()) for a, b in zip(once[-1], again[-1])) > 1e-4
    steps_per_epoch = 256 // 32
    assert opt_once.state[next(iter(opt_once.state))]["step"] == 3 * steps_per_epoch
    assert opt_re.state[next(iter(opt_re.state))]["step"] == steps_per_epoch  # restarted
    # the first step of a fresh Adam moves every coordinate by η g/(|g| + ε) ≈ η
    w = nn.Parameter(torch.tensor([0.3, -2.0, 5.0], dtype=torch.float64))
    w.grad = torch.tensor([1e-3, -4.0, 0.2], dtype=torch.float64)
    torch.optim.Adam([w], lr=lr).step()
    np.testing.assert_allclose((w.detach() - torch.tensor([0.3, -2.0, 5.0], dtype=torch.float64)).numpy(),
                               [-lr, lr, -lr], rtol=1e-4)


def test_mlp_regression_sweep_shrinks_weights_and_underfits_at_huge_lambda():
    lams = [0.0, 1e-2, 100.0]
    res = ex.mlp_regression_sweep(lams, seeds=(0,), n_train=40, n_val=200, n_features=4, hidden=(16,),
                                  epochs=60, batch_size=40, lr=1e-2)
    assert res.val_mse.shape == (3, 1) and res.noise_var == 1.0
    assert res.weight_norm[0, 0] > res.weight_norm[1, 0] > res.weight_norm[2, 0]
    assert res.weight_norm[2, 0] < 0.05 * res.weight_norm[0, 0]  # the penalty has crushed the weights
    assert res.train_mse[0, 0] < res.train_mse[2, 0]
    with pytest.raises(ValueError, match="lams must all be >= 0"):
        ex.mlp_regression_sweep([-1.0], seeds=(0,))
    with pytest.raises(ValueError, match="seeds must contain at least one seed"):
        ex.mlp_regression_sweep([0.1], seeds=())


def test_progress_bar_does_not_change_the_numbers():
    """progress=True wraps the runs in a tqdm bar; the random draws, hence the results, are the same."""
    kw = dict(seeds=(0, 1), n_train=20, n_val=20, n_features=3, hidden=(8,), epochs=2, batch_size=10)
    quiet = ex.mlp_regression_sweep([0.0, 0.1], progress=False, **kw)
    shown = ex.mlp_regression_sweep([0.0, 0.1], progress=True, **kw)
    for field in ("train_mse", "val_mse", "weight_norm"):
        np.testing.assert_array_equal(getattr(quiet, field), getattr(shown, field))
    with pytest.raises(ValueError, match="progress must be True, False or None"):
        ex.mlp_regression_sweep([0.0], progress="yes", **kw)


# ---------------------------------------------------------------------------
# The MNIST-1D experiments (tiny sizes: these check plumbing, not results)
# ---------------------------------------------------------------------------
def test_optimizer_comparison_shapes_and_decay_shrinks_norms():
    res = ex.mnist1d_optimizer_comparison([("SGD+L2", 0.0), ("SGDW", 0.5), ("AdamW", 5.0)], seeds=(0, 1),
                                          epochs=2, n_samples=300, hidden=(16,))
    assert res.test_acc.shape == (3, 2) and res.layer_norms.shape == (3, 2, 2)
    assert res.layer_names == ("0.weight", "2.weight")
    assert res.labels == ("SGD+L2 (0)", "SGDW (0.5)", "AdamW (5)")
    assert np.all((res.test_acc >= 0) & (res.test_acc <= 1))
    assert np.all(res.layer_norms[1] < res.layer_norms[0])  # same init and batches: decay only shrinks
    mean, se = res.summary("test_acc")
    assert mean.shape == se.shape == (3,)
    np.testing.assert_allclose(se, res.test_acc.std(axis=1, ddof=1) / np.sqrt(2))
    diff = res.paired_difference("train_loss", 1, 0)
    np.testing.assert_array_equal(diff, res.train_loss[1] - res.train_loss[0])
    with pytest.raises(ValueError, match=r"base must be a setting index in \[0, 3\); got 3"):
        res.paired_difference("test_acc", 1, 3)
    with pytest.raises(ValueError, match=r"settings\[0\]: method must be one of"):
        ex.mnist1d_optimizer_comparison([("RMSprop", 0.1)])
    with pytest.raises(ValueError, match="key must be"):
        res.summary("loss")


def test_bn_decay_experiment_decaying_gamma_shrinks_it():
    res = ex.bn_decay_experiment(seeds=(0,), weight_decay=2.0, epochs=2, n_samples=300, hidden=(16, 16), lr=0.05)
    assert res.variants == ex.BN_DECAY_VARIANTS and res.variant("all parameters") == 2
    assert res.weight_names == ("0.weight", "3.weight") and res.bn_names == ("1", "4")
    none, weights_only, everything = res.gamma_mean_abs[:, 0]
    np.testing.assert_allclose(none, weights_only, rtol=0.2)
    assert np.all(everything < 0.8 * weights_only)
    assert res.eff_lr.shape == (3, 1, 2, 2) and res.initial_norms.shape == (1, 2)
    assert res.train_loss.shape == res.val_acc.shape == (3, 1, 2) and res.test_acc.shape == (3, 1)
    np.testing.assert_allclose(res.eff_lr, 0.05 / res.weight_norms**2)
    with pytest.raises(ValueError, match="name must be one of"):
        res.variant("bias only")


def test_bn_decay_keeps_the_effective_learning_rate_up():
    """Errata B2's mechanism: without decay the scale-invariant weights only grow and their
    effective learning rate η/‖w‖² falls; decoupled decay on them keeps it higher."""
    res = ex.bn_decay_experiment(seeds=(0, 1), weight_decay=0.5, epochs=4, n_samples=600, hidden=(16, 16),
                                 lr=0.1, momentum=0.9)
    none, decayed = res.variant("none"), res.variant("weights only")
    grown = res.weight_norms[none] / res.initial_norms[:, None, :]
    assert np.all(np.diff(res.weight_norms[none], axis=1) > 0) and np.all(grown[:, -1] > 1.02)
    assert np.all(res.weight_norms[decayed, :, -1] < res.weight_norms[none, :, -1])
    assert np.all(res.eff_lr[decayed, :, -1] > 2 * res.eff_lr[none, :, -1])


def test_row_normalise_is_a_deprecated_alias_of_row_normalize():
    with pytest.warns(DeprecationWarning, match="weightdecay.experiments.optimizers.row_normalise was renamed "
                                                "weightdecay.experiments.optimizers.row_normalize; "
                                                "the old name will be removed in the next release"):
        assert ex.row_normalise is ex.row_normalize
    assert "row_normalise" not in ex.__all__
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        ex.no_such_name  # noqa: B018
