"""Verification storage: the live challenge of a destination (a nonce and a counter, never the
code), and the customer a verified destination belongs to. The limits on sends and checks are
sliding windows (``bookbay.repositories.rate_windows``).

Every limit is a conditional write, so concurrent requests can never exceed it: a challenge
replaces the last one only past the resend cooldown, a check is taken by an update conditioned on
the code being live, unused and not out of checks, and a code is used exactly once.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from bookbay.domain.booking import CustomerAddress, CustomerSummary, Vehicle
from bookbay.domain.catalog import Channel
from bookbay.domain.verification import CODE_TTL, MAX_CHECKS_PER_CODE, RESEND_COOLDOWN, Challenge
from bookbay.models import keys
from bookbay.models.customers import AddressItem, CustomerLookupItem, VehicleItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.models.verification import VerificationCodeItem
from bookbay.types import STORED


def _condition_failed(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class VerificationRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    # ------------------------------------------------------------------ codes
    def last_sent(self, digest: str) -> datetime | None:
        """When the destination's current code was sent (None: no code on file)."""
        try:
            item = VerificationCodeItem.get(keys.code_pk(digest), keys.CODE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return item.sent_at

    def start_challenge(self, digest: str, channel: Channel, nonce: bytes, now: datetime) -> Challenge | None:
        """Replace the destination's challenge with one of ``nonce`` (its counter one more than the
        last one's while the item lives); None when one was sent within the resend cooldown."""
        item = VerificationCodeItem(keys.code_pk(digest), keys.CODE_SK)
        try:
            item.update(
                actions=[
                    VerificationCodeItem.entity.set(VerificationCodeItem),
                    VerificationCodeItem.channel.set(channel),
                    VerificationCodeItem.nonce.set(nonce.hex()),
                    VerificationCodeItem.counter.add(1),
                    VerificationCodeItem.sent_at.set(now),
                    VerificationCodeItem.valid_until.set(now + CODE_TTL),
                    VerificationCodeItem.checks.set(0),
                    VerificationCodeItem.used.set(False),
                    VerificationCodeItem.expires_at.set(now + CODE_TTL),
                ],
                condition=VerificationCodeItem.pk.does_not_exist()
                | (VerificationCodeItem.sent_at <= now - RESEND_COOLDOWN),
            )
        except UpdateError as error:
            if _condition_failed(error):
                return None
            raise
        return Challenge(nonce=nonce, counter=int(item.counter or 0))

    def take_check(self, digest: str, now: datetime) -> Challenge | None:
        """Use up one check of the destination's live code and return its challenge; None when
        there is no code, or it is expired, used or out of checks."""
        item = VerificationCodeItem(keys.code_pk(digest), keys.CODE_SK)
        try:
            item.update(
                actions=[VerificationCodeItem.checks.add(1)],
                condition=VerificationCodeItem.pk.exists()
                & (VerificationCodeItem.used == False)  # noqa: E712 - a DynamoDB condition
                & (VerificationCodeItem.checks < MAX_CHECKS_PER_CODE)
                & (VerificationCodeItem.valid_until > now),
            )
        except UpdateError as error:
            if _condition_failed(error):
                return None
            raise
        if not item.nonce:  # written before codes were HOTP challenges
            return None
        return Challenge(nonce=bytes.fromhex(item.nonce), counter=int(item.counter))

    def mark_used(self, digest: str) -> bool:
        """Use the code up; False when a concurrent check used it first."""
        item = VerificationCodeItem(keys.code_pk(digest), keys.CODE_SK)
        try:
            item.update(
                actions=[VerificationCodeItem.used.set(True)],
                condition=VerificationCodeItem.pk.exists() & (VerificationCodeItem.used == False),  # noqa: E712 - a DynamoDB condition
            )
        except UpdateError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    # ------------------------------------------------------------------ recognition
    def customer_of(self, destination: str) -> CustomerSummary | None:
        """The customer a normalized phone (E.164) or e-mail belongs to (one GetItem)."""
        pk, sk = keys.contact_key(destination)
        try:
            item = CustomerLookupItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return None
        return CustomerSummary.model_validate(item.summary, context=STORED)

    def saved_records(self, customer_id: str) -> tuple[list[Vehicle], list[CustomerAddress]]:
        """The customer's vehicles and addresses (one Query of the customer's partition)."""
        vehicles: list[Vehicle] = []
        addresses: list[CustomerAddress] = []
        for item in BaseItem.query(keys.customer_pk(customer_id)):
            if isinstance(item, VehicleItem):
                vehicles.append(Vehicle.model_validate(item.body, context=STORED))
            elif isinstance(item, AddressItem):
                addresses.append(CustomerAddress.model_validate(item.body, context=STORED))
        return vehicles, addresses
