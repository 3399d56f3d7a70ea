"""binder/: a slim Binder environment, pinned like requirements.txt, with PyTorch's CPU wheel."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[name.lower()] = version
    return pins


def test_binder_installs_the_runtime_pinned_as_in_requirements_and_nothing_to_build_or_test():
    binder, full = _pins(ROOT / "binder" / "requirements.txt"), _pins(ROOT / "requirements.txt")
    runtime = {"numpy", "scipy", "matplotlib", "scikit-learn", "numba", "torch", "tqdm", "mnist1d", "ipywidgets"}
    assert set(binder) == runtime
    for name in runtime - {"torch"}:
        assert binder[name] == full[name], name
    assert binder["torch"] == full["torch"] + "+cpu"  # the CPU wheel, never the CUDA build
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text


def test_binder_installs_the_package_and_warms_the_solvers():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post and "warm_up()" in post
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime.startswith("python-3.")
