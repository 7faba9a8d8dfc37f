"""Verification use cases: send a one-time code, check it (and recognize a returning customer).

Sending never looks the destination up, so its answer and its work are the same whether or not
a customer has that phone or e-mail. Nothing here logs a code, a phone number or an address.

Wrong codes are counted per destination and client address (10 in any hour lock that address
out of that destination only, so a stranger cannot lock a customer out from elsewhere) and per
destination from everywhere (30 in any hour). A check takes its place in both counts before the
code is compared, so concurrent guesses cannot pass them, and gives it back unless the code was
wrong. A send to a destination locked for the caller, or for everyone, sends and stores nothing
but answers as any accepted send does (the client address's count still counts it). SMS codes
count against the shop's caps (``sms_sends_per_hour`` / ``_per_day``): past either, an SMS send
is a 409 ``sms_unavailable`` (ask by e-mail) and the ``SmsCapReached`` metric fires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from bookbay.domain import verification as v
from bookbay.domain.addresses import masked_street
from bookbay.domain.booking import CustomerSummary
from bookbay.domain.catalog import Catalog, Channel
from bookbay.domain.ids import new_id
from bookbay.domain.messages import OutboundMessage
from bookbay.domain.rate_windows import Limit
from bookbay.exceptions import CodeExpired, InvalidCode, SmsUnavailable, TooManyRequests
from bookbay.observability import logger, metrics
from bookbay.repositories.outbox import OutboxRepository
from bookbay.repositories.rate_windows import Full, RateWindows, Taken
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
    rate_windows: RateWindows


SMS_CAP_METRIC = "SmsCapReached"


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


def _too_many(retry_after: int) -> TooManyRequests:
    return TooManyRequests("Too many codes requested; try again later.", retry_after=retry_after)


def _cooldown(retry_after: int) -> TooManyRequests:
    return TooManyRequests("A code was just sent; wait before asking for another.", retry_after=retry_after)


def _sms_unavailable(catalog: Catalog, limit: Limit) -> SmsUnavailable:
    metrics.add_metric(name=SMS_CAP_METRIC, unit=MetricUnit.Count, value=1)
    logger.info("verification send refused", extra={"limit": limit.kind.lower()})
    if "email" in catalog.shop.settings.verification_channels:
        return SmsUnavailable(
            "Text messages are not available right now; ask for the code by e-mail.",
            details=[{"field": "body.channel", "message": "ask for the code by email"}],
        )
    return SmsUnavailable("Text messages are not available right now; try again later.")


def send_code(
    deps: VerificationDeps,
    *,
    channel: Channel,
    to: str,
    source_ip: str,
    now: datetime,
) -> CodeSent:
    catalog = deps.catalog.catalog()
    settings, shop_id = catalog.shop.settings, catalog.shop.id
    destination = v.normalize_destination(channel, to)
    v.check_channel(settings, channel, destination)
    key = deps.tokens.code_key()
    digest, ip = v.destination_digest(key, destination), v.ip_digest(key, source_ip)
    source = v.source_subject(digest, ip)
    sms = v.sms_subjects(settings, shop_id) if channel == "sms" else []
    windows = deps.rate_windows.read(
        [(v.IP_SENDS, ip), (v.SENDS, digest), (v.SOURCE_FAILURES, source), (v.FAILURES, digest), *sms]
    )
    answer = CodeSent(
        expires_in=int(v.CODE_TTL.total_seconds()), resend_after=int(v.RESEND_COOLDOWN.total_seconds())
    )

    # The client address's count first: it counts every send that passes it, even one sent nowhere.
    counted = deps.rate_windows.take(v.IP_SENDS, ip, now, windows[v.IP_SENDS, ip])
    if isinstance(counted, Full):
        logger.info("verification send refused", extra={"limit": "ip"})
        raise _too_many(counted.retry_after)
    last = deps.verification.last_sent(digest)
    if last is not None and (wait := v.cooldown_left(last, now)):
        logger.info("verification send refused", extra={"limit": "cooldown"})
        raise _cooldown(wait)
    sends = windows[v.SENDS, digest]
    if sends.full(v.SENDS, now):
        logger.info("verification send refused", extra={"limit": "destination"})
        raise _too_many(sends.retry_after(v.SENDS, now))
    if sms and (cap := v.sms_cap_reached(settings, shop_id, windows, now)):
        raise _sms_unavailable(catalog, cap)
    failures = (
        (windows[v.SOURCE_FAILURES, source], v.SOURCE_FAILURES),
        (windows[v.FAILURES, digest], v.FAILURES),
    )
    if any(window.full(limit, now) for window, limit in failures):
        # Locked out by wrong codes: nothing is sent or stored, and the answer is the same.
        logger.info("verification send dropped", extra={"limit": "failures"})
        return answer

    taken: list[Taken] = []
    try:
        for limit, subject in [(v.SENDS, digest), *sms]:
            slot = deps.rate_windows.take(limit, subject, now, windows[limit, subject])
            if isinstance(slot, Full):
                if limit is v.SENDS or slot.contended:  # a busy SMS window is not the cap reached
                    logger.info(
                        "verification send refused",
                        extra={"limit": "destination" if limit is v.SENDS else "busy"},
                    )
                    raise _too_many(slot.retry_after)
                raise _sms_unavailable(catalog, limit)
            taken.append(slot)
        challenge = deps.verification.start_challenge(digest, channel, v.new_nonce(), now)
        if challenge is None:  # another request sent one between our read and our write
            raise _cooldown(int(v.RESEND_COOLDOWN.total_seconds()))
    except (TooManyRequests, SmsUnavailable):
        for slot in taken:
            deps.rate_windows.release(slot)
        raise

    code = v.challenge_code(key, destination, challenge.nonce, challenge.counter)
    shop_name = catalog.shop.name
    text = v.code_message(shop_name, code)
    deps.outbox.enqueue(
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
    return answer


def _locked(retry_after: int) -> TooManyRequests:
    return TooManyRequests("Too many wrong codes; try again later.", retry_after=retry_after)


def check_code(
    deps: VerificationDeps,
    *,
    to: str,
    code: str,
    zip_code: str | None,
    source_ip: str,
    now: datetime,
) -> CheckPassed:
    repo, tokens = deps.verification, deps.tokens
    destination = v.normalize_any(to)
    key = tokens.code_key()
    digest = v.destination_digest(key, destination)
    counts = [
        (v.SOURCE_FAILURES, v.source_subject(digest, v.ip_digest(key, source_ip))),
        (v.FAILURES, digest),
    ]
    windows = deps.rate_windows.read(counts)
    full = [windows[c].retry_after(c[0], now) for c in counts if windows[c].full(c[0], now)]
    if full:
        logger.info("verification check refused", extra={"limit": "failures"})
        raise _locked(max(full))

    # This check's place in both counts of wrong codes, given back unless the code is wrong.
    taken: list[Taken] = []
    for limit, subject in counts:
        slot = deps.rate_windows.take(limit, subject, now, windows[limit, subject])
        if isinstance(slot, Full):
            for held in taken:
                deps.rate_windows.release(held)
            logger.info("verification check refused", extra={"limit": "failures"})
            raise _locked(slot.retry_after)
        taken.append(slot)

    def give_back() -> None:
        for held in taken:
            deps.rate_windows.release(held)

    challenge = repo.take_check(digest, now)
    if challenge is None:
        give_back()
        logger.info("verification check refused", extra={"reason": "no_live_code"})
        raise CodeExpired("The code has expired or was already used; ask for a new one.")
    if not v.code_matches(key, destination, challenge.nonce, challenge.counter, code):
        logger.info("verification check failed")
        raise InvalidCode("The code is not right.")
    give_back()
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
