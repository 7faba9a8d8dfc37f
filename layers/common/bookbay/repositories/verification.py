"""Verification storage: the live code of a destination (an HMAC only), rate-limit counters, and the
customer a verified destination belongs to.

Every limit is a conditional write, so concurrent requests can never exceed it: counters are
``ADD`` updates conditioned on the count, a check is taken by an update conditioned on the code
being live, unused and not out of checks, and a code is used exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from bookbay.domain.booking import CustomerAddress, CustomerSummary, Vehicle
from bookbay.domain.catalog import Channel
from bookbay.domain.verification import CODE_TTL, MAX_CHECKS_PER_CODE, RESEND_COOLDOWN, RateKind, Window
from bookbay.models import keys
from bookbay.models.customers import AddressItem, CustomerLookupItem, VehicleItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.models.verification import RateCounterItem, VerificationCodeItem

# Counters outlive their window a little, so a late read still sees them; TTL then removes them.
COUNTER_SLACK = timedelta(minutes=5)


def _condition_failed(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class VerificationRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    # ------------------------------------------------------------------ counters
    def count(self, kind: RateKind, subject: str, window: Window, limit: int) -> bool:
        """Count one more event in ``window``; False (nothing counted) when ``limit`` is reached."""
        item = RateCounterItem(keys.rate_pk(kind, subject, window.key), keys.RATE_SK)
        try:
            item.update(
                actions=[
                    RateCounterItem.hits.add(1),
                    RateCounterItem.entity.set(RateCounterItem),
                    RateCounterItem.expires_at.set(window.end + COUNTER_SLACK),
                ],
                condition=RateCounterItem.hits.does_not_exist() | (RateCounterItem.hits < limit),
            )
        except UpdateError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def counted(self, kind: RateKind, subject: str, window: Window) -> int:
        try:
            item = RateCounterItem.get(
                keys.rate_pk(kind, subject, window.key), keys.RATE_SK, consistent_read=True
            )
        except DoesNotExist:
            return 0
        return int(item.hits or 0)

    # ------------------------------------------------------------------ codes
    def last_sent(self, digest: str) -> datetime | None:
        """When the destination's current code was sent (None: no code on file)."""
        try:
            item = VerificationCodeItem.get(keys.code_pk(digest), keys.CODE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return item.sent_at

    def save_code(self, digest: str, channel: Channel, code_hash: str, now: datetime) -> bool:
        """Replace the destination's code; False when one was sent within the resend cooldown."""
        item = VerificationCodeItem(
            keys.code_pk(digest),
            keys.CODE_SK,
            channel=channel,
            code_hash=code_hash,
            sent_at=now,
            valid_until=now + CODE_TTL,
            checks=0,
            used=False,
            expires_at=now + CODE_TTL,
        )
        try:
            item.save(
                condition=VerificationCodeItem.pk.does_not_exist()
                | (VerificationCodeItem.sent_at <= now - RESEND_COOLDOWN)
            )
        except PutError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def take_check(self, digest: str, now: datetime) -> str | None:
        """Use up one check of the destination's live code and return its stored hash; None when
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
        return item.code_hash

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
        return CustomerSummary.model_validate(item.summary)

    def saved_records(self, customer_id: str) -> tuple[list[Vehicle], list[CustomerAddress]]:
        """The customer's vehicles and addresses (one Query of the customer's partition)."""
        vehicles: list[Vehicle] = []
        addresses: list[CustomerAddress] = []
        for item in BaseItem.query(keys.customer_pk(customer_id)):
            if isinstance(item, VehicleItem):
                vehicles.append(Vehicle.model_validate(item.body))
            elif isinstance(item, AddressItem):
                addresses.append(CustomerAddress.model_validate(item.body))
        return vehicles, addresses
