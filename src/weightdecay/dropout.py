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
   :func:`dropout_path` minimise it, and :func:`dropout_risk` gives the exact bias and
   variance of that minimiser.  With standardised columns, :math:`\lVert x_j\rVert^2 = n`,
   the penalty is the book's :math:`\frac\lambda2\lVert w\rVert^2` with
   :math:`\lambda = p/(1-p)` (:func:`dropout_ridge_lambda`).  Gaussian noise added to
   the inputs is the same story with :math:`\lambda = \sigma^2`
   (:func:`expected_input_noise_loss`, :func:`monte_carlo_input_noise_loss`).

3. Networks (need torch): :func:`set_dropout`, :func:`remove_dropout`,
   :func:`mc_dropout_predict` and the training callback :class:`DropoutSchedule` (constant,
   early and late dropout, Liu et al. 2023).  The book's MLP-on-MNIST-1D comparison over
   several seeds is :func:`weightdecay.experiments.dropout.mnist1d_dropout_experiment`.

torch is imported only inside the functions that need it, so the linear-regression part
works without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import _spectral
from ._deprecation import moved_names
from .bias_variance import RiskCurve as _RiskCurve
from .bias_variance import _check_problem
from .linear import _ridge_coefs
from .progress import progress_bar
from .validation import (
    check_learning_rate,
    check_matrix,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    check_vector,
    check_X_y,
)

