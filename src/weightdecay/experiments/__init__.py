"""Chapter experiments: code that fixes a dataset, an architecture or a grid for one chapter.

The rule of the package: reusable mathematics and building blocks live in a topic module
(``weightdecay.linear``, ``weightdecay.optim``, ...); anything that fixes a dataset, an
architecture or a grid for one chapter lives here, in ``experiments/<chapter>.py``.

Modules are imported lazily: ``weightdecay.experiments.double_descent`` loads on first use.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'weightdecay.experiments' has no attribute {name!r}")


def __dir__():
    return list(__all__)
