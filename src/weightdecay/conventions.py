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
    r"""Book λ equivalent to PyTorch ``SGD``/``Adam`` ``weight_decay`` (an L2 penalty gradient).

    PyTorch adds ``weight_decay * w`` to the gradient, i.e. the penalty
    ``(weight_decay / 2) * ||w||²``.  With the data term ``loss="half_mse"``
    (``0.5 * mse``, the book's) λ = ``weight_decay``; with ``nn.MSELoss`` (``loss="mse"``,
    twice the book's data term) λ = ``weight_decay / 2``.

    Parameters
    ----------
    weight_decay : float
        The optimiser's ``weight_decay`` (``>= 0``).
    loss : {"half_mse", "mse"}, default "half_mse"
        The data term the optimiser minimises: ``"half_mse"`` is the book's
        :math:`\frac{1}{2n}\lVert r\rVert^2`, ``"mse"`` is ``nn.MSELoss``,
        :math:`\frac1n\lVert r\rVert^2`.

    Returns
    -------
    float
        The book's λ.

    Raises
    ------
    ValueError
        If ``weight_decay`` is negative or not finite, or ``loss`` is not one of the two names.

    See Also
    --------
    torch_weight_decay_from_lam : The inverse conversion.

    Examples
    --------
    >>> from weightdecay.conventions import lam_from_torch_weight_decay
    >>> lam_from_torch_weight_decay(1e-4)
    0.0001
    >>> lam_from_torch_weight_decay(1e-4, loss="mse")
    5e-05
    """
    return check_lambda(weight_decay, "weight_decay") / _loss_factor(loss)


def torch_weight_decay_from_lam(lam: float, *, loss: str = "half_mse") -> float:
    """PyTorch ``weight_decay`` equivalent to the book's λ (inverse of ``lam_from_torch_weight_decay``).

    Parameters
    ----------
    lam : float
        The book's λ (``>= 0``).
    loss : {"half_mse", "mse"}, default "half_mse"
        The data term the optimiser will minimise: ``"half_mse"`` (``0.5 * mse``, the
        book's) or ``"mse"`` (``nn.MSELoss``, twice the book's).

    Returns
    -------
    float
        The ``weight_decay`` to pass to ``torch.optim.SGD`` or ``Adam``: ``lam`` with
        ``"half_mse"``, ``2 * lam`` with ``"mse"``.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite, or ``loss`` is not one of the two names.

    Examples
    --------
    >>> from weightdecay.conventions import torch_weight_decay_from_lam
    >>> torch_weight_decay_from_lam(0.05)
    0.05
    >>> torch_weight_decay_from_lam(0.05, loss="mse")
    0.1
    """
    return check_lambda(lam) * _loss_factor(loss)


def lam_from_keras_l2(l2: float, *, loss: str = "mse") -> float:
    r"""Book λ equivalent to Keras ``regularizers.l2(l2)``, which adds ``l2 * sum(w**2)``.

    With Keras' ``"mse"`` loss (twice the book's data term) λ = ``l2``; with a data term
    equal to the book's (``loss="half_mse"``) λ = ``2 * l2``.

    Parameters
    ----------
    l2 : float
        The regulariser's factor ``l2`` (``>= 0``).
    loss : {"mse", "half_mse"}, default "mse"
        The model's data term: Keras' ``"mse"``, :math:`\frac1n\lVert r\rVert^2`, or the
        book's ``"half_mse"``, :math:`\frac{1}{2n}\lVert r\rVert^2`.

    Returns
    -------
    float
        The book's λ.

    Raises
    ------
    ValueError
        If ``l2`` is negative or not finite, or ``loss`` is not one of the two names.

    See Also
    --------
    keras_l2_from_lam : The inverse conversion.

    Examples
    --------
    >>> from weightdecay.conventions import lam_from_keras_l2
    >>> lam_from_keras_l2(0.01)
    0.01
    >>> lam_from_keras_l2(0.01, loss="half_mse")
    0.02
    """
    return 2.0 * check_lambda(l2, "l2") / _loss_factor(loss)


