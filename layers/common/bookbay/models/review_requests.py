"""Review requests: the request, its per-step receipts, and each customer's review state."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from bookbay.models.table import BaseItem


class ReviewRequestItem(BaseItem, discriminator="ReviewRequest"):
    """PK=REVIEW#<id>, SK=REVIEW; GSI3PK=REVIEWS#<status>, GSI3SK=<UTC created>#<id> (the queue).
    ``body`` is the domain ReviewRequest; ``status`` repeats its status for conditions."""

    body = JSONAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()


class ReviewStepSentItem(BaseItem, discriminator="ReviewStepSent"):
    """PK=REVIEW#<id>, SK=STEP#<n>: step n's e-mail was enqueued. Put only if absent, in the
    transaction that enqueues it, so a repeated schedule sends nothing. expires_at is the TTL."""

    message_id = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()


class ReviewCustomerItem(BaseItem, discriminator="ReviewCustomer"):
    """PK=CUSTOMER#<id>, SK=REVIEWS: the customer's active sequence (at most one at a time) and
    whether they opted out (then they are never asked again). Written only in the transactions
    that start or end a sequence, whose conditions keep both rules under concurrency."""

    active_request_id = UnicodeAttribute(null=True)
    opted_out = BooleanAttribute(null=True)
    opted_out_at = UTCDateTimeAttribute(null=True)
