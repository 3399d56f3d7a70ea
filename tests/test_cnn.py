"""weightdecay.cnn: the network, the training loop (also under DDP), timing and the cost of weight decay.

The chapter's grids (speed switches, time to accuracy) are tested in test_experiments_cnn_speed.py.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from weightdecay import cnn

ROOT = Path(__file__).resolve().parents[1]


def tiny_images(n=64, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    templates = torch.randn(10, 3, size, size, generator=g)
    X = torch.randn(n, 3, size, size, generator=g) + 1.5 * templates[y]  # learnable: one pattern per class
    return X, y


# --------------------------------------------------------------------------- the network


@pytest.mark.parametrize("dims, shape", [(2, (5, 3, 32, 32)), (1, (5, 1, 40)), (1, (5, 40))])
def test_forward_shapes(dims, shape):
    model = cnn.fast_resnet((4, 8, 8, 16), dims=dims)
    assert model(torch.randn(*shape)).shape == (5, 10)


def test_default_network_is_page_resnet9():
    model = cnn.fast_resnet()
    widths, k = (64, 128, 256, 512), 9
    convs = [(3, 64), (64, 128), (128, 128), (128, 128), (128, 256), (256, 512), (512, 512), (512, 512)]
    expected = sum(k * a * b + 2 * b for a, b in convs) + 512 * 10  # conv + BatchNorm (γ, β) + head
    assert sum(p.numel() for p in model.parameters()) == expected
    assert len(cnn.scale_invariant_weights(model)) == len(convs)
    assert model.head.bias is None and model.head_scale == 0.125 and widths[-1] == model.head.in_features


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(widths=(4, 8, 8)), "widths must have 4 entries"),
        (dict(widths=(4, 0, 8, 8)), r"widths\[1\]"),
        (dict(dims=3), "dims must be 1 or 2"),
        (dict(kernel_size=4), "kernel_size must be odd"),
        (dict(head_scale=-1.0), "head_scale must be > 0"),
        (dict(n_classes=1), "n_classes"),
    ],
)
def test_network_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cnn.fast_resnet(**kwargs)


@pytest.mark.parametrize("k, bias", [(1, False), (3, False), (5, True)])
def test_gemm_conv1d_is_conv1d(k, bias):
    """GemmConv1d computes nn.Conv1d's function and gradients, with nn.Conv1d's parameters and init."""
    torch.manual_seed(0)
    ref = nn.Conv1d(3, 4, k, padding=k // 2, bias=bias).double()
    torch.manual_seed(0)
    conv = cnn.GemmConv1d(3, 4, k, padding=k // 2, bias=bias).double()
    for (name, p), (ref_name, q) in zip(conv.named_parameters(), ref.named_parameters()):
        assert name == ref_name
        torch.testing.assert_close(p, q, rtol=0, atol=0)  # same initialisation from the same seed
    x = torch.randn(5, 3, 11, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, out_ref = conv(x), ref(x_ref)
    assert out.shape == out_ref.shape == (5, 4, 11)
    torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(out)
    out.backward(g)
    out_ref.backward(g)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(conv.weight.grad, ref.weight.grad, rtol=1e-12, atol=1e-12)
    # by hand, one output: y[b, o, t] = sum_{c, j} W[o, c, j] x[b, c, t + j - p]
    b, o, t, p = 2, 1, 0, k // 2
    W, xs = conv.weight.detach(), x.detach()
    by_hand = sum(float(W[o, c, j]) * float(xs[b, c, t + j - p])
                  for c in range(3) for j in range(k) if 0 <= t + j - p < 11)
    by_hand += float(conv.bias.detach()[o]) if bias else 0.0
    assert float(out.detach()[b, o, t]) == pytest.approx(by_hand, rel=1e-12)
    # unbatched input falls back to nn.Conv1d's forward
    torch.testing.assert_close(conv(x[0].detach()), ref(x[0].detach()), rtol=1e-12, atol=1e-12)


def test_1d_network_uses_gemm_conv_and_counts_the_same_flops():
    """The 1-D ResNet's convolutions are GemmConv1d; FLOPs are those of the convolution formula."""
    model = cnn.fast_resnet((4, 8, 8, 16), dims=1)
    convs = [w for _, w in cnn.scale_invariant_weights(model)]
    assert len(convs) == 8
    assert all(isinstance(m.conv, cnn.GemmConv1d) for m in model.modules() if isinstance(m, cnn.ConvBN))
    x = torch.randn(3, 40)
    # forward FLOPs by hand: 2 · B · length · C_in · C_out · k
    layers = [(40, 1, 4), (40, 4, 8), (20, 8, 8), (20, 8, 8), (20, 8, 8), (10, 8, 16), (5, 16, 16), (5, 16, 16)]
    forward = sum(2 * 3 * n * a * b * 3 for n, a, b in layers) + 2 * 3 * 16 * 10
    assert cnn.count_flops(model, x, backward=False) == forward


