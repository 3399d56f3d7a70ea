"""The CNN chapter's GPU run in one command: the chapter on the CUDA path, and the benchmark.

Use ``bash benchmarks/gpu_run.sh`` (or ``make gpu-run``): the shell script installs the
carried wheels and the project, then calls this program.  Its header says how to prepare
and start a run on a remote GPU machine, and what to do with the results.

What it does, in this order, within a time budget (``--budget``, default 400 s):

1. Logs the machine: Python, torch, CUDA, the GPU's name, the versions of the carried
   packages, and which data each measurement uses.
2. Runs ``benchmarks/cnn.py --csv`` in a subprocess (at most 150 s): images per second of
   the chapter's network against airbench's ``make_net94`` on synthetic CIFAR-shaped
   tensors, and the weight-decay overhead of SGD and AdamW (for-loop, foreach, fused).
3. Executes ``book/chapters/cnn_speed.ipynb`` in place with nbclient (a private ``python3``
   kernelspec for this interpreter), with the cells' timeouts cut to what is left of the
   budget, and strips the execution timestamps as ``make execute`` does.
4. Compares the outputs of every cell that strict nbval checks (those without
   ``# NBVAL_IGNORE_OUTPUT``) with the stored ones, sanitised as ``book/nbval_sanitize.cfg``
   says, and writes a *merged* notebook: the stored notebook with the outputs of the GPU
   cells (ignored cells that branch on ``if GPU``) taken from this run.
5. Writes ``summary.md`` with the tables, the time-to-accuracy lines and PASS/FAIL lines for
   the targets: step time <= 1.2x the reference network's, weight-decay overhead <= 1 % of a
   step (foreach and fused).

Files written to ``--out`` (flat, at most 8): ``gpu_run.log``, ``benchmark.txt``,
``benchmark.csv``, ``cnn_speed.ipynb`` (as executed), ``cnn_speed.merged.ipynb``,
``summary.md``.

``--dry-run`` rehearses every step on the CPU in seconds: tiny benchmark sizes, and only the
notebook's first code cell and its GPU cells (which print a note on the CPU), executed into
``--out`` (the chapter in the repository is left alone).  ``tests/test_gpu_run.py`` runs it.

Without ``--out`` the program does nothing (``make benchmarks`` runs every script here).
"""

from __future__ import annotations

import argparse
import configparser
import copy
import csv
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "book" / "chapters" / "cnn_speed.ipynb"
SANITIZE_CFG = ROOT / "book" / "nbval_sanitize.cfg"
RUFF_TOML = ROOT / "book" / "ruff.toml"
BENCHMARK = ROOT / "benchmarks" / "cnn.py"

LOG, BENCH_TXT, BENCH_CSV = "gpu_run.log", "benchmark.txt", "benchmark.csv"
EXECUTED, MERGED, SUMMARY = "cnn_speed.ipynb", "cnn_speed.merged.ipynb", "summary.md"
OUTPUT_FILES = (LOG, BENCH_TXT, BENCH_CSV, EXECUTED, MERGED, SUMMARY)

TARGET_RATIO = 1.2  # step time of the chapter's network / the reference network's
TARGET_OVERHEAD = 1.0  # weight-decay overhead, % of a training step (foreach and fused)
BENCHMARK_TIMEOUT = 150.0
DEFAULT_BUDGET = 400.0  # seconds for the benchmark and the notebook (GPU_RUN_BUDGET_S)
PACKAGES = ("nbclient", "nbformat", "ipykernel", "jupyter_client", "pyzmq", "tornado", "ipython", "torchvision",
           "airbench", "mnist1d", "weightdecay")

#: How the chapter's GPU time-to-accuracy cell calls the experiment: ``ex`` is
#: ``weightdecay.experiments.cnn_speed``, imported in the chapter's first code cell.
TTA_CALL = "ex.time_to_accuracy_experiment("

_IGNORE = re.compile(r"^\s*#\s*NBVAL_IGNORE_OUTPUT\b", re.M)
_SKIP = re.compile(r"^\s*#\s*NBVAL_SKIP\b", re.M)
_GPU_BRANCH = re.compile(r"^\s*if GPU\b", re.M)


