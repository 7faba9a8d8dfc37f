"""Reminders: one one-time EventBridge Scheduler schedule per appointment, and sending them.

Scheduling. Each appointment has at most one schedule, named ``reminder-<appointment id>``
(``keys.reminder_schedule``): created or replaced when the appointment becomes confirmed or is
moved, deleted when it is cancelled or checked in (``ActionAfterCompletion: DELETE`` removes it
once fired). It invokes the reminder function with ``{"reminder": <id>, "sequence": <n>}``, n
being the appointment's ``sequence`` when scheduled. The time is ``domain.reminders.reminder_at``
(N business days before drop-off at the shop's local reminder time; none inside that window).

The schedule is written AFTER the transaction that changed the appointment commits (a schedule
cannot be part of a DynamoDB transaction). ``update_reminder`` never raises: if the Scheduler
call fails the change stands (the customer has their confirmation), and the failure is logged
as an error with the metric ``ReminderScheduleFailed`` (alarm on it; staff can still send the
e-confirmation by hand). Writing the schedule request through the outbox instead would make it
survive a crash between the commit and the call, at the cost of another stream consumer; the
window is one API call long, so the log + metric is the trade-off taken.

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

from aws_lambda_powertools.metrics import MetricUnit

from bookbay.adapters.scheduler import EventBridgeScheduler, Scheduler, ScheduleTarget
from bookbay.config import SchedulingConfig
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog
from bookbay.domain.reminders import reminder_at
from bookbay.models import keys
from bookbay.observability import logger, metrics
from bookbay.repositories.customer_messages import ReminderReceipt, WriteOutcome
from bookbay.services.econfirmation import MessageDeps, prepare_message

REMINDER_EVENT_KEY = "reminder"
SEQUENCE_EVENT_KEY = "sequence"
SCHEDULE_FAILED_METRIC = "ReminderScheduleFailed"

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
    if appointment.status != "confirmed" or location is None:
        return None
    return reminder_at(appointment.start, location, catalog.shop.settings, now)


def schedule_reminder(
    scheduling: ReminderScheduling, appointment: Appointment, catalog: Catalog, now: datetime
) -> datetime | None:
    """Create or replace the appointment's reminder schedule; where it should have none (not
    confirmed, reminders off, inside the window) delete any earlier one. Returns the UTC time
    scheduled (None: none). Scheduler errors propagate."""
    at = reminder_time(appointment, catalog, now)
    name = keys.reminder_schedule(appointment.id)
    if at is None:
        scheduling.scheduler.delete(name)
        return None
    payload = {REMINDER_EVENT_KEY: appointment.id, SEQUENCE_EVENT_KEY: appointment.sequence}
    scheduling.scheduler.schedule_once(name, at, scheduling.target_arn, payload)
    return at


def cancel_reminder(scheduling: ReminderScheduling, appointment_id: str) -> None:
    """Delete the appointment's reminder schedule (none: nothing to do). Scheduler errors propagate."""
    scheduling.scheduler.delete(keys.reminder_schedule(appointment_id))


def update_reminder(
    scheduling: ReminderScheduling, appointment: Appointment, catalog: Catalog, now: datetime
) -> bool:
    """After a change of ``appointment`` has committed: schedule, move or delete its reminder to
    match it (any status: confirmed -> scheduled, cancelled / checked in / ... -> deleted).

    Never raises: a failure is logged with the ``ReminderScheduleFailed`` metric and returns False.
    """
    try:
        at = schedule_reminder(scheduling, appointment, catalog, now)
    except Exception:
        logger.exception("reminder schedule failed", extra={"appointment_id": appointment.id})
        metrics.add_metric(name=SCHEDULE_FAILED_METRIC, unit=MetricUnit.Count, value=1)
        return False
    logger.info(
        "reminder scheduled" if at else "no reminder",
        extra={"appointment_id": appointment.id, "at": at.isoformat() if at else None},
    )
    return True


# ------------------------------------------------------------------------------ sending
def send_reminder(deps: MessageDeps, appointment_id: str, sequence: int, now: datetime) -> Outcome:
    """The reminder function's work: send the reminder of version ``sequence`` of the appointment
    if it is still due (see the module docstring); otherwise, or a second time, send nothing."""
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        return _outcome("gone", appointment_id)
    if appointment.status != "confirmed" or appointment.start <= now:
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
        statuses=("confirmed",),
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
