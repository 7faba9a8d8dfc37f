"""Booking step 3, the plan: the appointment, the records to add, the messages, links, effects
and audit entry, all written by one transaction (``repositories.booking``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bookbay.domain import availability, effects, flags, lifecycle
from bookbay.domain.booking import (
    Appointment,
    AppointmentStatus,
    CustomerAddress,
    Vehicle,
)
from bookbay.domain.booking_request import BookingRequest
from bookbay.domain.ids import stable_id
from bookbay.exceptions import (
    ValidationFailed,
)
from bookbay.repositories import audit
from bookbay.repositories.booking import BookingPlan, CustomerLookup
from bookbay.services.booking.offer import Offer
from bookbay.services.booking.ports import BookingStore, MessageBuilder, StaffBooking
from bookbay.services.booking.recognition import Booker
from bookbay.services.links import new_link
from bookbay.services.verification_tokens import VerifiedIdentity


def make_plan(
    request: BookingRequest,
    offer: Offer,
    booker: Booker,
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
    where = address or offer.address  # in store or online, the address typed in (if any)
    canonical = where.canonical if where is not None else None
    flag_matches, flag_checks = flags.match(lookup.flags, flags.person_keys(contact, canonical))

    duration = timedelta(minutes=offer.service.duration_minutes)
    # Staff on the phone with the customer book a confirmed time. Online, a Do Not Service customer
    # reaches here only unverified (recognition refused the verified one): their booking is a request
    # for staff to review, even in instant mode, answered like anyone's request.
    review = customer.do_not_service and staff is None
    instant = staff is not None or (offer.catalog.shop.settings.booking_mode == "instant" and not review)
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
        do_not_service=customer.do_not_service,
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


def named_parts(request: BookingRequest, identity: VerifiedIdentity | None) -> tuple[str | None, str | None]:
    """The saved vehicle and address ids a booking names: a known-source link's vehicle (in the
    token, which then also names its customer) when the request names none."""
    vehicle_id = request.vehicle_id
    if vehicle_id is None and request.vehicle is None and identity is not None:
        vehicle_id = identity.vehicle_id
    return vehicle_id, request.address_id


def _saved_parts(
    booker: Booker,
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
    request: BookingRequest, offer: Offer, booker: Booker, saved: CustomerAddress | None
) -> tuple[CustomerAddress | None, CustomerAddress | None]:
    """The appointment's (at-home) address, and the record to add when the customer has none of
    the address typed in (with any type: in store or online, it is their address on file)."""
    at_home = request.appointment_type == "at_home"
    if offer.address is not None:
        if booker.address_id is not None:  # takeover: the location's own record
            return (offer.address.model_copy(update={"id": booker.address_id}) if at_home else None), None
        address_id = stable_id(booker.customer.customer_id, offer.address.canonical)
        typed = offer.address.model_copy(update={"id": address_id})
        return (typed if at_home else None), typed
    if not at_home:
        return None, None
    if saved is None:
        raise ValidationFailed(
            "There is no such address on your profile.",
            details=[{"field": "body.address_id", "message": "no such address on the customer's profile"}],
        )
    availability.check_offered(offer.location, offer.service, "at_home", saved.address.zip)
    return saved, None
