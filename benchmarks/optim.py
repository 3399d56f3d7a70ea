"""Benchmark: what weight decay costs per optimiser step, and the reference rules' speed.

Part 1 — the cost of weight decay.  For a small CNN on CPU (two convolutions with
BatchNorm, a linear head; a batch of 64 grey 28x28 images) and for each optimiser
(``SGD`` with momentum, ``Adam``, ``AdamW``) and each of PyTorch's implementations
(``foreach=False``: a Python loop over the parameters; ``foreach=True``: multi-tensor
kernels; ``fused=True``: one fused kernel, where available on CPU), we time

* ``optimizer.step()`` alone, with ``weight_decay=0`` and with ``weight_decay>0``
  (PyTorch skips the decay entirely when it is 0), and
* a full training step (``zero_grad``, forward, backward, ``step``),

and report the extra time of decay as a percentage of the full training step.  The
parameters are split with :func:`weightdecay.optim.decay_param_groups` (weights decayed,
biases and BatchNorm parameters not), as a real run would be.

Part 2 — the reference update rules of :mod:`weightdecay.optim` (written from the math,
one parameter at a time) against the ``torch.optim`` step they are tested against, on the
same CNN's parameters: median step times and ratios.

Every timing is the median of ``REPEATS`` blocks of ``INNER`` calls after a warm-up, the
compared variants alternating within each repeat.  torch runs on one thread
(:func:`weightdecay.reproducibility.single_thread`; the book's networks are tiny, and one
thread is also what the book's experiments use).

Run with ``python benchmarks/optim.py``.
"""

from __future__ import annotations

import datetime
import os
import platform
import time

import numpy as np
import torch
from torch import nn

from weightdecay import optim as wo
from weightdecay.reproducibility import single_thread

REPEATS = 15
INNER = 20
BATCH = 64
WEIGHT_DECAY = 5e-4


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(BATCH, 1, 28, 28, generator=g), torch.randint(0, 10, (BATCH,), generator=g)


def median_times(fns, repeats=REPEATS, inner=INNER):
    """Warm each function up, then time blocks of ``inner`` calls alternately; median seconds per call."""
    for fn in fns:
        for _ in range(3):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            ts.append((time.perf_counter() - start) / inner)
    return [float(np.median(ts)) for ts in times]


def make(kind: str, impl: str, weight_decay: float, model: nn.Module) -> torch.optim.Optimizer:
    groups = wo.decay_param_groups(model, weight_decay)
    flags = {"loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[impl]
    if kind == "SGD":
        return torch.optim.SGD(groups, lr=0.01, momentum=0.9, **flags)
    if kind == "Adam":
        return torch.optim.Adam(groups, lr=1e-3, **flags)
    return torch.optim.AdamW(groups, lr=1e-3, **flags)


def with_gradients(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = small_cnn()
    X, y = batch()
    nn.functional.cross_entropy(model(X), y).backward()
    return model


def training_step(model, optimizer, X, y):
    def step():
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()

    return step


def cost_of_weight_decay() -> None:
    print("\n1. Extra time of weight decay per optimiser step, as a % of a full training step")
    print(f"   small CNN ({sum(p.numel() for p in small_cnn().parameters()):,} parameters), batch {BATCH}, "
          f"weight_decay={WEIGHT_DECAY} on the weights only")
    header = f"   {'optimiser':<10}{'impl':<9}{'step, no decay':>16}{'step, decay':>14}{'decay extra':>13}{'train step':>13}{'decay / train step':>20}"
    print(header)
    X, y = batch(1)
    for kind in ("SGD", "Adam", "AdamW"):
        for impl in ("loop", "foreach", "fused"):
            models = [with_gradients(), with_gradients()]
            try:
                opts = [make(kind, impl, wd, m) for wd, m in zip((0.0, WEIGHT_DECAY), models)]
                opts[0].step()
            except (RuntimeError, ValueError) as exc:  # an implementation missing on this build
                print(f"   {kind:<10}{impl:<9}  not available: {str(exc).splitlines()[0][:60]}")
                continue
            t_plain, t_decay = median_times([opts[0].step, opts[1].step])
            train_model = small_cnn()
            train_opt = make(kind, impl, WEIGHT_DECAY, train_model)
            (t_train,) = median_times([training_step(train_model, train_opt, X, y)], repeats=REPEATS, inner=5)
            extra = t_decay - t_plain
            print(f"   {kind:<10}{impl:<9}{t_plain * 1e6:>13.0f} us{t_decay * 1e6:>11.0f} us{extra * 1e6:>10.0f} us"
                  f"{t_train * 1e3:>10.2f} ms{100 * extra / t_train:>19.2f}%")


def reference_rules_against_torch() -> None:
    print("\n2. Reference update rules (weightdecay.optim) against torch.optim, optimizer.step() only")
    print(f"   {'rule':<10}{'torch.optim, for-loop':<30}{'ours':>10}{'torch':>10}{'ours / torch':>14}")
    pairs = [
        ("SGDL2", lambda p: wo.SGDL2(p, lr=0.01, momentum=0.9), "SGD(momentum, weight_decay)",
         lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, foreach=False)),
        ("SGDW", lambda p: wo.SGDW(p, lr=0.01, momentum=0.9), "SGD(momentum, weight_decay)",
         lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, foreach=False)),
        ("AdamL2", lambda p: wo.AdamL2(p, lr=1e-3), "Adam(weight_decay)",
         lambda p: torch.optim.Adam(p, lr=1e-3, foreach=False)),
        ("AdamW", lambda p: wo.AdamW(p, lr=1e-3), "AdamW",
         lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=False)),
    ]
    for name, ours, torch_name, theirs in pairs:
        m1, m2 = with_gradients(), with_gradients()
        o1 = ours(wo.decay_param_groups(m1, WEIGHT_DECAY))
        o2 = theirs(wo.decay_param_groups(m2, WEIGHT_DECAY))
        t_ours, t_torch = median_times([o1.step, o2.step])
        print(f"   {name:<10}{torch_name:<30}{t_ours * 1e6:>7.0f} us{t_torch * 1e6:>7.0f} us{t_ours / t_torch:>13.2f}x")


def main() -> None:
    with single_thread():
        print("weightdecay benchmark: optimisers")
        print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}  torch {torch.__version__}  "
              f"{platform.processor() or platform.machine()}"
              f"  {os.cpu_count()} CPUs, torch threads: {torch.get_num_threads()}")
        print(f"medians of {REPEATS} repeats; the machine may be shared, so compare ratios, not absolute times")
        cost_of_weight_decay()
        reference_rules_against_torch()


if __name__ == "__main__":
    main()
