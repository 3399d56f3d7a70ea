r"""Weight decay in optimisers: which parameters to decay, decay versus an L2 penalty, BatchNorm.

Five parts, in the order of the chapter "Weight decay is not always L2".

1. **Which parameters to decay.**  :func:`decay_param_groups` splits a model's parameters
   into two PyTorch param groups: weight matrices and convolution kernels are decayed;
   biases, the parameters of normalisation layers (BatchNorm, LayerNorm, GroupNorm,
   InstanceNorm, RMSNorm), PReLU slopes and, by default, embeddings are not.
   :func:`l2_penalty` is the matching penalty :math:`\frac\lambda2\sum\lVert W\rVert^2` over
   the same parameters, so that ``SGD(decay_param_groups(m, λ))`` on a loss takes exactly the
   steps of plain ``SGD`` on the loss plus ``l2_penalty(m, λ)``.

2. **Reference update rules**, written from the math and tested against ``torch.optim``:
   :class:`SGDL2` (SGD with momentum and an L2 penalty, PyTorch's ``SGD(weight_decay=λ)``),
   :class:`SGDW` (SGD with decoupled decay), :class:`AdamL2` (PyTorch's
   ``Adam(weight_decay=λ)``) and :class:`AdamW`.  Under plain SGD a penalty and a decay are
   the same update.  With momentum they are different updates, but both still have the
   fixed points of an L2-penalised objective: :math:`\lambda` for SGD+L2 and the weaker
   :math:`\lambda(1-\mu)` for SGDW (:func:`stationary_l2_coefficient`).  Under Adam they
   differ fundamentally (Loshchilov & Hutter 2019).  :func:`decay_only_trajectory` shows
   it on a weight that receives no data gradient.

3. **BatchNorm and the effective learning rate.**  A weight followed by BatchNorm is
   *scale-invariant*: :math:`f(cw) = f(w)` for every :math:`c>0`, hence
   :math:`\nabla f(cw) = \nabla f(w)/c` and :math:`\langle w, \nabla f(w)\rangle = 0`.  An SGD
   step changes its *direction* by about :math:`\eta\lVert\nabla f\rVert/\lVert w\rVert`, i.e.
   with the effective learning rate :math:`\eta/\lVert w\rVert^2` (van Laarhoven 2017;
   Zhang et al. 2019).  :func:`scale_invariance` checks the three identities,
   :class:`EffectiveLearningRate` records :math:`\eta/\lVert w\rVert^2` per layer during
   training and :func:`exponential_lr_equivalence` verifies the identity of Li & Arora (2020):
   weight decay is an exponentially growing learning rate.

4. **The source's Keras MLP, corrected**: :func:`source_regression_data`,
   :func:`row_normalise` (the source's preprocessing, kept to show what it loses),
   :func:`direction_only_r2_ceiling` (the most any model of the row directions can explain)
   and :func:`mlp_regression_sweep`, the validation loss against :math:`\lambda`.

5. **Experiments on MNIST-1D**: :func:`mnist1d_optimizer_comparison` trains the same MLP
   with SGD+L2, SGDW, Adam+L2 and AdamW over several seeds; :func:`bn_decay_experiment`
   records what decay does to the norms, the effective learning rate and the training curves
   of a BatchNorm MLP, and what decaying BatchNorm's :math:`\gamma` does.
   :func:`weightdecay.stats.mean_se` summarises any of them over seeds.

This module imports torch; ``import weightdecay`` does not (the module loads lazily).
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .progress import progress_bar
from .stats import mean_se
from .validation import (
    check_lambda,
    check_lambdas,
    check_matrix,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_seeds,
)

__all__ = [
    # 1. which parameters to decay
    "NORMALIZATION_LAYERS",
    "ParamDecision",
    "decay_decisions",
    "decay_param_groups",
    "l2_penalty",
    # 2. update rules
    "SGDL2",
    "SGDW",
    "AdamL2",
    "AdamW",
    "METHODS",
    "make_optimizer",
    "stationary_l2_coefficient",
    "decay_only_trajectory",
    # 3. BatchNorm and the effective learning rate
    "bn_mlp",
    "scale_invariant_parameters",
    "effective_lr",
    "EffectiveLearningRate",
    "ScaleInvariance",
    "scale_invariance",
    "ExponentialLREquivalence",
    "exponential_lr_equivalence",
    # 4. the source's MLP, corrected
    "source_regression_data",
    "row_normalise",
    "direction_only_r2_ceiling",
    "RegressionSweep",
    "mlp_regression_sweep",
    # 5. experiments
    "OptimizerComparison",
    "DEFAULT_SETTINGS",
    "mnist1d_optimizer_comparison",
    "BNDecayResult",
    "BN_DECAY_VARIANTS",
    "bn_decay_experiment",
    "single_thread",
    # 6. weight decay at scale: timescales, schedules, equilibrium
    "AdamWTimescale",
    "adamw_timescale",
    "SCHEDULES",
    "lr_schedule",
    "decay_factor_along_schedule",
    "update_weights_along_schedule",
    "EQUILIBRIUM_OPTIMIZERS",
    "equilibrium_angular_update",
    "equilibrium_norm",
    "angle_between",
]


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------
def _check_module(model, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"{name} must be a torch.nn.Module; got {type(model).__name__}")
    return model


def _check_lr(lr, name: str = "lr") -> float:
    return check_positive_float(lr, name)


def _check_betas(betas) -> tuple[float, float]:
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}") from None
    return check_probability(b1, "betas[0]"), check_probability(b2, "betas[1]")


_check_seeds = check_seeds  # the one seed check, in weightdecay.validation


@contextlib.contextmanager
def single_thread():
    """Run torch on one CPU thread inside the ``with`` block, then restore the thread count.

    The book's networks are tiny: one thread is as fast as several, is not slowed down by
    other processes competing for the cores, and gives the same floating-point reductions
    on every machine, whatever its number of cores.

    Yields
    ------
    None
        The block runs with ``torch.get_num_threads() == 1``.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> before = torch.get_num_threads()
    >>> with wd.optim.single_thread():
    ...     print(torch.get_num_threads())
    1
    >>> torch.get_num_threads() == before
    True
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ---------------------------------------------------------------------------
# 1. Which parameters to decay
# ---------------------------------------------------------------------------
def _normalization_layers() -> tuple[type[nn.Module], ...]:
    layers: list[type[nn.Module]] = [
        nn.modules.batchnorm._NormBase,  # BatchNorm1d/2d/3d, SyncBatchNorm, InstanceNorm1d/2d/3d
        nn.LayerNorm,
        nn.GroupNorm,
        nn.LocalResponseNorm,
    ]
    if hasattr(nn, "RMSNorm"):
        layers.append(nn.RMSNorm)
    return tuple(layers)


#: Module types whose parameters (scales :math:`\gamma` and shifts :math:`\beta`) are never
#: decayed.
NORMALIZATION_LAYERS = _normalization_layers()
_EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)


@dataclass(frozen=True)
class ParamDecision:
    """Whether one parameter is decayed, and why (one entry of :func:`decay_decisions`).

    Parameters
    ----------
    name : str
        The parameter's full name, as ``model.named_parameters()`` gives it.
    shape : tuple of int
        Its shape.
    decay : bool
        ``True`` if weight decay applies to it.
    reason : str
        The rule of :func:`decay_decisions` that decided, e.g. ``"bias"`` or
        ``"weight matrix or kernel"``.

    Examples
    --------
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> wd.optim.decay_decisions(nn.Linear(3, 2))[0]
    ParamDecision(name='weight', shape=(2, 3), decay=True, reason='weight matrix or kernel')
    """

    name: str
    shape: tuple[int, ...]
    decay: bool
    reason: str


def _check_patterns(exclude) -> tuple[str, ...]:
    if isinstance(exclude, str):
        exclude = (exclude,)
    try:
        patterns = tuple(exclude)
    except TypeError:
        raise ValueError(f"exclude must be a string or an iterable of strings; got {exclude!r}") from None
    for p in patterns:
        if not isinstance(p, str) or not p:
            raise ValueError(f"exclude must contain non-empty strings (name patterns); got {p!r}")
    return patterns


def _named_trainable_parameters(model: nn.Module):
    """``(name, module, attribute, parameter)`` for every trainable parameter, each tensor once.

    A parameter shared by several modules (tied weights) is reported once, under its first
    name in ``model.named_modules()`` order, which is also the name
    ``model.named_parameters()`` gives it.
    """
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for attr, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            if param.requires_grad:
                yield (f"{module_name}.{attr}" if module_name else attr), module, attr, param


def _decide(module: nn.Module, attr: str, param: torch.Tensor, name: str, patterns, decay_embeddings: bool):
    if any(fnmatch.fnmatchcase(name, p) for p in patterns):
        return False, "excluded by name"
    if isinstance(module, NORMALIZATION_LAYERS):
        return False, "normalisation layer"
    if isinstance(module, nn.PReLU):
        return False, "PReLU slope"
    if isinstance(module, _EMBEDDINGS):
        return decay_embeddings, "embedding"
    if attr == "bias" or attr.endswith("_bias"):
        return False, "bias"
    if param.ndim >= 2:
        return True, "weight matrix or kernel"
    return False, "1-D parameter (gain or offset)"


def decay_decisions(
    model: nn.Module,
    *,
    decay_embeddings: bool = False,
    exclude: str | Iterable[str] = (),
) -> list[ParamDecision]:
    r"""Decide, for every trainable parameter of ``model``, whether weight decay applies.

    The rules, in order (the first that applies wins):

    1. a name matching one of the ``exclude`` patterns (shell-style, e.g. ``"head.*"``,
       matched with :func:`fnmatch.fnmatchcase` against the full name) — **no decay**;
    2. a parameter of a normalisation layer (:data:`NORMALIZATION_LAYERS`: the scale
       :math:`\gamma` and shift :math:`\beta`) — **no decay**;
    3. a PReLU slope — **no decay** (decay would push PReLU towards ReLU; He et al. 2015);
    4. an embedding table — decay only if ``decay_embeddings``;
    5. a bias (attribute ``bias`` or ``*_bias``) — **no decay** (an intercept is never
       penalised);
    6. any other parameter with two or more dimensions (``Linear`` weight matrices,
       convolution kernels, attention projections) — **decay**;
    7. any other one-dimensional parameter (gains and offsets of custom layers) — **no decay**.

    Parameters with ``requires_grad=False`` are left out; a parameter shared by several
    modules appears once.

    Parameters
    ----------
    model : nn.Module
        The model whose parameters are classified.
    decay_embeddings : bool, default False
        Decay the tables of ``nn.Embedding`` and ``nn.EmbeddingBag`` layers.
    exclude : str or iterable of str, default ()
        Shell-style name patterns of parameters never to decay.

    Returns
    -------
    list of ParamDecision
        One entry per trainable parameter, in ``model.named_parameters()`` order.

    Raises
    ------
    ValueError
        If ``model`` is not a module, or an ``exclude`` pattern matches no parameter (a typo
        would otherwise silently decay what it meant to exclude).

    Examples
    --------
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    >>> for d in wd.optim.decay_decisions(model):
    ...     print(d.name, d.decay, d.reason)
    0.weight True weight matrix or kernel
    0.bias False bias
    1.weight False normalisation layer
    1.bias False normalisation layer
    2.weight True weight matrix or kernel
    2.bias False bias
    >>> [d.decay for d in wd.optim.decay_decisions(model, exclude="2.*")]
    [True, False, False, False, False, False]
    """
    _check_module(model)
    patterns = _check_patterns(exclude)
    decisions, used = [], set()
    for name, module, attr, param in _named_trainable_parameters(model):
        used |= {p for p in patterns if fnmatch.fnmatchcase(name, p)}
        decay, reason = _decide(module, attr, param, name, patterns, bool(decay_embeddings))
        decisions.append(ParamDecision(name, tuple(param.shape), decay, reason))
    unused = [p for p in patterns if p not in used]
    if unused:
        raise ValueError(f"exclude pattern(s) {unused} match no trainable parameter of the model")
    return decisions


def _split_parameters(model, decay_embeddings, exclude):
    decisions = decay_decisions(model, decay_embeddings=decay_embeddings, exclude=exclude)
    decide = {d.name: d.decay for d in decisions}
    decay, no_decay = [], []
    for name, _, _, param in _named_trainable_parameters(model):
        (decay if decide[name] else no_decay).append(param)
    return decay, no_decay