@pytest.mark.parametrize("dims", [1, 2])
def test_scale_invariant_weights_are_the_convbn_convolutions(dims):
    """scale_invariant_weights calls weightdecay.optim.scale_invariant_parameters; on a FastResNet
    (bare or wrapped like DistributedDataParallel) it gives the convolution of every ConvBN block, input side first."""
    model = cnn.fast_resnet((4, 8, 8, 16), dims=dims)
    expected = [(f"{name}.0.weight", m.conv.weight) for name, m in model.named_modules() if isinstance(m, cnn.ConvBN)]
    ddp_like = nn.Module()
    ddp_like.module = model  # what DistributedDataParallel looks like to _unwrap
    for wrapped in (model, ddp_like):
        found = cnn.scale_invariant_weights(wrapped)
        assert [n for n, _ in found] == [n for n, _ in expected]
        assert all(p is q for (_, p), (_, q) in zip(found, expected))
    assert [n for n, _ in cnn.scale_invariant_weights(cnn.ConvBN(3, 4))] == ["0.weight"]
    assert cnn.scale_invariant_weights(nn.Sequential(nn.Flatten(), nn.Linear(12, 3))) == []


def test_scale_invariance_and_gradient_scaling():
    """B2: a convolution followed by BatchNorm is scale-invariant: f(cW) = f(W), ∇f(cW) = ∇f(W)/c, ⟨W, ∇f⟩ = 0."""
    torch.manual_seed(0)
    model = cnn.fast_resnet((4, 8, 8, 8)).double().train()
    for m in model.modules():  # BatchNorm divides by sqrt(var + eps): exact invariance needs eps -> 0
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-14
    X, y = tiny_images(16)
    X = X.double()
    name, W = cnn.scale_invariant_weights(model)[2]

    def loss_and_grad():
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(X), y)
        loss.backward()
        return float(loss.detach()), W.grad.clone()

    loss1, g1 = loss_and_grad()
    with torch.no_grad():
        W.mul_(3.0)
    loss3, g3 = loss_and_grad()
    assert loss3 == pytest.approx(loss1, rel=1e-9)
    torch.testing.assert_close(g3, g1 / 3.0, rtol=1e-6, atol=1e-12)
    with torch.no_grad():
        assert abs(float((W * g3).sum())) < 1e-9 * float(W.norm() * g3.norm())
    # the head is not scale-invariant
    with torch.no_grad():
        model.head.weight.mul_(3.0)
    assert loss_and_grad()[0] != pytest.approx(loss1, rel=1e-3)


