"""Training throughput of the chapter's network, and the cost of weight decay per step.

    python benchmarks/cnn.py            # CUDA if present, else a small CPU configuration

1. Images per second of ``weightdecay.cnn.fast_resnet`` against a reference network of the
   CIFAR-10 speedrun family — ``airbench.make_net94()`` from the ``airbench`` package (Jordan
   2024), imported, never copied — on the same CIFAR-shaped random tensors, in the same
   process, timed round-robin (median of repeats, CUDA events on a GPU).  Target: the
   chapter's network within 1.2× the reference's step time at comparable FLOPs.
   ``airbench`` needs CUDA and ``torchvision``; where either is missing the benchmark says
   so and skips that peer.
2. The overhead of weight decay, as a percentage of a training step, for SGD and AdamW with
   PyTorch's for-loop, foreach and fused implementations.  Target: ≤ 1 % with foreach/fused.

Content does not change speed, so random tensors of CIFAR's shape are honest for timing.

Options: ``--csv PATH`` also writes both tables as one CSV file (columns
:data:`CSV_COLUMNS`); ``--dry-run`` uses tiny sizes on the CPU (a rehearsal of the code path,
no results), as ``benchmarks/gpu_run.py --dry-run`` does in the unit tests.
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys

import torch
import torch.nn.functional as F

from weightdecay import cnn

CUDA = torch.cuda.is_available()
DEVICE = torch.device("cuda" if CUDA else "cpu")
if CUDA:
    BATCH, WIDTHS, REPEATS = 512, (32, 64, 128, 256), 20
else:  # small enough for a laptop CPU
    torch.set_num_threads(1)
    BATCH, WIDTHS, REPEATS = 32, (8, 16, 32, 64), 7
WARMUP = 3

#: Columns of the ``--csv`` file: one row per network (``table`` = "throughput", ``role`` =
#: "ours" or "reference") and one per optimiser and implementation (``table`` = "overhead").
CSV_COLUMNS = ("table", "name", "role", "impl", "batch", "gflop_per_image", "step_ms", "images_per_s",
               "opt_ms_no_wd", "opt_ms_wd", "overhead_percent", "device", "data")
DATA = "synthetic CIFAR-shaped tensors (seeded N(0, 1) images, uniform labels)"
ROWS: list[dict] = []


def dry_run_sizes() -> None:
    """Tiny sizes on the CPU: the code path of every table in seconds, not a measurement."""
    global CUDA, DEVICE, BATCH, WIDTHS, REPEATS, WARMUP
    CUDA, DEVICE = False, torch.device("cpu")
    torch.set_num_threads(1)
    BATCH, WIDTHS, REPEATS, WARMUP = 4, (4, 4, 8, 8), 1, 0


def device_name() -> str:
    if CUDA:
        return torch.cuda.get_device_name(DEVICE)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} thread(s))"


def random_cifar_batch(n: int):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return x.to(DEVICE), y.to(DEVICE)


def load_airbench():
    """``(make_net94, None)`` if the reference can run here, else ``(None, reason)``."""
    if not CUDA:
        return None, "airbench builds its network with .cuda() and half precision: it needs a CUDA GPU"
    try:
        import airbench  # noqa: F401  (imports torchvision at import time)
    except ImportError as exc:
        return None, f"airbench is not importable ({exc}); `pip install airbench torchvision` to compare"
    return airbench.make_net94, None


def ours_step():
    torch.manual_seed(0)
    model = cnn.fast_resnet(WIDTHS).to(DEVICE).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x, y = random_cifar_batch(BATCH)
    x = x.contiguous(memory_format=torch.channels_last)

    def step():
        with torch.autocast(DEVICE.type, dtype=torch.bfloat16, enabled=CUDA):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    flops = cnn.count_flops(model, x[:8].float(), y[:8]) / 8
    return step, flops


def airbench_step(make_net94):
    torch.manual_seed(0)
    net = make_net94()  # fp16 weights (fp32 BatchNorm), channels_last, on the GPU — airbench's own setup
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x, y = random_cifar_batch(BATCH)
    x = x.half().contiguous(memory_format=torch.channels_last)

    def step():
        loss = F.cross_entropy(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x[:8]).float(), y[:8]).backward()
    net.zero_grad(set_to_none=True)
    return step, counter.get_total_flops() / 8


def throughput_table() -> None:
    print(f"\n1. Training throughput, batch {BATCH}, CIFAR-shaped tensors")
    steps, flops = {}, {}
    steps["weightdecay fast_resnet" + str(WIDTHS)], flops["weightdecay fast_resnet" + str(WIDTHS)] = ours_step()
    make_net94, reason = load_airbench()
    if make_net94 is None:
        print(f"   reference skipped: {reason}")
    else:
        steps["airbench94 (Jordan 2024)"], flops["airbench94 (Jordan 2024)"] = airbench_step(make_net94)
    timings = cnn.compare_calls(steps, repeats=REPEATS, warmup=WARMUP, device=DEVICE)
    print(f"   {'network':<40} {'GFLOP/img':>10} {'step ms':>9} {'images/s':>10}")
    for i, (name, t) in enumerate(timings.items()):
        print(f"   {name:<40} {flops[name] / 1e9:>10.3f} {1e3 * t.median:>9.2f} {BATCH / t.median:>10.0f}")
        ROWS.append({"table": "throughput", "name": name, "role": "ours" if i == 0 else "reference",
                     "batch": BATCH, "gflop_per_image": f"{flops[name] / 1e9:.4f}",
                     "step_ms": f"{1e3 * t.median:.4f}", "images_per_s": f"{BATCH / t.median:.1f}"})
    if len(timings) == 2:
        (a, ta), (b, tb) = timings.items()
        ratio = ta.median / tb.median
        print(f"   step-time ratio ours / reference: {ratio:.2f} (target <= 1.2; "
              f"FLOP ratio {flops[a] / flops[b]:.2f}) -> {'met' if ratio <= 1.2 else 'NOT met'}")


def overhead_table() -> None:
    print(f"\n2. Weight-decay overhead per training step (batch {BATCH}, median of {REPEATS} steps)")
    x, y = random_cifar_batch(BATCH)
    print(f"   {'optimizer':<8} {'impl':<9} {'step ms':>8} {'opt ms (no wd)':>15} {'opt ms (wd)':>12} "
          f"{'overhead %':>11} {'whole-step %':>13}")
    for name in ("sgd", "adamw"):
        for impl in ("for-loop", "foreach", "fused"):
            r = cnn.weight_decay_overhead(lambda: cnn.fast_resnet(WIDTHS), x, y, optimizer=name, impl=impl,
                                          autocast=CUDA, repeats=REPEATS, warmup=WARMUP)
            ROWS.append({"table": "overhead", "name": name, "impl": impl, "batch": BATCH,
                         "step_ms": f"{1e3 * r.step_without.median:.4f}",
                         "images_per_s": f"{BATCH / r.step_without.median:.1f}",
                         "opt_ms_no_wd": f"{1e3 * r.optimizer_without.median:.5f}",
                         "opt_ms_wd": f"{1e3 * r.optimizer_with.median:.5f}",
                         "overhead_percent": f"{r.overhead_percent:.4f}"})
            print(f"   {name:<8} {impl:<9} {1e3 * r.step_without.median:>8.2f} "
                  f"{1e3 * r.optimizer_without.median:>15.3f} {1e3 * r.optimizer_with.median:>12.3f} "
                  f"{r.overhead_percent:>11.2f} {r.step_overhead_percent:>13.2f}")
    print("   overhead % = (optimizer step with decay - without) / whole step; target <= 1 % (foreach/fused).")
    print("   whole-step % compares whole steps directly and is dominated by timing noise.")


def write_csv(path: str) -> None:
    """Both tables as one CSV file, columns :data:`CSV_COLUMNS`."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in ROWS:
            writer.writerow({**{k: "" for k in CSV_COLUMNS}, "device": device_name(), "data": DATA, **row})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", metavar="PATH", help="also write both tables to this CSV file")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU (a rehearsal, no results)")
    args = parser.parse_args(argv)
    if args.dry_run:
        dry_run_sizes()
    print(f"torch {torch.__version__}, device: {device_name()}" + (" [dry run: tiny sizes]" if args.dry_run else ""))
    print(f"data: {DATA}")
    throughput_table()
    overhead_table()
    if args.csv:
        write_csv(args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
