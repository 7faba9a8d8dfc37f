"""The e-mails an appointment sends: to the customer (request received / confirmed / rescheduled)
and to the store (a new request, with Confirm and Reschedule links to the staff page; a customer's
reschedule request, with a link to pick the new time).

Each is HTML + text from the jinja2 templates in ``bookbay/templates/email``, with times in the
location's time zone. These functions only render: the caller writes the messages to the outbox in
the transaction that makes the change they announce. Nothing here logs message content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bookbay.domain.booking import Appointment, AppointmentStatus, PreferredChannel
from bookbay.domain.catalog import Address, Catalog, Channel, Location, Service, Shop, ShopSettings
from bookbay.domain.ids import new_id
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import LocationNotFound, ServiceNotFound
from bookbay.observability import logger
from bookbay.templates import render, short_when
from bookbay.types import AppointmentType, phone_region

CustomerMessageKind = Literal["requested", "confirmed", "rescheduled", "cancelled"]
MessageKind = Literal["confirmation", "reminder"]  # what goes by the preferred channel

TYPE_LABELS: dict[AppointmentType, str] = {
    "in_store": "In store",
    "online": "Online (video call)",
    "at_home": "At home",
}
STATUS_LABELS: dict[AppointmentStatus, str] = {
    "requested": "Requested, waiting for the store to confirm",
    "confirmed": "Confirmed",
    "reschedule_requested": "The customer asked to reschedule",
    "checked_in": "Checked in",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
}
SUBJECT_MAX = 200


@dataclass(frozen=True)
class AppointmentDetails:
    """What messages and pages show about an appointment; times in the location's zone."""

    shop: Shop
    location: Location
    service: Service
    appointment: Appointment
    start: datetime
    end: datetime
    vehicle_label: str | None
    address: Address | None

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.appointment.appointment_type]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.appointment.status]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.location.timezone)


def appointment_details(
    catalog: Catalog, appointment: Appointment, *, vehicle_label: str | None, address: Address | None
) -> AppointmentDetails:
    """The appointment with its shop, location and service; raises when the catalog lost them."""
    location = catalog.location(appointment.location_id)
    if location is None:
        raise LocationNotFound(f"The location {appointment.location_id!r} is no longer in the catalog.")
    service = catalog.service(appointment.service_id)
    if service is None:
        raise ServiceNotFound(f"The service {appointment.service_id!r} is no longer in the catalog.")
    zone = ZoneInfo(location.timezone)
    return AppointmentDetails(
        shop=catalog.shop,
        location=location,
        service=service,
        appointment=appointment,
        start=appointment.start.astimezone(zone),
        end=appointment.end.astimezone(zone),
        vehicle_label=vehicle_label,
        address=address if appointment.appointment_type == "at_home" else None,
    )


# ------------------------------------------------------------------------------ recipients
def store_recipient(catalog: Catalog, location: Location) -> str:
    """Where the store notification goes, per ``notification_route``."""
    settings = catalog.shop.settings
    if settings.notification_route == "hq" and settings.hq_email:
        return settings.hq_email
    if settings.notification_route == "salesperson" and location.salesperson_email:
        return location.salesperson_email
    return location.email


# ------------------------------------------------------------------------------ the customer's channel
def sms_allowed(phone: str, settings: ShopSettings) -> bool:
    region = phone_region(phone)
    return region is not None and region in settings.sms_countries


def delivery_channel(
    preferred: PreferredChannel, appointment: Appointment, settings: ShopSettings
) -> Channel | None:
    """How a message to the customer goes: None for ``phone``; SMS only to an allowed country."""
    if preferred == "phone":
        return None
    if preferred == "sms":
        if sms_allowed(appointment.contact.phone, settings):
            return "sms"
        logger.info(
            "customer prefers SMS to a country the shop does not text; e-mail instead",
            extra={"appointment_id": appointment.id},
        )
    return "email"


def customer_message(
    kind: MessageKind,
    channel: Channel,
    catalog: Catalog,
    appointment: Appointment,
    *,
    vehicle_label: str | None,
    address: Address | None,
    manage_url: str,
    now: datetime,
) -> OutboundMessage:
    """The e-confirmation or the reminder over ``channel`` (times in the location's zone)."""
    details = appointment_details(catalog, appointment, vehicle_label=vehicle_label, address=address)
    if kind == "confirmation" and channel == "email":
        return _customer_message(details, "confirmed", manage_url=manage_url, now=now)
    reference = f"appointment:{appointment.id}"
    if channel == "sms":
        text = " ".join(render(f"sms/{kind}.txt", d=details, manage_url=manage_url).split())
        return OutboundMessage(
            id=new_id(),
            channel="sms",
            to=appointment.contact.phone,
            text=text,
            reference=reference,
            created_at=now,
        )
    subject = f"Reminder: your appointment on {short_when(details.start)} - {details.shop.name}"
    return OutboundMessage(
        id=new_id(),
        channel="email",
        to=appointment.contact.email,
        subject=subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 3] + "...",
        text=render("email/reminder.txt", d=details, manage_url=manage_url),
        html=render("email/reminder.html", d=details, manage_url=manage_url),
        reference=reference,
        created_at=now,
    )


