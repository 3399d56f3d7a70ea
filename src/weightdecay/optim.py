r"""Weight decay in optimisers: which parameters to decay, decay versus an L2 penalty, BatchNorm.

Five parts; the first four in the order of the chapter "Weight decay is not always L2".

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
   ``Adam(weight_decay=λ)``) and :class:`AdamW`.  As in ``torch.optim``, each class's
   ``step`` gathers its state and calls a functional core, :func:`sgd` or :func:`adam`,
   whose argument ``decoupled`` is the whole difference between a penalty (``False``) and
   a decoupled decay (``True``).  Under plain SGD a penalty and a decay are
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

4. **The source's Keras MLP**: :func:`direction_only_r2_ceiling`, the most any model of the
   row directions :math:`x/\lVert x\rVert` of Gaussian inputs can explain (the closed form
   behind the source's row normalisation).

5. **Weight decay at scale**: the timescale of AdamW's decay (:func:`adamw_timescale`),
   learning-rate schedules and the decay along them, and the equilibrium norm and angular
   update of scale-invariant weights.

The chapters' experiments, which fix a dataset, an architecture or a grid, live in
:mod:`weightdecay.experiments` (:mod:`weightdecay.experiments.optimizers` for the chapter
"Weight decay is not always L2", :mod:`weightdecay.experiments.weight_decay_at_scale`).

This module imports torch; ``import weightdecay`` does not (the module loads lazily).
"""

from __future__ import annotations

import copy
import fnmatch
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ._deprecation import moved_names
from .progress import progress_bar
from .reproducibility import single_thread as _single_thread
from .validation import (
    check_lambda,
    check_lambdas,
    check_learning_rate,
    check_matrix,
    check_momentum,
    check_nonnegative_int,
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
    "sgd",
    "adam",
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
    # 4. the source's MLP: the row-direction ceiling
    "direction_only_r2_ceiling",
    # 5. weight decay at scale: timescales, schedules, equilibrium
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

#: Names that left this module: old name -> new fully qualified name.  Importable under the
#: old name, with a DeprecationWarning, for one release.
_MOVED = {
    **{
        name: f"weightdecay.experiments.optimizers.{name}"
        for name in (
            "source_regression_data",
            "RegressionSweep",
            "mlp_regression_sweep",
            "OptimizerComparison",
            "DEFAULT_SETTINGS",
            "mnist1d_optimizer_comparison",
            "BNDecayResult",
            "BN_DECAY_VARIANTS",
            "bn_decay_experiment",
        )
    },
    "row_normalise": "weightdecay.experiments.optimizers.row_normalize",
    "single_thread": "weightdecay.reproducibility.single_thread",
}
__getattr__ = moved_names(__name__, _MOVED)


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------
def _check_module(model, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"{name} must be a torch.nn.Module; got {type(model).__name__}")
    return model


def _check_betas(betas) -> tuple[float, float]:
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}") from None
    return check_probability(b1, "betas[0]"), check_probability(b2, "betas[1]")


_check_seeds = check_seeds  # the one seed check, in weightdecay.validation


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
#: The check of each hyperparameter of the reference optimisers and their functional cores.
_HYPERPARAMETER_CHECKS = {
    "lr": check_learning_rate,
    "momentum": check_momentum,
    "betas": _check_betas,
    "eps": lambda eps: check_positive_float(eps, "eps"),
    "weight_decay": lambda weight_decay: check_lambda(weight_decay, "weight_decay"),
}


def _check_hyperparameters(**values) -> dict:
    """Validate hyperparameters by name (``lr``, ``momentum``, ...); return them, as floats, in order."""
    return {name: _HYPERPARAMETER_CHECKS[name](value) for name, value in values.items()}


def _check_lists(params, **lists) -> list:
    """``params`` as a list; each of ``lists`` (gradients, state) must have one entry per tensor."""
    params = list(params)
    for name, values in lists.items():
        if len(values) != len(params):
            raise ValueError(f"{name} must have one entry per tensor of params ({len(params)}); got {len(values)}")
    return params