def test_sgd_grows_scale_invariant_norms_and_decay_keeps_effective_lr_up():
    """B2: without decay ‖w − ηg‖² = ‖w‖² + η²‖g‖² (g ⊥ w), so η/‖w‖² falls; decay counteracts it."""
    X, y = tiny_images(32)
    lr = 0.5
    eff = {}
    for lam in (0.0, 0.05):
        torch.manual_seed(0)
        model = cnn.fast_resnet((4, 8, 8, 8)).double()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eps = 1e-14
        opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=lam)
        W = cnn.scale_invariant_weights(model)[1][1]
        loss = nn.functional.cross_entropy(model(X.double()), y)
        opt.zero_grad()
        loss.backward()
        before, g = W.detach().clone(), W.grad.detach().clone()
        opt.step()
        if lam == 0:
            assert float(W.detach().norm() ** 2) == pytest.approx(float(before.norm() ** 2 + lr**2 * g.norm() ** 2), rel=1e-10)
            assert W.norm() > before.norm()
        for _ in range(30):
            loss = nn.functional.cross_entropy(model(X.double()), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        eff[lam] = lr / cnn.weight_norms(model) ** 2
    assert np.all(eff[0.05] > eff[0.0])


@pytest.mark.parametrize("eta, lam", [(0.1, 5e-4), (0.4, 1.25e-4), (0.05, 1e-2)])
def test_norm_recursion_reaches_the_equilibrium_effective_lr(eta, lam):
    """B2: with decay the effective LR settles at η/r* ≈ sqrt(2ηλ)/G; without it the norm grows like sqrt(t)."""
    r = cnn.norm_recursion(eta, lam, steps=100_000, grad_scale=2.0)
    r_star = eta * 2.0 / np.sqrt(2 * eta * lam - (eta * lam) ** 2)
    assert r[-1] == pytest.approx(r_star, rel=1e-6)
    assert eta / r[-1] == pytest.approx(np.sqrt(2 * eta * lam) / 2.0, rel=0.01)
    free = cnn.norm_recursion(eta, 0.0, steps=10_000, grad_scale=2.0)
    assert np.all(np.diff(free) > 0)
    assert free[-1] == pytest.approx(np.sqrt(2 * 10_000) * eta * 2.0, rel=0.02)


def test_norm_recursion_validates():
    with pytest.raises(ValueError, match="eta \\* lam must be < 1"):
        cnn.norm_recursion(1.0, 2.0, steps=3)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        cnn.norm_recursion(0.1, -1.0, steps=3)


# --------------------------------------------------------------------------- the cost of weight decay


@pytest.mark.parametrize("impl", ["for-loop", "foreach", "fused"])
def test_weight_decay_is_one_elementwise_pass(impl):
    """A1: SGD's decay is w ← (1 − ηλ)w − ηg; AdamW's is the same multiplication, decoupled from Adam's step."""
    torch.manual_seed(0)
    lr, lam = 0.1, 0.3
    for name in ("sgd", "adamw"):
        w = nn.Parameter(torch.randn(50, dtype=torch.float64))
        ref = nn.Parameter(w.detach().clone())
        g = torch.randn(50, dtype=torch.float64)
        model_w, model_ref = nn.ParameterList([w]), nn.ParameterList([ref])
        opt = cnn.make_optimizer_factory(name, lr=lr, weight_decay=lam, momentum=0.0, impl=impl)(model_w)
        opt0 = cnn.make_optimizer_factory(name, lr=lr, weight_decay=0.0, momentum=0.0, impl=impl)(model_ref)
        w.grad, ref.grad = g.clone(), g.clone()
        start = w.detach().clone()
        opt.step()
        opt0.step()
        if name == "sgd":
            torch.testing.assert_close(w.detach(), (1 - lr * lam) * start - lr * g, rtol=0, atol=1e-14)
        # AdamW with decay = decay of the starting point + the undecayed Adam step
        torch.testing.assert_close(w.detach(), ref.detach() - lr * lam * start, rtol=0, atol=1e-14)


def test_step_flops_follow_the_conv_formula_and_decay_is_negligible():
    """A1/A20: a step costs FLOPs fixed by the architecture and batch; weight decay adds 2 per weight."""
    model = cnn.fast_resnet((8, 16, 32, 64))
    x = torch.randn(4, 3, 32, 32)
    y = torch.randint(0, 10, (4,))
    # forward FLOPs by hand: 2 · B · pixels · C_in · C_out · k²
    layers = [(32 * 32, 3, 8), (32 * 32, 8, 16), (16 * 16, 16, 16), (16 * 16, 16, 16), (16 * 16, 16, 32),
              (8 * 8, 32, 64), (4 * 4, 64, 64), (4 * 4, 64, 64)]
    forward = sum(2 * 4 * p * a * b * 9 for p, a, b in layers) + 2 * 4 * 64 * 10
    assert cnn.count_flops(model, x, backward=False) == forward
    step = cnn.count_flops(model, x, y)
    assert 2 * forward < step <= 3 * forward  # backward ≈ 2 × forward (no input gradient for layer 1)
    decay = cnn.weight_decay_flops(model)
    assert decay == 2 * sum(p.numel() for p in model.parameters())
    assert decay / step < 0.01
    groups = [{"params": [model.head.weight], "weight_decay": 0.1}, {"params": [model.features[0][1].bias], "weight_decay": 0.0}]
    assert cnn.weight_decay_flops(groups) == 2 * model.head.weight.numel()


def test_count_flops_leaves_the_model_untouched():
    """The count runs on a meta-device copy: no gradients, no BatchNorm statistics, same mode."""
    model = cnn.fast_resnet((4, 8, 8, 16)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert cnn.count_flops(model, torch.randn(4, 3, 16, 16), torch.randint(0, 10, (4,))) > 0
    assert not model.training
    assert all(p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():
        assert v.device.type == "cpu"
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_count_flops_needs_targets_for_backward():
    with pytest.raises(ValueError, match="y is required"):
        cnn.count_flops(cnn.fast_resnet((4, 4, 4, 4)), torch.randn(2, 3, 8, 8))


def test_weight_decay_overhead_measures_both_variants():
    x, y = tiny_images(16)
    res = cnn.weight_decay_overhead(lambda: cnn.fast_resnet((4, 4, 4, 4)), x, y, optimizer="adamw",
                                    impl="foreach", repeats=3, warmup=1)
    assert len(res.step_with.times) == 3 and len(res.optimizer_with.times) == 20
    # medians of wall-clock times: only their validity is tested (their order is the machine's)
    assert res.step_without.median > 0 and res.optimizer_without.median > 0
    assert np.isfinite(res.overhead_percent) and np.isfinite(res.step_overhead_percent)
    with pytest.raises(ValueError, match="weight_decay must be > 0"):
        cnn.weight_decay_overhead(lambda: cnn.fast_resnet((4, 4, 4, 4)), x, y, weight_decay=0.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(name="adam"), "name must be 'sgd' or 'adamw'"), (dict(impl="cuda"), "impl must be one of"),
     (dict(weight_decay=-1.0), "weight_decay must be >= 0"), (dict(lr=0.0), "lr must be > 0")],
)
def test_optimizer_factory_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cnn.make_optimizer_factory(**kwargs)


def test_optimizer_factory_uses_param_groups():
    model = cnn.fast_resnet((4, 4, 4, 4))

    def groups(m, lam):
        decay = [p for p in m.parameters() if p.ndim > 1]
        return [{"params": decay, "weight_decay": lam}, {"params": [p for p in m.parameters() if p.ndim <= 1], "weight_decay": 0.0}]

    opt = cnn.make_optimizer_factory("sgd", weight_decay=0.1, param_groups=groups)(model)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    assert opt.defaults["nesterov"] and opt.defaults["foreach"]


# --------------------------------------------------------------------------- training


def test_training_decreases_the_loss_and_traces_effective_lr():
    X, y = tiny_images(64)
    torch.manual_seed(0)
    model = cnn.fast_resnet((8, 8, 16, 16))
    hist = cnn.train(model, (X, y), test_data=(X, y), epochs=8, batch_size=16, progress=False,
                     make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.1, weight_decay=5e-4))
    assert hist["epoch"] == list(range(9)) and np.isnan(hist["train_loss"][0])
    assert hist["train_loss"][-1] < 0.5 * hist["train_loss"][1]
    assert hist["test_acc"][-1] > hist["test_acc"][0] and hist["test_acc"][-1] > 0.5
    assert hist["seconds"][0] == 0 and np.all(np.diff(hist["seconds"]) > 0)
    norms = hist["layer_norms"][-1]
    np.testing.assert_allclose(norms, cnn.weight_norms(model))
    assert hist["effective_lr"][-1] == pytest.approx(np.mean(0.1 / norms**2))
    assert hist["weight_norm"][-1] == pytest.approx(np.sqrt(np.sum(norms**2)))
    epoch, sec = cnn.time_to_accuracy(hist, 0.5)
    assert hist["test_acc"][epoch] >= 0.5 and all(a < 0.5 for a in hist["test_acc"][:epoch])
    assert sec == hist["seconds"][epoch]


