"""Blocked time: PK=LOCATION#<id>, SK=BLOCK#<UTC start>#<ref>, next to the slot items it marks.

``slots`` holds the sort keys of the slot items the block has marked (and so must unmark when it
is deleted): a slot item counts the blocks on it in ``block_count`` (an attribute the slot model
does not declare: only blocks read and write it) and is ``blocked`` while that count is above 0,
so overlapping blocks never unblock each other's slots. ``status``: ``applying`` while a long
block is being written in several transactions, ``active``, ``removing`` while being deleted.
``revision`` goes up with every change (each change is conditional on the one read).
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from bookbay.models.table import BaseItem

BLOCK_COUNT_ATTRIBUTE = "block_count"


class BlockItem(BaseItem, discriminator="Block"):
    body = JSONAttribute()
    slots = UnicodeSetAttribute(null=True)
    status = UnicodeAttribute()
    revision = NumberAttribute(default=0)
