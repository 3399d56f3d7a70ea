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


def test_every_module_of_the_package_is_reachable_as_an_attribute():
    import importlib
    import pkgutil

    names = {m.name for m in pkgutil.iter_modules(wd.__path__) if not m.name.startswith("_")}
    assert names <= set(wd._SUBMODULES), f"modules missing from _SUBMODULES: {sorted(names - set(wd._SUBMODULES))}"
    for name in names:
        assert getattr(wd, name) is importlib.import_module(f"weightdecay.{name}")
    for name in wd.experiments.__all__:
        assert getattr(wd.experiments, name) is importlib.import_module(f"weightdecay.experiments.{name}")


def test_figsize_fits_the_column_and_rejects_bad_layouts():
    assert wd.plotting.figsize() == (6.4, 4.0)
    assert wd.plotting.figsize(2, 2) == (wd.plotting.COLUMN_WIDTH, 6.0)
    assert wd.plotting.figsize(3, row_height=2.5) == (6.4, 7.5)
    for kwargs in ({"ncols": 3}, {"ncols": True}, {"nrows": 0}, {"row_height": 0.1}, {"row_height": "2"}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            wd.plotting.figsize(**kwargs)


def test_smallest_font_size_sees_every_visible_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wd.plotting.use_book_style()
    fig, (a, b) = plt.subplots(1, 2)
    a.set_title("t", fontsize=14)
    assert wd.plotting.smallest_font_size(fig) == 11  # tick labels at the style's size
    b.legend(handles=a.plot([0, 1], label="line"), fontsize=7.5)
    assert wd.plotting.smallest_font_size(fig) == 7.5
    b.get_legend().set_visible(False)
    assert wd.plotting.smallest_font_size(fig) == 11
    plt.close(fig)
    assert wd.plotting.smallest_font_size(plt.figure()) == float("inf")
