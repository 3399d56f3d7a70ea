import subprocess
import sys

import numpy as np
import pytest

import weightdecay as wd


def test_version_is_a_version_string():
    parts = wd.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


def test_import_is_light_and_does_not_import_torch():
    code = "import sys, weightdecay, weightdecay.linear, weightdecay.overfitting; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_submodules_load_lazily_and_unknown_names_raise():
    assert wd.linear.ridge is not None
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        wd.nonexistent  # noqa: B018


def test_seed_everything_makes_numpy_and_torch_reproducible():
    torch = pytest.importorskip("torch")
    rng = wd.seed_everything(3)
    a = (rng.normal(size=3), np.random.rand(2), torch.rand(2))
    rng = wd.seed_everything(3)
    b = (rng.normal(size=3), np.random.rand(2), torch.rand(2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert torch.equal(a[2], b[2])
    c = wd.seed_everything(4).normal(size=3)
    assert not np.array_equal(a[0], c)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        wd.seed_everything(bad)


def test_book_style_sets_white_background():
    import matplotlib as mpl

    wd.plotting.use_book_style()
    assert mpl.rcParams["figure.facecolor"] == "white"
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == wd.plotting.COLORS["blue"]
