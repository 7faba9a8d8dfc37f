"""The customer's link (``/c/<token>``: the booking's manage link and the e-confirmation link are
one link): see the appointment, confirm it, add it to a calendar, ask to reschedule.

Rules:

- Showing the page and the .ics change nothing (mail scanners and link previews fetch links).
- The link works while the appointment holds its time (requested, confirmed, reschedule
  requested) and that time has not ended. Check-in, cancel, completion or a no-show end it for
  good (410), and so does the end of the appointment's time: past it, there is nothing left to
  confirm or move. Unknown or malformed tokens: 404, the same answer for both.
- Confirm records the customer's word (``customer_confirmation``: when, and for which start). It
  never confirms on the store's behalf: in request mode a ``requested`` appointment stays
  requested until staff confirm it, and the page says so; the calendar file stays TENTATIVE until
  then. Confirming twice writes nothing the second time. A staff reschedule to another time makes
  the confirmation lapse (it counts for the start it was given for), so Confirm is offered again.
- Request reschedule (only where the shop's ``reschedule_requests_enabled``; else 404): status
  ``reschedule_requested``, written with the store's e-mail (to the notification route's address,
  with a fresh staff link to pick the new time) in one transaction, conditional on the version read.
  The appointment keeps its time and its slots until staff move it (the staff reschedule moves the
  capacity in one transaction) or cancel it: releasing them now could leave the customer with no
  time at all if the call never happens, and the slot would be sold before staff can offer it back.
  Asking twice sends nothing the second time.

Both are transitions of the lifecycle table (``services.lifecycle``), like every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bookbay.domain import lifecycle
from bookbay.domain.audit import CUSTOMER
from bookbay.domain.booking import Appointment, AppointmentStatus
from bookbay.domain.calendar import appointment_calendar, calendar_filename
from bookbay.domain.catalog import Catalog
from bookbay.exceptions import InvalidTransition, LinkInactive, NotFound, StaleWrite
from bookbay.observability import logger
from bookbay.repositories.appointments import AppointmentRepository, StoredAppointment
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import lifecycle as appointments_service
from bookbay.services import links
from bookbay.services.lifecycle import Ask, LifecycleDeps
from bookbay.services.notifications import AppointmentDetails, appointment_details
from bookbay.types import phone_display

LINK_KIND: links.LinkKind = "customer"
# new_link_token() makes 32 URL-safe characters; anything else cannot be a token.
WRITE_ATTEMPTS = 2  # a write that lost a race to staff is tried once more on the fresh record

Outcome = Literal[
    "shown",
    "confirmed",
    "already_confirmed",
    "reschedule_requested",
    "already_reschedule_requested",
    "reschedule_pending",  # Confirm pressed after asking to reschedule: nothing done
]

# How the customer's page names each status that a working link can have.
CUSTOMER_STATUS_LABELS: dict[AppointmentStatus, str] = {
    "requested": "Requested \N{EM DASH} waiting for the store to confirm",
    "confirmed": "Confirmed by the store",
    "reschedule_requested": "Reschedule requested",
    "checked_in": "Checked in",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "Missed",
}
NOT_VALID = "This link is not valid. Open the whole link from the message we sent you."
NO_LONGER_ACTIVE = (
    "This link is no longer active: the vehicle was checked in, or the appointment was cancelled "
    "or is past. Call the store if you have a question about it."
)


class RescheduleRequestsDisabled(NotFound):
    """The shop does not take reschedule requests online (``reschedule_requests_enabled`` off)."""

    code = "reschedule_requests_disabled"


@dataclass(frozen=True)
class CustomerDeps:
    catalog: CatalogRepository
    appointments: AppointmentRepository
    public_base_url: str = ""  # PublicBaseUrl (BaseConfig.public_base_url)

    @property
    def lifecycle(self) -> LifecycleDeps:
        return LifecycleDeps(self.catalog, self.appointments, public_base_url=self.public_base_url)


@dataclass(frozen=True)
class CustomerView:
    """What the customer's page shows."""

    details: AppointmentDetails
    reschedule_requests_enabled: bool
    outcome: Outcome = "shown"

    @property
    def appointment(self) -> Appointment:
        return self.details.appointment

    @property
    def status_label(self) -> str:
        return CUSTOMER_STATUS_LABELS[self.appointment.status]

    @property
    def customer_confirmed(self) -> bool:
        return self.appointment.customer_confirmed

    @property
    def can_confirm(self) -> bool:
        a = self.appointment
        return a.status in lifecycle.RULES["customer_confirm"].from_states and not a.customer_confirmed

    @property
    def can_request_reschedule(self) -> bool:
        return (
            self.reschedule_requests_enabled
            and self.appointment.status in lifecycle.RULES["request_reschedule"].from_states
        )

    @property
    def waiting_for_store(self) -> bool:
        return self.appointment.status == "requested"

    @property
    def reschedule_pending(self) -> bool:
        return self.appointment.status == "reschedule_requested"

    @property
    def representative_message(self) -> str:
        return (
            f"A representative from {self.details.shop.name} will be contacting you "
            "to reschedule your repair."
        )


