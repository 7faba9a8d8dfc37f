"""Wiring: the repositories, adapters and service dependencies a function's handler needs, built
from its config model in one place (handlers call these at cold start and stay wiring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bookbay.config import AdminAppointmentsConfig, OutboxSenderConfig

if TYPE_CHECKING:  # the builders import what they build: a function loads only its own
    from bookbay.services.appointment_admin import AdminAppointmentsDeps
    from bookbay.services.outbox import OutboxDelivery
    from bookbay.services.staff_actions import StaffDeps


# ------------------------------------------------------------------------------ staff API
def staff_deps(config: AdminAppointmentsConfig) -> StaffDeps:
    """What staff actions on appointments read and write: the catalog, appointments, slot usage
    and customer profiles (the preferred channel)."""
    from bookbay.repositories.appointments import AppointmentRepository
    from bookbay.repositories.availability import AvailabilityRepository
    from bookbay.repositories.catalog import CatalogRepository
    from bookbay.repositories.customers import CustomersRepository
    from bookbay.services.staff_actions import StaffDeps

    return StaffDeps(
        catalog=CatalogRepository(
            config.table_name, config.region, cache_seconds=config.catalog_cache_seconds
        ),
        appointments=AppointmentRepository(config.table_name, config.region),
        availability=AvailabilityRepository(config.table_name, config.region),
        public_base_url=config.public_base_url,
        customers=CustomersRepository(config.table_name, config.region),
    )


def admin_appointments(config: AdminAppointmentsConfig) -> AdminAppointmentsDeps:
    """The staff appointments API: staff actions, the audit trail, phone bookings."""
    from bookbay.repositories.audit import AuditRepository
    from bookbay.repositories.booking import BookingRepository
    from bookbay.repositories.customers import CustomersRepository
    from bookbay.services.appointment_admin import AdminAppointmentsDeps, AdminDeps

    return AdminAppointmentsDeps(
        admin=AdminDeps(staff=staff_deps(config), audit=AuditRepository(config.table_name, config.region)),
        booking=BookingRepository(config.table_name, config.region),
        customers=CustomersRepository(config.table_name, config.region),
    )


# ------------------------------------------------------------------------------ workers
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
    from bookbay.services.outbox import OutboxDelivery
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
