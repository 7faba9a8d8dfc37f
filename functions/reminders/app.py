"""Reminders: invoked by an appointment's one-time EventBridge Scheduler schedule with
``{"reminder": <appointment id>, "sequence": <n>}``; sends the reminder if it is still due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from bookbay.adapters.scheduler import schedule_input
from bookbay.config import BaseConfig
from bookbay.observability import logger, metrics, tracer
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.customer_messages import CustomerMessageRepository
from bookbay.repositories.customers import CustomersRepository
from bookbay.services import reminders
from bookbay.services.econfirmation import MessageDeps

config = BaseConfig.from_env()
deps = MessageDeps(
    catalog=CatalogRepository(config.table_name, config.region, cache_seconds=config.catalog_cache_seconds),
    appointments=AppointmentRepository(config.table_name, config.region),
    customers=CustomersRepository(config.table_name, config.region),
    messages=CustomerMessageRepository(config.table_name, config.region),
    public_base_url=config.public_base_url,
)


class ReminderEvent(BaseModel):
    """The schedule's Input (extra keys, e.g. scheduler context, are ignored)."""

    model_config = ConfigDict(extra="ignore")

    # The keys of services.reminders (REMINDER_EVENT_KEY, SEQUENCE_EVENT_KEY).
    appointment_id: str = Field(alias="reminder", min_length=1, max_length=64)
    sequence: int = Field(alias="sequence", ge=0)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, str]:
    parsed = schedule_input(ReminderEvent, event, "reminder")
    if parsed is None:
        return {"outcome": "invalid_event"}
    outcome = reminders.send_reminder(deps, parsed.appointment_id, parsed.sequence, datetime.now(UTC))
    metrics.add_metric(name=f"Reminder_{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}
