"""Every public name of the package documents itself in numpydoc form.

numpydoc's own validator (``numpydoc.validate``) runs over every name in the ``__all__`` of
every module of ``weightdecay`` (the topic modules and ``weightdecay.experiments``), and over
the public methods of the public classes.  The checks that a student relies on are enforced:

- GL08  the object has a docstring;
- SS01  it starts with a one-line summary;
- PR01  every parameter is documented;  PR02  no documented parameter is missing from the
  signature;
- RT01  a function that returns something has a ``Returns`` (or ``Yields``) section;
- EX01  public functions and classes carry an ``Examples`` section (run as doctests by
  ``make test-unit``).

Methods are checked for GL08, PR01, PR02 and RT01 only: their class's example shows them in use.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import weightdecay  # noqa: E402
import weightdecay.experiments  # noqa: E402

FUNCTION_CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}
METHOD_CHECKS = {"GL08", "PR01", "PR02", "RT01"}
# Methods of scikit-learn's and torch's protocols document themselves there.  (The reference
# optimisers' `step` is checked: it documents its closure; the update rule lives in the
# functional cores weightdecay.optim.sgd and weightdecay.optim.adam.)
FOREIGN_METHODS = {"get_params", "set_params", "score", "forward", "extra_repr", "state_dict", "load_state_dict"}


def _modules():
    names = [f"weightdecay.{m}" for m in weightdecay._SUBMODULES]
    names += [f"weightdecay.experiments.{m.name}" for m in pkgutil.iter_modules(weightdecay.experiments.__path__)]
    return [importlib.import_module(n) for n in names]


def _public_objects():
    seen = set()
    for module in _modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants and re-exported modules
            qualname = f"{obj.__module__}.{obj.__qualname__}"
            if qualname in seen or not obj.__module__.startswith("weightdecay"):
                continue
            seen.add(qualname)
            yield qualname, obj, FUNCTION_CHECKS
            if inspect.isclass(obj):
                for meth_name, meth in inspect.getmembers(obj):
                    if meth_name.startswith("_") or meth_name in FOREIGN_METHODS:
                        continue
                    if not (inspect.isfunction(meth) or inspect.ismethod(meth)):
                        continue
                    if not getattr(meth, "__module__", "").startswith("weightdecay"):
                        continue
                    meth_qualname = f"{meth.__module__}.{meth.__qualname__}"
                    if meth_qualname not in seen:
                        seen.add(meth_qualname)
                        yield meth_qualname, meth, METHOD_CHECKS


PUBLIC = sorted(_public_objects(), key=lambda item: item[0])


def _errors(qualname: str, checks: set[str]) -> list[str]:
    result = numpydoc_validate.validate(qualname)
    return [f"{code}: {message}" for code, message in result["errors"] if code in checks]


@pytest.mark.parametrize("qualname, obj, checks", PUBLIC, ids=[item[0] for item in PUBLIC])
def test_public_name_has_numpydoc_sections(qualname, obj, checks):
    errors = _errors(qualname, checks)
    assert not errors, f"{qualname}:\n  " + "\n  ".join(errors)


def test_the_check_sees_the_whole_package():
    names = {q for q, _, _ in PUBLIC}
    assert len(names) > 150
    assert "weightdecay.linear.ridge" in names
    assert any(n.startswith("weightdecay.experiments.double_descent.") for n in names)
    assert "weightdecay._estimators._BookLinearModel.fit" in names, sorted(n for n in names if "_estimators" in n)


def _sample(x, lam):
    """Shrink x.

    Parameters
    ----------
    x : float
        The value.

    Returns
    -------
    float
        The shrunk value.
    """
    return x / (1 + lam)


def test_the_check_catches_what_is_missing():
    errors = _errors(f"{_sample.__module__}.{_sample.__qualname__}", FUNCTION_CHECKS)
    assert [e[:4] for e in errors] == ["PR01", "EX01"], errors
