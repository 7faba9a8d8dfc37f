"""Booking use case (POST /v1/appointments): validate, recognize the customer, write it all at once.

Reads: the catalog (cached in a warm container) and the customer's phone / e-mail lookup items
(one BatchGetItem); writes: one transaction (repositories/booking.py). A taken or unbookable slot
answers the next free alternatives, from one more query (only on that path).

What the customer typed never overwrites the record on file: differing names and e-mails become
proposed changes for staff, a new phone or e-mail is added as a lookup, a new vehicle or address
is added to the profile.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from bookbay.api.schemas import BookingRequest
from bookbay.domain import availability, effects, flags, lifecycle
from bookbay.domain.addresses import canonical_address
from bookbay.domain.audit import Actor
from bookbay.domain.availability import SlotUsage
from bookbay.domain.booking import (
    Appointment,
    AppointmentStatus,
    Contact,
    CustomerAddress,
    CustomerProfile,
    CustomerSummary,
    PreferredChannel,
    ProposedChange,
    ProposedField,
    Takeover,
    Vehicle,
    VerifiedVia,
)
from bookbay.domain.catalog import Address, Catalog, Location, Service, ShopSettings
from bookbay.domain.flags import FlagKey
from bookbay.domain.ids import new_id, stable_id
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import (
    BookingNotAvailable,
    CustomerChanged,
    FlagCheckIncomplete,
    InvalidVerificationToken,
    LocationNotFound,
    ServiceNotFound,
    SlotUnavailable,
    ValidationFailed,
    VerificationRequired,
)
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.booking import BookingPlan, CustomerLookup, LookupKind
from bookbay.services.links import new_link, public_base_url
from bookbay.services.notifications import booking_messages
from bookbay.services.verification_tokens import VerifiedIdentity
from bookbay.types import phone_display

ALTERNATIVES = 3


# ------------------------------------------------------------------------------ what it needs
class CatalogSource(Protocol):
    def catalog(self) -> Catalog: ...


class BookingStore(Protocol):
    def lookup(
        self,
        phone: str | None,
        email: str | None,
        *,
        verified: str | None = None,
        customer_id: str | None = None,
        address_canonical: str | None = None,
        parts: tuple[str | None, str | None] = (None, None),
        flags: Collection[FlagKey] = (),
    ) -> CustomerLookup: ...

    def customer_summary(self, customer_id: str) -> CustomerSummary | None: ...

    def customer_parts(
        self, customer_id: str, vehicle_id: str | None, address_id: str | None
    ) -> tuple[Vehicle | None, CustomerAddress | None]: ...

    def create(self, plan: BookingPlan) -> None: ...


class TokenVerifier(Protocol):
    """services.verification_tokens.VerificationTokens: who a verification token proves the bearer is."""

    def verify(self, token: str, now: datetime | None = None) -> VerifiedIdentity: ...


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
        preferred: PreferredChannel = "email",
    ) -> list[OutboundMessage]: ...


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    manage_url: str
    # Said to staff (a manual booking), never to a customer: e.g. a Do Not Service customer.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class StaffBooking:
    """A booking staff enter by hand (a phone call): no verification code, confirmed at once,
    a Do Not Service customer is booked with a warning to staff instead of refused, and an audit
    entry names who entered it. Capacity, dedupe, flags and takeover hold as online."""

    actor: Actor


DO_NOT_SERVICE_WARNING = "do_not_service"


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
    tokens: TokenVerifier | None = None,
    messages: MessageBuilder = booking_messages,
    new_appointment_id: Callable[[], str] = new_id,
    staff: StaffBooking | None = None,
) -> BookingResult:
    """Book ``request`` at ``now``; raises a DomainError (4xx) when it cannot, having written nothing.

    ``verification_token`` (checked with ``tokens``) says who the booker proved to be: the customer
    it names (or the owner of its verified phone / e-mail, or a new customer with that contact).
    A shop with ``require_verification`` takes no booking without one (a known-source link's
    token counts). ``staff``: entered by staff (see StaffBooking).
    """
    catalog = catalog_repo.catalog()
    settings = catalog.shop.settings
    identity: VerifiedIdentity | None = None
    if verification_token:
        if tokens is None:  # pragma: no cover - a wiring mistake, not input
            raise RuntimeError("a verification token came without a verifier")
        identity = tokens.verify(verification_token, now)
    elif settings.require_verification and staff is None:
        raise VerificationRequired(
            "This shop asks you to verify your phone number or e-mail with a code before booking."
        )
    base_url = public_base_url(configured_base_url, settings)
    offer = _offer(request, catalog, now=now, availability_repo=availability_repo)
    appointment_id = new_appointment_id()
    # A first booking that races another one with the same phone or e-mail loses the conditional
    # write of the lookup item; run once more, and it finds the customer the other one created.
    parts = _named_parts(request, identity)
    # The flags of what was typed (and of the verified contact) come in the same read.
    flag_keys = flags.person_keys(request.customer, offer.address.canonical if offer.address else None)
    if identity is not None:
        flag_keys.append(flags.destination_key(identity.destination))
    typed = request.customer
    named = identity.customer_id if identity else None
    lookup: CustomerLookup | None = None
    for attempt in (1, 2):
        if lookup is None:
            lookup = booking_repo.lookup(
                typed.phone if typed else None,
                typed.email if typed else None,
                verified=identity.destination if identity and not named else None,
                customer_id=named,
                address_canonical=offer.address.canonical if offer.address else None,
                # A verified customer's saved vehicle and address come in the same read
                parts=parts if named else (None, None),
                flags=flag_keys,
            )
        plan, manage_url = _plan(
            request,
            offer,
            _booker(
                request,
                identity,
                lookup,
                offer,
                booking_repo,
                appointment_id=appointment_id,
                now=now,
                staff=staff is not None,
            ),
            lookup,
            parts,
            appointment_id=appointment_id,
            booking_repo=booking_repo,
            base_url=base_url,
            messages=messages,
            now=now,
            staff=staff,
        )
        try:
            booking_repo.create(plan)
        except CustomerChanged:
            if attempt == 2:
                raise
            logger.info(
                "customer created concurrently; booking again", extra={"appointment_id": appointment_id}
            )
            lookup = None  # read again: it finds the customer the other booking created
            continue
        except FlagCheckIncomplete as flagged:
            if attempt == 2:
                raise
            # A detail from the record on file (not typed, so not read) is flagged: its check
            # handed the flags back, so plan again with them (no other read); else read them too.
            if flagged.hits is not None:
                lookup = replace(lookup, flags=lookup.flags.merged(flagged.hits))
            else:
                flag_keys += plan.flag_checks
                lookup = None
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
                "verified_via": plan.appointment.verified_via,
                "takeover": plan.appointment.takeover is not None,
                "proposed_changes": len(plan.proposed_changes),
                "flag_matches": len(plan.appointment.flag_matches),
                "by_staff": staff is not None,
            },
        )
        warnings = (DO_NOT_SERVICE_WARNING,) if plan.customer.do_not_service else ()
        return BookingResult(appointment=plan.appointment, manage_url=manage_url, warnings=warnings)
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
@dataclass(frozen=True)
class _Booker:
    """Who is booking, and on which customer record it goes."""

    contact: Contact  # as typed (or, left out by a verified customer, as on file)
    customer: CustomerSummary
    on_file: bool  # the booker is this customer (their saved vehicles and addresses may be named)
    new_profile: CustomerProfile | None = None
    new_lookups: tuple[LookupKind, ...] = ()
    proposed: tuple[ProposedChange, ...] = ()
    takeover: Takeover | None = None
    address_id: str | None = None  # takeover: the location's address record on the customer
    verified_via: VerifiedVia | None = None


def _booker(
    request: BookingRequest,
    identity: VerifiedIdentity | None,
    lookup: CustomerLookup,
    offer: _Offer,
    booking_repo: BookingStore,
    *,
    appointment_id: str,
    now: datetime,
    staff: bool = False,
) -> _Booker:
    """Recognize the customer: the verified one; else (no token) the owner of the typed phone, then
    e-mail; else, takeover on, the owner of the typed at-home address; else a new customer.
    A Do Not Service customer is refused online; ``staff`` book them (the result warns)."""
    existing: CustomerSummary | None
    if identity is None:
        existing = lookup.customer
    elif identity.customer_id is not None:
        if lookup.profile is None:
            raise InvalidVerificationToken("The verification is no longer valid; verify again.")
        existing = lookup.profile.summary()
    else:
        existing = lookup.by_verified
    via = identity.via if identity else None

    if existing is not None:
        if not staff:
            _refuse_do_not_service(existing, offer)
        contact = request.customer or _contact_on_file(existing)
        return _Booker(
            contact=contact,
            customer=existing,
            on_file=True,
            proposed=tuple(_proposed_changes(existing, lookup, contact, appointment_id, request.source, now)),
            verified_via=via,
        )

    contact = _contact_typed(request)
    if identity is not None:
        _check_verified_contact(identity, contact)
    owner = lookup.address_owner
    if owner is not None and offer.catalog.shop.settings.takeover_enabled:
        location_customer = booking_repo.customer_summary(owner.customer_id)
        if location_customer is not None:
            if not staff:
                _refuse_do_not_service(location_customer, offer)
            return _Booker(
                contact=contact,
                customer=location_customer,
                on_file=False,
                takeover=Takeover(name=contact.full_name, phone=contact.phone, email=contact.email),
                address_id=owner.address_id,
                verified_via=via,
            )
    profile = CustomerProfile(
        id=new_id(),
        first_name=contact.first_name,
        last_name=contact.last_name,
        phone=contact.phone,
        email=contact.email,
        preferred_channel=request.preferred_channel or "email",
        source=request.source,
        created_at=now,
    )
    # Verified: the typed phone or e-mail that was not verified may already be another customer's.
    unowned: list[LookupKind] = []
    if lookup.by_phone is None:
        unowned.append("phone")
    if lookup.by_email is None:
        unowned.append("email")
    return _Booker(
        contact=contact,
        customer=profile.summary(),
        on_file=False,
        new_profile=profile,
        new_lookups=tuple(unowned),
        verified_via=via,
    )


def _refuse_do_not_service(customer: CustomerSummary, offer: _Offer) -> None:
    if customer.do_not_service:
        raise BookingNotAvailable(
            f"We can't book this appointment online. Please call {offer.location.name} at "
            f"{phone_display(offer.location.phone)} to book.",
            extra={"phone": offer.location.phone},
        )


def _contact_typed(request: BookingRequest) -> Contact:
    if request.customer is None:
        raise ValidationFailed(
            "Give your name, phone number and e-mail.",
            details=[
                {"field": "body.customer", "message": "required unless a verified returning customer books"}
            ],
        )
    return request.customer


def _contact_on_file(customer: CustomerSummary) -> Contact:
    """A verified customer who left the details out: the record's (when it has a phone and e-mail)."""
    if not customer.phone or not customer.email:
        raise ValidationFailed(
            "We need your phone number and e-mail for this booking; please give your details.",
            details=[{"field": "body.customer", "message": "required: the record on file is incomplete"}],
        )
    return Contact(
        first_name=customer.first_name,
        last_name=customer.last_name,
        phone=customer.phone,
        email=customer.email,
    )


