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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

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
    """Floating dtype and device of a model's parameters (what its inputs must match)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype, p.device
    raise ValueError("model must have floating-point parameters")


@torch.no_grad()
def evaluate(model: nn.Module, data, loss_fn: Callable | None = None, batch_size: int = 4096) -> dict:
    """Mean loss (and accuracy, for integer labels) of ``model`` on ``data`` in eval mode."""
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
    """Callback: after every epoch, evaluate the model (eval mode) on extra data sets and
    record ``{name}_loss`` / ``{name}_acc`` in the history.

    ``RecordMetrics(train=(X, y), test=(X_test, y_test))`` records ``eval_train_loss``,
    ``eval_train_acc`` (the training set without dropout, comparable with the validation
    curve) and ``test_loss``, ``test_acc``.
    """

    def __init__(self, **datasets):
        if not datasets:
            raise ValueError("RecordMetrics needs at least one named data set, e.g. test=(X, y)")
        self.datasets = {("eval_train" if name == "train" else name): data for name, data in datasets.items()}

    def on_epoch_end(self, epoch, model, logs):
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
    progress: bool = False,
) -> dict[str, list]:
    """Train ``model`` with mini-batch ``optimizer`` steps for up to ``epochs`` epochs.

    Parameters
    ----------
    model, optimizer
        A torch module and an optimiser over its parameters (build the param groups with
        :func:`weightdecay.optim.decay_param_groups` to decay only weight matrices).
    train_data, val_data : pair ``(X, y)`` of arrays or tensors
        Integer ``y`` means classification (default loss: cross-entropy, accuracy recorded).
    penalty : callable, optional
        Added to every mini-batch loss, e.g. ``lambda m: weightdecay.optim.l2_penalty(m, lam)``.
    callbacks : iterable
        Objects with ``on_epoch_end(epoch, model, logs) -> bool`` (``True`` stops training)
        and/or ``on_train_end(model, logs)``, and optionally ``on_epoch_begin(epoch, model)``
        (called before the epoch's first step, e.g. to change the dropout rate; see
        :class:`weightdecay.dropout.DropoutSchedule`).
    seed : int
        Seeds the mini-batch shuffling (a private ``torch.Generator``).
    progress : bool
        Show a tqdm progress bar over epochs (keep ``False`` in notebooks).

    Returns
    -------
    dict
        Lists per epoch: ``"epoch"``, ``"train_loss"`` (mean mini-batch loss, penalty
        excluded), and with ``val_data`` ``"val_loss"`` (and ``"val_acc"``).  Callbacks may add
        keys through ``logs``.  ``"stopped_epoch"`` holds the epoch at which a callback stopped
        training (``None`` if it ran to the end).
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

    epoch_iter = range(1, epochs + 1)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="epochs")

    for epoch in epoch_iter:
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
        if progress:
            epoch_iter.set_postfix({k: f"{v:.3g}" for k, v in logs.items() if k != "epoch"})
        if stop:
            stopped = epoch
            break
    for cb in callbacks:
        hook = getattr(cb, "on_train_end", None)
        if hook is not None:
            hook(model, history)
    history["stopped_epoch"] = stopped
    return history
