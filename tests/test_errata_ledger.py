"""The errata page is a ledger: every source error has a row, and every row's pointers exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERRATA = ROOT / "book" / "errata.md"
EXPECTED_IDS = [f"A{i}" for i in range(1, 24)] + [f"B{i}" for i in range(1, 11)]


def ledger_rows() -> dict[str, list[str]]:
    rows = {}
    for line in ERRATA.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*([AB]\d+)\s*\|", line)
        if m:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            rows[m.group(1)] = cells
    return rows


def book_labels() -> set[str]:
    labels = set()
    for path in (ROOT / "book").rglob("*"):
        if path.suffix in {".md", ".ipynb"}:
            labels.update(re.findall(r"\(([\w-]+)\)=", path.read_text(encoding="utf-8")))
    return labels


def test_every_source_error_has_a_row():
    rows = ledger_rows()
    assert sorted(rows, key=lambda r: (r[0], int(r[1:]))) == EXPECTED_IDS
    for rid, cells in rows.items():
        assert len(cells) == 5, f"{rid}: expected 5 columns, got {len(cells)}"
        assert "「" in cells[1], f"{rid}: the claim must quote the source"


def test_sections_exist():
    labels = book_labels()
    for rid, cells in ledger_rows().items():
        refs = re.findall(r"\{ref\}`([\w-]+)`", cells[3])
        assert refs or cells[3].startswith("*pending:*"), f"{rid}: no section"
        for ref in refs:
            assert ref in labels, f"{rid}: section label {ref!r} does not exist in book/"


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        names |= {f"{cls.name}::{m.name}" for m in cls.body if isinstance(m, ast.FunctionDef)}
    return names


def test_tests_exist():
    for rid, cells in ledger_rows().items():
        node_ids = re.findall(r"`(tests/[\w/]+\.py::[\w:]+)`", cells[4])
        assert node_ids or cells[4] == "*pending*", f"{rid}: no test"
        for node in node_ids:
            file, name = node.split("::", 1)
            path = ROOT / file
            assert path.exists(), f"{rid}: {file} does not exist"
            assert name.split("[")[0] in _test_functions(path), f"{rid}: {node} does not exist"


def test_pending_rows_are_marked_consistently():
    for rid, cells in ledger_rows().items():
        if cells[3].startswith("*pending:*"):
            assert cells[4] == "*pending*", f"{rid}: a pending section cannot have a test yet"
