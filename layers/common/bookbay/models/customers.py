"""Customers: the profile, its lookup items (phone, e-mail, address), vehicles, addresses, and
proposed changes. Bodies are JSON documents of the domain models."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, VersionAttribute

from bookbay.models.table import BaseItem


class CustomerItem(BaseItem, discriminator="Customer"):
    """PK=CUSTOMER#<id>, SK=PROFILE."""

    body = JSONAttribute()
    version = VersionAttribute()


class CustomerLookupItem(BaseItem, discriminator="CustomerLookup"):
    """PK=PHONE#<e164> | EMAIL#<email>: the owning customer and a CustomerSummary (one read)."""

    customer_id = UnicodeAttribute()
    summary = JSONAttribute()


class AddressKeyItem(BaseItem, discriminator="AddressKey"):
    """PK=ADDRESSKEY#<canonical>: which customer (and address record) a location belongs to."""

    customer_id = UnicodeAttribute()
    address_id = UnicodeAttribute()


class VehicleItem(BaseItem, discriminator="Vehicle"):
    """PK=CUSTOMER#<id>, SK=VEHICLE#<id>."""

    body = JSONAttribute()


class AddressItem(BaseItem, discriminator="Address"):
    """PK=CUSTOMER#<id>, SK=ADDRESS#<id>."""

    body = JSONAttribute()


class ProposedChangeItem(BaseItem, discriminator="ProposedChange"):
    """PK=CUSTOMER#<id>, SK=PROPOSED#<created>#<id>; GSI3PK=PROPOSED#<status> for the staff queue."""

    body = JSONAttribute()
    status = UnicodeAttribute(default="pending")