def test_training_is_reproducible_with_switches_on_cpu():
    X, y = tiny_images(32)
    results = []
    for _ in range(2):
        torch.manual_seed(1)
        model = cnn.fast_resnet((4, 8, 8, 8))
        hist = cnn.train(model, (X, y), epochs=2, batch_size=8, flip=True, channels_last=True, autocast=True,
                         seed=3, progress=False, make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.01))
        results.append(hist["train_loss"][1:])
        assert model.features[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    assert results[0] == results[1] and np.all(np.isfinite(results[0]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_size=1000), "batch_size must be <="),
        (dict(epochs=0), "epochs must be an integer >= 1"),
        (dict(make_optimizer=None), "make_optimizer must be a callable"),
        (dict(make_optimizer=lambda m: None), "must return a torch.optim.Optimizer"),
        (dict(train_data=(torch.randn(4, 3, 8, 8), torch.zeros(3, dtype=torch.long))), "train_data: X and y must have the same first"),
        (dict(train_data=(torch.full((4, 3, 8, 8), float("nan")), torch.zeros(4, dtype=torch.long))), "finite"),
        (dict(train_data=(torch.randn(4, 3, 8, 8), torch.zeros(4))), "integer class labels"),
        (dict(label_smoothing=1.5), "label_smoothing must lie in"),
    ],
)
def test_train_validates_its_arguments(kwargs, match):
    args = dict(train_data=tiny_images(8), epochs=1, batch_size=4, progress=False,
                make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.01))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        cnn.train(cnn.fast_resnet((4, 4, 4, 4)), **args)


