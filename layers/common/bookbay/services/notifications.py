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

from bookbay.domain.booking import Appointment, AppointmentStatus
from bookbay.domain.catalog import Address, Catalog, Location, Service, Shop
from bookbay.domain.ids import new_id
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import LocationNotFound, ServiceNotFound
from bookbay.templates import render, short_when
from bookbay.types import AppointmentType

CustomerMessageKind = Literal["requested", "confirmed", "rescheduled"]

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
) -> list[OutboundMessage]:
    """The customer's "request received" (or "confirmed", in instant mode) e-mail with the manage
    link, and the store's notification with links to the staff page. ``address``: the at-home
    address, when the appointment is at home."""
    details = appointment_details(catalog, appointment, vehicle_label=vehicle_label, address=address)
    kind: CustomerMessageKind = "confirmed" if appointment.status == "confirmed" else "requested"
    return [
        _customer_message(details, kind, manage_url=manage_url, now=now),
        _store_message(catalog, details, staff_url=staff_url, now=now),
    ]


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
