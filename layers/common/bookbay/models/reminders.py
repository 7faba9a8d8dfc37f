"""Reminder receipts: one per appointment version whose reminder went out (idempotency)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from bookbay.models.table import BaseItem


class ReminderSentItem(BaseItem, discriminator="ReminderSent"):
    """PK=APPOINTMENT#<id>, SK=REMINDER#<sequence>; put only if absent, in the transaction that
    enqueues the reminder, so a repeated invocation sends nothing. expires_at is the TTL."""

    message_id = UnicodeAttribute(null=True)  # None: nothing to send (the customer prefers a call)
    channel = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