def sgd(params, grads, momentum_buffers, *,
        lr, momentum=0.0, weight_decay=0.0, decoupled=False) -> None:
    r"""One step of SGD with momentum and weight decay on a list of tensors (the functional core).

    :class:`SGDL2` (``decoupled=False``) and :class:`SGDW` (``decoupled=True``) call it on
    each param group, as ``torch.optim.SGD`` calls ``torch.optim.sgd.sgd``.  For every
    tensor :math:`w` with gradient :math:`\nabla f(w)` and momentum buffer :math:`b`, with
    :math:`\eta` = ``lr``, :math:`\mu` = ``momentum`` and :math:`\lambda` = ``weight_decay``:

    * ``decoupled=False``, an **L2 penalty**: its gradient :math:`\lambda w` joins the data
      gradient and goes through the buffer,

      .. math::

          b_t = \mu\, b_{t-1} + \nabla f(w_{t-1}) + \lambda w_{t-1}, \qquad
          w_t = w_{t-1} - \eta\, b_t ;

    * ``decoupled=True``, **decoupled decay**: the weights shrink by :math:`1-\eta\lambda`
      and the buffer sees the data gradient only,

      .. math::

          b_t = \mu\, b_{t-1} + \nabla f(w_{t-1}), \qquad
          w_t = (1 - \eta\lambda)\, w_{t-1} - \eta\, b_t .

    The first buffer is the first bracket itself (:math:`b_0 = 0`; PyTorch's convention).
    The tensors of ``params`` are updated in place, and each entry of ``momentum_buffers``
    is replaced by the new buffer :math:`b_t`.

    Parameters
    ----------
    params : list of torch.Tensor
        The weights :math:`w_{t-1}`; each becomes :math:`w_t`, in place.
    grads : list of torch.Tensor
        Their data gradients :math:`\nabla f(w_{t-1})`, one per tensor.
    momentum_buffers : list of torch.Tensor or None
        The buffers :math:`b_{t-1}`, ``None`` before the first step; each entry is replaced
        by :math:`b_t`.
    lr : float
        The learning rate :math:`\eta > 0`.
    momentum : float, default 0
        :math:`\mu` in :math:`[0, 1)`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: the L2 coefficient, or the decoupled rate.
    decoupled : bool, default False
        Decay the weights directly (SGDW) instead of adding the penalty's gradient (SGD + L2).

    Raises
    ------
    ValueError
        If ``lr``, ``momentum`` or ``weight_decay`` is out of range, or ``grads`` or
        ``momentum_buffers`` does not have one entry per tensor of ``params``.

    Examples
    --------
    The first step from rest is the same for both rules,
    :math:`w_1 = w_0 - \eta(\nabla f + \lambda w_0) = (1-\eta\lambda)w_0 - \eta\nabla f`:

    >>> import torch
    >>> import weightdecay as wd
    >>> grad = torch.tensor([0.5, 0.5])
    >>> w, buffers = torch.tensor([1.0, -2.0]), [None]
    >>> wd.optim.sgd([w], [grad], buffers, lr=0.1, momentum=0.9, weight_decay=0.1)
    >>> w, buffers  # b_1 = grad + 0.1 * w_0
    (tensor([ 0.9400, -2.0300]), [tensor([0.6000, 0.3000])])
    >>> v, buffers_w = torch.tensor([1.0, -2.0]), [None]
    >>> wd.optim.sgd([v], [grad], buffers_w, lr=0.1, momentum=0.9, weight_decay=0.1, decoupled=True)
    >>> v, buffers_w  # the buffer holds the data gradient only
    (tensor([ 0.9400, -2.0300]), [tensor([0.5000, 0.5000])])

    From the second step on they differ: the L2 buffer carries past decay, amplified by
    the momentum.

    >>> wd.optim.sgd([w], [grad], buffers, lr=0.1, momentum=0.9, weight_decay=0.1)
    >>> wd.optim.sgd([v], [grad], buffers_w, lr=0.1, momentum=0.9, weight_decay=0.1, decoupled=True)
    >>> w, v
    (tensor([ 0.8266, -2.0867]), tensor([ 0.8356, -2.1047]))
    """
    lr, mu, lam = _check_hyperparameters(
        lr=lr, momentum=momentum, weight_decay=weight_decay).values()
    params = _check_lists(params, grads=grads,
                          momentum_buffers=momentum_buffers)
    for i, w in enumerate(params):
        g = grads[i]
        if not decoupled:
            g = g + lam * w  # L2: the penalty's gradient joins f's
        b = momentum_buffers[i]
        b = momentum_buffers[i] = g.clone() if b is None else mu * b + g
        if decoupled:
            w.mul_(1 - lr * lam)  # decoupled: shrink the weights
        w.sub_(lr * b)


