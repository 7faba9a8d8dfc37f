"""Availability use case: the bookable slots of a service at a location over a range of days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bookbay.domain import availability
from bookbay.domain.availability import AvailableSlot
from bookbay.exceptions import LocationNotFound, ServiceNotFound, ValidationFailed
from bookbay.repositories.availability import AvailabilityRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.types import AppointmentType


@dataclass(frozen=True)
class AvailabilityDeps:
    """The public availability API: the catalog and the slot usage."""

    catalog: CatalogRepository
    availability: AvailabilityRepository


def find_availability(
    catalog_repo: CatalogRepository,
    availability_repo: AvailabilityRepository,
    *,
    location_id: str,
    service_id: str,
    appointment_type: AppointmentType,
    start_day: date | None,
    days: int,
    customer_zip: str | None,
    now: datetime,
) -> tuple[str, list[AvailableSlot]]:
    """The location's time zone and the bookable slots on ``start_day`` (default: today there) and
    the ``days - 1`` days after it, within the booking horizon.

    Reads the catalog (cached in a warm container) and the slot usage with one query over the UTC
    range the candidate slots can occupy (none when no day of the range can be booked).
    """
    catalog = catalog_repo.catalog()
    location = catalog.location(location_id)
    if location is None:
        raise LocationNotFound(f"There is no location {location_id!r}.")
    service = catalog.service(service_id)
    if service is None:
        raise ServiceNotFound(f"There is no service {service_id!r}.")
    settings = catalog.shop.settings
    if days > settings.horizon_days:
        raise ValidationFailed(
            f"Ask for at most {settings.horizon_days} days at a time.",
            details=[{"field": "query.days", "message": f"must be at most {settings.horizon_days}"}],
        )
    availability.check_offered(location, service, appointment_type, customer_zip)
    if start_day is None:
        start_day = now.astimezone(availability.zone_of(location)).date()
    window = availability.bookable_days(location, settings, start_day, days, now)
    if window is None:
        return location.timezone, []
    first_utc, end_utc = availability.day_bounds_utc(location, *window)
    usage = availability_repo.usage(
        location.id, max(first_utc, availability.earliest_start(settings, now)), end_utc
    )
    slots = availability.bookable_slots(
        location,
        service,
        settings,
        appointment_type=appointment_type,
        customer_zip=customer_zip,
        start_day=start_day,
        days=days,
        now=now,
        usage=usage,
    )
    return location.timezone, slots
