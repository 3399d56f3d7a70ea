"""benchmarks/gpu_run.sh: the CNN chapter's GPU run, rehearsed on the CPU so that it cannot rot.

One dry run (``GPU_RUN_DRY=1``: tiny benchmark sizes, the chapter's first code cell and its
GPU cells executed by a Jupyter kernel into a temporary ``$OUT``) is checked for the files,
the table's columns, the device named in the log and the PASS/FAIL lines; the notebook
helpers (output comparison as strict nbval does it, the merge of the GPU cells' outputs,
the targets) are checked on small hand-made notebooks; and the wheel list and the documented
remote call are checked against what the GPU machine accepts.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_run.sh"
NOTEBOOK = ROOT / "book" / "chapters" / "cnn_speed.ipynb"
COLUMNS = ["table", "name", "role", "impl", "batch", "gflop_per_image", "step_ms", "images_per_s",
           "opt_ms_no_wd", "opt_ms_wd", "overhead_percent", "device", "data"]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu_run = _load("gpu_run", ROOT / "benchmarks" / "gpu_run.py")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------ the dry run


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_out")
    before = _sha(NOTEBOOK)
    env = {**os.environ, "GPU_RUN_DRY": "1", "OUT": str(out), "PYTHON": sys.executable, "MPLBACKEND": "Agg"}
    proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    return out, proc, before


def test_dry_run_succeeds_and_leaves_the_chapter_alone(dry_run):
    out, proc, before = dry_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _sha(NOTEBOOK) == before


def test_dry_run_writes_the_expected_files_flat(dry_run):
    out, _, _ = dry_run
    found = sorted(p.name for p in out.iterdir())
    assert found == sorted(gpu_run.OUTPUT_FILES)
    assert len(found) <= 8 and all((out / name).is_file() for name in found)
    assert all((out / name).stat().st_size < 16 * 2**20 for name in found)


def test_log_names_the_cpu_and_the_data(dry_run):
    log = (dry_run[0] / "gpu_run.log").read_text()
    assert re.search(r"^device: CPU \(.+\) \[dry run\]$", log, re.M)
    assert "CUDA GPU:" not in log
    assert re.search(r"^data: .*time-to-accuracy cell uses (MNIST-1D|CIFAR-10)", log, re.M)
    assert "DRY RUN" in log


def test_benchmark_table_has_the_columns_and_sane_numbers(dry_run):
    with open(dry_run[0] / "benchmark.csv", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == COLUMNS
    ours = [r for r in rows if r["table"] == "throughput"]
    assert [r["role"] for r in ours] == ["ours"]  # airbench needs CUDA: no reference on the CPU
    assert float(ours[0]["step_ms"]) > 0 and float(ours[0]["images_per_s"]) > 0
    assert float(ours[0]["gflop_per_image"]) > 0
    over = {(r["name"], r["impl"]): r for r in rows if r["table"] == "overhead"}
    assert set(over) == {(o, i) for o in ("sgd", "adamw") for i in ("for-loop", "foreach", "fused")}
    for r in over.values():
        assert float(r["step_ms"]) > float(r["opt_ms_no_wd"]) > 0
        assert abs(float(r["overhead_percent"])) < 100
    assert all(r["device"].startswith("CPU") and "synthetic" in r["data"] for r in rows)


def test_summary_has_the_result_lines(dry_run):
    text = (dry_run[0] / "summary.md").read_text()
    assert "DRY RUN" in text
    assert "SKIP step time against the reference" in text
    assert re.search(r"(PASS|FAIL) weight-decay overhead, largest of foreach/fused = -?[\d.]+ %", text)
    assert "PASS the notebook ran to the end" in text
    assert re.search(r"PASS the GPU cells \[[\d, ]+\] print 'No CUDA GPU'", text)
    assert "PASS the cells checked by strict nbval print what is stored" in text
    assert "1. Training throughput" in text and "2. Weight-decay overhead" in text


def test_executed_and_merged_notebooks(dry_run):
    out = dry_run[0]
    stored = nbformat.read(NOTEBOOK, as_version=4)
    executed = nbformat.read(out / "cnn_speed.ipynb", as_version=4)
    merged = nbformat.read(out / "cnn_speed.merged.ipynb", as_version=4)
    gpu_ids = [c.id for c in stored.cells if gpu_run.is_gpu_cell(c)]
    ran = {c.id: c for c in executed.cells}
    assert gpu_ids and set(gpu_ids) <= set(ran)
    for cell in executed.cells:
        assert all(o.output_type != "error" for o in cell.outputs)
        assert "execution" not in cell.metadata  # timestamps stripped, as `make execute` does
    for cell_id in gpu_ids:
        assert "No CUDA GPU" in gpu_run.cell_text(ran[cell_id])
    assert [c.id for c in merged.cells] == [c.id for c in stored.cells]
    for old, new in zip(stored.cells, merged.cells):
        assert new.source == old.source
        if old.cell_type != "code":
            continue
        expected = ran[old.id].outputs if gpu_run.is_gpu_cell(old) else old.outputs
        assert new.outputs == expected


# ------------------------------------------------------------------------------ helpers


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for source, text in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in text]
        nb.cells.append(cell)
    return nb


def test_compare_outputs_flags_checked_cells_only():
    stored = _nb(("print(1)", ["1\n"]), ("# NBVAL_IGNORE_OUTPUT\nprint(t)", ["0.3 s\n"]),
                 ("print(object())", ["<object at 0x7f00>\n"]))
    same = copy.deepcopy(stored)
    same.cells[1].outputs[0].text = "0.9 s\n"                 # ignored cell: not compared
    same.cells[2].outputs[0].text = "<object at 0xabc123>\n"  # sanitised address
    same.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in ("", "1\n")]
    sanitizers = gpu_run.load_sanitizers()
    assert gpu_run.compare_outputs(stored, same, sanitizers) == []
    other = copy.deepcopy(stored)
    other.cells[0].outputs[0].text = "2\n"
    problems = gpu_run.compare_outputs(stored, other, sanitizers)
    assert len(problems) == 1 and problems[0].startswith("cell 0:")
    other.cells[0].outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="", traceback=[]))
    assert len(gpu_run.compare_outputs(stored, other, sanitizers)) == 1


def test_merge_takes_only_the_gpu_cells():
    stored = _nb(("x = 1", []), ("# NBVAL_IGNORE_OUTPUT\nif GPU:\n    print(2)", ["note\n"]),
                 ("# NBVAL_IGNORE_OUTPUT\nprint(t)", ["0.3 s\n"]), ("print(x)", ["1\n"]))
    executed = copy.deepcopy(stored)
    for cell, text in zip(executed.cells, ("", "NVIDIA H200\n", "0.1 s\n", "1.0\n")):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
    assert [gpu_run.is_gpu_cell(c) for c in stored.cells] == [False, True, False, False]
    merged = gpu_run.merge_gpu_outputs(stored, executed)
    assert [gpu_run.cell_text(c) for c in merged.cells] == ["", "NVIDIA H200\n", "0.3 s\n", "1\n"]
    assert gpu_run.cell_text(stored.cells[1]) == "note\n"  # the input is not modified


def _rows(ratio=None, overhead=(0.2, 0.4)):
    rows = [{"table": "throughput", "name": "ours", "role": "ours", "impl": "", "step_ms": "10"}]
    if ratio is not None:
        rows.append({"table": "throughput", "name": "ref", "role": "reference", "impl": "",
                     "step_ms": str(10 / ratio)})
    for impl, value in zip(("foreach", "fused"), overhead):
        rows.append({"table": "overhead", "name": "sgd", "role": "", "impl": impl, "overhead_percent": str(value)})
    rows.append({"table": "overhead", "name": "sgd", "role": "", "impl": "for-loop", "overhead_percent": "9"})
    return rows


@pytest.mark.parametrize("ratio, overhead, expected", [
    (1.1, (0.2, 0.4), ["PASS", "PASS"]),
    (1.3, (0.2, 0.4), ["FAIL", "PASS"]),
    (0.9, (0.2, 1.5), ["PASS", "FAIL"]),
])
def test_targets(ratio, overhead, expected):
    lines = gpu_run.target_lines(_rows(ratio, overhead), dry_run=False)
    assert [line.split()[0] for line in lines] == expected
    assert f"= {ratio:.2f}" in lines[0]


def test_a_missing_reference_fails_a_real_run():
    assert gpu_run.target_lines(_rows(None), dry_run=False)[0].startswith("FAIL")
    assert gpu_run.target_lines(_rows(None), dry_run=True)[0].startswith("SKIP")


def test_the_chapter_has_what_the_run_relies_on():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    gpu = [c for c in nb.cells if gpu_run.is_gpu_cell(c)]
    assert len(gpu) >= 3
    assert any(gpu_run.TTA_CALL in c.source for c in gpu)
    assert any("ex.speed_switches(" in c.source for c in gpu)
    # the dry run keeps the first code cell and the GPU cells: the first must import what they call
    first = next(c for c in nb.cells if c.cell_type == "code").source
    assert "from weightdecay.experiments import cnn_speed as ex" in first and "from weightdecay import cnn" in first
    assert all(c.get("id") for c in nb.cells)  # the merge matches cells by id
    small = gpu_run.dry_run_notebook(nb)
    assert small.cells[0].source == next(c for c in nb.cells if c.cell_type == "code").source
    assert [c.id for c in small.cells[1:]] == [c.id for c in gpu]


def test_without_out_it_does_nothing(capsys):
    assert gpu_run.main([]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_a_real_run_refuses_a_machine_without_cuda(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: this would start the real run")
    before = _sha(NOTEBOOK)
    assert gpu_run.main(["--out", str(tmp_path)]) == 3
    assert "no CUDA GPU here" in (tmp_path / "gpu_run.log").read_text()
    assert _sha(NOTEBOOK) == before


# ------------------------------------------------------------------------------ packaging


def _wheel_list():
    lines = (ROOT / "benchmarks" / "gpu_wheels.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_wheel_list_is_pinned_once_each_and_matches_the_book():
    pins = [line.split("==") for line in _wheel_list()]
    assert all(len(p) == 2 and p[1] for p in pins)
    names = [re.sub(r"[-_.]+", "-", p[0]).lower() for p in pins]
    assert len(names) == len(set(names))
    for needed in ("nbclient", "nbformat", "ipykernel", "jupyter-client", "jupyter-core", "pyzmq", "tornado",
                   "traitlets", "ipython", "mnist1d"):
        assert needed in names
    assert "torch" not in names and "airbench" not in names  # torch is the machine's; airbench is built
    requirements = (ROOT / "requirements.txt").read_text()
    for name, version in pins:
        m = re.search(rf"^{re.escape(name)}==(\S+)", requirements, re.M | re.I)
        if m:
            assert m.group(1) == version, name


def test_makefile_targets_and_the_documented_call():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^gpu-wheels:", makefile, re.M) and re.search(r"^gpu-run:", makefile, re.M)
    assert "-r benchmarks/gpu_wheels.txt" in makefile and "--python-version 3.12" in makefile
    assert re.search(r"^AIRBENCH := airbench==\S+$", makefile, re.M)
    header = SCRIPT.read_text()
    command = re.search(r"^#\s+command:\s+(.+)$", header, re.M).group(1).strip()
    carry = re.search(r"^#\s+carry:\s+(.+)$", header, re.M).group(1).strip()
    timeout = int(re.search(r"^#\s+timeout_s:\s+(\d+)$", header, re.M).group(1))
    assert len(command) <= 2000 and "benchmarks/gpu_run.sh" in command
    assert carry == '[".whl"]'
    budget = gpu_run.DEFAULT_BUDGET
    assert f"default {budget:.0f} s" in header
    assert budget + 30 < timeout <= 600  # installs (~20 s) fit between the budget and the timeout