def adam(params, grads, exp_avgs, exp_avg_sqs, steps, *,
         lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
         decoupled=False) -> None:
    r"""One Adam step with weight decay on a list of tensors (the functional core).

    :class:`AdamL2` (``decoupled=False``) and :class:`AdamW` (``decoupled=True``) call it
    on each param group, as ``torch.optim.Adam`` calls ``torch.optim.adam.adam``.  For
    every tensor :math:`w` with gradient :math:`\nabla f(w)`, moments :math:`m, v` and step
    count :math:`t`, with :math:`\eta` = ``lr`` and :math:`\lambda` = ``weight_decay``
    (squares, roots and divisions elementwise), the moments and the normalised step are

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \\
        u_t &= \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon},

    and the two rules differ in where :math:`\lambda` enters:

    * ``decoupled=False``, an **L2 penalty** (Adam + L2):
      :math:`g_t = \nabla f(w_{t-1}) + \lambda w_{t-1}` and :math:`w_t = w_{t-1} - \eta\, u_t`;
    * ``decoupled=True``, **decoupled decay** (AdamW):
      :math:`g_t = \nabla f(w_{t-1})` and :math:`w_t = (1 - \eta\lambda)\, w_{t-1} - \eta\, u_t`.

    The penalty's gradient :math:`\lambda w` is divided by :math:`\sqrt{v_t/(1-\beta_2^t)}` like the
    data gradient (Adam + L2); the decoupled decay is not (AdamW).  The tensors of
    ``params`` are updated in place; each entry of ``exp_avgs``, ``exp_avg_sqs`` and
    ``steps`` is replaced by :math:`m_t`, :math:`v_t` and :math:`t`.

    Parameters
    ----------
    params : list of torch.Tensor
        The weights :math:`w_{t-1}`; each becomes :math:`w_t`, in place.
    grads : list of torch.Tensor
        Their data gradients :math:`\nabla f(w_{t-1})`, one per tensor.
    exp_avgs : list of torch.Tensor
        The first moments :math:`m_{t-1}` (zeros before the first step); replaced by
        :math:`m_t`.
    exp_avg_sqs : list of torch.Tensor
        The second moments :math:`v_{t-1}` (zeros before the first step); replaced by
        :math:`v_t`.
    steps : list of int
        The number of steps :math:`t-1` each tensor has taken; replaced by :math:`t`.
    lr : float, default 1e-3
        The learning rate :math:`\eta > 0`.
    betas : tuple of float, default (0.9, 0.999)
        :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon > 0`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: the L2 coefficient, or the decoupled rate.
    decoupled : bool, default False
        Decay the weights directly (AdamW) instead of adding the penalty's gradient
        (Adam + L2).

    Raises
    ------
    ValueError
        If ``lr``, ``betas``, ``eps`` or ``weight_decay`` is out of range, or ``grads``,
        ``exp_avgs``, ``exp_avg_sqs`` or ``steps`` does not have one entry per tensor of
        ``params``.

    Examples
    --------
    Adam's first step is :math:`\eta` times the sign of :math:`g_1`.  A weight with no data
    gradient moves by the full :math:`\eta` under the penalty, and by :math:`\eta\lambda w`
    under decoupled decay:

    >>> import torch
    >>> import weightdecay as wd
    >>> grad = torch.tensor([0.5, 0.0])
    >>> w, state = torch.tensor([1.0, -2.0]), ([torch.zeros(2)], [torch.zeros(2)], [0])
    >>> wd.optim.adam([w], [grad], *state, lr=0.1, weight_decay=0.1)
    >>> w  # w_0 - 0.1 * sign(grad + 0.1 * w_0)
    tensor([ 0.9000, -1.9000])
    >>> state[2]  # t
    [1]
    >>> v, state = torch.tensor([1.0, -2.0]), ([torch.zeros(2)], [torch.zeros(2)], [0])
    >>> wd.optim.adam([v], [grad], *state, lr=0.1, weight_decay=0.1, decoupled=True)
    >>> v  # (1 - 0.1 * 0.1) * w_0 - 0.1 * sign(grad)
    tensor([ 0.8900, -1.9800])
    """
    lr, (beta1, beta2), eps, lam = _check_hyperparameters(
        lr=lr, betas=betas, eps=eps, weight_decay=weight_decay).values()
    params = _check_lists(params, grads=grads, exp_avgs=exp_avgs,
                          exp_avg_sqs=exp_avg_sqs, steps=steps)
    for i, w in enumerate(params):
        g = grads[i]
        if not decoupled:
            g = g + lam * w  # L2: the penalty's gradient joins f's
        t = steps[i] = steps[i] + 1
        m = exp_avgs[i] = beta1 * exp_avgs[i] + (1 - beta1) * g
        v = exp_avg_sqs[i] = beta2 * exp_avg_sqs[i] + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        if decoupled:
            w.mul_(1 - lr * lam)  # decoupled: shrink the weights
        w.sub_(lr * (m_hat / (v_hat.sqrt() + eps)))


