"""One plotting style for the whole book.

Figures have an opaque white background and a colour-blind-safe palette (Okabe & Ito), so
they read the same in the light and the dark theme of the site.

They are sized for the site's text column: a figure is at most :data:`COLUMN_WIDTH` inches
wide, drawn at :data:`DPI` dots per inch, so that one inch of figure is 100 CSS pixels and
an 11-pt label reads at about 15 CSS pixels.  In a notebook the figures are stored as
pixel-doubled ("retina") PNGs, sharp on high-density screens, and each PNG records the
smallest font size it uses (:data:`FONT_SIZE_KEY`), which the browser test of the site
turns into a rendered text size.
"""

from __future__ import annotations

__all__ = ["COLORS", "COLUMN_WIDTH", "DPI", "FONT_SIZE_KEY", "MIN_FONT_SIZE", "figsize", "png_info", "smallest_font_size", "use_book_style"]

#: Okabe–Ito colour-blind-safe palette.
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: Widest figure, in inches: the site's text column holds about 688 CSS pixels at a
#: 1280-pixel window, and the figures are drawn at 100 dots per inch.
COLUMN_WIDTH = 6.8
#: Dots per inch of a figure (one inch = 100 CSS pixels); stored PNGs have twice as many.
DPI = 100
#: Smallest font size, in points, that the book's figures use (an 8-pt label of a figure
#: as wide as the column reads at about 11 CSS pixels).
MIN_FONT_SIZE = 8.0
#: Name of the PNG text chunk holding a figure's smallest font size in points.
FONT_SIZE_KEY = "Smallest font size (pt)"

_ROW_HEIGHT = {1: 4.0, 2: 3.0}
_WIDTH = {1: 6.4, 2: COLUMN_WIDTH}


def figsize(nrows: int = 1, ncols: int = 1, *, row_height: float | None = None) -> tuple[float, float]:
    """Size, in inches, of a figure of ``nrows`` × ``ncols`` panels that fits the column.

    Parameters
    ----------
    nrows : int, default 1
        Rows of panels.
    ncols : {1, 2}, default 1
        Panels per row; a third panel goes on a new row, so that labels stay readable.
    row_height : float, optional
        Height of one row in inches (default 4.0 for one panel per row, 3.0 for two).

    Returns
    -------
    (width, height) : tuple of float
        For ``plt.subplots(nrows, ncols, figsize=...)``.

    Examples
    --------
    >>> from weightdecay.plotting import figsize
    >>> figsize()
    (6.4, 4.0)
    >>> figsize(2, 2)
    (6.8, 6.0)
    """
    from .validation import check_positive_int

    nrows = check_positive_int(nrows, "nrows")
    if isinstance(ncols, bool) or ncols not in (1, 2):
        raise ValueError(f"ncols must be 1 or 2 (more panels go on more rows); got {ncols!r}")
    if row_height is None:
        row_height = _ROW_HEIGHT[ncols]
    elif isinstance(row_height, bool) or not isinstance(row_height, (int, float)) or not 0.5 <= row_height <= 6:
        raise ValueError(f"row_height must be a number of inches in [0.5, 6]; got {row_height!r}")
    return (_WIDTH[ncols], float(row_height) * nrows)


def smallest_font_size(fig) -> float:
    """Smallest font size, in points, of the visible, non-empty text of a figure.

    The figure is laid out first (without rendering), so that tick labels count.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    float
        ``inf`` for a figure without text.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("title", fontsize=12)
    >>> _ = ax.text(0.5, 0.5, "note", fontsize=9)
    >>> smallest_font_size(fig)
    9.0
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    fig.draw_without_rendering()  # tick labels exist only once the figure is laid out

    def visible_texts(artist):
        if not artist.get_visible():  # hides its children too (a hidden legend's labels)
            return
        if isinstance(artist, Text) and artist.get_text().strip():
            yield artist
        for child in artist.get_children():
            yield from visible_texts(child)

    sizes = [float(t.get_fontsize()) for t in visible_texts(fig)]
    return min(sizes, default=float("inf"))


def png_info(data: bytes) -> dict:
    """Size, resolution and text chunks of a PNG file (enough to size a figure's text).

    Parameters
    ----------
    data : bytes
        The PNG file.

    Returns
    -------
    dict
        ``width`` and ``height`` in pixels, ``dpi`` (``None`` without a physical
        resolution) and ``text``, a dict of the file's text chunks (such as
        :data:`FONT_SIZE_KEY`).

    Examples
    --------
    >>> import io
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure(figsize=(2, 1))
    >>> buffer = io.BytesIO()
    >>> metadata = {FONT_SIZE_KEY: "9"}
    >>> fig.savefig(buffer, format="png", dpi=50, metadata=metadata)
    >>> info = png_info(buffer.getvalue())
    >>> info["width"], info["height"], round(info["dpi"])
    (100, 50, 50)
    >>> info["text"][FONT_SIZE_KEY]
    '9'
    >>> plt.close(fig)
    """
    import struct

    if not isinstance(data, (bytes, bytearray)) or data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("data is not a PNG file")
    info, i = {"width": None, "height": None, "dpi": None, "text": {}}, 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + length]
        if kind == b"IHDR":
            info["width"], info["height"] = struct.unpack(">II", body[:8])
        elif kind == b"pHYs" and body[8:9] == b"\x01":  # pixels per metre
            info["dpi"] = struct.unpack(">I", body[:4])[0] * 0.0254
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            info["text"][key.decode("latin-1")] = value.decode("latin-1")
        i += 12 + length
    return info


def _retina_png(fig):
    """PNG (pixel-doubled, base64) of a figure with its smallest font size in a text chunk."""
    from IPython.core.pylabtools import retina_figure

    return retina_figure(
        fig,
        base64=True,
        bbox_inches="tight",
        metadata={FONT_SIZE_KEY: f"{smallest_font_size(fig):g}"},
    )


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once, in a chapter's first cell).

    Sets the colours, fonts and default figure size; in IPython (a notebook), figures are
    shown as pixel-doubled PNGs at their size in CSS pixels.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from weightdecay.plotting import use_book_style
    >>> use_book_style()
    >>> mpl.rcParams["figure.dpi"]
    100.0
    """
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": DPI,
            "savefig.dpi": 2 * DPI,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.edgecolor": "#333333",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": cycler(
                color=[COLORS[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")]
            ),
            "font.size": 11,
            "legend.fontsize": 10,
            "legend.frameon": False,
            "lines.linewidth": 2.0,
            "figure.constrained_layout.use": True,
        }
    )
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks only
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "display_formatter"):
        from matplotlib.figure import Figure

        try:
            backend = mpl.get_backend(auto_select=False)  # matplotlib >= 3.10
        except TypeError:  # pragma: no cover - older matplotlib
            backend = mpl.rcParams._get("backend")
        if backend in ("inline", "module://matplotlib_inline.backend_inline"):
            # loading the inline backend configures the figure formatters: do it before ours
            import matplotlib_inline.backend_inline  # noqa: F401

        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type(Figure, _retina_png)
