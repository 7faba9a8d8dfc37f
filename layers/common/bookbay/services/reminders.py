"""Reminders: one one-time EventBridge Scheduler schedule per appointment, and sending them.

Scheduling. Each appointment has at most one schedule, named ``reminder-<appointment id>``
(``domain.effects.reminder_schedule``). Every transition whose row in the lifecycle table
(``domain.lifecycle``) has the ``sync_reminder`` effect writes a ``reminder.sync`` effect in its
own transaction; the outbox worker applies it with ``schedule_reminder``, which makes the schedule
match the appointment as it is then: created or replaced while it is confirmed
(``lifecycle.REMINDER_DUE_IN``), deleted otherwise (``ActionAfterCompletion: DELETE`` removes it
once fired). A failing Scheduler fails the effect, which the worker retries: the reminder is late,
never lost, and applying the effect twice changes nothing. The schedule invokes the reminder
function with ``{"reminder": <id>, "sequence": <n>}``, n being the appointment's ``sequence``.
The time is ``domain.reminders.reminder_at`` (N business days before drop-off at the shop's
local reminder time; none inside that window).

Sending. The schedule is only a wake-up call: ``send_reminder`` re-reads the appointment and
sends only while it is still due -- confirmed, not started, reminders still on, and still the
version the schedule was made for (same ``sequence``; a reschedule replaces the schedule with
the new sequence, so a stale one finds a mismatch and sends nothing). The message, a fresh
manage link and a receipt ``REMINDER#<sequence>`` are written in one transaction, conditional on
the receipt not existing and the appointment not having changed: a repeated invocation (the
Scheduler delivers at least once) sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bookbay.adapters.scheduler import EventBridgeScheduler, Scheduler, ScheduleTarget
from bookbay.config import SchedulingConfig
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog
from bookbay.domain.effects import reminder_schedule
from bookbay.domain.lifecycle import REMINDER_DUE_IN
from bookbay.domain.reminders import reminder_at
from bookbay.observability import logger
from bookbay.repositories.customer_messages import ReminderReceipt, WriteOutcome
from bookbay.services.econfirmation import MessageDeps, prepare_message

REMINDER_EVENT_KEY = "reminder"
SEQUENCE_EVENT_KEY = "sequence"

Outcome = Literal["sent", "no_message", "not_due", "stale", "already_sent", "gone"]


@dataclass(frozen=True)
class ReminderScheduling:
    """Where reminder schedules go: the scheduler (its group and role) and the reminder function."""

    scheduler: Scheduler
    target_arn: str

    @classmethod
    def from_config(cls, config: SchedulingConfig) -> ReminderScheduling:
        """EventBridge Scheduler in the stack's group, targeting the reminder function."""
        target = ScheduleTarget(config.schedule_group, config.scheduler_role_arn, config.scheduler_dlq_arn)
        return cls(EventBridgeScheduler(target), config.reminder_function_arn)


# ------------------------------------------------------------------------------ scheduling
def reminder_time(appointment: Appointment, catalog: Catalog, now: datetime) -> datetime | None:
    """When the appointment's reminder should fire as it is now (None: it should have none)."""
    location = catalog.location(appointment.location_id)
    if appointment.status not in REMINDER_DUE_IN or location is None:
        return None
    return reminder_at(appointment.start, location, catalog.shop.settings, now)


def schedule_reminder(
    scheduling: ReminderScheduling, appointment: Appointment, catalog: Catalog, now: datetime
) -> datetime | None:
    """The ``reminder.sync`` effect: create or replace the appointment's reminder schedule; where
    it should have none (not confirmed, reminders off, inside the window) delete any earlier one.
    Returns the UTC time scheduled (None: none). Scheduler errors propagate (the worker retries)."""
    at = reminder_time(appointment, catalog, now)
    name = reminder_schedule(appointment.id)
    if at is None:
        scheduling.scheduler.delete(name)
    else:
        payload = {REMINDER_EVENT_KEY: appointment.id, SEQUENCE_EVENT_KEY: appointment.sequence}
        scheduling.scheduler.schedule_once(name, at, scheduling.target_arn, payload)
    logger.info(
        "reminder scheduled" if at else "no reminder",
        extra={"appointment_id": appointment.id, "at": at.isoformat() if at else None},
    )
    return at


def cancel_reminder(scheduling: ReminderScheduling, appointment_id: str) -> None:
    """Delete the reminder schedule of an appointment that is gone (none: nothing to do)."""
    scheduling.scheduler.delete(reminder_schedule(appointment_id))


# ------------------------------------------------------------------------------ sending
def send_reminder(deps: MessageDeps, appointment_id: str, sequence: int, now: datetime) -> Outcome:
    """The reminder function's work: send the reminder of version ``sequence`` of the appointment
    if it is still due (see the module docstring); otherwise, or a second time, send nothing."""
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        return _outcome("gone", appointment_id)
    if appointment.status not in REMINDER_DUE_IN or appointment.start <= now:
        return _outcome("not_due", appointment_id)
    if appointment.sequence != sequence:
        return _outcome("stale", appointment_id)
    catalog = deps.catalog.catalog()
    if catalog.shop.settings.reminder_business_days == 0:
        return _outcome("not_due", appointment_id)  # the shop turned reminders off meanwhile
    prepared = prepare_message(deps, "reminder", appointment, now, catalog=catalog)
    if prepared.message is None:
        return _outcome("no_message", appointment_id)  # the customer prefers a call
    written = deps.messages.write(
        appointment,
        statuses=tuple(REMINDER_DUE_IN),
        message=prepared.message,
        link=prepared.link,
        receipt=ReminderReceipt(sequence, prepared.sent.channel or "phone"),
        now=now,
    )
    outcome = _WRITTEN[written]
    return _outcome(
        outcome, appointment_id, channel=prepared.sent.channel, message_id=prepared.sent.message_id
    )


_WRITTEN: dict[WriteOutcome, Outcome] = {
    "written": "sent",
    "already_sent": "already_sent",
    "changed": "stale",
}


def _outcome(outcome: Outcome, appointment_id: str, **extra: object) -> Outcome:
    logger.info(f"reminder: {outcome}", extra={"appointment_id": appointment_id, **extra})
    return outcome
