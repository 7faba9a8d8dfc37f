"""Verification codes (stored only as an HMAC) and fixed-window rate-limit counters."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from bookbay.models.table import BaseItem


class VerificationCodeItem(BaseItem, discriminator="VerificationCode"):
    """PK=CODE#<HMAC of the destination>, SK=CODE: the live code of one destination (TTL'd).

    ``code_hash`` is the HMAC of destination and code; the code itself is never stored.
    """

    channel = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()
    checks = NumberAttribute(default=0)
    used = BooleanAttribute(default=False)


class RateCounterItem(BaseItem, discriminator="RateCounter"):
    """PK=RATE#<kind>#<subject>#<window>, SK=RATE: how often something happened in a window (TTL'd)."""

    hits = NumberAttribute(default=0)
