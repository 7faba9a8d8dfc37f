"""Reminders: an appointment's one-time EventBridge Scheduler schedule invokes the function with
``{"reminder": <appointment id>, "sequence": <n>}``; ``services.reminders.send_reminder`` sends the
reminder if it is still due. Each outcome is counted as the metric ``Reminder_<outcome>``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ConfigDict, Field

from bookbay.api.workers.schedules import schedule_input
from bookbay.modeling import BaseModel
from bookbay.observability import metrics
from bookbay.services import reminders
from bookbay.services.econfirmation import MessageDeps


class ReminderEvent(BaseModel):
    """The schedule's Input (extra keys, e.g. scheduler context, are ignored)."""

    model_config = ConfigDict(extra="ignore")

    # The keys of services.reminders (REMINDER_EVENT_KEY, SEQUENCE_EVENT_KEY).
    appointment_id: str = Field(alias="reminder", min_length=1, max_length=64)
    sequence: int = Field(alias="sequence", ge=0)


def handle(event: Any, deps: MessageDeps, *, now: Callable[[], datetime]) -> dict[str, str]:
    """Send the reminder the schedule is for; ``invalid_event`` for anything else."""
    parsed = schedule_input(ReminderEvent, event, "reminder")
    if parsed is None:
        return {"outcome": "invalid_event"}
    outcome = reminders.send_reminder(deps, parsed.appointment_id, parsed.sequence, now())
    metrics.add_metric(name=f"Reminder_{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}
