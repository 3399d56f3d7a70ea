r"""Dropout: the operation itself, its exact effect on linear regression, and schedules.

Three parts.

1. :func:`dropout` — inverted dropout with *drop* probability ``p`` (PyTorch's convention):
   in training every entry is kept with probability :math:`q = 1 - p` and divided by
   :math:`q`, so that :math:`\mathbb E[\mathrm{dropout}(x)] = x`; in evaluation it is the
   identity.  ``scaling="classic"`` gives the original form of Hinton et al. (2012): no
   division in training, multiplication by :math:`q` at test time.

2. Linear regression, where dropout can be solved exactly.  With masks
   :math:`m_j \sim \mathrm{Bernoulli}(q)` i.i.d. on the *inputs* of a linear model,

   .. math::

       \mathbb E_m\Big[\frac1{2n}\Big\lVert y - X\frac{m\circ w}{q}\Big\rVert^2\Big]
       = \frac1{2n}\lVert y - Xw\rVert^2
       + \frac1{2n}\,\frac{p}{1-p}\sum_j w_j^2\,\lVert x_j\rVert^2 ,

   a ridge penalty whose weight on :math:`w_j` is the squared norm of column :math:`j`
   (Srivastava et al. 2014, §9.1).  :func:`expected_dropout_loss` evaluates the right-hand
   side, :func:`enumerate_dropout_loss` the left-hand side exactly (all :math:`2^d` masks),
   :func:`monte_carlo_dropout_loss` estimates it by sampling, :func:`dropout_ridge` and
   :func:`dropout_path` minimise it.  With standardised columns, :math:`\lVert x_j\rVert^2 = n`,
   the penalty is the book's :math:`\frac\lambda2\lVert w\rVert^2` with
   :math:`\lambda = p/(1-p)` (:func:`equivalent_ridge_lambda`).  Gaussian noise added to
   the inputs is the same story with :math:`\lambda = \sigma^2`
   (:func:`expected_input_noise_loss`, :func:`monte_carlo_input_noise_loss`).

3. Networks (need torch): :func:`set_dropout`, :func:`remove_dropout`,
   :func:`mc_dropout_predict`, the training callback :class:`DropoutSchedule` (constant,
   early and late dropout, Liu et al. 2023) and :func:`mnist1d_dropout_experiment`, the
   book's MLP-on-MNIST-1D comparison over several seeds, whose curves
   (:class:`SeedCurves`) compare the settings at the last epoch or at each run's best
   validation epoch, with standard errors over seeds (:meth:`SeedCurves.compare`).

torch is imported only inside the functions that need it, so the linear-regression part
works without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .linear import ridge_path
from .stats import mean_se
from .validation import (
    check_matrix,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_vector,
    check_X_y,
)

__all__ = [
    "MAX_ENUMERATION_FEATURES",
    "dropout",
    "equivalent_ridge_lambda",
    "expected_dropout_loss",
    "expected_dropout_gradient",
    "enumerate_dropout_loss",
    "MonteCarloEstimate",
    "monte_carlo_dropout_loss",
    "dropout_ridge",
    "expected_input_noise_loss",
    "monte_carlo_input_noise_loss",
    "dropout_path",
    "fit_linear_dropout",
    "fit_linear_dropout_seeds",
    "set_dropout",
    "remove_dropout",
    "mc_dropout_predict",
    "DropoutSchedule",
    "SeedComparison",
    "SeedCurves",
    "DropoutCurves",
    "mnist1d_dropout_experiment",
]

#: Largest number of features for which :func:`enumerate_dropout_loss` enumerates all masks
#: (2**16 = 65 536 masks).
MAX_ENUMERATION_FEATURES = 16

_SCALINGS = ("inverted", "classic")


# ---------------------------------------------------------------------------
# The operation
# ---------------------------------------------------------------------------
def dropout(x, p: float, training: bool = True, generator=None, *, scaling: str = "inverted"):
    r"""Dropout of a tensor ``x`` with drop probability ``p``.

    With keep probability :math:`q = 1 - p` and a fresh mask
    :math:`m_i \sim \mathrm{Bernoulli}(q)`, drawn independently for every entry and every call,

    .. math::

        \text{inverted (default):}\quad
        \mathrm{train}(x) = \frac{m \circ x}{q}, \qquad \mathrm{eval}(x) = x;

        \text{classic:}\quad
        \mathrm{train}(x) = m \circ x, \qquad \mathrm{eval}(x) = q\,x .

    In both, the evaluation output is the expectation of the training output.  Inverted
    dropout is what ``torch.nn.functional.dropout`` and ``keras.layers.Dropout`` do; it
    leaves evaluation untouched.

    Parameters
    ----------
    x : torch.Tensor
        Floating-point tensor of any shape; the mask is drawn on ``x``'s device.
    p : float in [0, 1)
        *Drop* probability, as PyTorch's ``p`` and Keras' ``rate``.  (Srivastava et al. 2014
        write ``p`` for the *keep* probability.)
    training : bool
        ``False`` gives the evaluation-mode output.
    generator : torch.Generator, optional
        Source of the mask, on the same device as ``x``; by default torch's global generator.
    scaling : {"inverted", "classic"}

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``x``.
    """
    import torch

    if not torch.is_tensor(x):
        raise ValueError(f"x must be a torch.Tensor; got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise ValueError(f"x must be a floating-point tensor; got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x must contain only finite values; got NaN or infinite entries")
    p = check_probability(p, "p")
    if scaling not in _SCALINGS:
        raise ValueError(f"scaling must be one of {_SCALINGS}; got {scaling!r}")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator; got {type(generator).__name__}")
        if torch.device(generator.device).type != x.device.type:
            raise ValueError(
                f"generator must be on x's device; got generator on {generator.device} and x on {x.device}"
            )
    keep = 1.0 - p
    if not training:
        return x if scaling == "inverted" else x * keep
    mask = torch.empty_like(x).bernoulli_(keep, generator=generator)  # on x's device
    return x * mask / keep if scaling == "inverted" else x * mask


# ---------------------------------------------------------------------------
# Linear regression: the expected loss and its minimiser
# ---------------------------------------------------------------------------
def equivalent_ridge_lambda(p: float) -> float:
    r"""The book's ridge :math:`\lambda = p/(1-p)` that dropout with drop probability ``p``
    equals for standardised features (:math:`\lVert x_j\rVert^2 = n`).

    It grows from 0 at ``p = 0`` to infinity as ``p → 1``; ``p = 0.5`` gives ``λ = 1``.
    """
    p = check_probability(p, "p")
    return p / (1.0 - p)


def _check_linear_problem(X, y, w, p):
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    p = check_probability(p, "p")
    return X, y, w, p


def expected_dropout_loss(X, y, w, p: float) -> float:
    r"""Closed form of the expected dropout loss of a linear model.

    .. math::

        \mathbb E_m\Big[\frac1{2n}\Big\lVert y - X\frac{m\circ w}{1-p}\Big\rVert^2\Big]
        = \frac1{2n}\lVert y - Xw\rVert^2
        + \frac1{2n}\,\frac{p}{1-p}\sum_j w_j^2\,\lVert x_j\rVert^2,

        m_j \overset{\text{iid}}{\sim}\mathrm{Bernoulli}(1-p).

    Derivation: write :math:`\tilde w = m\circ w/(1-p)`, so
    :math:`\mathbb E\tilde w = w` and :math:`\mathrm{Cov}\,\tilde w = \frac{p}{1-p}\mathrm{diag}(w^2)`.
    For any random vector, :math:`\mathbb E\lVert y - X\tilde w\rVert^2 =
    \lVert y - X\mathbb E\tilde w\rVert^2 + \mathrm{tr}(X\,\mathrm{Cov}(\tilde w)\,X^\top)`, and
    the trace is :math:`\frac{p}{1-p}\sum_j w_j^2\lVert x_j\rVert^2`.

    Parameters
    ----------
    X : array (n, d)
    y : array (n,)
    w : array (d,)
    p : float in [0, 1)
        Drop probability of each input feature.
    """
    X, y, w, p = _check_linear_problem(X, y, w, p)
    n = X.shape[0]
    data_term = np.sum((y - X @ w) ** 2) / (2 * n)
    penalty = p / (1 - p) * np.sum(w**2 * np.sum(X**2, axis=0)) / (2 * n)
    return float(data_term + penalty)


def expected_dropout_gradient(X, y, w, p: float) -> np.ndarray:
    r"""Gradient of :func:`expected_dropout_loss` with respect to ``w``.

    .. math::

        \nabla_w = -\frac1n X^\top(y - Xw) + \frac1n\,\frac{p}{1-p}\,
        \mathrm{diag}\big(\lVert x_1\rVert^2, \dots, \lVert x_d\rVert^2\big)\,w .
    """
    X, y, w, p = _check_linear_problem(X, y, w, p)
    n = X.shape[0]
    return -X.T @ (y - X @ w) / n + p / (1 - p) * np.sum(X**2, axis=0) * w / n


def enumerate_dropout_loss(X, y, w, p: float) -> float:
    r"""The expected dropout loss computed exactly, by summing over all :math:`2^d` masks.

    .. math::

        \sum_{m\in\{0,1\}^d} (1-p)^{|m|}\,p^{\,d-|m|}\;
        \frac1{2n}\Big\lVert y - X\frac{m\circ w}{1-p}\Big\rVert^2 ,
        \qquad |m| = \textstyle\sum_j m_j .

    No formula is used beyond the definition, so it checks :func:`expected_dropout_loss`
    independently.  Only for ``d <= MAX_ENUMERATION_FEATURES`` (16) features.
    """
    X, y, w, p = _check_linear_problem(X, y, w, p)
    n, d = X.shape
    if d > MAX_ENUMERATION_FEATURES:
        raise ValueError(
            f"X must have at most {MAX_ENUMERATION_FEATURES} columns to enumerate all 2^d masks; got {d}"
        )
    keep = 1.0 - p
    masks = (np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1  # (2^d, d), row k = bits of k
    n_kept = masks.sum(axis=1)
    probs = keep**n_kept * p ** (d - n_kept)  # 0.0**0 == 1: p = 0 keeps only the full mask
    total = 0.0
    chunk = max(1, 2**22 // n)  # masks per block, to bound memory at ~32 MB
    for start in range(0, masks.shape[0], chunk):
        W = masks[start : start + chunk] * w / keep  # (k, d) thinned, rescaled weights
        residuals = y[:, None] - X @ W.T  # (n, k)
        losses = np.sum(residuals**2, axis=0) / (2 * n)
        total += float(probs[start : start + chunk] @ losses)
    return total


class MonteCarloEstimate(NamedTuple):
    """A Monte Carlo mean with its standard error (``std / sqrt(n_samples)``)."""

    mean: float
    std_error: float
    n_samples: int


def monte_carlo_dropout_loss(X, y, w, p: float, n_samples: int, rng=None) -> MonteCarloEstimate:
    r"""Monte Carlo estimate of the expected dropout loss of a linear model.

    Draws ``n_samples`` masks :math:`m^{(k)}` with i.i.d. Bernoulli(:math:`1-p`) entries and
    returns the mean of :math:`\frac1{2n}\lVert y - X(m^{(k)}\circ w)/(1-p)\rVert^2` with its
    standard error, so that the closed form should lie within a few standard errors.

    Parameters
    ----------
    n_samples : int >= 2
    rng : numpy.random.Generator or seed
    """
    X, y, w, p = _check_linear_problem(X, y, w, p)
    n_samples = check_positive_int(n_samples, "n_samples", minimum=2)
    rng = np.random.default_rng(rng)
    n, d = X.shape
    keep = 1.0 - p
    losses = np.empty(n_samples)
    chunk = max(1, 2**22 // max(n, d))
    for start in range(0, n_samples, chunk):
        k = min(chunk, n_samples - start)
        masks = rng.random((k, d)) < keep
        W = masks * w / keep
        residuals = y[:, None] - X @ W.T
        losses[start : start + k] = np.sum(residuals**2, axis=0) / (2 * n)
    return MonteCarloEstimate(float(losses.mean()), float(losses.std(ddof=1) / np.sqrt(n_samples)), n_samples)


def expected_input_noise_loss(X, y, w, sigma: float) -> float:
    r"""Closed form of the squared loss of a linear model trained on noisy inputs.

    Adding Gaussian noise :math:`E_{ij} \overset{\text{iid}}{\sim} \mathcal N(0, \sigma^2)`
    to every input (the simplest data augmentation) gives, in the book's convention,

    .. math::

        \mathbb E_E\Big[\frac1{2n}\lVert y - (X + E)w\rVert^2\Big]
        = \frac1{2n}\lVert y - Xw\rVert^2 + \frac{\sigma^2}{2}\lVert w\rVert^2 ,

    i.e. ridge with :math:`\lambda = \sigma^2` (Bishop 1995).  Derivation: :math:`Ew` has
    independent entries :math:`\mathcal N(0, \sigma^2\lVert w\rVert^2)`, so
    :math:`\mathbb E\lVert y - Xw - Ew\rVert^2 = \lVert y - Xw\rVert^2 + n\sigma^2\lVert w\rVert^2`
    (the cross term has mean zero).  The model's capacity is unchanged; what changes is the
    objective.
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    sigma = check_positive_float(sigma, "sigma", allow_zero=True)
    n = X.shape[0]
    return float(np.sum((y - X @ w) ** 2) / (2 * n) + sigma**2 * np.sum(w**2) / 2)


