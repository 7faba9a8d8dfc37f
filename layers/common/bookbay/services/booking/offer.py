"""Booking step 1, the offer: the location, service, type and time asked for are validated
against the catalog and the calendar; a time that cannot be booked answers the next free ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbay.domain import availability
from bookbay.domain.addresses import checked_address
from bookbay.domain.booking import (
    CustomerAddress,
)
from bookbay.domain.booking_request import BookingRequest
from bookbay.domain.catalog import Catalog, Location, Service, ShopSettings
from bookbay.exceptions import (
    LocationNotFound,
    ServiceNotFound,
    SlotUnavailable,
    ValidationFailed,
)
from bookbay.services.booking.ports import ALTERNATIVES, UsageSource


@dataclass(frozen=True)
class Offer:
    """The validated what, where and when of a booking."""

    catalog: Catalog
    location: Location
    service: Service
    start: datetime  # in the location's zone
    slot_starts: list[datetime]  # UTC
    # An address typed in (its id is set once the customer is known): at home, where the visit is;
    # otherwise the customer's address, kept on file (matched against flags, used by takeover).
    address: CustomerAddress | None


def make_offer(
    request: BookingRequest, catalog: Catalog, *, now: datetime, availability_repo: UsageSource
) -> Offer:
    location = catalog.location(request.location_id)
    if location is None:
        raise LocationNotFound(
            f"There is no location {request.location_id!r}.",
            details=[{"field": "body.location_id", "message": "no such location"}],
        )
    service = catalog.service(request.service_id)
    if service is None:
        raise ServiceNotFound(
            f"There is no service {request.service_id!r}.",
            details=[{"field": "body.service_id", "message": "no such service"}],
        )
    address: CustomerAddress | None = None
    if request.appointment_type == "at_home":
        if request.address is None and request.address_id is None:
            raise ValidationFailed(
                "An at-home appointment needs the address.",
                details=[{"field": "body.address", "message": "required for at_home appointments"}],
            )
        if request.address is not None:
            availability.check_offered(location, service, "at_home", request.address.zip)
            address = CustomerAddress(
                id="", address=request.address, canonical=checked_address(request.address)
            )
        else:  # a saved address: the type is checked now, its ZIP once it is read
            availability.check_offered(location, service, "at_home", a_served_zip(location))
    else:
        availability.check_offered(location, service, request.appointment_type, None)
        if request.address is not None:
            address = CustomerAddress(
                id="", address=request.address, canonical=checked_address(request.address)
            )

    settings = catalog.shop.settings
    problem: str | None = None
    slots: list[datetime] | None = None
    start = request.start
    # Compared before any conversion: a start centuries away must not overflow the arithmetic.
    if request.start < availability.earliest_start(settings, now):
        problem = "That time is too soon to book online."
    elif request.start > now + timedelta(days=settings.horizon_days + 1):
        problem = "That time is too far ahead to book online."
    else:
        start = request.start.astimezone(availability.zone_of(location))
        slots = availability.required_slots(location, service, settings, start)
        if slots is None:
            problem = "That time is not a start time the service can be booked at."
        elif start.date() > availability.horizon_last_day(location, settings, now):
            problem = "That time is too far ahead to book online."
    if problem is not None or slots is None:
        raise unavailable(
            problem or "That time cannot be booked.",
            location,
            service,
            request,
            now=now,
            after=start,
            settings=settings,
            availability_repo=availability_repo,
        )
    return Offer(catalog, location, service, start, slots, address)


def unavailable(
    message: str,
    location: Location,
    service: Service,
    request: BookingRequest,
    *,
    now: datetime,
    after: datetime,
    settings: ShopSettings,
    availability_repo: UsageSource,
) -> SlotUnavailable:
    """A 409 with the next free slots from ``after`` (or from the earliest bookable time)."""
    earliest = availability.earliest_start(settings, now)
    last_day = availability.horizon_last_day(location, settings, now)
    _, horizon_end = availability.day_bounds_utc(location, last_day, last_day)
    begin = after if earliest <= after < horizon_end else earliest
    usage = availability_repo.usage(location.id, begin, horizon_end)
    customer_zip = request.address.zip if request.address is not None else None
    if request.appointment_type == "at_home" and customer_zip is None:
        customer_zip = a_served_zip(location)
    slots = availability.alternatives(
        location,
        service,
        settings,
        after=begin,
        usage=usage,
        now=now,
        limit=ALTERNATIVES,
        appointment_type=request.appointment_type,
        customer_zip=customer_zip,
    )
    return SlotUnavailable(
        message,
        alternatives=[
            {"start": s.start.isoformat(), "end": s.end.isoformat(), "remaining": s.remaining} for s in slots
        ],
    )


def a_served_zip(location: Location) -> str | None:
    """Any ZIP the location serves at home (to check the type where the address is saved)."""
    return location.at_home_zips[0] if location.at_home_zips else None
