"""Flagged customers: the flag (its body is a ``domain.flags.Flag``) and one lookup item per
normalized value of an active flag field, which the booking reads by key."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeSetAttribute, VersionAttribute

from bookbay.models.table import BaseItem


class FlagItem(BaseItem, discriminator="Flag"):
    """PK=FLAG#<id>, SK=FLAG; GSI3PK=FLAGS, GSI3SK=<UTC created>#<id> (the list, newest first)."""

    body = JSONAttribute()
    version = VersionAttribute()


class FlagValueItem(BaseItem, discriminator="FlagValue"):
    """PK=FLAGVALUE#<field>#<normalized value>, SK=FLAGVALUE.

    ``entries``: one member per active flag holding the value, each the flag's id and reason
    (``repositories.flags.encode_entry``), added and removed with ADD / DELETE, so flags sharing
    a value never overwrite each other and no write reads the item first. DynamoDB drops the
    attribute when its last member goes: an item without ``entries`` matches nothing.
    """

    entries = UnicodeSetAttribute(null=True)