def monte_carlo_input_noise_loss(X, y, w, sigma: float, n_samples: int, rng=None) -> MonteCarloEstimate:
    r"""Monte Carlo estimate of :math:`\mathbb E_E\big[\frac1{2n}\lVert y - (X+E)w\rVert^2\big]`
    with :math:`E_{ij} \sim \mathcal N(0, \sigma^2)` i.i.d., drawing ``n_samples`` noise
    matrices; checks :func:`expected_input_noise_loss` without using its formula."""
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    sigma = check_positive_float(sigma, "sigma", allow_zero=True)
    n_samples = check_positive_int(n_samples, "n_samples", minimum=2)
    rng = np.random.default_rng(rng)
    losses = np.array([
        np.sum((y - (X + sigma * rng.standard_normal(X.shape)) @ w) ** 2) / (2 * X.shape[0])
        for _ in range(n_samples)
    ])
    return MonteCarloEstimate(float(losses.mean()), float(losses.std(ddof=1) / np.sqrt(n_samples)), n_samples)


def _column_scale(X: np.ndarray) -> np.ndarray:
    """``||x_j|| / sqrt(n)`` (1 for all-zero columns): dividing by it gives ``||x_j||² = n``."""
    scale = np.sqrt(np.sum(X**2, axis=0) / X.shape[0])
    return np.where(scale > 0, scale, 1.0)