def _old_evaluate_accuracy(model, data, batch_size=1024, autocast=False, channels_last=False):
    """The loop of ``cnn.evaluate_accuracy`` before it called ``training.evaluate``."""
    X, y = data
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for i in range(0, X.shape[0], batch_size):
            xb = X[i : i + batch_size]
            out = model(xb.contiguous(memory_format=torch.channels_last) if channels_last else xb)
            correct += int((out.argmax(dim=1) == y[i : i + batch_size]).sum())
    model.train(was_training)
    return correct / X.shape[0]


@pytest.mark.parametrize("switches", [{}, dict(batch_size=7), dict(channels_last=True), dict(autocast=True)])
def test_one_evaluate_agrees_with_the_old_evaluate_accuracy(switches):
    from weightdecay.training import evaluate

    X, y = tiny_images(40, seed=2)
    torch.manual_seed(0)
    model = cnn.fast_resnet((4, 8, 8, 8))
    cnn.train(model, (X, y), epochs=1, batch_size=8, progress=False,
              make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.05))
    old = _old_evaluate_accuracy(model, (X, y), **switches)
    assert cnn.evaluate_accuracy(model, (X, y), **switches) == old
    assert evaluate(model, (X, y), batch_size=switches.pop("batch_size", 1024), **switches)["acc"] == old
    assert model.training
    with pytest.raises(ValueError, match="integer class labels"):
        cnn.evaluate_accuracy(model, (X, torch.zeros(40)))


class _Recorder:
    """A callback that records the calls it gets and stops at ``stop_at``."""

    def __init__(self, stop_at):
        self.stop_at, self.events = stop_at, []

    def on_epoch_begin(self, epoch, model):
        self.events.append(("begin", epoch, type(model).__name__))

    def on_epoch_end(self, epoch, model, logs):
        self.events.append(("end", epoch, sorted(logs)))
        logs["custom"] = 10 * epoch
        return epoch == self.stop_at

    def on_train_end(self, model, history):
        self.events.append(("train_end", history["epoch"][-1]))


