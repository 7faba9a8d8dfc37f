"""Catalog use cases: the shop as customers see it (with the channels codes go by now), and
stores near a ZIP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbay.domain import verification
from bookbay.domain.catalog import Catalog, Channel, Location, Shop
from bookbay.exceptions import LocationNotFound, UnknownZip
from bookbay.geo import distance_miles, zip_centroid
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.rate_windows import RateWindows


@dataclass(frozen=True)
class CatalogDeps:
    """The public catalog API: the catalog (cached in a warm container) and the windows of the
    shop's SMS caps."""

    catalog: CatalogRepository
    rate_windows: RateWindows


@dataclass(frozen=True)
class NearbyLocation:
    location: Location
    distance_miles: float


def get_catalog(repo: CatalogRepository) -> Catalog:
    return repo.catalog()


def offered_channels(deps: CatalogDeps, shop: Shop, now: datetime) -> list[Channel]:
    """The channels verification codes are offered over now: e-mail only while the shop's SMS cap
    holds (one BatchGetItem of its two windows, only for a shop offering SMS and e-mail)."""
    settings = shop.settings
    if verification.offered_channels(settings, sms_capped=True) == settings.verification_channels:
        return list(settings.verification_channels)  # the cap changes nothing: no read
    windows = deps.rate_windows.read(verification.sms_subjects(settings, shop.id), consistent=False)
    capped = verification.sms_cap_reached(settings, shop.id, windows, now) is not None
    return verification.offered_channels(settings, sms_capped=capped)


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
