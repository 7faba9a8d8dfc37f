"""Staff transitions of an appointment that end its wait for the drop-off (the admin routes call
these): check-in, cancel, complete, no-show.

Each is a domain transition (``bookbay.domain.booking``) written with the slots it releases, the
message that announces it and its audit entry, in one transaction conditional on the version read
and on the status it started from. What waited for the drop-off ends with it:

- the customer link (``/c/<token>``) answers 410 from then on: it works only while the status
  holds a time (``services.customer_links.is_active``), so no token needs to be found or deleted;
- the reminder: after the write, ``TransitionDeps.unschedule_reminder`` (when given) is called
  with the changed appointment, to delete its one-time schedule. A failure there is logged
  and does not undo the change: the reminder Lambda re-reads the appointment and sends only
  while it is still due, so a schedule left behind is harmless. The result says whether it ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bookbay.domain import booking as transitions
from bookbay.domain.audit import AuditEntry
from bookbay.domain.booking import Appointment
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import NotFound
from bookbay.observability import logger
from bookbay.repositories.appointments import AppointmentRepository, StoredAppointment
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services.notifications import cancelled_message


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"


@dataclass(frozen=True)
class TransitionDeps:
    appointments: AppointmentRepository
    # Deletes the appointment's reminder schedule (wired by whoever owns reminders); None: none.
    unschedule_reminder: Callable[[Appointment], None] | None = None
    # The catalog, for the customer's cancellation e-mail (None: cancel tells nobody).
    catalog: CatalogRepository | None = None


@dataclass(frozen=True)
class Transition:
    appointment: StoredAppointment
    # The reminder's schedule was deleted (False: no hook, or it failed and was logged).
    reminder_unscheduled: bool
    message_id: str | None = None  # what told the customer (cancel)


def load(deps: TransitionDeps, appointment_id: str) -> StoredAppointment:
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        raise AppointmentNotFound("There is no such appointment.")
    return appointment


def check_in(
    deps: TransitionDeps, appointment_id: str, now: datetime, audit: AuditEntry | None = None
) -> Transition:
    """Check the vehicle in. Raises AppointmentNotFound, InvalidTransition (already checked in,
    cancelled, completed, no-show), StaleWrite (changed since it was read)."""
    appointment = load(deps, appointment_id)
    checked_in = transitions.check_in(appointment, now)
    stored = deps.appointments.transition(
        appointment, checked_in, allowed_from=transitions.CHECK_IN_FROM, release=True, audit=audit
    )
    logger.info("check-in", extra={"appointment_id": appointment_id, "from_status": appointment.status})
    return Transition(stored, reminder_unscheduled=_unschedule(deps, stored))


def cancel(
    deps: TransitionDeps,
    appointment_id: str,
    now: datetime,
    *,
    reason: str | None = None,
    notify: bool = True,
    audit: AuditEntry | None = None,
) -> Transition:
    """Cancel an appointment that still holds its time: its slots are freed for others and, with
    ``notify``, the customer is e-mailed (in the same transaction). InvalidTransition otherwise."""
    appointment = load(deps, appointment_id)
    cancelled = transitions.cancel(appointment, now, reason)
    messages: list[OutboundMessage] = []
    if notify and deps.catalog is not None and appointment.start > now:
        vehicle, address = deps.appointments.vehicle_and_address(appointment)
        messages.append(
            cancelled_message(
                deps.catalog.catalog(),
                cancelled,
                vehicle_label=vehicle.label if vehicle else None,
                address=address.address if address else None,
                now=now,
            )
        )
    stored = deps.appointments.transition(
        appointment,
        cancelled,
        allowed_from=transitions.CANCEL_FROM,
        messages=messages,
        release=True,
        audit=audit,
    )
    logger.info("cancel", extra={"appointment_id": appointment_id, "customer_told": bool(messages)})
    return Transition(
        stored,
        reminder_unscheduled=_unschedule(deps, stored),
        message_id=messages[0].id if messages else None,
    )


def complete(
    deps: TransitionDeps, appointment_id: str, now: datetime, audit: AuditEntry | None = None
) -> Transition:
    """The work on a checked-in vehicle is done. InvalidTransition from any other status."""
    appointment = load(deps, appointment_id)
    done = transitions.complete(appointment, now)
    stored = deps.appointments.transition(
        appointment, done, allowed_from=transitions.COMPLETE_FROM, audit=audit
    )
    logger.info("complete", extra={"appointment_id": appointment_id})
    return Transition(stored, reminder_unscheduled=False)


def no_show(
    deps: TransitionDeps, appointment_id: str, now: datetime, audit: AuditEntry | None = None
) -> Transition:
    """The customer did not come (only once the start has passed); the slots are released."""
    appointment = load(deps, appointment_id)
    missed = transitions.no_show(appointment, now)
    stored = deps.appointments.transition(
        appointment, missed, allowed_from=transitions.NO_SHOW_FROM, release=True, audit=audit
    )
    logger.info("no-show", extra={"appointment_id": appointment_id})
    return Transition(stored, reminder_unscheduled=_unschedule(deps, stored))


def _unschedule(deps: TransitionDeps, appointment: Appointment) -> bool:
    if deps.unschedule_reminder is None:
        return False
    try:
        deps.unschedule_reminder(appointment)
    except Exception:  # the reminder re-reads the appointment: a stale schedule sends nothing
        logger.exception(
            "reminder not unscheduled", extra={"appointment_id": appointment.id, "status": appointment.status}
        )
        return False
    return True
