"""Benchmark: what pinned numerics cost (``weightdecay.reproducibility.pin_numerics``).

The book's chapters pin PyTorch to its baseline kernels, MKL to its portable path, oneDNN
off and numpy's loops to its baseline, so that training gives the same bits on every
x86-64 CPU.  This measures the price on workloads of the chapters' size, each run in a
fresh interpreter (the settings act only before torch loads), pinned and unpinned
alternating, one torch thread in both:

* ``mlp``   — MLP 40-256-256-10 on 4 000 examples, AdamW, 2 epochs of batch 64 (the
  MNIST-1D chapters' size);
* ``cnn``   — two 3x3 convolutions with BatchNorm on 512 grey 16x16 images, SGD + momentum,
  2 epochs of batch 64 (the CNN chapter's size);
* ``numpy`` — ``exp``, ``sin`` and ``tanh`` of a million float64 and float32 values.

It prints the median wall time of each (``REPEATS`` runs each, start-up excluded) and the
ratio pinned / unpinned, and checks that two pinned runs agree bitwise.

Run with ``python benchmarks/reproducibility.py``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys

REPEATS = 5

WORKLOAD = r"""
import sys, time, json, hashlib
import weightdecay as wd
if sys.argv[2] == "pinned":
    wd.reproducibility.pin_numerics()
import numpy as np, torch
torch.set_num_threads(1)
kind = sys.argv[1]
torch.manual_seed(0)
t0 = time.perf_counter()
if kind == "mlp":
    X = torch.randn(4000, 40); y = torch.randint(0, 10, (4000,))
    net = torch.nn.Sequential(torch.nn.Linear(40, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                              torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    for epoch in range(2):
        for i in range(0, 4000, 64):
            loss = torch.nn.functional.cross_entropy(net(X[i:i + 64]), y[i:i + 64])
            opt.zero_grad(); loss.backward(); opt.step()
    out = torch.cat([p.detach().flatten() for p in net.parameters()]).numpy()
elif kind == "cnn":
    X = torch.randn(512, 1, 16, 16); y = torch.randint(0, 10, (512,))
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3, padding=1),
                              torch.nn.BatchNorm2d(32), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(32, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    for epoch in range(2):
        for i in range(0, 512, 64):
            loss = torch.nn.functional.cross_entropy(net(X[i:i + 64]), y[i:i + 64])
            opt.zero_grad(); loss.backward(); opt.step()
    out = torch.cat([p.detach().flatten() for p in net.parameters()]).numpy()
else:
    a = np.random.default_rng(0).standard_normal(1_000_000)
    b = a.astype(np.float32)
    out = np.concatenate([np.exp(a) + np.sin(a) + np.tanh(a), (np.exp(b) + np.sin(b) + np.tanh(b)).astype(float)])
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "hash": hashlib.md5(out.tobytes()).hexdigest()}))
"""

PIN_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "NPY_DISABLE_CPU_FEATURES")


def run(kind: str, mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in PIN_VARS}
    out = subprocess.run([sys.executable, "-c", WORKLOAD, kind, mode], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import torch

    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"unpinned torch kernels: {torch.backends.cpu.get_cpu_capability()}, {REPEATS} runs each")
    print(f"{'workload':8} {'unpinned s':>11} {'pinned s':>9} {'pinned/unpinned':>16}  pinned runs agree")
    for kind in ("mlp", "cnn", "numpy"):
        times = {"unpinned": [], "pinned": []}
        hashes = set()
        for _ in range(REPEATS):
            for mode in ("unpinned", "pinned"):
                r = run(kind, mode)
                times[mode].append(r["seconds"])
                if mode == "pinned":
                    hashes.add(r["hash"])
        u, p = statistics.median(times["unpinned"]), statistics.median(times["pinned"])
        print(f"{kind:8} {u:11.3f} {p:9.3f} {p / u:16.2f}  {'yes' if len(hashes) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
