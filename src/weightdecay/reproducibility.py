"""Seeding and pinned numerics, so that every chapter prints the same numbers on any machine.

Two things make a training run differ between two computers running the same code:

* **random state** — fixed by :func:`seed_everything`;
* **floating-point kernels** — PyTorch, its BLAS (Intel MKL) and oneDNN, and numpy's own
  loops each pick a code path by the CPU's vector instructions (SSE, AVX2, AVX-512), and
  the paths round differently.  A training run turns a difference in the last bit into a
  different loss after a few epochs.  :func:`pin_numerics` makes every library take one
  code path that every x86-64 CPU runs.  For one block of code rather than the whole
  process, :func:`single_thread` runs torch on one thread and then restores the count.

What :func:`pin_numerics` pins, and why (measured with the chapters' own networks):

==========================  ===================================  ===========================
setting                     effect                               needed for
==========================  ===================================  ===========================
``ATEN_CPU_CAPABILITY``     PyTorch's kernels: the baseline      every torch computation
= ``default``               build instead of AVX2 / AVX-512
``MKL_CBWR=COMPATIBLE``     MKL (PyTorch's matrix products):     ``nn.Linear``, convolutions
                            one code path on Intel and AMD
``torch.backends.mkldnn``   oneDNN off: convolutions and         ``nn.Conv2d``
``.enabled = False``        BatchNorm take ATen's own kernels
``torch.backends.nnpack``   NNPACK off: it runs convolutions     ``nn.Conv2d`` with a batch
``.set_flags(False)``       only on AVX2 CPUs, blocked by cache  of 16 or more
                            size
``torch.set_num_threads``   one thread: no dependence on the     every torch computation
``(1)``                     core count
``NPY_DISABLE_CPU_``         numpy's loops (``exp``, ``sin``,     data generated with numpy
``FEATURES=X86_V3 ...``     ...) at numpy's baseline             that a network trains on
==========================  ===================================  ===========================

The environment variables only act if they are set before the library loads its kernels,
so a chapter calls :func:`pin_numerics` first, before it imports numpy or torch.  A library
already imported with other settings cannot be changed: :func:`pin_numerics` then warns.

Not pinned, and therefore never printed beyond the digits they determine: the BLAS/LAPACK
of numpy and scipy (OpenBLAS picks its kernels by CPU), the C library's ``exp``/``log``
(glibc uses FMA variants where the CPU has FMA), and numba's code (compiled for the host
CPU).  These compute deterministic linear algebra whose results agree to ~1e-15 relative
between CPUs; the chapters print such results to the digits that are stable, and
``make test-portable`` re-runs every chapter with all of them switched to another code
path to prove it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
import warnings

__all__ = ["PINNED_ENV", "numerics_report", "pin_numerics", "seed_everything", "single_thread"]

#: numpy's dispatched x86-64 targets above its baseline (numpy 2.x: baseline X86_V2).
_NUMPY_X86_TARGETS = ("X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR")


def _pinned_env() -> dict[str, str]:
    env = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}
    if platform.machine().lower() in ("x86_64", "amd64"):
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(_NUMPY_X86_TARGETS)
    return env


#: The environment :func:`pin_numerics` sets (on this platform) before numpy and torch load.
PINNED_ENV: dict[str, str] = _pinned_env()


def pin_numerics(*, threads: int = 1) -> dict[str, object]:
    """Make numpy and PyTorch compute the same bits on every x86-64 CPU.

    Call it once, at the very start of a program or notebook, **before** ``import numpy``
    and ``import torch``: it sets :data:`PINNED_ENV`, then (if torch is installed) imports
    torch, switches oneDNN and NNPACK off and fixes the number of threads.  Values a user set for the
    same variables are overridden, since the point is that every machine computes alike.

    The cost is speed: PyTorch's kernels run without AVX2, matrix products take MKL's
    portable path.  For the book's small networks this costs 10-40 % (measured per chapter
    in the README); for real workloads, do not pin.

    Parameters
    ----------
    threads : int, default 1
        Threads PyTorch may use.  Results are reproducible only for a fixed count.

    Returns
    -------
    dict
        :func:`numerics_report` after pinning.

    Raises
    ------
    ValueError
        If ``threads`` is not a positive integer.

    Warns
    -----
    RuntimeWarning
        If numpy or torch were imported before the call with other settings; their
        results may then differ in the last bits from the book's, and so may anything
        trained with them.  Restart the kernel and call :func:`pin_numerics` first.

    Examples
    --------
    The first lines of a program, here run in a fresh interpreter: it only acts before
    numpy and torch are imported, and a process that imported them already (as this
    doctest's) would get a warning and one torch thread for the rest of its life.
    :func:`numerics_report` shows, without changing anything, where a process stands.

    >>> import subprocess, sys
    >>> program = (
    ...     "import weightdecay as wd; wd.reproducibility.pin_numerics(); "
    ...     "import torch; print(torch.backends.cpu.get_cpu_capability())"
    ... )
    >>> run = subprocess.run(
    ...     [sys.executable, "-c", program], capture_output=True, text=True
    ... )
    >>> run.stdout.strip()
    'DEFAULT'
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer; got {threads!r}")
    os.environ.update(PINNED_ENV)
    from importlib.util import find_spec

    if find_spec("torch") is not None:
        import torch

        torch.backends.mkldnn.enabled = False
        torch.backends.nnpack.set_flags(False)
        torch.set_num_threads(threads)
    report = numerics_report()
    if not report["pinned"]:
        warnings.warn(
            "numerics are not pinned: "
            + "; ".join(report["problems"])
            + ".  Results may differ from the book's in the last bits, and training runs "
            "amplify that.  Restart the kernel and call "
            "weightdecay.reproducibility.pin_numerics() before importing numpy or torch.",
            RuntimeWarning,
            stacklevel=2,
        )
    return report


def numerics_report() -> dict[str, object]:
    """Which code paths numpy and torch use now, and whether they are the pinned ones.

    Returns
    -------
    dict
        ``torch_capability`` (``'DEFAULT'`` when pinned, else e.g. ``'AVX2'``; ``None``
        when torch is not imported), ``mkldnn`` (oneDNN enabled), ``nnpack`` (NNPACK
        enabled), ``torch_threads``,
        ``numpy_features`` (numpy's dispatched targets in use), ``pinned`` (bool) and
        ``problems`` (what is not pinned, in words).

    Examples
    --------
    It only reads the state, so it is safe anywhere (in a doctest run numpy and torch were
    imported long before, so ``pinned`` may be ``False`` here):

    >>> from weightdecay.reproducibility import numerics_report
    >>> report = numerics_report()
    >>> sorted(report)
    ['mkldnn', 'nnpack', 'numpy_features', 'pinned', 'problems', 'torch_capability', 'torch_threads']
    >>> report["pinned"] == (report["problems"] == [])
    True
    """
    problems = []
    report: dict[str, object] = {
        "torch_capability": None,
        "mkldnn": None,
        "nnpack": None,
        "torch_threads": None,
        "numpy_features": None,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        report["torch_capability"] = torch.backends.cpu.get_cpu_capability()
        report["mkldnn"] = torch.backends.mkldnn.enabled
        report["nnpack"] = bool(torch._C._get_nnpack_enabled())
        report["torch_threads"] = torch.get_num_threads()
        if report["torch_capability"] != "DEFAULT":
            problems.append(f"torch uses its {report['torch_capability']} kernels")
        if report["mkldnn"]:
            problems.append("torch uses oneDNN")
        if report["nnpack"] and torch.backends.nnpack.is_available():
            problems.append("torch uses NNPACK")
        if os.environ.get("MKL_CBWR") != PINNED_ENV["MKL_CBWR"]:
            problems.append("MKL_CBWR is not COMPATIBLE")
    if "numpy" in sys.modules and "NPY_DISABLE_CPU_FEATURES" in PINNED_ENV:
        from numpy._core._multiarray_umath import __cpu_features__

        used = [t for t in _NUMPY_X86_TARGETS if __cpu_features__.get(t)]
        report["numpy_features"] = used
        if used:
            problems.append(f"numpy uses its {'/'.join(used)} loops")
    report["pinned"] = not problems
    report["problems"] = problems
    return report


def seed_everything(seed: int = 0):
    """Seed Python's ``random``, NumPy's global generator and, if it is importable, torch.

    Every chapter calls this in its first cell.  torch is seeded (CPU and every CUDA device)
    only if it is installed; importing it here is deliberate, because a chapter that seeds
    is about to use it, while ``import weightdecay`` alone never imports torch.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Returns
    -------
    numpy.random.Generator
        A fresh ``np.random.default_rng(seed)``: pass it explicitly to the package's
        functions rather than relying on global state.

    Raises
    ------
    ValueError
        If ``seed`` is not an integer >= 0.

    Examples
    --------
    >>> import random
    >>> import numpy as np
    >>> from weightdecay.reproducibility import seed_everything
    >>> rng = seed_everything(0)
    >>> first = (random.random(), np.random.random(), rng.random())
    >>> rng = seed_everything(0)
    >>> (random.random(), np.random.random(), rng.random()) == first
    True
    """
    import numpy as np

    from .validation import check_nonnegative_int

    seed = check_nonnegative_int(seed, "seed")
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses started from here
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules or _torch_available():
        import torch

        torch.manual_seed(seed)  # also seeds every CUDA device
    return np.random.default_rng(seed)


@contextlib.contextmanager
def single_thread():
    """Run torch on one CPU thread inside the ``with`` block, then restore the thread count.

    The one helper for single-threaded runs: every training loop and experiment of the
    package that sets the thread count uses it, and so do the chapters.  The book's
    networks are tiny: one thread is as fast as several, is not slowed down by other
    processes competing for the cores, and gives the same floating-point reductions on
    every machine, whatever its number of cores.  Unlike :func:`pin_numerics`, which fixes
    the thread count for the whole process, it changes nothing outside the block.  It
    imports torch.

    Yields
    ------
    None
        The block runs with ``torch.get_num_threads() == 1``.

    Examples
    --------
    >>> import torch
    >>> import weightdecay as wd
    >>> before = torch.get_num_threads()
    >>> with wd.reproducibility.single_thread():
    ...     print(torch.get_num_threads())
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _torch_available() -> bool:
    from importlib.util import find_spec

    return find_spec("torch") is not None

