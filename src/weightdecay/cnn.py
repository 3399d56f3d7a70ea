r"""A small fast convolutional network, a training loop built for speed, and honest timing.

This module backs the chapter *Does weight decay make CNN training faster?*.  It has four
parts.

**The network.** :func:`fast_resnet` is a ResNet-9 in the spirit of the CIFAR-10 speedrun
networks (Page's DAWNBench entry and its descendants): ``conv → BatchNorm → ReLU`` blocks,
two residual blocks, max pooling and a linear head whose logits are multiplied by a fixed
scale.  ``dims=1`` gives the same network with 1-D convolutions (:class:`GemmConv1d`, one
matrix product per convolution on the CPU), for MNIST-1D.  Every
convolution is followed by BatchNorm, so its weight ``W`` is *scale-invariant*: in training
mode the network computes the same function for ``W`` and ``cW`` (``c > 0``), and

.. math::

    \nabla_W f(cW) = \tfrac1c\,\nabla_W f(W), \qquad \langle W, \nabla_W f(W)\rangle = 0 .

**The training loop.** :func:`train` runs mini-batch steps on tensors that are already on
the device, with switches for bf16 autocast, ``channels_last`` and ``torch.compile``, a
progress bar (:func:`weightdecay.progress.progress_bar`), callbacks, and per-epoch traces of
the test accuracy, the norm of the scale-invariant weights and their *effective learning
rate* :math:`\eta/\lVert W\rVert^2` (:class:`weightdecay.optim.EffectiveLearningRate`).
Its data conversion, batches, evaluation and callback protocol are those of
:func:`weightdecay.training.train`; only the speed switches and the timing are its own.  Under
``torchrun`` (``torch.distributed`` initialised, see :func:`init_distributed`) the same loop
wraps the model in ``DistributedDataParallel`` and gives each process its slice of every
global batch, so the replicas stay identical.

**Timing.** :func:`time_call` and :func:`compare_calls` time a function correctly on CUDA
(synchronise, warm up, CUDA events, median of repeats) and with ``time.perf_counter`` on the
CPU.

**Measurements.** :func:`count_flops` and :func:`weight_decay_flops` count the arithmetic of
a training step and of weight decay; :func:`weight_decay_overhead` times a step with and
without weight decay (SGD or AdamW; for-loop, foreach or fused); :func:`throughput` measures
training images per second; :func:`time_to_accuracy` reads the first epoch at a target
accuracy off a training history; and :func:`norm_recursion` iterates the norm of a
scale-invariant weight under SGD with weight decay.  The chapter's grids built on these
(one switch at a time, weight decays × seeds) are in :mod:`weightdecay.experiments.cnn_speed`.

The optimiser is always built by a callable ``make_optimizer(model)`` passed in by the
caller (for instance with :func:`weightdecay.optim.decay_param_groups`), so this module does
not decide which parameters are decayed.

Every function that loops for long (training, timing) takes
``progress=None`` and shows a progress bar unless ``progress=False`` or the environment
variable ``WEIGHTDECAY_PROGRESS=0`` (set by ``make execute`` and ``make test``) says otherwise.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._deprecation import moved_names
from .optim import EffectiveLearningRate, scale_invariant_parameters
from .progress import progress_bar, progress_enabled
from .training import _end_epoch, _end_training, as_tensors, batch_indices, evaluate, model_dtype_device, run_callbacks
from .validation import (
    check_lambda,
    check_learning_rate,
    check_momentum,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_probability,
)

__all__ = [
    "GemmConv1d",
    "ConvBN",
    "Residual",
    "FastResNet",
    "fast_resnet",
    "scale_invariant_weights",
    "weight_norms",
    "normalize_images",
    "init_distributed",
    "train",
    "evaluate_accuracy",
    "time_to_accuracy",
    "Timing",
    "time_call",
    "compare_calls",
    "count_flops",
    "weight_decay_flops",
    "make_optimizer_factory",
    "OverheadResult",
    "weight_decay_overhead",
    "throughput",
    "norm_recursion",
]

# Moved to weightdecay.experiments.cnn_speed (they fix the chapter's grids); the old names
# still work, with a DeprecationWarning, until the next release.
_MOVED = {
    "speed_switches": "weightdecay.experiments.cnn_speed.speed_switches",
    "TTAResult": "weightdecay.experiments.cnn_speed.TTAResult",
    "time_to_accuracy_experiment": "weightdecay.experiments.cnn_speed.time_to_accuracy_experiment",
}
__getattr__ = moved_names(__name__, _MOVED)


# ---------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------

class GemmConv1d(nn.Conv1d):
    r"""``nn.Conv1d`` (stride 1, no dilation, one group) computed on the CPU as one matrix product.

    PyTorch's own CPU convolution, once oneDNN is switched off (as
    :func:`weightdecay.reproducibility.pin_numerics` does, because oneDNN's kernels depend on
    the CPU), runs either NNPACK — whose x86-64 kernels need AVX2 and FMA3 and whose blocking
    follows the CPU's cache sizes, so that other CPUs take another code path — or a loop with
    one small matrix product per example.  This module unfolds the whole batch into one
    matrix (*im2col*) and multiplies it once by the flattened kernel,

    .. math::

        y_{b,o,t} \;=\; \sum_{c,j} W_{o,c,j}\, x_{b,c,t+j-p} ,

    the same function as ``nn.Conv1d`` with zero padding ``p``, on a single code path (the
    matrix product); under pinned numerics it about halves the time of a training step of
    the chapter's 1-D network (widths ``(8, 16, 32, 64)``, batches of 64 or 128).  Parameters,
    initialisation and ``state_dict`` are those of ``nn.Conv1d``; on other devices, and for
    unbatched input, it calls ``nn.Conv1d``'s own forward.

    Parameters
    ----------
    in_channels : int
        Input channels :math:`c`.
    out_channels : int
        Output channels :math:`o`.
    kernel_size : int
        Kernel length :math:`k`.
    padding : int
        Zeros added at each end of the sequence, :math:`p` (``k // 2`` keeps the length).
    bias : bool
        Whether to add a learnable bias per output channel.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import GemmConv1d
    >>> _ = torch.manual_seed(0)
    >>> conv = GemmConv1d(2, 4, 3, padding=1)
    >>> x = torch.randn(5, 2, 10)
    >>> y = conv(x)
    >>> y.shape
    torch.Size([5, 4, 10])
    >>> reference = torch.nn.functional.conv1d(x, conv.weight, conv.bias, padding=1)
    >>> bool(torch.allclose(y, reference, atol=1e-6))
    True
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, padding: int = 0,
                 bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, padding=padding, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.ndim != 3:
            return super().forward(x)
        batch, channels, _ = x.shape
        k, p = self.kernel_size[0], self.padding[0]
        cols = F.pad(x, (p, p)).unfold(2, k, 1)                    # (batch, channels, length, k)
        length = cols.shape[2]
        cols = cols.transpose(1, 2).reshape(batch * length, channels * k)
        out = cols @ self.weight.reshape(self.out_channels, channels * k).t()
        if self.bias is not None:
            out = out + self.bias
        return out.view(batch, length, self.out_channels).transpose(1, 2).contiguous()


_CONV = {1: GemmConv1d, 2: nn.Conv2d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_GLOBAL_POOL = {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d}


class ConvBN(nn.Sequential):
    r"""``conv (no bias) → BatchNorm → ReLU``: the speedrun networks' building block.

    The convolution has no bias (BatchNorm's shift :math:`\beta` replaces it), and BatchNorm
    normalises each output channel over the batch, which makes the convolution's weight
    scale-invariant in training mode.

    Parameters
    ----------
    c_in : int
        Input channels.
    c_out : int
        Output channels.
    dims : int
        2 for images (``nn.Conv2d``), 1 for sequences (:class:`GemmConv1d`).
    kernel_size : int
        An odd kernel size; the padding ``kernel_size // 2`` keeps the spatial size.

    Attributes
    ----------
    conv : nn.Module
        The convolution (the block's first module), whose weight is scale-invariant.

    Raises
    ------
    ValueError
        If a size is not a positive integer or ``kernel_size`` is even.

    Examples
    --------
    Multiplying the convolution's weight by 3 leaves the output unchanged in training mode:

    >>> import torch
    >>> from weightdecay.cnn import ConvBN
    >>> _ = torch.manual_seed(0)
    >>> block = ConvBN(3, 8)
    >>> x = torch.randn(4, 3, 6, 6)
    >>> y = block(x)
    >>> y.shape
    torch.Size([4, 8, 6, 6])
    >>> with torch.no_grad():
    ...     _ = block.conv.weight.mul_(3.0)
    >>> bool(torch.allclose(block(x), y, atol=1e-4))
    True
    """

    def __init__(self, c_in: int, c_out: int, *, dims: int = 2, kernel_size: int = 3):
        c_in = check_positive_int(c_in, "c_in")
        c_out = check_positive_int(c_out, "c_out")
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding); got {kernel_size}")
        super().__init__(
            _CONV[dims](c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False),
            _BN[dims](c_out),
            nn.ReLU(inplace=True),
        )

    @property
    def conv(self) -> nn.Module:
        return self[0]


class Residual(nn.Module):
    r"""``x ↦ x + f(x)`` for a block ``f`` that keeps the shape.

    Parameters
    ----------
    block : nn.Module
        The block :math:`f`; its output must have the shape of its input.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import Residual
    >>> double = Residual(torch.nn.Identity())
    >>> double(torch.ones(2, 3))
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
    """

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class FastResNet(nn.Module):
    r"""ResNet-9 of the CIFAR-10 speedruns, for images (``dims=2``) or sequences (``dims=1``).

    With widths :math:`(w_0, w_1, w_2, w_3)`::

        prep    ConvBN(c_in → w0)
        layer1  ConvBN(w0 → w1), MaxPool(2),
                Residual(ConvBN(w1 → w1), ConvBN(w1 → w1))
        layer2  ConvBN(w1 → w2), MaxPool(2)
        layer3  ConvBN(w2 → w3), MaxPool(2),
                Residual(ConvBN(w3 → w3), ConvBN(w3 → w3))
        head    global max pool, Linear(w3 → n_classes, no bias),
                logits × head_scale

    The fixed ``head_scale`` (1/8 in Page's network) keeps the initial logits small, which
    matters at the speedruns' high learning rates.  A 1-D model also accepts inputs of shape
    ``(batch, length)`` and treats them as one channel.

    Parameters
    ----------
    widths : sequence of 4 int
        The widths :math:`(w_0, w_1, w_2, w_3)`.
    dims : int
        2 for images ``(batch, channels, height, width)``, 1 for sequences
        ``(batch, channels, length)``.
    in_channels : int
        Channels of the input.
    n_classes : int
        Number of classes (at least 2): the number of logits.
    kernel_size : int
        Odd kernel size of every convolution.
    head_scale : float
        The fixed factor (> 0) applied to the logits.

    Attributes
    ----------
    features : nn.Sequential
        Everything up to the global pooling and flattening.
    head : nn.Linear
        The linear layer that gives the logits (before ``head_scale``).

    Raises
    ------
    ValueError
        If ``dims`` is not 1 or 2, ``widths`` does not have 4 positive entries, or another
        size is invalid.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import FastResNet
    >>> net = FastResNet((4, 8, 8, 8))
    >>> net(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 10])
    >>> FastResNet((4, 8, 8, 8), dims=1, in_channels=1)(torch.zeros(2, 40)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        widths: Sequence[int] = (64, 128, 256, 512),
        *,
        dims: int = 2,
        in_channels: int = 3,
        n_classes: int = 10,
        kernel_size: int = 3,
        head_scale: float = 0.125,
    ):
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2; got {dims!r}")
        widths = tuple(widths)
        if len(widths) != 4:
            raise ValueError(f"widths must have 4 entries (prep, layer1, layer2, layer3); got {widths!r}")
        w0, w1, w2, w3 = (check_positive_int(w, f"widths[{i}]") for i, w in enumerate(widths))
        in_channels = check_positive_int(in_channels, "in_channels")
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        self.head_scale = check_positive_float(head_scale, "head_scale")
        self.dims = dims
        block = dict(dims=dims, kernel_size=kernel_size)
        pool = _POOL[dims]
        self.features = nn.Sequential(
            ConvBN(in_channels, w0, **block),
            ConvBN(w0, w1, **block),
            pool(2),
            Residual(nn.Sequential(ConvBN(w1, w1, **block), ConvBN(w1, w1, **block))),
            ConvBN(w1, w2, **block),
            pool(2),
            ConvBN(w2, w3, **block),
            pool(2),
            Residual(nn.Sequential(ConvBN(w3, w3, **block), ConvBN(w3, w3, **block))),
            _GLOBAL_POOL[dims](1),
            nn.Flatten(),
        )
        self.head = nn.Linear(w3, n_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dims == 1 and x.ndim == 2:
            x = x.unsqueeze(1)
        return self.head(self.features(x)) * self.head_scale


def fast_resnet(
    widths: Sequence[int] = (64, 128, 256, 512),
    *,
    dims: int = 2,
    in_channels: int | None = None,
    n_classes: int = 10,
    kernel_size: int = 3,
    head_scale: float = 0.125,
) -> FastResNet:
    """Build a :class:`FastResNet`; ``in_channels`` defaults to 3 for images, 1 for sequences.

    ``fast_resnet()`` is Page's ResNet-9 (about 6.6 M parameters); the chapter uses smaller
    widths on the CPU, e.g. ``fast_resnet((16, 32, 64, 128))``, and
    ``fast_resnet((16, 32, 64, 128), dims=1)`` for MNIST-1D.

    Parameters
    ----------
    widths : sequence of 4 int
        The widths :math:`(w_0, w_1, w_2, w_3)` (see :class:`FastResNet`).
    dims : int
        2 for images, 1 for sequences.
    in_channels : int, optional
        Input channels (default: 3 for images, 1 for sequences).
    n_classes : int
        Number of classes.
    kernel_size : int
        Odd kernel size of every convolution.
    head_scale : float
        The fixed factor applied to the logits.

    Returns
    -------
    FastResNet
        The network, freshly initialised.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import fast_resnet
    >>> sum(p.numel() for p in fast_resnet().parameters())
    6573120
    >>> net = fast_resnet((8, 16, 32, 64), dims=1)
    >>> net(torch.zeros(4, 40)).shape
    torch.Size([4, 10])
    """
    if in_channels is None:
        in_channels = 1 if dims == 1 else 3
    return FastResNet(
        widths, dims=dims, in_channels=in_channels, n_classes=n_classes,
        kernel_size=kernel_size, head_scale=head_scale,
    )


def _unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside a ``DistributedDataParallel`` or compiled wrapper."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def scale_invariant_weights(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    r"""The weights that BatchNorm makes scale-invariant, with their names (those of :class:`ConvBN`).

    For such a weight :math:`W`, the training-mode output is unchanged by
    :math:`W \mapsto cW` for any :math:`c > 0`.  The weights are those that
    :func:`weightdecay.optim.scale_invariant_parameters` finds (a ``Linear`` or convolution
    immediately followed by BatchNorm inside an ``nn.Sequential``, trainable), looked up in
    the unwrapped model and returned with their names; in a :class:`FastResNet` they are the
    convolutions of its :class:`ConvBN` blocks.

    Parameters
    ----------
    model : nn.Module
        A network (possibly wrapped by ``DistributedDataParallel`` or ``torch.compile``).

    Returns
    -------
    list of (str, nn.Parameter)
        Name and weight of each, in ``model.modules()`` order: for a :class:`FastResNet`,
        the convolution of every :class:`ConvBN` block, input side first.

    Examples
    --------
    >>> from weightdecay.cnn import fast_resnet, scale_invariant_weights
    >>> weights = scale_invariant_weights(fast_resnet((4, 8, 8, 8)))
    >>> len(weights)
    8
    >>> [name for name, _ in weights[:3]]
    ['features.0.0.weight', 'features.1.0.weight', 'features.3.block.0.0.weight']
    """
    model = _unwrap(model)
    params = dict(model.named_parameters())
    return [(name, params[name]) for name in scale_invariant_parameters(model)]


@torch.no_grad()
def weight_norms(model: nn.Module) -> np.ndarray:
    r"""Frobenius norms :math:`\lVert W_l\rVert` of the scale-invariant weights, in order.

    Parameters
    ----------
    model : nn.Module
        A network with :class:`ConvBN` blocks.

    Returns
    -------
    ndarray of shape (L,)
        One norm per weight of :func:`scale_invariant_weights`.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import fast_resnet, scale_invariant_weights, weight_norms
    >>> net = fast_resnet((4, 8, 8, 8))
    >>> before = weight_norms(net)
    >>> before.shape
    (8,)
    >>> with torch.no_grad():
    ...     _ = scale_invariant_weights(net)[0][1].mul_(2.0)
    >>> bool(abs(weight_norms(net)[0] / before[0] - 2.0) < 1e-6)
    True
    """
    return np.array([float(p.detach().float().norm()) for _, p in scale_invariant_weights(model)])


def normalize_images(X, mean=None, std=None) -> torch.Tensor:
    r"""``uint8`` images ``(N, C, H, W)`` → float32, standardised per channel.

    :math:`x \mapsto (x/255 - \mu_c)/\sigma_c`, with the per-channel mean and standard
    deviation of ``X`` itself unless ``mean`` and ``std`` (in the ``[0, 1]`` scale) are given.
    Floating-point input is taken as already in the ``[0, 1]`` scale.

    Parameters
    ----------
    X : array or tensor of shape (N, C, H, W)
        The images, ``uint8`` (0 to 255) or floating.
    mean : sequence of C floats, optional
        Per-channel means :math:`\mu_c` (default: those of ``X``).
    std : sequence of C floats, optional
        Per-channel standard deviations :math:`\sigma_c > 0` (default: those of ``X``).

    Returns
    -------
    torch.Tensor of shape (N, C, H, W)
        The standardised images, float32.

    Raises
    ------
    ValueError
        If ``X`` is not 4-D or not finite, or a standard deviation is not positive.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import normalize_images
    >>> images = torch.randint(0, 256, (8, 3, 4, 4), dtype=torch.uint8)
    >>> Z = normalize_images(images)
    >>> Z.dtype, tuple(Z.shape)
    (torch.float32, (8, 3, 4, 4))
    >>> bool(torch.allclose(Z.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5))
    True
    >>> normalize_images(torch.full((1, 1, 2, 2), 255, dtype=torch.uint8), mean=[0.5], std=[0.25])
    tensor([[[[2., 2.],
              [2., 2.]]]])
    """
    X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X)
    if X.ndim != 4:
        raise ValueError(f"X must have shape (N, C, H, W); got shape {tuple(X.shape)}")
    X = X.float() / 255.0 if X.dtype == torch.uint8 else X.float()
    if not torch.isfinite(X).all():
        raise ValueError("X must contain only finite values")
    mean = X.mean(dim=(0, 2, 3)) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
    std = X.std(dim=(0, 2, 3)) if std is None else torch.as_tensor(std, dtype=torch.float32)
    if torch.any(std <= 0):
        raise ValueError(f"std must be > 0 in every channel; got {std.tolist()}")
    return (X - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


# ---------------------------------------------------------------------------------------
# Distributed data parallel
# ---------------------------------------------------------------------------------------


def _dist_info() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` when torch.distributed is not initialised."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed(backend: str | None = None) -> tuple[int, int, torch.device]:
    """Initialise ``torch.distributed`` from ``torchrun``'s environment variables.

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (and ``MASTER_ADDR``/``MASTER_PORT``) and
    calls ``init_process_group`` with ``backend`` — by default ``"nccl"`` when CUDA is
    available and ``"gloo"`` otherwise.  Without those variables (a plain ``python`` run) it
    does nothing.  Returns ``(rank, world_size, device)``, the device being this process's
    GPU (``cuda:LOCAL_RANK``) or the CPU.

    Parameters
    ----------
    backend : str, optional
        ``"nccl"`` or ``"gloo"`` (default: chosen as above).

    Returns
    -------
    rank : int
        This process's rank (0 outside ``torchrun``).
    world_size : int
        The number of processes (1 outside ``torchrun``).
    device : torch.device
        The device this process trains on.

    Raises
    ------
    ValueError
        If ``backend`` is neither ``"nccl"`` nor ``"gloo"``.

    Examples
    --------
    In a plain ``python`` run (no ``torchrun`` variables) it only reports a single process:

    >>> from weightdecay.cnn import init_distributed
    >>> rank, world_size, device = init_distributed()
    >>> rank, world_size
    (0, 1)
    """
    import torch.distributed as dist

    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    use_cuda = torch.cuda.is_available() and backend != "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local_rank}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = backend or ("nccl" if use_cuda else "gloo")
        if backend not in ("nccl", "gloo"):
            raise ValueError(f"backend must be 'nccl' or 'gloo'; got {backend!r}")
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size(), device


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------


def _memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.ndim == 4 else x


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, data, *, batch_size: int = 1024, autocast: bool = False,
                      channels_last: bool = False) -> float:
    """Fraction of correctly classified examples of ``data = (X, y)``, in eval mode.

    The ``"acc"`` of :func:`weightdecay.training.evaluate` (with its speed switches) on the
    unwrapped model; the model's mode is restored afterwards.

    Parameters
    ----------
    model : nn.Module
        The classifier; ``data`` is moved to its device.
    data : pair ``(X, y)`` of arrays or tensors
        Inputs and integer class labels.
    batch_size : int
        Examples per forward pass (memory only).
    autocast : bool
        Evaluate under bf16 autocast.
    channels_last : bool
        Feed image batches in ``channels_last`` memory format.

    Returns
    -------
    float
        The accuracy, in ``[0, 1]``.

    Raises
    ------
    ValueError
        If ``data`` is not a pair of matching inputs and integer labels.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import evaluate_accuracy, fast_resnet
    >>> _ = torch.manual_seed(0)
    >>> net = fast_resnet((4, 8, 8, 8), dims=1)
    >>> X, y = torch.randn(20, 16), torch.arange(20) % 10
    >>> acc = evaluate_accuracy(net, (X, y))
    >>> 0 <= acc <= 1, net.training
    (True, True)
    """
    model = _unwrap(model)
    data = as_tensors(data, model_dtype_device(model)[1], labels=True)
    return evaluate(model, data, batch_size=batch_size, autocast=autocast, channels_last=channels_last)["acc"]


def train(
    model: nn.Module,
    train_data,
    *,
    make_optimizer: Callable[[nn.Module], torch.optim.Optimizer],
    epochs: int,
    batch_size: int = 512,
    test_data=None,
    label_smoothing: float = 0.0,
    flip: bool = False,
    autocast: bool = False,
    channels_last: bool = False,
    compile: bool = False,
    seed: int = 0,
    progress: bool | None = None,
    callbacks: Iterable | None = None,
) -> dict[str, list]:
    r"""Train ``model`` on ``train_data = (X, y)`` and trace what weight decay changes.

    One step on a mini-batch :math:`B` is the optimiser's update of
    :math:`\frac{1}{|B|}\sum_{i\in B}\ell(f_w(x_i), y_i)` (cross-entropy, optionally with
    label smoothing); the optimiser — with or without weight decay — comes from
    ``make_optimizer(model)``.  Data stay on the model's device; each epoch visits a seeded
    shuffle of the training set in ``len(X) // batch_size`` full batches (the last, partial
    batch is dropped, so every step has the same cost).

    The loop shares its pieces with :func:`weightdecay.training.train` — the data conversion
    (:func:`~weightdecay.training.as_tensors`), the batches
    (:func:`~weightdecay.training.batch_indices`), the evaluation
    (:func:`~weightdecay.training.evaluate`) and the callback protocol
    (:func:`~weightdecay.training.run_callbacks`) — and adds only what is specific to speed:
    DDP, autocast, ``channels_last``, ``torch.compile`` and the timed region.

    After each epoch (and once before training, epoch 0) it records, for the scale-invariant
    weights :math:`W_l` (the convolutions followed by BatchNorm), the total norm
    :math:`(\sum_l\lVert W_l\rVert^2)^{1/2}` and the mean effective learning rate
    :math:`\frac1L\sum_l \eta/\lVert W_l\rVert^2`, where :math:`\eta` is the current
    learning rate of the optimiser's first param group
    (:class:`weightdecay.optim.EffectiveLearningRate` with ``summary=True``).

    Parameters
    ----------
    model : nn.Module
        On the device to train on; it needs at least one convolution followed by BatchNorm
        (:class:`ConvBN`).
    train_data : pair ``(X, y)`` of arrays or tensors
        Inputs and integer class labels; moved to the model's device once.
    make_optimizer : callable
        ``make_optimizer(model) -> torch.optim.Optimizer``.
    epochs : int
        Number of epochs.
    batch_size : int
        The *global* batch: under DistributedDataParallel each of the ``world_size``
        processes takes every ``world_size``-th example of it.
    test_data : pair ``(X, y)``, optional
        Evaluated after every epoch (accuracy), outside the timed region.
    label_smoothing : float
        Label smoothing of the cross-entropy, in ``[0, 1)``.
    flip : bool
        Random horizontal flips of image batches (seeded).
    autocast : bool
        bf16 autocast on the model's device type.
    channels_last : bool
        ``channels_last`` memory format for images.
    compile : bool
        ``torch.compile`` the model.
    seed : int
        Seeds the shuffling and the flips (a private ``torch.Generator``, identical on every
        process under DDP).
    progress : bool or None
        A progress bar over epochs with the latest loss and test accuracy (on process 0
        only).  ``None`` (default) follows the environment variable ``WEIGHTDECAY_PROGRESS``
        (unset: on; ``make execute`` and ``make test`` set it to 0); see
        :func:`weightdecay.progress.progress_enabled`.
    callbacks : iterable, optional
        Callbacks with the protocol of :func:`weightdecay.training.train`:
        ``on_epoch_begin(epoch, model)``, ``on_epoch_end(epoch, model, logs) -> bool``
        (``True`` stops training; ``logs`` holds the epoch's record and may be extended) and
        ``on_train_end(model, history)``, called with the unwrapped model outside the timed
        region (e.g. :class:`weightdecay.early_stopping.EarlyStopping` on ``"test_acc"``).

    Returns
    -------
    dict
        Lists per epoch: ``"epoch"``, ``"train_loss"`` (mean over the epoch's steps, on this
        process), ``"seconds"`` (cumulative training time, excluding evaluation),
        ``"lr"``, ``"weight_norm"``, ``"effective_lr"``, ``"layer_norms"`` (one array per
        epoch) and, with ``test_data``, ``"test_acc"``; callbacks may add keys.  ``"epoch"``
        0 is the state before training (no loss, 0 seconds).  ``"stopped_epoch"`` holds
        the epoch at which a callback stopped training (``None`` if it ran to the end).

    Raises
    ------
    ValueError
        If an argument is invalid (``batch_size`` larger than the training set or not a
        multiple of the world size, a model without :class:`ConvBN` blocks, ``progress`` not a
        bool or None, ...).
    FloatingPointError
        If the training loss becomes NaN or infinite.

    Examples
    --------
    One epoch of two steps of a tiny 1-D network:

    >>> import torch
    >>> from weightdecay.cnn import fast_resnet, make_optimizer_factory, train
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(32, 16), torch.arange(32) % 10
    >>> hist = train(fast_resnet((4, 8, 8, 8), dims=1), (X, y), test_data=(X, y), epochs=1,
    ...              batch_size=16, make_optimizer=make_optimizer_factory("sgd", lr=0.05),
    ...              progress=False)
    >>> sorted(hist)  # doctest: +NORMALIZE_WHITESPACE
    ['effective_lr', 'epoch', 'layer_norms', 'lr', 'seconds', 'stopped_epoch', 'test_acc', 'train_loss',
     'weight_norm']
    >>> hist["epoch"], hist["layer_norms"][1].shape, hist["stopped_epoch"]
    ([0, 1], (8,), None)
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    label_smoothing = check_probability(label_smoothing, "label_smoothing")
    rank, world = _dist_info()
    device, X, y, test, weights = _train_inputs(model, train_data, test_data, batch_size, world)
    callbacks = list(callbacks or ())
    model, optimizer, net = _speed_setup(model, make_optimizer, device, world, channels_last, compile)
    plain = _unwrap(model)
    trace = EffectiveLearningRate(optimizer, weights, per_layer=False, summary=True)

    def record(logs: dict) -> dict:
        """Complete an epoch's ``logs`` with the norm trace and the test accuracy (untimed)."""
        trace.on_epoch_end(logs["epoch"], plain, logs)
        if test is not None:
            logs["test_acc"] = evaluate(plain, test, batch_size=1024, autocast=autocast,
                                        channels_last=channels_last)["acc"]
        return logs

    generator = torch.Generator().manual_seed(int(seed))
    history = {key: [value] for key, value in record({"epoch": 0, "train_loss": float("nan"), "seconds": 0.0}).items()}
    elapsed, stopped = 0.0, None
    epoch_bar = progress_bar(range(1, epochs + 1), desc="epochs", progress=progress_enabled(progress) and rank == 0)
    for epoch in epoch_bar:
        run_callbacks(callbacks, "on_epoch_begin", epoch, plain)
        model.train()
        batches = batch_indices(X.shape[0], batch_size, generator, drop_last=True, rank=rank, world_size=world,
                                device=device)
        flips = torch.rand(X.shape[0], generator=generator) < 0.5 if flip else None
        _sync(device)
        start = time.perf_counter()  # the timed region: the epoch's steps
        running = torch.zeros((), device=device)
        for step, idx in enumerate(batches):
            xb, yb = X[idx], y[idx]
            if flips is not None and xb.ndim == 4:
                fb = flips[step * batch_size : (step + 1) * batch_size][rank::world].to(device)
                xb = torch.where(fb.view(-1, 1, 1, 1), xb.flip(-1), xb)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                loss = F.cross_entropy(net(_memory_format(xb, channels_last)), yb, label_smoothing=label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running += loss.detach().float()
        mean_loss = float(running) / len(batches)  # float() synchronises
        _sync(device)
        elapsed += time.perf_counter() - start
        if world > 1:
            _average_buffers(model, world)
        if not math.isfinite(mean_loss):
            raise FloatingPointError(f"training loss became {mean_loss} at epoch {epoch}")
        logs = record({"epoch": epoch, "train_loss": mean_loss, "seconds": elapsed})
        if _end_epoch(callbacks, epoch, plain, logs, history, epoch_bar):
            stopped = epoch
            break
    return _end_training(callbacks, plain, history, epoch_bar, stopped)


def _train_inputs(model: nn.Module, train_data, test_data, batch_size: int, world: int):
    """Validate :func:`train`'s data; ``(device, X, y, test, names of the scale-invariant weights)``."""
    device = model_dtype_device(model)[1]
    X, y = as_tensors(train_data, device, labels=True, name="train_data")
    test = as_tensors(test_data, device, labels=True, name="test_data") if test_data is not None else None
    if batch_size > X.shape[0]:
        raise ValueError(f"batch_size must be <= the number of training examples {X.shape[0]}; got {batch_size}")
    if batch_size % world:
        raise ValueError(f"batch_size must be a multiple of the world size {world}; got {batch_size}")
    weights = [name for name, _ in scale_invariant_weights(model)]
    if not weights:
        raise ValueError("model has no convolution followed by BatchNorm (use fast_resnet or ConvBN blocks)")
    return device, X, y, test, weights


def _speed_setup(model: nn.Module, make_optimizer, device: torch.device, world: int, channels_last: bool,
                 compile: bool) -> tuple[nn.Module, torch.optim.Optimizer, nn.Module]:
    """``channels_last``, the optimiser, DDP and ``torch.compile``: ``(model, optimizer, net to call)``."""
    if not callable(make_optimizer):
        raise ValueError(f"make_optimizer must be a callable model -> optimizer; got {make_optimizer!r}")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"make_optimizer must return a torch.optim.Optimizer; got {type(optimizer).__name__}")
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return model, optimizer, torch.compile(net) if compile else net


@torch.no_grad()
def _average_buffers(model: nn.Module, world: int) -> None:
    """Average BatchNorm's running statistics over the processes, so the replicas stay identical."""
    import torch.distributed as dist

    for buf in model.buffers():
        if torch.is_floating_point(buf):
            dist.all_reduce(buf)
            buf /= world


def time_to_accuracy(history: Mapping[str, Sequence], target: float) -> tuple[int | None, float | None]:
    """First epoch at which ``history["test_acc"]`` reaches ``target``, and the seconds then.

    Parameters
    ----------
    history : mapping
        A history of :func:`train` with ``test_data``: lists ``"epoch"``, ``"test_acc"`` and
        ``"seconds"``.
    target : float
        The accuracy to reach, in ``[0, 1]``.

    Returns
    -------
    epoch : int or None
        The first epoch whose test accuracy is ``>= target``; ``None`` if none is.
    seconds : float or None
        The cumulative training time at that epoch; ``None`` if the target is never reached.

    Raises
    ------
    ValueError
        If ``target`` is not in ``[0, 1]`` or the history has no ``"test_acc"``.

    Examples
    --------
    >>> from weightdecay.cnn import time_to_accuracy
    >>> history = {"epoch": [0, 1, 2], "test_acc": [0.1, 0.8, 0.9], "seconds": [0.0, 1.5, 3.0]}
    >>> time_to_accuracy(history, 0.8)
    (1, 1.5)
    >>> time_to_accuracy(history, 0.95)
    (None, None)
    """
    target = check_probability(target, "target", allow_one=True)
    if "test_acc" not in history:
        raise ValueError("history has no 'test_acc' (train with test_data)")
    for epoch, acc, sec in zip(history["epoch"], history["test_acc"], history["seconds"]):
        if acc >= target:
            return int(epoch), float(sec)
    return None, None


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Wall-clock times (seconds) of repeated calls; ``median`` is the number to report.

    Parameters
    ----------
    times : tuple of float
        The time of each timed call, in seconds.
    device : str
        The device timed, e.g. ``"cpu"`` or ``"cuda:0"``.

    Attributes
    ----------
    median : float
        The median time.
    spread : tuple of float
        The 25th and 75th percentiles.

    Examples
    --------
    >>> from weightdecay.cnn import Timing
    >>> t = Timing((0.3, 0.1, 0.2), "cpu")
    >>> round(t.median, 3), [round(q, 3) for q in t.spread]
    (0.2, [0.15, 0.25])
    """

    times: tuple[float, ...]
    device: str

    @property
    def median(self) -> float:
        """The median time, in seconds."""
        return float(np.median(self.times))

    @property
    def spread(self) -> tuple[float, float]:
        """The 25th and 75th percentiles."""
        q = np.percentile(self.times, [25, 75])
        return float(q[0]), float(q[1])


def _check_device(device) -> torch.device:
    try:
        device = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be a torch device or its name; got {device!r}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} requested but CUDA is not available")
    return device


def _time_once(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def compare_calls(fns: Mapping[str, Callable[[], object]], *, repeats: int = 10, warmup: int = 2,
                  device=None, progress: bool | None = None) -> dict[str, Timing]:
    """Time several functions fairly: warm each up, then run them round-robin.

    Each function is called ``warmup`` times untimed (the first calls pay for allocation,
    cuDNN autotuning, compilation), then ``repeats`` rounds call every function once each
    in turn, so that a slow spell of a busy machine hits all of them alike.  On CUDA the
    queue is drained (``torch.cuda.synchronize``) before timing and every call is timed
    with CUDA events, because kernels run asynchronously and ``perf_counter`` around a launch
    measures only the launch; on the CPU ``time.perf_counter`` is used.

    Parameters
    ----------
    fns : mapping of str to callable
        The functions to time, by name; each is called without arguments.
    repeats : int
        Timed rounds (each function is timed once per round).
    warmup : int
        Untimed calls of each function first (``>= 0``).
    device : torch.device or str, optional
        The device the functions run on (default: the CPU).
    progress : bool or None
        A progress bar over the warm-up calls and the rounds (updated between timed calls,
        never inside one).  ``None`` (default) follows ``WEIGHTDECAY_PROGRESS``; see
        :func:`weightdecay.progress.progress_enabled`.

    Returns
    -------
    dict of str to Timing
        The times of each function, by name.

    Raises
    ------
    ValueError
        If ``fns`` is empty or holds something not callable, or a count or the device is
        invalid.

    Examples
    --------
    >>> from weightdecay.cnn import compare_calls
    >>> timings = compare_calls({"sum": lambda: sum(range(1000)), "noop": lambda: None},
    ...                         repeats=3, warmup=1, progress=False)
    >>> sorted(timings), len(timings["sum"].times), timings["sum"].device
    (['noop', 'sum'], 3, 'cpu')
    """
    repeats = check_positive_int(repeats, "repeats")
    warmup = check_nonnegative_int(warmup, "warmup")
    device = _check_device(device)
    if not fns or not all(callable(f) for f in fns.values()):
        raise ValueError(f"fns must be a non-empty mapping of names to callables; got {fns!r}")
    bar = progress_bar(None, desc="timing", total=warmup * len(fns) + repeats, progress=progress)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
            bar.update()
    _sync(device)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(_time_once(fn, device))
        bar.update()
    bar.close()
    return {name: Timing(tuple(t), str(device)) for name, t in times.items()}


def time_call(fn: Callable[[], object], *, repeats: int = 10, warmup: int = 2, device=None,
              progress: bool | None = None) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed ones (see :func:`compare_calls`).

    Parameters
    ----------
    fn : callable
        The function to time, called without arguments.
    repeats : int
        Timed calls.
    warmup : int
        Untimed calls first.
    device : torch.device or str, optional
        The device ``fn`` runs on (default: the CPU).
    progress : bool or None
        A progress bar over the calls; ``None`` follows ``WEIGHTDECAY_PROGRESS``.

    Returns
    -------
    Timing
        The times of the timed calls.

    Raises
    ------
    ValueError
        If ``fn`` is not callable, or a count or the device is invalid.

    Examples
    --------
    >>> from weightdecay.cnn import time_call
    >>> timing = time_call(lambda: sorted(range(1000)), repeats=5, warmup=1, progress=False)
    >>> len(timing.times), timing.median > 0
    (5, True)
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable; got {fn!r}")
    return compare_calls({"fn": fn}, repeats=repeats, warmup=warmup, device=device, progress=progress)["fn"]


# ---------------------------------------------------------------------------------------
# What a step costs
# ---------------------------------------------------------------------------------------


def count_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, *, backward: bool = True) -> int:
    r"""Floating-point operations of one forward (and backward) pass, counted by PyTorch.

    Uses ``torch.utils.flop_counter.FlopCounterMode``, which counts the matrix products and
    convolutions (a multiply-add is 2 FLOPs) — the work that dominates a step; elementwise
    operations are not counted.  A convolution with :math:`C_{in}` input and
    :math:`C_{out}` output channels, kernel :math:`k^d` and output size :math:`P` (pixels)
    costs :math:`2\,B\,P\,C_{in}C_{out}k^d` forward and about twice that backward.

    The pass runs in training mode on a copy of the model on PyTorch's ``meta`` device, which
    propagates shapes without computing anything: counting the FLOPs of a large network costs
    no arithmetic, and ``model`` (its parameters, gradients and BatchNorm statistics) is left
    untouched.

    Parameters
    ----------
    model : nn.Module
        The network.
    x : torch.Tensor
        A batch of inputs (only its shape matters).
    y : torch.Tensor, optional
        Its integer labels, needed for the backward pass (cross-entropy loss).
    backward : bool
        Count the backward pass too.

    Returns
    -------
    int
        The FLOPs of the pass over the whole batch.

    Raises
    ------
    ValueError
        If ``backward`` is true and ``y`` is missing.

    Examples
    --------
    A bias-free linear layer :math:`4 \to 3` on 2 examples: :math:`2 \cdot 2 \cdot 4 \cdot 3 = 48`
    FLOPs forward, and as many backward for the weight's gradient (the input needs none):

    >>> import torch
    >>> from weightdecay.cnn import count_flops
    >>> layer = torch.nn.Linear(4, 3, bias=False)
    >>> x, y = torch.randn(2, 4), torch.tensor([0, 2])
    >>> count_flops(layer, x, backward=False), count_flops(layer, x, y)
    (48, 96)
    """
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    if backward and y is None:
        raise ValueError("y is required when backward=True")
    meta_model = copy.deepcopy(_unwrap(model)).to("meta").train()
    x = x.to("meta")
    with FlopCounterMode(display=False) as counter:
        out = meta_model(x)
        if backward:
            F.cross_entropy(out, y.to("meta")).backward()
    return int(counter.get_total_flops())


def weight_decay_flops(params) -> int:
    r"""FLOPs that decoupled weight decay adds per step: 2 per decayed entry.

    :math:`w \leftarrow (1-\eta\lambda)\,w` is one multiply per entry, and with the update
    folded in (:math:`w \leftarrow w - \eta(\lambda w + g)`, PyTorch's SGD) one multiply-add
    — 2 FLOPs — per entry.  ``params`` is a module, an iterable of tensors, or torch param
    groups (dicts with ``"params"`` and ``"weight_decay"``; groups with zero decay count 0).

    Parameters
    ----------
    params : nn.Module, iterable of tensors or iterable of dict
        What is decayed.

    Returns
    -------
    int
        Twice the number of decayed entries.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import weight_decay_flops
    >>> layer = torch.nn.Linear(4, 3)
    >>> weight_decay_flops(layer)
    30
    >>> weight_decay_flops([{"params": [layer.weight], "weight_decay": 0.1},
    ...                     {"params": [layer.bias], "weight_decay": 0.0}])
    24
    """
    if isinstance(params, nn.Module):
        params = list(params.parameters())
    total = 0
    for p in params:
        if isinstance(p, Mapping):
            if p.get("weight_decay", 1.0) != 0:
                total += sum(q.numel() for q in p["params"])
        else:
            total += p.numel()
    return 2 * total


def make_optimizer_factory(
    name: str = "sgd",
    *,
    lr: float = 0.05,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    impl: str = "foreach",
    param_groups: Callable[[nn.Module, float], list] | None = None,
) -> Callable[[nn.Module], torch.optim.Optimizer]:
    r"""A ``make_optimizer(model)`` for SGD (with Nesterov momentum) or AdamW.

    SGD's step with ``weight_decay`` :math:`\lambda` is
    :math:`b \leftarrow \mu b + (g + \lambda w)`, :math:`w \leftarrow w - \eta(g + \lambda w + \mu b)`;
    AdamW's decay is decoupled, :math:`w \leftarrow (1-\eta\lambda)w - \eta\,\hat m/(\sqrt{\hat v}+\epsilon)`.

    ``impl`` picks PyTorch's implementation: ``"for-loop"`` (one parameter at a time),
    ``"foreach"`` (multi-tensor kernels) or ``"fused"`` (one fused kernel).  ``param_groups``
    is a callable ``(model, weight_decay) -> groups`` (for instance
    ``weightdecay.optim.decay_param_groups``); by default every parameter is decayed.

    Parameters
    ----------
    name : str
        ``"sgd"`` or ``"adamw"`` (case-insensitive).
    lr : float
        Learning rate :math:`\eta > 0`.
    weight_decay : float
        :math:`\lambda \ge 0`.
    momentum : float
        SGD's momentum :math:`\mu` in ``[0, 1)`` (Nesterov when positive); unused by AdamW.
    impl : str
        ``"for-loop"``, ``"foreach"`` or ``"fused"``.
    param_groups : callable, optional
        ``param_groups(model, weight_decay) -> list of dict``.

    Returns
    -------
    callable
        ``make_optimizer(model) -> torch.optim.Optimizer``.

    Raises
    ------
    ValueError
        If ``name`` or ``impl`` is unknown or a number is out of range.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import make_optimizer_factory
    >>> make = make_optimizer_factory("adamw", lr=1e-3, weight_decay=0.01)
    >>> opt = make(torch.nn.Linear(2, 1))
    >>> type(opt).__name__, opt.param_groups[0]["weight_decay"]
    ('AdamW', 0.01)
    """
    name = str(name).lower()
    if name not in ("sgd", "adamw"):
        raise ValueError(f"name must be 'sgd' or 'adamw'; got {name!r}")
    lr = check_learning_rate(lr)
    weight_decay = check_lambda(weight_decay, "weight_decay")
    momentum = check_momentum(momentum)
    flags = {"for-loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}
    if impl not in flags:
        raise ValueError(f"impl must be one of {list(flags)}; got {impl!r}")

    def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:
        if param_groups is None:
            groups = [{"params": [p for p in model.parameters() if p.requires_grad], "weight_decay": weight_decay}]
        else:
            groups = param_groups(model, weight_decay)
        if name == "sgd":
            return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=momentum > 0,
                                   weight_decay=weight_decay, **flags[impl])
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay, **flags[impl])

    return make_optimizer


@dataclass(frozen=True)
class OverheadResult:
    """Step times (seconds) with and without weight decay, and the overhead.

    ``overhead_percent`` is ``100 · (optimizer_with − optimizer_without) / step_without``: the
    extra time of the decaying optimiser step (measured in isolation, where the difference is
    not drowned in the noise of the whole step), as a percentage of a whole training step.
    ``step_overhead_percent`` compares whole steps directly (noisier).

    Parameters
    ----------
    optimizer : str
        ``"sgd"`` or ``"adamw"``.
    impl : str
        ``"for-loop"``, ``"foreach"`` or ``"fused"``.
    step_without : Timing
        Whole training steps without weight decay.
    step_with : Timing
        Whole training steps with weight decay.
    optimizer_without : Timing
        Optimiser steps alone, without weight decay.
    optimizer_with : Timing
        Optimiser steps alone, with weight decay.

    Attributes
    ----------
    overhead_percent : float
        The decay's extra optimiser time as a percentage of a whole step.
    step_overhead_percent : float
        The relative difference of whole steps, in percent.

    Examples
    --------
    >>> from weightdecay.cnn import OverheadResult, Timing
    >>> r = OverheadResult("sgd", "foreach", Timing((0.100,), "cpu"), Timing((0.102,), "cpu"),
    ...                    Timing((0.010,), "cpu"), Timing((0.011,), "cpu"))
    >>> round(r.overhead_percent, 3), round(r.step_overhead_percent, 3)
    (1.0, 2.0)
    """

    optimizer: str
    impl: str
    step_without: Timing
    step_with: Timing
    optimizer_without: Timing
    optimizer_with: Timing

    @property
    def overhead_percent(self) -> float:
        """Extra optimiser time with decay, in percent of a step without."""
        return 100.0 * (self.optimizer_with.median - self.optimizer_without.median) / self.step_without.median

    @property
    def step_overhead_percent(self) -> float:
        """Relative difference of whole steps, in percent."""
        return 100.0 * (self.step_with.median / self.step_without.median - 1.0)


def _train_step(net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                autocast: bool) -> Callable[[], None]:
    def step() -> None:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def weight_decay_overhead(
    make_model: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    optimizer: str = "sgd",
    impl: str = "foreach",
    weight_decay: float = 5e-4,
    lr: float = 0.01,
    param_groups: Callable[[nn.Module, float], list] | None = None,
    autocast: bool = False,
    repeats: int = 10,
    warmup: int = 2,
    progress: bool | None = None,
) -> OverheadResult:
    r"""Time a training step with and without weight decay on the same batch.

    Two identical models (``make_model()`` twice, on ``x``'s device) get the same optimiser,
    one with ``weight_decay`` and one with 0.  Whole steps (forward, backward, update) are
    timed round-robin, then the optimiser steps alone (on the gradients of one backward
    pass).  The decay itself is one elementwise pass over the decayed weights per step.

    Parameters
    ----------
    make_model : callable
        ``make_model() -> nn.Module``, called twice after ``torch.manual_seed(0)``.
    x : torch.Tensor
        A batch of inputs, on the device to time on.
    y : torch.Tensor
        Its integer labels.
    optimizer : str
        ``"sgd"`` or ``"adamw"`` (see :func:`make_optimizer_factory`).
    impl : str
        ``"for-loop"``, ``"foreach"`` or ``"fused"``.
    weight_decay : float
        The decay of the decaying model (> 0).
    lr : float
        Learning rate of both.
    param_groups : callable, optional
        ``param_groups(model, weight_decay) -> list of dict`` (default: decay everything).
    autocast : bool
        Run the steps under bf16 autocast.
    repeats : int
        Timed rounds (at least 20 for the optimiser steps alone).
    warmup : int
        Untimed calls first.
    progress : bool or None
        Progress bars over the timing rounds; ``None`` follows ``WEIGHTDECAY_PROGRESS``.

    Returns
    -------
    OverheadResult
        The four timings.

    Raises
    ------
    ValueError
        If ``weight_decay`` is not positive or an optimiser setting is invalid.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import weight_decay_overhead
    >>> x, y = torch.randn(16, 8), torch.arange(16) % 4
    >>> r = weight_decay_overhead(lambda: torch.nn.Linear(8, 4), x, y, repeats=2, warmup=1,
    ...                           progress=False)
    >>> r.optimizer, r.impl, len(r.step_with.times), len(r.optimizer_with.times)
    ('sgd', 'foreach', 2, 20)

    On a GPU, with the chapter's network (a few seconds per setting)::

        r = weight_decay_overhead(lambda: fast_resnet(), x.cuda(), y.cuda(), impl="fused",
                                  autocast=True, repeats=20, warmup=5)
    """
    weight_decay = check_positive_float(weight_decay, "weight_decay")
    device = x.device
    timings, opt_fns = {}, {}
    step_fns = {}
    for label, wd in (("without", 0.0), ("with", weight_decay)):
        torch.manual_seed(0)
        model = make_model().to(device)
        opt = make_optimizer_factory(optimizer, lr=lr, weight_decay=wd, impl=impl, param_groups=param_groups)(model)
        step_fns[label] = _train_step(model, opt, x, y, autocast)
        opt_fns[label] = opt.step
    timings.update(compare_calls(step_fns, repeats=repeats, warmup=warmup, device=device, progress=progress))
    opt_timings = compare_calls(opt_fns, repeats=max(repeats, 20), warmup=warmup, device=device, progress=progress)
    return OverheadResult(optimizer, impl, timings["without"], timings["with"],
                          opt_timings["without"], opt_timings["with"])


# ---------------------------------------------------------------------------------------
# Where speed comes from
# ---------------------------------------------------------------------------------------


def throughput(
    make_model: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    device=None,
    autocast: bool = False,
    channels_last: bool = False,
    compile: bool = False,
    data_on_device: bool = True,
    repeats: int = 10,
    warmup: int = 3,
    progress: bool | None = None,
) -> tuple[float, Timing]:
    r"""Training images per second: ``batch / median step time`` of SGD steps on ``(x, y)``.

    With ``data_on_device=False`` the batch lives in (pinned, on CUDA) host memory and is
    copied to the device in every step, as a ``DataLoader`` would; otherwise it is on the
    device already.  Returns ``(images_per_second, timing)``.

    Parameters
    ----------
    make_model : callable
        ``make_model() -> nn.Module``, called once after ``torch.manual_seed(0)``.
    x : torch.Tensor
        One batch of inputs.
    y : torch.Tensor
        Its integer labels.
    device : torch.device or str, optional
        Where to train (default: the CPU).
    autocast : bool
        bf16 autocast.
    channels_last : bool
        ``channels_last`` memory format for the model and image batches.
    compile : bool
        ``torch.compile`` the model (the warm-up calls pay for the compilation).
    data_on_device : bool
        Keep the batch on the device (``False``: copy it from host memory every step).
    repeats : int
        Timed steps.
    warmup : int
        Untimed steps first.
    progress : bool or None
        A progress bar over the steps; ``None`` follows ``WEIGHTDECAY_PROGRESS``.

    Returns
    -------
    images_per_second : float
        ``len(x)`` divided by the median step time.
    timing : Timing
        The step times.

    Raises
    ------
    ValueError
        If the device is invalid or unavailable, or a count is not a positive integer.

    Examples
    --------
    >>> import torch
    >>> from weightdecay.cnn import throughput
    >>> x, y = torch.randn(32, 8), torch.arange(32) % 4
    >>> ips, timing = throughput(lambda: torch.nn.Linear(8, 4), x, y, repeats=3, warmup=1,
    ...                          progress=False)
    >>> ips > 0, len(timing.times)
    (True, 3)

    On a GPU, everything switched on (the warm-up compiles the model, which takes a minute)::

        ips, timing = throughput(lambda: fast_resnet(), x, y, device="cuda", autocast=True,
                                 channels_last=True, compile=True)
    """
    device = _check_device(device)
    torch.manual_seed(0)
    model = make_model().to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if compile else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    if data_on_device:
        xd, yd = _memory_format(x.to(device), channels_last), y.to(device)
        step = _train_step(net, optimizer, xd, yd, autocast)
    else:
        xh, yh = x.cpu(), y.cpu()
        if device.type == "cuda":
            xh, yh = xh.pin_memory(), yh.pin_memory()

        def step() -> None:
            xb = _memory_format(xh.to(device, non_blocking=True), channels_last)
            _train_step(net, optimizer, xb, yh.to(device, non_blocking=True), autocast)()

    timing = time_call(step, repeats=repeats, warmup=warmup, device=device, progress=progress)
    return x.shape[0] / timing.median, timing


# ---------------------------------------------------------------------------------------
# The equilibrium norm
# ---------------------------------------------------------------------------------------


def norm_recursion(eta: float, lam: float, *, steps: int, grad_scale: float = 1.0, r0: float = 1.0) -> np.ndarray:
    r"""Squared norm of a scale-invariant weight under SGD with weight decay, step by step.

    With :math:`W_{t+1} = (1-\eta\lambda)W_t - \eta g_t`, :math:`g_t \perp W_t` and
    :math:`\lVert g_t\rVert = G/\lVert W_t\rVert` (the gradient of a scale-invariant loss),
    :math:`r_t = \lVert W_t\rVert^2` follows

    .. math::

        r_{t+1} = (1-\eta\lambda)^2\, r_t + \eta^2 G^2 / r_t ,

    whose fixed point is :math:`r^\star = \eta G/\sqrt{2\eta\lambda - \eta^2\lambda^2}`, so the
    effective learning rate settles at :math:`\eta/r^\star \approx \sqrt{2\eta\lambda}/G`.
    Returns :math:`r_0, \dots, r_{\text{steps}}`.

    Parameters
    ----------
    eta : float
        Learning rate :math:`\eta > 0`.
    lam : float
        Weight decay :math:`\lambda \ge 0`, with :math:`\eta\lambda < 1`.
    steps : int
        Number of steps.
    grad_scale : float
        :math:`G > 0`, the gradient norm at unit weight norm.
    r0 : float
        The initial squared norm :math:`r_0 > 0`.

    Returns
    -------
    ndarray of shape (steps + 1,)
        :math:`r_0, \dots, r_{\text{steps}}`.

    Raises
    ------
    ValueError
        If a number is out of range, in particular if :math:`\eta\lambda \ge 1`.

    Examples
    --------
    The recursion settles at the fixed point :math:`r^\star`:

    >>> import numpy as np
    >>> from weightdecay.cnn import norm_recursion
    >>> eta, lam = 0.1, 0.05
    >>> r = norm_recursion(eta, lam, steps=2000)
    >>> r_star = eta / np.sqrt(2 * eta * lam - (eta * lam) ** 2)
    >>> r.shape, round(float(r_star), 4), bool(abs(r[-1] - r_star) < 1e-9)
    ((2001,), 1.0013, True)
    """
    eta = check_positive_float(eta, "eta")
    lam = check_lambda(lam, "lam")
    if eta * lam >= 1:
        raise ValueError(f"eta * lam must be < 1 for the decay factor 1 - eta*lam to be positive; got {eta * lam}")
    steps = check_positive_int(steps, "steps")
    G = check_positive_float(grad_scale, "grad_scale")
    r = np.empty(steps + 1)
    r[0] = check_positive_float(r0, "r0")
    decay = (1 - eta * lam) ** 2
    for t in range(steps):
        r[t + 1] = decay * r[t] + (eta * G) ** 2 / r[t]
    return r
