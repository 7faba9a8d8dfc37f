"""Appointments and the link tokens that act on them."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, VersionAttribute

from bookbay.models.table import BaseItem


class AppointmentItem(BaseItem, discriminator="Appointment"):
    """PK=APPOINTMENT#<id>, SK=APPOINTMENT; GSI1 by location and local start; GSI2 by customer."""

    body = JSONAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()


class LinkTokenItem(BaseItem, discriminator="LinkToken"):
    """PK=TOKEN#<sha256 of the token>: the raw token is never stored. expires_at is the TTL."""

    kind = UnicodeAttribute()  # "customer" (manage link) | "staff" (notification actions)
    appointment_id = UnicodeAttribute()
