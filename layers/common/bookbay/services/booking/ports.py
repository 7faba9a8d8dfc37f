"""What the booking use case needs from outside (repositories, the token verifier, the messages),
as protocols: ``services.booking`` is given them by the handler's wiring."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bookbay.domain.audit import Actor
from bookbay.domain.availability import SlotUsage
from bookbay.domain.booking import (
    Appointment,
    CustomerAddress,
    CustomerSummary,
    PreferredChannel,
    Vehicle,
)
from bookbay.domain.catalog import Address, Catalog
from bookbay.domain.flags import FlagKey
from bookbay.domain.messages import OutboundMessage
from bookbay.repositories.booking import BookingPlan, CustomerLookup
from bookbay.services.verification_tokens import VerifiedIdentity

ALTERNATIVES = 3


class CatalogSource(Protocol):
    def catalog(self) -> Catalog: ...


class BookingStore(Protocol):
    def lookup(
        self,
        phone: str | None,
        email: str | None,
        *,
        verified: str | None = None,
        customer_id: str | None = None,
        address_canonical: str | None = None,
        parts: tuple[str | None, str | None] = (None, None),
        flags: Collection[FlagKey] = (),
    ) -> CustomerLookup: ...

    def customer_summary(self, customer_id: str) -> CustomerSummary | None: ...

    def customer_parts(
        self, customer_id: str, vehicle_id: str | None, address_id: str | None
    ) -> tuple[Vehicle | None, CustomerAddress | None]: ...

    def create(self, plan: BookingPlan) -> None: ...


class TokenVerifier(Protocol):
    """services.verification_tokens.VerificationTokens: who a verification token proves the bearer is."""

    def verify(self, token: str, now: datetime | None = None) -> VerifiedIdentity: ...


class UsageSource(Protocol):
    def usage(
        self, location_id: str, start_utc: datetime, end_utc: datetime
    ) -> Mapping[datetime, SlotUsage]: ...


class MessageBuilder(Protocol):
    """services.notifications.booking_messages: the customer's and the store's e-mails."""

    def __call__(
        self,
        catalog: Catalog,
        appointment: Appointment,
        *,
        vehicle_label: str | None,
        manage_url: str,
        staff_url: str,
        now: datetime,
        address: Address | None = None,
        preferred: PreferredChannel = "email",
    ) -> list[OutboundMessage]: ...


@dataclass(frozen=True)
class StaffBooking:
    """A booking staff enter by hand (a phone call): no verification code, confirmed at once,
    a Do Not Service customer is booked with a warning to staff instead of refused, and an audit
    entry names who entered it. Capacity, dedupe, flags and takeover hold as online."""

    actor: Actor
