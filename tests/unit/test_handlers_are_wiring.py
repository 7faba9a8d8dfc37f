"""Handlers stay wiring (issue 13): every ``functions/<name>/app.py`` is at most 60 lines and
imports from the layer only its config, the wiring, the api package and observability, never the
services, repositories, adapters or PynamoDB models (import-linter's contracts cover the layer's
own packages; the handlers are not in it, so they are checked here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))
MAX_LINES = 60
ALLOWED = ("bookbay.api", "bookbay.config", "bookbay.wiring", "bookbay.observability")


def layer_imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] if node.module != "bookbay" else [f"bookbay.{a.name}" for a in node.names]
    return [n for n in names if n == "bookbay" or n.startswith("bookbay.")]


def test_every_function_has_a_handler() -> None:
    assert len(HANDLERS) >= 19


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.parent.name)
def test_a_handler_is_at_most_60_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)}: {lines} lines; move routes to bookbay.api.routes"


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.parent.name)
def test_a_handler_imports_only_config_wiring_and_api(path: Path) -> None:
    wrong = [n for n in layer_imports(path) if not any(n == a or n.startswith(a + ".") for a in ALLOWED)]
    assert wrong == [], f"{path.relative_to(ROOT)} imports {wrong}; build them in bookbay.wiring"