# ------------------------------------------------------------------------------ messages
def booking_messages(
    catalog: Catalog,
    appointment: Appointment,
    *,
    vehicle_label: str | None,
    manage_url: str,
    staff_url: str,
    now: datetime,
    address: Address | None = None,
    preferred: PreferredChannel = "email",
) -> list[OutboundMessage]:
    """The customer's message with the manage link, and the store's notification with links to
    the staff page. ``address``: the at-home address, when the appointment is at home.

    A request (the shop confirms) is acknowledged by e-mail. An instant booking is confirmed at
    once, so the customer gets the e-confirmation by their ``preferred`` channel (SMS, e-mail, or
    nothing for ``phone``), with the same link as the booking's ``manage_url``."""
    details = appointment_details(catalog, appointment, vehicle_label=vehicle_label, address=address)
    store = _store_message(catalog, details, staff_url=staff_url, now=now)
    if appointment.status != "confirmed":
        return [_customer_message(details, "requested", manage_url=manage_url, now=now), store]
    channel = delivery_channel(preferred, appointment, catalog.shop.settings)
    if channel is None:
        return [store]
    confirmation = customer_message(
        "confirmation",
        channel,
        catalog,
        appointment,
        vehicle_label=vehicle_label,
        address=address,
        manage_url=manage_url,
        now=now,
    )
    return [confirmation, store]


def confirmed_message(
    catalog: Catalog,
    appointment: Appointment,
    *,
    vehicle_label: str | None,
    manage_url: str | None,
    now: datetime,
    address: Address | None = None,
) -> OutboundMessage:
    """The customer's "your appointment is confirmed" e-mail."""
    details = appointment_details(catalog, appointment, vehicle_label=vehicle_label, address=address)
    return _customer_message(details, "confirmed", manage_url=manage_url, now=now)


def rescheduled_message(
    catalog: Catalog,
    appointment: Appointment,
    *,
    previous_start: datetime,
    vehicle_label: str | None,
    manage_url: str | None,
    now: datetime,
    address: Address | None = None,
) -> OutboundMessage:
    """The customer's "your appointment has been moved" e-mail (``appointment`` as it is now)."""
    details = appointment_details(catalog, appointment, vehicle_label=vehicle_label, address=address)
    return _customer_message(
        details, "rescheduled", manage_url=manage_url, now=now, previous_start=previous_start
    )


def cancelled_message(
    catalog: Catalog,
    appointment: Appointment,
    *,
    vehicle_label: str | None,
    now: datetime,
    address: Address | None = None,
) -> OutboundMessage:
    """The customer's "your appointment has been cancelled" e-mail (no manage link: it is gone)."""
    details = appointment_details(catalog, appointment, vehicle_label=vehicle_label, address=address)
    return _customer_message(details, "cancelled", manage_url=None, now=now)


def reschedule_request_message(
    catalog: Catalog,
    appointment: Appointment,
    *,
    vehicle_label: str | None,
    staff_url: str,
    now: datetime,
    address: Address | None = None,
) -> OutboundMessage:
    """The store's "the customer asks to reschedule" e-mail (to the notification route's address),
    with a link to the staff page where staff pick the new time."""
    details = appointment_details(catalog, appointment, vehicle_label=vehicle_label, address=address)
    return _store_email(
        catalog, details, "Reschedule request", "email/store_reschedule_request", staff_url=staff_url, now=now
    )


def _customer_message(
    details: AppointmentDetails,
    kind: CustomerMessageKind,
    *,
    manage_url: str | None,
    now: datetime,
    previous_start: datetime | None = None,
) -> OutboundMessage:
    when = short_when(details.start)
    subject = {
        "requested": f"We received your appointment request for {when}",
        "confirmed": f"Your appointment is confirmed: {when}",
        "rescheduled": f"Your appointment has been moved to {when}",
        "cancelled": f"Your appointment on {when} has been cancelled",
    }[kind]
    context = {
        "kind": kind,
        "d": details,
        "manage_url": manage_url,
        "previous_start": previous_start.astimezone(details.zone) if previous_start else None,
    }
    return OutboundMessage(
        id=new_id(),
        channel="email",
        to=details.appointment.contact.email,
        subject=_subject(f"{subject} - {details.shop.name}"),
        text=render("email/customer.txt", **context),
        html=render("email/customer.html", **context),
        reference=f"appointment:{details.appointment.id}",
        created_at=now,
    )


def _store_message(
    catalog: Catalog, details: AppointmentDetails, *, staff_url: str, now: datetime
) -> OutboundMessage:
    headline = "Appointment request" if details.appointment.status == "requested" else "New appointment"
    if details.appointment.do_not_service:  # the store sees the mark first thing (never the customer)
        headline += " (Do Not Service)"
    return _store_email(catalog, details, headline, "email/store", staff_url=staff_url, now=now)


def _store_email(
    catalog: Catalog,
    details: AppointmentDetails,
    headline: str,
    template: str,
    *,
    staff_url: str,
    now: datetime,
) -> OutboundMessage:
    """An e-mail to the store's notification address: ``<template>.txt`` and ``.html``, with a
    subject naming the service, the time, the location and the customer."""
    appointment = details.appointment
    subject = (
        f"{headline}: {details.service.name}, {short_when(details.start)}, "
        f"{details.location.name} - {appointment.contact.full_name}"
    )
    context = {"d": details, "staff_url": staff_url, "headline": headline}
    return OutboundMessage(
        id=new_id(),
        channel="email",
        to=store_recipient(catalog, details.location),
        subject=_subject(subject),
        text=render(f"{template}.txt", **context),
        html=render(f"{template}.html", **context),
        reference=f"appointment:{appointment.id}",
        created_at=now,
    )


def _subject(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3].rstrip() + "..."