def test_train_calls_callbacks_with_the_protocol_of_training_train():
    from weightdecay.training import mlp
    from weightdecay.training import train as general_train

    X, y = tiny_images(32)
    torch.manual_seed(0)
    fast, general = _Recorder(stop_at=2), _Recorder(stop_at=2)
    hist = cnn.train(cnn.fast_resnet((4, 8, 8, 8)), (X, y), test_data=(X, y), epochs=5, batch_size=8,
                     progress=False, make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.05), callbacks=[fast])
    model = mlp(192, [8], 10)
    general_train(nn.Sequential(nn.Flatten(), model), (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=5, batch_size=8, progress=False, callbacks=[general])
    shape = [(e[0], e[1]) for e in fast.events]
    assert shape == [(e[0], e[1]) for e in general.events]
    assert shape == [("begin", 1), ("end", 1), ("begin", 2), ("end", 2), ("train_end", 2)]
    assert fast.events[0][2] == "FastResNet"
    assert fast.events[1][2] == sorted(["epoch", "train_loss", "seconds", "lr", "weight_norm", "effective_lr",
                                        "layer_norms", "test_acc"])
    assert hist["epoch"] == [0, 1, 2] and hist["stopped_epoch"] == 2 and hist["custom"] == [10, 20]


def test_an_early_stopping_callback_stops_train():
    from weightdecay.early_stopping import EarlyStopping

    X, y = tiny_images(32)
    torch.manual_seed(0)
    # no epoch after the first improves the training loss by 1e9: patience 1 stops at epoch 2
    stopper = EarlyStopping(patience=1, min_delta=1e9, restore_best=False, monitor="train_loss")
    hist = cnn.train(cnn.fast_resnet((4, 8, 8, 8)), (X, y), epochs=6, batch_size=8, progress=False,
                     make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.05), callbacks=[stopper])
    assert hist["stopped_epoch"] == 2 and hist["epoch"] == [0, 1, 2]


def test_train_traces_with_effective_learning_rate():
    from weightdecay.optim import EffectiveLearningRate

    X, y = tiny_images(32)
    torch.manual_seed(0)
    model = cnn.fast_resnet((4, 8, 8, 8))
    opt = []
    hist = cnn.train(model, (X, y), epochs=1, batch_size=8, progress=False,
                     make_optimizer=lambda m: opt.append(torch.optim.SGD(m.parameters(), lr=0.05)) or opt[0])
    logs = {}
    names = [name for name, _ in cnn.scale_invariant_weights(model)]
    EffectiveLearningRate(opt[0], names, per_layer=False, summary=True).on_epoch_end(1, model, logs)
    for key in ("lr", "weight_norm", "effective_lr"):
        assert hist[key][-1] == logs[key]
    np.testing.assert_array_equal(hist["layer_norms"][-1], logs["layer_norms"])
    np.testing.assert_array_equal(logs["layer_norms"], cnn.weight_norms(model))


def test_train_needs_batchnorm_convolutions():
    with pytest.raises(ValueError, match="no convolution followed by BatchNorm"):
        cnn.train(nn.Sequential(nn.Flatten(), nn.Linear(192, 10)), tiny_images(8), epochs=1, batch_size=4,
                  make_optimizer=cnn.make_optimizer_factory(), progress=False)


def test_time_to_accuracy_finds_the_first_epoch():
    hist = {"epoch": [0, 1, 2, 3], "test_acc": [0.1, 0.6, 0.4, 0.8], "seconds": [0.0, 1.5, 3.0, 4.5]}
    assert cnn.time_to_accuracy(hist, 0.5) == (1, 1.5)
    assert cnn.time_to_accuracy(hist, 0.7) == (3, 4.5)
    assert cnn.time_to_accuracy(hist, 0.9) == (None, None)


def test_time_to_accuracy_validates():
    with pytest.raises(ValueError, match="no 'test_acc'"):
        cnn.time_to_accuracy({"epoch": [0]}, 0.5)
    with pytest.raises(ValueError, match="target must lie in"):
        cnn.time_to_accuracy({"epoch": [0], "test_acc": [0.1], "seconds": [0.0]}, 1.5)