def dropout_path(X, y, ps) -> np.ndarray:
    r"""Minimisers of the expected dropout loss for every drop probability in ``ps``.

    Setting :func:`expected_dropout_gradient` to zero gives

    .. math::

        \Big(X^\top X + \frac{p}{1-p}\,D^2\Big)\,\hat w(p) = X^\top y,
        \qquad D = \mathrm{diag}\big(\lVert x_1\rVert, \dots, \lVert x_d\rVert\big),

    a ridge regression whose penalty on :math:`w_j` is proportional to :math:`\lVert x_j\rVert^2`.
    Substituting :math:`v = Dw/\sqrt n` and :math:`Z = \sqrt n\,XD^{-1}` (columns with
    :math:`\lVert z_j\rVert^2 = n`) turns it into the book's ridge on :math:`Z`:
    :math:`(Z^\top Z + n\lambda I)v = Z^\top y` with :math:`\lambda = p/(1-p)`, so

    .. math::  \hat w(p) = \sqrt n\,D^{-1}\,\hat v_{\text{ridge}}\big(Z, y, \lambda = p/(1-p)\big).

    The whole path comes from one SVD (:func:`weightdecay.linear.ridge_path`).  For ``p = 0``
    this is a least-squares solution (the minimum-norm one in the rescaled coordinates).
    All-zero columns get coefficient 0.

    Returns
    -------
    array (len(ps), d)
    """
    X, y = check_X_y(X, y)
    try:
        ps = np.atleast_1d(np.asarray(ps, dtype=float))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ps must be a sequence of drop probabilities; got {ps!r}") from exc
    if ps.ndim != 1 or ps.size == 0:
        raise ValueError(f"ps must be a non-empty 1-D sequence of drop probabilities; got shape {ps.shape}")
    lams = np.array([equivalent_ridge_lambda(check_probability(p, f"ps[{k}]")) for k, p in enumerate(ps)])
    scale = _column_scale(X)
    V = ridge_path(X / scale, y, lams)
    return V / scale


