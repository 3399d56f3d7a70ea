"""Progress bars: one default for every loop of the package that runs for more than a few seconds.

Every training loop and experiment grid takes ``progress=None`` and shows a
``tqdm.auto`` bar (a widget in Jupyter, text in a terminal) unless told otherwise:

- ``progress=True`` / ``progress=False`` decides for one call;
- ``progress=None`` (the default) follows the environment variable ``WEIGHTDECAY_PROGRESS``:
  unset or ``1`` shows bars, ``0`` hides them.

``make execute`` and ``make test`` set ``WEIGHTDECAY_PROGRESS=0``: a bar's text holds timings,
so it must not enter the chapters' stored outputs, which strict nbval compares.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

__all__ = ["ENV_VAR", "progress_enabled", "progress_bar"]

ENV_VAR = "WEIGHTDECAY_PROGRESS"
_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether a loop shows a progress bar.

    Parameters
    ----------
    progress : bool or None
        ``True`` or ``False`` decide; ``None`` reads ``WEIGHTDECAY_PROGRESS`` (unset: on).

    Returns
    -------
    bool
        ``True`` when the loop should show a bar.

    Raises
    ------
    ValueError
        If ``progress`` is not a bool or None, or the environment variable is not one of
        ``0 1 true false yes no on off``.

    Examples
    --------
    >>> progress_enabled(False)
    False
    >>> import os
    >>> saved = os.environ.pop("WEIGHTDECAY_PROGRESS", None)
    >>> progress_enabled()
    True
    >>> os.environ["WEIGHTDECAY_PROGRESS"] = "0"
    >>> progress_enabled(), progress_enabled(True)
    (False, True)
    >>> if saved is None:
    ...     del os.environ["WEIGHTDECAY_PROGRESS"]
    ... else:
    ...     os.environ["WEIGHTDECAY_PROGRESS"] = saved
    """
    if progress is None:
        value = os.environ.get(ENV_VAR)
        if value is None:
            return True
        value = value.strip().lower()
        if value in _ON:
            return True
        if value in _OFF:
            return False
        raise ValueError(f"{ENV_VAR} must be 0 or 1 (or true/false, yes/no, on/off); got {value!r}")
    if isinstance(progress, bool):
        return progress
    import numpy as np

    if isinstance(progress, np.bool_):
        return bool(progress)
    raise ValueError(f"progress must be True, False or None; got {progress!r}")


class _Silent:
    """The iterable itself, with tqdm's ``set_postfix`` and ``close`` as no-ops."""

    def __init__(self, iterable):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable)

    def __len__(self):
        return len(self._iterable)

    def set_postfix(self, *args, **kwargs):
        pass

    def set_description(self, *args, **kwargs):
        pass

    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(iterable: Iterable, *, desc: str | None = None, total: int | None = None,
                 progress: bool | None = None, leave: bool = False):
    """Wrap ``iterable`` in a ``tqdm.auto`` bar, or return it unchanged (with no-op bar methods).

    Parameters
    ----------
    iterable : iterable
        What the loop runs over.
    desc : str, optional
        The bar's label, e.g. ``"epochs"`` or ``"seeds"``.
    total : int, optional
        Its length, when ``len(iterable)`` does not give it.
    progress : bool or None
        See :func:`progress_enabled`.
    leave : bool
        Keep the finished bar on screen (default: it disappears when the loop ends).

    Returns
    -------
    iterable
        A ``tqdm`` bar, or an object that iterates like ``iterable`` and accepts
        ``set_postfix``, ``set_description``, ``update`` and ``close`` as no-ops.

    Examples
    --------
    >>> squares = [i * i for i in progress_bar(range(4), desc="demo", progress=False)]
    >>> squares
    [0, 1, 4, 9]
    """
    if not progress_enabled(progress):
        return _Silent(iterable)
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=leave)
