"""Slot usage for availability: the capacity items of a location's slots in a time range, one query.

The booking flow writes the items (repositories/slots.py); this only reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bookbay.domain.availability import SlotUsage
from bookbay.models import keys
from bookbay.models.booking import SlotItem
from bookbay.models.table import bind_table


class AvailabilityRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    def usage(self, location_id: str, start_utc: datetime, end_utc: datetime) -> dict[datetime, SlotUsage]:
        """Usage of the slots of ``location_id`` starting in [``start_utc``, ``end_utc``), by UTC start.

        One Query on the location's partition (``SK BETWEEN``), eventually consistent (the booking
        itself holds capacity with conditional writes); a further page only if DynamoDB truncates
        the answer at 1 MB. Slots without an item are free and are not in the answer.
        """
        start, end = start_utc.astimezone(UTC), end_utc.astimezone(UTC)
        if end <= start:
            return {}
        usage: dict[datetime, SlotUsage] = {}
        for item in SlotItem.query(
            keys.location_pk(location_id),
            SlotItem.sk.between(keys.slot_sk(start), keys.slot_sk(end)),
        ):
            slot = keys.slot_start(item.sk)
            if slot < end:  # BETWEEN includes the upper bound
                usage[slot] = SlotUsage(used=int(item.used or 0), blocked=bool(item.blocked))
        return usage