class _Reference(torch.optim.Optimizer):
    """Base of the reference optimisers: validated hyperparameters, and a step per param group.

    A subclass sets ``decoupled`` and implements ``_update(group, params, grads, states)``,
    which gathers the state of the parameters that have a gradient and calls :func:`sgd`
    or :func:`adam`.
    """

    decoupled: bool

    def __init__(self, params, **defaults):
        super().__init__(params, _check_hyperparameters(**defaults))

    @torch.no_grad()
    def step(self, closure=None):
        """Take one step: update every parameter that has a gradient, group by group.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss; called, with gradients enabled,
            before the step.

        Returns
        -------
        torch.Tensor or None
            What ``closure`` returned, or ``None`` without one.
        """
        loss = None if closure is None else torch.enable_grad()(closure)()
        for group in self.param_groups:
            params = [w for w in group["params"] if w.grad is not None]
            self._update(group, params, [w.grad for w in params], [self.state[w] for w in params])
        return loss


class _SGD(_Reference):
    """SGD with momentum: the state is the momentum buffer ``"b"``; the step is :func:`sgd`."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def _update(self, group, params, grads, states):
        buffers = [state.get("b") for state in states]
        sgd(params, grads, buffers, lr=group["lr"], momentum=group["momentum"],
            weight_decay=group["weight_decay"], decoupled=self.decoupled)
        for state, b in zip(states, buffers):
            state["b"] = b


class SGDL2(_SGD):
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
    (:func:`stationary_l2_coefficient`).  ``step`` calls the functional core
    :func:`sgd` with ``decoupled=False`` on each param group.

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

    decoupled = False


class SGDW(_SGD):
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
    relative to the data gradient (:func:`stationary_l2_coefficient`).  ``step`` calls the
    functional core :func:`sgd` with ``decoupled=True`` on each param group.

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

    decoupled = True


class _Adam(_Reference):
    """Adam: the state is the step count ``"t"`` and the moments ``"m"``, ``"v"``; the step is :func:`adam`."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, group, params, grads, states):
        for state, g in zip(states, grads):
            if not state:
                state.update(t=0, m=torch.zeros_like(g), v=torch.zeros_like(g))
        steps, exp_avgs, exp_avg_sqs = ([state[k] for state in states] for k in "tmv")
        adam(params, grads, exp_avgs, exp_avg_sqs, steps, lr=group["lr"], betas=group["betas"], eps=group["eps"],
             weight_decay=group["weight_decay"], decoupled=self.decoupled)
        for state, t, m, v in zip(states, steps, exp_avgs, exp_avg_sqs):
            state.update(t=t, m=m, v=v)


class AdamL2(_Adam):
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
    decay.  ``step`` calls the functional core :func:`adam` with ``decoupled=False`` on each
    param group.

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

    decoupled = False


