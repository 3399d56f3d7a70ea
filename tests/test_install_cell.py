"""Launch buttons that work: each chapter installs the book's package when it is missing.

A chapter opened on Colab (or in any Jupyter without the package) runs its first cell in an
environment that has numpy, torch and friends but not ``weightdecay``.  The first cell then
installs the package from the repository named in ``_config.yml`` -- with the ``torch`` extra
when the chapter needs PyTorch -- and imports it.  pip keeps a preinstalled torch that
satisfies the requirement, so Colab's CUDA build is not replaced.

The slow test does this for real: a fresh virtual environment that sees this environment's
packages (through a ``.pth`` file) except ``weightdecay``, the first cell run by IPython with
the install source pointed at a copy of the local checkout, then every import of every chapter.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.ipynb"))

INSTALL_BLOCK = """\
try:
    import weightdecay as wd
except ModuleNotFoundError:  # on Colab, say: install the book's package
    REPO = "{repo}"
    %pip install --quiet "{requirement} @ {{REPO}}"
    import weightdecay as wd
"""


def _repository() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]
    return f"git+{repo['url']}@{repo['branch']}"


def _first_code_cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c for c in nb.cells if c.cell_type == "code").source


def _imports(path: Path) -> list[str]:
    """Every import statement of the chapter's code cells (magics dropped), in order."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                statement = ast.unparse(node)
                if statement not in found:
                    found.append(statement)
    return found


def _needs_torch(path: Path) -> bool:
    return any(s.split()[1].split(".")[0] == "torch" for s in _imports(path))


def _requirement(path: Path) -> str:
    return "weightdecay[torch]" if _needs_torch(path) else "weightdecay"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_first_cell_installs_the_package_when_missing(path):
    source = _first_code_cell(path)
    expected = INSTALL_BLOCK.format(repo=_repository(), requirement=_requirement(path))
    assert source.startswith(expected), f"{path.name}: first cell must start with\n{expected}"


def test_the_extras_follow_what_the_chapters_import():
    with_torch = {p.stem for p in CHAPTERS if _needs_torch(p)}
    assert "lasso" not in with_torch and {"ridge", "optimizers", "cnn_speed"} <= with_torch


# --- the real thing, in a fresh virtual environment -------------------------------------------

# This environment's packages that the fresh one must not see: the book's package itself, and
# the installer's own tools (the fresh environment has its own pip and setuptools).
_HIDDEN = ("weightdecay", "__editable__", "pip", "setuptools", "_distutils_hack", "distutils-precedence",
           "pkg_resources")


def _hidden(name: str) -> bool:
    return any(name == h or name.startswith((h + "-", h + ".", h + "_")) for h in _HIDDEN)


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """A new venv whose sys.path shows this environment's packages except weightdecay."""
    base = tmp_path_factory.mktemp("colab")
    site_here = Path(sysconfig.get_paths()["purelib"])
    visible = base / "preinstalled"  # stands in for Colab's preinstalled packages
    visible.mkdir()
    for entry in site_here.iterdir():
        if not _hidden(entry.name):
            (visible / entry.name).symlink_to(entry)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site_there = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    (site_there / "preinstalled.pth").write_text(f"{visible}\n")
    # The install source: a copy of the package's files, so that pip's build leaves the
    # checkout untouched.
    source = base / "checkout"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return python, site_there, visible, source.as_uri()


def _run_first_cell(python: Path, path: Path, source_uri: str) -> subprocess.CompletedProcess:
    cell = _first_code_cell(path).replace(_repository(), source_uri)
    assert source_uri in cell
    driver = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "result = InteractiveShell.instance().run_cell(sys.stdin.read())\n"
        "result.raise_error()\n"
        "import weightdecay, torch\n"
        "print('weightdecay from', weightdecay.__file__)\n"
        "print('torch from', torch.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(python), "-c", driver], input=cell, capture_output=True, text=True, env=env,
                          timeout=900)


def test_first_cell_installs_into_a_fresh_environment_and_every_chapter_imports(fresh_env):
    python, site_there, visible, source_uri = fresh_env
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    missing = subprocess.run([str(python), "-c", "import weightdecay"], capture_output=True, text=True, env=env)
    assert missing.returncode != 0 and "No module named 'weightdecay'" in missing.stderr

    by_name = {p.stem: p for p in CHAPTERS}
    for chapter in ("lasso", "ridge"):  # without and with the torch extra
        subprocess.run([str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "weightdecay"], env=env,
                       capture_output=True)
        result = _run_first_cell(python, by_name[chapter], source_uri)
        log = result.stdout[-3000:] + result.stderr[-3000:]
        assert result.returncode == 0, log
        assert f"weightdecay from {site_there}" in result.stdout, log
        # the preinstalled torch is kept, not replaced by a download
        assert f"torch from {visible}" in result.stdout, log
        assert not (site_there / "torch").exists(), log

    for path in CHAPTERS:
        code = "\n".join(_imports(path))
        result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, f"{path.name}:\n{code}\n{result.stderr[-3000:]}"
