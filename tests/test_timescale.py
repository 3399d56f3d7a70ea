"""Tests of weightdecay.optim's timescale, schedule and equilibrium functions."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from weightdecay import optim as wo  # noqa: E402


# ---------------------------------------------------------------------------
# adamw_timescale
# ---------------------------------------------------------------------------
def test_timescale_values():
    t = wo.adamw_timescale(1e-3, 0.1, n_samples=50_000, batch_size=100)
    assert t.iterations == pytest.approx(1e4)
    assert t.epochs == pytest.approx(20.0)
    assert t.exact_iterations == pytest.approx(-1 / math.log(1 - 1e-4))
    assert 0 < t.iterations - t.exact_iterations < 1
    assert wo.adamw_timescale(0.1, 0.5).epochs is None
    assert wo.adamw_timescale(0.1, 0.0).iterations == math.inf


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.0, "weight_decay": 0.1},
        {"lr": 0.1, "weight_decay": -1.0},
        {"lr": 2.0, "weight_decay": 0.5},  # lr * weight_decay = 1
        {"lr": 0.1, "weight_decay": 0.1, "n_samples": 100},
        {"lr": 0.1, "weight_decay": 0.1, "batch_size": 10},
        {"lr": 0.1, "weight_decay": 0.1, "n_samples": 10, "batch_size": 20},
        {"lr": 0.1, "weight_decay": 0.1, "n_samples": 10.5, "batch_size": 2},
    ],
)
def test_timescale_rejects(kwargs):
    with pytest.raises(ValueError):
        wo.adamw_timescale(kwargs.pop("lr"), kwargs.pop("weight_decay"), **kwargs)


def test_timescale_is_the_ema_of_torch_adamw():
    """With a constant update u the weights approach -u/lambda with time constant exact_iterations."""
    lr, lam, steps = 0.05, 0.4, 300
    w = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=torch.float64))
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=lam, betas=(0.0, 0.0), eps=0.0)
    g = torch.tensor([0.7, -1.3], dtype=torch.float64)  # Adam's update is sign(g) = u
    u = torch.sign(g)
    w0 = w.detach().clone()
    traj = [w0.clone()]
    for _ in range(steps):
        w.grad = g.clone()
        opt.step()
        traj.append(w.detach().clone())
    traj = torch.stack(traj).numpy()
    t = np.arange(steps + 1)[:, None]
    rho = 1 - lr * lam
    # closed form of w_t = rho w_{t-1} - lr u: the EMA of -u/lam
    expected = rho**t * w0.numpy() - u.numpy() / lam * (1 - rho**t)
    np.testing.assert_allclose(traj, expected, rtol=1e-10, atol=1e-12)
    # after exact_iterations steps the distance to -u/lam has fallen by e
    tau = wo.adamw_timescale(lr, lam).exact_iterations
    dist = np.abs(expected + u.numpy() / lam)
    ratio = dist[0] * np.exp(-np.arange(steps + 1) / tau)[:, None]
    np.testing.assert_allclose(dist, ratio, rtol=1e-9)


def test_timescale_zero_gradient_reference_adamw():
    lr, lam = 0.1, 0.3
    path = wo.decay_only_trajectory(lambda p: wo.AdamW(p, lr=lr, weight_decay=lam), [1.0], 50)
    tau = wo.adamw_timescale(lr, lam).exact_iterations
    np.testing.assert_allclose(path[:, 0], np.exp(-np.arange(51) / tau), rtol=1e-12)


# ---------------------------------------------------------------------------
# schedules
# ---------------------------------------------------------------------------
def test_lr_schedule():
    np.testing.assert_allclose(wo.lr_schedule("linear", 2.0, 4), [2.0, 1.5, 1.0, 0.5])
    np.testing.assert_allclose(wo.lr_schedule("constant", 0.1, 3), [0.1] * 3)
    cos = wo.lr_schedule("cosine", 1.0, 4)
    np.testing.assert_allclose(cos, [0.5 * (1 + math.cos(math.pi * k / 4)) for k in range(4)], atol=1e-15)
    # the same rates as torch's CosineAnnealingLR
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    rates = []
    for _ in range(10):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(wo.lr_schedule("cosine", 0.3, 10), rates, rtol=1e-12)
    with pytest.raises(ValueError):
        wo.lr_schedule("step", 1.0, 4)
    with pytest.raises(ValueError):
        wo.lr_schedule("cosine", 1.0, 0)


def test_decay_factor_matches_torch_adamw_with_scheduler():
    lr, lam, steps = 0.1, 0.5, 40
    lrs = wo.lr_schedule("cosine", lr, steps)
    w = torch.nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=lam)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: float(lrs[k] / lr) if k < steps else 0.0)
    traj = [2.0]
    for _ in range(steps):
        w.grad = torch.zeros_like(w)
        opt.step()
        sched.step()
        traj.append(float(w.detach()))
    np.testing.assert_allclose(np.array(traj) / 2.0, wo.decay_factor_along_schedule(lrs, lam), rtol=1e-12)
    const = wo.decay_factor_along_schedule(lrs, lam, coupled=False)
    np.testing.assert_allclose(const, (1 - lr * lam) ** np.arange(steps + 1), rtol=1e-12)
    assert const[-1] < wo.decay_factor_along_schedule(lrs, lam)[-1]


def test_update_weights_reconstruct_the_trajectory():
    rng = np.random.default_rng(0)
    lrs = wo.lr_schedule("linear", 0.2, 30)
    lam = 0.7
    u = rng.normal(size=30)
    for coupled in (True, False):
        kappa = lrs * lam if coupled else np.full(30, lrs.max() * lam)
        w = 1.5
        for t in range(30):
            w = (1 - kappa[t]) * w - lrs[t] * u[t]
        D = wo.decay_factor_along_schedule(lrs, lam, coupled=coupled)
        c = wo.update_weights_along_schedule(lrs, lam, coupled=coupled)
        assert w == pytest.approx(D[-1] * 1.5 - c @ u, rel=1e-12, abs=1e-14)
    # constant rate: the EMA weights eta (1 - eta lam)^(T - s)
    c = wo.update_weights_along_schedule(np.full(5, 0.1), 2.0)
    np.testing.assert_allclose(c, 0.1 * 0.8 ** np.arange(4, -1, -1), rtol=1e-12)


@pytest.mark.parametrize("bad", [{"lrs": [], "wd": 0.1}, {"lrs": [0.1, -0.1], "wd": 0.1},
                                 {"lrs": [0.1], "wd": -1.0}, {"lrs": [2.0], "wd": 0.5}])
def test_schedule_rejects(bad):
    with pytest.raises(ValueError):
        wo.decay_factor_along_schedule(bad["lrs"], bad["wd"])
    with pytest.raises(ValueError):
        wo.update_weights_along_schedule(bad["lrs"], bad["wd"])


def test_schedule_rejects_coupled_not_bool():
    with pytest.raises(ValueError):
        wo.decay_factor_along_schedule([0.1], 0.1, coupled="yes")


# ---------------------------------------------------------------------------
# equilibrium
# ---------------------------------------------------------------------------
def test_equilibrium_formulas():
    eta, lam = 0.1, 1e-3
    base = math.sqrt(2 * eta * lam)
    for opt in wo.EQUILIBRIUM_OPTIMIZERS:
        assert wo.equilibrium_angular_update(eta, lam, optimizer=opt) == pytest.approx(base)
    assert wo.equilibrium_angular_update(eta, lam, momentum=0.9) == pytest.approx(base / math.sqrt(1.9))
    assert wo.equilibrium_angular_update(eta, lam, optimizer="sgdw", momentum=0.9) == pytest.approx(
        base * math.sqrt(0.1 / 1.9))
    assert wo.equilibrium_norm(eta, lam, grad_norm=2.0) ** 2 == pytest.approx(2.0 * math.sqrt(eta / (2 * lam)))
    assert wo.equilibrium_norm(eta, lam, optimizer="adamw", n_elements=100, momentum=0.9) ** 2 == pytest.approx(
        eta * 100 / (2 * lam))
    with pytest.raises(ValueError):
        wo.equilibrium_norm(eta, lam)  # grad_norm missing
    with pytest.raises(ValueError):
        wo.equilibrium_norm(eta, lam, optimizer="adamw")  # n_elements missing
    with pytest.raises(ValueError):
        wo.equilibrium_angular_update(eta, lam, optimizer="lion")
    with pytest.raises(ValueError):
        wo.equilibrium_angular_update(eta, 0.0)
    with pytest.raises(ValueError):
        wo.equilibrium_angular_update(eta, lam, momentum=1.0)


def _random_walk(update, lr, lam, steps, dim, seed):
    """Scale-invariant random walk: updates orthogonal to w, from update(w, rng)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=dim)
    angles, norms = [], []
    for _ in range(steps):
        new = (1 - lr * lam) * w - lr * update(w, rng)
        angles.append(wo.angle_between(w, new))
        w = new
        norms.append(np.linalg.norm(w))
    return np.array(angles), np.array(norms)


