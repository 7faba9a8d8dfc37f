"""The e-confirmation and the reminder: messages to the vehicle owner by their preferred channel.

The customer profile's ``preferred_channel`` decides (SPEC flow 5, seed 002):

- ``phone``: no message (staff call the customer);
- ``sms``: a short text with the shop's name, the time and the manage link, to the phone the
  appointment was booked with -- where the shop texts that country (``sms_countries``); to any
  other number the e-mail goes instead;
- ``email``: HTML + text e-mail (jinja2 templates in ``bookbay/templates/email``).

A customer without a profile on file (or an appointment written before profiles) gets e-mail,
the profile's default. The destination is the appointment's contact, like every other message
about the appointment.

Each message carries a FRESH manage link (``/c/<token>``): only hashes of earlier tokens are
stored, so an earlier link cannot be repeated. The new token item is written in the transaction
that enqueues the message (``CustomerMessageRepository``); earlier links keep working too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bookbay.domain.audit import AuditEntry
from bookbay.domain.booking import Appointment, CustomerProfile, PreferredChannel
from bookbay.domain.catalog import Address, Catalog, Channel
from bookbay.domain.effects import NewLink
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import InvalidTransition, NotFound, StaleWrite
from bookbay.observability import logger
from bookbay.repositories.appointments import AppointmentRepository, StoredAppointment
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.customer_messages import CustomerMessageRepository
from bookbay.services import links
from bookbay.services.notifications import MessageKind, customer_message, delivery_channel


class ProfileSource(Protocol):
    def profile(self, customer_id: str) -> CustomerProfile | None: ...


@dataclass(frozen=True)
class MessageDeps:
    catalog: CatalogRepository
    appointments: AppointmentRepository
    customers: ProfileSource
    messages: CustomerMessageRepository
    public_base_url: str = ""  # PublicBaseUrl (BaseConfig.public_base_url)


@dataclass(frozen=True)
class Sent:
    """What a send did: the customer's preferred channel, the channel used (None: nothing sent,
    the customer prefers a call) and the outbox message id."""

    preferred: PreferredChannel
    channel: Channel | None
    message_id: str | None


# ------------------------------------------------------------------------------ choosing the channel
def preferred_channel(customers: ProfileSource | None, appointment: Appointment) -> PreferredChannel:
    """The customer's preferred channel; ``email`` when there is no profile on file."""
    profile = customers.profile(appointment.customer_id) if customers is not None else None
    return profile.preferred_channel if profile is not None else "email"


@dataclass(frozen=True)
class Prepared:
    """A message ready to enqueue with its manage link (both None: nothing to send)."""

    sent: Sent
    message: OutboundMessage | None
    link: NewLink | None


def prepare(
    kind: MessageKind,
    catalog: Catalog,
    appointment: Appointment,
    *,
    preferred: PreferredChannel,
    vehicle_label: str | None,
    address: Address | None,
    base_url: str,
    now: datetime,
    channel: Channel | None = None,
) -> Prepared:
    """The message of ``kind`` by the preferred channel (or ``channel``, when staff choose one)
    with a fresh manage link; nothing for a customer who prefers a call."""
    chosen = channel or delivery_channel(preferred, appointment, catalog.shop.settings)
    if chosen is None:
        return Prepared(Sent(preferred, None, None), None, None)
    manage_url, link = links.new_link(base_url, "customer", appointment.id, appointment.end)
    message = customer_message(
        kind,
        chosen,
        catalog,
        appointment,
        vehicle_label=vehicle_label,
        address=address,
        manage_url=manage_url,
        now=now,
    )
    return Prepared(Sent(preferred, chosen, message.id), message, link)


# ------------------------------------------------------------------------------ sending by hand
def send_confirmation(
    deps: MessageDeps,
    appointment_id: str,
    now: datetime,
    *,
    channel: Channel | None = None,
    audit: AuditEntry | None = None,
) -> Sent:
    """Send the e-confirmation of a confirmed, upcoming appointment again (staff, by hand).

    ``channel``: staff's choice for this send; default the customer's preferred channel (phone:
    nothing is sent). NotFound: no such appointment; InvalidTransition (409): not confirmed or
    already started; StaleWrite (409): it changed while the message was prepared.
    """
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        raise NotFound("No appointment with this id.")
    if appointment.status != "confirmed" or appointment.start <= now:
        raise InvalidTransition(
            "Only a confirmed appointment that has not started yet can be sent its e-confirmation."
        )
    prepared = prepare_message(deps, "confirmation", appointment, now, channel=channel)
    if prepared.message is None:
        logger.info("e-confirmation: customer prefers a call", extra={"appointment_id": appointment.id})
        return prepared.sent
    outcome = deps.messages.write(
        appointment,
        statuses=("confirmed",),
        message=prepared.message,
        link=prepared.link,
        now=now,
        audit=audit,
    )
    if outcome != "written":
        raise StaleWrite("The appointment changed meanwhile; load it again.")
    logger.info(
        "e-confirmation sent",
        extra={
            "appointment_id": appointment.id,
            "channel": prepared.sent.channel,
            "message_id": prepared.sent.message_id,
        },
    )
    return prepared.sent


def prepare_message(
    deps: MessageDeps,
    kind: MessageKind,
    appointment: StoredAppointment,
    now: datetime,
    *,
    catalog: Catalog | None = None,
    channel: Channel | None = None,
) -> Prepared:
    """``prepare`` with what it needs read: the catalog (unless given), the customer's preferred
    channel, and (when a message goes out) the appointment's vehicle and address."""
    catalog = catalog or deps.catalog.catalog()
    preferred = preferred_channel(deps.customers, appointment)
    vehicle_label: str | None = None
    address: Address | None = None
    if channel is not None or preferred != "phone":
        vehicle, saved = deps.appointments.vehicle_and_address(appointment)
        vehicle_label = vehicle.label if vehicle else None
        address = saved.address if saved else None
    return prepare(
        kind,
        catalog,
        appointment,
        preferred=preferred,
        vehicle_label=vehicle_label,
        address=address,
        base_url=links.public_base_url(deps.public_base_url),
        now=now,
        channel=channel,
    )
