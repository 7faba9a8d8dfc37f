"""Verification challenges (a nonce and a counter, never a code) and sliding-window rate limits."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from bookbay.models.table import BaseItem


class VerificationCodeItem(BaseItem, discriminator="VerificationCode"):
    """PK=CODE#<HMAC of the destination>, SK=CODE: the live challenge of one destination (TTL'd).

    ``nonce`` (hex) and ``counter`` make the code with the secret (``domain.verification``); the
    code itself, or anything computed from it, is never stored. An item written before codes were
    HOTP challenges has no nonce and checks as no live code.
    """

    channel = UnicodeAttribute()
    nonce = UnicodeAttribute(null=True)
    counter = NumberAttribute(null=True)
    sent_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()
    checks = NumberAttribute(default=0)
    used = BooleanAttribute(default=False)


class RateWindowItem(BaseItem, discriminator="RateWindow"):
    """PK=RATE#<kind>#<subject>, SK=WINDOW: the slots of one sliding-window limit, each the time
    (epoch microseconds) of the event that holds it, 0 when given back (``domain.rate_windows``);
    TTL'd a little after the newest event leaves the window."""

    slots: ListAttribute[NumberAttribute] = ListAttribute(of=NumberAttribute, default=list)
