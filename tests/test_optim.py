"""Tests of weightdecay.optim: param groups, penalties, update rules, scale invariance."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from weightdecay import conventions  # noqa: E402
from weightdecay import optim as wo  # noqa: E402
from weightdecay.training import mlp  # noqa: E402


# ---------------------------------------------------------------------------
# Models used below
# ---------------------------------------------------------------------------
class Zoo(nn.Module):
    """One of every layer type that decay_param_groups must classify."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.conv = nn.Conv2d(1, 3, 3)
        self.bn = nn.BatchNorm2d(3)
        self.gn = nn.GroupNorm(1, 3)
        self.inorm = nn.InstanceNorm2d(3, affine=True)
        self.act = nn.PReLU()
        self.fc = nn.Linear(12, 4)
        self.ln = nn.LayerNorm(4)
        self.attn = nn.MultiheadAttention(4, 2)
        self.scale = nn.Parameter(torch.ones(4))  # a custom 1-D gain
        self.head = nn.Linear(4, 2)


ZOO_DECAYED = {"conv.weight", "fc.weight", "attn.in_proj_weight", "attn.out_proj.weight", "head.weight"}


def _ids(params):
    return [id(p) for p in params]


# ---------------------------------------------------------------------------
# 1. Which parameters to decay
# ---------------------------------------------------------------------------
def test_groups_cover_every_parameter_exactly_once():
    model = Zoo()
    groups = wo.decay_param_groups(model, 0.1)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    ids = _ids(groups[0]["params"]) + _ids(groups[1]["params"])
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(_ids(model.parameters()))
    # torch accepts the groups as they are
    torch.optim.SGD(groups, lr=0.1)


def test_groups_decay_matrices_and_kernels_only():
    model = Zoo()
    decisions = {d.name: d for d in wo.decay_decisions(model)}
    assert {n for n, d in decisions.items() if d.decay} == ZOO_DECAYED
    reasons = {n: d.reason for n, d in decisions.items()}
    assert reasons["conv.bias"] == reasons["fc.bias"] == reasons["attn.in_proj_bias"] == "bias"
    for name in ["bn.weight", "bn.bias", "gn.weight", "gn.bias", "inorm.weight", "ln.weight", "ln.bias"]:
        assert reasons[name] == "normalisation layer"
    assert reasons["act.weight"] == "PReLU slope"
    assert reasons["emb.weight"] == "embedding"
    assert reasons["scale"] == "1-D parameter (gain or offset)"
    groups = wo.decay_param_groups(model, 0.1)
    named = dict(model.named_parameters())
    assert sorted(_ids(groups[0]["params"])) == sorted(id(named[n]) for n in ZOO_DECAYED)


def test_embedding_option_and_exclusions_by_name():
    model = Zoo()
    decayed = {d.name for d in wo.decay_decisions(model, decay_embeddings=True) if d.decay}
    assert decayed == ZOO_DECAYED | {"emb.weight"}
    decayed = {d.name for d in wo.decay_decisions(model, exclude=["head.*", "attn.*"]) if d.decay}
    assert decayed == {"conv.weight", "fc.weight"}
    decayed = {d.name for d in wo.decay_decisions(model, exclude="fc.weight") if d.decay}
    assert decayed == ZOO_DECAYED - {"fc.weight"}
    with pytest.raises(ValueError, match=r"exclude pattern\(s\) \['hed\.\*'\] match no"):
        wo.decay_param_groups(model, 0.1, exclude=["hed.*"])
    with pytest.raises(ValueError, match="exclude must contain non-empty strings"):
        wo.decay_param_groups(model, 0.1, exclude=[3])


def test_frozen_parameters_are_skipped_and_tied_weights_appear_once():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 3))
    model[0].weight.requires_grad_(False)
    groups = wo.decay_param_groups(model, 0.1)
    all_ids = _ids(groups[0]["params"]) + _ids(groups[1]["params"])
    assert id(model[0].weight) not in all_ids and len(all_ids) == 3

    emb = nn.Embedding(5, 3)
    tied = nn.ModuleDict({"emb": emb, "out": nn.Linear(3, 5, bias=False)})
    tied["out"].weight = emb.weight  # weight tying
    decisions = wo.decay_decisions(tied)
    assert [d.name for d in decisions] == ["emb.weight"]  # once, classified by its first owner
    groups = wo.decay_param_groups(tied, 0.1)
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == 1


@pytest.mark.parametrize("bad, match", [(-0.1, "weight_decay must be >= 0"), (float("nan"), "weight_decay must be finite"),
                                        ("0.1", "weight_decay must be a real number")])
def test_decay_param_groups_rejects_bad_weight_decay(bad, match):
    with pytest.raises(ValueError, match=match):
        wo.decay_param_groups(Zoo(), bad)


def test_rejects_non_modules():
    with pytest.raises(ValueError, match="model must be a torch.nn.Module; got list"):
        wo.decay_param_groups([nn.Linear(2, 2)], 0.1)
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        wo.l2_penalty("model", 0.1)