def test_normalize_images():
    X = np.random.default_rng(0).integers(0, 256, size=(20, 3, 4, 4), dtype=np.uint8)
    Z = cnn.normalize_images(X)
    torch.testing.assert_close(Z.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(Z.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        cnn.normalize_images(X[0])


# --------------------------------------------------------------------------- moved names


@pytest.mark.parametrize("name", ["speed_switches", "TTAResult", "time_to_accuracy_experiment"])
def test_moved_names_still_work_with_a_deprecation_warning(name):
    """The chapter's grids moved to weightdecay.experiments.cnn_speed; the old names warn for one release."""
    from weightdecay.experiments import cnn_speed

    assert name not in cnn.__all__ and name in cnn_speed.__all__
    with pytest.warns(DeprecationWarning, match=rf"weightdecay\.cnn\.{name} moved to weightdecay\.experiments\.cnn_speed\.{name}"):
        old = getattr(cnn, name)
    assert old is getattr(cnn_speed, name)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        cnn.not_a_name


# --------------------------------------------------------------------------- timing


def test_time_call_warms_up_and_takes_the_median():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.01)

    t = cnn.time_call(fn, repeats=5, warmup=2)
    assert len(calls) == 7 and len(t.times) == 5 and t.device == "cpu"
    assert 0.01 <= t.median < 0.5 and t.spread[0] <= t.median <= t.spread[1]


def test_compare_calls_runs_round_robin():
    order = []
    res = cnn.compare_calls({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeats=3, warmup=1)
    assert order == ["a", "b"] + ["a", "b"] * 3
    assert set(res) == {"a", "b"} and all(len(t.times) == 3 for t in res.values())


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(repeats=0), "repeats"), (dict(warmup=-1), "warmup"), (dict(device="nodevice"), "device must be")],
)
def test_timing_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cnn.time_call(lambda: None, **kwargs)
    with pytest.raises(ValueError, match="fn must be callable"):
        cnn.time_call(3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_timing_without_gpu_is_an_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        cnn.time_call(lambda: None, device="cuda")


# --------------------------------------------------------------------------- DDP under torchrun

DDP_WORKER = """
import json, sys
import torch
torch.set_num_threads(1)
from weightdecay import cnn

rank, world, device = cnn.init_distributed()
g = torch.Generator().manual_seed(0)
y = torch.randint(0, 10, (64,), generator=g)
X = torch.randn(64, 3, 8, 8, generator=g) + 1.5 * torch.randn(10, 3, 8, 8, generator=g)[y]
torch.manual_seed(100 + rank)  # different initialisations: DDP must broadcast rank 0's
model = cnn.fast_resnet((4, 8, 8, 8))
hist = cnn.train(model, (X, y), epochs=3, batch_size=16, progress=False, seed=0,
                 make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.05, weight_decay=5e-4))
torch.save(model.state_dict(), f"{sys.argv[1]}/rank{rank}.pt")
with open(f"{sys.argv[1]}/rank{rank}.json", "w") as f:
    json.dump({"world": world, "loss": hist["train_loss"][1:]}, f)
torch.distributed.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_with_two_cpu_processes_keeps_replicas_identical(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(DDP_WORKER))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc-per-node=2",
           "--master-addr=127.0.0.1", f"--master-port={_free_port()}", str(script), str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    logs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [log["world"] for log in logs] == [2, 2]
    # each process saw its own half of every batch, so their local losses differ ...
    assert logs[0]["loss"] != logs[1]["loss"]
    # ... yet averaged gradients (and broadcast buffers) keep the replicas identical
    s0, s1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert s0.keys() == s1.keys()
    for k in s0:
        torch.testing.assert_close(s0[k], s1[k], rtol=0, atol=0, msg=k)
    torch.manual_seed(100)
    init = cnn.fast_resnet((4, 8, 8, 8)).state_dict()
    assert not torch.equal(init["head.weight"], s0["head.weight"])  # it trained
