"""Known-source links (flow 3): a link staff or a campaign sent lets its customer book after ONE
identifying item (phone or e-mail) that is on their profile, without a one-time code and without
picking the vehicle again.

Every refusal (unknown, expired or locked link, an item that is not the link's customer's) is the
same IdentityMismatch with the same message, so an answer never tells which it was. Each check
that does not match counts against the link; at ``MAX_FAILURES`` it locks. A Do Not Service
customer is answered like anyone else here (the booking refuses them). Nothing here logs a
token, a phone number or an e-mail address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbay.domain import verification as v
from bookbay.domain.catalog import Channel
from bookbay.domain.ids import hash_token, new_link_token
from bookbay.domain.source_links import (
    DEFAULT_VALIDITY_DAYS,
    LINK_PATH,
    MAX_FAILURES,
    SourceLink,
    check_campaign,
    check_validity_days,
)
from bookbay.exceptions import IdentityMismatch, NotFound, ValidationFailed
from bookbay.observability import logger
from bookbay.repositories.customers import CustomersRepository
from bookbay.repositories.source_links import SourceLinkRepository
from bookbay.repositories.verification import VerificationRepository
from bookbay.services.links import public_base_url
from bookbay.services.verification import RecognizedCustomer, RecordChoice, recognize
from bookbay.services.verification_tokens import TOKEN_TTL, VerificationTokens

MISMATCH_MESSAGE = "We couldn't confirm that. Check what you entered, or verify with a code instead."


@dataclass(frozen=True)
class SourceLinkCreated:
    url: str
    source_token: str
    expires_at: datetime


@dataclass(frozen=True)
class KnownSourcePassed:
    verification_token: str
    expires_in: int
    customer: RecognizedCustomer
    vehicle: RecordChoice | None  # the link's vehicle, when it has one still on the profile


def create_source_link(
    customers: CustomersRepository,
    links: SourceLinkRepository,
    *,
    configured_base_url: str,
    customer_id: str,
    vehicle_id: str | None = None,
    campaign: str | None = None,
    days: int = DEFAULT_VALIDITY_DAYS,
    now: datetime,
) -> SourceLinkCreated:
    """A known-source link for an existing customer (and one of their vehicles): the URL
    ``<public base URL>/book?src=<token>`` and the token. Only the token's hash is stored.

    NotFound for an unknown customer; ValidationFailed for a vehicle that is not theirs, a campaign
    that is not a short slug, or a validity outside 1..MAX_VALIDITY_DAYS days.
    """
    check_campaign(campaign)
    check_validity_days(days)
    base_url = public_base_url(configured_base_url)
    if customers.profile(customer_id) is None:
        raise NotFound("No customer with this id.")
    if vehicle_id is not None and customers.vehicle(customer_id, vehicle_id) is None:
        raise ValidationFailed(
            "The customer has no such vehicle.",
            details=[{"field": "body.vehicle_id", "message": "not a vehicle of this customer"}],
        )
    raw, token_hash = new_link_token()
    expires_at = now + timedelta(days=days)
    links.create(
        SourceLink(
            token_hash=token_hash,
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            campaign=campaign,
            created_at=now,
            expires_at=expires_at,
        )
    )
    logger.info(
        "source link created",
        extra={"customer_id": customer_id, "with_vehicle": vehicle_id is not None, "campaign": campaign},
    )
    return SourceLinkCreated(url=f"{base_url}{LINK_PATH}{raw}", source_token=raw, expires_at=expires_at)


def _identifying_item(phone: str | None, email: str | None) -> tuple[str, Channel]:
    """The one item given, normalized (E.164 / the normalized e-mail), and its channel."""
    if (phone is None) == (email is None):
        raise ValidationFailed(
            "Give exactly one of phone or email.",
            details=[{"field": "body", "message": "give exactly one of phone or email"}],
        )
    channel: Channel = "sms" if phone is not None else "email"
    field = "phone" if phone is not None else "email"
    try:
        destination = v.normalize_destination(channel, phone if phone is not None else str(email))
    except ValidationFailed as exc:
        what = "phone number" if channel == "sms" else "e-mail address"
        raise ValidationFailed(
            f"Not a valid {what}.", details=[{"field": f"body.{field}", "message": f"not a valid {what}"}]
        ) from exc
    return destination, channel


def check_known_source(
    links: SourceLinkRepository,
    repo: VerificationRepository,
    tokens: VerificationTokens,
    *,
    source_token: str,
    phone: str | None = None,
    email: str | None = None,
    zip_code: str | None = None,
    now: datetime,
) -> KnownSourcePassed:
    """Check ONE identifying item against a known-source link's customer.

    A match gives a verification token (``via`` = known_source, with the customer and the link's
    vehicle), the customer's first name, vehicles and masked addresses (in ``zip_code`` when
    given) and the preselected vehicle. Anything else raises IdentityMismatch (403), the same for
    every reason. ValidationFailed (422) when not exactly one well-formed item is given.
    """
    destination, channel = _identifying_item(phone, email)
    token_hash = hash_token(source_token)
    link = links.take_attempt(token_hash, now, MAX_FAILURES)
    if link is None:
        logger.info("known source refused", extra={"reason": "unknown_expired_or_locked"})
        raise IdentityMismatch(MISMATCH_MESSAGE)

    summary = repo.customer_of(destination)
    if summary is None or summary.customer_id != link.customer_id:
        logger.info(
            "known source check failed",
            extra={"channel": channel, "failures": link.failures, "locked": link.locked},
        )
        raise IdentityMismatch(MISMATCH_MESSAGE)
    links.give_back_attempt(token_hash)

    recognized = recognize(repo, summary, zip_code)
    vehicle = next((choice for choice in recognized.vehicles if choice.id == link.vehicle_id), None)
    logger.info(
        "known source check passed",
        extra={"channel": channel, "campaign": link.campaign, "with_vehicle": vehicle is not None},
    )
    return KnownSourcePassed(
        verification_token=tokens.issue(
            destination,
            channel,
            summary.customer_id,
            now,
            vehicle_id=None if vehicle is None else vehicle.id,
            via="known_source",
        ),
        expires_in=int(TOKEN_TTL.total_seconds()),
        customer=recognized,
        vehicle=vehicle,
    )