class Log:
    """Print to stdout and append to a file, flushing every line."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, *lines: str) -> None:
        text = "\n".join(lines)
        print(text, flush=True)
        with open(self.path, "a") as f:
            f.write(text + "\n")


# ---------------------------------------------------------------------------- notebooks


def is_ignored(cell) -> bool:
    """A code cell whose outputs strict nbval does not compare."""
    return cell.cell_type == "code" and bool(_IGNORE.search(cell.source) or _SKIP.search(cell.source))


def is_gpu_cell(cell) -> bool:
    """An ignored code cell that branches on ``if GPU``: its outputs come from the GPU run."""
    return is_ignored(cell) and bool(_GPU_BRANCH.search(cell.source))


def dry_run_notebook(nb):
    """The chapter cut to its first code cell and its GPU cells (seconds on a CPU)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    keep = {id(code[0])} | {id(c) for c in code if is_gpu_cell(c)}
    small = copy.deepcopy(nb)
    small.cells = [copy.deepcopy(c) for c in nb.cells if id(c) in keep]
    return small


def load_sanitizers(path: Path = SANITIZE_CFG) -> list[tuple[re.Pattern, str]]:
    """The ``regex``/``replace`` pairs of an nbval sanitize file (none if it is missing)."""
    if not path.exists():
        return []
    parser = configparser.ConfigParser()
    parser.read(path)
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def output_signature(cell, sanitizers=()) -> list[tuple[str, str]]:
    """What nbval compares in a cell's outputs: streams joined by name, plain-text results,
    error names; sanitised.  Images are not compared (nbval does not compare them either)."""
    sig: list[tuple[str, str]] = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            key, text = f"stream:{out.get('name')}", out.get("text", "")
            if sig and sig[-1][0] == key:
                sig[-1] = (key, sig[-1][1] + text)
                continue
        elif kind in ("execute_result", "display_data"):
            key, text = kind, out.get("data", {}).get("text/plain", "")
        elif kind == "error":
            key, text = "error", out.get("ename", "")
        else:
            continue
        sig.append((key, text))
    result = []
    for key, text in sig:
        for regex, replace in sanitizers:
            text = regex.sub(replace, text)
        result.append((key, text))
    return result


def _cell_key(cell, index: int):
    return cell.get("id") or index


def compare_outputs(stored, executed, sanitizers=()) -> list[str]:
    """Cells checked by strict nbval whose executed outputs differ from the stored ones.

    Cells are matched by id (by position where a notebook has no ids); cells of ``stored``
    that ``executed`` lacks (a dry run executes a subset) are not compared.  Returns one line
    per differing cell, naming its position in ``stored`` and the first differing output.
    """
    ran = {_cell_key(c, i): c for i, c in enumerate(executed.cells) if c.cell_type == "code"}
    problems = []
    for i, cell in enumerate(stored.cells):
        key = _cell_key(cell, i)
        if cell.cell_type != "code" or is_ignored(cell) or key not in ran:
            continue
        if ran[key].source != cell.source:
            problems.append(f"cell {i}: the executed source differs from the stored one")
            continue
        a, b = output_signature(cell, sanitizers), output_signature(ran[key], sanitizers)
        if a != b:
            first = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            want = a[first][1][:120] if first < len(a) else "(nothing)"
            got = b[first][1][:120] if first < len(b) else "(nothing)"
            problems.append(f"cell {i}: output {first} differs: stored {want!r}, executed {got!r}")
    return problems


def merge_gpu_outputs(stored, executed):
    """The stored notebook with the outputs of its GPU cells taken from ``executed``."""
    ran = {_cell_key(c, i): c for i, c in enumerate(executed.cells) if c.cell_type == "code"}
    merged = copy.deepcopy(stored)
    for i, cell in enumerate(merged.cells):
        key = _cell_key(cell, i)
        if is_gpu_cell(cell) and key in ran and ran[key].source == cell.source:
            cell.outputs = copy.deepcopy(ran[key].outputs)
            cell.execution_count = ran[key].execution_count
    return merged


def cell_text(cell) -> str:
    """The text a cell printed (streams and plain-text results)."""
    return "".join(text for _, text in output_signature(cell))


