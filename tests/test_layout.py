"""The chapters fit the site's text column: code, printed output and figures.

The column width comes from ``book/ruff.toml`` (76 characters of the theme's monospace font
fill a code cell's content box at a 1280-pixel window; ``tests/test_site.py`` checks the
rendered pages themselves).  These checks read the notebooks, so they run in ``make test``
without a browser:

* every code line is at most 76 characters and the cells are as ``ruff format`` leaves them
  (``make format`` applies it);
* every printed line (stream or plain-text result) is at most 76 characters;
* every stored figure is a pixel-doubled PNG no wider than the column, and its smallest
  font (recorded by :func:`weightdecay.plotting.use_book_style`) is at least
  :data:`weightdecay.plotting.MIN_FONT_SIZE` points.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import weightdecay as wd

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.ipynb"))
WIDTH = int(re.search(r"^line-length\s*=\s*(\d+)", (ROOT / "book" / "ruff.toml").read_text(), re.M)[1])


def _code_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def _text_outputs(cell):
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            yield out.text
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.data:
            if "image/png" not in out.data:  # a figure's "<Figure size ...>" is not shown
                yield out.data["text/plain"]


def test_the_chapters_exist():
    assert len(CHAPTERS) >= 8


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_lines_fit_the_column(path):
    long = [
        f"cell {i}: {len(line)} characters: {line[:60]}..."
        for i, cell in _code_cells(path)
        for line in cell.source.splitlines()
        if len(line) > WIDTH
    ]
    assert not long, f"{path.name}: code lines longer than {WIDTH} characters:\n" + "\n".join(long)


def test_code_cells_are_formatted():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--diff", "book/chapters"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, "run `make format`:\n" + result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_printed_output_fits_the_column(path):
    wide = [
        f"cell {i}: {len(line)} characters: {line[:60]}..."
        for i, cell in _code_cells(path)
        for text in _text_outputs(cell)
        for line in text.splitlines()
        if len(line) > WIDTH
    ]
    assert not wide, f"{path.name}: printed lines wider than {WIDTH} characters:\n" + "\n".join(wide)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_fit_the_column_with_readable_text(path):
    column_px = wd.plotting.COLUMN_WIDTH * wd.plotting.DPI
    problems, n_figures = [], 0
    for i, cell in _code_cells(path):
        for out in cell.get("outputs", []):
            if "image/png" not in out.get("data", {}):
                continue
            n_figures += 1
            png = wd.plotting.png_info(base64.b64decode(out.data["image/png"]))
            shown = out.get("metadata", {}).get("image/png", {}).get("width")
            font = float(png["text"].get(wd.plotting.FONT_SIZE_KEY, "nan"))
            if shown is None or png["width"] < 1.9 * shown:
                problems.append(f"cell {i}: not a pixel-doubled PNG (call wd.plotting.use_book_style())")
            elif shown > column_px + 12:  # tight bounding boxes add a few pixels
                problems.append(f"cell {i}: {shown} px wide, the column holds {column_px:.0f} px")
            if not font >= wd.plotting.MIN_FONT_SIZE:
                problems.append(f"cell {i}: smallest font {font} pt < {wd.plotting.MIN_FONT_SIZE} pt")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    if path.stem != "cnn_speed":
        assert n_figures > 0, f"{path.name} has no figure: the check above saw nothing"


def test_png_info_reads_what_the_book_style_writes(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wd.plotting.use_book_style()
    fig, ax = plt.subplots(figsize=wd.plotting.figsize(1, 2))
    ax.set_title("title", fontsize=8.5)
    fig.savefig(tmp_path / "f.png", metadata={wd.plotting.FONT_SIZE_KEY: "8.5"})
    plt.close(fig)
    info = wd.plotting.png_info((tmp_path / "f.png").read_bytes())
    assert info["width"] == round(2 * wd.plotting.DPI * wd.plotting.COLUMN_WIDTH)
    assert info["dpi"] == pytest.approx(200, abs=0.1)
    assert info["text"][wd.plotting.FONT_SIZE_KEY] == "8.5"
    with pytest.raises(ValueError, match="PNG"):
        wd.plotting.png_info(b"GIF89a")
