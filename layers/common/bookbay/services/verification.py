"""Verification use cases: send a one-time code, check it (and recognize a returning customer).

Sending never looks the destination up, so its answer and its work are the same whether or not
a customer has that phone or e-mail. Nothing here logs a code, a phone number or an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bookbay.domain import verification as v
from bookbay.domain.addresses import masked_street
from bookbay.domain.booking import CustomerSummary
from bookbay.domain.catalog import Catalog, Channel
from bookbay.domain.ids import new_id
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import CodeExpired, InvalidCode, TooManyRequests
from bookbay.observability import logger
from bookbay.repositories.outbox import OutboxRepository
from bookbay.repositories.verification import VerificationRepository
from bookbay.services.verification_tokens import TOKEN_TTL, VerificationTokens

if TYPE_CHECKING:
    from bookbay.repositories.catalog import CatalogRepository
    from bookbay.repositories.source_links import SourceLinkRepository


@dataclass(frozen=True)
class VerificationDeps:
    """The public verification API: one-time codes (sent through the outbox), known-source links,
    and the verification tokens both give."""

    catalog: CatalogRepository
    verification: VerificationRepository
    outbox: OutboxRepository
    source_links: SourceLinkRepository
    tokens: VerificationTokens


@dataclass(frozen=True)
class CodeSent:
    expires_in: int
    resend_after: int


@dataclass(frozen=True)
class RecordChoice:
    id: str
    label: str


@dataclass(frozen=True)
class RecognizedCustomer:
    first_name: str
    vehicles: list[RecordChoice]
    addresses: list[RecordChoice]  # label = the masked street


@dataclass(frozen=True)
class CheckPassed:
    verification_token: str
    expires_in: int
    customer: RecognizedCustomer | None


def recognize(
    repo: VerificationRepository, summary: CustomerSummary, zip_code: str | None
) -> RecognizedCustomer:
    """What a verified customer is shown: first name, vehicles, addresses masked (in ``zip_code``)."""
    vehicles, addresses = repo.saved_records(summary.customer_id)
    return RecognizedCustomer(
        first_name=summary.first_name,
        vehicles=[RecordChoice(vehicle.id, vehicle.label) for vehicle in vehicles],
        addresses=[
            RecordChoice(saved.id, masked_street(saved.address))
            for saved in addresses
            if zip_code is None or saved.address.zip == zip_code
        ],
    )


def send_code(
    catalog: Catalog,
    repo: VerificationRepository,
    outbox: OutboxRepository,
    tokens: VerificationTokens,
    *,
    channel: Channel,
    to: str,
    source_ip: str,
    now: datetime,
) -> CodeSent:
    destination = v.normalize_destination(channel, to)
    v.check_channel(catalog.shop.settings, channel, destination)
    key = tokens.code_key()
    digest = v.destination_digest(key, destination)

    window = v.window_of(now, v.SEND_WINDOW)  # per IP and per destination alike
    if not repo.count("IP", v.ip_digest(key, source_ip), window, v.MAX_SENDS_PER_IP):
        logger.info("verification send refused", extra={"limit": "ip"})
        raise TooManyRequests(
            "Too many codes requested; try again later.", retry_after=window.seconds_left(now)
        )
    last = repo.last_sent(digest)
    if last is not None and (wait := v.cooldown_left(last, now)):
        logger.info("verification send refused", extra={"limit": "cooldown"})
        raise TooManyRequests("A code was just sent; wait before asking for another.", retry_after=wait)
    if not repo.count("SEND", digest, window, v.MAX_SENDS_PER_DESTINATION):
        logger.info("verification send refused", extra={"limit": "destination"})
        raise TooManyRequests(
            "Too many codes requested; try again later.", retry_after=window.seconds_left(now)
        )

    code = v.new_code()
    if not repo.save_code(digest, channel, v.code_digest(key, destination, code), now):
        # Another request sent one between our read and our write.
        raise TooManyRequests(
            "A code was just sent; wait before asking for another.",
            retry_after=int(v.RESEND_COOLDOWN.total_seconds()),
        )
    shop_name = catalog.shop.name
    text = v.code_message(shop_name, code)
    outbox.enqueue(
        OutboundMessage(
            id=new_id(),
            channel=channel,
            to=destination,
            subject=f"Your {shop_name} verification code" if channel == "email" else None,
            text=text,
            reference="verification",
            created_at=now,
        )
    )
    logger.info("verification code sent", extra={"channel": channel})
    return CodeSent(
        expires_in=int(v.CODE_TTL.total_seconds()), resend_after=int(v.RESEND_COOLDOWN.total_seconds())
    )


def check_code(
    repo: VerificationRepository,
    tokens: VerificationTokens,
    *,
    to: str,
    code: str,
    zip_code: str | None,
    now: datetime,
) -> CheckPassed:
    destination = v.normalize_any(to)
    key = tokens.code_key()
    digest = v.destination_digest(key, destination)

    failures = v.window_of(now, v.FAILURE_WINDOW)
    if repo.counted("FAIL", digest, failures) >= v.MAX_FAILURES_PER_DESTINATION:
        logger.info("verification check refused", extra={"limit": "failures"})
        raise TooManyRequests(
            "Too many wrong codes; try again later.", retry_after=failures.seconds_left(now)
        )
    stored = repo.take_check(digest, now)
    if stored is None:
        logger.info("verification check refused", extra={"reason": "no_live_code"})
        raise CodeExpired("The code has expired or was already used; ask for a new one.")
    if not v.code_matches(key, destination, code, stored):
        repo.count("FAIL", digest, failures, v.MAX_FAILURES_PER_DESTINATION)
        logger.info("verification check failed")
        raise InvalidCode("The code is not right.")
    if not repo.mark_used(digest):
        raise CodeExpired("The code has expired or was already used; ask for a new one.")

    summary = repo.customer_of(destination)
    recognized = None if summary is None else recognize(repo, summary, zip_code)
    channel = v.channel_of(destination)
    logger.info("verification check passed", extra={"channel": channel, "returning": summary is not None})
    return CheckPassed(
        verification_token=tokens.issue(destination, channel, summary.customer_id if summary else None, now),
        expires_in=int(TOKEN_TTL.total_seconds()),
        customer=recognized,
    )