def test_l2_penalty_value_and_gradient():
    torch.manual_seed(0)
    model = Zoo()
    lam = 0.3
    penalty = wo.l2_penalty(model, lam)
    named = dict(model.named_parameters())
    expected = 0.5 * lam * sum(float(named[n].detach().pow(2).sum()) for n in ZOO_DECAYED)
    assert float(penalty.detach()) == pytest.approx(expected, rel=1e-6)
    penalty.backward()
    for name, p in named.items():
        if name in ZOO_DECAYED:
            torch.testing.assert_close(p.grad, lam * p.detach())
        else:
            assert p.grad is None
    assert float(wo.l2_penalty(nn.Sequential(nn.LayerNorm(3)), 1.0)) == 0.0
    with pytest.raises(ValueError, match="lam must be >= 0; got -1.0"):
        wo.l2_penalty(model, -1.0)


def _regression_batch(n=32, d=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randn(n, 1, generator=g, dtype=dtype)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_param_groups_equal_penalty_step_for_step(momentum):
    """SGD(decay_param_groups(m, λ)) on a loss takes the steps of plain SGD on loss + l2_penalty."""
    torch.manual_seed(1)
    a = mlp(5, [8, 8], 1).double()
    b = mlp(5, [8, 8], 1).double()
    b.load_state_dict(a.state_dict())
    lam, lr = 0.05, 0.1
    opt_a = torch.optim.SGD(wo.decay_param_groups(a, lam), lr=lr, momentum=momentum)
    opt_b = torch.optim.SGD(b.parameters(), lr=lr, momentum=momentum)
    for step in range(6):
        X, y = _regression_batch(seed=step)
        for model, opt, penalty in ((a, opt_a, None), (b, opt_b, lam)):
            opt.zero_grad()
            loss = 0.5 * nn.functional.mse_loss(model(X), y)
            if penalty is not None:
                loss = loss + wo.l2_penalty(model, penalty)
            loss.backward()
            opt.step()
        for pa, pb in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(pa, pb, rtol=1e-13, atol=1e-15)
    # decaying every parameter (the biases too) is a different run
    c = mlp(5, [8, 8], 1).double()
    c.load_state_dict(b.state_dict())
    opt_c = torch.optim.SGD(c.parameters(), lr=lr, weight_decay=lam)
    opt_c.zero_grad()
    (0.5 * nn.functional.mse_loss(c(X), y)).backward()
    before = c[0].bias.detach().clone()
    grad = c[0].bias.grad.clone()
    opt_c.step()
    torch.testing.assert_close(c[0].bias.detach(), before - lr * (grad + lam * before))


# ---------------------------------------------------------------------------
# 2. Reference update rules against torch.optim
# ---------------------------------------------------------------------------
def _run(model_factory, optimizer_factory, steps=8, *, pre_step=None):
    torch.manual_seed(3)
    model = model_factory()
    optimizer = optimizer_factory(model)
    for step in range(steps):
        X, y = _regression_batch(seed=100 + step)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        if pre_step is not None:
            pre_step(model)
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def _model():
    return mlp(5, [7], 1).double()


def _groups(lam):
    return lambda m: wo.decay_param_groups(m, lam)


CASES = {
    "SGDL2 == torch SGD(weight_decay)": (
        lambda m: wo.SGDL2(_groups(0.1)(m), lr=0.05, momentum=0.9),
        lambda m: torch.optim.SGD(_groups(0.1)(m), lr=0.05, momentum=0.9),
        None,
    ),
    "AdamL2 == torch Adam(weight_decay)": (
        lambda m: wo.AdamL2(_groups(0.1)(m), lr=0.01, betas=(0.8, 0.99), eps=1e-6),
        lambda m: torch.optim.Adam(_groups(0.1)(m), lr=0.01, betas=(0.8, 0.99), eps=1e-6),
        None,
    ),
    "AdamW == torch AdamW": (
        lambda m: wo.AdamW(_groups(0.5)(m), lr=0.01, betas=(0.8, 0.99), eps=1e-6),
        lambda m: torch.optim.AdamW(_groups(0.5)(m), lr=0.01, betas=(0.8, 0.99), eps=1e-6),
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_reference_rules_match_torch_optim(case):
    ours, theirs, _ = CASES[case]
    for a, b in zip(_run(_model, ours), _run(_model, theirs)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_sgdw_matches_torch_sgd_after_a_decoupled_decay():
    """SGDW = multiply the decayed weights by (1 − ηλ), then take torch's momentum SGD step."""
    lr, lam = 0.05, 0.2

    def decay_weights(model):
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith("weight"):
                    p.mul_(1 - lr * lam)

    ours = _run(_model, lambda m: wo.SGDW(_groups(lam)(m), lr=lr, momentum=0.9))
    theirs = _run(_model, lambda m: torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9), pre_step=decay_weights)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(lr=st.floats(1e-3, 0.5), lam=st.floats(0.0, 1.0), mu=st.floats(0.0, 0.95))
def test_sgdl2_matches_torch_for_any_hyperparameters(lr, lam, mu):
    ours = _run(_model, lambda m: wo.SGDL2(m.parameters(), lr=lr, momentum=mu, weight_decay=lam), steps=4)
    theirs = _run(_model, lambda m: torch.optim.SGD(m.parameters(), lr=lr, momentum=mu, weight_decay=lam), steps=4)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_decay_equals_penalty_for_plain_sgd_only():
    """Plain SGD: decay and penalty are one update. Momentum or Adam: they differ."""
    same = [_run(_model, lambda m: cls(_groups(0.3)(m), lr=0.05)) for cls in (wo.SGDW, wo.SGDL2)]
    for a, b in zip(*same):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    momentum = [_run(_model, lambda m: cls(_groups(0.3)(m), lr=0.05, momentum=0.9)) for cls in (wo.SGDW, wo.SGDL2)]
    assert max(float((a - b).abs().max()) for a, b in zip(*momentum)) > 1e-4
    adam = [_run(_model, lambda m: cls(_groups(0.3)(m), lr=0.01)) for cls in (wo.AdamW, wo.AdamL2)]
    assert max(float((a - b).abs().max()) for a, b in zip(*adam)) > 1e-4


def test_per_step_decay_rate_is_a_penalty_over_the_learning_rate():
    """w ← (1 − d) w − η∇f (Loshchilov & Hutter's SGDW) is SGD with the L2 coefficient λ = d/η."""
    d, lr = 0.01, 0.2
    torch.manual_seed(0)
    w = torch.randn(6, dtype=torch.float64)
    target = torch.randn(6, dtype=torch.float64)
    manual = w.clone()
    param = nn.Parameter(w.clone())
    opt = torch.optim.SGD([param], lr=lr, weight_decay=d / lr)
    for _ in range(20):
        manual = (1 - d) * manual - lr * (manual - target)  # f(w) = ½‖w − target‖²
        opt.zero_grad()
        (0.5 * (param - target).pow(2).sum()).backward()
        opt.step()
    torch.testing.assert_close(param.detach(), manual, rtol=1e-12, atol=1e-14)


def test_adam_first_step_normalises_the_penalty_away():
    """At t = 1, Adam's step is −η(g/|g|) up to ε: the L2 term is swallowed, AdamW's decay is not."""
    lr, lam = 0.01, 0.1
    w0 = torch.tensor([1.0, 1.0, -2.0], dtype=torch.float64)
    grad = torch.tensor([0.5, 0.0, 1e-3], dtype=torch.float64)

    def first_step(cls):
        p = nn.Parameter(w0.clone())
        p.grad = grad.clone()
        cls([p], lr=lr, weight_decay=lam, eps=1e-12).step()
        return p.detach() - w0

    g = grad + lam * w0  # m̂_1 = g, v̂_1 = g², so the step is −η g / (|g| + ε) ≈ −η sign(g)
    torch.testing.assert_close(first_step(wo.AdamL2), -lr * g / (g.abs() + 1e-12), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(first_step(wo.AdamL2), [-lr, -lr, lr], rtol=1e-6)  # λ has vanished
    expected = -lr * lam * w0 - lr * grad / (grad.abs() + 1e-12)
    torch.testing.assert_close(first_step(wo.AdamW), expected, rtol=1e-12, atol=1e-15)


def test_decay_only_trajectory_is_geometric_for_decoupled_decay():
    """Errata B3: with no data gradient, weight decay gives w_t = (1 − ηλ)^t w_0."""
    lr, lam, steps = 0.1, 0.5, 50
    w0 = np.array([2.0, -1.0, 0.25])
    expected = (1 - lr * lam) ** np.arange(steps + 1)[:, None] * w0
    for factory in (lambda p: wo.SGDW(p, lr=lr, weight_decay=lam, momentum=0.9),
                    lambda p: wo.SGDL2(p, lr=lr, weight_decay=lam),
                    lambda p: wo.AdamW(p, lr=lr, weight_decay=lam),
                    lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=lam)):
        np.testing.assert_allclose(wo.decay_only_trajectory(factory, w0, steps), expected, rtol=1e-12)


def test_adam_l2_decay_speed_does_not_depend_on_lambda():
    """Adam + L2 with no data gradient: |w| falls by about η per step for any λ ≫ ε/|w|."""
    lr, w0 = 0.01, np.array([1.0, -0.5])
    trajectories = [wo.decay_only_trajectory(lambda p: wo.AdamL2(p, lr=lr, weight_decay=lam), w0, 20)
                    for lam in (1e-3, 1e-1)]
    np.testing.assert_allclose(trajectories[0], trajectories[1], rtol=1e-4)  # ε/(λ|w|) effects only
    np.testing.assert_allclose(np.abs(trajectories[0][:, 0]), 1.0 - lr * np.arange(21), rtol=1e-2)


def test_without_data_gradient_sgd_l2_with_momentum_decays_like_sgdw_with_lambda_over_one_minus_mu():
    """With no data gradient, momentum applies the penalty's gradient 1/(1 − μ) times (the
    data gradient would be amplified alike, see the fixed-point test below)."""
    lr, lam, mu = 0.01, 0.01, 0.9  # the approximation needs ηλ ≪ (1 − μ)²
    traj = wo.decay_only_trajectory(lambda p: wo.SGDL2(p, lr=lr, weight_decay=lam, momentum=mu), [1.0], 3000)[:, 0]
    rate = traj[-1] / traj[-2]
    # exact: the dominant eigenvalue of the linear map (w, b) -> (w', b')
    A = np.array([[1 - lr * lam, -lr * mu], [lam, mu]])
    assert rate == pytest.approx(max(abs(np.linalg.eigvals(A))), rel=1e-9)
    # approximately: decoupled decay with λ / (1 − μ)
    assert 1 - rate == pytest.approx(lr * lam / (1 - mu), rel=0.03)
    assert 1 - rate > 5 * lr * lam  # far faster than decoupled decay with the same λ


def _quadratic_fixed_point(optimizer_factory, H, a, steps=1000):
    """Run an optimiser on f(w) = ½(w − a)ᵀH(w − a) with the full gradient; return w."""
    w = nn.Parameter(torch.zeros(len(a), dtype=torch.float64))
    opt = optimizer_factory([w])
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (w - a) @ H @ (w - a)).backward()
        opt.step()
    return w.detach()


def test_momentum_keeps_the_l2_fixed_point_and_decoupled_decay_weakens_it():
    """SGD + L2 converges to argmin f + (λ/2)‖w‖² for every μ; SGDW with momentum μ to the
    minimiser with the weaker coefficient λ(1 − μ): momentum amplifies the data gradient and
    the penalty alike, but not a decoupled decay."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    H = torch.tensor(Q @ np.diag([0.5, 1.0, 1.5, 2.0]) @ Q.T)
    a = torch.tensor(rng.normal(size=4) * 3)
    lr, lam, mu = 0.05, 0.4, 0.9

    def ridge(coef):  # argmin ½(w − a)ᵀH(w − a) + (coef/2)‖w‖²
        return torch.linalg.solve(H + coef * torch.eye(4, dtype=torch.float64), H @ a)

    assert wo.stationary_l2_coefficient("SGD+L2", lam, momentum=mu) == lam
    coef_sgdw = wo.stationary_l2_coefficient("SGDW", lam, momentum=mu)
    assert coef_sgdw == pytest.approx(lam * (1 - mu), rel=1e-12)
    for momentum in (0.0, mu):
        w = _quadratic_fixed_point(lambda p: torch.optim.SGD(p, lr=lr, momentum=momentum, weight_decay=lam), H, a)
        torch.testing.assert_close(w, ridge(lam), rtol=1e-10, atol=1e-10)
    w_sgdw = _quadratic_fixed_point(lambda p: wo.SGDW(p, lr=lr, momentum=mu, weight_decay=lam), H, a)
    torch.testing.assert_close(w_sgdw, ridge(coef_sgdw), rtol=1e-10, atol=1e-10)
    assert float((w_sgdw - ridge(lam)).norm()) > 0.1  # not the penalty λ: the check can fail
    assert float(w_sgdw.norm()) > float(ridge(lam).norm())  # a weaker penalty, larger weights
    # SGD + L2 with λ(1 − μ) ... and SGDW with λ: the same point (λ/(1 − μ) the other way round)
    w_l2 = _quadratic_fixed_point(lambda p: wo.SGDL2(p, lr=lr, momentum=mu, weight_decay=coef_sgdw), H, a)
    torch.testing.assert_close(w_l2, w_sgdw, rtol=1e-10, atol=1e-10)
    # without momentum the two are one update, hence one fixed point
    assert wo.stationary_l2_coefficient("SGDW", lam) == lam


def test_stationary_l2_coefficient_rejects_adamw_and_bad_input():
    assert wo.stationary_l2_coefficient("Adam+L2", 0.3, momentum=0.9) == 0.3
    with pytest.raises(ValueError, match="'AdamW' has no L2-equivalent coefficient"):
        wo.stationary_l2_coefficient("AdamW", 0.1)
    with pytest.raises(ValueError, match="method must be one of"):
        wo.stationary_l2_coefficient("SGD", 0.1)
    with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\); got 1.0"):
        wo.stationary_l2_coefficient("SGDW", 0.1, momentum=1.0)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        wo.stationary_l2_coefficient("SGDW", -0.1)


@pytest.mark.parametrize("factory, match", [
    (lambda p: wo.SGDL2(p, lr=-0.1), "lr must be > 0; got -0.1"),
    (lambda p: wo.SGDW(p, lr=0.1, momentum=1.0), r"momentum must lie in \[0, 1\); got 1.0"),
    (lambda p: wo.AdamW(p, lr=0.1, weight_decay=-1.0), "weight_decay must be >= 0; got -1.0"),
    (lambda p: wo.AdamL2(p, betas=(0.9,)), r"betas must be a pair"),
    (lambda p: wo.AdamL2(p, betas=(0.9, 1.5)), r"betas\[1\] must lie in \[0, 1\); got 1.5"),
    (lambda p: wo.AdamW(p, eps=0.0), "eps must be > 0; got 0.0"),
])
def test_reference_optimizers_validate_hyperparameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory([nn.Parameter(torch.zeros(2))])


# ---------------------------------------------------------------------------
# The functional cores sgd and adam
# ---------------------------------------------------------------------------
def _tensors(seed, n=3, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(4, generator=g, dtype=dtype) for _ in range(n)]


@pytest.mark.parametrize("decoupled", [False, True])
def test_sgd_takes_the_step_of_its_formula(decoupled):
    lr, mu, lam = 0.1, 0.9, 0.3
    w0, g, b0 = _tensors(0)
    w, buffers = [w0.clone()], [b0.clone()]
    wo.sgd(w, [g], buffers, lr=lr, momentum=mu, weight_decay=lam, decoupled=decoupled)
    if decoupled:  # b = μb + ∇f,  w = (1 − ηλ)w − ηb
        b = mu * b0 + g
        expected = (1 - lr * lam) * w0 - lr * b
    else:  # b = μb + ∇f + λw,  w = w − ηb
        b = mu * b0 + (g + lam * w0)
        expected = w0 - lr * b
    assert torch.equal(buffers[0], b) and torch.equal(w[0], expected)
    # the first buffer is the first bracket itself
    w, buffers = [w0.clone()], [None]
    wo.sgd(w, [g], buffers, lr=lr, momentum=mu, weight_decay=lam, decoupled=decoupled)
    assert torch.equal(buffers[0], g if decoupled else g + lam * w0)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_takes_the_step_of_its_formula(decoupled):
    lr, (b1, b2), eps, lam, t0 = 0.01, (0.8, 0.99), 1e-6, 0.3, 3
    w0, grad, m0, v0 = _tensors(1, 4)
    v0 = v0.abs()
    w, ms, vs, ts = [w0.clone()], [m0.clone()], [v0.clone()], [t0]
    wo.adam(w, [grad], ms, vs, ts, lr=lr, betas=(b1, b2), eps=eps, weight_decay=lam, decoupled=decoupled)
    g = grad if decoupled else grad + lam * w0
    m, v, t = b1 * m0 + (1 - b1) * g, b2 * v0 + (1 - b2) * g * g, t0 + 1
    u = (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)
    expected = (1 - lr * lam) * w0 - lr * u if decoupled else w0 - lr * u
    assert ts == [t] and torch.equal(ms[0], m) and torch.equal(vs[0], v)
    torch.testing.assert_close(w[0], expected, rtol=1e-15, atol=0)


def test_coupled_and_decoupled_differ_as_the_math_says():
    lr, mu, lam = 0.1, 0.9, 0.3
    w0, g, b0 = _tensors(2)
    # SGD, one step from the same buffer: the same weights, (1 − ηλ)w − η(μb + ∇f) = w − η(μb + ∇f + λw);
    # the buffers differ by exactly λw, which the L2 buffer carries into later steps
    steps = {}
    for decoupled in (False, True):
        w, buffers = [w0.clone()], [b0.clone()]
        wo.sgd(w, [g], buffers, lr=lr, momentum=mu, weight_decay=lam, decoupled=decoupled)
        steps[decoupled] = w[0], buffers[0]
    torch.testing.assert_close(steps[False][0], steps[True][0], rtol=1e-15, atol=1e-15)
    torch.testing.assert_close(steps[False][1] - steps[True][1], lam * w0, rtol=1e-14, atol=1e-15)
    # Adam with no data gradient: decoupled decay shrinks by 1 − ηλ, the penalty moves by η·sign(w)
    adam_steps = {}
    for decoupled in (False, True):
        w = [w0.clone()]
        wo.adam(w, [torch.zeros(4, dtype=torch.float64)], [torch.zeros(4, dtype=torch.float64)],
                [torch.zeros(4, dtype=torch.float64)], [0], lr=lr, eps=1e-12, weight_decay=lam, decoupled=decoupled)
        adam_steps[decoupled] = w[0]
    assert torch.equal(adam_steps[True], (1 - lr * lam) * w0)
    torch.testing.assert_close(adam_steps[False], w0 - lr * torch.sign(w0), rtol=1e-10, atol=1e-12)
    # without decay the two rules are one
    for core, state in ((wo.sgd, lambda: ([b0.clone()],)),
                        (wo.adam, lambda: ([b0.clone()], [b0.abs()], [2]))):
        runs = []
        for decoupled in (False, True):
            w = [w0.clone()]
            core(w, [g], *state(), lr=lr, weight_decay=0.0, decoupled=decoupled)
            runs.append(w[0])
        assert torch.equal(*runs)


REFERENCE_CORES = {
    wo.SGDL2: (wo.sgd, False, {"lr": 0.05, "momentum": 0.9}),
    wo.SGDW: (wo.sgd, True, {"lr": 0.05, "momentum": 0.9}),
    wo.AdamL2: (wo.adam, False, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    wo.AdamW: (wo.adam, True, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
}


@pytest.mark.parametrize("cls", list(REFERENCE_CORES), ids=lambda c: c.__name__)
def test_reference_optimizer_is_its_functional_core_in_a_loop(cls):
    """Each class's step equals calling sgd/adam on each param group's tensors, bit for bit."""
    core, decoupled, kwargs = REFERENCE_CORES[cls]

    def groups(m):  # the decayed group with its own weight_decay, the other with its own lr
        decay, no_decay = wo.decay_param_groups(m, 0.4)
        return [decay, {**no_decay, "lr": kwargs["lr"] / 2}]

    ours = _run(_model, lambda m: cls(groups(m), weight_decay=0.1, **kwargs))

    class ByHand:
        def __init__(self, model):
            self.groups = [{**kwargs, **g} for g in groups(model)]
            n = [len(g["params"]) for g in self.groups]
            self.state = ([[None] * k for k in n] if core is wo.sgd else
                          [([torch.zeros_like(p) for p in g["params"]], [torch.zeros_like(p) for p in g["params"]],
                            [0] * len(g["params"])) for g in self.groups])

        def zero_grad(self):
            for g in self.groups:
                for p in g["params"]:
                    p.grad = None

        @torch.no_grad()
        def step(self):
            for group, state in zip(self.groups, self.state):
                params = group["params"]
                hyper = {k: v for k, v in group.items() if k != "params"}
                core(params, [p.grad for p in params], *((state,) if core is wo.sgd else state),
                     decoupled=decoupled, **hyper)

    theirs = _run(_model, ByHand)
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


@pytest.mark.parametrize("call, match", [
    (lambda w, g: wo.sgd(w, g, [None], lr=0.0), "lr must be > 0; got 0.0"),
    (lambda w, g: wo.sgd(w, g, [None], lr=0.1, momentum=1.0), r"momentum must lie in \[0, 1\); got 1.0"),
    (lambda w, g: wo.sgd(w, g, [None], lr=0.1, weight_decay=-1.0), "weight_decay must be >= 0; got -1.0"),
    (lambda w, g: wo.sgd(w, g, [], lr=0.1), r"momentum_buffers must have one entry per tensor of params \(1\); got 0"),
    (lambda w, g: wo.sgd(w, [], [None], lr=0.1), r"grads must have one entry per tensor of params \(1\); got 0"),
    (lambda w, g: wo.adam(w, g, [0 * g[0]], [0 * g[0]], [0], betas=(0.9,)), "betas must be a pair"),
    (lambda w, g: wo.adam(w, g, [0 * g[0]], [0 * g[0]], [0], betas=(1.0, 0.9)), r"betas\[0\] must lie in \[0, 1\)"),
    (lambda w, g: wo.adam(w, g, [0 * g[0]], [0 * g[0]], [0], eps=-1.0), "eps must be > 0; got -1.0"),
    (lambda w, g: wo.adam(w, g, [0 * g[0]], [0 * g[0]], [0], lr=float("nan")), "lr"),
    (lambda w, g: wo.adam(w, g, [0 * g[0]], [0 * g[0]], [0], weight_decay=-0.5), "weight_decay must be >= 0"),
    (lambda w, g: wo.adam(w, g, [0 * g[0]], [0 * g[0]], [], lr=0.1), r"steps must have one entry per tensor"),
    (lambda w, g: wo.adam(w, g, [0 * g[0]], [], [0], lr=0.1), r"exp_avg_sqs must have one entry per tensor"),
])
def test_functional_cores_validate_their_arguments(call, match):
    w = [torch.ones(2)]
    with pytest.raises(ValueError, match=match):
        call(w, [torch.ones(2)])
    assert torch.equal(w[0], torch.ones(2))  # nothing was changed


def test_make_optimizer_builds_the_four_methods():
    model = _model()
    kinds = {m: type(wo.make_optimizer(m, wo.decay_param_groups(model, 0.1), lr=0.01)) for m in wo.METHODS}
    assert kinds == {"SGD+L2": torch.optim.SGD, "SGDW": wo.SGDW, "Adam+L2": torch.optim.Adam, "AdamW": torch.optim.AdamW}
    opt = wo.make_optimizer("AdamW", wo.decay_param_groups(model, 0.1), lr=0.01)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    with pytest.raises(ValueError, match="method must be one of"):
        wo.make_optimizer("LAMB", model.parameters(), lr=0.01)


def test_keras_l2_is_torch_weight_decay_two_lambda():
    """Keras l2(c) with 'mse' (loss MSE + cΣw²) takes the steps of torch weight_decay=2c with MSELoss."""
    c, lr = 0.03, 0.1
    torch.manual_seed(0)
    keras_like = nn.Linear(4, 1, bias=False).double()
    torch_like = nn.Linear(4, 1, bias=False).double()
    torch_like.load_state_dict(keras_like.state_dict())
    opt_k = torch.optim.SGD(keras_like.parameters(), lr=lr)
    opt_t = torch.optim.SGD(torch_like.parameters(), lr=lr, weight_decay=2 * c)
    for step in range(5):
        X, y = _regression_batch(d=4, seed=step)
        opt_k.zero_grad()
        (nn.functional.mse_loss(keras_like(X), y) + c * keras_like.weight.pow(2).sum()).backward()
        opt_k.step()
        opt_t.zero_grad()
        nn.functional.mse_loss(torch_like(X), y).backward()
        opt_t.step()
    torch.testing.assert_close(keras_like.weight, torch_like.weight, rtol=1e-12, atol=1e-14)
    # weightdecay.conventions agrees: both are the book's λ = c
    assert conventions.lam_from_keras_l2(c) == pytest.approx(conventions.lam_from_torch_weight_decay(2 * c, loss="mse"))


# ---------------------------------------------------------------------------
# 3. BatchNorm: scale invariance, effective learning rate, exponential learning rate
# ---------------------------------------------------------------------------
def _classification_data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, 6)).astype(np.float32) + np.eye(3, 6, dtype=np.float32)[y]
    return X, y


def test_scale_invariant_parameters_are_found():
    assert wo.scale_invariant_parameters(wo.bn_mlp(6, [8, 8], 3)) == ["0.weight", "3.weight"]
    assert wo.scale_invariant_parameters(mlp(6, [8, 8], 3)) == []
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))
    assert wo.scale_invariant_parameters(conv) == ["0.weight"]


def test_scale_invariance_identities_hold_for_a_weight_before_batchnorm():
    torch.manual_seed(0)
    model = wo.bn_mlp(6, [16, 16], 3, eps=1e-12).double()
    res = wo.scale_invariance(model, "3.weight", _classification_data(), scales=[0.1, 0.5, 3.0, 20.0])
    np.testing.assert_allclose(res.loss, res.loss_at_w, rtol=1e-10)
    np.testing.assert_allclose(res.grad_ratio, 1.0, rtol=1e-8)
    assert res.grad_error.max() < 1e-8 and abs(res.cosine) < 1e-10
    # the output layer is not scale-invariant: the check can fail
    out = wo.scale_invariance(model, "6.weight", _classification_data(), scales=[3.0])
    assert abs(out.loss[0] - out.loss_at_w) > 1e-3 and abs(out.cosine) > 1e-3
    with pytest.raises(ValueError, match="name must be a parameter of the model; got 'nope'"):
        wo.scale_invariance(model, "nope", _classification_data())
    with pytest.raises(ValueError, match="scales must all be > 0"):
        wo.scale_invariance(model, "3.weight", _classification_data(), scales=[0.0, 1.0])


def test_effective_lr_and_its_callback():
    w = torch.tensor([3.0, 4.0])
    assert wo.effective_lr(0.5, w) == pytest.approx(0.5 / 25)
    with pytest.raises(ValueError, match="weight must be finite and non-zero"):
        wo.effective_lr(0.1, torch.zeros(3))
    with pytest.raises(ValueError, match="lr must be >= 0"):
        wo.effective_lr(-0.1, w)

    from weightdecay.training import train

    torch.manual_seed(0)
    model = wo.bn_mlp(6, [8], 3)
    groups = wo.decay_param_groups(model, 0.0)
    groups[0]["lr"] = 0.2  # the watched weights have their own learning rate
    opt = torch.optim.SGD(groups, lr=0.05)
    monitor = wo.EffectiveLearningRate(opt, ["0.weight"])
    hist = train(model, _classification_data(), optimizer=opt, epochs=3, batch_size=32, callbacks=[monitor])
    assert len(hist["eff_lr/0.weight"]) == 3
    final = float(model[0].weight.detach().double().norm())
    assert hist["norm/0.weight"][-1] == pytest.approx(final)
    assert hist["eff_lr/0.weight"][-1] == pytest.approx(0.2 / final**2)
    # without decay the norm of a scale-invariant weight can only grow (⟨w, ∇f⟩ = 0)
    assert np.all(np.diff(hist["norm/0.weight"]) > 0)
    default = wo.EffectiveLearningRate(opt)
    logs = {}
    default.on_epoch_end(1, model, logs)
    assert set(logs) == {"norm/0.weight", "eff_lr/0.weight", "norm/3.weight", "eff_lr/3.weight"}
    with pytest.raises(ValueError, match="optimizer must be a torch.optim.Optimizer"):
        wo.EffectiveLearningRate("sgd")
    with pytest.raises(ValueError, match="'9.weight', which is not a parameter"):
        wo.EffectiveLearningRate(opt, ["9.weight"]).on_epoch_end(1, model, {})


def test_effective_learning_rate_summary_is_the_trace_of_cnn_train():
    torch.manual_seed(0)
    model = wo.bn_mlp(6, [8, 5], 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    logs = {}
    wo.EffectiveLearningRate(opt, ["0.weight", "3.weight"], per_layer=False, summary=True).on_epoch_end(1, model, logs)
    norms = np.array([float(model[0].weight.detach().norm()), float(model[3].weight.detach().norm())])
    assert list(logs) == ["lr", "weight_norm", "effective_lr", "layer_norms"] and logs["lr"] == 0.3
    np.testing.assert_array_equal(logs["layer_norms"], norms)
    assert logs["weight_norm"] == float(np.sqrt(np.sum(norms**2)))
    assert logs["effective_lr"] == float(np.mean(0.3 / norms**2))


def test_bn_mlp_is_training_mlp_with_batchnorm():
    torch.manual_seed(4)
    a = wo.bn_mlp(6, [7, 5], 3, eps=1e-3)
    torch.manual_seed(4)
    b = mlp(6, [7, 5], 3, norm=lambda width: nn.BatchNorm1d(width, eps=1e-3))
    assert [repr(layer) for layer in a] == [repr(layer) for layer in b]
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb and torch.equal(pa, pb)
    assert a[1].eps == 1e-3 and a[0].bias is None
    with pytest.raises(ValueError, match="eps must be > 0"):
        wo.bn_mlp(6, [7], 3, eps=0.0)
    with pytest.raises(ValueError, match=r"hidden\[0\] must be an integer >= 1"):
        wo.bn_mlp(6, [0], 3)


def test_exponential_learning_rate_identity_li_arora():
    """SGD + weight decay == SGD with learning rate η ρ^-(2t+1), no decay, up to w̃_t = ρ^-t w_t."""
    torch.manual_seed(0)
    model = wo.bn_mlp(6, [16, 16], 3, eps=1e-10)
    lr, lam, epochs, bs = 0.2, 0.2, 6, 32
    res = wo.exponential_lr_equivalence(model, _classification_data(), lr=lr, weight_decay=lam,
                                        epochs=epochs, batch_size=bs)
    rho = 1 - lr * lam
    steps = 4 * np.arange(1, epochs + 1)
    np.testing.assert_array_equal(res.steps, steps)
    np.testing.assert_allclose(res.predicted_ratio, rho ** -steps.astype(float))
    assert res.final_lr_factor == pytest.approx(rho ** -(2 * steps[-1] - 1))
    assert res.final_lr_factor > 5  # the learning rate really grew
    np.testing.assert_allclose(res.norm_ratio, res.predicted_ratio[:, None] * np.ones((1, 2)), rtol=1e-4)
    assert res.output_gap.max() < 1e-4
    np.testing.assert_allclose(res.train_loss_decay, res.train_loss_exp, rtol=1e-4)
    # control: decay and the same constant learning rate without decay are different runs
    plain = wo.exponential_lr_equivalence(model, _classification_data(), lr=lr, weight_decay=1e-9,
                                          epochs=epochs, batch_size=bs)
    assert np.abs(plain.norms_exp - res.norms_exp).max() > 1e-2
    with pytest.raises(ValueError, match="lr \\* weight_decay must be < 1"):
        wo.exponential_lr_equivalence(model, _classification_data(), lr=1.0, weight_decay=2.0, epochs=1)
    with pytest.raises(ValueError, match="names must be non-empty parameter names"):
        wo.exponential_lr_equivalence(mlp(6, [4], 3), _classification_data(), lr=0.1, weight_decay=0.1, epochs=1)


# ---------------------------------------------------------------------------
# 4. The source's MLP: the row-direction ceiling (the data: tests/test_experiments_optimizers.py)
# ---------------------------------------------------------------------------
def test_direction_only_r2_ceiling_closed_form():
    """E[r]²/E[r²] for r ~ χ_p: 2/π for p = 1, π/4 for p = 2, rising towards 1."""
    assert wo.direction_only_r2_ceiling(2) == pytest.approx(math.pi / 4, rel=1e-12)
    assert wo.direction_only_r2_ceiling(1) == pytest.approx(2 / math.pi, rel=1e-12)  # E|z|² / E z²
    ceilings = [wo.direction_only_r2_ceiling(p) for p in (1, 2, 5, 50, 500)]
    assert all(np.diff(ceilings) > 0) and 0.99 < ceilings[-1] < 1
    with pytest.raises(ValueError, match="n_features must be"):
        wo.direction_only_r2_ceiling(0)


# ---------------------------------------------------------------------------
# Names that moved: deprecated aliases for one release
# ---------------------------------------------------------------------------
MOVED_TO_EXPERIMENTS = ["source_regression_data", "RegressionSweep", "mlp_regression_sweep", "OptimizerComparison",
                        "DEFAULT_SETTINGS", "mnist1d_optimizer_comparison", "BNDecayResult", "BN_DECAY_VARIANTS",
                        "bn_decay_experiment"]


@pytest.mark.parametrize("name", MOVED_TO_EXPERIMENTS)
def test_moved_experiment_names_are_deprecated_aliases(name):
    from weightdecay.experiments import optimizers as ex

    with pytest.warns(DeprecationWarning, match=f"weightdecay.optim.{name} moved to "
                                                f"weightdecay.experiments.optimizers.{name}; "
                                                "the old name will be removed in the next release"):
        old = getattr(wo, name)
    assert old is getattr(ex, name)
    assert name not in wo.__all__ and name in ex.__all__


def test_row_normalise_is_a_deprecated_alias_of_row_normalize():
    from weightdecay.experiments import optimizers as ex

    with pytest.warns(DeprecationWarning, match="weightdecay.optim.row_normalise moved to "
                                                "weightdecay.experiments.optimizers.row_normalize"):
        assert wo.row_normalise is ex.row_normalize
    assert "row_normalise" not in wo.__all__


def test_single_thread_moved_to_reproducibility():
    from weightdecay.reproducibility import single_thread

    with pytest.warns(DeprecationWarning, match="weightdecay.optim.single_thread moved to "
                                                "weightdecay.reproducibility.single_thread"):
        assert wo.single_thread is single_thread
    assert "single_thread" not in wo.__all__


def test_unknown_names_still_raise_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        wo.no_such_name  # noqa: B018
