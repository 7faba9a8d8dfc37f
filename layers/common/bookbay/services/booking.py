"""Booking use case (POST /v1/appointments): validate, recognize the customer, write it all at once.

Reads: the catalog (cached in a warm container) and the customer's phone / e-mail lookup items
(one BatchGetItem); writes: one transaction (repositories/booking.py). A taken or unbookable slot
answers the next free alternatives, from one more query (only on that path).

What the customer typed never overwrites the record on file: differing names and e-mails become
proposed changes for staff, a new phone or e-mail is added as a lookup, a new vehicle or address
is added to the profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bookbay.api.schemas import BookingRequest
from bookbay.domain import availability
from bookbay.domain.addresses import canonical_address
from bookbay.domain.availability import SlotUsage
from bookbay.domain.booking import (
    Appointment,
    AppointmentStatus,
    Contact,
    CustomerAddress,
    CustomerProfile,
    CustomerSummary,
    ProposedChange,
    ProposedField,
    Vehicle,
)
from bookbay.domain.catalog import Address, Catalog, Location, Service, ShopSettings
from bookbay.domain.ids import new_id, stable_id
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import (
    BookingNotAvailable,
    CustomerChanged,
    LocationNotFound,
    ServiceNotFound,
    SlotUnavailable,
    ValidationFailed,
    VerificationRequired,
)
from bookbay.observability import logger
from bookbay.repositories.booking import BookingPlan, CustomerLookup, LookupKind
from bookbay.services.links import new_link, public_base_url
from bookbay.services.notifications import booking_messages

ALTERNATIVES = 3


# ------------------------------------------------------------------------------ what it needs
class CatalogSource(Protocol):
    def catalog(self) -> Catalog: ...


class BookingStore(Protocol):
    def lookup(self, phone: str, email: str) -> CustomerLookup: ...

    def customer_parts(
        self, customer_id: str, vehicle_id: str | None, address_id: str | None
    ) -> tuple[Vehicle | None, CustomerAddress | None]: ...

    def create(self, plan: BookingPlan) -> None: ...


class UsageSource(Protocol):
    def usage(
        self, location_id: str, start_utc: datetime, end_utc: datetime
    ) -> Mapping[datetime, SlotUsage]: ...


class MessageBuilder(Protocol):
    """services.notifications.booking_messages: the customer's and the store's e-mails."""

    def __call__(
        self,
        catalog: Catalog,
        appointment: Appointment,
        *,
        vehicle_label: str | None,
        manage_url: str,
        staff_url: str,
        now: datetime,
        address: Address | None = None,
    ) -> list[OutboundMessage]: ...


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    manage_url: str


@dataclass(frozen=True)
class _Offer:
    """The validated what, where and when of a booking."""

    catalog: Catalog
    location: Location
    service: Service
    start: datetime  # in the location's zone
    slot_starts: list[datetime]  # UTC
    address: CustomerAddress | None  # an at-home address typed in (id set once the customer is known)


# ------------------------------------------------------------------------------ the use case
def book(
    request: BookingRequest,
    *,
    now: datetime,
    catalog_repo: CatalogSource,
    booking_repo: BookingStore,
    availability_repo: UsageSource,
    configured_base_url: str = "",
    verification_token: str | None = None,
    messages: MessageBuilder = booking_messages,
    new_appointment_id: Callable[[], str] = new_id,
) -> BookingResult:
    """Book ``request`` at ``now``; raises a DomainError (4xx) when it cannot, having written nothing."""
    catalog = catalog_repo.catalog()
    settings = catalog.shop.settings
    if settings.require_verification:
        # Verification tokens arrive with the identity flow; until then such shops take no bookings
        # here, with or without a token.
        raise VerificationRequired(
            "This shop asks you to verify your phone number or e-mail with a code before booking."
        )
    base_url = public_base_url(configured_base_url, settings)
    offer = _offer(request, catalog, now=now, availability_repo=availability_repo)
    appointment_id = new_appointment_id()
    # A first booking that races another one with the same phone or e-mail loses the conditional
    # write of the lookup item; run once more, and it finds the customer the other one created.
    for attempt in (1, 2):
        lookup = booking_repo.lookup(request.customer.phone, request.customer.email)
        plan, manage_url = _plan(
            request,
            offer,
            lookup,
            appointment_id=appointment_id,
            booking_repo=booking_repo,
            base_url=base_url,
            messages=messages,
            now=now,
        )
        try:
            booking_repo.create(plan)
        except CustomerChanged:
            if attempt == 2:
                raise
            logger.info(
                "customer created concurrently; booking again", extra={"appointment_id": appointment_id}
            )
            continue
        except SlotUnavailable as taken:
            raise _unavailable(
                taken.message,
                offer.location,
                offer.service,
                request,
                now=now,
                after=offer.start,
                settings=settings,
                availability_repo=availability_repo,
            ) from taken
        logger.info(
            "appointment booked",
            extra={
                "appointment_id": appointment_id,
                "status": plan.appointment.status,
                "location_id": offer.location.id,
                "returning_customer": plan.new_profile is None,
                "proposed_changes": len(plan.proposed_changes),
            },
        )
        return BookingResult(appointment=plan.appointment, manage_url=manage_url)
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------ validation
def _offer(
    request: BookingRequest, catalog: Catalog, *, now: datetime, availability_repo: UsageSource
) -> _Offer:
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
            availability.check_offered(location, service, "at_home", _a_served_zip(location))
    else:
        availability.check_offered(location, service, request.appointment_type, None)

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
        raise _unavailable(
            problem or "That time cannot be booked.",
            location,
            service,
            request,
            now=now,
            after=start,
            settings=settings,
            availability_repo=availability_repo,
        )
    return _Offer(catalog, location, service, start, slots, address)


def checked_address(address: Address) -> str:
    """The canonical form of a US street address; ValidationFailed (with the fields) when it is
    not one: usaddress must read a street address, and the ZIP must exist in the given state."""
    import usaddress  # loads its model on first use
    import zipcodes  # loads its data set on first use

    details: list[dict[str, Any]] = []
    street = " ".join(part for part in (address.line1, address.line2 or "") if part)
    try:
        tagged, kind = usaddress.tag(street)
    except usaddress.RepeatedLabelError:
        tagged, kind = {}, "Ambiguous"
    if kind != "Street Address" or not tagged.get("AddressNumber") or not tagged.get("StreetName"):
        details.append({"field": "body.address.line1", "message": "not a street address (number and street)"})
    try:
        matches = zipcodes.matching(address.zip)
    except (TypeError, ValueError):
        matches = []
    if not matches:
        details.append({"field": "body.address.zip", "message": "unknown ZIP code"})
    elif all(match.get("state") != address.state for match in matches):
        details.append(
            {"field": "body.address.state", "message": f"ZIP code {address.zip} is not in this state"}
        )
    if details:
        raise ValidationFailed("The address is not a valid US street address.", details=details)
    return canonical_address(address)


def _unavailable(
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
        customer_zip = _a_served_zip(location)
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


def _a_served_zip(location: Location) -> str | None:
    """Any ZIP the location serves at home (to check the type where the address is saved)."""
    return location.at_home_zips[0] if location.at_home_zips else None


# ------------------------------------------------------------------------------ the plan
def _plan(
    request: BookingRequest,
    offer: _Offer,
    lookup: CustomerLookup,
    *,
    appointment_id: str,
    booking_repo: BookingStore,
    base_url: str,
    messages: MessageBuilder,
    now: datetime,
) -> tuple[BookingPlan, str]:
    contact = request.customer
    existing = lookup.customer
    if existing is not None and existing.do_not_service:
        raise BookingNotAvailable(
            f"We can't book this appointment online. Please call {offer.location.name} at "
            f"{offer.location.phone} to book."
        )
    new_profile: CustomerProfile | None = None
    new_lookups: list[LookupKind] = []
    proposed: list[ProposedChange] = []
    if existing is None:
        new_profile = CustomerProfile(
            id=new_id(),
            first_name=contact.first_name,
            last_name=contact.last_name,
            phone=contact.phone,
            email=contact.email,
            source=request.source,
            created_at=now,
        )
        customer = new_profile.summary()
        new_lookups = ["phone", "email"]
    else:
        customer = existing
        if lookup.by_phone is None:
            new_lookups.append("phone")
        if lookup.by_email is None:
            new_lookups.append("email")
        proposed = _proposed_changes(customer, lookup, contact, appointment_id, request.source, now)

    saved_vehicle, saved_address = _saved_parts(request, customer.customer_id, existing, booking_repo)
    vehicle, vehicle_to_add = _vehicle(request, customer.customer_id, saved_vehicle)
    address, address_to_add = _address(request, offer, customer.customer_id, saved_address)

    duration = timedelta(minutes=offer.service.duration_minutes)
    status: AppointmentStatus = (
        "confirmed" if offer.catalog.shop.settings.booking_mode == "instant" else "requested"
    )
    notes = " ".join((request.notes or "").split()) or None
    appointment = Appointment(
        id=appointment_id,
        status=status,
        location_id=offer.location.id,
        service_id=offer.service.id,
        appointment_type=request.appointment_type,
        start=offer.start,
        end=offer.start + duration,
        slot_starts=offer.slot_starts,
        customer_id=customer.customer_id,
        vehicle_id=vehicle.id,
        address_id=address.id if address is not None else None,
        contact=contact,
        notes=notes,
        source=request.source,
        created_at=now,
        updated_at=now,
    )
    manage_url, manage_link = new_link(base_url, "customer", appointment.id, appointment.end)
    staff_url, staff_link = new_link(base_url, "staff", appointment.id, appointment.end)
    outgoing = messages(
        offer.catalog,
        appointment,
        vehicle_label=vehicle.label,
        manage_url=manage_url,
        staff_url=staff_url,
        now=now,
        address=address.address if address is not None else None,
    )
    plan = BookingPlan(
        appointment=appointment,
        capacity_per_slot=offer.location.capacity_per_slot,
        customer=customer,
        new_profile=new_profile,
        new_lookups=tuple(new_lookups),
        proposed_changes=tuple(proposed),
        vehicle=vehicle_to_add,
        address=address_to_add,
        messages=tuple(outgoing),
        links=(manage_link, staff_link),
    )
    return plan, manage_url


def _proposed_changes(
    customer: CustomerSummary,
    lookup: CustomerLookup,
    contact: Contact,
    appointment_id: str,
    source: str,
    now: datetime,
) -> list[ProposedChange]:
    """What the booker typed that differs from the record (names case-insensitively)."""
    differences: list[tuple[ProposedField, str | None, str]] = []
    if customer.first_name.casefold() != contact.first_name.casefold():
        differences.append(("first_name", customer.first_name, contact.first_name))
    if customer.last_name.casefold() != contact.last_name.casefold():
        differences.append(("last_name", customer.last_name, contact.last_name))
    email_is_theirs = lookup.by_email is not None and lookup.by_email.customer_id == customer.customer_id
    if customer.email != contact.email and not email_is_theirs:
        differences.append(("email", customer.email, contact.email))
    if customer.phone != contact.phone and lookup.by_phone is None:
        differences.append(("phone", customer.phone, contact.phone))
    return [
        ProposedChange(
            id=new_id(),
            customer_id=customer.customer_id,
            field=name,
            current=current,
            proposed=value,
            appointment_id=appointment_id,
            source=source,
            created_at=now,
        )
        for name, current, value in differences
    ]


def _saved_parts(
    request: BookingRequest, customer_id: str, existing: CustomerSummary | None, booking_repo: BookingStore
) -> tuple[Vehicle | None, CustomerAddress | None]:
    """The saved vehicle and address the request names (one read), for a customer on file."""
    address_id = request.address_id if request.appointment_type == "at_home" else None
    if existing is None or (request.vehicle_id is None and address_id is None):
        return None, None
    return booking_repo.customer_parts(customer_id, request.vehicle_id, address_id)


def _vehicle(
    request: BookingRequest, customer_id: str, saved: Vehicle | None
) -> tuple[Vehicle, Vehicle | None]:
    """The booking's vehicle, and the record to add when it is new to the customer."""
    if request.vehicle is not None:
        details = request.vehicle
        vehicle = Vehicle(id=stable_id(customer_id, details.identity()), **details.model_dump())
        return vehicle, vehicle
    if saved is None:
        raise ValidationFailed(
            "There is no such vehicle on your profile.",
            details=[{"field": "body.vehicle_id", "message": "no such vehicle on the customer's profile"}],
        )
    return saved, None


def _address(
    request: BookingRequest, offer: _Offer, customer_id: str, saved: CustomerAddress | None
) -> tuple[CustomerAddress | None, CustomerAddress | None]:
    """The at-home address, and the record to add when it is new to the customer."""
    if request.appointment_type != "at_home":
        return None, None
    if offer.address is not None:
        typed = offer.address.model_copy(update={"id": stable_id(customer_id, offer.address.canonical)})
        return typed, typed
    if saved is None:
        raise ValidationFailed(
            "There is no such address on your profile.",
            details=[{"field": "body.address_id", "message": "no such address on the customer's profile"}],
        )
    availability.check_offered(offer.location, offer.service, "at_home", saved.address.zip)
    return saved, None
