"""Audit entries: PK=<the changed thing's PK> (APPOINTMENT#<id>, CUSTOMER#<id>, FLAG#<id>),
SK=AUDIT#<UTC ISO time>#<entry id>, so a thing's history is one Query in time order."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute

from bookbay.models.table import BaseItem


class AuditItem(BaseItem, discriminator="Audit"):
    body = JSONAttribute()