def dropout_ridge(X, y, p: float) -> np.ndarray:
    r"""Minimiser of :func:`expected_dropout_loss` over ``w``: the "dropout ridge" estimate.

    .. math::

        \hat w(p) = \Big(X^\top X + \frac{p}{1-p}\,\mathrm{diag}\big(\lVert x_j\rVert^2\big)\Big)^{-1} X^\top y .

    With standardised features (:math:`\lVert x_j\rVert^2 = n`, e.g. after
    :func:`weightdecay.linear.standardize`) the penalty matrix is :math:`nI\cdot p/(1-p)` and
    this is exactly ``weightdecay.linear.ridge(X, y, p / (1 - p))``.  See :func:`dropout_path`.
    """
    check_probability(p, "p")
    return dropout_path(X, y, [p])[0]


class _IterateAverage:
    """Callback: running mean of the weights of ``model[-1]`` over epochs ``>= first``."""

    def __init__(self, first: int):
        self.first, self.count, self.mean = first, 0, None

    def on_epoch_end(self, epoch, model, logs):
        if epoch >= self.first:
            w = model[-1].weight.detach().double().cpu().numpy().ravel()
            self.count += 1
            self.mean = w if self.mean is None else self.mean + (w - self.mean) / self.count
        return False


def fit_linear_dropout(
    X, y, p: float, *, epochs: int = 200, lr: float = 0.05, batch_size: int = 32, seed: int = 0
) -> np.ndarray:
    r"""Train a linear model with dropout on its inputs by SGD; return the averaged weights.

    The model is ``nn.Sequential(nn.Dropout(p), nn.Linear(d, 1, bias=False))`` and every
    mini-batch step descends the *sampled* loss
    :math:`\frac1{2|B|}\sum_{i\in B}\big(y_i - x_i^\top(m_i\circ w)/(1-p)\big)^2`, with a fresh
    mask :math:`m_i` for every example, using :func:`weightdecay.training.train` with plain
    SGD.  Its expectation over the masks is :func:`expected_dropout_loss` (the expectation is
    taken row by row, so one mask per row or one for all rows give the same expected loss),
    so SGD is a stochastic method for that objective; with a constant step the iterates keep
    fluctuating, and we return their average over the second half of training
    (Polyak–Ruppert averaging), which should be close to :func:`dropout_ridge`.

    Parameters
    ----------
    X : array (n, d), centred; y : array (n,), centred
    p : float in [0, 1)
    epochs, lr, batch_size, seed
        SGD settings; ``seed`` seeds the initial weights, the masks and the batch order.

    Returns
    -------
    w : array (d,)
    """
    import torch
    from torch import nn

    from .training import train

    X, y = check_X_y(X, y)
    p = check_probability(p, "p")
    epochs = check_positive_int(epochs, "epochs", minimum=2)
    lr = float(check_positive_float(lr, "lr"))
    seed = check_positive_int(seed, "seed", minimum=0)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Dropout(p), nn.Linear(X.shape[1], 1, bias=False))
    average = _IterateAverage(first=epochs // 2 + 1)

    def half_squared_error(out, target):
        return 0.5 * torch.mean((target - out.squeeze(-1)) ** 2)

    train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=lr), epochs=epochs,
          batch_size=batch_size, loss_fn=half_squared_error, callbacks=[average], seed=seed)
    return average.mean


