"""Staff actions from the store notification e-mail (``/s/<token>``): see the appointment, confirm
it, or move it to another free time.

Showing changes nothing (mail scanners fetch links). A link works while its appointment is active
(``domain.lifecycle.link_active``: it still holds its time and that time has not come yet).
Confirm and reschedule are the lifecycle's (``services.lifecycle``): the appointment, the capacity
it moves, a fresh customer manage link, the customer's message and the reminder's effect in one
transaction; confirming twice sends nothing the second time (the page says it was confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Literal

from bookbay.domain import lifecycle
from bookbay.domain.audit import Actor
from bookbay.domain.availability import AvailableSlot, SlotUsage, bookable_slots, day_bounds_utc
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog, Channel
from bookbay.exceptions import (
    AppointmentTypeNotOffered,
    InvalidInput,
    InvalidTransition,
    SlotNoLongerBookable,
    SlotUnavailable,
    ZipNotServed,
)
from bookbay.observability import logger
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.availability import AvailabilityRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import lifecycle as appointments_service
from bookbay.services import links
from bookbay.services.econfirmation import ProfileSource
from bookbay.services.lifecycle import Ask, LifecycleDeps
from bookbay.services.notifications import AppointmentDetails, appointment_details

LINK_KIND: links.LinkKind = "staff"
# Who acts through the store's e-mail link (the audit trail names no one: the link is the key).
STAFF_LINK = Actor(kind="staff", email=None, sub=None)
PICKER_DAYS = 14
# new_link_token() makes 32 URL-safe characters; anything else cannot be a token.

Outcome = Literal["shown", "confirmed", "already_confirmed", "rescheduled", "slot_taken", "slot_gone"]


@dataclass(frozen=True)
class StaffDeps:
    catalog: CatalogRepository
    appointments: AppointmentRepository
    availability: AvailabilityRepository
    public_base_url: str = ""  # PublicBaseUrl (BaseConfig.public_base_url)
    customers: ProfileSource | None = None  # the preferred channel (None: e-mail)

    @property
    def lifecycle(self) -> LifecycleDeps:
        return LifecycleDeps(self.catalog, self.appointments, self.customers, self.public_base_url)


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


def confirm_loaded(deps: StaffDeps, loaded: _Loaded, now: datetime, actor: Actor = STAFF_LINK) -> StaffView:
    """Confirm the appointment (``loaded`` by its link): the e-confirmation by the preferred
    channel, the reminder's effect. Already confirmed (before or meanwhile): nothing changes
    (outcome ``already_confirmed``)."""
    appointment = loaded.appointment
    if appointment.status == "confirmed":
        return StaffView(loaded.details, outcome="already_confirmed")
    try:
        applied = appointments_service.apply(
            deps.lifecycle, appointment, Ask("confirm", actor), now, linked=loaded
        )
    except InvalidTransition:
        again = deps.appointments.get(appointment.id)
        if again is None or again.status != "confirmed":
            raise
        logger.info("staff confirm: confirmed meanwhile", extra={"appointment_id": appointment.id})
        return StaffView(_details(loaded.catalog, again, loaded.details), outcome="already_confirmed")
    sent = applied.sent
    return StaffView(
        _details(loaded.catalog, applied.appointment, loaded.details),
        outcome="confirmed",
        message_channel=sent.channel if sent else None,
    )


def reschedule(deps: StaffDeps, token: str, start_text: str, now: datetime) -> StaffView:
    """Move the appointment to ``start_text`` (an ISO datetime from the picker).

    Not a start time of the location for this service, or the current time: InvalidInput (422).
    A start that is full, blocked, or no longer bookable (lead time, horizon): the page again with
    fresh times (outcome ``slot_taken`` / ``slot_gone``), nothing changed.
    """
    return reschedule_loaded(deps, _load(deps, token, now), start_text, now, token=token)


def reschedule_loaded(
    deps: StaffDeps, loaded: _Loaded, start_text: str, now: datetime, *, token: str
) -> StaffView:
    """``reschedule`` of an appointment loaded by its staff link ``token`` (whose expiry follows
    the new end)."""
    ask = Ask("reschedule", STAFF_LINK, start=_parse_start(start_text), staff_token=token)
    try:
        applied = appointments_service.apply(deps.lifecycle, loaded.appointment, ask, now, linked=loaded)
    except SlotNoLongerBookable:
        return StaffView(loaded.details, outcome="slot_gone", days=_picker(deps, loaded, now))
    except SlotUnavailable:
        logger.info("staff reschedule: slot taken", extra={"appointment_id": loaded.appointment.id})
        return StaffView(loaded.details, outcome="slot_taken", days=_picker(deps, loaded, now))
    return StaffView(_details(loaded.catalog, applied.appointment, loaded.details), outcome="rescheduled")


# ------------------------------------------------------------------------------ helpers
def is_active(appointment: Appointment, now: datetime) -> bool:
    """A staff link works while the appointment holds its time and that time is still ahead."""
    return lifecycle.link_active("staff", appointment, now)


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
