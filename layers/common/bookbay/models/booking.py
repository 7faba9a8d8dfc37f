"""Slot capacity items: PK=LOCATION#<id>, SK=SLOT#<UTC start>; ``used`` counts the appointments
holding the slot, ``blocked`` marks time staff blocked. Read for availability with one query."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute

from bookbay.models.table import BaseItem


class SlotItem(BaseItem, discriminator="Slot"):
    used = NumberAttribute(default=0)
    blocked = BooleanAttribute(null=True)
