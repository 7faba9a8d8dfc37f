"""Effect items: written in the same transaction as the change that causes them; the table's
stream hands them to the outbox worker, which applies each once (see ``repositories.effects``)."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from bookbay.models.table import BaseItem


class EffectItem(BaseItem, discriminator="Effect"):
    """PK=EFFECT#<id>, SK=EFFECT; GSI3PK=OUTBOX#DUE, GSI3SK=<UTC due>#<id> while not applied."""

    effect_id = UnicodeAttribute()
    body = JSONAttribute()  # the domain Effect
    created_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default="pending")  # pending | applying | done | failed
    attempts = NumberAttribute(default=0)
    lease_until = UTCDateTimeAttribute(null=True)
    done_at = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
