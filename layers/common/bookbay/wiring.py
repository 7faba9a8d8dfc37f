"""Wiring: the repositories, adapters and service dependencies a function's handler needs, built
from its config model in one place (handlers call these at cold start and stay wiring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bookbay.config import (
    AdminAppointmentsConfig,
    AdminPageConfig,
    BaseConfig,
    BookingConfig,
    OutboxSenderConfig,
    ReviewSenderConfig,
    SettingsApiConfig,
    StaffApiConfig,
    VerificationConfig,
)

if TYPE_CHECKING:  # the builders import what they build: a function loads only its own
    from collections.abc import Callable

    from bookbay.repositories.catalog import CatalogRepository
    from bookbay.repositories.flags import FlagsRepository
    from bookbay.repositories.review_requests import ReviewRequestRepository
    from bookbay.services.appointment_admin import AdminAppointmentsDeps
    from bookbay.services.availability import AvailabilityDeps
    from bookbay.services.blocks import BlocksDeps
    from bookbay.services.booking import BookingDeps
    from bookbay.services.catalog import CatalogDeps
    from bookbay.services.customer_admin import CustomerAdminDeps
    from bookbay.services.customer_links import CustomerDeps
    from bookbay.services.econfirmation import MessageDeps
    from bookbay.services.outbox import OutboxDelivery
    from bookbay.services.review_requests import ReviewDeps, ReviewPageDeps
    from bookbay.services.settings import SettingsDeps
    from bookbay.services.staff_actions import StaffDeps
    from bookbay.services.staff_sign_in import SignIn
    from bookbay.services.verification import VerificationDeps


def _catalog(config: BaseConfig) -> CatalogRepository:
    """The catalog, cached while the container is warm (CATALOG_CACHE_SECONDS)."""
    from bookbay.repositories.catalog import CatalogRepository

    return CatalogRepository(config.table_name, config.region, cache_seconds=config.catalog_cache_seconds)


# ------------------------------------------------------------------------------ staff API
def staff_deps(config: BaseConfig) -> StaffDeps:
    """What staff actions on appointments read and write: the catalog, appointments, slot usage
    and customer profiles (the preferred channel). The staff link pages (/s/) use just these."""
    from bookbay.repositories.appointments import AppointmentRepository
    from bookbay.repositories.availability import AvailabilityRepository
    from bookbay.repositories.customers import CustomersRepository
    from bookbay.services.staff_actions import StaffDeps

    return StaffDeps(
        catalog=_catalog(config),
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


# ------------------------------- customer_links, staff_links (staff_deps), review_links, admin_page
def customer_links(config: BaseConfig) -> CustomerDeps:
    """The customer's link pages (/c/): the catalog and appointments."""
    from bookbay.repositories.appointments import AppointmentRepository
    from bookbay.services.customer_links import CustomerDeps

    return CustomerDeps(
        catalog=_catalog(config),
        appointments=AppointmentRepository(config.table_name, config.region),
        public_base_url=config.public_base_url,
    )


def review_links(config: BaseConfig) -> ReviewPageDeps:
    """The review-request pages (/r/): the link's appointment, the catalog, the requests."""
    from bookbay.repositories.appointments import AppointmentRepository
    from bookbay.repositories.review_requests import ReviewRequestRepository
    from bookbay.services.review_requests import ReviewPageDeps

    return ReviewPageDeps(
        appointments=AppointmentRepository(config.table_name, config.region),
        catalog=_catalog(config),
        requests=ReviewRequestRepository(config.table_name, config.region),
    )


def admin_page(config: AdminPageConfig) -> SignIn:
    """The admin page's sign-in settings; with cognito, the app client is looked up in the user
    pool (the Cognito client is made on first use). booking_page and docs need nothing."""
    from bookbay.adapters.cognito import CognitoAppClients
    from bookbay.services.staff_sign_in import SignIn

    return SignIn(config, lambda: CognitoAppClients(config.region))


# ------------------------------------------------------------------------------ workers
def outbox_delivery(config: OutboxSenderConfig) -> OutboxDelivery:
    """The outbox worker: SES and SNS for messages; the Scheduler (reminder and review-request
    schedules, retry wake-ups) and the table for effects."""
    from bookbay.adapters.email import SesEmailSender
    from bookbay.adapters.scheduler import EventBridgeScheduler, ScheduleTarget
    from bookbay.adapters.sms import SnsSmsSender
    from bookbay.repositories.appointments import AppointmentRepository
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
            catalog=_catalog(config),
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


# ---------------------------------- reminders, review_requests, admin_settings, admin_review_requests
def reminders(config: BaseConfig) -> MessageDeps:
    """The reminder function: the appointment, the catalog, the customer's preferred channel, and
    the messages (the reminder, its manage link and its receipt in one write)."""
    from bookbay.repositories.appointments import AppointmentRepository
    from bookbay.repositories.customer_messages import CustomerMessageRepository
    from bookbay.repositories.customers import CustomersRepository
    from bookbay.services.econfirmation import MessageDeps

    return MessageDeps(
        catalog=_catalog(config),
        appointments=AppointmentRepository(config.table_name, config.region),
        customers=CustomersRepository(config.table_name, config.region),
        messages=CustomerMessageRepository(config.table_name, config.region),
        public_base_url=config.public_base_url,
    )


