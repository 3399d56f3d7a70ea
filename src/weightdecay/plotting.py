"""One plotting style for the whole book.

Figures have an opaque white background and a colour-blind-safe palette (Okabe & Ito), so
they read the same in the light and the dark theme of the site.
"""

from __future__ import annotations

__all__ = ["COLORS", "use_book_style"]

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


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once, in a chapter's first cell)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
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
            "legend.frameon": False,
            "lines.linewidth": 2.0,
            "figure.constrained_layout.use": True,
        }
    )
