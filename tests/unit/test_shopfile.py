from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bookbay.exceptions import ShopFileError
from bookbay.shopfile import catalog_from_document, read_shop_file

DEMO = Path(__file__).resolve().parents[2] / "ops" / "shops" / "demo.yaml"


def demo_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    return document


def test_the_demo_shop_file_is_what_the_foundation_promises() -> None:
    catalog = read_shop_file(DEMO)
    assert len({loc.timezone for loc in catalog.locations}) == 2  # two time zones
    assert {t for svc in catalog.services for t in svc.appointment_types} == {"in_store", "online", "at_home"}
    assert len(catalog.services) == 3
    assert all(loc.capacity_per_slot == 2 for loc in catalog.locations)
    assert all(
        loc.hours_on(5) and loc.hours_on(5)[0].closes <= "12:00" for loc in catalog.locations
    )  # Saturday am
    phoenix = catalog.location("phoenix-camelback")
    assert phoenix is not None and phoenix.coordinates.lat == pytest.approx(33.5, abs=0.1)  # from the ZIP


def test_json_files_work_too(tmp_path: Path) -> None:
    file = tmp_path / "shop.json"
    file.write_text(json.dumps(demo_document(), default=str))
    assert read_shop_file(file).shop.id == "bookbay-demo-auto"


def test_every_problem_is_reported_with_its_place() -> None:
    document = demo_document()
    document["locations"][1]["weekly_hours"]["sat"][0]["closes"] = "25:00"
    document["locations"][0]["phone"] = "12"
    document["services"].append(dict(document["services"][0]))
    with pytest.raises(ShopFileError) as caught:
        catalog_from_document(document, "shop.yaml")
    message = caught.value.message
    assert "locations[1].weekly_hours.sat[0].closes" in message
    assert "locations[0].phone" in message
    assert "services: duplicate ids oil-change" in message


def test_unknown_zip_without_coordinates_is_refused() -> None:
    document = demo_document()
    document["locations"][1]["address"]["zip"] = "00000"
    with pytest.raises(ShopFileError, match=r"locations\[1\].address.zip: '00000' is not a known US ZIP"):
        catalog_from_document(document)


def test_a_service_no_location_offers_is_refused() -> None:
    document = demo_document()
    document["locations"][0]["appointment_types"] = ["in_store"]
    document["locations"][0].pop("at_home_zips")
    document["services"] = [s for s in document["services"] if s["id"] != "oil-change"]
    document["services"].append(
        {"id": "mobile", "name": "Mobile", "duration_minutes": 30, "appointment_types": ["at_home"]}
    )
    with pytest.raises(ShopFileError, match="no location offers"):
        catalog_from_document(document)


@pytest.mark.parametrize("text", ["[1, 2]", "shop: [unclosed", ""])
def test_unreadable_files_are_refused(tmp_path: Path, text: str) -> None:
    file = tmp_path / "shop.yaml"
    file.write_text(text)
    with pytest.raises(ShopFileError):
        read_shop_file(file)


def test_missing_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ShopFileError, match="cannot read"):
        read_shop_file(tmp_path / "missing.yaml")
    file = tmp_path / "latin1.yaml"
    file.write_bytes("shop: caf\xe9".encode("latin-1"))
    with pytest.raises(ShopFileError, match="cannot read"):
        read_shop_file(file)


@pytest.mark.parametrize("file", sorted(DEMO.parent.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_shop_file_is_valid(file: Path) -> None:
    assert read_shop_file(file).locations
