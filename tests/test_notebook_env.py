"""`make lab` and `make kernel`: the chapters open in JupyterLab with the book's environment.

Checked without a browser: the kernel spec that `make kernel` writes (into a temporary
Jupyter data directory) runs this environment's Python, and `make lab` starts JupyterLab
from the same environment on the chapters.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
    reason="checks the Makefile's .venv; run through `make test`",
)


def _make(*args, env=None):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_make_kernel_registers_this_environment(tmp_path):
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path)}
    result = _make("kernel", env=env)
    assert result.returncode == 0, result.stderr
    spec = json.loads((tmp_path / "kernels" / "weightdecay" / "kernel.json").read_text())
    assert spec["display_name"] == "Python (weightdecay)"
    assert spec["language"] == "python"
    assert Path(spec["argv"][0]).resolve() == VENV_PYTHON.resolve()
    assert "ipykernel_launcher" in spec["argv"]
    listed = subprocess.run([str(ROOT / ".venv" / "bin" / "jupyter"), "kernelspec", "list", "--json"],
                            env=env, capture_output=True, text=True, check=True)
    assert "weightdecay" in json.loads(listed.stdout)["kernelspecs"]


def test_make_lab_starts_jupyterlab_from_the_environment_on_the_chapters():
    dry = _make("-n", "lab")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert any("ipykernel install --user --name weightdecay" in line for line in lines)
    assert lines[-1] == ".venv/bin/jupyter lab --notebook-dir=book/chapters"
    version = subprocess.run([str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.strip().split(".")[0] == "4"


def test_progress_bars_render_as_widgets_in_notebooks():
    code = "import ipywidgets, tqdm.auto, tqdm.notebook; print(ipywidgets.__version__.split('.')[0])"
    out = subprocess.run([str(VENV_PYTHON), "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "8"
