"""Wiring: the repositories, adapters and service dependencies a function's handler needs, built
from its config model in one place (handlers call these at cold start and stay wiring)."""

from __future__ import annotations

from bookbay.config import OutboxSenderConfig
from bookbay.services.outbox import OutboxDelivery


def outbox_delivery(config: OutboxSenderConfig) -> OutboxDelivery:
    """The outbox worker: SES and SNS for messages; the Scheduler (reminder and review-request
    schedules, retry wake-ups) and the table for effects."""
    from bookbay.adapters.email import SesEmailSender
    from bookbay.adapters.scheduler import EventBridgeScheduler, ScheduleTarget
    from bookbay.adapters.sms import SnsSmsSender
    from bookbay.repositories.appointments import AppointmentRepository
    from bookbay.repositories.catalog import CatalogRepository
    from bookbay.repositories.effects import EffectRepository
    from bookbay.repositories.outbox import OutboxRepository
    from bookbay.repositories.review_requests import ReviewRequestRepository
    from bookbay.services.effects import EffectDeps
    from bookbay.services.reminders import ReminderScheduling
    from bookbay.services.review_requests import ReviewDeps

    target = ScheduleTarget(config.schedule_group, config.scheduler_role_arn, config.scheduler_dlq_arn)
    scheduler = EventBridgeScheduler(target)
    effects = EffectDeps(
        effects=EffectRepository(config.table_name, config.region),
        appointments=AppointmentRepository(config.table_name, config.region),
        reminders=ReminderScheduling(scheduler, config.reminder_function_arn),
        reviews=ReviewDeps(
            requests=ReviewRequestRepository(config.table_name, config.region),
            catalog=CatalogRepository(
                config.table_name, config.region, cache_seconds=config.catalog_cache_seconds
            ),
            scheduling=ReminderScheduling(scheduler, config.review_function_arn),
            public_base_url=config.public_base_url,
        ),
    )
    return OutboxDelivery(
        repo=OutboxRepository(config.table_name, config.region),
        email=SesEmailSender(config.sender_email, config.shop_name),
        sms=SnsSmsSender(config.sms_sender_id),
        scheduler=scheduler,
        effects=effects,
    )
