"""Outbox worker: the table's stream (new messages and effects), retry wake-ups
(``{"outbox_retry": <id>, "after_attempts": <n>}``, ``{"effect_retry": ...}``), and the sweep (a
schedule rule every minute) -> ``services.outbox.OutboxDelivery``. Each outcome is counted as the
metric ``Outbox_<outcome>`` or ``Effect_<outcome>``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.observability import logger, metrics
from bookbay.services.outbox import ATTEMPTS_KEY, EFFECT_RETRY_EVENT_KEY, RETRY_EVENT_KEY, OutboxDelivery


def _count(kind: str, outcome: str) -> str:
    metrics.add_metric(name=f"{kind}_{outcome}", unit=MetricUnit.Count, value=1)
    return outcome


def _record(record: DynamoDBRecord, delivery: OutboxDelivery, now: datetime, own_arn: str) -> None:
    image = (record.dynamodb.new_image if record.dynamodb else None) or {}
    if "message_id" in image:
        _count("Outbox", delivery.deliver(str(image["message_id"]), now, retry_target_arn=own_arn))
    elif "effect_id" in image:
        _count("Effect", delivery.apply_effect(str(image["effect_id"]), now, retry_target_arn=own_arn))
    else:
        logger.warning("stream record without an outbox item", extra={"event_id": record.event_id})


def handle(
    event: dict[str, Any],
    context: LambdaContext,
    delivery: OutboxDelivery,
    *,
    processor: BatchProcessor,
    now: Callable[[], datetime],
) -> Mapping[str, Any]:
    """A retry wake-up, the sweep's Scheduled Event, or else a stream batch through ``processor``
    (the function's DynamoDB Streams BatchProcessor; partial failures reported per record).
    Wake-ups come back to this function (``invoked_function_arn``)."""
    own_arn = context.invoked_function_arn
    after = event.get(ATTEMPTS_KEY)
    after_attempts = after if isinstance(after, int) and not isinstance(after, bool) else None
    if RETRY_EVENT_KEY in event:
        message_id = str(event[RETRY_EVENT_KEY])
        sent = delivery.deliver(message_id, now(), retry_target_arn=own_arn, after_attempts=after_attempts)
        return {"outcome": _count("Outbox", sent)}
    if EFFECT_RETRY_EVENT_KEY in event:
        effect_id = str(event[EFFECT_RETRY_EVENT_KEY])
        applied = delivery.apply_effect(
            effect_id, now(), retry_target_arn=own_arn, after_attempts=after_attempts
        )
        return {"outcome": _count("Effect", applied)}
    if event.get("detail-type") == "Scheduled Event":  # the sweep: what is due by the rule's time
        current = now()
        due_by = datetime.fromisoformat(str(event.get("time") or current.isoformat()))
        return {"swept": delivery.sweep(due_by, current, retry_target_arn=own_arn)}

    def record_handler(record: DynamoDBRecord) -> None:  # Powertools passes the record by this name
        _record(record, delivery, now(), own_arn)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