def keras_l2_from_lam(lam: float, *, loss: str = "mse") -> float:
    """Keras ``regularizers.l2`` factor equivalent to the book's λ (inverse of ``lam_from_keras_l2``).

    Parameters
    ----------
    lam : float
        The book's λ (``>= 0``).
    loss : {"mse", "half_mse"}, default "mse"
        The model's data term: Keras' ``"mse"`` or the book's ``"half_mse"``.

    Returns
    -------
    float
        The factor ``l2`` of ``regularizers.l2(l2)``: ``lam`` with ``"mse"``, ``lam / 2``
        with ``"half_mse"``.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite, or ``loss`` is not one of the two names.

    Examples
    --------
    >>> from weightdecay.conventions import keras_l2_from_lam
    >>> keras_l2_from_lam(0.05)
    0.05
    >>> keras_l2_from_lam(0.05, loss="half_mse")
    0.025
    """
    return check_lambda(lam) * _loss_factor(loss) / 2.0


def lam_from_sklearn_ridge_alpha(alpha: float, n_samples: int) -> float:
    """Book λ equivalent to scikit-learn ``Ridge(alpha)`` on ``n_samples`` rows: ``alpha / n``.

    ``Ridge`` minimises ``||y − Xw||² + alpha ||w||²`` (sums, not means); dividing by ``2n``
    gives the book's objective with λ = ``alpha / n``.

    Parameters
    ----------
    alpha : float
        scikit-learn's ``Ridge`` parameter ``alpha`` (``>= 0``).
    n_samples : int
        Number of rows ``n`` of the data ``Ridge`` is fitted on (the training rows of each
        fold, under cross-validation).

    Returns
    -------
    float
        The book's λ, ``alpha / n_samples``.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or not finite, or ``n_samples`` is not a positive integer.

    See Also
    --------
    sklearn_ridge_alpha_from_lam : The inverse conversion.

    Examples
    --------
    >>> from weightdecay.conventions import lam_from_sklearn_ridge_alpha
    >>> lam_from_sklearn_ridge_alpha(22.1, 442)
    0.05
    """
    n = check_positive_int(n_samples, "n_samples")
    return check_lambda(alpha, "alpha") / n


def sklearn_ridge_alpha_from_lam(lam: float, n_samples: int) -> float:
    """scikit-learn ``Ridge`` ``alpha`` equivalent to the book's λ on ``n_samples`` rows: ``n * lam``.

    The inverse of :func:`lam_from_sklearn_ridge_alpha`.  Because ``alpha`` multiplies a
    sum over rows, the same λ needs a larger ``alpha`` on more data.

    Parameters
    ----------
    lam : float
        The book's λ (``>= 0``).
    n_samples : int
        Number of rows ``n`` of the data ``Ridge`` will be fitted on.

    Returns
    -------
    float
        ``alpha = n_samples * lam``.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite, or ``n_samples`` is not a positive integer.

    Examples
    --------
    >>> from weightdecay.conventions import sklearn_ridge_alpha_from_lam
    >>> sklearn_ridge_alpha_from_lam(0.05, 442)
    22.1
    """
    n = check_positive_int(n_samples, "n_samples")
    return check_lambda(lam) * n


def lam_from_sklearn_lasso_alpha(alpha: float) -> float:
    r"""Book λ equivalent to scikit-learn ``Lasso(alpha)``: the same objective, λ = ``alpha``.

    ``Lasso`` minimises :math:`\frac{1}{2n}\lVert y - Xw\rVert^2 + \alpha\lVert w\rVert_1`,
    the book's objective with :math:`R = \lVert w\rVert_1`, so no factor is needed; the
    function makes the conversion explicit in code.

    Parameters
    ----------
    alpha : float
        scikit-learn's ``Lasso`` parameter ``alpha`` (``>= 0``).

    Returns
    -------
    float
        The book's λ, equal to ``alpha``.

    Raises
    ------
    ValueError
        If ``alpha`` is negative or not finite.

    See Also
    --------
    sklearn_lasso_alpha_from_lam : The inverse conversion.

    Examples
    --------
    >>> from weightdecay.conventions import lam_from_sklearn_lasso_alpha
    >>> lam_from_sklearn_lasso_alpha(0.1)
    0.1
    """
    return check_lambda(alpha, "alpha")


def sklearn_lasso_alpha_from_lam(lam: float) -> float:
    r"""scikit-learn ``Lasso`` ``alpha`` equivalent to the book's λ: the same number.

    Parameters
    ----------
    lam : float
        The book's λ for the penalty :math:`\lambda\lVert w\rVert_1` (``>= 0``).

    Returns
    -------
    float
        ``alpha``, equal to ``lam``.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite.

    Examples
    --------
    >>> from weightdecay.conventions import sklearn_lasso_alpha_from_lam
    >>> sklearn_lasso_alpha_from_lam(0.1)
    0.1
    """
    return check_lambda(lam)