def decay_param_groups(
    model: nn.Module,
    weight_decay: float,
    *,
    decay_embeddings: bool = False,
    exclude: str | Iterable[str] = (),
) -> list[dict]:
    r"""Two PyTorch param groups: decayed weights, and everything else with no decay.

    Returns ``[{"params": [...], "weight_decay": weight_decay}, {"params": [...],
    "weight_decay": 0.0}]``; pass it to any ``torch.optim`` optimiser (or to this module's
    reference optimisers) in place of ``model.parameters()``.  Which parameters land in
    which group is decided by :func:`decay_decisions`: weight matrices and convolution
    kernels are decayed; biases, normalisation layers' parameters, PReLU slopes and (unless
    ``decay_embeddings``) embeddings are not.  Every trainable parameter appears in exactly
    one group; frozen ones (``requires_grad=False``) in none.  A group may be empty.

    ``weight_decay`` is handed to the optimiser unchanged, so it means whatever the
    optimiser makes of it: the L2-penalty coefficient :math:`\lambda` for ``SGD`` and
    ``Adam`` (the gradient :math:`\lambda w` is added to the data gradient), the decoupled
    rate for ``AdamW`` (:math:`w \leftarrow (1-\eta\lambda)w` before the Adam step).

    Parameters
    ----------
    model : nn.Module
        The model whose trainable parameters are split.
    weight_decay : float
        The ``weight_decay`` of the decayed group, :math:`\ge 0`.
    decay_embeddings : bool, default False
        Put embedding tables in the decayed group.
    exclude : str or iterable of str, default ()
        Shell-style name patterns of parameters to keep out of the decayed group.

    Returns
    -------
    list of dict
        ``[decayed group, undecayed group]``, each with keys ``"params"`` and
        ``"weight_decay"``.

    Raises
    ------
    ValueError
        If ``weight_decay`` is negative or not finite, or as :func:`decay_decisions`.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    >>> groups = wd.optim.decay_param_groups(model, 1e-2)
    >>> [len(g["params"]) for g in groups], [g["weight_decay"] for g in groups]
    ([2, 4], [0.01, 0.0])
    >>> optimizer = torch.optim.AdamW(groups, lr=1e-3)
    """
    weight_decay = check_lambda(weight_decay, "weight_decay")
    decay, no_decay = _split_parameters(model, decay_embeddings, exclude)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def l2_penalty(
    model: nn.Module,
    lam: float,
    *,
    decay_embeddings: bool = False,
    exclude: str | Iterable[str] = (),
) -> torch.Tensor:
    r"""The penalty :math:`\frac\lambda2\sum_W \lVert W\rVert_2^2` over the decayed parameters.

    The sum runs over exactly the parameters that :func:`decay_param_groups` (with the same
    options) puts in its decayed group.  Its gradient is :math:`\lambda W`, which is what
    ``torch.optim.SGD(weight_decay=λ)`` adds to the data gradient, so plain SGD on
    ``loss + l2_penalty(model, λ)`` takes the same steps as
    ``SGD(decay_param_groups(model, λ))`` on ``loss``.  Returns a scalar tensor that is part
    of the autograd graph (use it as ``penalty=`` of :func:`weightdecay.training.train`).

    Parameters
    ----------
    model : nn.Module
        The model.
    lam : float
        The book's :math:`\lambda \ge 0`.
    decay_embeddings : bool, default False
        Include embedding tables, as in :func:`decay_param_groups`.
    exclude : str or iterable of str, default ()
        Name patterns left out, as in :func:`decay_param_groups`.

    Returns
    -------
    torch.Tensor
        A scalar; zero (on the model's device) when no parameter is decayed.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite, or as :func:`decay_decisions`.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> model = nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     _ = model.weight.fill_(1.0)
    >>> penalty = wd.optim.l2_penalty(model, 0.1)  # 0.1 / 2 * (1 + 1); the bias is not penalised
    >>> print(round(float(penalty.detach()), 4))
    0.1
    >>> penalty.backward()
    >>> model.weight.grad  # lambda * W
    tensor([[0.1000, 0.1000]])
    """
    lam = check_lambda(lam)
    decay, _ = _split_parameters(model, decay_embeddings, exclude)
    if not decay:
        param = next(model.parameters(), None)
        return torch.zeros((), device=None if param is None else param.device)
    return 0.5 * lam * sum(w.pow(2).sum() for w in decay)


# ---------------------------------------------------------------------------
# 2. Reference update rules
# ---------------------------------------------------------------------------
class _Reference(torch.optim.Optimizer):
    """Base of the reference optimisers: iterate over the parameters that have a gradient."""

    def _parameters(self):
        """Yield ``(group, w, grad, state)`` for every parameter with a gradient."""
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is not None:
                    yield group, w, w.grad, self.state[w]


