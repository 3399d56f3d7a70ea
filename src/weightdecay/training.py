"""A small, readable PyTorch training loop shared by the book's deep-learning chapters.

Chapters never write training loops themselves: they build a model and an optimiser and
call :func:`train`, which returns the per-epoch history.  One epoch is::

    for each mini-batch (xb, yb) of a seeded shuffle of the training data:
        loss = loss_fn(model(xb), yb) + penalty(model)      # penalty optional
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    evaluate on the validation set; callbacks may record or stop.

Callbacks are plain objects with any of the methods ``on_epoch_begin(epoch, model)``,
``on_epoch_end(epoch, model, logs)`` (return ``True`` to stop) and
``on_train_end(model, logs)``; see
:class:`weightdecay.early_stopping.EarlyStopping`.

:func:`train` shows a progress bar over epochs (:func:`weightdecay.progress.progress_bar`)
unless ``progress=False`` or the environment variable ``WEIGHTDECAY_PROGRESS=0`` says
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .progress import progress_bar
from .validation import check_positive_int, check_probability

__all__ = ["mlp", "as_tensors", "model_dtype_device", "evaluate", "layer_gradient_norms", "RecordMetrics", "train"]


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    *,
    dropout: float = 0.0,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """A multilayer perceptron ``Linear → activation → [Dropout] → … → Linear``.

    ``dropout`` is the *drop* probability (PyTorch's convention) applied after every hidden
    activation; the output layer is linear (no activation), as a regression or logit layer
    must be.

    Parameters
    ----------
    in_features : int
        Width of the input.
    hidden : sequence of int
        Widths of the hidden layers, input side first (empty: a linear model).
    out_features : int
        Width of the output (number of classes, or 1 for regression).
    dropout : float
        Drop probability in ``[0, 1)`` after every hidden activation; 0 adds no dropout layer.
    activation : type of nn.Module
        The activation's class, instantiated once per hidden layer.

    Returns
    -------
    nn.Sequential
        The network, freshly initialised by PyTorch's default initialisation.

    Raises
    ------
    ValueError
        If a width is not a positive integer or ``dropout`` is not in ``[0, 1)``.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.training import mlp
    >>> net = mlp(5, [8, 4], 3, dropout=0.2)
    >>> [type(layer).__name__ for layer in net]
    ['Linear', 'ReLU', 'Dropout', 'Linear', 'ReLU', 'Dropout', 'Linear']
    >>> net(torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """
    in_features = check_positive_int(in_features, "in_features")
    out_features = check_positive_int(out_features, "out_features")
    dropout = check_probability(dropout, "dropout")
    layers: list[nn.Module] = []
    width = in_features
    for i, h in enumerate(hidden):
        h = check_positive_int(h, f"hidden[{i}]")
        layers += [nn.Linear(width, h), activation()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def as_tensors(data, device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Convert a pair ``(X, y)`` of arrays or tensors to tensors on ``device``.

    Inputs become ``dtype`` (float32 by default; pass the model's, see
    :func:`model_dtype_device`); integer targets int64 (class labels), floating targets
    ``dtype`` (regression).

    Parameters
    ----------
    data : pair ``(X, y)`` of arrays or tensors
        Inputs ``X`` (first dimension: examples) and targets ``y`` of the same length.
    device : torch.device or str, optional
        Where the tensors go (default: where they are, the CPU for arrays).
    dtype : torch.dtype
        Floating dtype of ``X`` (and of floating ``y``).

    Returns
    -------
    X : torch.Tensor
        The inputs, of dtype ``dtype``.
    y : torch.Tensor
        The targets: int64 for integer labels, ``dtype`` otherwise.

    Raises
    ------
    ValueError
        If ``data`` is not a pair, the lengths differ, ``dtype`` is not a floating dtype or
        ``X`` has NaN or infinite entries.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from weightdecay.training import as_tensors
    >>> X, y = as_tensors((np.ones((4, 2)), np.array([0, 1, 1, 0])))
    >>> X.dtype, y.dtype, tuple(X.shape)
    (torch.float32, torch.int64, (4, 2))
    >>> X, y = as_tensors((np.ones((4, 2)), np.zeros(4)), dtype=torch.float64)
    >>> X.dtype, y.dtype
    (torch.float64, torch.float64)
    """
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(f"data must be a pair (X, y); got {type(data).__name__}")
    X, y = (torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a) for a in data)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same first dimension; got {tuple(X.shape)} and {tuple(y.shape)}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype must be a floating torch dtype; got {dtype!r}")
    X = X.to(dtype)
    y = y.long() if not torch.is_floating_point(y) else y.to(dtype)
    if not torch.isfinite(X).all():
        raise ValueError("X must contain only finite values")
    return X.to(device), y.to(device)


def model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """Floating dtype and device of a model's parameters (what its inputs must match).

    Parameters
    ----------
    model : nn.Module
        A module with at least one floating-point parameter.

    Returns
    -------
    dtype : torch.dtype
        The dtype of its first floating-point parameter.
    device : torch.device
        That parameter's device.

    Raises
    ------
    ValueError
        If the model has no floating-point parameter.

    Examples
    --------
    >>> from weightdecay.training import mlp, model_dtype_device
    >>> model_dtype_device(mlp(2, [4], 1).double())
    (torch.float64, device(type='cpu'))
    """
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype, p.device
    raise ValueError("model must have floating-point parameters")


@torch.no_grad()
def evaluate(model: nn.Module, data, loss_fn: Callable | None = None, batch_size: int = 4096) -> dict:
    r"""Mean loss (and accuracy, for integer labels) of ``model`` on ``data`` in eval mode.

    The model's mode (training or eval) is restored afterwards; no gradient is computed.

    Parameters
    ----------
    model : nn.Module
        The model; ``data`` is moved to its device and dtype.
    data : pair ``(X, y)`` of arrays or tensors
        Integer ``y`` means classification (accuracy recorded too).
    loss_fn : callable, optional
        ``loss_fn(output, y)``, a mean over the batch (default: cross-entropy).
    batch_size : int
        Examples per forward pass (memory only; the result does not depend on it).

    Returns
    -------
    dict
        ``"loss"``, the mean loss over all examples, and for integer labels ``"acc"``, the
        fraction classified correctly.

    Examples
    --------
    A model that outputs zeros gives every one of 3 classes the same probability, so its
    cross-entropy is :math:`\log 3` and it predicts class 0 (the first maximum):

    >>> import torch
    >>> from weightdecay.training import evaluate, mlp
    >>> model = mlp(2, [4], 3)
    >>> with torch.no_grad():
    ...     for p in model.parameters():
    ...         _ = p.zero_()
    >>> X, y = torch.randn(4, 2), torch.tensor([0, 1, 2, 0])
    >>> result = evaluate(model, (X, y))
    >>> round(result["loss"], 4), result["acc"]
    (1.0986, 0.5)
    """
    dtype, device = model_dtype_device(model)
    X, y = as_tensors(data, device, dtype)
    loss_fn = loss_fn or nn.functional.cross_entropy
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    for i in range(0, X.shape[0], batch_size):
        out = model(X[i : i + batch_size])
        yb = y[i : i + batch_size]
        total += float(loss_fn(out, yb)) * yb.shape[0]
        if not torch.is_floating_point(yb):
            correct += int((out.argmax(dim=1) == yb).sum())
    model.train(was_training)
    result = {"loss": total / X.shape[0]}
    if not torch.is_floating_point(y):
        result["acc"] = correct / X.shape[0]
    return result


def layer_gradient_norms(model: nn.Module, data, loss_fn: Callable | None = None) -> list[float]:
    r"""Norm of the loss gradient with respect to each layer's weight, input side first.

    For every ``nn.Linear`` and ``nn.Conv*`` module (in ``model.modules()`` order) returns
    :math:`\lVert\partial \ell/\partial W_l\rVert_F` of the mean loss on ``data`` (one full
    batch, in the model's current mode).  Back-propagation multiplies one Jacobian
    :math:`W_l^\top D_l` per layer, so these norms show directly whether gradients vanish
    towards the input.

    What shrinking the weights by a factor :math:`c < 1` (what pure weight decay does) does
    to these norms depends on the network; it never cures vanishing gradients:

    * bias-free ReLU network, no normalisation: the gradient of a linear loss with respect
      to every :math:`W_l` is multiplied by :math:`c^{L-1}`, so the back-propagated product
      shrinks;
    * a layer followed by BatchNorm or LayerNorm is scale-invariant,
      :math:`\ell(cW_l) = \ell(W_l)`, so its gradient is multiplied by :math:`1/c`: it
      *grows*, and the relative step :math:`\eta\lVert\nabla\rVert/\lVert W_l\rVert` by
      :math:`1/c^2` (decay raises the effective learning rate);
    * a saturated softmax (every example classified with a large margin) has a
      cross-entropy gradient that is exponentially small in the logits; shrinking the
      weights shrinks the logits and the gradient grows.

    The model's existing ``.grad`` fields are left untouched.

    Parameters
    ----------
    model : nn.Module
        A model with at least one ``nn.Linear`` or ``nn.Conv1d/2d/3d`` layer.
    data : pair ``(X, y)`` of arrays or tensors
        One full batch.
    loss_fn : callable, optional
        ``loss_fn(output, y)`` (default: cross-entropy).

    Returns
    -------
    list of float
        One Frobenius norm per layer, input side first.

    Raises
    ------
    ValueError
        If the model has no linear or convolution layer.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.training import layer_gradient_norms, mlp
    >>> _ = torch.manual_seed(0)
    >>> model = mlp(4, [8, 8], 3)
    >>> X, y = torch.randn(16, 4), torch.arange(16) % 3
    >>> norms = layer_gradient_norms(model, (X, y))
    >>> len(norms), all(n > 0 for n in norms)
    (3, True)
    >>> all(p.grad is None for p in model.parameters())
    True
    """
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    if not layers:
        raise ValueError(f"model must contain nn.Linear or nn.Conv layers; got {type(model).__name__}")
    X, y = as_tensors(data, layers[0].weight.device, layers[0].weight.dtype)
    loss_fn = loss_fn or nn.functional.cross_entropy
    loss = loss_fn(model(X), y)
    grads = torch.autograd.grad(loss, [m.weight for m in layers])
    return [float(g.norm()) for g in grads]


class RecordMetrics:
    """Callback: evaluate the model on extra data sets after every epoch and record the results.

    After every epoch the model is evaluated (eval mode, :func:`evaluate`) on each named data
    set and ``{name}_loss`` / ``{name}_acc`` are recorded in the history.
    ``RecordMetrics(train=(X, y), test=(X_test, y_test))`` records ``eval_train_loss``,
    ``eval_train_acc`` (the training set without dropout, comparable with the validation
    curve) and ``test_loss``, ``test_acc``.

    Parameters
    ----------
    **datasets : pair ``(X, y)`` of arrays or tensors
        The data sets, by name; the name ``train`` is recorded as ``eval_train``.

    Attributes
    ----------
    datasets : dict
        The data sets by the prefix of their history keys.

    Raises
    ------
    ValueError
        If no data set is given.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.training import RecordMetrics, mlp, train
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(32, 4), torch.arange(32) % 3
    >>> model = mlp(4, [8], 3)
    >>> hist = train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
    ...              epochs=2, callbacks=[RecordMetrics(train=(X, y), test=(X, y))], progress=False)
    >>> sorted(k for k in hist if k.startswith(("eval_", "test_")))
    ['eval_train_acc', 'eval_train_loss', 'test_acc', 'test_loss']
    >>> len(hist["test_loss"])
    2
    """

    def __init__(self, **datasets):
        if not datasets:
            raise ValueError("RecordMetrics needs at least one named data set, e.g. test=(X, y)")
        self.datasets = {("eval_train" if name == "train" else name): data for name, data in datasets.items()}

    def on_epoch_end(self, epoch, model, logs):
        """Evaluate ``model`` on every data set and add the results to ``logs``.

        Parameters
        ----------
        epoch : int
            The epoch just finished (unused).
        model : nn.Module
            The model being trained.
        logs : dict
            This epoch's record, completed in place.

        Returns
        -------
        bool
            Always ``False``: this callback never stops training.
        """
        for prefix, data in self.datasets.items():
            for key, value in evaluate(model, data).items():
                logs[f"{prefix}_{key}"] = value
        return False


def train(
    model: nn.Module,
    train_data,
    *,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    batch_size: int = 128,
    loss_fn: Callable | None = None,
    val_data=None,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    callbacks: Iterable = (),
    seed: int = 0,
    progress: bool | None = None,
) -> dict[str, list]:
    """Train ``model`` with mini-batch ``optimizer`` steps for up to ``epochs`` epochs.

    Parameters
    ----------
    model : nn.Module
        The model; the data are moved to its device and dtype.
    train_data : pair ``(X, y)`` of arrays or tensors
        Integer ``y`` means classification (default loss: cross-entropy, accuracy recorded).
    optimizer : torch.optim.Optimizer
        An optimiser over the model's parameters (build the param groups with
        :func:`weightdecay.optim.decay_param_groups` to decay only weight matrices).
    epochs : int
        The most epochs to run (a callback may stop earlier).
    batch_size : int
        Examples per mini-batch (the last batch of an epoch may be smaller).
    loss_fn : callable, optional
        ``loss_fn(output, y)``, a mean over the batch (default: cross-entropy).
    val_data : pair ``(X, y)`` of arrays or tensors, optional
        Evaluated after every epoch (:func:`evaluate`).
    penalty : callable, optional
        Added to every mini-batch loss, e.g. ``lambda m: weightdecay.optim.l2_penalty(m, lam)``.
    callbacks : iterable
        Objects with ``on_epoch_end(epoch, model, logs) -> bool`` (``True`` stops training)
        and/or ``on_train_end(model, logs)``, and optionally ``on_epoch_begin(epoch, model)``
        (called before the epoch's first step, e.g. to change the dropout rate; see
        :class:`weightdecay.dropout.DropoutSchedule`).
    seed : int
        Seeds the mini-batch shuffling (a private ``torch.Generator``).
    progress : bool or None
        A progress bar over epochs showing the latest losses (``tqdm.auto``: a widget in
        Jupyter, text on stderr in a terminal).  ``None`` (default) follows the environment
        variable ``WEIGHTDECAY_PROGRESS`` (unset: on), which ``make execute`` and ``make
        test`` set to 0 so that no bar enters a chapter's stored outputs; see
        :func:`weightdecay.progress.progress_enabled`.  The bar never changes the result.

    Returns
    -------
    dict
        Lists per epoch: ``"epoch"``, ``"train_loss"`` (mean mini-batch loss, penalty
        excluded), and with ``val_data`` ``"val_loss"`` (and ``"val_acc"``).  Callbacks may add
        keys through ``logs``.  ``"stopped_epoch"`` holds the epoch at which a callback stopped
        training (``None`` if it ran to the end).

    Raises
    ------
    ValueError
        If ``epochs`` or ``batch_size`` is not a positive integer, ``progress`` is not a bool
        or None, or the data are malformed (see :func:`as_tensors`).
    FloatingPointError
        If the training loss becomes NaN or infinite.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.training import mlp, train
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(64, 4), torch.arange(64) % 3
    >>> model = mlp(4, [8], 3)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> hist = train(model, (X, y), optimizer=opt, epochs=2, batch_size=16, val_data=(X, y),
    ...              progress=False)
    >>> sorted(hist)
    ['epoch', 'stopped_epoch', 'train_loss', 'val_acc', 'val_loss']
    >>> hist["epoch"], hist["stopped_epoch"]
    ([1, 2], None)
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    dtype, device = model_dtype_device(model)
    X, y = as_tensors(train_data, device, dtype)
    loss_fn = loss_fn or nn.functional.cross_entropy
    callbacks = list(callbacks)
    generator = torch.Generator().manual_seed(int(seed))
    history: dict[str, list] = {"epoch": [], "train_loss": []}
    stopped = None

    epoch_bar = progress_bar(range(1, epochs + 1), desc="epochs", progress=progress)
    for epoch in epoch_bar:
        for cb in callbacks:
            hook = getattr(cb, "on_epoch_begin", None)
            if hook is not None:
                hook(epoch, model)
        model.train()
        order = torch.randperm(X.shape[0], generator=generator).to(device)
        running, count = 0.0, 0
        for i in range(0, X.shape[0], batch_size):
            idx = order[i : i + batch_size]
            xb, yb = X[idx], y[idx]
            data_loss = loss_fn(model(xb), yb)
            loss = data_loss + penalty(model) if penalty is not None else data_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running += float(data_loss.detach()) * xb.shape[0]
            count += xb.shape[0]
        logs = {"epoch": epoch, "train_loss": running / count}
        if not np.isfinite(logs["train_loss"]):
            raise FloatingPointError(f"training loss became {logs['train_loss']} at epoch {epoch}")
        if val_data is not None:
            for key, value in evaluate(model, val_data, loss_fn).items():
                logs[f"val_{key}"] = value
        stop = False
        for cb in callbacks:
            hook = getattr(cb, "on_epoch_end", None)
            if hook is not None and hook(epoch, model, logs):
                stop = True
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        epoch_bar.set_postfix(_postfix(logs))
        if stop:
            stopped = epoch
            break
    epoch_bar.close()
    for cb in callbacks:
        hook = getattr(cb, "on_train_end", None)
        if hook is not None:
            hook(model, history)
    history["stopped_epoch"] = stopped
    return history


def _postfix(logs: dict) -> dict[str, str]:
    """The numbers of an epoch's ``logs`` (not the epoch itself), for the progress bar."""
    return {k: f"{v:.3g}" for k, v in logs.items()
            if k != "epoch" and isinstance(v, (int, float, np.number)) and not isinstance(v, bool)}
