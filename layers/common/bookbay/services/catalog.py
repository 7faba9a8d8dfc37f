"""Catalog use cases: the shop as customers see it, and stores near a ZIP."""

from __future__ import annotations

from dataclasses import dataclass

from bookbay.domain.catalog import Catalog, Location
from bookbay.exceptions import LocationNotFound, UnknownZip
from bookbay.geo import distance_miles, zip_centroid
from bookbay.repositories.catalog import CatalogRepository


@dataclass(frozen=True)
class CatalogDeps:
    """The public catalog API: the catalog (cached in a warm container)."""

    catalog: CatalogRepository


@dataclass(frozen=True)
class NearbyLocation:
    location: Location
    distance_miles: float


def get_catalog(repo: CatalogRepository) -> Catalog:
    return repo.catalog()


def get_location(repo: CatalogRepository, location_id: str) -> Location:
    location = repo.catalog().location(location_id)
    if location is None:
        raise LocationNotFound(f"There is no location {location_id!r}.")
    return location


def locations_near(repo: CatalogRepository, zip_code: str) -> list[NearbyLocation]:
    """Every location with its distance from the ZIP's centroid, nearest first."""
    origin = zip_centroid(zip_code)
    if origin is None:
        raise UnknownZip(
            f"ZIP code {zip_code} is not a known US ZIP code; check it and try again.",
            details=[{"field": "query.near", "message": "unknown ZIP code"}],
        )
    nearby = [
        NearbyLocation(location=loc, distance_miles=round(distance_miles(origin, loc.coordinates), 1))
        for loc in repo.catalog().locations
    ]
    return sorted(nearby, key=lambda n: (n.distance_miles, n.location.name))
