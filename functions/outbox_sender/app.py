"""Outbox worker: the table's stream (new messages and effects), retry wake-ups, and the sweep
(a schedule rule every minute) -> SES / SNS for messages, the Scheduler for effects; the event
handling is in ``bookbay.api.workers.outbox_sender``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

# batch before pydantic (bookbay.config): Powertools then leaves its parser models unloaded
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.workers import outbox_sender
from bookbay.config import OutboxSenderConfig
from bookbay.observability import logger, metrics, tracer

config = OutboxSenderConfig.from_env()
deps = wiring.outbox_delivery(config)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
clock: Callable[[], datetime] = partial(datetime.now, UTC)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    # clock is read per invocation (tests set it)
    return outbox_sender.handle(event, context, deps, processor=processor, now=clock)