def wide_lines(nb, width: int, cells=None) -> list[str]:
    """Printed lines longer than ``width`` characters, in ``cells`` (default: all)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or (cells is not None and i not in cells):
            continue
        for line in cell_text(cell).splitlines():
            if len(line) > width:
                found.append(f"cell {i} ({len(line)} chars): {line[:60]}...")
    return found


def strip_timestamps(nb) -> None:
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def _private_kernelspec(directory: Path) -> None:
    """A ``python3`` kernelspec for this interpreter, found first through ``JUPYTER_PATH``."""
    spec = directory / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"}))
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(directory), *filter(None, [os.environ.get("JUPYTER_PATH")])])


def execute(nb, cwd: Path, deadline: float, log: Log) -> str | None:
    """Execute ``nb`` in place; ``None`` on success, else what went wrong (outputs kept)."""
    import nbclient

    os.environ.pop("MPLBACKEND", None)  # the chapter's figures need the inline backend
    os.environ["WEIGHTDECAY_PROGRESS"] = "0"  # no progress bars in the stored outputs (as in make execute)
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    tmp = Path(tempfile.mkdtemp(prefix="gpu_run_kernel_"))
    _private_kernelspec(tmp)
    started: dict[int, float] = {}

    def timeout_for(cell) -> int:
        return max(10, int(deadline - time.monotonic()))

    def on_start(cell, cell_index, **_):
        started[cell_index] = time.monotonic()

    def on_done(cell, cell_index, **_):
        if cell.cell_type == "code":
            log(f"   cell {cell_index:>2} done in {time.monotonic() - started.get(cell_index, time.monotonic()):6.1f} s")

    client = nbclient.NotebookClient(
        nb, timeout_func=timeout_for, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
        on_cell_start=on_start, on_cell_executed=on_done,
    )
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
        first = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {first[-1] if first else ''}"[:400]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return None


# ---------------------------------------------------------------------------- benchmark


def read_benchmark(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def target_lines(rows: list[dict], *, dry_run: bool) -> list[str]:
    """PASS/FAIL (SKIP in a dry run) lines for the two targets, from ``benchmarks/cnn.py``'s CSV."""
    lines = []
    ours = [r for r in rows if r["table"] == "throughput" and r["role"] == "ours"]
    ref = [r for r in rows if r["table"] == "throughput" and r["role"] == "reference"]
    if ours and ref:
        ratio = float(ours[0]["step_ms"]) / float(ref[0]["step_ms"])
        status = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        lines.append(f"{status} step time {ours[0]['name']} / {ref[0]['name']} = {ratio:.2f} "
                     f"(target <= {TARGET_RATIO})")
    else:
        status = "SKIP" if dry_run else "FAIL"
        lines.append(f"{status} step time against the reference: the reference network did not run")
    over = [r for r in rows if r["table"] == "overhead" and r["impl"] in ("foreach", "fused")]
    if over:
        worst = max(over, key=lambda r: float(r["overhead_percent"]))
        value = float(worst["overhead_percent"])
        status = "PASS" if value <= TARGET_OVERHEAD else "FAIL"
        each = ", ".join(f"{r['name']} {r['impl']} {float(r['overhead_percent']):.2f}" for r in over)
        lines.append(f"{status} weight-decay overhead, largest of foreach/fused = {value:.2f} % of a step "
                     f"(target <= {TARGET_OVERHEAD:g} %; {each})")
    else:
        lines.append("FAIL weight-decay overhead: no foreach/fused rows in the benchmark table")
    return lines


def run_benchmark(out: Path, dry_run: bool, timeout: float, log: Log) -> list[dict] | None:
    cmd = [sys.executable, str(BENCHMARK), "--csv", str(out / BENCH_CSV)] + (["--dry-run"] if dry_run else [])
    log(f"$ {' '.join(cmd[1:])}   (at most {timeout:.0f} s)")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "WEIGHTDECAY_PROGRESS": "0"}  # no bars in benchmark.txt
    with open(out / BENCH_TXT, "w") as f:
        try:
            proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, env=env, cwd=ROOT)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    text = (out / BENCH_TXT).read_text()
    log(text.rstrip())
    if rc != 0 or not (out / BENCH_CSV).exists():
        log(f"benchmark failed (exit {rc})")
        return None
    return read_benchmark(out / BENCH_CSV)


# ---------------------------------------------------------------------------- the run