def review_requests(config: ReviewSenderConfig) -> Callable[[str], ReviewDeps]:
    """The review-request function: its dependencies by the ARN it is invoked with (the next
    step's schedule targets the function itself), built on the first event of each (one ARN per
    container, in practice)."""
    from functools import cache

    from bookbay.adapters.scheduler import ScheduleTarget
    from bookbay.services.review_requests import ReviewDeps

    target = ScheduleTarget(config.schedule_group, config.scheduler_role_arn, config.scheduler_dlq_arn)

    @cache
    def deps_for(own_arn: str) -> ReviewDeps:
        return ReviewDeps.build(
            table_name=config.table_name,
            region=config.region,
            schedule_target=target,
            target_arn=own_arn,
            public_base_url=config.public_base_url,
            catalog_cache_seconds=config.catalog_cache_seconds,
        )

    return deps_for


def admin_settings(config: SettingsApiConfig) -> SettingsDeps:
    """The staff settings API: the catalog, which holds the settings (read fresh: no cache), and
    the audit trail their changes are written with."""
    from bookbay.repositories.audit import AuditRepository
    from bookbay.repositories.catalog import CatalogRepository
    from bookbay.services.settings import SettingsDeps

    return SettingsDeps(
        catalog=CatalogRepository(config.table_name, config.region),
        audit=AuditRepository(config.table_name, config.region),
    )


def admin_review_requests(config: StaffApiConfig) -> ReviewRequestRepository:
    """The staff review-request queue: the requests."""
    from bookbay.repositories.review_requests import ReviewRequestRepository

    return ReviewRequestRepository(config.table_name, config.region)


# ------------------------------------------------------- booking, verification, availability, catalog
def booking(config: BookingConfig) -> BookingDeps:
    """The public booking API: the catalog, customers and appointments, slot usage, the
    verification tokens (the signing secret is read, and cached, only when a request carries a
    token) and the idempotency records (IdempotencyTable)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from bookbay.repositories.availability import AvailabilityRepository
    from bookbay.repositories.booking import BookingRepository
    from bookbay.services.booking import BookingDeps
    from bookbay.services.verification_tokens import VerificationTokens, secrets_manager_source

    return BookingDeps(
        catalog=_catalog(config),
        booking=BookingRepository(config.table_name, config.region),
        availability=AvailabilityRepository(config.table_name, config.region),
        tokens=VerificationTokens(secrets_manager_source(config.signing_key_secret_arn)),
        public_base_url=config.public_base_url,
        idempotency_store=DynamoDBPersistenceLayer(table_name=config.idempotency_table),
    )


def verification(config: VerificationConfig) -> VerificationDeps:
    """The public verification API: the catalog, the codes, the outbox (the code's message),
    known-source links, the verification tokens and the limits' sliding windows."""
    from bookbay.repositories.outbox import OutboxRepository
    from bookbay.repositories.rate_windows import RateWindows
    from bookbay.repositories.source_links import SourceLinkRepository
    from bookbay.repositories.verification import VerificationRepository
    from bookbay.services.verification import VerificationDeps
    from bookbay.services.verification_tokens import VerificationTokens, secrets_manager_source

    return VerificationDeps(
        catalog=_catalog(config),
        verification=VerificationRepository(config.table_name, config.region),
        outbox=OutboxRepository(config.table_name, config.region),
        source_links=SourceLinkRepository(config.table_name, config.region),
        tokens=VerificationTokens(secrets_manager_source(config.signing_key_secret_arn)),
        rate_windows=RateWindows(config.table_name, config.region),
    )


def availability(config: BaseConfig) -> AvailabilityDeps:
    """The public availability API: the catalog and the slot usage."""
    from bookbay.repositories.availability import AvailabilityRepository
    from bookbay.services.availability import AvailabilityDeps

    return AvailabilityDeps(
        catalog=_catalog(config),
        availability=AvailabilityRepository(config.table_name, config.region),
    )


def catalog(config: BaseConfig) -> CatalogDeps:
    """The public catalog API: the catalog and the windows of the shop's SMS caps."""
    from bookbay.repositories.rate_windows import RateWindows
    from bookbay.services.catalog import CatalogDeps

    return CatalogDeps(catalog=_catalog(config), rate_windows=RateWindows(config.table_name, config.region))


# ---------------------------------------------------------------- admin_customers, admin_flags, admin_blocks
def admin_customers(config: StaffApiConfig) -> CustomerAdminDeps:
    """The staff customers API: profiles and their lookups, the staff view (search, records,
    proposed changes), known-source links, and the catalog (the shop's settings for a link)."""
    from bookbay.repositories.customer_admin import AuditedSourceLinks, CustomerAdminRepository
    from bookbay.repositories.customers import CustomersRepository
    from bookbay.services.customer_admin import CustomerAdminDeps

    return CustomerAdminDeps(
        customers=CustomersRepository(config.table_name, config.region),
        admin=CustomerAdminRepository(config.table_name, config.region),
        links=AuditedSourceLinks(config.table_name, config.region),
        catalog=_catalog(config),
        public_base_url=config.public_base_url,
    )


def admin_flags(config: StaffApiConfig) -> FlagsRepository:
    """The staff flagged-customer list: the flags."""
    from bookbay.repositories.flags import FlagsRepository

    return FlagsRepository(config.table_name, config.region)


def admin_blocks(config: StaffApiConfig) -> BlocksDeps:
    """The staff blocked-time API: the catalog (locations, opening hours) and the blocks."""
    from bookbay.repositories.blocks import BlocksRepository
    from bookbay.services.blocks import BlocksDeps

    return BlocksDeps(
        catalog=_catalog(config),
        blocks=BlocksRepository(config.table_name, config.region),
    )