class AdamW(_Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019): ``torch.optim.AdamW``.

    Adam sees only the data gradient; the decay multiplies the weights:

    .. math::

        g_t &= \nabla f(w_{t-1}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
        \hat m_t &= m_t/(1-\beta_1^t), \qquad \hat v_t = v_t/(1-\beta_2^t) \\
        w_t &= (1 - \eta\lambda)\, w_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Every weight shrinks by the same factor :math:`1-\eta\lambda` per step, whatever its
    gradient history; with no data gradient :math:`w_t = (1-\eta\lambda)^t w_0`.  ``step``
    calls the functional core :func:`adam` with ``decoupled=True`` on each param group.

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

    decoupled = True


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
    lr = check_learning_rate(lr)
    momentum = check_momentum(momentum)
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
    momentum = check_momentum(momentum)
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
    steps = check_nonnegative_int(steps, "steps")
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

    It is :func:`weightdecay.training.mlp` with ``norm=BatchNorm1d``.  Every hidden ``Linear`` weight is followed by BatchNorm and is therefore
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
    from .training import mlp

    eps = check_positive_float(eps, "eps")
    return mlp(in_features, hidden, out_features, norm=lambda width: nn.BatchNorm1d(width, eps=eps))


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

    With ``summary=True`` it adds the trace of :func:`weightdecay.cnn.train` (which uses this
    callback): ``"lr"``, the learning rate :math:`\eta` of the optimiser's first param
    group; ``"layer_norms"``, the array of the norms :math:`\lVert w_l\rVert` (computed in
    float32); ``"weight_norm"``, :math:`(\sum_l \lVert w_l\rVert^2)^{1/2}`; and
    ``"effective_lr"``, the mean :math:`\frac1L\sum_l \eta/\lVert w_l\rVert^2`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimiser that trains the model; :math:`\eta` is read from it every epoch.
    names : str or sequence of str, optional
        The parameters to watch (default: the decayed ones).
    per_layer : bool
        Record ``"norm/<name>"`` and ``"eff_lr/<name>"`` for every watched weight.
    summary : bool
        Record the summary ``"lr"``, ``"weight_norm"``, ``"effective_lr"`` and
        ``"layer_norms"`` over the watched weights.

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
    >>> summary = wd.optim.EffectiveLearningRate(callback.optimizer, per_layer=False, summary=True)
    >>> logs = {}
    >>> _ = summary.on_epoch_end(0, model, logs)
    >>> list(logs), logs["layer_norms"].shape
    (['lr', 'weight_norm', 'effective_lr', 'layer_norms'], (2,))
    """

    def __init__(self, optimizer: torch.optim.Optimizer, names: Sequence[str] | None = None, *,
                 per_layer: bool = True, summary: bool = False):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ValueError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
        if names is not None:
            names = [names] if isinstance(names, str) else list(names)
            if not names or not all(isinstance(n, str) for n in names):
                raise ValueError(f"names must be a non-empty list of parameter names; got {names!r}")
        self.optimizer = optimizer
        self.names = names
        self.per_layer = bool(per_layer)
        self.summary = bool(summary)

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
            if self.per_layer:
                logs[f"norm/{name}"] = float(w.detach().double().norm())
                logs[f"eff_lr/{name}"] = effective_lr(self._lr_of(w), w)
        if self.summary:
            with torch.no_grad():
                norms = np.array([float(params[name].detach().float().norm()) for name in names])
            lr = float(self.optimizer.param_groups[0]["lr"])
            logs["lr"] = lr
            logs["weight_norm"] = float(np.sqrt(np.sum(norms**2)))
            logs["effective_lr"] = float(np.mean(lr / norms**2))
            logs["layer_norms"] = norms
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
    mini-batches; one thread, :func:`weightdecay.reproducibility.single_thread`) with
    ``torch.optim.SGD``; ``names`` are the scale-invariant weights (default
    :func:`scale_invariant_parameters`).  The identity is about training mode: BatchNorm's
    running averages (used in evaluation mode) are averages over steps taken at different
    scales, so they do **not** match, and BatchNorm's :math:`\epsilon` makes the
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
    lr = check_learning_rate(lr)
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
    with _single_thread():
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
# 4. The source's Keras MLP: the row-direction ceiling
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# 5. Weight decay at scale: timescales, schedules and equilibrium
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
    lr = check_learning_rate(lr)
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
    lr = check_learning_rate(lr)
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
    lr = check_learning_rate(lr)
    weight_decay = check_positive_float(weight_decay, "weight_decay")
    momentum = check_momentum(momentum)
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
