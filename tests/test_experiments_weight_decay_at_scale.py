"""Tests of weightdecay.experiments.weight_decay_at_scale (stacked training = separate training)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from weightdecay import optim as wo  # noqa: E402
from weightdecay.experiments import weight_decay_at_scale as ex  # noqa: E402
from weightdecay.training import mlp  # noqa: E402


def _toy(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 40)).astype(np.float32)
    y = (np.arange(n) % 10).astype(np.int64)
    return X, y


def _reference_adamw(X, y, subset, seed, lam, *, lr, epochs, batch_size, hidden, schedule, coupled):
    """One mlp trained with torch.optim.AdamW (decay on the matrices) on the same batches."""
    torch.manual_seed(seed)
    model = mlp(40, [hidden], 10)
    n = len(subset)
    lrs = wo.lr_schedule(schedule, lr, epochs * (n // batch_size))
    # coupled=False: decay eta_max * lam at every step = AdamW with weight_decay lam * eta_max / eta_t
    opt = torch.optim.AdamW(wo.decay_param_groups(model, lam), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    Xt, yt, sub = torch.as_tensor(X), torch.as_tensor(y), torch.as_tensor(subset)
    step = 0
    for _ in range(epochs):
        order = sub[torch.randperm(n, generator=gen)]
        for i in range(n // batch_size):
            idx = order[i * batch_size : (i + 1) * batch_size]
            loss = nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            eta = float(lrs[step])
            for g in opt.param_groups:
                g["lr"] = eta
                if g["weight_decay"] > 0:
                    g["weight_decay"] = lam if coupled else lam * lrs.max() / eta
            opt.step()
            step += 1
    return model


@pytest.mark.parametrize("schedule, coupled", [("constant", True), ("linear", True), ("cosine", False)])
def test_ensemble_equals_separate_adamw(schedule, coupled):
    X, y = _toy()
    subsets = [np.arange(0, 40), np.arange(20, 60), np.arange(10, 50)]
    seeds, lams = [3, 4, 5], [0.0, 0.5, 2.0]
    kw = dict(lr=0.01, epochs=3, batch_size=10, hidden=8, schedule=schedule, coupled=coupled)
    out = ex.train_mlp_ensemble(X, y, subsets, X, y, weight_decays=lams, seeds=seeds, **kw)
    W1, b1, W2, b2 = out["params"]
    for k in range(3):
        ref = _reference_adamw(X, y, subsets[k], seeds[k], lams[k], **kw)
        np.testing.assert_allclose(W1[k].T.numpy(), ref[0].weight.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(W2[k].T.numpy(), ref[2].weight.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(b1[k, 0].numpy(), ref[0].bias.detach().numpy(), rtol=1e-4, atol=1e-5)
        with torch.no_grad():
            pred = ref(torch.as_tensor(X)).argmax(1).numpy()
        assert out["test_acc"][k] == pytest.approx(np.mean(pred == y), abs=1 / 60 + 1e-9)
    # decay shrinks the weights
    norms = W1.pow(2).sum(dim=(1, 2)).numpy()
    assert norms[2] < norms[0]


def test_ensemble_progress_bar_does_not_change_the_numbers():
    X, y = _toy()
    kw = dict(weight_decays=[0.1, 1.0], seeds=[0, 1], epochs=2, batch_size=10, hidden=8, schedule="cosine")
    subsets = [np.arange(0, 40), np.arange(20, 60)]
    quiet = ex.train_mlp_ensemble(X, y, subsets, X, y, progress=False, **kw)
    shown = ex.train_mlp_ensemble(X, y, subsets, X, y, progress=True, **kw)
    for key in ("test_acc", "test_loss", "train_acc"):
        np.testing.assert_array_equal(quiet[key], shown[key])
    for a, b in zip(quiet["params"], shown["params"]):
        assert torch.equal(a, b)


def test_ensemble_rejects():
    X, y = _toy()
    with pytest.raises(ValueError):
        ex.train_mlp_ensemble(X, y, [np.arange(45)], X, y, weight_decays=[0.1], seeds=[0], batch_size=10)
    with pytest.raises(ValueError):
        ex.train_mlp_ensemble(X, y, [np.arange(40)], X, y, weight_decays=[0.1, 0.2], seeds=[0], batch_size=10)
    with pytest.raises(ValueError):
        ex.train_mlp_ensemble(X, y, [np.arange(40)], X, y, weight_decays=[-0.1], seeds=[0], batch_size=10)


def test_size_sweep_shapes_and_nesting():
    X, y = _toy(80)
    sweep = ex.dataset_size_sweep(seeds=[0, 1], base_n=20, factors=[1, 2], lambdas=[0.0, 1.0], epochs=1,
                                  batch_size=10, hidden=4, pool=(X, y, X, y))
    assert sweep.sizes == (20, 40)
    assert sweep.test_acc.shape == (2, 2, 2)
    assert np.all((sweep.test_acc >= 0) & (sweep.test_acc <= 1))
    with pytest.raises(ValueError):
        ex.dataset_size_sweep(seeds=[0], base_n=50, factors=[2], pool=(X, y, X, y))


def test_schedule_comparison_shapes():
    X, y = _toy(80)
    cmp = ex.schedule_comparison(seeds=[0, 1], n=40, lambdas=[0.5, 2.0], epochs=2, batch_size=10, hidden=4,
                                 pool=(X, y, X, y))
    assert cmp.test_acc.shape == (2, 2, 2)
    # constant decay at the peak rate shrinks more than decay that follows the schedule
    assert np.all(cmp.weight_norm[1] < cmp.weight_norm[0])


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adamw", 0.9)])
def test_equilibrium_run_equals_bn_mlp(optimizer, momentum):
    X, y = _toy(60)
    kw = dict(lr=0.1 if optimizer == "sgd" else 0.01, weight_decay=0.05, momentum=momentum)
    run = ex.equilibrium_run(optimizer, seeds=[1, 2], steps=8, batch_size=20, hidden=(6, 5), init_scale=2.0,
                             pool=(X, y, X, y), **kw)
    assert run.norms.shape == (2, 8, 2) and run.n_elements == (240, 30)
    for s, seed in enumerate([1, 2]):
        torch.manual_seed(seed)
        model = wo.bn_mlp(40, (6, 5), 10)
        ws = [dict(model.named_parameters())[n] for n in wo.scale_invariant_parameters(model)]
        with torch.no_grad():
            for w in ws:
                w.mul_(2.0)
        groups = wo.decay_param_groups(model, kw["weight_decay"])
        if optimizer == "sgd":
            opt = torch.optim.SGD(groups, lr=kw["lr"], momentum=momentum)
        else:
            opt = torch.optim.AdamW(groups, lr=kw["lr"], betas=(momentum, 0.999))
        gen = torch.Generator().manual_seed(seed)
        order, pos = torch.randperm(60, generator=gen), 0
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        np.testing.assert_allclose(run.initial_norms[s], [float(w.detach().norm()) for w in ws], rtol=1e-6)
        for t in range(8):
            if pos + 20 > 60:
                order, pos = torch.randperm(60, generator=gen), 0
            idx = order[pos : pos + 20]
            pos += 20
            loss = nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            before = [w.detach().clone() for w in ws]
            unit = [float(w.grad.norm() * w.detach().norm()) for w in ws]
            opt.step()
            for k, w in enumerate(ws):
                assert run.norms[s, t, k] == pytest.approx(float(w.detach().norm()), rel=1e-5)
                assert run.angles[s, t, k] == pytest.approx(wo.angle_between(before[k], w), rel=1e-3, abs=1e-6)
                assert run.unit_grad_norms[s, t, k] == pytest.approx(unit[k], rel=1e-4)


def test_equilibrium_run_rejects():
    X, y = _toy(60)
    with pytest.raises(ValueError):
        ex.equilibrium_run("lion", pool=(X, y, X, y))
    with pytest.raises(ValueError):
        ex.equilibrium_run("sgd", steps=0, pool=(X, y, X, y))
    with pytest.raises(ValueError):
        ex.equilibrium_run("sgd", batch_size=100, pool=(X, y, X, y))