@dataclass(frozen=True)
class CalendarFile:
    filename: str
    content: bytes


@dataclass(frozen=True)
class _Loaded:
    catalog: Catalog
    appointment: StoredAppointment
    details: AppointmentDetails

    def view(self, outcome: Outcome = "shown", appointment: Appointment | None = None) -> CustomerView:
        details = self.details
        if appointment is not None:
            details = appointment_details(
                self.catalog, appointment, vehicle_label=details.vehicle_label, address=details.address
            )
        return CustomerView(
            details,
            reschedule_requests_enabled=self.catalog.shop.settings.reschedule_requests_enabled,
            outcome=outcome,
        )


# ------------------------------------------------------------------------------ use cases
def show(deps: CustomerDeps, token: str, now: datetime) -> CustomerView:
    """The appointment and what the customer can do. Reads only."""
    return _load(deps, token, now).view()


def calendar(deps: CustomerDeps, token: str, now: datetime) -> CalendarFile:
    """The appointment as an .ics file (DTSTAMP ``now``). Reads only."""
    loaded = _load(deps, token, now)
    d = loaded.details
    content = appointment_calendar(
        shop=d.shop,
        location=d.location,
        service=d.service,
        appointment=d.appointment,
        vehicle_label=d.vehicle_label,
        at_home=d.address,
        now=now,
    )
    return CalendarFile(calendar_filename(d.shop, d.appointment, d.location), content)


def confirm(deps: CustomerDeps, token: str, now: datetime) -> CustomerView:
    """Record the customer's confirmation of the current time (once). A write that lost a race
    (staff confirmed or moved it meanwhile) is tried once more on what is stored now."""
    loaded = _load(deps, token, now)
    appointment = loaded.appointment
    for attempt in range(WRITE_ATTEMPTS):
        if appointment.status == "reschedule_requested":
            return loaded.view("reschedule_pending", appointment)
        if appointment.customer_confirmed:
            return loaded.view("already_confirmed", appointment)
        try:
            applied = appointments_service.apply(
                deps.lifecycle, appointment, Ask("customer_confirm", CUSTOMER), now, linked=_linked(loaded)
            )
        except (StaleWrite, InvalidTransition):
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            logger.info("customer confirm: changed meanwhile", extra={"appointment_id": appointment.id})
            appointment = _reload(deps, appointment, now)
            continue
        return loaded.view("confirmed", applied.appointment)
    raise AssertionError("unreachable")  # pragma: no cover


def request_reschedule(deps: CustomerDeps, token: str, now: datetime) -> CustomerView:
    """Ask the store to reschedule: status ``reschedule_requested`` and the store's e-mail, at once.
    A write that lost a race is tried once more on what is stored now."""
    loaded = _load(deps, token, now)
    catalog, appointment = loaded.catalog, loaded.appointment
    if not catalog.shop.settings.reschedule_requests_enabled:
        raise RescheduleRequestsDisabled(
            "Reschedule requests are not taken online. To change your appointment, call "
            f"{loaded.details.location.name} at {phone_display(loaded.details.location.phone)}."
        )
    for attempt in range(WRITE_ATTEMPTS):
        if appointment.status == "reschedule_requested":
            return loaded.view("already_reschedule_requested", appointment)
        try:
            applied = appointments_service.apply(
                deps.lifecycle, appointment, Ask("request_reschedule", CUSTOMER), now, linked=_linked(loaded)
            )
        except (StaleWrite, InvalidTransition):
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            logger.info("reschedule request: changed meanwhile", extra={"appointment_id": appointment.id})
            appointment = _reload(deps, appointment, now)
            continue
        return loaded.view("reschedule_requested", applied.appointment)
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------ helpers
def is_active(appointment: Appointment, now: datetime) -> bool:
    """A customer link works while the appointment holds its time and that time has not ended."""
    return lifecycle.link_active("customer", appointment, now)


def _linked(loaded: _Loaded) -> links.LinkedAppointment:
    return links.LinkedAppointment(loaded.catalog, loaded.appointment, loaded.details)


def _load(deps: CustomerDeps, token: str, now: datetime) -> _Loaded:
    linked = links.open_link(
        deps.appointments,
        deps.catalog,
        token,
        LINK_KIND,
        now,
        active=is_active,
        not_valid=NOT_VALID,
        inactive=NO_LONGER_ACTIVE,
    )
    return _Loaded(linked.catalog, linked.appointment, linked.details)


def _reload(deps: CustomerDeps, appointment: StoredAppointment, now: datetime) -> StoredAppointment:
    """The appointment after a write lost a race; LinkInactive when the change ended the link."""
    again = deps.appointments.get(appointment.id)
    if again is None or not is_active(again, now):
        raise LinkInactive(NO_LONGER_ACTIVE)
    return again