def describe_machine(log: Log, dry_run: bool) -> tuple[bool, str]:
    log(f"date (UTC): {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}",
        f"python {platform.python_version()} at {sys.executable}")
    if dry_run:  # the CPU whatever is there; torch is not imported here (seconds saved in the tests)
        cuda, name = False, f"CPU ({platform.machine()})"
        log(f"torch {importlib.metadata.version('torch')} (not imported here)")
    else:
        import torch

        cuda = torch.cuda.is_available()
        name = torch.cuda.get_device_name(0) if cuda else f"CPU ({platform.machine()})"
        log(f"torch {torch.__version__}, CUDA build {torch.version.cuda}, cuda available {cuda}")
    log(f"device: {name}" + (" [dry run]" if dry_run else ""))
    if cuda:
        p = torch.cuda.get_device_properties(0)
        log(f"   {p.multi_processor_count} SMs, {p.total_memory / 2**30:.0f} GiB, capability {p.major}.{p.minor}")
        if shutil.which("nvidia-smi"):
            smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
            log("   " + smi.stdout.strip())
    versions = []
    for pkg in PACKAGES:
        try:
            versions.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{pkg} MISSING")
    log("packages: " + ", ".join(versions))
    return cuda, name


def data_statement() -> list[str]:
    try:
        from weightdecay.cifar10 import ARCHIVE_NAME, data_dir

        archive = data_dir() / ARCHIVE_NAME
    except Exception as exc:  # the package itself did not import: say so, the run will fail later
        return [f"data: cannot locate the data directory ({exc})"]
    tta = (f"CIFAR-10 from {archive}" if archive.exists() else
           f"MNIST-1D, 50 000 signals generated by the mnist1d package (no CIFAR-10 archive at {archive}; "
           "no internet to download it)")
    return ["data: throughput and weight-decay overhead on synthetic CIFAR-shaped tensors (seeded random "
            "images); content does not change speed",
            f"data: the chapter's GPU time-to-accuracy cell uses {tta}",
            "data: the chapter's CPU cells use MNIST-1D (2 500 signals) as stored"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the results (required; see the module docstring)")
    parser.add_argument("--dry-run", action="store_true", help="rehearse on the CPU with tiny sizes")
    parser.add_argument("--budget", type=float, default=float(os.environ.get("GPU_RUN_BUDGET_S", DEFAULT_BUDGET)),
                        help="seconds for the benchmark and the notebook together (default 400)")
    parser.add_argument("--skip-benchmark", action="store_true", help="only the notebook")
    parser.add_argument("--skip-notebook", action="store_true", help="only the benchmark")
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.out is None:
        print("gpu_run.py: nothing to do without --out; the GPU run is `bash benchmarks/gpu_run.sh` "
              "(see its header), the CPU rehearsal `GPU_RUN_DRY=1 bash benchmarks/gpu_run.sh`.")
        return 0
    t0 = time.monotonic()
    deadline = t0 + args.budget
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_FILES[1:]:
        (out / name).unlink(missing_ok=True)
    log = Log(out / LOG)
    log("== gpu_run" + (" DRY RUN (CPU, tiny sizes: a rehearsal, not results)" if args.dry_run else ""))
    cuda, device = describe_machine(log, args.dry_run)
    if not cuda and not args.dry_run:
        log("FAIL no CUDA GPU here: refusing to overwrite the chapter with CPU outputs (use --dry-run).")
        return 3
    statement = data_statement()
    log(*statement)
    results, problems, ok = [], [], True

    rows = None
    if not args.skip_benchmark:
        log("", "== benchmark")
        t = time.monotonic()
        rows = run_benchmark(out, args.dry_run, min(BENCHMARK_TIMEOUT, max(10.0, deadline - t)), log)
        log(f"benchmark: {time.monotonic() - t:.1f} s")
        if rows is None:
            ok = False
            results.append("FAIL benchmarks/cnn.py did not finish (see benchmark.txt)")
        else:
            results += target_lines(rows, dry_run=args.dry_run)

    tta_text = ""
    if not args.skip_notebook:
        import nbformat

        log("", f"== notebook {args.notebook.relative_to(ROOT) if args.notebook.is_relative_to(ROOT) else args.notebook}")
        stored = nbformat.read(args.notebook, as_version=4)
        nb = dry_run_notebook(stored) if args.dry_run else copy.deepcopy(stored)
        gpu_cells = [i for i, c in enumerate(stored.cells) if is_gpu_cell(c)]
        log(f"{sum(c.cell_type == 'code' for c in nb.cells)} code cells to run; GPU cells (positions): {gpu_cells}"
            f"; {max(0, deadline - time.monotonic()):.0f} s left")
        t = time.monotonic()
        error = execute(nb, args.notebook.parent, deadline, log)
        log(f"notebook: {time.monotonic() - t:.1f} s")
        strip_timestamps(nb)
        if not args.dry_run:
            nbformat.write(nb, args.notebook)  # in place, as `make execute` does
        nbformat.write(nb, out / EXECUTED)
        merged = merge_gpu_outputs(stored, nb)
        nbformat.write(merged, out / MERGED)
        if error:
            ok = False
            results.append(f"FAIL the notebook did not run to the end: {error}")
        else:
            results.append("PASS the notebook ran to the end")
        ran = {_cell_key(c, i): c for i, c in enumerate(nb.cells)}
        expect = device if cuda else "No CUDA GPU"
        missing = [i for i in gpu_cells
                   if _cell_key(stored.cells[i], i) not in ran or expect not in cell_text(ran[_cell_key(stored.cells[i], i)])]
        results.append(("FAIL" if missing or not gpu_cells else "PASS")
                       + f" the GPU cells {gpu_cells} print {expect!r}" + (f" (not: {missing})" if missing else ""))
        problems = compare_outputs(stored, nb, load_sanitizers())
        if problems:
            results.append(f"FAIL {len(problems)} cell(s) checked by strict nbval differ from the stored outputs "
                           f"(commit {MERGED}, not {EXECUTED}; see the log)")
            log("cells checked by strict nbval whose outputs differ:", *("   " + p for p in problems))
        else:
            results.append("PASS the cells checked by strict nbval print what is stored")
        if RUFF_TOML.exists():
            width = int(re.search(r"line-length\s*=\s*(\d+)", RUFF_TOML.read_text()).group(1))
            wide = wide_lines(merged, width, set(gpu_cells))
            results.append(("FAIL" if wide else "PASS") + f" the GPU cells' printed lines fit {width} characters"
                           + (f" ({len(wide)} wider; see the log)" if wide else ""))
            if wide:
                log(f"printed lines wider than {width} characters:", *("   " + w for w in wide))
        tta_cells = [i for i in gpu_cells if TTA_CALL in stored.cells[i].source]
        for i in tta_cells:
            key = _cell_key(stored.cells[i], i)
            if key in ran:
                tta_text += cell_text(ran[key])

    elapsed = time.monotonic() - t0
    results.append(("PASS" if elapsed <= args.budget + 30 else "FAIL")
                   + f" benchmark and notebook took {elapsed:.0f} s (budget {args.budget:.0f} s)")
    write_summary(out, args.dry_run, device, statement, results, tta_text, problems)
    log("", "== results" + (" (DRY RUN)" if args.dry_run else ""), *results)
    log(f"files in {out}: {', '.join(sorted(p.name for p in out.iterdir()))}")
    return 0 if ok else 1


def write_summary(out: Path, dry_run: bool, device: str, statement, results, tta_text: str, problems) -> None:
    bench = (out / BENCH_TXT).read_text() if (out / BENCH_TXT).exists() else "(not run)\n"
    keep = MERGED if problems else EXECUTED
    lines = [
        "# The CNN chapter's GPU run" + (" — DRY RUN on the CPU (tiny sizes, not results)" if dry_run else ""),
        "",
        f"Device: {device}.",
        "",
        *[f"- {s.removeprefix('data: ')}" for s in statement],
        "",
        "## Results",
        "",
        *[f"    {r}" for r in results],
        "",
        "## Benchmark (benchmarks/cnn.py)",
        "",
        *["    " + line for line in bench.rstrip().splitlines()],
        "",
        "## Time to accuracy (the chapter's GPU cell)",
        "",
        *(["    " + line for line in tta_text.rstrip().splitlines()] or ["    (not run)"]),
        "",
        "## The notebook",
        "",
        f"Copy `{keep}` to `book/chapters/cnn_speed.ipynb`, then run strict nbval and the "
        "portability check on it on the CPU.",
        "",
    ]
    (out / SUMMARY).write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
