"""The README's lifecycle table is the domain's (``scripts/lifecycle_table.py`` prints it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_lifecycle_table_as_declared() -> None:
    spec = importlib.util.spec_from_file_location("lifecycle_table", ROOT / "scripts" / "lifecycle_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table: str = module.table()
    assert table.count("\n") >= 13  # a header, a rule and a row per action
    assert table in (ROOT / "README.md").read_text(encoding="utf-8")