__all__ = [
    "MAX_ENUMERATION_FEATURES",
    "dropout",
    "dropout_ridge_lambda",
    "expected_dropout_loss",
    "expected_dropout_gradient",
    "enumerate_dropout_loss",
    "MonteCarloEstimate",
    "monte_carlo_dropout_loss",
    "dropout_ridge",
    "dropout_risk",
    "expected_input_noise_loss",
    "monte_carlo_input_noise_loss",
    "dropout_path",
    "fit_linear_dropout",
    "fit_linear_dropout_seeds",
    "set_dropout",
    "remove_dropout",
    "mc_dropout_predict",
    "DropoutSchedule",
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
        Where the factor :math:`q` goes: a division in training (``"inverted"``) or a
        multiplication in evaluation (``"classic"``).

    Returns
    -------
    torch.Tensor
        Same shape, dtype and device as ``x``.

    Raises
    ------
    ValueError
        If ``x`` is not a finite floating-point tensor, ``p`` is not in ``[0, 1)``,
        ``scaling`` is unknown, or ``generator`` is not a ``torch.Generator`` on ``x``'s device.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> x = torch.ones(1000)
    >>> out = wd.dropout.dropout(x, 0.5, generator=torch.Generator().manual_seed(0))
    >>> sorted(set(out.tolist()))  # dropped, or kept and divided by q = 0.5
    [0.0, 2.0]
    >>> bool(0.4 < (out == 0).double().mean() < 0.6)  # about half are dropped
    True
    >>> wd.dropout.dropout(x, 0.5, training=False).equal(x)  # evaluation: the identity
    True
    >>> wd.dropout.dropout(x[:3], 0.5, training=False, scaling="classic").tolist()
    [0.5, 0.5, 0.5]
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
def dropout_ridge_lambda(p: float) -> float:
    r"""The book's ridge :math:`\lambda = p/(1-p)` that dropout with drop probability ``p`` equals.

    The equality holds for standardised features (:math:`\lVert x_j\rVert^2 = n`).  It grows from 0 at ``p = 0`` to infinity as ``p → 1``; ``p = 0.5`` gives ``λ = 1``.

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability.

    Returns
    -------
    float
        :math:`\lambda = p/(1-p)`.

    Raises
    ------
    ValueError
        If ``p`` is not in ``[0, 1)``.

    Examples
    --------
    >>> import weightdecay as wd
    >>> [round(wd.dropout.dropout_ridge_lambda(p), 4) for p in (0.0, 0.2, 0.5, 0.9)]
    [0.0, 0.25, 1.0, 9.0]
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

    Returns
    -------
    float
        The expected loss.

    Raises
    ------
    ValueError
        If the shapes of ``X``, ``y`` and ``w`` do not match, an entry is not finite, or
        ``p`` is not in ``[0, 1)``.

    Examples
    --------
    With a perfect fit only the penalty is left:
    :math:`\frac{1}{2\cdot 2}\cdot\frac{0.5}{0.5}\,(1^2\cdot 1 + 1^2\cdot 4) = 1.25`.

    >>> import numpy as np
    >>> import weightdecay as wd
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> y, w = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> print(wd.dropout.expected_dropout_loss(X, y, w, 0.5))
    1.25
    >>> print(wd.dropout.enumerate_dropout_loss(X, y, w, 0.5))  # the average over all 4 masks
    1.25
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

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs.
    y : array of shape (n,)
        Targets.
    w : array of shape (d,)
        Weights at which the gradient is taken.
    p : float in [0, 1)
        Drop probability of each input feature.

    Returns
    -------
    array of shape (d,)
        The gradient.

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, or ``p`` is not in ``[0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> y, w = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> wd.dropout.expected_dropout_gradient(X, y, w, 0.5)  # the penalty's gradient alone
    array([0.5, 2. ])
    >>> w_hat = wd.dropout.dropout_ridge(X, y, 0.5)  # the minimiser: zero gradient
    >>> bool(np.abs(wd.dropout.expected_dropout_gradient(X, y, w_hat, 0.5)).max() < 1e-12)
    True
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

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs, with ``d <= 16``.
    y : array of shape (n,)
        Targets.
    w : array of shape (d,)
        Weights.
    p : float in [0, 1)
        Drop probability of each input feature.

    Returns
    -------
    float
        The expected loss, summed mask by mask.

    Raises
    ------
    ValueError
        If ``X`` has more than 16 columns, the shapes do not match, an entry is not finite,
        or ``p`` is not in ``[0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> rng = np.random.default_rng(0)
    >>> X, y, w = rng.normal(size=(20, 5)), rng.normal(size=20), rng.normal(size=5)
    >>> exact = wd.dropout.enumerate_dropout_loss(X, y, w, 0.3)  # 2**5 = 32 masks
    >>> closed = wd.dropout.expected_dropout_loss(X, y, w, 0.3)
    >>> bool(abs(exact - closed) < 1e-12 * closed)
    True
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
    """A Monte Carlo mean with its standard error (``std / sqrt(n_samples)``).

    Returned by :func:`monte_carlo_dropout_loss` and :func:`monte_carlo_input_noise_loss`.

    Parameters
    ----------
    mean : float
        Mean of the sampled values.
    std_error : float
        Their standard deviation (``ddof=1``) divided by ``sqrt(n_samples)``.
    n_samples : int
        Number of samples.

    Examples
    --------
    >>> from weightdecay.dropout import MonteCarloEstimate
    >>> est = MonteCarloEstimate(mean=3.2, std_error=0.05, n_samples=400)
    >>> print(f"{est.mean} ± {2 * est.std_error}")
    3.2 ± 0.1
    >>> mean, std_error, n_samples = est  # a tuple
    >>> n_samples
    400
    """

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
    X : array of shape (n, d)
        Inputs.
    y : array of shape (n,)
        Targets.
    w : array of shape (d,)
        Weights.
    p : float in [0, 1)
        Drop probability of each input feature.
    n_samples : int >= 2
        Number of masks drawn.
    rng : numpy.random.Generator or seed, optional
        Source of the masks (``np.random.default_rng(rng)``).

    Returns
    -------
    MonteCarloEstimate
        Mean of the sampled losses, its standard error and ``n_samples``.

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, ``p`` is not in ``[0, 1)`` or
        ``n_samples < 2``.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> rng = np.random.default_rng(0)
    >>> X, y, w = rng.normal(size=(50, 3)), rng.normal(size=50), rng.normal(size=3)
    >>> est = wd.dropout.monte_carlo_dropout_loss(X, y, w, 0.5, 2000, rng=1)
    >>> est.n_samples
    2000
    >>> closed = wd.dropout.expected_dropout_loss(X, y, w, 0.5)
    >>> bool(abs(est.mean - closed) < 4 * est.std_error)  # within 4 standard errors
    True
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

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs.
    y : array of shape (n,)
        Targets.
    w : array of shape (d,)
        Weights.
    sigma : float >= 0
        Standard deviation of the noise added to every input.

    Returns
    -------
    float
        The expected loss.

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, or ``sigma < 0``.

    Examples
    --------
    A perfect fit leaves only :math:`\frac{\sigma^2}{2}\lVert w\rVert^2 = \frac{0.25}{2}\cdot 2`:

    >>> import numpy as np
    >>> import weightdecay as wd
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> y, w = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    >>> print(wd.dropout.expected_input_noise_loss(X, y, w, 0.5))
    0.25
    """
    X, y = check_X_y(X, y)
    w = check_vector(w, "w", size=X.shape[1])
    sigma = check_positive_float(sigma, "sigma", allow_zero=True)
    n = X.shape[0]
    return float(np.sum((y - X @ w) ** 2) / (2 * n) + sigma**2 * np.sum(w**2) / 2)


def monte_carlo_input_noise_loss(X, y, w, sigma: float, n_samples: int, rng=None) -> MonteCarloEstimate:
    r"""Monte Carlo estimate of the expected loss under Gaussian input noise.

    The loss is :math:`\mathbb E_E\big[\frac1{2n}\lVert y - (X+E)w\rVert^2\big]` with
    :math:`E_{ij} \sim \mathcal N(0, \sigma^2)` i.i.d.  Draws ``n_samples`` noise matrices; checks :func:`expected_input_noise_loss` without
    using its formula.

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs.
    y : array of shape (n,)
        Targets.
    w : array of shape (d,)
        Weights.
    sigma : float >= 0
        Standard deviation of the noise.
    n_samples : int >= 2
        Number of noise matrices drawn.
    rng : numpy.random.Generator or seed, optional
        Source of the noise (``np.random.default_rng(rng)``).

    Returns
    -------
    MonteCarloEstimate
        Mean of the sampled losses, its standard error and ``n_samples``.

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, ``sigma < 0`` or ``n_samples < 2``.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> rng = np.random.default_rng(0)
    >>> X, y, w = rng.normal(size=(50, 3)), rng.normal(size=50), rng.normal(size=3)
    >>> est = wd.dropout.monte_carlo_input_noise_loss(X, y, w, 0.5, 2000, rng=1)
    >>> closed = wd.dropout.expected_input_noise_loss(X, y, w, 0.5)
    >>> bool(abs(est.mean - closed) < 4 * est.std_error)
    True
    """
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

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs.
    y : array of shape (n,)
        Targets.
    ps : sequence of float in [0, 1)
        Drop probabilities.

    Returns
    -------
    array of shape (len(ps), d)
        Row ``k`` is :func:`dropout_ridge` ``(X, y, ps[k])``.

    Raises
    ------
    ValueError
        If ``ps`` is empty or not 1-D, an entry is not in ``[0, 1)``, or ``X`` and ``y``
        do not match.

    Examples
    --------
    On standardised features the dropout path is the ridge path with :math:`\lambda = p/(1-p)`:

    >>> import numpy as np
    >>> import weightdecay as wd
    >>> rng = np.random.default_rng(0)
    >>> X, y, _ = wd.linear.standardize(rng.normal(size=(30, 3)), rng.normal(size=30))
    >>> path = wd.dropout.dropout_path(X, y, [0.0, 0.5, 0.9])
    >>> path.shape
    (3, 3)
    >>> bool(np.allclose(path[1], wd.linear.ridge(X, y, 1.0)))
    True
    >>> bool(np.all(np.abs(path[2]) < np.abs(path[0])))  # stronger dropout, smaller weights
    True
    """
    X, y = check_X_y(X, y)
    _, lams = _dropout_lambdas(ps)
    scale = _column_scale(X)
    V = _ridge_coefs(X / scale, y, lams)  # ridge_path's solver: no intercept here, on purpose
    return V / scale


def _dropout_lambdas(ps) -> tuple[np.ndarray, np.ndarray]:
    """The drop probabilities ``ps`` as a validated 1-D array, and their ridge λ = p/(1-p)."""
    try:
        ps = np.atleast_1d(np.asarray(ps, dtype=float))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ps must be a sequence of drop probabilities; got {ps!r}") from exc
    if ps.ndim != 1 or ps.size == 0:
        raise ValueError(f"ps must be a non-empty 1-D sequence of drop probabilities; got shape {ps.shape}")
    lams = np.array([dropout_ridge_lambda(check_probability(p, f"ps[{k}]")) for k, p in enumerate(ps)])
    return ps, lams


def dropout_ridge(X, y, p: float) -> np.ndarray:
    r"""Minimiser of :func:`expected_dropout_loss` over ``w``: the "dropout ridge" estimate.

    .. math::

        \hat w(p) = \Big(X^\top X + \frac{p}{1-p}\,\mathrm{diag}\big(\lVert x_j\rVert^2\big)\Big)^{-1} X^\top y .

    With standardised features (:math:`\lVert x_j\rVert^2 = n`, e.g. after
    :func:`weightdecay.linear.standardize`) the penalty matrix is :math:`nI\cdot p/(1-p)` and
    this is exactly ``weightdecay.linear.ridge(X, y, p / (1 - p))``.  See :func:`dropout_path`.

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs.
    y : array of shape (n,)
        Targets.
    p : float in [0, 1)
        Drop probability of each input feature; ``0`` gives least squares.

    Returns
    -------
    array of shape (d,)
        The minimiser :math:`\hat w(p)`.

    Raises
    ------
    ValueError
        If ``p`` is not in ``[0, 1)`` or ``X`` and ``y`` do not match.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> rng = np.random.default_rng(0)
    >>> X, y, _ = wd.linear.standardize(rng.normal(size=(30, 3)), rng.normal(size=30))
    >>> w = wd.dropout.dropout_ridge(X, y, 0.2)
    >>> bool(np.allclose(w, wd.linear.ridge(X, y, 0.25)))  # lambda = 0.2 / 0.8
    True
    """
    check_probability(p, "p")
    return dropout_path(X, y, [p])[0]


def dropout_risk(X, beta, sigma, ps, *, target: str = "coef") -> _RiskCurve:
    r"""Exact squared bias, variance and MSE of the dropout solution for every drop probability in ``ps``.

    The minimiser of the expected dropout loss (:func:`dropout_path`, :func:`dropout_ridge`) is
    linear in ``y``: with :math:`Z = \sqrt n\,XD^{-1}`, :math:`D = \mathrm{diag}(\lVert x_j\rVert)`,
    its thin SVD :math:`Z = U\,\mathrm{diag}(d)\,V^\top` and :math:`\lambda = p/(1-p)`,

    .. math::

        \hat w(p) = A(p)\,y, \qquad
        A(p) = \sqrt n\,D^{-1}\,V\,\mathrm{diag}\Big(\frac{d_j}{d_j^2 + n\lambda}\Big)\,U^\top ,

    a generalised ridge (its penalty weighs :math:`w_j` by :math:`\lVert x_j\rVert^2`).  Under
    :math:`y = X\beta + \sigma\varepsilon` its risk is that of a linear estimator
    (:func:`weightdecay.bias_variance.linear_estimator_risk`):
    :math:`\lVert(AX - I)\beta\rVert^2 + \sigma^2\lVert A\rVert_F^2` for ``target="coef"``, and
    :math:`\frac1n\lVert X(AX - I)\beta\rVert^2 + \frac{\sigma^2}{n}\lVert XA\rVert_F^2` for
    ``target="fit"``.  On standardised columns (:math:`\lVert x_j\rVert^2 = n`) it is
    :func:`weightdecay.bias_variance.ridge_risk` at :math:`\lambda = p/(1-p)`.  The matrices
    :math:`A(p)` are built explicitly: memory ``len(ps) * p * n`` floats.

    Parameters
    ----------
    X : array of shape (n, d)
        The fixed design.
    beta : array of shape (d,)
        The true coefficients.
    sigma : float >= 0
        The noise standard deviation.
    ps : sequence of float in [0, 1)
        Drop probabilities (the path argument).
    target : {"coef", "fit"}
        Error of the coefficients or of the in-sample fitted values.

    Returns
    -------
    weightdecay.bias_variance.RiskCurve
        Squared bias, variance and MSE at every drop probability; its ``grid`` is ``ps``.

    Raises
    ------
    ValueError
        If ``beta`` does not match the columns of ``X``, ``sigma`` is negative, ``ps`` is
        empty or has an entry outside ``[0, 1)``, or ``target`` is not ``"coef"`` or ``"fit"``.

    Examples
    --------
    With :math:`X = \sqrt2\,I_2` (n = 2, standardised columns), :math:`\beta = (1, 1)` and
    σ = 1, dropout with ``p = 0.5`` is ridge with λ = 1, which halves every coefficient:

    >>> import numpy as np
    >>> import weightdecay as wd
    >>> X = np.sqrt(2) * np.eye(2)
    >>> risk = wd.dropout.dropout_risk(X, [1.0, 1.0], 1.0, [0.0, 0.5])
    >>> print(np.round(risk.bias2, 6) + 0.0, np.round(risk.variance, 6), np.round(risk.mse, 6))
    [0.  0.5] [1.   0.25] [1.   0.75]
    >>> ridge = wd.bias_variance.ridge_risk(X, [1.0, 1.0], 1.0, [0.0, 1.0])
    >>> bool(np.allclose(risk.mse, ridge.mse))
    True
    """
    X, beta, sigma = _check_problem(X, beta, sigma)
    ps, lams = _dropout_lambdas(ps)
    target = _spectral.check_target(target)
    n = X.shape[0]
    scale = _column_scale(X)
    U, d, Vt = _spectral.thin_svd(X / scale)
    factors = d[None, :] / (d[None, :] ** 2 + n * lams[:, None])  # (L, r), as in dropout_path's ridge
    A = (Vt.T[None, :, :] * factors[:, None, :]) @ U.T / scale[None, :, None]  # (L, d, n)
    bias2, variance = _spectral.linear_estimator_risk(X, beta, sigma, A, target=target)
    return _RiskCurve(ps, bias2, variance, target)


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
    X, y, p: float, *, epochs: int = 200, lr: float = 0.05, batch_size: int = 32, seed: int = 0,
    progress: bool | None = None,
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
    X : array of shape (n, d)
        Inputs, centred (the model has no intercept).
    y : array of shape (n,)
        Targets, centred.
    p : float in [0, 1)
        Drop probability of each input.
    epochs : int >= 2
        Passes over the data; the average is taken over epochs ``> epochs // 2``.
    lr : float > 0
        SGD step size.
    batch_size : int
        Examples per mini-batch.
    seed : int >= 0
        Seeds the initial weights, the masks and the batch order.
    progress : bool or None
        A progress bar over epochs (see :func:`weightdecay.progress.progress_enabled`;
        ``None`` follows ``WEIGHTDECAY_PROGRESS``).  It never changes the result.

    Returns
    -------
    array of shape (d,)
        The weights averaged over the second half of training.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` do not match, ``p`` is not in ``[0, 1)``, ``epochs < 2``,
        ``lr <= 0`` or ``seed < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> rng = np.random.default_rng(0)
    >>> X_raw = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.2]
    >>> y_raw = X_raw @ [1.0, 0.5, -2.0] + rng.normal(size=200)
    >>> X, y, _ = wd.linear.standardize(X_raw, y_raw)
    >>> w = wd.dropout.fit_linear_dropout(X, y, 0.5, epochs=40, batch_size=50, progress=False)
    >>> w.shape
    (3,)
    >>> w_drop, w_ls = wd.dropout.dropout_ridge(X, y, 0.5), wd.dropout.dropout_ridge(X, y, 0.0)
    >>> def distance(v):
    ...     return np.linalg.norm(v - w) / np.linalg.norm(w_drop)
    >>> bool(distance(w_drop) < 0.1 < distance(w_ls))  # near dropout ridge, far from least squares
    True
    """
    import torch
    from torch import nn

    from .training import half_mse_loss, train

    X, y = check_X_y(X, y)
    p = check_probability(p, "p")
    epochs = check_positive_int(epochs, "epochs", minimum=2)
    lr = check_learning_rate(lr)
    seed = check_nonnegative_int(seed, "seed")
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Dropout(p), nn.Linear(X.shape[1], 1, bias=False))
    average = _IterateAverage(first=epochs // 2 + 1)

    train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=lr), epochs=epochs,
          batch_size=batch_size, loss_fn=half_mse_loss, callbacks=[average], seed=seed,
          progress=progress)
    return average.mean