def _check_verified_contact(identity: VerifiedIdentity, contact: Contact) -> None:
    """A new customer's verified phone or e-mail is the one on the booking (it becomes the profile)."""
    if identity.channel == "sms" and contact.phone != identity.destination:
        field, what = "body.customer.phone", "phone number"
    elif identity.channel == "email" and contact.email != identity.destination:
        field, what = "body.customer.email", "e-mail address"
    else:
        return
    raise ValidationFailed(
        f"Book with the {what} you verified, or verify this one.",
        details=[{"field": field, "message": f"must be the {what} that was verified"}],
    )


def _plan(
    request: BookingRequest,
    offer: _Offer,
    booker: _Booker,
    lookup: CustomerLookup,
    parts: tuple[str | None, str | None],
    *,
    appointment_id: str,
    booking_repo: BookingStore,
    base_url: str,
    messages: MessageBuilder,
    now: datetime,
    staff: StaffBooking | None = None,
) -> tuple[BookingPlan, str]:
    contact = booker.contact
    customer = booker.customer
    saved_vehicle, saved_address = _saved_parts(booker, parts, lookup, booking_repo)
    vehicle, vehicle_to_add = _vehicle(request, customer.customer_id, saved_vehicle, parts[0])
    address, address_to_add = _address(request, offer, booker, saved_address)
    # Flags: matched on what the appointment carries; values the lookup did not read (a verified
    # customer's details on file, a saved address) are checked in the transaction.
    flag_matches, flag_checks = flags.match(
        lookup.flags, flags.person_keys(contact, address.canonical if address is not None else None)
    )

    duration = timedelta(minutes=offer.service.duration_minutes)
    # Staff on the phone with the customer book a confirmed time.
    instant = staff is not None or offer.catalog.shop.settings.booking_mode == "instant"
    rule = lifecycle.check(
        "book" if instant else "request", lifecycle.NEW, "staff" if staff else "customer", start=None, now=now
    )
    status: AppointmentStatus = rule.to_state or "requested"
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
        verified_via=booker.verified_via,
        takeover=booker.takeover,
        staff_notes=booker.takeover.note() if booker.takeover else None,
        created_at=now,
        updated_at=now,
        flag_matches=flag_matches,
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
        # What the booker asks for now (staff: what the customer told them), else what's on file.
        preferred=request.preferred_channel or customer.preferred_channel,
    )
    plan = BookingPlan(
        appointment=appointment,
        capacity_per_slot=offer.location.capacity_per_slot,
        customer=customer,
        new_profile=booker.new_profile,
        new_lookups=booker.new_lookups,
        proposed_changes=booker.proposed,
        vehicle=vehicle_to_add,
        address=address_to_add,
        messages=tuple(outgoing),
        links=(manage_link, staff_link),
        effects=(effects.reminder_sync(appointment.id, now),) if "sync_reminder" in rule.effects else (),
        flag_checks=flag_checks,
        audit=audit.entry(staff.actor, "book", now, note="entered by staff") if staff else None,
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


def _named_parts(request: BookingRequest, identity: VerifiedIdentity | None) -> tuple[str | None, str | None]:
    """The saved vehicle and address ids a booking names: a known-source link's vehicle (in the
    token, which then also names its customer) when the request names none."""
    vehicle_id = request.vehicle_id
    if vehicle_id is None and request.vehicle is None and identity is not None:
        vehicle_id = identity.vehicle_id
    return vehicle_id, request.address_id if request.appointment_type == "at_home" else None


def _saved_parts(
    booker: _Booker,
    parts: tuple[str | None, str | None],
    lookup: CustomerLookup,
    booking_repo: BookingStore,
) -> tuple[Vehicle | None, CustomerAddress | None]:
    """The saved vehicle and address the booking names (``_named_parts``), for a booker on file:
    from the first read when it was the verified customer's, else one more read."""
    vehicle_id, address_id = parts
    if not booker.on_file or (vehicle_id is None and address_id is None):
        return None, None
    if lookup.profile is not None and lookup.profile.id == booker.customer.customer_id:
        return lookup.vehicle, lookup.address
    return booking_repo.customer_parts(booker.customer.customer_id, vehicle_id, address_id)


def _vehicle(
    request: BookingRequest, customer_id: str, saved: Vehicle | None, vehicle_id: str | None
) -> tuple[Vehicle, Vehicle | None]:
    """The booking's vehicle, and the record to add when it is new to the customer."""
    if request.vehicle is not None:
        details = request.vehicle
        vehicle = Vehicle(id=stable_id(customer_id, details.identity()), **details.model_dump())
        return vehicle, vehicle
    if vehicle_id is None:
        raise ValidationFailed(
            "Tell us which vehicle the appointment is for.",
            details=[{"field": "body.vehicle", "message": "give vehicle_id or vehicle"}],
        )
    if saved is None:
        raise ValidationFailed(
            "There is no such vehicle on your profile.",
            details=[{"field": "body.vehicle_id", "message": "no such vehicle on the customer's profile"}],
        )
    return saved, None


def _address(
    request: BookingRequest, offer: _Offer, booker: _Booker, saved: CustomerAddress | None
) -> tuple[CustomerAddress | None, CustomerAddress | None]:
    """The at-home address, and the record to add when it is new to the customer."""
    if request.appointment_type != "at_home":
        return None, None
    if offer.address is not None:
        if booker.address_id is not None:  # takeover: the location's own record
            return offer.address.model_copy(update={"id": booker.address_id}), None
        address_id = stable_id(booker.customer.customer_id, offer.address.canonical)
        typed = offer.address.model_copy(update={"id": address_id})
        return typed, typed
    if saved is None:
        raise ValidationFailed(
            "There is no such address on your profile.",
            details=[{"field": "body.address_id", "message": "no such address on the customer's profile"}],
        )
    availability.check_offered(offer.location, offer.service, "at_home", saved.address.zip)
    return saved, None
