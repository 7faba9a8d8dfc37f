"""Staff transitions of an appointment that are not tied to a link page (the admin routes call
these): check-in.

Check-in (``bookbay.domain.booking.check_in``) writes the status and releases the slots the
appointment held, in one transaction conditional on the version read. What waited for the drop-off
ends with it:

- the customer link (``/c/<token>``) answers 410 from then on: it works only while the status
  holds a time (``services.customer_links.is_active``), so no token needs to be found or deleted;
- the reminder: after the write, ``TransitionDeps.unschedule_reminder`` (when given) is called
  with the checked-in appointment, to delete its one-time schedule. A failure there is logged
  and does not undo the check-in: the reminder Lambda re-reads the appointment and sends only
  while it is still due, so a schedule left behind is harmless. The result says whether it ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bookbay.domain import booking as transitions
from bookbay.domain.booking import Appointment
from bookbay.exceptions import NotFound
from bookbay.observability import logger
from bookbay.repositories.appointments import AppointmentRepository, StoredAppointment


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"


@dataclass(frozen=True)
class TransitionDeps:
    appointments: AppointmentRepository
    # Deletes the appointment's reminder schedule (wired by whoever owns reminders); None: none.
    unschedule_reminder: Callable[[Appointment], None] | None = None


@dataclass(frozen=True)
class Transition:
    appointment: StoredAppointment
    # The reminder's schedule was deleted (False: no hook, or it failed and was logged).
    reminder_unscheduled: bool


def check_in(deps: TransitionDeps, appointment_id: str, now: datetime) -> Transition:
    """Check the vehicle in. Raises AppointmentNotFound, InvalidTransition (already checked in,
    cancelled, completed, no-show), StaleWrite (changed since it was read)."""
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        raise AppointmentNotFound("There is no such appointment.")
    checked_in = transitions.check_in(appointment, now)
    stored = deps.appointments.transition(
        appointment, checked_in, allowed_from=transitions.CHECK_IN_FROM, release=True
    )
    logger.info("check-in", extra={"appointment_id": appointment_id, "from_status": appointment.status})
    return Transition(stored, reminder_unscheduled=_unschedule(deps, stored))


def _unschedule(deps: TransitionDeps, appointment: Appointment) -> bool:
    if deps.unschedule_reminder is None:
        return False
    try:
        deps.unschedule_reminder(appointment)
    except Exception:  # the reminder re-reads the appointment: a stale schedule sends nothing
        logger.exception("check-in: reminder not unscheduled", extra={"appointment_id": appointment.id})
        return False
    return True
