"""The notebook check is strict: a stale stored output must fail `make test`.

These tests run nbval, with exactly the flags the Makefile uses, on a tiny notebook that
calls the package; when the stored output differs from what today's code prints, nbval
must fail.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def makefile_nbval_flags() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    m = re.search(r"^NBVAL_FLAGS\s*:=\s*(.+)$", text, re.M)
    assert m, "Makefile must define NBVAL_FLAGS"
    return shlex.split(m.group(1))


def test_makefile_uses_strict_nbval_with_the_sanitizer():
    flags = makefile_nbval_flags()
    assert "--nbval" in flags and "--nbval-lax" not in flags
    assert "--nbval-current-env" in flags
    assert flags[flags.index("--nbval-sanitize-with") + 1] == "book/nbval_sanitize.cfg"


def test_sanitizer_covers_only_addresses_and_figure_reprs():
    text = (ROOT / "book" / "nbval_sanitize.cfg").read_text()
    sections = re.findall(r"^\[(.+)\]$", text, re.M)
    assert sections == ["addresses", "figure-reprs"]


def test_every_chapter_seeds_first():
    for nb_path in sorted((ROOT / "book" / "chapters").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert "seed_everything(" in first_code.source, f"{nb_path.name}: first code cell must seed"


def test_every_chapter_pins_numerics_before_numpy_and_torch_load():
    """pin_numerics only acts before numpy and torch are imported (see weightdecay.reproducibility)."""
    for nb_path in sorted((ROOT / "book" / "chapters").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        lines = [l.strip() for l in first_code.source.splitlines() if l.strip() and not l.strip().startswith("#")]
        pin = next((i for i, l in enumerate(lines) if "pin_numerics()" in l), None)
        assert pin is not None, f"{nb_path.name}: first code cell must call pin_numerics()"
        before = lines[:pin]
        # `import weightdecay` (which imports neither numpy nor torch), installing it first when
        # it is missing (tests/test_install_cell.py)
        install = ["try:", "import weightdecay as wd", "except ModuleNotFoundError:"]
        head = [line.split("  #")[0] for line in before[:3]]
        assert head == install and before[-1] == "import weightdecay as wd", (
            f"{nb_path.name}: only `import weightdecay` (or its installation) may precede the pin")
        assert not any(line.startswith(("import ", "from ")) for line in before[3:-1]), nb_path.name
        for nb_cell in nb.cells[: nb.cells.index(first_code)]:
            assert nb_cell.cell_type != "code"


def _notebook(tmp_path: Path, stored: str) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        "import numpy as np, weightdecay as wd\n"
        "X = np.eye(3); y = np.array([1.0, 2.0, 3.0])\n"
        "print(np.round(wd.linear.ridge(X, y, 0.5), 4))"
    )
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def _run_nbval(path: Path) -> subprocess.CompletedProcess:
    flags = [f if f != "book/nbval_sanitize.cfg" else str(ROOT / f) for f in makefile_nbval_flags()]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *flags, "-q", str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "stored, should_pass",
    [
        # ridge on X = I, n = 3: w = y / (1 + n*lam) = y / 2.5
        ("[0.4 0.8 1.2]\n", True),
        # what a change in src/ that altered the printed numbers would leave behind
        ("[0.5 1.  1.5]\n", False),
    ],
)
def test_stale_output_fails_strict_nbval(tmp_path, stored, should_pass):
    result = _run_nbval(_notebook(tmp_path, stored))
    log = result.stdout[-3000:] + result.stderr[-3000:]
    assert (result.returncode == 0) == should_pass, log
    if not should_pass:  # failed because the output differs, not for another reason
        assert "[0.4 0.8 1.2]" in log and "1 failed" in log, log


# A number printed in scientific notation, e.g. "2.4e-15" or "3.0E-14", with what precedes it.
_SCI = re.compile(r"(below |< |<= |≤ |tol(?:erance)?\s*=?\s*)?(?<![\w.])([-+]?\d(?:\.\d+)?[eE][-+]?\d+)\b")


def _rounding_level_numbers(text: str) -> list[str]:
    """Numbers smaller than 1e-12 in absolute value that are not stated as a bound or a tolerance."""
    return [m.group(2) for m in _SCI.finditer(text) if not m.group(1) and 0 < abs(float(m.group(2))) < 1e-12]


def test_no_stored_output_prints_rounding_error():
    """Rounding error differs between CPUs: print the asserted bound ("below 1e-12"), never its digits."""
    found = []
    for nb_path in sorted((ROOT / "book" / "chapters").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                text = out.get("text", "") if out.output_type == "stream" else out.get("data", {}).get("text/plain", "")
                found += [f"{nb_path.name} cell {i}: {x}" for x in _rounding_level_numbers(str(text))]
    assert not found, "rounding-level numbers printed:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text, tiny",
    [("gap 2.4e-15", ["2.4e-15"]), ("gap 3E-13 x", ["3E-13"]), ("lr 1e-3", []), ("below 1e-12", []),
     ("below 1e-14", []), ("w = -1.5e-120", ["-1.5e-120"]), ("id a1e-13", []), ("1e-12", []), ("tol=1e-14", [])],
)
def test_rounding_error_pattern(text, tiny):
    assert _rounding_level_numbers(text) == tiny
