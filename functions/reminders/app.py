"""Reminders: invoked by an appointment's one-time EventBridge Scheduler schedule with
``{"reminder": <appointment id>, "sequence": <n>}``; sends the reminder if it is still due (the
event handling is in ``bookbay.api.workers.reminders``)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.workers import reminders
from bookbay.config import BaseConfig
from bookbay.observability import logger, metrics, tracer

config = BaseConfig.from_env()
deps = wiring.reminders(config)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, str]:
    return reminders.handle(event, deps, now=partial(datetime.now, UTC))