def test_equilibrium_sgd_random_walk():
    """SGD with gradient g~/||w|| orthogonal to w reaches the predicted norm and angle."""
    lr, lam, dim = 0.5, 0.02, 400

    def grad(w, rng):
        g = rng.normal(size=dim)
        g -= (g @ w) / (w @ w) * w
        return g / np.linalg.norm(g) * 3.0 / np.linalg.norm(w)  # ||g~|| = 3

    angles, norms = _random_walk(grad, lr, lam, 3000, dim, 0)
    assert np.mean(norms[1500:]) == pytest.approx(wo.equilibrium_norm(lr, lam, grad_norm=3.0), rel=0.02)
    assert np.mean(angles[1500:]) == pytest.approx(wo.equilibrium_angular_update(lr, lam), rel=0.02)
    assert np.mean(angles[1500:]) == pytest.approx(math.acos(1 - lr * lam), rel=1e-3)


def test_equilibrium_adam_like_random_walk():
    """Unit-RMS updates (Adam without momentum): ||w||^2 = eta C / (2 lambda)."""
    lr, lam, dim = 0.05, 0.2, 500

    def update(w, rng):
        return rng.choice([-1.0, 1.0], size=dim)

    angles, norms = _random_walk(update, lr, lam, 3000, dim, 1)
    assert np.mean(norms[1500:]) == pytest.approx(
        wo.equilibrium_norm(lr, lam, optimizer="adamw", n_elements=dim), rel=0.03)
    assert np.mean(angles[1500:]) == pytest.approx(
        wo.equilibrium_angular_update(lr, lam, optimizer="adamw"), rel=0.03)


def test_angle_between():
    assert wo.angle_between([1.0, 0.0], [0.0, 2.0]) == pytest.approx(math.pi / 2)
    assert wo.angle_between([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(math.pi)
    small = 1e-9
    assert wo.angle_between([1.0, 0.0], [math.cos(small), math.sin(small)]) == pytest.approx(small, rel=1e-6)
    with pytest.raises(ValueError):
        wo.angle_between([0.0, 0.0], [1.0, 0.0])
    with pytest.raises(ValueError):
        wo.angle_between([1.0, 0.0], [1.0, 0.0, 0.0])
