"""Holding and releasing slot capacity inside a transaction (booking, confirm, reschedule, cancel).

A hold is ``ADD used 1`` on each slot item under the condition that the slot is not blocked and
``used < capacity``: N concurrent holds on a slot of capacity k succeed exactly k times.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.transactions import TransactWrite

from bookbay.models import keys
from bookbay.models.booking import SlotItem


def hold_slots(tx: TransactWrite, location_id: str, slot_starts: Iterable[datetime], capacity: int) -> None:
    for start in slot_starts:
        slot = SlotItem(keys.location_pk(location_id), keys.slot_sk(start))
        tx.update(
            slot,
            actions=[SlotItem.used.add(1), SlotItem.entity.set(SlotItem)],
            condition=(SlotItem.blocked.does_not_exist() | (SlotItem.blocked == False))  # noqa: E712
            & (SlotItem.used.does_not_exist() | (SlotItem.used < capacity)),
        )


def release_slots(tx: TransactWrite, location_id: str, slot_starts: Iterable[datetime]) -> None:
    for start in slot_starts:
        slot = SlotItem(keys.location_pk(location_id), keys.slot_sk(start))
        tx.update(slot, actions=[SlotItem.used.add(-1)], condition=SlotItem.used > 0)
