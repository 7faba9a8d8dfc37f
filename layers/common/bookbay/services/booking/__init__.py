"""Booking use case (POST /v1/appointments): validate, recognize the customer, write it all at once.

Reads: the catalog (cached in a warm container) and the customer's phone / e-mail lookup items
(one BatchGetItem); writes: one transaction (repositories/booking.py). A taken or unbookable slot
answers the next free alternatives, from one more query (only on that path).

What the customer typed never overwrites the record on file: differing names and e-mails become
proposed changes for staff, a new phone or e-mail is added as a lookup, a new vehicle or address
is added to the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from bookbay.domain import flags
from bookbay.domain.addresses import checked_address
from bookbay.domain.booking import DO_NOT_SERVICE_WARNING, Appointment
from bookbay.domain.booking_request import BookingRequest
from bookbay.domain.ids import new_id
from bookbay.exceptions import CustomerChanged, FlagCheckIncomplete, SlotUnavailable, VerificationRequired
from bookbay.observability import logger
from bookbay.repositories.booking import CustomerLookup
from bookbay.services.booking.offer import make_offer, unavailable
from bookbay.services.booking.plan import make_plan, named_parts
from bookbay.services.booking.ports import (
    BookingStore,
    CatalogSource,
    MessageBuilder,
    StaffBooking,
    TokenVerifier,
    UsageSource,
)
from bookbay.services.booking.recognition import recognize
from bookbay.services.links import public_base_url
from bookbay.services.notifications import booking_messages
from bookbay.services.verification_tokens import VerificationTokens, VerifiedIdentity

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

__all__ = [
    "DO_NOT_SERVICE_WARNING",
    "BookingDeps",
    "BookingResult",
    "StaffBooking",
    "book",
    "checked_address",
]


@dataclass(frozen=True)
class BookingDeps:
    """The public booking API: what a booking reads and writes, the verification tokens' checker,
    and where each booking attempt's answer is kept for its replays (Powertools idempotency)."""

    catalog: CatalogSource
    booking: BookingStore
    availability: UsageSource
    tokens: VerificationTokens
    public_base_url: str  # PublicBaseUrl (BaseConfig.public_base_url)
    idempotency_store: BasePersistenceLayer


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    manage_url: str
    # Said to staff (a manual booking), never to a customer: e.g. a Do Not Service customer.
    warnings: tuple[str, ...] = ()


# ------------------------------------------------------------------------------ the use case
def book(
    request: BookingRequest,
    *,
    now: datetime,
    catalog_repo: CatalogSource,
    booking_repo: BookingStore,
    availability_repo: UsageSource,
    configured_base_url: str = "",
    verification_token: str | None = None,
    tokens: TokenVerifier | None = None,
    messages: MessageBuilder = booking_messages,
    new_appointment_id: Callable[[], str] = new_id,
    staff: StaffBooking | None = None,
) -> BookingResult:
    """Book ``request`` at ``now``; raises a DomainError (4xx) when it cannot, having written nothing.

    ``verification_token`` (checked with ``tokens``) says who the booker proved to be: the customer
    it names (or the owner of its verified phone / e-mail, or a new customer with that contact).
    A shop with ``require_verification`` takes no booking without one (a known-source link's
    token counts). ``staff``: entered by staff (see StaffBooking).
    """
    catalog = catalog_repo.catalog()
    settings = catalog.shop.settings
    identity: VerifiedIdentity | None = None
    if verification_token:
        if tokens is None:  # pragma: no cover - a wiring mistake, not input
            raise RuntimeError("a verification token came without a verifier")
        identity = tokens.verify(verification_token, now)
    elif settings.require_verification and staff is None:
        raise VerificationRequired(
            "This shop asks you to verify your phone number or e-mail with a code before booking."
        )
    base_url = public_base_url(configured_base_url)
    offer = make_offer(request, catalog, now=now, availability_repo=availability_repo)
    appointment_id = new_appointment_id()
    # A first booking that races another one with the same phone or e-mail loses the conditional
    # write of the lookup item; run once more, and it finds the customer the other one created.
    parts = named_parts(request, identity)
    # The flags of what was typed (and of the verified contact) come in the same read.
    flag_keys = flags.person_keys(request.customer, offer.address.canonical if offer.address else None)
    if identity is not None:
        flag_keys.append(flags.destination_key(identity.destination))
    typed = request.customer
    named = identity.customer_id if identity else None
    lookup: CustomerLookup | None = None
    for attempt in (1, 2):
        if lookup is None:
            lookup = booking_repo.lookup(
                typed.phone if typed else None,
                typed.email if typed else None,
                verified=identity.destination if identity and not named else None,
                customer_id=named,
                address_canonical=offer.address.canonical if offer.address else None,
                # A verified customer's saved vehicle and address come in the same read
                parts=parts if named else (None, None),
                flags=flag_keys,
            )
        plan, manage_url = make_plan(
            request,
            offer,
            recognize(
                request,
                identity,
                lookup,
                offer,
                booking_repo,
                appointment_id=appointment_id,
                now=now,
                staff=staff is not None,
            ),
            lookup,
            parts,
            appointment_id=appointment_id,
            booking_repo=booking_repo,
            base_url=base_url,
            messages=messages,
            now=now,
            staff=staff,
        )
        try:
            booking_repo.create(plan)
        except CustomerChanged:
            if attempt == 2:
                raise
            logger.info(
                "customer created concurrently; booking again", extra={"appointment_id": appointment_id}
            )
            lookup = None  # read again: it finds the customer the other booking created
            continue
        except FlagCheckIncomplete as flagged:
            if attempt == 2:
                raise
            # A detail from the record on file (not typed, so not read) is flagged: its check
            # handed the flags back, so plan again with them (no other read); else read them too.
            if flagged.hits is not None:
                lookup = replace(lookup, flags=lookup.flags.merged(flagged.hits))
            else:
                flag_keys += plan.flag_checks
                lookup = None
            continue
        except SlotUnavailable as taken:
            raise unavailable(
                taken.message,
                offer.location,
                offer.service,
                request,
                now=now,
                after=offer.start,
                settings=settings,
                availability_repo=availability_repo,
            ) from taken
        logger.info(
            "appointment booked",
            extra={
                "appointment_id": appointment_id,
                "status": plan.appointment.status,
                "location_id": offer.location.id,
                "returning_customer": plan.new_profile is None,
                "verified_via": plan.appointment.verified_via,
                "takeover": plan.appointment.takeover is not None,
                "proposed_changes": len(plan.proposed_changes),
                "flag_matches": len(plan.appointment.flag_matches),
                "by_staff": staff is not None,
            },
        )
        warnings = (DO_NOT_SERVICE_WARNING,) if plan.customer.do_not_service else ()
        return BookingResult(appointment=plan.appointment, manage_url=manage_url, warnings=warnings)
    raise AssertionError("unreachable")  # pragma: no cover