def fit_linear_dropout_seeds(X, y, p: float, seeds: Sequence[int], **kwargs) -> np.ndarray:
    """:func:`fit_linear_dropout` once per seed: the averaged weights, ``(len(seeds), d)``.

    Every seed changes the initial weights, the masks and the batch order; the spread of the
    rows shows how much of the distance to :func:`dropout_ridge` is SGD noise.  ``kwargs``
    (``epochs``, ``lr``, ``batch_size``) are passed on.
    """
    try:
        seeds = tuple(seeds)
    except TypeError as exc:
        raise ValueError(f"seeds must be a sequence of integers >= 0; got {seeds!r}") from exc
    if not seeds:
        raise ValueError("seeds must contain at least one seed; got none")
    return np.stack([fit_linear_dropout(X, y, p, seed=seed, **kwargs) for seed in seeds])


# ---------------------------------------------------------------------------
# Networks (torch)
# ---------------------------------------------------------------------------
def _dropout_types():
    from torch import nn

    return (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


def _check_module(model):
    from torch import nn

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")


def set_dropout(model, p: float) -> int:
    """Set the drop probability of every dropout module of ``model`` to ``p``, in place.

    Returns the number of modules changed.  Raises ``ValueError`` if ``model`` has no
    dropout module (build it with ``weightdecay.training.mlp(..., dropout=q)`` for any
    ``q > 0``): silently doing nothing would hide a mistake.
    """
    _check_module(model)
    p = check_probability(p, "p")
    layers = [m for m in model.modules() if isinstance(m, _dropout_types())]
    if not layers:
        raise ValueError(f"model has no dropout modules to set; got a {type(model).__name__} without any")
    for layer in layers:
        layer.p = p
    return len(layers)


def remove_dropout(model):
    """A copy of ``model`` with every dropout module replaced by ``nn.Identity``.

    The copy has exactly the same parameters: dropout adds none.  In evaluation mode the
    two models compute the same function, which shows that dropout changes how a network is
    *trained*, not its architecture.
    """
    import copy

    from torch import nn

    _check_module(model)
    clone = copy.deepcopy(model)
    for parent in clone.modules():
        for name, child in parent.named_children():
            if isinstance(child, _dropout_types()):
                setattr(parent, name, nn.Identity())
    return clone


def mc_dropout_predict(model, X, n_samples: int, *, seed: int = 0):
    r"""Average of ``n_samples`` training-mode (random-mask) forward passes.

    .. math::  \bar f(x) = \frac1K\sum_{k=1}^K f(x; m^{(k)}),

    the Monte Carlo average over "thinned" networks, to compare with the single
    evaluation-mode pass (the *weight-scaling* rule of Srivastava et al. 2014).  The two agree
    exactly for a network that is linear in the dropped units, approximately otherwise.
    Returns a numpy array of outputs ``(m, out_features)`` in the model's floating dtype
    (inputs are converted to it); the model's mode is restored.
    """
    import torch

    _check_module(model)
    n_samples = check_positive_int(n_samples, "n_samples")
    from .training import model_dtype_device

    dtype, device = model_dtype_device(model)
    X = torch.as_tensor(check_matrix(X, "X"), dtype=dtype, device=device)
    was_training = model.training
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    model.train()
    total = 0.0
    try:
        with torch.no_grad():
            for _ in range(n_samples):
                total = total + model(X)
    finally:
        torch.random.set_rng_state(state)
        model.train(was_training)
    return (total / n_samples).cpu().numpy()


class DropoutSchedule:
    """Training callback that switches dropout on and off by epoch (Liu et al. 2023).

    The drop probability used in epoch ``e`` (1-based) is

    * ``p`` if ``start_epoch <= e < stop_epoch`` (a missing bound is no bound), else ``0``.

    So ``DropoutSchedule(p)`` is ordinary dropout, ``DropoutSchedule(p, stop_epoch=k)`` is
    *early dropout* (on for epochs ``< k``, then off), and ``DropoutSchedule(p, start_epoch=k)``
    is *late dropout* (off until epoch ``k``).

    Use it as a callback of :func:`weightdecay.training.train` on a model that has dropout
    modules: ``on_epoch_begin`` sets their probability with :func:`set_dropout`, and
    ``on_epoch_end`` records it in the history under ``"dropout_p"``.
    """

    def __init__(self, p: float, *, start_epoch: int | None = None, stop_epoch: int | None = None):
        self.p = check_probability(p, "p")
        self.start_epoch = None if start_epoch is None else check_positive_int(start_epoch, "start_epoch")
        self.stop_epoch = None if stop_epoch is None else check_positive_int(stop_epoch, "stop_epoch")
        if self.start_epoch is not None and self.stop_epoch is not None and self.stop_epoch <= self.start_epoch:
            raise ValueError(
                f"stop_epoch must be > start_epoch; got start_epoch={self.start_epoch}, stop_epoch={self.stop_epoch}"
            )

    def rate(self, epoch: int) -> float:
        """Drop probability in (1-based) ``epoch``."""
        epoch = check_positive_int(epoch, "epoch")
        after_start = self.start_epoch is None or epoch >= self.start_epoch
        before_stop = self.stop_epoch is None or epoch < self.stop_epoch
        return self.p if (after_start and before_stop) else 0.0

    @property
    def label(self) -> str:
        """Short description, e.g. ``"early dropout p=0.1 (epochs < 10)"``."""
        if self.p == 0:
            return "no dropout"
        if self.start_epoch is None and self.stop_epoch is None:
            return f"dropout p={self.p:g}"
        if self.start_epoch is None:
            return f"early dropout p={self.p:g} (epochs < {self.stop_epoch})"
        if self.stop_epoch is None:
            return f"late dropout p={self.p:g} (epochs >= {self.start_epoch})"
        return f"dropout p={self.p:g} (epochs {self.start_epoch}-{self.stop_epoch - 1})"

    def __repr__(self) -> str:
        return f"DropoutSchedule(p={self.p:g}, start_epoch={self.start_epoch}, stop_epoch={self.stop_epoch})"

    def on_epoch_begin(self, epoch: int, model) -> None:
        set_dropout(model, self.rate(epoch))

    def on_epoch_end(self, epoch: int, model, logs: dict) -> bool:
        logs["dropout_p"] = self.rate(epoch)
        return False


# ---------------------------------------------------------------------------
# The MLP-on-MNIST-1D comparison
# ---------------------------------------------------------------------------
CURVE_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")


class SeedComparison(NamedTuple):
    """One metric of several settings over the same seeds, from :meth:`SeedCurves.compare`.

    ``values`` has shape ``(n_settings, n_seeds)``; ``mean`` and ``se`` (standard error,
    ``std(ddof=1) / sqrt(n_seeds)``) are per setting.  ``diff_mean`` and ``diff_se`` are the
    mean and standard error over seeds of the *paired* difference ``values[i] - values[baseline]``
    (zero for the baseline itself): every setting is trained from the same seeds, so pairing
    removes the part of the seed-to-seed spread that the settings share.  With one seed the
    standard errors are NaN.  ``epochs`` are the (1-based) epochs the values were taken at.
    """

    values: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    diff_mean: np.ndarray
    diff_se: np.ndarray
    epochs: np.ndarray


class SeedCurves:
    """Per-epoch curves of several settings over several seeds: arrays ``train_loss``,
    ``train_acc``, ``val_*``, ``test_*`` of shape ``(n_settings, n_seeds, n_epochs)``.
    Shared by :class:`DropoutCurves` and :class:`weightdecay.early_stopping.EarlyStoppingRuns`.
    """

    def curve(self, key: str) -> np.ndarray:
        """The array named ``key`` (one of ``train_loss``, ``train_acc``, ``val_*``, ``test_*``)."""
        if key not in CURVE_KEYS:
            raise ValueError(f"key must be one of {CURVE_KEYS}; got {key!r}")
        return getattr(self, key)

    def mean_std(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over seeds: two arrays ``(n_settings, n_epochs)``."""
        values = self.curve(key)
        return values.mean(axis=1), values.std(axis=1, ddof=1 if values.shape[1] > 1 else 0)

    def final(self, key: str) -> np.ndarray:
        """Values at the last epoch, ``(n_settings, n_seeds)``."""
        return self.curve(key)[:, :, -1]

    def at_epoch(self, key: str, epochs) -> np.ndarray:
        """``key`` of each run at the given (1-based) epoch per run, ``(n_settings, n_seeds)``."""
        values = self.curve(key)
        try:
            epochs = np.asarray(epochs, dtype=float)
        except (TypeError, ValueError):
            epochs = np.full(1, np.nan)
        if (epochs.shape != values.shape[:2] or not np.all(np.isfinite(epochs)) or np.any(epochs != np.round(epochs))
                or np.any(epochs < 1) or np.any(epochs > values.shape[2])):
            raise ValueError(
                f"epochs must be an integer array of shape {values.shape[:2]} in 1..{values.shape[2]}; got {epochs!r}"
            )
        return np.take_along_axis(values, epochs[:, :, None].astype(np.int64) - 1, axis=2)[:, :, 0]

    def epoch_of_best(self, monitor: str = "val_loss") -> np.ndarray:
        """The (1-based) epoch at which each run's ``monitor`` curve is best, ``(n_settings, n_seeds)``.

        Best is the smallest value of a loss and the largest of an accuracy; of equal values
        the earliest epoch wins, as for :class:`weightdecay.early_stopping.EarlyStopping` with
        ``min_delta=0`` and unlimited patience.  Choosing the epoch on ``val_*`` and reporting
        ``test_*`` there is model selection on the validation set.
        """
        values = self.curve(monitor)
        best = np.argmax(values, axis=2) if monitor.endswith("_acc") else np.argmin(values, axis=2)
        return best + 1

    def compare(self, key: str, at="final", *, monitor: str = "val_loss", baseline: int = 0) -> SeedComparison:
        """``key`` of every setting and seed, summarised over seeds (see :class:`SeedComparison`).

        Parameters
        ----------
        key : str
            The metric compared, e.g. ``"test_acc"``.
        at : "final", "best" or int array ``(n_settings, n_seeds)``
            Which epoch of each run: the last one, the one where ``monitor`` is best
            (:meth:`epoch_of_best`, so each setting is scored at its own best epoch), or the
            given (1-based) epochs.
        baseline : int
            Index of the setting the paired differences are taken against.
        """
        values = self.curve(key)
        n_settings, n_seeds, n_epochs = values.shape
        if isinstance(at, str):
            if at == "final":
                epochs = np.full((n_settings, n_seeds), n_epochs, dtype=np.int64)
            elif at == "best":
                epochs = self.epoch_of_best(monitor)
            else:
                raise ValueError(f"at must be 'final', 'best' or an array of epochs; got {at!r}")
        else:
            epochs = np.asarray(at)
        chosen = self.at_epoch(key, epochs)
        if isinstance(baseline, bool) or not isinstance(baseline, (int, np.integer)) or not 0 <= baseline < n_settings:
            raise ValueError(f"baseline must be a setting index in 0..{n_settings - 1}; got {baseline!r}")
        mean, se = mean_se(chosen)
        diff_mean, diff_se = mean_se(chosen - chosen[baseline])
        return SeedComparison(chosen, mean, se, diff_mean, diff_se, epochs)


@dataclass(frozen=True)
class DropoutCurves(SeedCurves):
    """Per-epoch curves of several dropout settings over several seeds.

    Every curve array has shape ``(n_settings, n_seeds, n_epochs)``.  ``train_*`` are
    evaluated on the whole training set in evaluation mode (no dropout) after each epoch, so
    they are comparable with ``val_*`` and ``test_*``.
    """

    labels: tuple[str, ...]
    seeds: tuple[int, ...]
    epochs: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    models: tuple = ()  # models[i][j]: trained model of setting i, seed j (if keep_models)


def _as_schedule(setting, index: int) -> DropoutSchedule:
    if isinstance(setting, DropoutSchedule):
        return setting
    return DropoutSchedule(check_probability(setting, f"settings[{index}]"))


def mnist1d_dropout_experiment(
    settings: Sequence = (0.0, 0.5),
    seeds: Sequence[int] = (0, 1, 2),
    *,
    epochs: int = 40,
    n_samples: int = 4000,
    hidden: Sequence[int] = (256, 256),
    lr: float = 1e-3,
    batch_size: int = 128,
    label_noise: float = 0.0,
    data_seed: int = 0,
    keep_models: bool = False,
) -> DropoutCurves:
    """Train an MLP on MNIST-1D for every dropout setting and seed; return the curves.

    For every ``setting`` (a drop probability, or a :class:`DropoutSchedule`) and every seed:
    ``seed_everything(seed)``, build ``mlp(40, hidden, 10, dropout=...)`` (so the same seed
    gives the same initial weights in every setting: dropout modules have no parameters),
    train it with Adam (``lr``, no weight decay) for ``epochs`` epochs on the training split
    of ``mnist1d(n_samples, seed=data_seed, label_noise=label_noise)`` with
    :func:`weightdecay.training.train`, and record after every epoch the loss and accuracy
    on the training, validation and test splits in evaluation mode.  The data are the same for
    every seed; the seed changes the initialisation, the mini-batch order and the masks.
    With ``keep_models=True`` the trained models are returned in ``models[setting][seed]``.
    """
    import torch

    from .data import mnist1d
    from .reproducibility import seed_everything
    from .training import RecordMetrics, mlp, train

    schedules = [_as_schedule(s, i) for i, s in enumerate(settings)]
    if not schedules:
        raise ValueError("settings must contain at least one drop probability or DropoutSchedule; got none")
    seeds = tuple(check_positive_int(s, "seed", minimum=0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed; got none")
    epochs = check_positive_int(epochs, "epochs")
    lr = float(lr)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr}")
    data = mnist1d(n_samples, seed=data_seed, label_noise=label_noise)
    shape = (len(schedules), len(seeds), epochs)
    out = {key: np.full(shape, np.nan) for key in CURVE_KEYS}
    models = [[None] * len(seeds) for _ in schedules]
    for i, schedule in enumerate(schedules):
        for j, seed in enumerate(seeds):
            seed_everything(seed)
            model = mlp(40, hidden, 10, dropout=schedule.p)
            callbacks = [RecordMetrics(train=data.train, test=data.test)]
            if schedule.p > 0:
                callbacks.insert(0, schedule)
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            hist = train(model, data.train, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                         val_data=data.val, callbacks=callbacks, seed=seed)
            for key, source in (("train_loss", "eval_train_loss"), ("train_acc", "eval_train_acc"),
                                ("val_loss", "val_loss"), ("val_acc", "val_acc"),
                                ("test_loss", "test_loss"), ("test_acc", "test_acc")):
                out[key][i, j] = hist[source]
            if keep_models:
                models[i][j] = model.eval()
    return DropoutCurves(
        labels=tuple(s.label for s in schedules),
        seeds=seeds,
        epochs=np.arange(1, epochs + 1),
        models=tuple(tuple(row) for row in models) if keep_models else (),
        **out,
    )