class SGDL2(_Reference):
    r"""SGD with momentum and an L2 penalty: PyTorch's ``SGD(momentum=μ, weight_decay=λ)``.

    The penalty :math:`\frac\lambda2\lVert w\rVert^2` enters through its gradient, which
    goes through the momentum buffer like the data gradient:

    .. math::

        g_t &= \nabla f(w_{t-1}) + \lambda w_{t-1} \\
        b_t &= \mu\, b_{t-1} + g_t \qquad (b_1 = g_1) \\
        w_t &= w_{t-1} - \eta\, b_t

    With :math:`\mu = 0` this is :math:`w_t = (1-\eta\lambda)w_{t-1} - \eta\nabla f(w_{t-1})`:
    a penalty *is* a multiplicative decay under plain SGD.  With momentum the decay of
    step :math:`t` is :math:`\eta\lambda\sum_k \mu^k w_{t-1-k}`, close to
    :math:`\frac{\eta\lambda}{1-\mu}w_{t-1}` when :math:`w` changes slowly; the data
    gradient is amplified by the same factor, so the fixed points are those of
    :math:`f + \frac\lambda2\lVert w\rVert^2` for every :math:`\mu`
    (:func:`stationary_l2_coefficient`).

    Parameters
    ----------
    params : iterable
        Parameters or param groups (e.g. :func:`decay_param_groups`).
    lr : float
        The learning rate :math:`\eta > 0`.
    momentum : float, default 0
        :math:`\mu` in :math:`[0, 1)`.
    weight_decay : float, default 0
        The L2 coefficient :math:`\lambda \ge 0` (a group's own ``weight_decay`` wins).

    Raises
    ------
    ValueError
        If ``lr``, ``momentum`` or ``weight_decay`` is out of range.

    Examples
    --------
    One step from rest: :math:`b_1 = g_1`, so :math:`w_1 = w_0 - \eta(\nabla f + \lambda w_0)`.

    >>> import torch
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Linear(3, 1)
    >>> w0 = model.weight.detach().clone()
    >>> opt = wd.optim.SGDL2(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    >>> model(torch.randn(8, 3)).pow(2).mean().backward()
    >>> opt.step()
    >>> g = model.weight.grad
    >>> model.weight.shape
    torch.Size([1, 3])
    >>> bool(torch.allclose(model.weight, w0 - 0.1 * (g + 0.01 * w0)))
    True
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        defaults = {
            "lr": _check_lr(lr),
            "momentum": check_probability(momentum, "momentum"),
            "weight_decay": check_lambda(weight_decay, "weight_decay"),
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        for group, w, grad, state in self._parameters():
            lr, mu, lam = group["lr"], group["momentum"], group["weight_decay"]
            g = grad + lam * w
            b = state.get("b")
            b = g.clone() if b is None else mu * b + g
            state["b"] = b
            w.sub_(lr * b)
        return loss


class SGDW(_Reference):
    r"""SGD with momentum and *decoupled* weight decay (SGDW, Loshchilov & Hutter 2019).

    The decay is applied to the weights directly and never enters the momentum buffer:

    .. math::

        b_t &= \mu\, b_{t-1} + \nabla f(w_{t-1}) \qquad (b_1 = \nabla f(w_0)) \\
        w_t &= (1 - \eta\lambda)\, w_{t-1} - \eta\, b_t

    ``weight_decay`` is multiplied by the learning rate, as in ``torch.optim.AdamW``: the
    weights shrink by the factor :math:`1-\eta\lambda` per step, so with no data gradient
    :math:`w_t = (1-\eta\lambda)^t w_0`.  (Loshchilov & Hutter write the per-step factor as
    :math:`1-\lambda'`; then :math:`\lambda' = \eta\lambda` and, under plain SGD, the
    equivalent L2 coefficient is :math:`\lambda'/\eta`.)  With :math:`\mu = 0` this is the
    same update as :class:`SGDL2`.  With momentum the data gradient is amplified by about
    :math:`1/(1-\mu)` and the decay is not, so the fixed points satisfy
    :math:`\nabla f(w) + \lambda(1-\mu)w = 0`: an L2 penalty of :math:`\lambda(1-\mu)`, weaker
    relative to the data gradient (:func:`stationary_l2_coefficient`).

    Parameters
    ----------
    params : iterable
        Parameters or param groups (e.g. :func:`decay_param_groups`).
    lr : float
        The learning rate :math:`\eta > 0`.
    momentum : float, default 0
        :math:`\mu` in :math:`[0, 1)`.
    weight_decay : float, default 0
        The decoupled rate :math:`\lambda \ge 0` (shrink factor :math:`1-\eta\lambda`
        per step; a group's own ``weight_decay`` wins).

    Raises
    ------
    ValueError
        If ``lr``, ``momentum`` or ``weight_decay`` is out of range.

    Examples
    --------
    One step from rest: :math:`w_1 = (1-\eta\lambda)w_0 - \eta\nabla f(w_0)`.

    >>> import torch
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Linear(3, 1)
    >>> w0 = model.weight.detach().clone()
    >>> opt = wd.optim.SGDW(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    >>> model(torch.randn(8, 3)).pow(2).mean().backward()
    >>> opt.step()
    >>> g = model.weight.grad
    >>> bool(torch.allclose(model.weight, (1 - 0.1 * 0.01) * w0 - 0.1 * g))
    True
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        defaults = {
            "lr": _check_lr(lr),
            "momentum": check_probability(momentum, "momentum"),
            "weight_decay": check_lambda(weight_decay, "weight_decay"),
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        for group, w, grad, state in self._parameters():
            lr, mu, lam = group["lr"], group["momentum"], group["weight_decay"]
            b = state.get("b")
            b = grad.clone() if b is None else mu * b + grad
            state["b"] = b
            w.copy_((1 - lr * lam) * w - lr * b)
        return loss


class _AdamBase(_Reference):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        defaults = {
            "lr": _check_lr(lr),
            "betas": _check_betas(betas),
            "eps": check_positive_float(eps, "eps"),
            "weight_decay": check_lambda(weight_decay, "weight_decay"),
        }
        super().__init__(params, defaults)

    @staticmethod
    def _adam_direction(g, state, beta1, beta2, eps):
        r""":math:`\hat m_t / (\sqrt{\hat v_t} + \epsilon)` from the gradient ``g`` (updates ``state``)."""
        t = state["t"] = state.get("t", 0) + 1
        m = state["m"] = beta1 * state.get("m", torch.zeros_like(g)) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", torch.zeros_like(g)) + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return m_hat / (v_hat.sqrt() + eps)


class AdamL2(_AdamBase):
    r"""Adam with an L2 penalty: PyTorch's ``Adam(weight_decay=λ)``.

    The penalty gradient is added to the data gradient *before* Adam's normalisation:

    .. math::

        g_t &= \nabla f(w_{t-1}) + \lambda w_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \hat m_t &= m_t/(1-\beta_1^t), \qquad \hat v_t = v_t/(1-\beta_2^t) \\
        w_t &= w_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    (squares, roots and divisions elementwise, :math:`m_0 = v_0 = 0`).  Because
    :math:`\lambda w` is divided by :math:`\sqrt{\hat v_t}` like the data gradient, a weight
    whose gradients are large is barely decayed, and a weight with no data gradient moves
    towards 0 by about :math:`\eta` per step whatever :math:`\lambda` is: this is not weight
    decay.

    Parameters
    ----------
    params : iterable
        Parameters or param groups (e.g. :func:`decay_param_groups`).
    lr : float, default 1e-3
        The learning rate :math:`\eta > 0`.
    betas : tuple of float, default (0.9, 0.999)
        :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon > 0`.
    weight_decay : float, default 0
        The L2 coefficient :math:`\lambda \ge 0` (a group's own ``weight_decay`` wins).

    Raises
    ------
    ValueError
        If ``lr``, ``betas``, ``eps`` or ``weight_decay`` is out of range.

    Examples
    --------
    Adam's first step is :math:`\eta` times the sign of the gradient, penalty included:

    >>> import torch
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Linear(3, 1)
    >>> w0 = model.weight.detach().clone()
    >>> opt = wd.optim.AdamL2(model.parameters(), lr=0.1, weight_decay=0.01)
    >>> model(torch.randn(8, 3)).pow(2).mean().backward()
    >>> opt.step()
    >>> g = model.weight.grad + 0.01 * w0
    >>> bool(torch.allclose(model.weight, w0 - 0.1 * torch.sign(g)))
    True
    """

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        for group, w, grad, state in self._parameters():
            (beta1, beta2), eps = group["betas"], group["eps"]
            lr, lam = group["lr"], group["weight_decay"]
            g = grad + lam * w
            w.sub_(lr * self._adam_direction(g, state, beta1, beta2, eps))
        return loss


class AdamW(_AdamBase):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019): ``torch.optim.AdamW``.

    Adam sees only the data gradient; the decay multiplies the weights:

    .. math::

        g_t &= \nabla f(w_{t-1}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \hat m_t &= m_t/(1-\beta_1^t), \qquad \hat v_t = v_t/(1-\beta_2^t) \\
        w_t &= (1 - \eta\lambda)\, w_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Every weight shrinks by the same factor :math:`1-\eta\lambda` per step, whatever its
    gradient history; with no data gradient :math:`w_t = (1-\eta\lambda)^t w_0`.

    Parameters
    ----------
    params : iterable
        Parameters or param groups (e.g. :func:`decay_param_groups`).
    lr : float, default 1e-3
        The learning rate :math:`\eta > 0`.
    betas : tuple of float, default (0.9, 0.999)
        :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon > 0`.
    weight_decay : float, default 0
        The decoupled rate :math:`\lambda \ge 0` (a group's own ``weight_decay`` wins).

    Raises
    ------
    ValueError
        If ``lr``, ``betas``, ``eps`` or ``weight_decay`` is out of range.

    Examples
    --------
    The first step shrinks the weights, then moves them by :math:`\eta` times the sign of the
    data gradient:

    >>> import torch
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Linear(3, 1)
    >>> w0 = model.weight.detach().clone()
    >>> opt = wd.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.01)
    >>> model(torch.randn(8, 3)).pow(2).mean().backward()
    >>> opt.step()
    >>> g = model.weight.grad
    >>> bool(torch.allclose(model.weight, (1 - 0.1 * 0.01) * w0 - 0.1 * torch.sign(g)))
    True
    """

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else torch.enable_grad()(closure)()
        for group, w, grad, state in self._parameters():
            (beta1, beta2), eps = group["betas"], group["eps"]
            lr, lam = group["lr"], group["weight_decay"]
            direction = self._adam_direction(grad, state, beta1, beta2, eps)
            w.copy_((1 - lr * lam) * w - lr * direction)
        return loss


#: The four ways of combining an optimiser with weight decay compared in the chapter.
METHODS = ("SGD+L2", "SGDW", "Adam+L2", "AdamW")


def make_optimizer(method: str, params, *, lr: float, momentum: float = 0.9) -> torch.optim.Optimizer:
    """Build the optimiser for one of :data:`METHODS` over ``params`` (e.g. param groups).

    ``"SGD+L2"`` is ``torch.optim.SGD`` (its ``weight_decay`` is an L2 penalty gradient),
    ``"SGDW"`` is :class:`SGDW` (PyTorch has no SGDW), ``"Adam+L2"`` is ``torch.optim.Adam``
    and ``"AdamW"`` is ``torch.optim.AdamW``; ``momentum`` is used by the SGD methods only.
    The ``weight_decay`` of each group (see :func:`decay_param_groups`) is given to the
    optimiser as it is; a plain list of parameters gets no decay (not even ``AdamW``'s
    default of 0.01).

    Parameters
    ----------
    method : {"SGD+L2", "SGDW", "Adam+L2", "AdamW"}
        One of :data:`METHODS`.
    params : iterable
        Parameters or param groups.
    lr : float
        The learning rate.
    momentum : float, default 0.9
        Momentum of the SGD methods.

    Returns
    -------
    torch.optim.Optimizer
        The optimiser.

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`METHODS`, or ``lr`` or ``momentum`` is out of range.

    Examples
    --------
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> model = nn.Linear(3, 1)
    >>> for method in wd.optim.METHODS:
    ...     groups = wd.optim.decay_param_groups(model, 0.1)
    ...     print(method, type(wd.optim.make_optimizer(method, groups, lr=0.1)).__name__)
    SGD+L2 SGD
    SGDW SGDW
    Adam+L2 Adam
    AdamW AdamW
    """
    lr = _check_lr(lr)
    momentum = check_probability(momentum, "momentum")
    params = list(params)
    if method == "SGD+L2":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if method == "SGDW":
        return SGDW(params, lr=lr, momentum=momentum)
    if method == "Adam+L2":
        return torch.optim.Adam(params, lr=lr)
    if method == "AdamW":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    raise ValueError(f"method must be one of {METHODS}; got {method!r}")


def stationary_l2_coefficient(method: str, weight_decay: float, *, momentum: float = 0.0) -> float:
    r"""The L2 coefficient, in the book's convention, whose objective has the method's fixed points.

    A fixed point of an optimiser is a :math:`w` that a step with the full data gradient
    :math:`\nabla f` leaves unchanged (with a constant momentum buffer).  For the SGD
    methods with momentum :math:`\mu` and ``weight_decay`` :math:`\lambda`:

    * ``"SGD+L2"``: :math:`b = \mu b + \nabla f(w) + \lambda w` gives
      :math:`b = (\nabla f(w) + \lambda w)/(1-\mu)`, and :math:`w = w - \eta b` needs
      :math:`b = 0`: :math:`\nabla f(w) + \lambda w = 0`.  Momentum amplifies the data
      gradient and the penalty alike, so the coefficient is :math:`\lambda` for every
      :math:`\mu`: SGD+L2 minimises :math:`f + \frac\lambda2\lVert w\rVert^2`.
    * ``"SGDW"``: :math:`b = \nabla f(w)/(1-\mu)` and
      :math:`w = (1-\eta\lambda)w - \eta b` needs :math:`\lambda w + \nabla f(w)/(1-\mu) = 0`,
      i.e. :math:`\nabla f(w) + \lambda(1-\mu)w = 0`: the coefficient is
      :math:`\lambda(1-\mu)`, weaker relative to the data gradient, because momentum
      amplifies the gradient but not the decoupled decay.
    * ``"Adam+L2"``: :math:`\lambda` (the gradient :math:`\nabla f + \lambda w` must vanish
      where :math:`\hat m_t` does), if Adam converges at all.

    ``"AdamW"`` has none: its fixed points satisfy
    :math:`\lambda w_j + \nabla_j f/(\sqrt{\hat v_j}+\epsilon) = 0`, a per-coordinate penalty
    :math:`\lambda(\sqrt{\hat v_j}+\epsilon)` that depends on the gradient history, so it
    raises ``ValueError``.  So SGD+L2 with :math:`\lambda` and SGDW with
    :math:`\lambda/(1-\mu)` have the same fixed points.

    Parameters
    ----------
    method : {"SGD+L2", "SGDW", "Adam+L2"}
        One of :data:`METHODS` other than ``"AdamW"``.
    weight_decay : float
        The optimiser's ``weight_decay`` :math:`\lambda \ge 0`.
    momentum : float, default 0
        :math:`\mu` in :math:`[0, 1)`.

    Returns
    -------
    float
        The book's :math:`\lambda` of the objective with the same fixed points.

    Raises
    ------
    ValueError
        If ``method`` is ``"AdamW"`` or unknown, or ``weight_decay`` or ``momentum`` is out
        of range.

    Examples
    --------
    >>> import weightdecay as wd
    >>> print(round(wd.optim.stationary_l2_coefficient("SGDW", 0.03, momentum=0.9), 6))
    0.003
    >>> wd.optim.stationary_l2_coefficient("SGD+L2", 0.003, momentum=0.9)
    0.003
    """
    weight_decay = check_lambda(weight_decay, "weight_decay")
    momentum = check_probability(momentum, "momentum")
    if method in ("SGD+L2", "Adam+L2"):
        return weight_decay
    if method == "SGDW":
        return weight_decay * (1.0 - momentum)
    if method == "AdamW":
        raise ValueError("method 'AdamW' has no L2-equivalent coefficient: its implied penalty "
                         "lambda * (sqrt(v_hat) + eps) differs between coordinates")
    raise ValueError(f"method must be one of {METHODS}; got {method!r}")


def decay_only_trajectory(
    optimizer_factory: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    w0,
    steps: int,
) -> np.ndarray:
    r"""Run ``steps`` optimiser steps on weights that receive **no data gradient**.

    The weights start at ``w0``; before every step their gradient is set to zero, so
    the only force on them is whatever the optimiser does with ``weight_decay``.  Returns
    the weights after every step, an array ``(steps + 1, *w0.shape)`` starting with ``w0``
    (float64).  For decoupled decay the answer is :math:`w_t = (1-\eta\lambda)^t w_0`; for
    Adam with an L2 penalty it is not.

    ``optimizer_factory`` receives the list of parameters, e.g.
    ``lambda p: AdamW(p, lr=1e-2, weight_decay=0.1)``.

    Parameters
    ----------
    optimizer_factory : callable
        Builds the optimiser from a list of parameters.
    w0 : array_like
        The initial weights (any shape), finite.
    steps : int
        Number of steps, :math:`\ge 0`.

    Returns
    -------
    ndarray
        Shape ``(steps + 1, *w0.shape)``, float64.

    Raises
    ------
    ValueError
        If ``steps`` is negative or ``w0`` is not finite.

    Examples
    --------
    Decoupled decay is geometric; Adam with a penalty moves by about :math:`\eta` per step:

    >>> import weightdecay as wd
    >>> traj = wd.optim.decay_only_trajectory(
    ...     lambda p: wd.optim.AdamW(p, lr=0.1, weight_decay=0.5), [1.0, -2.0], 3
    ... )
    >>> traj.shape
    (4, 2)
    >>> traj[:, 0].round(4).tolist()  # 0.95 ** t
    [1.0, 0.95, 0.9025, 0.8574]
    >>> traj = wd.optim.decay_only_trajectory(
    ...     lambda p: wd.optim.AdamL2(p, lr=0.1, weight_decay=0.5), [1.0, -2.0], 3
    ... )
    >>> traj[:, 0].round(1).tolist()
    [1.0, 0.9, 0.8, 0.7]
    """
    steps = check_positive_int(steps, "steps", minimum=0)
    w = torch.nn.Parameter(torch.as_tensor(np.asarray(w0, dtype=np.float64)).clone())
    if not torch.isfinite(w).all():
        raise ValueError("w0 must contain only finite values")
    optimizer = optimizer_factory([w])
    trajectory = [w.detach().clone()]
    for _ in range(steps):
        w.grad = torch.zeros_like(w)
        optimizer.step()
        trajectory.append(w.detach().clone())
    return torch.stack(trajectory).numpy()


# ---------------------------------------------------------------------------
# 3. BatchNorm, scale invariance and the effective learning rate
# ---------------------------------------------------------------------------
def bn_mlp(in_features: int, hidden: Sequence[int], out_features: int, *, eps: float = 1e-5) -> nn.Sequential:
    r"""An MLP ``Linear(bias=False) → BatchNorm1d → ReLU → … → Linear``.

    Every hidden ``Linear`` weight is followed by BatchNorm and is therefore
    scale-invariant (in training mode); the output layer is a plain ``Linear``.  ``eps`` is
    BatchNorm's :math:`\epsilon` in :math:`(z-\mu)/\sqrt{\sigma^2+\epsilon}`; it breaks the
    invariance slightly when :math:`\sigma^2` is not much larger than it.

    Parameters
    ----------
    in_features : int
        Input width.
    hidden : sequence of int
        Widths of the hidden layers (possibly none).
    out_features : int
        Output width.
    eps : float, default 1e-5
        BatchNorm's :math:`\epsilon > 0`.

    Returns
    -------
    nn.Sequential
        The model, with PyTorch's default initialisation.

    Raises
    ------
    ValueError
        If a width is not a positive integer or ``eps`` is not positive.

    Examples
    --------
    >>> import weightdecay as wd
    >>> model = wd.optim.bn_mlp(40, [64, 64], 10)
    >>> [type(layer).__name__ for layer in model]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    """
    in_features = check_positive_int(in_features, "in_features")
    out_features = check_positive_int(out_features, "out_features")
    eps = check_positive_float(eps, "eps")
    layers: list[nn.Module] = []
    width = in_features
    for i, h in enumerate(hidden):
        h = check_positive_int(h, f"hidden[{i}]")
        layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h, eps=eps), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


_WEIGHT_LAYERS = (nn.Linear, nn.modules.conv._ConvNd)


def scale_invariant_parameters(model: nn.Module) -> list[str]:
    """Names of the weights that a BatchNorm layer makes scale-invariant.

    A ``Linear`` or convolution weight is listed when its layer is immediately followed by
    a BatchNorm layer inside an ``nn.Sequential`` (in training mode BatchNorm subtracts the
    batch mean and divides by the batch standard deviation, so scaling the weight by
    :math:`c > 0` changes nothing downstream; a bias in between is removed by the
    centring).  Other architectures must name their invariant weights themselves.

    Parameters
    ----------
    model : nn.Module
        The model.

    Returns
    -------
    list of str
        Parameter names, in ``model.modules()`` order.

    Raises
    ------
    ValueError
        If ``model`` is not a module.

    Examples
    --------
    >>> import weightdecay as wd
    >>> wd.optim.scale_invariant_parameters(wd.optim.bn_mlp(40, [64, 64], 10))
    ['0.weight', '3.weight']
    """
    _check_module(model)
    names = {id(p): n for n, p in model.named_parameters()}
    found = []
    for container in model.modules():
        if not isinstance(container, nn.Sequential):
            continue
        children = list(container.children())
        for layer, nxt in zip(children, children[1:]):
            if (
                isinstance(layer, _WEIGHT_LAYERS)
                and isinstance(nxt, nn.modules.batchnorm._BatchNorm)
                and layer.weight.requires_grad
            ):
                found.append(names[id(layer.weight)])
    return found


def effective_lr(lr: float, weight) -> float:
    r"""The effective learning rate :math:`\eta/\lVert w\rVert_2^2` of a scale-invariant weight.

    For a scale-invariant loss, an SGD step :math:`-\eta\nabla f(w)` is orthogonal to
    :math:`w` and has length :math:`\eta\lVert\nabla f(w)\rVert`; the gradient at the unit
    vector :math:`\hat w = w/\lVert w\rVert` is :math:`\lVert w\rVert\,\nabla f(w)`.  So
    the direction :math:`\hat w` moves as if by SGD on the unit sphere with learning rate
    :math:`\eta/\lVert w\rVert^2` (to first order in the step).

    Parameters
    ----------
    lr : float
        The learning rate :math:`\eta \ge 0`.
    weight : array_like or torch.Tensor
        The weight :math:`w`, non-zero and finite.

    Returns
    -------
    float
        :math:`\eta/\lVert w\rVert_2^2`.

    Raises
    ------
    ValueError
        If ``lr`` is negative or ``weight`` is zero or not finite.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> print(wd.optim.effective_lr(0.1, 2 * torch.ones(2, 2)))  # 0.1 / 16
    0.00625
    """
    lr = check_positive_float(lr, "lr", allow_zero=True)
    w = torch.as_tensor(weight).detach()
    norm2 = float(w.double().pow(2).sum())
    if not math.isfinite(norm2) or norm2 == 0:
        raise ValueError(f"weight must be finite and non-zero; got squared norm {norm2}")
    return lr / norm2


class EffectiveLearningRate:
    r"""Training callback: per-layer weight norm and effective learning rate, every epoch.

    At the end of every epoch it adds to the logs of :func:`weightdecay.training.train`,
    for every watched parameter ``name``:

    * ``"norm/<name>"`` — :math:`\lVert w\rVert_2`;
    * ``"eff_lr/<name>"`` — :math:`\eta/\lVert w\rVert_2^2` (:func:`effective_lr`), with
      :math:`\eta` the current learning rate of the param group that holds the parameter.

    ``names`` defaults to every weight the model's :func:`decay_decisions` would decay
    (matrices and kernels).  :math:`\eta/\lVert w\rVert^2` is *the* effective learning
    rate of SGD for scale-invariant weights (:func:`scale_invariant_parameters`); for other
    weights it is only recorded for comparison.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimiser that trains the model; :math:`\eta` is read from it every epoch.
    names : str or sequence of str, optional
        The parameters to watch (default: the decayed ones).

    Attributes
    ----------
    names : list of str or None
        The watched parameters (filled in at the first epoch when not given).

    Raises
    ------
    ValueError
        If ``optimizer`` is not an optimiser or ``names`` is empty or not strings.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> model = wd.optim.bn_mlp(4, [8], 3)
    >>> callback = wd.optim.EffectiveLearningRate(torch.optim.SGD(model.parameters(), lr=0.1))
    >>> logs = {}
    >>> callback.on_epoch_end(0, model, logs)
    False
    >>> sorted(logs)
    ['eff_lr/0.weight', 'eff_lr/3.weight', 'norm/0.weight', 'norm/3.weight']
    >>> bool(abs(logs["eff_lr/0.weight"] - 0.1 / logs["norm/0.weight"] ** 2) < 1e-12)
    True
    """

    def __init__(self, optimizer: torch.optim.Optimizer, names: Sequence[str] | None = None):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ValueError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
        if names is not None:
            names = [names] if isinstance(names, str) else list(names)
            if not names or not all(isinstance(n, str) for n in names):
                raise ValueError(f"names must be a non-empty list of parameter names; got {names!r}")
        self.optimizer = optimizer
        self.names = names

    def _lr_of(self, param) -> float:
        for group in self.optimizer.param_groups:
            if any(p is param for p in group["params"]):
                return float(group["lr"])
        raise ValueError("a watched parameter is not optimised by the callback's optimizer")

    def on_epoch_end(self, epoch: int, model: nn.Module, logs: dict) -> bool:
        """Add the norm and the effective learning rate of every watched weight to ``logs``.

        Parameters
        ----------
        epoch : int
            The epoch that ended (unused).
        model : nn.Module
            The model being trained.
        logs : dict
            The epoch's logs, updated in place.

        Returns
        -------
        bool
            Always ``False``: never asks to stop training.
        """
        params = dict(model.named_parameters())
        names = self.names
        if names is None:
            names = self.names = [d.name for d in decay_decisions(model) if d.decay]
        for name in names:
            if name not in params:
                raise ValueError(f"names contains {name!r}, which is not a parameter of the model")
            w = params[name]
            logs[f"norm/{name}"] = float(w.detach().double().norm())
            logs[f"eff_lr/{name}"] = effective_lr(self._lr_of(w), w)
        return False


def _loss_and_grad(model, name, X, y, loss_fn):
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model(X), y)
    loss.backward()
    grad = dict(model.named_parameters())[name].grad.detach().clone()
    return float(loss.detach()), grad


@dataclass(frozen=True)
class ScaleInvariance:
    r"""Numerical check of scale invariance for one weight ``w`` (see :func:`scale_invariance`).

    ``scales`` are the factors :math:`c`; ``loss[i]`` is :math:`f(c_i w)`, ``grad_ratio[i]``
    is :math:`c_i\lVert\nabla f(c_i w)\rVert / \lVert\nabla f(w)\rVert` (1 for a
    scale-invariant loss), ``grad_error[i]`` is
    :math:`\lVert c_i\nabla f(c_i w) - \nabla f(w)\rVert / \lVert\nabla f(w)\rVert` (0), and
    ``cosine`` is :math:`\langle w, \nabla f(w)\rangle / (\lVert w\rVert\lVert\nabla f(w)\rVert)`
    (0).

    Parameters
    ----------
    name : str
        The parameter checked.
    loss_at_w : float
        :math:`f(w)`.
    scales : ndarray
        The factors :math:`c_i`.
    loss : ndarray
        :math:`f(c_i w)`, one per scale.
    grad_ratio : ndarray
        :math:`c_i\lVert\nabla f(c_i w)\rVert / \lVert\nabla f(w)\rVert`, one per scale.
    grad_error : ndarray
        :math:`\lVert c_i\nabla f(c_i w) - \nabla f(w)\rVert / \lVert\nabla f(w)\rVert`, one per
        scale.
    cosine : float
        The cosine between :math:`w` and :math:`\nabla f(w)`.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(16, 4), torch.arange(16) % 3
    >>> check = wd.optim.scale_invariance(wd.optim.bn_mlp(4, [8], 3), "0.weight", (X, y), scales=[0.5, 2.0])
    >>> check.name, check.loss.shape, check.grad_ratio.shape
    ('0.weight', (2,), (2,))
    """

    name: str
    loss_at_w: float
    scales: np.ndarray
    loss: np.ndarray
    grad_ratio: np.ndarray
    grad_error: np.ndarray
    cosine: float


def scale_invariance(model: nn.Module, name: str, data, scales=(0.1, 0.5, 2.0, 10.0), loss_fn=None) -> ScaleInvariance:
    r"""Check :math:`f(cw) = f(w)`, :math:`\nabla f(cw) = \nabla f(w)/c`, :math:`\langle w,\nabla f(w)\rangle = 0`.

    :math:`f` is the mini-batch loss of ``model`` on ``data = (X, y)`` in **training mode**
    (BatchNorm uses the batch's statistics, as during an SGD step) as a function of the
    parameter ``name`` alone.  The model is not modified: the check runs on a copy.  The
    identities follow from :math:`f(cw) = f(w)` by differentiating with respect to
    :math:`w` (the gradient identity) and with respect to :math:`c` at :math:`c = 1`
    (orthogonality).

    Parameters
    ----------
    model : nn.Module
        The model (not modified).
    name : str
        The parameter :math:`w`, e.g. one of :func:`scale_invariant_parameters`.
    data : pair (X, y)
        One mini-batch.
    scales : sequence of float, default (0.1, 0.5, 2.0, 10.0)
        The factors :math:`c > 0`.
    loss_fn : callable, optional
        ``loss_fn(output, y)``; default cross-entropy.

    Returns
    -------
    ScaleInvariance
        The losses, gradient ratios and errors, and the cosine.

    Raises
    ------
    ValueError
        If ``model`` is not a module, ``name`` is not one of its parameters, or a scale is
        not positive.

    Examples
    --------
    With BatchNorm's :math:`\epsilon` negligible the three identities hold to float32
    rounding:

    >>> import numpy as np
    >>> import torch
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(16, 4), torch.arange(16) % 3
    >>> model = wd.optim.bn_mlp(4, [8], 3, eps=1e-10)
    >>> check = wd.optim.scale_invariance(model, "0.weight", (X, y))
    >>> bool(np.abs(check.loss - check.loss_at_w).max() < 1e-4)
    True
    >>> bool(np.abs(check.grad_ratio - 1).max() < 1e-4), bool(abs(check.cosine) < 1e-4)
    (True, True)
    """
    from .training import as_tensors

    _check_module(model)
    probe = copy.deepcopy(model).train()
    params = dict(probe.named_parameters())
    if name not in params:
        raise ValueError(f"name must be a parameter of the model; got {name!r}")
    scales = check_lambdas(scales, "scales")
    if np.any(scales == 0):
        raise ValueError("scales must all be > 0; got a zero scale")
    device = params[name].device
    X, y = as_tensors(data, device)
    X = X.to(params[name].dtype)
    loss_fn = loss_fn or nn.functional.cross_entropy
    w = params[name]
    w0 = w.detach().clone()
    loss0, g0 = _loss_and_grad(probe, name, X, y, loss_fn)
    losses, ratios, errors = [], [], []
    for c in scales:
        with torch.no_grad():
            w.copy_(c * w0)
        loss_c, g_c = _loss_and_grad(probe, name, X, y, loss_fn)
        losses.append(loss_c)
        ratios.append(float(c * g_c.norm() / g0.norm()))
        errors.append(float((c * g_c - g0).norm() / g0.norm()))
    cosine = float((w0 * g0).sum() / (w0.norm() * g0.norm()))
    return ScaleInvariance(name, loss0, scales, np.array(losses), np.array(ratios), np.array(errors), cosine)


class _ExponentialLR:
    r"""Optimiser step hook: learning rate :math:`\eta\rho^{-(2t+1)}` for the step ``t = 0, 1, …``."""

    def __init__(self, optimizer, group_index: int, lr: float, rho: float):
        self.group, self.lr, self.rho, self.t = optimizer.param_groups[group_index], lr, rho, 0
        self.group["lr"] = self.lr_at(0)
        optimizer.register_step_post_hook(self)

    def lr_at(self, t: int) -> float:
        return self.lr * self.rho ** (-(2 * t + 1))

    def __call__(self, optimizer, args, kwargs):
        self.t += 1
        self.group["lr"] = self.lr_at(self.t)


class _Probe:
    """Callback: outputs (training mode, on a copy) and the norms of chosen weights, per epoch."""

    def __init__(self, X, names):
        self.X, self.names, self.outputs, self.norms = X, names, [], []

    def on_epoch_end(self, epoch, model, logs):
        params = dict(model.named_parameters())
        self.norms.append([float(params[n].detach().double().norm()) for n in self.names])
        with torch.no_grad():
            self.outputs.append(copy.deepcopy(model).train()(self.X).double().numpy())
        return False


@dataclass(frozen=True)
class ExponentialLREquivalence:
    r"""Two training runs that the identity of Li & Arora (2020) says are one.

    Run A: SGD, learning rate :math:`\eta`, weight decay :math:`\lambda` on the
    scale-invariant weights.  Run B: SGD from the same initialisation, on the same
    mini-batches, no weight decay, learning rate :math:`\eta\rho^{-(2t+1)}` at step
    :math:`t = 0, 1, \dots` for the scale-invariant weights (:math:`\rho = 1-\eta\lambda`) and
    :math:`\eta` for the others.  Per epoch (after ``steps[e]`` steps):

    * ``output_gap[e]`` — :math:`\max|f_A(x) - f_B(x)| / \max|f_A(x)|` over the probe
      inputs, both networks in training mode (batch statistics): 0 if the two runs compute
      the same function;
    * ``norm_ratio[e, k]`` — :math:`\lVert\tilde w_k\rVert/\lVert w_k\rVert` for every
      scale-invariant weight :math:`k`; the identity predicts ``predicted_ratio[e]`` =
      :math:`\rho^{-t}`.

    Parameters
    ----------
    names : tuple of str
        The scale-invariant weights.
    rho : float
        :math:`\rho = 1-\eta\lambda`.
    steps : ndarray of int
        Steps taken by the end of each epoch, shape ``(epochs,)``.
    predicted_ratio : ndarray
        :math:`\rho^{-t}` at those steps.
    norm_ratio : ndarray
        Shape ``(epochs, len(names))``, measured :math:`\lVert\tilde w_k\rVert/\lVert w_k\rVert`.
    output_gap : ndarray
        Shape ``(epochs,)``, the relative gap between the two runs' outputs.
    final_lr_factor : float
        Run B's learning rate at its last step, divided by :math:`\eta`.
    norms_decay, norms_exp : ndarray
        Shape ``(epochs, len(names))``, the norms of the weights in run A and run B.
    train_loss_decay, train_loss_exp : ndarray
        Shape ``(epochs,)``, the mean training loss per epoch of run A and run B.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> import torch
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(16, 4), torch.arange(16) % 3
    >>> eq = wd.optim.exponential_lr_equivalence(
    ...     wd.optim.bn_mlp(4, [8], 3), (X, y), lr=0.1, weight_decay=0.5, epochs=3, batch_size=8,
    ...     progress=False,
    ... )
    >>> eq.names, round(eq.rho, 4), eq.norm_ratio.shape, eq.output_gap.shape
    (('0.weight',), 0.95, (3, 1), (3,))
    """

    names: tuple[str, ...]
    rho: float
    steps: np.ndarray
    predicted_ratio: np.ndarray
    norm_ratio: np.ndarray
    output_gap: np.ndarray
    final_lr_factor: float
    norms_decay: np.ndarray
    norms_exp: np.ndarray
    train_loss_decay: np.ndarray
    train_loss_exp: np.ndarray


def exponential_lr_equivalence(
    model: nn.Module,
    train_data,
    *,
    lr: float,
    weight_decay: float,
    epochs: int,
    batch_size: int = 128,
    names: Sequence[str] | None = None,
    probe=None,
    seed: int = 0,
    progress: bool | None = None,
) -> ExponentialLREquivalence:
    r"""Verify numerically that weight decay is an exponentially growing learning rate.

    **Statement** (Li & Arora 2020, the case without momentum).  Let the loss be
    scale-invariant in the weights :math:`w` (for every mini-batch,
    :math:`f(cw, u) = f(w, u)` for :math:`c > 0`, where :math:`u` are the other parameters),
    and let :math:`\rho = 1 - \eta\lambda`.  Run A is SGD with learning rate :math:`\eta` and
    weight decay :math:`\lambda` on :math:`w` (none on :math:`u`):

    .. math::  w_{t+1} = \rho\, w_t - \eta\nabla_w f_t(w_t, u_t), \qquad
               u_{t+1} = u_t - \eta\nabla_u f_t(w_t, u_t).

    Run B starts from the same point, uses the same mini-batches, has **no** weight decay,
    and gives :math:`w` the learning rate :math:`\tilde\eta_t = \eta\rho^{-(2t+1)}`:

    .. math::  \tilde w_{t+1} = \tilde w_t - \eta\rho^{-(2t+1)}\nabla_w f_t(\tilde w_t, \tilde u_t),
               \qquad \tilde u_{t+1} = \tilde u_t - \eta\nabla_u f_t(\tilde w_t, \tilde u_t).

    Then :math:`\tilde w_t = \rho^{-t} w_t` and :math:`\tilde u_t = u_t` for every :math:`t`,
    so the two runs compute the same function at every step.  Proof by induction, using
    :math:`\nabla_w f(cw, u) = \nabla_w f(w, u)/c` and :math:`\nabla_u f(cw, u) = \nabla_u f(w, u)`:
    :math:`\tilde w_{t+1} = \rho^{-t}w_t - \eta\rho^{-(2t+1)}\rho^{t}\nabla_w f_t(w_t, u_t)
    = \rho^{-(t+1)}(\rho w_t - \eta\nabla_w f_t(w_t, u_t)) = \rho^{-(t+1)}w_{t+1}`.

    Both runs use :func:`weightdecay.training.train` (same ``seed``, hence the same
    mini-batches; one thread, :func:`single_thread`) with ``torch.optim.SGD``; ``names`` are the scale-invariant weights
    (default :func:`scale_invariant_parameters`).  The identity is about training mode:
    BatchNorm's running averages (used in evaluation mode) are averages over steps taken at
    different scales, so they do **not** match, and BatchNorm's :math:`\epsilon` makes the
    invariance, hence the identity, approximate (build the model with a small ``eps``, see
    :func:`bn_mlp`).  ``probe`` inputs (default: the training inputs) are where the outputs
    are compared.

    Parameters
    ----------
    model : nn.Module
        The initial model (copied; not modified).
    train_data : pair (X, y)
        The training set.
    lr : float
        :math:`\eta > 0`.
    weight_decay : float
        :math:`\lambda \ge 0`, with :math:`\eta\lambda < 1`.
    epochs : int
        Epochs of each run.
    batch_size : int, default 128
        Mini-batch size.
    names : sequence of str, optional
        The scale-invariant weights (default :func:`scale_invariant_parameters`).
    probe : array_like, optional
        Inputs on which the outputs are compared (default: the training inputs).
    seed : int, default 0
        Seed of the mini-batch order, the same for both runs.
    progress : bool or None, default None
        A progress bar over the two runs; ``None`` follows ``WEIGHTDECAY_PROGRESS``
        (:func:`weightdecay.progress.progress_enabled`).  It never changes the result.

    Returns
    -------
    ExponentialLREquivalence
        Per-epoch norms, ratios and output gaps of the two runs.

    Raises
    ------
    ValueError
        If ``model`` is not a module, a hyperparameter is out of range, :math:`\eta\lambda \ge 1`,
        or ``names`` are not parameters of the model.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(16, 4), torch.arange(16) % 3
    >>> eq = wd.optim.exponential_lr_equivalence(
    ...     wd.optim.bn_mlp(4, [8], 3, eps=1e-10), (X, y), lr=0.1, weight_decay=0.5,
    ...     epochs=2, batch_size=8, progress=False,
    ... )
    >>> eq.steps.tolist(), eq.predicted_ratio.round(4).tolist()  # rho = 0.95, rho ** -t
    ([2, 4], [1.108, 1.2277])
    >>> bool(eq.output_gap.max() < 1e-4)
    True
    """
    from .training import as_tensors, train

    _check_module(model)
    lr = _check_lr(lr)
    weight_decay = check_lambda(weight_decay, "weight_decay")
    rho = 1.0 - lr * weight_decay
    if not rho > 0:
        raise ValueError(f"lr * weight_decay must be < 1; got {lr} * {weight_decay} = {lr * weight_decay}")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    names = tuple(scale_invariant_parameters(model) if names is None else names)
    params = dict(model.named_parameters())
    if not names or any(n not in params for n in names):
        raise ValueError(f"names must be non-empty parameter names of the model; got {names!r}")
    X, y = as_tensors(train_data)
    X_probe = X if probe is None else torch.as_tensor(check_matrix(probe, "probe"), dtype=X.dtype)

    runs = {}
    with single_thread():
        for run in progress_bar(("decay", "exp"), desc="exponential_lr_equivalence", progress=progress):
            net = copy.deepcopy(model)
            named = dict(net.named_parameters())
            invariant = [named[n] for n in names]
            rest = [p for n, p in named.items() if n not in names and p.requires_grad]
            wd = weight_decay if run == "decay" else 0.0
            opt = torch.optim.SGD(
                [{"params": invariant, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}], lr=lr
            )
            schedule = _ExponentialLR(opt, 0, lr, rho) if run == "exp" else None
            probe_cb = _Probe(X_probe, names)
            hist = train(net, (X, y), optimizer=opt, epochs=epochs, batch_size=batch_size,
                         callbacks=[probe_cb], seed=seed, progress=False)
            runs[run] = (probe_cb, hist, schedule)

    steps_per_epoch = math.ceil(X.shape[0] / batch_size)
    steps = steps_per_epoch * np.arange(1, epochs + 1)
    (pa, ha, _), (pb, hb, sched) = runs["decay"], runs["exp"]
    out_a, out_b = np.array(pa.outputs), np.array(pb.outputs)
    gap = np.abs(out_a - out_b).max(axis=(1, 2)) / np.abs(out_a).max(axis=(1, 2))
    norms_a, norms_b = np.array(pa.norms), np.array(pb.norms)
    return ExponentialLREquivalence(
        names=names,
        rho=rho,
        steps=steps,
        predicted_ratio=rho ** (-steps.astype(float)),
        norm_ratio=norms_b / norms_a,
        output_gap=gap,
        final_lr_factor=sched.lr_at(sched.t - 1) / lr,
        norms_decay=norms_a,
        norms_exp=norms_b,
        train_loss_decay=np.array(ha["train_loss"]),
        train_loss_exp=np.array(hb["train_loss"]),
    )


# ---------------------------------------------------------------------------
# 4. The source's Keras MLP, corrected
# ---------------------------------------------------------------------------
def source_regression_data(n_samples: int, n_features: int = 2, *, noise: float = 1.0, rng=None):
    r"""The source's regression data, with noise: :math:`y = X\beta + 0.5 + \sigma\varepsilon`.

    Rows :math:`x_i \sim N(0, I_p)`, coefficients :math:`\beta \sim N(0, I_p)` drawn once,
    :math:`\varepsilon_i \sim N(0,1)`.  The source's generator is the case ``noise=0``
    (it then calls ``np.random.seed(42)`` inside the function; here the generator is
    passed in).  Returns ``X`` (float64, ``(n, p)``), ``y`` (``(n,)``) and ``beta``.

    Parameters
    ----------
    n_samples : int
        Rows :math:`n`.
    n_features : int, default 2
        Columns :math:`p`.
    noise : float, default 1.0
        :math:`\sigma \ge 0`.
    rng : numpy Generator or seed, optional
        The random generator.

    Returns
    -------
    X : ndarray of shape (n, p)
        The inputs.
    y : ndarray of shape (n,)
        The targets.
    beta : ndarray of shape (p,)
        The coefficients.

    Raises
    ------
    ValueError
        If ``n_samples`` or ``n_features`` is not a positive integer or ``noise`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> X, y, beta = wd.optim.source_regression_data(5, 3, noise=0.0, rng=0)
    >>> X.shape, y.shape, beta.shape
    ((5, 3), (5,), (3,))
    >>> bool(np.allclose(y, X @ beta + 0.5))
    True
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_features = check_positive_int(n_features, "n_features")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(rng)
    beta = rng.standard_normal(n_features)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ beta + 0.5 + noise * rng.standard_normal(n_samples)
    return X, y, beta


def row_normalise(X) -> np.ndarray:
    r"""The source's preprocessing ``X / ‖x_i‖``: every *row* scaled to unit length.

    It keeps only the direction of each input and throws away its length
    :math:`\lVert x_i\rVert`, on which :math:`y = X\beta + 0.5` depends.

    Parameters
    ----------
    X : array_like of shape (n, p)
        The inputs.

    Returns
    -------
    ndarray of shape (n, p)
        Every row divided by its Euclidean norm.

    Raises
    ------
    ValueError
        If ``X`` is not a finite matrix or has an all-zero row.

    Examples
    --------
    >>> import weightdecay as wd
    >>> wd.optim.row_normalise([[3.0, 4.0], [0.0, 2.0]]).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    """
    X = check_matrix(X, "X")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("X must have no all-zero rows (their direction is undefined)")
    return X / norms


def direction_only_r2_ceiling(n_features: int) -> float:
    r"""The largest :math:`R^2` that *any* function of the row direction :math:`u = x/\lVert x\rVert` reaches.

    For :math:`x \sim N(0, I_p)` write :math:`x = r\,u` with length :math:`r = \lVert x\rVert`
    (a :math:`\chi_p` variable) independent of the direction :math:`u`.  With
    :math:`y = \beta^\top x + c` (no noise), :math:`\mathbb E[y \mid u] = c + \mathbb E[r]\,\beta^\top u`
    is *linear* in :math:`u`, so the best predictor from :math:`u`, linear or not, is this one,
    and the fraction of :math:`\operatorname{Var}(y) = \mathbb E[r^2]\,\mathbb E[(\beta^\top u)^2]`
    that it explains is

    .. math::  \frac{\mathbb E[r]^2}{\mathbb E[r^2]}
               = \frac{2}{p}\left(\frac{\Gamma((p+1)/2)}{\Gamma(p/2)}\right)^2 ,

    :math:`\pi/4` for :math:`p = 2` (Rayleigh :math:`r`), rising towards 1 as :math:`p` grows.
    This is the ceiling for a network fed the source's row-normalised inputs.

    Parameters
    ----------
    n_features : int
        The dimension :math:`p \ge 1`.

    Returns
    -------
    float
        :math:`\mathbb E[r]^2/\mathbb E[r^2]`.

    Raises
    ------
    ValueError
        If ``n_features`` is not a positive integer.

    Examples
    --------
    >>> import weightdecay as wd
    >>> [round(wd.optim.direction_only_r2_ceiling(p), 4) for p in (1, 2, 10)]  # 2/pi, pi/4, ...
    [0.6366, 0.7854, 0.9513]
    """
    p = check_positive_int(n_features, "n_features")
    log_ratio = math.lgamma((p + 1) / 2) - math.lgamma(p / 2)
    return 2.0 / p * math.exp(2.0 * log_ratio)


@dataclass(frozen=True)
class RegressionSweep:
    r"""Training and validation mean squared error of the corrected MLP along a :math:`\lambda` grid.

    Arrays ``(n_lams, n_seeds)``.  ``weight_norm`` is
    :math:`(\sum_W\lVert W\rVert^2)^{1/2}` over the decayed weight matrices at the end of
    training; ``noise_var`` is :math:`\sigma^2`, the smallest expected validation MSE any
    model can reach.

    Parameters
    ----------
    lams : ndarray
        The :math:`\lambda` grid.
    seeds : tuple of int
        The seeds.
    train_mse, val_mse : ndarray
        Shape ``(n_lams, n_seeds)``, the final mean squared errors.
    weight_norm : ndarray
        Shape ``(n_lams, n_seeds)``, the final norm of the decayed weights.
    noise_var : float
        :math:`\sigma^2`.

    Examples
    --------
    >>> import weightdecay as wd
    >>> sweep = wd.optim.mlp_regression_sweep(
    ...     [0.0, 1.0], seeds=[0], n_train=20, n_val=20, n_features=3, hidden=(8,),
    ...     epochs=2, batch_size=10, progress=False,
    ... )
    >>> sweep.val_mse.shape, sweep.noise_var
    ((2, 1), 1.0)
    >>> sweep.best_lam in (0.0, 1.0)
    True
    """

    lams: np.ndarray
    seeds: tuple[int, ...]
    train_mse: np.ndarray
    val_mse: np.ndarray
    weight_norm: np.ndarray
    noise_var: float

    @property
    def best_lam(self) -> float:
        """The :math:`\\lambda` of smallest mean validation MSE."""
        return float(self.lams[np.argmin(self.val_mse.mean(axis=1))])


def _half_mse(out, y):
    return 0.5 * nn.functional.mse_loss(out.squeeze(-1), y)


def mlp_regression_sweep(
    lams,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    n_train: int = 100,
    n_val: int = 1000,
    n_features: int = 10,
    noise: float = 1.0,
    hidden: Sequence[int] = (64, 64),
    epochs: int = 100,
    lr: float = 1e-2,
    batch_size: int = 32,
    data_seed: int = 0,
    progress: bool | None = None,
) -> RegressionSweep:
    r"""The source's MLP example done right, for every :math:`\lambda` in ``lams`` and every seed.

    Data: :func:`source_regression_data` with ``n_train + n_val`` rows, split into a
    training and a validation set; columns standardised with the *training* means and
    standard deviations (:func:`weightdecay.linear.standardize`), which keeps
    :math:`y = X\beta + 0.5 + \sigma\varepsilon` a linear function of the inputs.  Model:
    ``mlp(n_features, hidden, 1)``, ReLU hidden layers and a *linear* output (built once).
    Objective, in the book's convention,

    .. math::  \frac{1}{2n}\sum_i (y_i - f(x_i))^2 + \frac\lambda2\sum_W\lVert W\rVert^2,

    with every weight matrix penalised and no bias (:func:`decay_param_groups`), minimised
    by Adam with the penalty's gradient added to the data gradient (``torch.optim.Adam``
    with ``weight_decay=λ`` on the weight group, which *is* this objective's gradient).
    The seed sets the initialisation and the mini-batch order; the data are the same for
    every seed.

    Parameters
    ----------
    lams : array_like
        The book's :math:`\lambda` grid, each :math:`\ge 0`.
    seeds : sequence of int, default (0, 1, 2)
        One run per seed and :math:`\lambda`.
    n_train, n_val : int, default 100 and 1000
        Training and validation rows.
    n_features : int, default 10
        Input dimension :math:`p`.
    noise : float, default 1.0
        :math:`\sigma`.
    hidden : sequence of int, default (64, 64)
        Hidden widths.
    epochs : int, default 100
        Training epochs.
    lr : float, default 1e-2
        Adam's learning rate.
    batch_size : int, default 32
        Mini-batch size.
    data_seed : int, default 0
        Seed of the data.
    progress : bool or None, default None
        A progress bar over the ``len(lams) * len(seeds)`` runs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  It never
        changes the result.

    Returns
    -------
    RegressionSweep
        Training and validation MSE and weight norms, ``(n_lams, n_seeds)``.

    Raises
    ------
    ValueError
        If ``lams``, ``seeds`` or a size or learning rate is invalid.

    Examples
    --------
    A tiny configuration (the chapter uses 8 values of :math:`\lambda`, 5 seeds and 150 epochs,
    about a minute):

    >>> import weightdecay as wd
    >>> sweep = wd.optim.mlp_regression_sweep(
    ...     [0.0, 1.0], seeds=[0, 1], n_train=20, n_val=20, n_features=3, hidden=(8,),
    ...     epochs=2, batch_size=10, progress=False,
    ... )
    >>> sweep.train_mse.shape, sweep.weight_norm.shape
    ((2, 2), (2, 2))
    """
    from .linear import standardize
    from .reproducibility import seed_everything
    from .training import evaluate, mlp, train

    lams = check_lambdas(lams)
    seeds = _check_seeds(seeds)
    n_train = check_positive_int(n_train, "n_train", minimum=2)
    n_val = check_positive_int(n_val, "n_val")
    lr = _check_lr(lr)
    X, y, _ = source_regression_data(n_train + n_val, n_features, noise=noise, rng=data_seed)
    X_train, _, stats = standardize(X[:n_train], y[:n_train])
    X_val = stats.transform(X[n_train:])
    train_data = (X_train.astype(np.float32), y[:n_train].astype(np.float32))
    val_data = (X_val.astype(np.float32), y[n_train:].astype(np.float32))
    shape = (len(lams), len(seeds))
    train_mse, val_mse, norms = np.empty(shape), np.empty(shape), np.empty(shape)
    runs = [(i, j) for i in range(len(lams)) for j in range(len(seeds))]  # lambda-major, as before
    with single_thread():
        for i, j in progress_bar(runs, desc="mlp_regression_sweep", progress=progress):
            lam, seed = lams[i], seeds[j]
            seed_everything(seed)
            model = mlp(n_features, hidden, 1)
            groups = decay_param_groups(model, float(lam))
            optimizer = torch.optim.Adam(groups, lr=lr)
            train(model, train_data, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                  loss_fn=_half_mse, seed=seed, progress=False)
            train_mse[i, j] = 2 * evaluate(model, train_data, _half_mse)["loss"]
            val_mse[i, j] = 2 * evaluate(model, val_data, _half_mse)["loss"]
            norms[i, j] = math.sqrt(sum(float(w.detach().pow(2).sum()) for w in groups[0]["params"]))
    return RegressionSweep(lams, seeds, train_mse, val_mse, norms, float(noise) ** 2)


# ---------------------------------------------------------------------------
# 5. Experiments on MNIST-1D
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class OptimizerComparison:
    r"""Results of :func:`mnist1d_optimizer_comparison`.

    ``labels[k]`` names setting ``k`` (method and weight decay).  Arrays have shape
    ``(n_settings, n_seeds)`` (final test and validation accuracy, final training loss) and
    ``(n_settings, n_seeds, n_layers)`` for ``layer_norms``, the Frobenius norms
    :math:`\lVert W_l\rVert` of the weight matrices ``layer_names`` at the end of training.

    Parameters
    ----------
    labels : tuple of str
        ``"method (weight_decay)"``, one per setting.
    methods : tuple of str
        The method of each setting.
    weight_decays : ndarray
        The ``weight_decay`` of each setting.
    seeds : tuple of int
        The seeds.
    layer_names : tuple of str
        The decayed weight matrices.
    test_acc, val_acc, train_loss : ndarray
        Shape ``(n_settings, n_seeds)``: final test and validation accuracy, final training
        loss.
    layer_norms : ndarray
        Shape ``(n_settings, n_seeds, n_layers)``.

    Examples
    --------
    >>> import weightdecay as wd
    >>> res = wd.optim.mnist1d_optimizer_comparison(
    ...     [("SGD+L2", 0.0), ("AdamW", 1.0)], seeds=[0, 1], epochs=1, n_samples=100,
    ...     hidden=(8,), progress=False,
    ... )
    >>> res.labels, res.layer_names
    (('SGD+L2 (0)', 'AdamW (1)'), ('0.weight', '2.weight'))
    >>> mean, se = res.summary("test_acc")
    >>> mean.shape, res.paired_difference("train_loss", 1, 0).shape
    ((2,), (2,))
    """

    labels: tuple[str, ...]
    methods: tuple[str, ...]
    weight_decays: np.ndarray
    seeds: tuple[int, ...]
    layer_names: tuple[str, ...]
    test_acc: np.ndarray
    val_acc: np.ndarray
    train_loss: np.ndarray
    layer_norms: np.ndarray

    def _values(self, key: str) -> np.ndarray:
        if key not in ("test_acc", "val_acc", "train_loss"):
            raise ValueError(f"key must be 'test_acc', 'val_acc' or 'train_loss'; got {key!r}")
        return getattr(self, key)

    def summary(self, key: str = "test_acc") -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard error over seeds of ``key`` (:func:`weightdecay.stats.mean_se`), one entry per setting.

        Parameters
        ----------
        key : {"test_acc", "val_acc", "train_loss"}
            The quantity.

        Returns
        -------
        mean, se : ndarray
            Shape ``(n_settings,)``.

        Raises
        ------
        ValueError
            If ``key`` is not one of the three.
        """
        return mean_se(self._values(key), axis=1)

    def paired_difference(self, key: str, k: int, base: int) -> np.ndarray:
        """Per-seed difference ``key[k] - key[base]`` between two settings, shape ``(n_seeds,)``.

        Every seed gives both settings the same initial weights and mini-batches, so the
        paired difference has a much smaller spread than the difference of two means.

        Parameters
        ----------
        key : {"test_acc", "val_acc", "train_loss"}
            The quantity.
        k, base : int
            Setting indices.

        Returns
        -------
        ndarray
            Shape ``(n_seeds,)``.

        Raises
        ------
        ValueError
            If ``key`` is unknown or ``k`` or ``base`` is not a setting index.
        """
        values = self._values(key)
        for name, index in (("k", k), ("base", base)):
            if not (isinstance(index, (int, np.integer)) and 0 <= index < values.shape[0]):
                raise ValueError(f"{name} must be a setting index in [0, {values.shape[0]}); got {index!r}")
        return values[k] - values[base]


def _check_settings(settings) -> list[tuple[str, float]]:
    checked = []
    for i, item in enumerate(settings):
        try:
            method, lam = item
        except (TypeError, ValueError):
            raise ValueError(f"settings[{i}] must be a pair (method, weight_decay); got {item!r}") from None
        if method not in METHODS:
            raise ValueError(f"settings[{i}]: method must be one of {METHODS}; got {method!r}")
        checked.append((method, check_lambda(lam, f"settings[{i}] weight_decay")))
    if not checked:
        raise ValueError("settings must contain at least one (method, weight_decay) pair; got none")
    return checked


#: The chapter's settings: no decay, and decay strengths fixed by one rule (see
#: :func:`mnist1d_optimizer_comparison`).
DEFAULT_SETTINGS = (
    ("SGD+L2", 0.0),
    ("SGD+L2", 3e-3),
    ("SGDW", 3e-2),
    ("Adam+L2", 0.0),
    ("Adam+L2", 3e-3),
    ("AdamW", 1.0),
)


def mnist1d_optimizer_comparison(
    settings: Sequence[tuple[str, float]] = DEFAULT_SETTINGS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    epochs: int = 30,
    n_samples: int = 3000,
    hidden: Sequence[int] = (64, 64),
    sgd_lr: float = 0.1,
    adam_lr: float = 3e-3,
    momentum: float = 0.9,
    batch_size: int = 128,
    data_seed: int = 0,
    progress: bool | None = None,
) -> OptimizerComparison:
    r"""Train the same MLP on MNIST-1D with every ``(method, weight_decay)`` setting and seed.

    ``method`` is one of :data:`METHODS` (built by :func:`make_optimizer`, SGD methods with
    ``sgd_lr`` and ``momentum``, Adam methods with ``adam_lr``); ``weight_decay`` is given
    to the weight matrices only (:func:`decay_param_groups`; biases are not decayed) and
    means what the method makes of it (an L2 coefficient for ``+L2``, a decoupled rate
    multiplied by the learning rate for ``SGDW`` and ``AdamW``).  For every seed:
    ``seed_everything(seed)``, ``mlp(40, hidden, 10)`` (the same initial weights for every
    setting), ``epochs`` epochs of :func:`weightdecay.training.train` on the training split
    of ``mnist1d(n_samples, seed=data_seed)`` (the same data for every seed), then the
    accuracy on the validation and test splits and the norm of every weight matrix.

    :data:`DEFAULT_SETTINGS` fix the decay strengths by one rule rather than a search: the
    decoupled methods shrink the weights by the same factor :math:`1-\eta\lambda = 1 - 3\cdot
    10^{-3}` per step (SGDW :math:`\lambda = 0.03` at :math:`\eta = 0.1`, AdamW
    :math:`\lambda = 1` at :math:`\eta = 3\cdot10^{-3}`); SGD+L2 gets
    :math:`\lambda_{\rm SGDW}(1-\mu) = 0.003`, which with momentum :math:`\mu = 0.9` has the
    same fixed points as that SGDW (:func:`stationary_l2_coefficient`) and decays about as
    fast; Adam+L2 gets the same penalty as SGD+L2 (the same objective).

    Parameters
    ----------
    settings : sequence of (str, float), default DEFAULT_SETTINGS
        ``(method, weight_decay)`` pairs.
    seeds : sequence of int, default (0, 1, 2, 3, 4)
        One run per seed and setting.
    epochs : int, default 30
        Training epochs.
    n_samples : int, default 3000
        Size of the MNIST-1D data set (60/20/20 train/validation/test).
    hidden : sequence of int, default (64, 64)
        Hidden widths of the MLP.
    sgd_lr, adam_lr : float, default 0.1 and 3e-3
        Learning rates of the SGD and the Adam methods.
    momentum : float, default 0.9
        Momentum of the SGD methods.
    batch_size : int, default 128
        Mini-batch size.
    data_seed : int, default 0
        Seed of the data set.
    progress : bool or None, default None
        A progress bar over the ``len(settings) * len(seeds)`` runs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  It never
        changes the result.

    Returns
    -------
    OptimizerComparison
        Accuracies, losses and weight norms per setting and seed.

    Raises
    ------
    ValueError
        If a setting is not a ``(method, weight_decay)`` pair of :data:`METHODS`, or a seed,
        size or learning rate is invalid.

    Examples
    --------
    A tiny configuration (the chapter's, 6 settings x 5 seeds x 30 epochs, takes minutes):

    >>> import weightdecay as wd
    >>> res = wd.optim.mnist1d_optimizer_comparison(
    ...     [("SGDW", 0.03), ("AdamW", 1.0)], seeds=[0], epochs=1, n_samples=100,
    ...     hidden=(8,), progress=False,
    ... )
    >>> res.test_acc.shape, res.layer_norms.shape
    ((2, 1), (2, 1, 2))
    """
    from .data import mnist1d
    from .reproducibility import seed_everything
    from .training import evaluate, mlp, train

    settings = _check_settings(settings)
    seeds = _check_seeds(seeds)
    epochs = check_positive_int(epochs, "epochs")
    sgd_lr, adam_lr = _check_lr(sgd_lr, "sgd_lr"), _check_lr(adam_lr, "adam_lr")
    data = mnist1d(n_samples, seed=data_seed)
    shape = (len(settings), len(seeds))
    test_acc, val_acc, train_loss = np.empty(shape), np.empty(shape), np.empty(shape)
    norms, layer_names = None, None
    runs = [(i, j) for i in range(len(settings)) for j in range(len(seeds))]  # setting-major, as before
    with single_thread():
        for i, j in progress_bar(runs, desc="mnist1d_optimizer_comparison", progress=progress):
            (method, lam), seed = settings[i], seeds[j]
            seed_everything(seed)
            model = mlp(40, hidden, 10)
            groups = decay_param_groups(model, lam)
            lr = sgd_lr if method.startswith("SGD") else adam_lr
            optimizer = make_optimizer(method, groups, lr=lr, momentum=momentum)
            hist = train(model, data.train, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                         val_data=data.val, seed=seed, progress=False)
            val_acc[i, j] = hist["val_acc"][-1]
            train_loss[i, j] = hist["train_loss"][-1]
            test_acc[i, j] = evaluate(model, data.test)["acc"]
            weights = [d.name for d in decay_decisions(model) if d.decay]
            if norms is None:
                layer_names = tuple(weights)
                norms = np.empty((*shape, len(weights)))
            params = dict(model.named_parameters())
            norms[i, j] = [float(params[n].detach().norm()) for n in layer_names]
    return OptimizerComparison(
        labels=tuple(f"{m} ({lam:g})" for m, lam in settings),
        methods=tuple(m for m, _ in settings),
        weight_decays=np.array([lam for _, lam in settings]),
        seeds=seeds,
        layer_names=layer_names,
        test_acc=test_acc,
        val_acc=val_acc,
        train_loss=train_loss,
        layer_norms=norms,
    )


@dataclass(frozen=True)
class BNDecayResult:
    r"""Results of :func:`bn_decay_experiment`, arrays ``(n_variants, n_seeds, …)``.

    Per epoch ``e`` (0-based, after epoch ``e + 1``): ``train_loss[v, s, e]`` (the mean
    mini-batch training loss of the epoch), ``val_acc[v, s, e]``,
    ``weight_norms[v, s, e, k]`` (the norm of the scale-invariant weight ``k``) and
    ``eff_lr[v, s, e, k]`` (its effective learning rate :math:`\eta/\lVert w\rVert^2`).
    ``initial_norms[s, k]`` are the norms at initialisation (the same for every variant).
    At the end of training: ``test_acc[v, s]`` and ``gamma_mean_abs[v, s, k]``, the mean
    :math:`|\gamma|` of BatchNorm layer ``k``.

    Parameters
    ----------
    variants : tuple of str
        :data:`BN_DECAY_VARIANTS`.
    seeds : tuple of int
        The seeds.
    weight_names : tuple of str
        The scale-invariant weights.
    bn_names : tuple of str
        The BatchNorm layers.
    lr : float
        The learning rate :math:`\eta`.
    train_loss, val_acc : ndarray
        Shape ``(n_variants, n_seeds, epochs)``.
    test_acc : ndarray
        Shape ``(n_variants, n_seeds)``.
    gamma_mean_abs : ndarray
        Shape ``(n_variants, n_seeds, n_bn)``.
    initial_norms : ndarray
        Shape ``(n_seeds, n_weights)``.
    weight_norms, eff_lr : ndarray
        Shape ``(n_variants, n_seeds, epochs, n_weights)``.

    Examples
    --------
    >>> import weightdecay as wd
    >>> res = wd.optim.bn_decay_experiment(
    ...     seeds=[0], epochs=2, n_samples=100, hidden=(8,), progress=False
    ... )
    >>> res.weight_names, res.bn_names, res.variant("weights only")
    (('0.weight',), ('1',), 1)
    >>> res.eff_lr.shape
    (3, 1, 2, 1)
    """

    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    weight_names: tuple[str, ...]
    bn_names: tuple[str, ...]
    lr: float
    train_loss: np.ndarray
    val_acc: np.ndarray
    test_acc: np.ndarray
    gamma_mean_abs: np.ndarray
    initial_norms: np.ndarray
    weight_norms: np.ndarray
    eff_lr: np.ndarray

    def variant(self, name: str) -> int:
        """Index of the variant ``name`` (one of :data:`BN_DECAY_VARIANTS`).

        Parameters
        ----------
        name : str
            ``"none"``, ``"weights only"`` or ``"all parameters"``.

        Returns
        -------
        int
            Its index along the first axis of the arrays.

        Raises
        ------
        ValueError
            If ``name`` is not a variant.
        """
        if name not in self.variants:
            raise ValueError(f"name must be one of {self.variants}; got {name!r}")
        return self.variants.index(name)


#: The parameter sets decayed in :func:`bn_decay_experiment`.
BN_DECAY_VARIANTS = ("none", "weights only", "all parameters")


def bn_decay_experiment(
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    weight_decay: float = 0.03,
    epochs: int = 20,
    n_samples: int = 3000,
    hidden: Sequence[int] = (64, 64),
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 128,
    data_seed: int = 0,
    progress: bool | None = None,
) -> BNDecayResult:
    r"""What weight decay does to a BatchNorm MLP on MNIST-1D, in three variants.

    The model is :func:`bn_mlp` ``(40, hidden, 10)``, trained with :class:`SGDW`
    (``lr``, ``momentum``, decoupled ``weight_decay``) on one of three parameter sets
    (:data:`BN_DECAY_VARIANTS`): ``"none"`` (no decay), ``"weights only"``
    (:func:`decay_param_groups`: the matrices, which BatchNorm makes scale-invariant, and
    the output layer's matrix) and ``"all parameters"`` (the source's proposal: also the
    output bias and BatchNorm's :math:`\gamma` and :math:`\beta`).  For every seed the three
    variants start from the same weights and see the same mini-batches, so differences
    between variants can be taken seed by seed.  Records, every epoch, the training loss,
    the validation accuracy and the norm and effective learning rate of the scale-invariant
    weights (:class:`EffectiveLearningRate`); at the end, the test accuracy and the mean
    :math:`|\gamma|` of every BatchNorm layer.

    Parameters
    ----------
    seeds : sequence of int, default (0, 1, 2, 3, 4)
        One run per seed and variant.
    weight_decay : float, default 0.03
        :class:`SGDW`'s decoupled rate.
    epochs : int, default 20
        Training epochs.
    n_samples : int, default 3000
        Size of the MNIST-1D data set.
    hidden : sequence of int, default (64, 64)
        Hidden widths of :func:`bn_mlp`.
    lr : float, default 0.1
        The learning rate.
    momentum : float, default 0.9
        SGDW's momentum.
    batch_size : int, default 128
        Mini-batch size.
    data_seed : int, default 0
        Seed of the data set.
    progress : bool or None, default None
        A progress bar over the ``3 * len(seeds)`` runs; ``None`` follows
        ``WEIGHTDECAY_PROGRESS`` (:func:`weightdecay.progress.progress_enabled`).  It never
        changes the result.

    Returns
    -------
    BNDecayResult
        Per-epoch curves, norms and effective learning rates, final accuracies and
        :math:`|\gamma|`.

    Raises
    ------
    ValueError
        If a seed, ``weight_decay``, ``epochs`` or ``lr`` is invalid.

    Examples
    --------
    A tiny configuration (the chapter's, 5 seeds x 20 epochs, takes about a minute):

    >>> import weightdecay as wd
    >>> res = wd.optim.bn_decay_experiment(
    ...     seeds=[0], epochs=2, n_samples=100, hidden=(8,), progress=False
    ... )
    >>> res.variants
    ('none', 'weights only', 'all parameters')
    >>> res.train_loss.shape, res.test_acc.shape
    ((3, 1, 2), (3, 1))
    """
    from .data import mnist1d
    from .reproducibility import seed_everything
    from .training import evaluate, train

    seeds = _check_seeds(seeds)
    weight_decay = check_lambda(weight_decay, "weight_decay")
    epochs = check_positive_int(epochs, "epochs")
    lr = _check_lr(lr)
    data = mnist1d(n_samples, seed=data_seed)
    probe = bn_mlp(40, hidden, 10)
    weight_names = tuple(scale_invariant_parameters(probe))
    bn_names = tuple(n for n, m in probe.named_modules() if isinstance(m, nn.BatchNorm1d))
    V, S, E, K = len(BN_DECAY_VARIANTS), len(seeds), epochs, len(weight_names)
    train_loss, val_acc, test_acc = np.empty((V, S, E)), np.empty((V, S, E)), np.empty((V, S))
    gammas = np.empty((V, S, len(bn_names)))
    initial = np.empty((S, K))
    norms, eff = np.empty((V, S, E, K)), np.empty((V, S, E, K))
    runs = [(v, s) for v in range(V) for s in range(S)]  # variant-major, as before
    with single_thread():
        for v, s in progress_bar(runs, desc="bn_decay_experiment", progress=progress):
            variant, seed = BN_DECAY_VARIANTS[v], seeds[s]
            seed_everything(seed)
            model = bn_mlp(40, hidden, 10)
            named = dict(model.named_parameters())
            initial[s] = [float(named[n].detach().double().norm()) for n in weight_names]
            if variant == "all parameters":
                params = [{"params": list(model.parameters()), "weight_decay": weight_decay}]
            else:
                params = decay_param_groups(model, weight_decay if variant == "weights only" else 0.0)
            optimizer = SGDW(params, lr=lr, momentum=momentum)
            monitor = EffectiveLearningRate(optimizer, weight_names)
            hist = train(model, data.train, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                         val_data=data.val, callbacks=[monitor], seed=seed, progress=False)
            train_loss[v, s] = hist["train_loss"]
            val_acc[v, s] = hist["val_acc"]
            test_acc[v, s] = evaluate(model, data.test)["acc"]
            modules = dict(model.named_modules())
            gammas[v, s] = [float(modules[b].weight.detach().abs().mean()) for b in bn_names]
            norms[v, s] = np.array([hist[f"norm/{n}"] for n in weight_names]).T
            eff[v, s] = np.array([hist[f"eff_lr/{n}"] for n in weight_names]).T
    return BNDecayResult(BN_DECAY_VARIANTS, seeds, weight_names, bn_names, lr, train_loss, val_acc, test_acc,
                         gammas, initial, norms, eff)


# ---------------------------------------------------------------------------
# 6. Weight decay at scale: timescales, schedules and equilibrium
# ---------------------------------------------------------------------------
class AdamWTimescale(NamedTuple):
    r"""The memory of decoupled weight decay, returned by :func:`adamw_timescale`.

    Parameters
    ----------
    iterations : float
        :math:`\tau_\text{iter} = 1/(\eta\lambda)` steps (``inf`` without decay).
    epochs : float or None
        :math:`\tau_\text{epoch} = \tau_\text{iter}\,B/n` epochs; ``None`` unless both
        ``n_samples`` and ``batch_size`` were given.
    exact_iterations : float
        :math:`-1/\log(1-\eta\lambda)`, the number of steps after which an update's weight in
        the average has fallen by the factor :math:`e`; since
        :math:`-\log(1-x) = x + x^2/2 + \dots`, it is about half a step less than
        :math:`1/(\eta\lambda)`.

    Examples
    --------
    >>> import weightdecay as wd
    >>> t = wd.optim.adamw_timescale(0.01, 1.0)
    >>> round(t.iterations), t.epochs, round(t.exact_iterations, 2)
    (100, None, 99.5)
    """

    iterations: float
    epochs: float | None
    exact_iterations: float


def adamw_timescale(lr, weight_decay, *, n_samples=None, batch_size=None) -> AdamWTimescale:
    r"""Timescale of the exponential moving average that AdamW's weights are.

    With PyTorch's convention (``weight_decay`` :math:`\lambda` is multiplied by the
    learning rate :math:`\eta`) one step is :math:`w_t = (1-\eta\lambda)w_{t-1} - \eta u_t`,
    with :math:`u_t` Adam's normalised update.  Unrolled,

    .. math::

        w_t = (1-\eta\lambda)^t w_0 - \eta\sum_{s=1}^{t}(1-\eta\lambda)^{t-s} u_s ,

    an exponential moving average of :math:`-u_s/\lambda` (the weights of the average,
    :math:`\eta\lambda(1-\eta\lambda)^{t-s}`, sum to :math:`1-(1-\eta\lambda)^t`).  An update
    is forgotten by the factor :math:`e` after :math:`-1/\log(1-\eta\lambda)\approx
    1/(\eta\lambda)` steps.  With ``n_samples`` :math:`n` and ``batch_size`` :math:`B`
    there are :math:`n/B` steps per epoch, so :math:`\tau_\text{epoch} =
    \tau_\text{iter}B/n` (Wang & Aitchison 2025).

    Parameters
    ----------
    lr : float
        The learning rate :math:`\eta > 0`.
    weight_decay : float
        PyTorch's ``weight_decay`` :math:`\lambda \ge 0`; :math:`\eta\lambda` must be below 1.
    n_samples, batch_size : int, optional
        Training-set size and batch size (give both or neither; ``batch_size <= n_samples``).

    Returns
    -------
    AdamWTimescale
        ``(iterations, epochs, exact_iterations)``.

    Examples
    --------
    >>> t = adamw_timescale(1e-3, 0.1, n_samples=50_000, batch_size=100)
    >>> round(t.iterations), round(t.epochs)
    (10000, 20)
    """
    lr = _check_lr(lr)
    weight_decay = check_lambda(weight_decay, "weight_decay")
    shrink = lr * weight_decay
    if shrink >= 1:
        raise ValueError(f"lr * weight_decay must be < 1; got {lr} * {weight_decay} = {shrink}")
    if (n_samples is None) != (batch_size is None):
        raise ValueError(
            f"n_samples and batch_size must be given together; got n_samples={n_samples!r}, "
            f"batch_size={batch_size!r}"
        )
    if shrink == 0:
        iterations = exact = math.inf
    else:
        iterations, exact = 1.0 / shrink, -1.0 / math.log1p(-shrink)
    epochs = None
    if n_samples is not None:
        n_samples = check_positive_int(n_samples, "n_samples")
        batch_size = check_positive_int(batch_size, "batch_size")
        if batch_size > n_samples:
            raise ValueError(f"batch_size must be <= n_samples={n_samples}; got {batch_size}")
        epochs = iterations * batch_size / n_samples
    return AdamWTimescale(iterations, epochs, exact)


#: Learning-rate schedules of :func:`lr_schedule`.
SCHEDULES = ("constant", "cosine", "linear")


def lr_schedule(kind: str, lr, steps) -> np.ndarray:
    r"""The learning rate of each of ``steps`` steps under a schedule with peak ``lr``.

    Step :math:`k = 0,\dots,T-1` gets :math:`\eta_k = \eta\,s(k/T)` with the multiplier
    :math:`s(x) = 1` (``"constant"``), :math:`s(x) = \frac12(1+\cos\pi x)` (``"cosine"``,
    Loshchilov & Hutter's annealing without restarts, as ``torch.optim.lr_scheduler.
    CosineAnnealingLR`` with ``T_max=T``) or :math:`s(x) = 1-x` (``"linear"``, linear to
    zero).  The first step uses the peak rate.

    Parameters
    ----------
    kind : {"constant", "cosine", "linear"}
    lr : float
        Peak learning rate :math:`\eta > 0`.
    steps : int
        Number of steps :math:`T \ge 1`.

    Returns
    -------
    ndarray
        Shape ``(steps,)``.

    Examples
    --------
    >>> lr_schedule("linear", 1.0, 4).tolist()
    [1.0, 0.75, 0.5, 0.25]
    """
    lr = _check_lr(lr)
    steps = check_positive_int(steps, "steps")
    x = np.arange(steps) / steps
    if kind == "constant":
        mult = np.ones(steps)
    elif kind == "cosine":
        mult = 0.5 * (1.0 + np.cos(np.pi * x))
    elif kind == "linear":
        mult = 1.0 - x
    else:
        raise ValueError(f"kind must be one of {SCHEDULES}; got {kind!r}")
    return lr * mult


def _check_schedule(lrs, weight_decay, coupled) -> np.ndarray:
    lrs = check_lambdas(lrs, "lrs")
    weight_decay = check_lambda(weight_decay, "weight_decay")
    if not isinstance(coupled, (bool, np.bool_)):
        raise ValueError(f"coupled must be True or False; got {coupled!r}")
    shrink = lrs * weight_decay if coupled else np.full_like(lrs, lrs.max() * weight_decay)
    if np.any(shrink >= 1):
        raise ValueError(f"lr * weight_decay must be < 1 at every step; got maximum {shrink.max()}")
    return shrink


def decay_factor_along_schedule(lrs, weight_decay, *, coupled: bool = True) -> np.ndarray:
    r"""Cumulative shrinkage :math:`D_t = \prod_{s\le t}(1-\kappa_s)` of the initial weights.

    With decoupled decay and a learning-rate schedule :math:`\eta_1,\dots,\eta_T`, the
    weights shrink by :math:`1-\kappa_t` at step :math:`t`:

    * ``coupled=True`` — :math:`\kappa_t = \eta_t\lambda`, PyTorch's ``AdamW`` with a
      scheduler (the decay follows the schedule).  This is also Loshchilov & Hutter's
      AdamW, whose decay is multiplied by the schedule multiplier :math:`\eta_t/\eta_{\max}`
      but not by the peak rate: their :math:`\lambda_\text{LH}` is :math:`\eta_{\max}\lambda`.
    * ``coupled=False`` — :math:`\kappa_t = \eta_{\max}\lambda` at every step: a constant
      decay that ignores the schedule (what a per-step decay applied outside the
      scheduler does).

    The contribution of the initial weights to :math:`w_T` is :math:`D_T w_0`.

    Parameters
    ----------
    lrs : array_like
        The learning rate of each step, e.g. :func:`lr_schedule`.
    weight_decay : float
        PyTorch's ``weight_decay`` :math:`\lambda`.
    coupled : bool, default True

    Returns
    -------
    ndarray
        Shape ``(T + 1,)``: :math:`D_0 = 1, D_1, \dots, D_T`.

    Examples
    --------
    >>> decay_factor_along_schedule([0.1, 0.1], 1.0).round(4).tolist()
    [1.0, 0.9, 0.81]
    """
    shrink = _check_schedule(lrs, weight_decay, coupled)
    return np.concatenate([[1.0], np.cumprod(1.0 - shrink)])


def update_weights_along_schedule(lrs, weight_decay, *, coupled: bool = True) -> np.ndarray:
    r"""Weight :math:`c_s` of each step's update :math:`u_s` in the final weights :math:`w_T`.

    Unrolling :math:`w_t = (1-\kappa_t)w_{t-1} - \eta_t u_t` (with :math:`\kappa_t` as in
    :func:`decay_factor_along_schedule`) gives

    .. math:: w_T = D_T\,w_0 - \sum_{s=1}^{T} c_s u_s, \qquad
              c_s = \eta_s\prod_{r=s+1}^{T}(1-\kappa_r).

    With a constant rate and coupled decay, :math:`c_s = \eta(1-\eta\lambda)^{T-s}`: the
    exponential moving average of :func:`adamw_timescale`.  Under a decaying schedule
    the profile tells which part of training the final weights remember.

    Parameters
    ----------
    lrs : array_like
        The learning rate of each step.
    weight_decay : float
        PyTorch's ``weight_decay`` :math:`\lambda`.
    coupled : bool, default True
        Whether the decay follows the schedule (see :func:`decay_factor_along_schedule`).

    Returns
    -------
    ndarray
        Shape ``(T,)``: :math:`c_1,\dots,c_T`.

    Examples
    --------
    >>> update_weights_along_schedule([0.1, 0.1], 1.0).round(4).tolist()
    [0.09, 0.1]
    """
    shrink = _check_schedule(lrs, weight_decay, coupled)
    lrs = np.asarray(lrs, dtype=float)
    # prod_{r > s} (1 - kappa_r), computed from the end
    after = np.concatenate([np.cumprod((1.0 - shrink)[::-1])[::-1][1:], [1.0]])
    return lrs * after


#: Optimisers of :func:`equilibrium_angular_update` and :func:`equilibrium_norm`.
EQUILIBRIUM_OPTIMIZERS = ("sgd", "sgdw", "adamw")


def _check_equilibrium(lr, weight_decay, optimizer, momentum):
    lr = _check_lr(lr)
    weight_decay = check_positive_float(weight_decay, "weight_decay")
    momentum = check_probability(momentum, "momentum")
    if optimizer not in EQUILIBRIUM_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {EQUILIBRIUM_OPTIMIZERS}; got {optimizer!r}")
    if lr * weight_decay >= 1:
        raise ValueError(f"lr * weight_decay must be < 1; got {lr * weight_decay}")
    return lr, weight_decay, momentum


def equilibrium_angular_update(lr, weight_decay, *, optimizer: str = "sgd", momentum=0.0) -> float:
    r"""Expected angle (radians) a scale-invariant weight turns per step at equilibrium.

    For a weight followed by a normalisation layer the gradient is orthogonal to
    :math:`w`, so a step changes :math:`\lVert w\rVert^2` by
    :math:`-(2\eta\lambda-\eta^2\lambda^2)\lVert w\rVert^2 + \eta^2\lVert\Delta\rVert^2`
    (decay shrinks, the update grows it).  At equilibrium the two balance.  In the
    random-walk model of Kosson et al. (2024) (updates uncorrelated between steps), to
    first order in :math:`\eta\lambda`, the angular update
    :math:`\eta\lVert\Delta_t\rVert/\lVert w_t\rVert` is

    * ``"sgd"`` (``torch.optim.SGD``, penalty gradient through the momentum
      :math:`\mu`): :math:`\sqrt{2\eta\lambda/(1+\mu)}`;
    * ``"sgdw"`` (decoupled decay, :class:`SGDW`): :math:`\sqrt{2\eta\lambda(1-\mu)/(1+\mu)}`;
    * ``"adamw"`` (``momentum`` is :math:`\beta_1`):
      :math:`\sqrt{2\eta\lambda(1-\beta_1)/(1+\beta_1)}`.

    All three are :math:`\sqrt{2\eta\lambda}` without momentum; the gradient's size drops
    out.  (Exactly, for :math:`\mu = 0`, the angle is :math:`\arccos(1-\eta\lambda)`.)

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta` (Adam's :math:`\eta` for ``"adamw"``).
    weight_decay : float
        PyTorch's ``weight_decay`` :math:`\lambda > 0`.
    optimizer : {"sgd", "sgdw", "adamw"}
    momentum : float, default 0
        :math:`\mu` for SGD, :math:`\beta_1` for AdamW, in ``[0, 1)``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(equilibrium_angular_update(0.1, 5e-4), 4)
    0.01
    """
    lr, weight_decay, mu = _check_equilibrium(lr, weight_decay, optimizer, momentum)
    if optimizer == "sgd":
        return math.sqrt(2 * lr * weight_decay / (1 + mu))
    return math.sqrt(2 * lr * weight_decay * (1 - mu) / (1 + mu))


def equilibrium_norm(
    lr,
    weight_decay,
    *,
    optimizer: str = "sgd",
    momentum=0.0,
    grad_norm=None,
    n_elements=None,
) -> float:
    r"""Equilibrium norm :math:`\lVert w\rVert` of a scale-invariant weight.

    Balance of decay and update (see :func:`equilibrium_angular_update`), to first order
    in :math:`\eta\lambda`, in the random-walk model:

    * SGD: the gradient of a scale-invariant weight is :math:`\tilde g/\lVert w\rVert`,
      with :math:`\tilde g` the gradient at the unit-norm weight (``grad_norm`` is its
      root-mean-square norm).  Without momentum
      :math:`2\eta\lambda\lVert w\rVert^2 = \eta^2\lVert\tilde g\rVert^2/\lVert w\rVert^2`,

      .. math:: \lVert w\rVert^2 = \lVert\tilde g\rVert\sqrt{\eta/(2\lambda)}
                \quad(\text{van Laarhoven 2017}).

      With momentum :math:`\mu` the factor :math:`2\lambda` becomes :math:`2\lambda(1-\mu)`
      (``"sgd"``) or :math:`2\lambda(1-\mu)^2` (``"sgdw"``).
    * AdamW: the update :math:`\hat m/\sqrt{\hat v}` has about unit size per coordinate
      whatever :math:`\lVert w\rVert`, so a weight with ``n_elements`` :math:`C`
      coordinates has :math:`\lVert w\rVert^2 = \eta C/(2\lambda)`, independent of the
      gradient and of :math:`\beta_1`.

    Parameters
    ----------
    lr, weight_decay : float
        :math:`\eta` and PyTorch's ``weight_decay`` :math:`\lambda > 0`.
    optimizer : {"sgd", "sgdw", "adamw"}
    momentum : float, default 0
        :math:`\mu` (SGD) or :math:`\beta_1` (AdamW, unused).
    grad_norm : float
        Required for the SGD variants: RMS norm of the gradient at unit weight norm.
    n_elements : int
        Required for ``"adamw"``: number of coordinates :math:`C`.

    Returns
    -------
    float

    Examples
    --------
    >>> norm = equilibrium_norm(
    ...     1e-3, 0.1, optimizer="adamw", n_elements=2000
    ... )
    >>> round(norm, 4)
    3.1623
    """
    lr, weight_decay, mu = _check_equilibrium(lr, weight_decay, optimizer, momentum)
    if optimizer == "adamw":
        if n_elements is None:
            raise ValueError("n_elements must be given for optimizer 'adamw'; got None")
        c = check_positive_int(n_elements, "n_elements")
        return math.sqrt(lr * c / (2 * weight_decay))
    if grad_norm is None:
        raise ValueError(f"grad_norm must be given for optimizer {optimizer!r}; got None")
    g = check_positive_float(grad_norm, "grad_norm")
    damping = (1 - mu) if optimizer == "sgd" else (1 - mu) ** 2
    return math.sqrt(g * math.sqrt(lr / (2 * weight_decay * damping)))


def angle_between(a, b) -> float:
    r"""Angle (radians, in :math:`[0, \pi]`) between two arrays seen as flat vectors.

    Computed as :math:`\operatorname{atan2}(\lVert a\times b\rVert, a\cdot b)` in float64
    (:math:`\lVert a\rVert^2\lVert b\rVert^2 - (a\cdot b)^2` under the root), accurate for
    small angles, unlike :math:`\arccos` of the cosine.

    Parameters
    ----------
    a, b : array_like or torch.Tensor
        Same number of elements, both non-zero.

    Returns
    -------
    float

    Examples
    --------
    >>> round(angle_between([1.0, 0.0], [1.0, 1.0]), 4)
    0.7854
    """
    a = torch.as_tensor(a).detach().double().reshape(-1)
    b = torch.as_tensor(b).detach().double().reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same number of elements; got {a.numel()} and {b.numel()}")
    na, nb = float(a.norm()), float(b.norm())
    if not (math.isfinite(na) and math.isfinite(nb)) or na == 0 or nb == 0:
        raise ValueError(f"a and b must be finite and non-zero; got norms {na} and {nb}")
    a, b = a / na, b / nb
    dot = float(a @ b)
    cross = float((a - dot * b).norm())  # = sin(angle) for unit vectors
    return math.atan2(cross, dot)
