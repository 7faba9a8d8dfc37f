"""Staff actions from the store notification e-mail (``/s/<token>``): see the appointment, confirm
it, or move it to another free time.

Showing changes nothing (mail scanners fetch links). A link works while its appointment is active:
it still holds its time (requested, confirmed or reschedule requested) and that time has not come
yet. Confirm and reschedule write the appointment, the capacity it moves, a fresh customer manage
link and the customer's message in one transaction; confirming twice sends nothing the second time.

Confirm sends the e-confirmation by the customer's preferred channel (phone: none, SMS, e-mail;
``services.econfirmation``); reschedule e-mails the new time. Once the change has committed, the
appointment's reminder schedule is created or moved (``services.reminders.update_reminder``,
which logs and counts a Scheduler failure rather than undo the change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Literal

from bookbay.domain.audit import AuditEntry
from bookbay.domain.availability import (
    AvailableSlot,
    SlotUsage,
    bookable_slots,
    day_bounds_utc,
    earliest_start,
    horizon_last_day,
    required_slots,
)
from bookbay.domain.booking import HOLDS_CAPACITY, Appointment
from bookbay.domain.catalog import Catalog, Channel
from bookbay.exceptions import (
    AppointmentTypeNotOffered,
    InvalidInput,
    SlotUnavailable,
    StaleWrite,
    ZipNotServed,
)
from bookbay.observability import logger
from bookbay.repositories.appointments import AppointmentRepository, TokenExpiry
from bookbay.repositories.availability import AvailabilityRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import econfirmation, links
from bookbay.services.econfirmation import ProfileSource
from bookbay.services.notifications import (
    AppointmentDetails,
    appointment_details,
    rescheduled_message,
)
from bookbay.services.reminders import ReminderScheduling, update_reminder

LINK_KIND: links.LinkKind = "staff"
PICKER_DAYS = 14
# new_link_token() makes 32 URL-safe characters; anything else cannot be a token.

Outcome = Literal["shown", "confirmed", "already_confirmed", "rescheduled", "slot_taken", "slot_gone"]


@dataclass(frozen=True)
class StaffDeps:
    catalog: CatalogRepository
    appointments: AppointmentRepository
    availability: AvailabilityRepository
    public_base_url: str = ""  # PublicBaseUrl; empty: the shop settings' public_base_url
    customers: ProfileSource | None = None  # the preferred channel (None: e-mail)
    reminders: ReminderScheduling | None = None  # None: no reminder schedules


@dataclass(frozen=True)
class DaySlots:
    first: datetime
    slots: list[AvailableSlot]


@dataclass(frozen=True)
class StaffView:
    """What the staff page shows; ``days`` is the picker (empty on result pages)."""

    details: AppointmentDetails
    outcome: Outcome = "shown"
    days: list[DaySlots] = field(default_factory=list)
    picker_days: int = PICKER_DAYS
    message_channel: Channel | None = "email"  # how the customer was told (None: not, a call)

    @property
    def can_confirm(self) -> bool:
        return self.details.appointment.status in ("requested", "reschedule_requested")


_Loaded = links.LinkedAppointment


# ------------------------------------------------------------------------------ use cases
def show(deps: StaffDeps, token: str, now: datetime) -> StaffView:
    """The appointment and the free times it can move to. Reads only."""
    loaded = _load(deps, token, now)
    return StaffView(loaded.details, days=_picker(deps, loaded, now))


def confirm(deps: StaffDeps, token: str, now: datetime) -> StaffView:
    return confirm_loaded(deps, _load(deps, token, now), now)


def confirm_loaded(
    deps: StaffDeps, loaded: _Loaded, now: datetime, audit: AuditEntry | None = None
) -> StaffView:
    """Confirm the appointment (``loaded`` by its link or, by staff in the admin API, by id):
    the e-confirmation by the preferred channel, the reminder scheduled. Already confirmed:
    nothing changes (outcome ``already_confirmed``)."""
    appointment = loaded.appointment
    if appointment.status == "confirmed":
        return StaffView(loaded.details, outcome="already_confirmed")
    confirmed = appointment.model_copy(update={"status": "confirmed"})
    prepared = econfirmation.prepare(
        "confirmation",
        loaded.catalog,
        confirmed,
        preferred=econfirmation.preferred_channel(deps.customers, appointment),
        vehicle_label=loaded.details.vehicle_label,
        address=loaded.details.address,
        base_url=_base_url(deps, loaded.catalog),
        now=now,
    )
    messages = [prepared.message] if prepared.message is not None else []
    manage_links = [prepared.link] if prepared.link is not None else []
    try:
        stored = deps.appointments.confirm(appointment, messages, links=manage_links, now=now, audit=audit)
    except StaleWrite:
        again = deps.appointments.get(appointment.id)
        if again is None or again.status != "confirmed":
            raise
        logger.info("staff confirm: confirmed meanwhile", extra={"appointment_id": appointment.id})
        return StaffView(_details(loaded.catalog, again, loaded.details), outcome="already_confirmed")
    logger.info(
        "staff confirm",
        extra={
            "appointment_id": appointment.id,
            "channel": prepared.sent.channel,
            "message_id": prepared.sent.message_id,
        },
    )
    _update_reminder(deps, loaded.catalog, stored, now)
    return StaffView(
        _details(loaded.catalog, stored, loaded.details),
        outcome="confirmed",
        message_channel=prepared.sent.channel,
    )


def reschedule(deps: StaffDeps, token: str, start_text: str, now: datetime) -> StaffView:
    """Move the appointment to ``start_text`` (an ISO datetime from the picker).

    Not a start time of the location for this service, or the current time: InvalidInput (422).
    A start that is full, blocked, or no longer bookable (lead time, horizon): the page again with
    fresh times (outcome ``slot_taken`` / ``slot_gone``), nothing changed.
    """
    return reschedule_loaded(deps, _load(deps, token, now), start_text, now, token=token)


def reschedule_loaded(
    deps: StaffDeps,
    loaded: _Loaded,
    start_text: str,
    now: datetime,
    *,
    token: str | None = None,
    audit: AuditEntry | None = None,
) -> StaffView:
    """``reschedule`` of an appointment loaded by its staff link (``token``, whose expiry follows
    the new end) or by id (the admin API, with its ``audit`` entry)."""
    appointment, details = loaded.appointment, loaded.details
    settings = loaded.catalog.shop.settings
    given = _parse_start(start_text)
    # Compared before any conversion (as the booking does): a start centuries away must not
    # overflow the arithmetic below. Past the horizon or too soon: the picker again.
    if given < earliest_start(settings, now) or given > now + timedelta(days=settings.horizon_days + 1):
        return StaffView(details, outcome="slot_gone", days=_picker(deps, loaded, now))
    start = given.astimezone(details.zone)
    slots = required_slots(details.location, details.service, settings, start)
    if slots is None:
        raise InvalidInput(
            "That is not a start time of this location for this service; pick one from the list."
        )
    if start == appointment.start:
        raise InvalidInput("That is the appointment's current time; pick another one.")
    if start < earliest_start(settings, now) or start.date() > horizon_last_day(
        details.location, settings, now
    ):
        return StaffView(details, outcome="slot_gone", days=_picker(deps, loaded, now))
    end = (start + timedelta(minutes=details.service.duration_minutes)).astimezone(details.zone)
    base = _base_url(deps, loaded.catalog)
    manage_url, manage_link = links.new_link(base, "customer", appointment.id, end)
    moved = appointment.model_copy(update={"status": "confirmed", "start": start, "end": end})
    message = rescheduled_message(
        loaded.catalog,
        moved,
        previous_start=appointment.start,
        vehicle_label=details.vehicle_label,
        manage_url=manage_url,
        now=now,
        address=details.address,
    )
    try:
        stored = deps.appointments.reschedule(
            appointment,
            slots,
            start,
            end,
            details.location.capacity_per_slot,
            [message],
            links=[manage_link],
            token_expiry=TokenExpiry(token, end + links.KEEP_AFTER_END[LINK_KIND]) if token else None,
            now=now,
            audit=audit,
        )
    except SlotUnavailable:
        logger.info("staff reschedule: slot taken", extra={"appointment_id": appointment.id})
        return StaffView(details, outcome="slot_taken", days=_picker(deps, loaded, now))
    logger.info("staff reschedule", extra={"appointment_id": appointment.id, "message_id": message.id})
    _update_reminder(deps, loaded.catalog, stored, now)
    return StaffView(_details(loaded.catalog, stored, details), outcome="rescheduled")


# ------------------------------------------------------------------------------ helpers
def is_active(appointment: Appointment, now: datetime) -> bool:
    """A staff link works while the appointment holds its time and that time is still ahead."""
    return appointment.status in HOLDS_CAPACITY and now < appointment.start


def _update_reminder(deps: StaffDeps, catalog: Catalog, appointment: Appointment, now: datetime) -> None:
    """After the commit: the reminder schedule follows the appointment (never raises)."""
    if deps.reminders is not None:
        update_reminder(deps.reminders, appointment, catalog, now)


def _load(deps: StaffDeps, token: str, now: datetime) -> _Loaded:
    linked = links.open_link(
        deps.appointments,
        deps.catalog,
        token,
        LINK_KIND,
        now,
        active=is_active,
        not_valid="This link is not valid. Open the whole link from the e-mail.",
        inactive="This link is no longer active: the appointment is past, or it was cancelled or checked in.",
    )
    return linked


def _details(catalog: Catalog, appointment: Appointment, before: AppointmentDetails) -> AppointmentDetails:
    return appointment_details(
        catalog, appointment, vehicle_label=before.vehicle_label, address=before.address
    )


def _base_url(deps: StaffDeps, catalog: Catalog) -> str:
    return links.public_base_url(deps.public_base_url, catalog.shop.settings)


def _parse_start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise InvalidInput("Pick a new time from the list.")
    return start


def _picker(deps: StaffDeps, loaded: _Loaded, now: datetime) -> list[DaySlots]:
    """Free starts for the same service in the next PICKER_DAYS local days, the current one left
    out. The appointment's own holds count as free (moving within its own slots is allowed)."""
    details, appointment = loaded.details, loaded.appointment
    location, settings = details.location, loaded.catalog.shop.settings
    first: date = now.astimezone(details.zone).date()
    start_utc, end_utc = day_bounds_utc(location, first, first + timedelta(days=PICKER_DAYS - 1))
    usage = deps.availability.usage(location.id, start_utc, end_utc)
    for held in appointment.slot_starts:
        slot = held.astimezone(UTC)
        if slot in usage:
            usage[slot] = SlotUsage(used=max(0, usage[slot].used - 1), blocked=usage[slot].blocked)
    try:
        free = bookable_slots(
            location,
            details.service,
            settings,
            appointment_type=appointment.appointment_type,
            customer_zip=details.address.zip if details.address else None,
            start_day=first,
            days=PICKER_DAYS,
            now=now,
            usage=usage,
        )
    except (AppointmentTypeNotOffered, ZipNotServed):
        return []  # the location stopped offering this kind of appointment: nothing to pick
    free = [slot for slot in free if slot.start != appointment.start]
    return [
        DaySlots(first=slots[0].start, slots=slots)
        for slots in (list(group) for _, group in groupby(free, key=lambda s: s.start.date()))
    ]
