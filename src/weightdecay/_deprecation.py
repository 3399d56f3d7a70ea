"""Deprecated names that left a module: one module-level ``__getattr__`` for all of them.

A module whose public names moved elsewhere keeps them importable, with a
``DeprecationWarning``, for one release::

    _MOVED = {"old_name": "weightdecay.experiments.grid.old_name"}
    __getattr__ = moved_names(__name__, _MOVED)
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable

__all__ = ["moved_names"]


def moved_names(
    module_name: str,
    moved: dict[str, str],
    *,
    verb: str = "moved to",
    renamed: dict[str, str] | None = None,
) -> Callable[[str], object]:
    """Return a module ``__getattr__`` that forwards old names to their new homes, with a warning.

    Parameters
    ----------
    module_name : str
        The module's ``__name__`` (the old home), as it appears in the warning.
    moved : dict of str to str
        Old name -> fully qualified new name, ``"package.module.name"``.  The dict is read at
        each access, so entries added later are seen.
    verb : str, default "moved to"
        The words between the old and the new name in the warning (``"was renamed"`` for a
        name that stayed in its module).
    renamed : dict of str to str, optional
        More old names, renamed in their module: their warning says ``"was renamed"``
        whatever ``verb`` is.  For a module with both moved and renamed names.

    Returns
    -------
    callable
        ``__getattr__(name)``: for an old name, warns ``"<module>.<name> <verb> <new>; the old
        name will be removed in the next release"`` (a ``DeprecationWarning`` pointing at the
        caller) and returns the object under its new name; otherwise raises ``AttributeError``.

    Examples
    --------
    >>> import warnings
    >>> from weightdecay._deprecation import moved_names
    >>> getattr_ = moved_names("mymod", {"old_sqrt": "math.sqrt"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     print(getattr_("old_sqrt")(4.0))
    2.0
    >>> print(caught[0].message)
    mymod.old_sqrt moved to math.sqrt; the old name will be removed in the next release
    """
    renamed = {} if renamed is None else renamed

    def __getattr__(name: str) -> object:
        if name in moved or name in renamed:
            target = renamed.get(name) or moved[name]
            how = "was renamed" if name in renamed else verb
            module, _, attribute = target.rpartition(".")
            warnings.warn(
                f"{module_name}.{name} {how} {target}; the old name will be removed in the next release",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(importlib.import_module(module), attribute)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
