"""The cold-import budget check (bench/cold_import.py --check, run by `make test`) can fail.

A copy of the catalog function that also imports icalendar and jinja2 at module level (as the
calendar and template modules did before they imported them where they are used) is measured
next to the real one, in the same run against the same baseline: the copy is over the budget
and the check exits 1, while the real catalog function stays within it. Fresh interpreters, as
the bench runs them (a few seconds; the deployment packages go into build/cold-import/ once).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.cold_import import ALLOWANCES, BUDGET, ceiling

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "functions" / "catalog" / "app.py"


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    bench = ROOT / "bench" / "cold_import.py"
    command = [sys.executable, str(bench), "--samples", "3", "--check", str(BUDGET)]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=ROOT,
    )


def test_a_heavy_import_added_on_purpose_fails_the_check(tmp_path: Path) -> None:
    heavy = tmp_path / "catalog_with_icalendar"
    heavy.mkdir()
    source = CATALOG.read_text(encoding="utf-8")
    (heavy / "app.py").write_text(
        source.replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport icalendar, jinja2  # noqa: E401, F401\n",
            1,
        ),
        encoding="utf-8",
    )

    result = run_check(
        "--only", "CatalogFunction", "--extra", str(heavy), "--environment-of", "CatalogFunction"
    )

    assert result.returncode == 1, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "over budget" in rows["catalog_with_icalendar"]
    assert "over budget" not in rows["CatalogFunction"]
    assert "catalog_with_icalendar" in result.stderr and "CatalogFunction" not in result.stderr


def test_an_allowance_is_a_ceiling_above_the_budget_with_its_reason() -> None:
    for function, (allowed, reason) in ALLOWANCES.items():
        assert allowed > BUDGET and len(reason) > 40, function
        assert ceiling(function, BUDGET) == allowed
    assert ceiling("CatalogFunction", BUDGET) == BUDGET