def fit_linear_dropout_seeds(X, y, p: float, seeds: Sequence[int], *, progress: bool | None = None,
                             **kwargs) -> np.ndarray:
    """:func:`fit_linear_dropout` once per seed: the averaged weights, ``(len(seeds), d)``.

    Every seed changes the initial weights, the masks and the batch order; the spread of the
    rows shows how much of the distance to :func:`dropout_ridge` is SGD noise.

    Parameters
    ----------
    X : array of shape (n, d)
        Inputs, centred.
    y : array of shape (n,)
        Targets, centred.
    p : float in [0, 1)
        Drop probability of each input.
    seeds : sequence of int
        One run per seed, in this order.
    progress : bool or None
        A progress bar over the seeds (see :func:`weightdecay.progress.progress_enabled`;
        ``None`` follows ``WEIGHTDECAY_PROGRESS``).  It never changes the result.
    **kwargs
        ``epochs``, ``lr``, ``batch_size``: passed on to :func:`fit_linear_dropout`.

    Returns
    -------
    array of shape (len(seeds), d)
        Row ``k`` is ``fit_linear_dropout(X, y, p, seed=seeds[k], **kwargs)``.

    Raises
    ------
    ValueError
        If ``seeds`` is empty or not a sequence, or :func:`fit_linear_dropout` rejects an
        argument.

    Examples
    --------
    >>> import numpy as np
    >>> import weightdecay as wd
    >>> rng = np.random.default_rng(0)
    >>> X, y, _ = wd.linear.standardize(rng.normal(size=(60, 3)), rng.normal(size=60))
    >>> W = wd.dropout.fit_linear_dropout_seeds(X, y, 0.3, [0, 1], epochs=4, batch_size=20, progress=False)
    >>> W.shape
    (2, 3)
    >>> w1 = wd.dropout.fit_linear_dropout(X, y, 0.3, epochs=4, batch_size=20, seed=1, progress=False)
    >>> bool(np.array_equal(W[1], w1))
    True
    """
    try:
        seeds = tuple(seeds)
    except TypeError as exc:
        raise ValueError(f"seeds must be a sequence of integers >= 0; got {seeds!r}") from exc
    if not seeds:
        raise ValueError("seeds must contain at least one seed; got none")
    return np.stack([fit_linear_dropout(X, y, p, seed=seed, progress=False, **kwargs)
                     for seed in progress_bar(seeds, desc="seeds", progress=progress)])


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

    Parameters
    ----------
    model : nn.Module
        A network with at least one dropout module (``nn.Dropout``, ``nn.Dropout1d`` to
        ``nn.Dropout3d``, ``nn.AlphaDropout``, ``nn.FeatureAlphaDropout``).
    p : float in [0, 1)
        The new drop probability.

    Returns
    -------
    int
        The number of modules changed.

    Raises
    ------
    ValueError
        If ``model`` is not an ``nn.Module``, ``p`` is not in ``[0, 1)``, or ``model`` has no
        dropout module (build it with ``weightdecay.training.mlp(..., dropout=q)`` for any
        ``q > 0``): silently doing nothing would hide a mistake.

    Examples
    --------
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> net = wd.training.mlp(4, [8, 8], 2, dropout=0.1)
    >>> wd.dropout.set_dropout(net, 0.3)
    2
    >>> [m.p for m in net.modules() if isinstance(m, nn.Dropout)]
    [0.3, 0.3]
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

    Parameters
    ----------
    model : nn.Module
        The network; it is not changed.

    Returns
    -------
    nn.Module
        A deep copy without dropout modules.

    Raises
    ------
    ValueError
        If ``model`` is not an ``nn.Module``.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> net = wd.training.mlp(4, [8], 2, dropout=0.5)
    >>> plain = wd.dropout.remove_dropout(net)
    >>> [type(layer).__name__ for layer in plain]
    ['Linear', 'ReLU', 'Identity', 'Linear']
    >>> x = torch.randn(3, 4)
    >>> torch.equal(net.eval()(x), plain.eval()(x))
    True
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

    Parameters
    ----------
    model : nn.Module
        A network with dropout modules.
    X : array of shape (m, in_features)
        Inputs, converted to the model's floating dtype and device.
    n_samples : int >= 1
        Number of random-mask passes :math:`K`.
    seed : int
        Seeds torch's global generator for the masks; its state is restored afterwards.

    Returns
    -------
    array of shape (m, out_features)
        The average output, in the model's floating dtype.  The model's mode (training or
        evaluation) is restored.

    Raises
    ------
    ValueError
        If ``model`` is not an ``nn.Module``, ``n_samples < 1`` or ``X`` is not a finite matrix.

    Examples
    --------
    For a network that is linear in the dropped units the average tends to the evaluation
    output (the weight-scaling rule):

    >>> import numpy as np
    >>> import torch
    >>> from torch import nn
    >>> import weightdecay as wd
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Dropout(0.5), nn.Linear(3, 1, bias=False))
    >>> X = np.random.default_rng(0).normal(size=(5, 3))
    >>> mc = wd.dropout.mc_dropout_predict(net, X, 2000, seed=0)
    >>> mc.shape, mc.dtype
    ((5, 1), dtype('float32'))
    >>> with torch.no_grad():
    ...     single = net.eval()(torch.as_tensor(X, dtype=torch.float32)).numpy()
    >>> bool(np.abs(mc - single).max() < 0.05)
    True
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

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability while dropout is on.
    start_epoch : int >= 1, optional
        First epoch with dropout (default: the first).
    stop_epoch : int >= 1, optional
        First epoch without dropout again (default: never); must be ``> start_epoch``.

    Attributes
    ----------
    label : str
        Short description, e.g. ``"early dropout p=0.1 (epochs < 10)"``.

    Raises
    ------
    ValueError
        If ``p`` is not in ``[0, 1)``, an epoch is not a positive integer, or
        ``stop_epoch <= start_epoch``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> import weightdecay as wd
    >>> from weightdecay.dropout import DropoutSchedule
    >>> early = DropoutSchedule(0.3, stop_epoch=3)
    >>> early.label
    'early dropout p=0.3 (epochs < 3)'
    >>> [early.rate(epoch) for epoch in range(1, 5)]
    [0.3, 0.3, 0.0, 0.0]
    >>> DropoutSchedule(0.3, start_epoch=3).label
    'late dropout p=0.3 (epochs >= 3)'

    As a callback of :func:`weightdecay.training.train`:

    >>> _ = torch.manual_seed(0)
    >>> net = wd.training.mlp(4, [8], 2, dropout=0.3)
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(32, 4)).astype(np.float32), rng.integers(0, 2, size=32)
    >>> optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> hist = wd.training.train(net, (X, y), optimizer=optimizer, epochs=4, callbacks=[early],
    ...                          progress=False)
    >>> hist["dropout_p"]
    [0.3, 0.3, 0.0, 0.0]
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
        """Drop probability in (1-based) ``epoch``.

        Parameters
        ----------
        epoch : int >= 1
            The epoch.

        Returns
        -------
        float
            ``p`` if ``start_epoch <= epoch < stop_epoch``, else ``0.0``.

        Raises
        ------
        ValueError
            If ``epoch`` is not a positive integer.
        """
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
        """Set every dropout module of ``model`` to :meth:`rate` ``(epoch)``.

        Parameters
        ----------
        epoch : int >= 1
            The epoch about to start.
        model : nn.Module
            The network being trained; it must have dropout modules.
        """
        set_dropout(model, self.rate(epoch))

    def on_epoch_end(self, epoch: int, model, logs: dict) -> bool:
        """Record the epoch's drop probability in ``logs["dropout_p"]``.

        Parameters
        ----------
        epoch : int >= 1
            The epoch that ended.
        model : nn.Module
            The network being trained (unused).
        logs : dict
            The epoch's logs, changed in place.

        Returns
        -------
        bool
            ``False``: the schedule never stops training.
        """
        logs["dropout_p"] = self.rate(epoch)
        return False


# Moved to weightdecay.experiments (the MNIST-1D comparison fixes a dataset, an architecture
# and a grid); the old names stay importable, with a DeprecationWarning, for one release.
_MOVED = {
    "CURVE_KEYS": "weightdecay.experiments.grid.CURVE_KEYS",
    "SeedComparison": "weightdecay.experiments.grid.SeedComparison",
    "SeedCurves": "weightdecay.experiments.grid.SeedCurves",
    "DropoutCurves": "weightdecay.experiments.dropout.DropoutCurves",
    "mnist1d_dropout_experiment": "weightdecay.experiments.dropout.mnist1d_dropout_experiment",
}
# Renamed in this module (weightdecay.early_stopping has its own λ for gradient descent, gd_ridge_lambda).
_RENAMED = {"equivalent_ridge_lambda": "weightdecay.dropout.dropout_ridge_lambda"}
__getattr__ = moved_names(__name__, _MOVED, renamed=_RENAMED)
