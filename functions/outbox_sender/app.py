"""Outbox worker: the table's stream (new messages and effects), retry wake-ups, and the sweep
(a schedule rule every minute) -> SES / SNS for messages, the Scheduler for effects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.config import OutboxSenderConfig
from bookbay.observability import logger, metrics, tracer
from bookbay.services.outbox import ATTEMPTS_KEY, EFFECT_RETRY_EVENT_KEY, RETRY_EVENT_KEY
from bookbay.wiring import outbox_delivery

config = OutboxSenderConfig.from_env()
delivery = outbox_delivery(config)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
clock: Callable[[], datetime] = partial(datetime.now, UTC)


def _count(kind: str, outcome: str) -> str:
    metrics.add_metric(name=f"{kind}_{outcome}", unit=MetricUnit.Count, value=1)
    return outcome


def _record(record: DynamoDBRecord, own_arn: str) -> None:
    image = (record.dynamodb.new_image if record.dynamodb else None) or {}
    now = clock()
    if "message_id" in image:
        _count("Outbox", delivery.deliver(str(image["message_id"]), now, retry_target_arn=own_arn))
    elif "effect_id" in image:
        _count("Effect", delivery.apply_effect(str(image["effect_id"]), now, retry_target_arn=own_arn))
    else:
        logger.warning("stream record without an outbox item", extra={"event_id": record.event_id})


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    own_arn = context.invoked_function_arn  # retry wake-ups come back here
    after = event.get(ATTEMPTS_KEY)
    after_attempts = after if isinstance(after, int) and not isinstance(after, bool) else None
    if RETRY_EVENT_KEY in event:
        message_id = str(event[RETRY_EVENT_KEY])
        outcome = delivery.deliver(
            message_id, clock(), retry_target_arn=own_arn, after_attempts=after_attempts
        )
        return {"outcome": _count("Outbox", outcome)}
    if EFFECT_RETRY_EVENT_KEY in event:
        effect_id = str(event[EFFECT_RETRY_EVENT_KEY])
        outcome = delivery.apply_effect(
            effect_id, clock(), retry_target_arn=own_arn, after_attempts=after_attempts
        )
        return {"outcome": _count("Effect", outcome)}
    if event.get("detail-type") == "Scheduled Event":  # the sweep: the rule's time is "now"
        swept_at = datetime.fromisoformat(str(event.get("time") or clock().isoformat()))
        return {"swept": delivery.sweep(swept_at, retry_target_arn=own_arn)}

    def handle(record: DynamoDBRecord) -> None:  # Powertools passes the record by this name
        _record(record, own_arn)

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
