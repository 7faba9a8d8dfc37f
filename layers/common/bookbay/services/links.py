"""Links in messages: customer manage links (/c/<token>), staff action links (/s/<token>) and
review-request links (/r/<token>).

Tokens have 192 bits from the CSPRNG and are stored only as their SHA-256 hash, with a TTL.
URLs are built from the stack's configured public base URL, never from a request's Host header.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbay.domain import lifecycle
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog
from bookbay.domain.effects import NewLink
from bookbay.domain.ids import new_link_token
from bookbay.exceptions import LinkInactive, LinkNotFound, ShopNotConfigured
from bookbay.repositories.appointments import AppointmentRepository, StoredAppointment
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services.notifications import AppointmentDetails, appointment_details

LinkKind = lifecycle.LinkKind
PATHS: dict[LinkKind, str] = {"customer": "/c/", "staff": "/s/", "review": "/r/"}
# How long a token record is kept after the appointment ends (it stops working earlier: a staff
# link once the appointment is past or cancelled, a customer link at check-in or cancellation).
# A review link (services.review_requests) passes its sequence's last step time as the "end".
KEEP_AFTER_END: dict[LinkKind, timedelta] = {
    "customer": timedelta(days=30),
    "staff": timedelta(days=1),
    "review": timedelta(days=90),
}


def public_base_url(configured: str) -> str:
    """The base URL of links in messages and the pages' origin: ``configured``, the stack's
    PublicBaseUrl (``BaseConfig.public_base_url``, validated at cold start). Never a shop setting
    staff could change, nor a request's Host."""
    base = configured.rstrip("/")
    if not base:
        raise ShopNotConfigured("The stack has no public base URL (the PublicBaseUrl parameter).")
    return base


def new_link(
    base_url: str, kind: LinkKind, appointment_id: str, appointment_end: datetime
) -> tuple[str, NewLink]:
    """The URL to put in a message and the token to write (in the same transaction)."""
    raw, token_hash = new_link_token()
    link = NewLink(token_hash, kind, appointment_id, appointment_end + KEEP_AFTER_END[kind])
    return f"{base_url}{PATHS[kind]}{raw}", link


# What a link token in a URL may look like (anything else is not looked up)
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


@dataclass(frozen=True)
class LinkedAppointment:
    """The appointment a link acts on, with its catalog and what pages and messages show of it."""

    catalog: Catalog
    appointment: StoredAppointment
    details: AppointmentDetails


def open_link(
    appointments: AppointmentRepository,
    catalog_repo: CatalogRepository,
    token: str,
    kind: LinkKind,
    now: datetime,
    *,
    active: Callable[[Appointment, datetime], bool],
    not_valid: str,
    inactive: str,
) -> LinkedAppointment:
    """The appointment behind a ``kind`` link: LinkNotFound (``not_valid``) for a malformed or
    unknown token, LinkInactive (``inactive``) once ``active`` says the link no longer works."""
    if not TOKEN_PATTERN.match(token):
        raise LinkNotFound(not_valid)
    appointment = appointments.by_token(token, kind)
    if appointment is None:
        raise LinkNotFound(not_valid)
    if not active(appointment, now):
        raise LinkInactive(inactive)
    return with_details(appointments, catalog_repo, appointment)


def with_details(
    appointments: AppointmentRepository, catalog_repo: CatalogRepository, appointment: StoredAppointment
) -> LinkedAppointment:
    """The appointment with its catalog, vehicle and address (one BatchGetItem) for pages and messages."""
    catalog = catalog_repo.catalog()
    vehicle, address = appointments.vehicle_and_address(appointment)
    details = appointment_details(
        catalog,
        appointment,
        vehicle_label=vehicle.label if vehicle else None,
        address=address.address if address else None,
    )
    return LinkedAppointment(catalog, appointment, details)
