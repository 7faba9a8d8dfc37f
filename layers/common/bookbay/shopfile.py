"""Shop files: one file (YAML or JSON) holds a shop, its settings, locations and services.

Ops load it into a stack with ``ops/load_shop.py``; the local stack seeds its demo shop from one.
Everything is validated before anything is written, and errors name the exact place in the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from bookbay.domain.catalog import Catalog, Location, Service, Shop, ShopSettings
from bookbay.exceptions import ShopFileError
from bookbay.geo import zip_centroid
from bookbay.modeling import BaseModel
from bookbay.types import E164Phone, Slug, Text, TimeZoneName


class _ShopHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug
    name: Text = Field(min_length=1, max_length=120)
    timezone: TimeZoneName
    phone: E164Phone


class ShopFile(BaseModel):
    """The file's layout. ``coordinates`` of a location may be left out: the ZIP's centroid is used."""

    model_config = ConfigDict(extra="forbid")

    shop: _ShopHeader
    settings: ShopSettings = Field(default_factory=ShopSettings)
    locations: list[dict[str, Any]] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _errors(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[str]:
    return [f"{_where(prefix + tuple(err['loc']))}: {err['msg']}" for err in exc.errors()]


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ShopFileError(f"{path}: cannot read the file ({exc})") from exc
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ShopFileError(f"{path}: not valid JSON: {exc}") from exc
    try:
        import yaml  # ops tooling only; the Lambda layer never reads shop files
    except ImportError as exc:  # pragma: no cover - dev venv always has it
        raise ShopFileError("Reading YAML shop files needs PyYAML (use a .json file or install it)") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ShopFileError(f"{path}: not valid YAML: {exc}") from exc


def catalog_from_document(document: Any, source: str = "shop file") -> Catalog:
    """Validate a parsed shop document into a Catalog, or raise ShopFileError listing every problem."""
    if not isinstance(document, dict):
        raise ShopFileError(f"{source}: the top level must be a mapping with shop, locations, services")
    try:
        parsed = ShopFile.model_validate(document)
    except ValidationError as exc:
        raise ShopFileError(f"{source} is invalid:\n  " + "\n  ".join(_errors(exc))) from exc

    problems: list[str] = []
    locations: list[Location] = []
    for index, raw in enumerate(parsed.locations):
        data = dict(raw)
        if "coordinates" not in data:
            zip_code = str((data.get("address") or {}).get("zip", ""))
            centroid = zip_centroid(zip_code)
            if centroid is None:
                problems.append(
                    f"locations[{index}].address.zip: {zip_code!r} is not a known US ZIP; "
                    "give coordinates: {lat, lon}"
                )
                continue
            data["coordinates"] = centroid.model_dump()
        try:
            locations.append(Location.model_validate(data))
        except ValidationError as exc:
            problems += _errors(exc, ("locations", index))

    for kind, ids in (
        ("locations", [x.id for x in locations]),
        ("services", [s.id for s in parsed.services]),
    ):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            problems.append(f"{kind}: duplicate ids {', '.join(duplicates)}")
    offered = {t for loc in locations for t in loc.appointment_types}
    for index, service in enumerate(parsed.services):
        if not offered.intersection(service.appointment_types):
            problems.append(
                f"services[{index}].appointment_types: no location offers any of {service.appointment_types}"
            )
    if problems:
        raise ShopFileError(f"{source} is invalid:\n  " + "\n  ".join(problems))

    shop = Shop(**parsed.shop.model_dump(), settings=parsed.settings)
    return Catalog(shop=shop, locations=locations, services=parsed.services)


def read_shop_file(path: str | Path) -> Catalog:
    """Read and validate a shop file (.yaml, .yml or .json)."""
    file = Path(path)
    return catalog_from_document(_parse(file), str(file))
