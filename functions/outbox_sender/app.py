"""Outbox sender: the table's stream (new outbox items) and scheduled retries -> SES / SNS."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.adapters.email import SesEmailSender
from bookbay.adapters.scheduler import EventBridgeScheduler, ScheduleTarget
from bookbay.adapters.sms import SnsSmsSender
from bookbay.config import OutboxSenderConfig
from bookbay.observability import logger, metrics, tracer
from bookbay.repositories.outbox import OutboxRepository
from bookbay.services.outbox import RETRY_EVENT_KEY, OutboxDelivery

config = OutboxSenderConfig.from_env()
delivery = OutboxDelivery(
    repo=OutboxRepository(config.table_name, config.region),
    email=SesEmailSender(config.sender_email, config.shop_name),
    sms=SnsSmsSender(config.sms_sender_id),
    scheduler=EventBridgeScheduler(
        ScheduleTarget(config.schedule_group, config.scheduler_role_arn, config.scheduler_dlq_arn)
    ),
)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def deliver(message_id: str, retry_target_arn: str) -> str:
    outcome = delivery.deliver(message_id, datetime.now(UTC), retry_target_arn=retry_target_arn)
    metrics.add_metric(name=f"Outbox_{outcome}", unit=MetricUnit.Count, value=1)
    return outcome


def message_id_of(record: DynamoDBRecord) -> str | None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or "message_id" not in image:
        logger.warning("stream record without an outbox message", extra={"event_id": record.event_id})
        return None
    return str(image["message_id"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    own_arn = context.invoked_function_arn  # scheduled retries come back here
    if RETRY_EVENT_KEY in event:
        return {"outcome": deliver(str(event[RETRY_EVENT_KEY]), own_arn)}

    def record_handler(record: DynamoDBRecord) -> None:
        message_id = message_id_of(record)
        if message_id is not None:
            deliver(message_id, own_arn)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
