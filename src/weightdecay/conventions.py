r"""Converting other libraries' regularisation parameters to the book's λ.

The book's objective is :math:`\frac{1}{2n}\lVert y - Xw\rVert^2 + \lambda R(w)` with
:math:`R = \tfrac12\lVert w\rVert^2` (ridge / weight decay) or :math:`R = \lVert w\rVert_1`
(lasso).  Two objectives that differ by a positive constant factor have the same minimiser,
so each conversion below divides the other library's objective by that factor and reads off
λ.

Each library's parameter, the objective it minimises, and the book's λ:

- PyTorch ``SGD``/``Adam`` with ``weight_decay=c`` on the loss :math:`\frac1{2n}\lVert r\rVert^2`:
  :math:`\frac{1}{2n}\lVert r\rVert^2 + \frac c2\lVert w\rVert^2`, so λ = ``c``;
- PyTorch ``weight_decay=c`` with ``MSELoss``:
  :math:`\frac1n\lVert r\rVert^2 + \frac c2\lVert w\rVert^2`, so λ = ``c / 2``;
- Keras ``l2(c)`` with ``"mse"``: :math:`\frac1n\lVert r\rVert^2 + c\lVert w\rVert^2`,
  so λ = ``c``;
- scikit-learn ``Ridge(alpha=a)``: :math:`\lVert r\rVert^2 + a\lVert w\rVert^2`, so
  λ = ``a / n``;
- scikit-learn ``Lasso(alpha=a)``: :math:`\frac1{2n}\lVert r\rVert^2 + a\lVert w\rVert_1`,
  so λ = ``a``.

Here :math:`r = y - Xw`.  PyTorch's ``AdamW(weight_decay=c)`` is *decoupled* decay, not a
penalty, and has no λ under Adam (see the optimiser chapter); under plain SGD, decoupled
decay ``w ← w − η c w`` is the same update as the penalty with λ = ``c``.
"""

from __future__ import annotations

from .validation import check_lambda, check_positive_int

__all__ = [
    "lam_from_torch_weight_decay",
    "torch_weight_decay_from_lam",
    "lam_from_keras_l2",
    "keras_l2_from_lam",
    "lam_from_sklearn_ridge_alpha",
    "sklearn_ridge_alpha_from_lam",
    "lam_from_sklearn_lasso_alpha",
    "sklearn_lasso_alpha_from_lam",
]

# Factor by which a data term exceeds the book's (1/2n)||r||^2.
_DATA_TERM_FACTOR = {"half_mse": 1.0, "mse": 2.0}


def _loss_factor(loss: str) -> float:
    try:
        return _DATA_TERM_FACTOR[loss]
    except KeyError:
        raise ValueError(f"loss must be one of {sorted(_DATA_TERM_FACTOR)}; got {loss!r}") from None


def lam_from_torch_weight_decay(weight_decay: float, *, loss: str = "half_mse") -> float:
    """Book λ equivalent to PyTorch ``SGD``/``Adam`` ``weight_decay`` (an L2 penalty gradient).

    PyTorch adds ``weight_decay * w`` to the gradient, i.e. the penalty
    ``(weight_decay / 2) * ||w||²``.  With the data term ``loss="half_mse"``
    (``0.5 * mse``, the book's) λ = ``weight_decay``; with ``nn.MSELoss`` (``loss="mse"``,
    twice the book's data term) λ = ``weight_decay / 2``.
    """
    return check_lambda(weight_decay, "weight_decay") / _loss_factor(loss)


def torch_weight_decay_from_lam(lam: float, *, loss: str = "half_mse") -> float:
    """Inverse of :func:`lam_from_torch_weight_decay`."""
    return check_lambda(lam) * _loss_factor(loss)


def lam_from_keras_l2(l2: float, *, loss: str = "mse") -> float:
    """Book λ equivalent to Keras ``regularizers.l2(l2)``, which adds ``l2 * sum(w**2)``.

    With Keras' ``"mse"`` loss (twice the book's data term) λ = ``l2``; with a data term
    equal to the book's (``loss="half_mse"``) λ = ``2 * l2``.
    """
    return 2.0 * check_lambda(l2, "l2") / _loss_factor(loss)


def keras_l2_from_lam(lam: float, *, loss: str = "mse") -> float:
    """Inverse of :func:`lam_from_keras_l2`."""
    return check_lambda(lam) * _loss_factor(loss) / 2.0


def lam_from_sklearn_ridge_alpha(alpha: float, n_samples: int) -> float:
    """Book λ equivalent to scikit-learn ``Ridge(alpha)`` on ``n_samples`` rows: ``alpha / n``.

    ``Ridge`` minimises ``||y − Xw||² + alpha ||w||²`` (sums, not means); dividing by ``2n``
    gives the book's objective with λ = ``alpha / n``.
    """
    n = check_positive_int(n_samples, "n_samples")
    return check_lambda(alpha, "alpha") / n


def sklearn_ridge_alpha_from_lam(lam: float, n_samples: int) -> float:
    """Inverse of :func:`lam_from_sklearn_ridge_alpha`: ``alpha = n * lam``."""
    n = check_positive_int(n_samples, "n_samples")
    return check_lambda(lam) * n


def lam_from_sklearn_lasso_alpha(alpha: float) -> float:
    """Book λ equivalent to scikit-learn ``Lasso(alpha)``: the same objective, λ = ``alpha``."""
    return check_lambda(alpha, "alpha")


def sklearn_lasso_alpha_from_lam(lam: float) -> float:
    """Inverse of :func:`lam_from_sklearn_lasso_alpha`."""
    return check_lambda(lam)
