"""Outbox items: written in the same transaction as what they announce; the stream delivers them."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from bookbay.models.table import BaseItem


class OutboxItem(BaseItem, discriminator="Outbox"):
    message_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    to = UnicodeAttribute(attr_name="to_address")
    subject = UnicodeAttribute(null=True)
    text = UnicodeAttribute()
    html = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    lease_until = UTCDateTimeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
