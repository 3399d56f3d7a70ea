"""book/api.md: one section per module of the package, with the chapters that use it."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import weightdecay as wd

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.ipynb"))


def chapters_using(module: str) -> list[str]:
    pattern = re.compile(
        rf"wd\.{module}\b|weightdecay\.{module}\b|from weightdecay import [^\n]*\b{module}\b"
    )
    return [p.stem for p in CHAPTERS if pattern.search(p.read_text(encoding="utf-8"))]


def sections() -> dict[str, str]:
    parts = re.split(r"^## `weightdecay\.(\w+)`\s*$", PAGE, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_module_has_one_section_that_documents_it():
    found = sections()
    assert sorted(found) == sorted(wd._SUBMODULES)
    for module, body in found.items():
        assert f".. automodule:: weightdecay.{module}" in body, module


@pytest.mark.parametrize("module", wd._SUBMODULES)
def test_each_section_names_the_chapters_that_use_the_module(module):
    body = sections()[module]
    listed = re.findall(r"\{doc\}`chapters/(\w+)`", body.split("```")[0])
    assert listed == chapters_using(module), f"update 'Used in' of weightdecay.{module} in book/api.md"


@pytest.mark.parametrize("module", wd._SUBMODULES)
def test_every_public_name_has_a_docstring(module):
    mod = importlib.import_module(f"weightdecay.{module}")
    names = getattr(mod, "__all__", [])
    undocumented = [
        name for name in names
        if (inspect.isfunction(getattr(mod, name)) or inspect.isclass(getattr(mod, name)))
        and not (inspect.getdoc(getattr(mod, name)) or "").strip()
    ]
    assert not undocumented, f"weightdecay.{module}: no docstring for {undocumented}"


def test_every_chapter_experiment_module_is_documented():
    for name in wd.experiments.__all__:
        assert f".. automodule:: weightdecay.experiments.{name}" in PAGE, name
