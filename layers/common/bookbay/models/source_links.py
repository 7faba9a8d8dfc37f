"""Known-source links: a campaign or vehicle-profile link that lets its customer book with one
identifying item (phone or e-mail) instead of a one-time code."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from bookbay.models.table import BaseItem


class SourceLinkItem(BaseItem, discriminator="SourceLink"):
    """PK=SOURCE#<sha256 of the source token>, SK=SOURCE: the raw token is never stored.

    ``failures`` counts identity checks that did not match (the link locks at a limit);
    ``expires_at`` is both when the link stops working and the TTL that removes it.
    """

    customer_id = UnicodeAttribute()
    vehicle_id = UnicodeAttribute(null=True)
    campaign = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    failures = NumberAttribute(default=0)
