"""The staff appointments API (``/v1/admin/appointments``): list, read, edit, and the actions.

Every change goes through the appointments service (``services.lifecycle``), the same as the
link pages': the lifecycle table decides what is allowed (409 ``invalid_transition`` otherwise,
in the table's words), and the change is written with its audit entry (who, when, what), its
capacity, messages and effects in one transaction. A change that raced another one is a 409.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from bookbay.domain.audit import Actor, AuditEntry
from bookbay.domain.booking import (
    DO_NOT_SERVICE_WARNING,
    AppointmentStatus,
    CustomerAddress,
    CustomerSummary,
    PreferredChannel,
    Vehicle,
)
from bookbay.domain.booking_request import BookingRequest
from bookbay.domain.catalog import Channel
from bookbay.domain.lifecycle import Action as LifecycleAction
from bookbay.exceptions import DomainError, InvalidInput, StaleWrite
from bookbay.observability import logger
from bookbay.repositories.appointments import StoredAppointment
from bookbay.repositories.audit import AuditRepository
from bookbay.repositories.customers import CustomersRepository
from bookbay.services import lifecycle
from bookbay.services.econfirmation import Sent
from bookbay.services.lifecycle import Ask
from bookbay.services.staff_actions import StaffDeps

if TYPE_CHECKING:  # the phone booking and profile edit load these on use: most requests are reads
    from bookbay.services.booking.ports import BookingStore

Action = Literal["confirm", "check-in", "complete", "cancel", "no-show", "send-confirmation"]
MAX_LIST_DAYS = 92
DEFAULT_LIST_DAYS = 14
MAX_LIST_YEARS_AWAY = 10  # `from` / `to` further from today: a 422 (and no date arithmetic overflows)
# The admin API's action names, as the lifecycle table names them.
ACTIONS: dict[Action, LifecycleAction] = {
    "confirm": "confirm",
    "check-in": "check_in",
    "complete": "complete",
    "cancel": "cancel",
    "no-show": "no_show",
    "send-confirmation": "send_confirmation",
}


@dataclass(frozen=True)
class AdminDeps:
    staff: StaffDeps  # catalog, appointments, availability, customers, base URL
    audit: AuditRepository


@dataclass(frozen=True)
class AdminAppointmentsDeps:
    """The staff appointments API: reads and actions, and the phone bookings staff enter."""

    admin: AdminDeps
    booking: BookingStore
    customers: CustomersRepository


@dataclass(frozen=True)
class AdminAppointment:
    """An appointment as staff see it: with its customer, vehicle and address records and, when
    read alone, its audit history."""

    appointment: StoredAppointment
    vehicle: Vehicle | None
    address: CustomerAddress | None
    history: list[AuditEntry] | None = None
    sent: Sent | None = None  # send-confirmation: what went out
    customer: CustomerSummary | None = None  # the record on file (None: it is gone)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    first: date | None = None
    last: date | None = None
    statuses: tuple[AppointmentStatus, ...] = ()
    location_id: str | None = None
    flagged: bool | None = None


# ------------------------------------------------------------------------------ reads
def list_appointments(
    deps: AdminDeps, filters: Filters, now: datetime, *, limit: int, cursor: str | None
) -> tuple[list[AdminAppointment], str | None]:
    """Appointments from ``first`` to ``last`` (local days; default today and the next 13), oldest
    first. With a location: its days in its zone; without: the shop's days in the shop's zone."""
    catalog = deps.staff.catalog.catalog()
    if filters.location_id is not None:
        location = catalog.location(filters.location_id)
        if location is None:
            raise InvalidInput(f"There is no location {filters.location_id!r}.")
        zone = ZoneInfo(location.timezone)
    else:
        zone = ZoneInfo(catalog.shop.timezone)
    today = now.astimezone(zone).date()
    for name, day in (("from", filters.first), ("to", filters.last)):
        if day is not None and abs((day - today).days) > 366 * MAX_LIST_YEARS_AWAY:
            raise InvalidInput(f"`{name}` is more than {MAX_LIST_YEARS_AWAY} years from today.")
    first = filters.first or today
    last = filters.last or first + timedelta(days=DEFAULT_LIST_DAYS - 1)
    if last < first:
        raise InvalidInput("`to` is before `from`.")
    if (last - first).days >= MAX_LIST_DAYS:
        raise InvalidInput(f"List at most {MAX_LIST_DAYS} days at a time.")
    if filters.location_id is not None:  # GSI1: local ISO starts
        low, high = f"{first.isoformat()}T00:00:00", f"{last.isoformat()}T23:59:59~"
    else:  # GSI3: UTC starts
        low = _utc_key(datetime.combine(first, time(0), zone))
        high = _utc_key(datetime.combine(last + timedelta(days=1), time(0), zone)) + "#"
    found, next_cursor = deps.staff.appointments.page(
        location_id=filters.location_id,
        low=low,
        high=high,
        statuses=filters.statuses,
        flagged=filters.flagged,
        limit=limit,
        cursor=cursor,
    )
    parts = deps.staff.appointments.parts_of(found)
    return [
        AdminAppointment(a, parts[a.id].vehicle, parts[a.id].address, customer=parts[a.id].customer)
        for a in found
    ], next_cursor


def read(deps: AdminDeps, appointment_id: str) -> AdminAppointment:
    return _with_parts(deps, lifecycle.load(deps.staff.lifecycle, appointment_id), history=True)


def enter_booking(
    deps: AdminAppointmentsDeps, request: BookingRequest, actor: Actor, now: datetime
) -> AdminAppointment:
    """A phone booking staff enter: booked confirmed under the online rules (``booking.book``),
    the preferred channel the customer gave kept on their profile; read back with its warnings."""
    from bookbay.services import booking

    staff = deps.admin.staff
    result = booking.book(
        request,
        now=now,
        catalog_repo=staff.catalog,
        booking_repo=deps.booking,
        availability_repo=staff.availability,
        configured_base_url=staff.public_base_url,
        staff=booking.StaffBooking(actor),
    )
    if request.preferred_channel is not None:
        _keep_preference(
            deps.customers, result.appointment.customer_id, request.preferred_channel, actor, now
        )
    return replace(read(deps.admin, result.appointment.id), warnings=result.warnings)


def _keep_preference(
    customers: CustomersRepository, customer_id: str, channel: PreferredChannel, actor: Actor, now: datetime
) -> None:
    """The preference the customer just gave staff goes on their profile (a new customer's is set by
    the booking; nothing is written when it is unchanged). The booking stands if this fails."""
    from bookbay.services import customer_admin
    from bookbay.services.customer_admin import CustomerEdit

    try:
        customer_admin.edit_customer(
            customers,
            customer_id,
            CustomerEdit(preferred_channel=channel),
            version=None,
            actor=actor,
            now=now,
        )
    except DomainError as refused:  # e.g. SMS for a customer with no phone on file
        logger.info("preferred channel not kept", extra={"customer_id": customer_id, "code": refused.code})


# ------------------------------------------------------------------------------ edits
def edit(
    deps: AdminDeps,
    appointment_id: str,
    changes: dict[str, Any],
    actor: Actor,
    now: datetime,
    *,
    version: int | None = None,
) -> AdminAppointment:
    """``start``: reschedule under the capacity rules, the customer told; ``notes`` /
    ``staff_notes``: written as given. ``version`` (optional): the version read, 409 if stale.

    All or nothing: with ``start``, the notes go in the reschedule's transaction, so a time that
    is refused (422 / 409) leaves the notes as they were too."""
    appointment = lifecycle.load(deps.staff.lifecycle, appointment_id)
    if version is not None and version != appointment.version:
        raise StaleWrite("The appointment changed since you read it; load it again.")
    text_changes: dict[str, Any] = {n: changes[n] for n in ("notes", "staff_notes") if n in changes}
    if "start" in changes:
        ask = Ask("reschedule", actor, start=changes["start"], changes=text_changes)
    elif text_changes:
        ask = Ask("edit", actor, changes=text_changes)
    else:
        return _with_parts(deps, appointment, history=True)
    applied = lifecycle.apply(deps.staff.lifecycle, appointment, ask, now)
    logger.info("appointment edited", extra={"appointment_id": appointment_id, "fields": sorted(changes)})
    return _with_parts(deps, applied.appointment, history=True)


# ------------------------------------------------------------------------------ actions
def act(
    deps: AdminDeps,
    appointment_id: str,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    channel: Channel | None = None,
    reason: str | None = None,
    notify: bool = True,
) -> AdminAppointment:
    """Take ``action`` on the appointment (the lifecycle table's rules and effects)."""
    ask = Ask(ACTIONS[action], actor, reason=reason, notify=notify, channel=channel)
    applied = lifecycle.act(deps.staff.lifecycle, appointment_id, ask, now)
    return _with_parts(
        deps, applied.appointment, sent=applied.sent if action == "send-confirmation" else None
    )


# ------------------------------------------------------------------------------ helpers
def _with_parts(
    deps: AdminDeps, appointment: StoredAppointment, *, history: bool = False, sent: Sent | None = None
) -> AdminAppointment:
    parts = deps.staff.appointments.parts(appointment)
    return AdminAppointment(
        appointment,
        parts.vehicle,
        parts.address,
        customer=parts.customer,
        history=deps.audit.appointment_history(appointment.id) if history else None,
        sent=sent,
        # Staff see the mark on every read and action of it (a confirm is theirs to decide)
        warnings=(DO_NOT_SERVICE_WARNING,) if appointment.do_not_service else (),
    )


def _utc_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
