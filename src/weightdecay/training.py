r"""A small, readable PyTorch training loop shared by the book's deep-learning chapters.

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

The pieces of the loop are shared with the fast loop :func:`weightdecay.cnn.train` (which adds
only what is specific to speed: DDP, autocast, ``channels_last``, ``torch.compile``, timing):
:func:`as_tensors` (conversion and validation of ``(X, y)``), :func:`batch_indices` (the seeded
shuffle into mini-batches), :func:`evaluate` (loss and accuracy in eval mode) and the callback
protocol above.  :func:`half_mse_loss` is the book's regression loss
:math:`\frac{1}{2n}\lVert y - f(X)\rVert^2`.

:func:`train` shows a progress bar over epochs (:func:`weightdecay.progress.progress_bar`)
unless ``progress=False`` or the environment variable ``WEIGHTDECAY_PROGRESS=0`` says
otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .progress import progress_bar
from .validation import check_positive_int, check_probability

__all__ = [
    "mlp",
    "as_tensors",
    "model_dtype_device",
    "batch_indices",
    "half_mse_loss",
    "evaluate",
    "run_callbacks",
    "layer_gradient_norms",
    "RecordMetrics",
    "train",
]


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    *,
    dropout: float = 0.0,
    activation: type[nn.Module] = nn.ReLU,
    norm: Callable[[int], nn.Module] | None = None,
) -> nn.Sequential:
    """A multilayer perceptron ``Linear → [norm] → activation → [Dropout] → … → Linear``.

    ``dropout`` is the *drop* probability (PyTorch's convention) applied after every hidden
    activation; the output layer is linear (no activation), as a regression or logit layer
    must be.  With ``norm`` (e.g. ``nn.BatchNorm1d``) every hidden ``Linear`` is followed by
    ``norm(width)`` and has no bias (the normalisation's shift replaces it); this is
    :func:`weightdecay.optim.bn_mlp`.

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
    norm : callable, optional
        ``norm(width) -> nn.Module``, a normalisation layer inserted after every hidden
        ``Linear`` (which then has no bias); ``None`` (default) inserts none.

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
    >>> net = mlp(5, [8], 3, norm=torch.nn.BatchNorm1d)
    >>> [type(layer).__name__ for layer in net], net[0].bias is None
    (['Linear', 'BatchNorm1d', 'ReLU', 'Linear'], True)
    """
    in_features = check_positive_int(in_features, "in_features")
    out_features = check_positive_int(out_features, "out_features")
    dropout = check_probability(dropout, "dropout")
    layers: list[nn.Module] = []
    width = in_features
    for i, h in enumerate(hidden):
        h = check_positive_int(h, f"hidden[{i}]")
        if norm is None:
            layers += [nn.Linear(width, h), activation()]
        else:
            layers += [nn.Linear(width, h, bias=False), norm(h), activation()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def as_tensors(
    data, device=None, dtype=torch.float32, *, labels: bool = False, name: str = "data"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Convert a pair ``(X, y)`` of arrays or tensors to tensors on ``device``.

    Inputs become ``dtype`` (float32 by default; pass the model's, see
    :func:`model_dtype_device`); integer targets int64 (class labels), floating targets
    ``dtype`` (regression).  Both training loops (:func:`train` and
    :func:`weightdecay.cnn.train`) and :func:`evaluate` convert their data here.

    Parameters
    ----------
    data : pair ``(X, y)`` of arrays or tensors
        Inputs ``X`` (first dimension: examples) and targets ``y`` of the same length.
    device : torch.device or str, optional
        Where the tensors go (default: where they are, the CPU for arrays).
    dtype : torch.dtype
        Floating dtype of ``X`` (and of floating ``y``).
    labels : bool
        Require ``y`` to be a 1-D array of integer class labels.
    name : str
        The argument's name in error messages.

    Returns
    -------
    X : torch.Tensor
        The inputs, of dtype ``dtype``.
    y : torch.Tensor
        The targets: int64 for integer labels, ``dtype`` otherwise.

    Raises
    ------
    ValueError
        If ``data`` is not a pair, is empty, the lengths differ, ``dtype`` is not a floating
        dtype, ``X`` has NaN or infinite entries, or (with ``labels``) ``y`` is not a 1-D
        array of integers.

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
        raise ValueError(f"{name} must be a pair (X, y); got {type(data).__name__}")
    X, y = (torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a) for a in data)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(
            f"{name}: X and y must have the same first dimension (at least one example); got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    if labels and (y.ndim != 1 or torch.is_floating_point(y)):
        raise ValueError(f"{name}: y must be a 1-D array of integer class labels; got {y.dtype} of shape {tuple(y.shape)}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype must be a floating torch dtype; got {dtype!r}")
    X = X.to(dtype)
    y = y.long() if not torch.is_floating_point(y) else y.to(dtype)
    if not torch.isfinite(X).all():
        raise ValueError(f"{name}: X must contain only finite values")
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


def batch_indices(
    n: int,
    batch_size: int,
    generator: torch.Generator,
    *,
    drop_last: bool = False,
    rank: int = 0,
    world_size: int = 1,
    device=None,
) -> list[torch.Tensor]:
    """The mini-batches of one epoch: index tensors of a seeded shuffle of ``range(n)``.

    One permutation ``torch.randperm(n, generator=generator)`` is drawn (on the CPU, before
    this function returns, so later draws from ``generator`` come after it) and cut into
    consecutive batches of ``batch_size`` positions.  Both training loops batch this way:
    :func:`train` keeps the last, smaller batch; :func:`weightdecay.cnn.train` drops it
    (``drop_last``) and, under DistributedDataParallel, gives process ``rank`` every
    ``world_size``-th index of each global batch.

    Parameters
    ----------
    n : int
        Number of examples.
    batch_size : int
        Examples per (global) batch.
    generator : torch.Generator
        The CPU generator of the shuffle (one permutation drawn per call).
    drop_last : bool
        Drop the last batch if it has fewer than ``batch_size`` examples.
    rank : int
        This process's rank (0 without DDP).
    world_size : int
        The number of processes (1 without DDP).
    device : torch.device or str, optional
        Where the index tensors go (default: the CPU).

    Returns
    -------
    list of torch.Tensor
        The int64 indices of each batch, in order.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.training import batch_indices
    >>> batches = batch_indices(10, 4, torch.Generator().manual_seed(0))
    >>> [len(b) for b in batches]
    [4, 4, 2]
    >>> sorted(torch.cat(batches).tolist()) == list(range(10))
    True
    >>> [len(b) for b in batch_indices(10, 4, torch.Generator(), drop_last=True, rank=1, world_size=2)]
    [2, 2]
    """
    order = torch.randperm(n, generator=generator)
    stop = n - n % batch_size if drop_last else n
    return [order[i : i + batch_size][rank::world_size].to(device) for i in range(0, stop, batch_size)]


def half_mse_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Half the mean squared error, :math:`\frac{1}{2n}\sum_i (y_i - f(x_i))^2`: the book's regression loss.

    With this loss a linear model's gradient is :math:`\frac1n X^\top(Xw - y)`, the
    convention :math:`L(w) = \frac{1}{2n}\lVert y - Xw\rVert^2 + \lambda R(w)` of every chapter.
    An output with one more dimension than the target, of size 1 (a network's ``(n, 1)``
    output for ``(n,)`` targets), is squeezed first.

    Parameters
    ----------
    output : torch.Tensor
        Predictions, of the target's shape or with an extra trailing dimension of size 1.
    target : torch.Tensor
        Targets :math:`y`.

    Returns
    -------
    torch.Tensor
        The scalar loss, differentiable in ``output``.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.training import half_mse_loss
    >>> half_mse_loss(torch.tensor([[1.0], [3.0]]), torch.tensor([0.0, 1.0]))
    tensor(1.2500)
    """
    if output.ndim == target.ndim + 1 and output.shape[-1] == 1:
        output = output.squeeze(-1)
    return 0.5 * nn.functional.mse_loss(output, target)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data,
    loss_fn: Callable | None = None,
    batch_size: int = 4096,
    *,
    autocast: bool = False,
    channels_last: bool = False,
) -> dict:
    r"""Mean loss (and accuracy, for integer labels) of ``model`` on ``data`` in eval mode.

    The model's mode (training or eval) is restored afterwards; no gradient is computed.
    Both training loops evaluate here (:func:`train` its validation set,
    :func:`weightdecay.cnn.train` its test set, with its speed switches).

    Parameters
    ----------
    model : nn.Module
        The model; ``data`` is moved to its device and dtype.
    data : pair ``(X, y)`` of arrays or tensors
        Integer ``y`` means classification (accuracy recorded too).
    loss_fn : callable, optional
        ``loss_fn(output, y)``, a mean over the batch (default: cross-entropy).
    batch_size : int
        Examples per forward pass (memory; up to rounding, the result does not depend on it).
    autocast : bool
        Run the forward passes (and the loss) under bf16 autocast on the model's device type.
    channels_last : bool
        Feed image batches (4-D) in ``channels_last`` memory format.

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
    with torch.autocast(device.type, dtype=torch.bfloat16) if autocast else contextlib.nullcontext():
        for i in range(0, X.shape[0], batch_size):
            xb = X[i : i + batch_size]
            out = model(xb.contiguous(memory_format=torch.channels_last) if channels_last and xb.ndim == 4 else xb)
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
        run_callbacks(callbacks, "on_epoch_begin", epoch, model)
        model.train()
        running, count = 0.0, 0
        for idx in batch_indices(X.shape[0], batch_size, generator, device=device):
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
        if _end_epoch(callbacks, epoch, model, logs, history, epoch_bar):
            stopped = epoch
            break
    return _end_training(callbacks, model, history, epoch_bar, stopped)


def run_callbacks(callbacks: Iterable, hook: str, *args) -> bool:
    """Call method ``hook`` of every callback that has it; ``True`` if any asks to stop.

    The callback protocol of both training loops (:func:`train`,
    :func:`weightdecay.cnn.train`): ``on_epoch_begin(epoch, model)`` before an epoch's first
    step, ``on_epoch_end(epoch, model, logs)`` after its evaluation (a true return value
    stops training after this epoch; every callback is still called), and
    ``on_train_end(model, history)`` once at the end.

    Parameters
    ----------
    callbacks : iterable
        The callbacks, called in order.
    hook : str
        The method's name.
    *args
        Its arguments.

    Returns
    -------
    bool
        Whether any callback returned a true value.

    Examples
    --------
    >>> from weightdecay.training import run_callbacks
    >>> class Stop:
    ...     def on_epoch_end(self, epoch, model, logs):
    ...         return epoch >= 2
    >>> run_callbacks([Stop(), object()], "on_epoch_end", 1, None, {})
    False
    >>> run_callbacks([Stop(), object()], "on_epoch_end", 2, None, {})
    True
    """
    stop = False
    for cb in callbacks:
        method = getattr(cb, hook, None)
        if method is not None and method(*args):
            stop = True
    return stop


def _end_epoch(callbacks: list, epoch: int, model: nn.Module, logs: dict, history: dict, bar) -> bool:
    """The end of an epoch in both loops: callbacks, then the history and the bar; ``True`` to stop.

    The callbacks' ``on_epoch_end`` see ``logs`` first and may add keys to it; every key is
    then appended to ``history`` (created on first sight).
    """
    stop = run_callbacks(callbacks, "on_epoch_end", epoch, model, logs)
    for key, value in logs.items():
        history.setdefault(key, []).append(value)
    bar.set_postfix(_postfix(logs))
    return stop


def _end_training(callbacks: list, model: nn.Module, history: dict, bar, stopped: int | None) -> dict:
    """The end of training in both loops: close the bar, ``on_train_end``, record ``stopped_epoch``."""
    bar.close()
    run_callbacks(callbacks, "on_train_end", model, history)
    history["stopped_epoch"] = stopped
    return history


def _postfix(logs: dict) -> dict[str, str]:
    """The numbers of an epoch's ``logs`` (not the epoch itself), for the progress bar."""
    return {k: f"{v:.3g}" for k, v in logs.items()
            if k != "epoch" and isinstance(v, (int, float, np.number)) and not isinstance(v, bool)}
