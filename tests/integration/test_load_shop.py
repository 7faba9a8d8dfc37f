"""The ops loader: one command, idempotent, clear errors, prune only when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bookbay.repositories.catalog import CatalogRepository
from ops.load_shop import main

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parents[2] / "ops" / "shops" / "demo.yaml"


def test_loading_twice_writes_once_and_prunes_only_on_request(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--file", str(DEMO), "--table", stack.table_name]) == 0
    assert "6 written, 0 unchanged" in capsys.readouterr().out
    assert main(["--file", str(DEMO), "--table", stack.table_name]) == 0
    assert "0 written, 6 unchanged" in capsys.readouterr().out

    smaller = yaml.safe_load(DEMO.read_text())
    smaller["services"] = smaller["services"][:2]
    smaller["services"][0]["duration_minutes"] = 45
    file = tmp_path / "smaller.yaml"
    file.write_text(yaml.safe_dump(smaller))
    assert main(["--file", str(file), "--table", stack.table_name]) == 0
    out = capsys.readouterr().out
    assert "1 written" in out and "SERVICE#repair-estimate" in out and "--prune deletes" in out
    assert len(CatalogRepository(stack.table_name, "us-east-1").catalog().services) == 3
    assert main(["--file", str(file), "--table", stack.table_name, "--prune"]) == 0
    services = CatalogRepository(stack.table_name, "us-east-1").catalog().services
    assert {s.id: s.duration_minutes for s in services} == {"oil-change": 45, "brake-inspection": 90}


def test_a_bad_file_is_refused_before_anything_is_written(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = yaml.safe_load(DEMO.read_text())
    bad["locations"][0]["timezone"] = "Mars/Olympus"
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(bad))
    assert main(["--file", str(file), "--table", stack.table_name]) == 2
    assert "locations[0].timezone" in capsys.readouterr().err
    from bookbay.exceptions import ShopNotConfigured

    with pytest.raises(ShopNotConfigured):
        CatalogRepository(stack.table_name, "us-east-1").catalog()


def test_a_missing_stack_or_table_is_exit_3(stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--file", str(DEMO), "--table", "no-such-table"]) == 3
    assert "cannot write to table" in capsys.readouterr().err
    assert main(["--file", str(DEMO), "--stack", "no-such-stack"]) == 3
    assert "cannot read stack" in capsys.readouterr().err


def test_dry_run_validates_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--file", str(DEMO), "--dry-run"]) == 0
    assert "2 locations, 3 services - valid" in capsys.readouterr().out
