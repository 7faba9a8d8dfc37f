"""The staff appointments API (``/v1/admin/appointments``): list, read, edit, and the actions.

Every change is written with its audit entry (who, when, what) in the transaction that makes it,
and goes through the same code as the link pages and the booking: confirm and reschedule are the
staff page's (``services.staff_actions``: capacity held in the same transaction, the customer told,
the reminder moved), check-in / cancel / complete / no-show are ``services.appointment_transitions``
(slots released, reminder deleted). An action from a status where it makes no sense is a 409
``invalid_transition``; a change that raced another one is a 409 ``concurrent_update``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bookbay.domain.audit import Actor, AuditEntry, diff
from bookbay.domain.booking import HOLDS_CAPACITY, Appointment, AppointmentStatus, CustomerAddress, Vehicle
from bookbay.domain.catalog import Catalog, Channel
from bookbay.exceptions import InvalidInput, InvalidTransition, SlotUnavailable, StaleWrite
from bookbay.models import keys
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.appointments import StoredAppointment
from bookbay.repositories.audit import AuditRepository
from bookbay.services import appointment_transitions, econfirmation, links, reminders, staff_actions
from bookbay.services.appointment_transitions import AppointmentNotFound, Transition, TransitionDeps
from bookbay.services.econfirmation import MessageDeps, Sent
from bookbay.services.staff_actions import StaffDeps

Action = Literal["confirm", "check-in", "complete", "cancel", "no-show", "send-confirmation"]
MAX_LIST_DAYS = 92
DEFAULT_LIST_DAYS = 14
MAX_LIST_YEARS_AWAY = 10  # `from` / `to` further from today: a 422 (and no date arithmetic overflows)
# Called with a just completed appointment: starts the review requests (never raises).
OnComplete = Callable[[Appointment, Catalog, Actor, datetime], object]


@dataclass(frozen=True)
class AdminDeps:
    staff: StaffDeps  # catalog, appointments, availability, customers, reminders, base URL
    messages: MessageDeps
    audit: AuditRepository
    on_complete: OnComplete | None = None

    @property
    def transitions(self) -> TransitionDeps:
        scheduling = self.staff.reminders

        def unschedule(appointment: Appointment) -> None:
            if scheduling is not None:
                reminders.cancel_reminder(scheduling, appointment.id)

        return TransitionDeps(self.staff.appointments, unschedule, self.staff.catalog)


@dataclass(frozen=True)
class AdminAppointment:
    """An appointment as staff see it: with its vehicle and address records and, when read
    alone, its audit history."""

    appointment: StoredAppointment
    vehicle: Vehicle | None
    address: CustomerAddress | None
    history: list[AuditEntry] | None = None
    sent: Sent | None = None  # send-confirmation: what went out
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
    vehicles, addresses = deps.staff.appointments.parts_of(found)
    return [
        AdminAppointment(
            a,
            vehicles.get((a.customer_id, a.vehicle_id)) if a.vehicle_id else None,
            addresses.get((a.customer_id, a.address_id)) if a.address_id else None,
        )
        for a in found
    ], next_cursor


def read(deps: AdminDeps, appointment_id: str) -> AdminAppointment:
    appointment = appointment_transitions.load(deps.transitions, appointment_id)
    return _with_parts(deps, appointment, history=True)


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
    appointment = appointment_transitions.load(deps.transitions, appointment_id)
    if version is not None and version != appointment.version:
        raise StaleWrite("The appointment changed since you read it; load it again.")
    text_changes: dict[str, Any] = {
        name: changes[name] for name in ("notes", "staff_notes") if name in changes
    }
    if "start" in changes:
        appointment = _reschedule(deps, appointment, changes["start"], actor, now, text_changes)
    elif text_changes:
        before: dict[str, Any] = {name: getattr(appointment, name) for name in text_changes}
        edited = appointment.model_copy(update={**text_changes, "updated_at": now})
        entry = audit.entry(actor, "edit", now, diff(before, text_changes))
        appointment = deps.staff.appointments.transition(
            appointment, edited, allowed_from=_ALL_STATUSES, audit=entry
        )
    logger.info("appointment edited", extra={"appointment_id": appointment_id, "fields": sorted(changes)})
    return _with_parts(deps, appointment, history=True)


def _reschedule(
    deps: AdminDeps,
    appointment: StoredAppointment,
    start: datetime,
    actor: Actor,
    now: datetime,
    text_changes: dict[str, Any],
) -> StoredAppointment:
    """Move the appointment to ``start``, with ``text_changes`` (notes) in the same write."""
    if appointment.status not in HOLDS_CAPACITY or appointment.start <= now:
        raise InvalidTransition(
            f"An appointment that is {appointment.status.replace('_', ' ')} or has started cannot be moved."
        )
    before = {"start": appointment.start.isoformat(), **{n: getattr(appointment, n) for n in text_changes}}
    # The reschedule writes the whole body of the appointment it is given (conditional on the
    # version read): the edited copy carries the notes into that one transaction.
    edited = appointment.model_copy(update=text_changes)
    loaded = links.with_details(deps.staff.appointments, deps.staff.catalog, edited)
    entry = audit.entry(actor, "reschedule", now, diff(before, {"start": start.isoformat(), **text_changes}))
    view = staff_actions.reschedule_loaded(deps.staff, loaded, start.isoformat(), now, audit=entry)
    if view.outcome == "slot_taken":
        raise SlotUnavailable("That time is no longer free.")
    if view.outcome == "slot_gone":
        raise SlotUnavailable("That time can no longer be booked (too soon, or past the booking horizon).")
    moved = deps.staff.appointments.get(appointment.id)
    if moved is None:  # pragma: no cover - it was just written
        raise AppointmentNotFound("There is no such appointment.")
    return moved


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
    entry = audit.entry(actor, action, now, note=reason)
    transitions = deps.transitions
    done: Transition | None = None
    if action == "confirm":
        return _confirm(deps, appointment_id, entry, now)
    if action == "send-confirmation":
        sent = econfirmation.send_confirmation(
            deps.messages, appointment_id, now, channel=channel, audit=entry
        )
        return _with_parts(deps, appointment_transitions.load(transitions, appointment_id), sent=sent)
    if action == "check-in":
        done = appointment_transitions.check_in(transitions, appointment_id, now, audit=entry)
    elif action == "cancel":
        done = appointment_transitions.cancel(
            transitions, appointment_id, now, reason=reason, notify=notify, audit=entry
        )
    elif action == "no-show":
        done = appointment_transitions.no_show(transitions, appointment_id, now, audit=entry)
    else:
        done = appointment_transitions.complete(transitions, appointment_id, now, audit=entry)
        if deps.on_complete is not None:
            deps.on_complete(done.appointment, deps.staff.catalog.catalog(), actor, now)
    return _with_parts(deps, done.appointment)


def _confirm(deps: AdminDeps, appointment_id: str, entry: AuditEntry, now: datetime) -> AdminAppointment:
    appointment = appointment_transitions.load(deps.transitions, appointment_id)
    if appointment.status not in ("requested", "reschedule_requested"):
        raise InvalidTransition(
            f"An appointment that is {appointment.status.replace('_', ' ')} cannot be confirmed."
        )
    loaded = links.with_details(deps.staff.appointments, deps.staff.catalog, appointment)
    view = staff_actions.confirm_loaded(deps.staff, loaded, now, audit=entry)
    if view.outcome != "confirmed":
        raise InvalidTransition("The appointment was confirmed meanwhile.")
    confirmed = appointment_transitions.load(deps.transitions, appointment_id)
    return _with_parts(deps, confirmed)


# ------------------------------------------------------------------------------ helpers
_ALL_STATUSES = frozenset(
    {"requested", "confirmed", "reschedule_requested", "checked_in", "completed", "cancelled", "no_show"}
)


def _with_parts(
    deps: AdminDeps, appointment: StoredAppointment, *, history: bool = False, sent: Sent | None = None
) -> AdminAppointment:
    vehicle, address = deps.staff.appointments.vehicle_and_address(appointment)
    return AdminAppointment(
        appointment,
        vehicle,
        address,
        history=deps.audit.history(keys.appointment_pk(appointment.id)) if history else None,
        sent=sent,
    )


def _utc_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
