"""Blocked time in the table: the BLOCK item and the slot items it marks.

A slot item (PK=LOCATION#<id>, SK=SLOT#<UTC start>) counts the blocks on it in ``block_count``
and has ``blocked = true`` while that count is above 0; the booking's hold is conditional on
``blocked`` (repositories/slots.py) and availability reads it, so neither needs to know about
counts. Creating a block adds 1 to the count of each of its slots and sets ``blocked`` (creating
the slot item when missing); deleting it takes 1 off each slot it marked, and clears ``blocked``
only on a slot whose count it takes from 1 to 0, conditional on the count it read, so overlapping
blocks never unblock each other's slots.

The BLOCK item and its slots change together, in transactions of at most SLOTS_PER_TRANSACTION
slots; a block longer than that is written in several, each recording in the BLOCK item the
slots it marked (``slots``), so a delete always unmarks exactly what was marked, even after a
create that stopped halfway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, ConfigDict
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.operand import Path

from bookbay.domain.audit import AuditEntry
from bookbay.domain.blocks import Block, BlockRef
from bookbay.domain.booking import HOLDS_CAPACITY, Contact
from bookbay.exceptions import StaleWrite
from bookbay.modeling import BaseModel
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem
from bookbay.models.blocks import BLOCK_COUNT_ATTRIBUTE, BlockItem
from bookbay.models.booking import SlotItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.pagination import decode_cursor, take
from bookbay.repositories.transactions import LabelledTransaction, write_transaction
from bookbay.types import STORED

SLOTS_PER_TRANSACTION = 90  # + the BLOCK item and the audit entry: under DynamoDB's 100
DELETE_ATTEMPTS = 5
_CURSOR_KEYS = frozenset({"PK", "SK"})
# Appointments that may overlap a block start at most this long before it (the longest service).
_LOOKBACK = timedelta(days=1)


class BlockedAppointment(BaseModel):
    """An appointment holding time inside a block (it stays; staff are told)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    status: str
    start: AwareDatetime
    end: AwareDatetime
    service_id: str
    contact: Contact


@dataclass(frozen=True)
class StoredBlock:
    block: Block
    status: str
    slots: frozenset[str]  # slot sort keys it marks
    revision: int


@dataclass(frozen=True)
class BlockPage:
    blocks: list[StoredBlock]
    next_cursor: str | None


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + SLOTS_PER_TRANSACTION] for i in range(0, len(values), SLOTS_PER_TRANSACTION)]


def _stored(item: BlockItem) -> StoredBlock:
    return StoredBlock(
        Block.model_validate(item.body, context=STORED),
        item.status,
        frozenset(item.slots or ()),
        int(item.revision or 0),
    )


class BlocksRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    # ------------------------------------------------------------------ reads
    def get(self, ref: BlockRef) -> StoredBlock | None:
        try:
            item = BlockItem.get(
                keys.location_pk(ref.location_id), keys.block_sk(ref.start_utc, ref.ref), consistent_read=True
            )
        except DoesNotExist:
            return None
        return _stored(item)

    def page(self, location_id: str, *, limit: int, cursor: str | None) -> BlockPage:
        """A location's blocks by start (one Query on its partition, SK begins_with BLOCK#)."""
        pk = keys.location_pk(location_id)
        start = (
            decode_cursor(
                cursor, _CURSOR_KEYS, lambda k: k["PK"] == pk and k["SK"].startswith(keys.BLOCK_PREFIX)
            )
            if cursor
            else None
        )
        query = BlockItem.query(
            pk, BlockItem.sk.startswith(keys.BLOCK_PREFIX), page_size=limit, last_evaluated_key=start
        )
        page, next_cursor = take(query, limit, lambda _: True, lambda item: {"PK": item.pk, "SK": item.sk})
        return BlockPage([_stored(item) for item in page], next_cursor)

    def appointments_during(
        self, location_id: str, start: datetime, end: datetime
    ) -> list[BlockedAppointment]:
        """The location's appointments that hold time overlapping [start, end) (one Query on GSI1,
        by local start, from a day before ``start``)."""
        zone = start.tzinfo
        low = (start - _LOOKBACK).astimezone(zone).isoformat()[:19]
        high = end.astimezone(zone).isoformat()[:19]
        found: list[BlockedAppointment] = []
        for item in BaseItem.gsi1.query(keys.location_pk(location_id), BaseItem.gsi1sk.between(low, high)):
            if not isinstance(item, AppointmentItem):
                continue
            appointment = BlockedAppointment.model_validate(item.body, context=STORED)
            if appointment.status in HOLDS_CAPACITY and appointment.start < end and appointment.end > start:
                found.append(appointment)
        return sorted(found, key=lambda a: a.start)

    # ------------------------------------------------------------------ changes
    def create(self, block: Block, slots: Sequence[datetime], entry: AuditEntry) -> None:
        """Store the block and mark its ``slots`` (UTC starts), with the audit entry in the first
        transaction. StaleWrite when the block was deleted while a long one was being written."""
        pk = keys.location_pk(block.location_id)
        sk = keys.block_sk(block.start, block.id.rsplit(".", 1)[1])
        chunks = _chunks([keys.slot_sk(slot) for slot in slots])
        for index, chunk in enumerate(chunks):
            write_transaction(
                _mark(pk, sk, block, chunk, first=index == 0, last=index == len(chunks) - 1, entry=entry),
                lambda _: StaleWrite("The block was deleted while it was being made."),
            )

    def delete(self, ref: BlockRef, entry: AuditEntry) -> StoredBlock | None:
        """Unmark the block's slots and delete it, with the audit entry in the last transaction;
        None when there is no such block. Each transaction is conditional on the block's revision
        and on the slot counts read; a collision reads again (a few times, then StaleWrite)."""
        pk = keys.location_pk(ref.location_id)
        sk = keys.block_sk(ref.start_utc, ref.ref)
        attempts = 0
        first: StoredBlock | None = None
        while True:
            stored = self.get(ref)
            if stored is None:
                return first  # None: never there; else a concurrent delete finished it
            first = first or stored
            chunk = sorted(stored.slots)[:SLOTS_PER_TRANSACTION]
            counts = self._block_counts(pk, chunk)
            finishing = len(chunk) == len(stored.slots)
            try:
                write_transaction(
                    _unmark(pk, sk, stored, chunk, counts, entry if finishing else None),
                    lambda _: StaleWrite("The block changed while it was being deleted."),
                )
            except StaleWrite:
                attempts += 1
                if attempts >= DELETE_ATTEMPTS:
                    raise
                continue
            skipped = [slot_sk for slot_sk in chunk if counts.get(slot_sk, 0) < 1]
            if skipped:
                logger.warning("block slots without a count", extra={"slots": len(skipped)})
            if finishing:
                return first

    @staticmethod
    def _block_counts(pk: str, slot_sks: Iterable[str]) -> dict[str, int]:
        """``block_count`` of each slot item (a consistent BatchGetItem of at most 100 keys).

        Read from the raw answer: SlotItem (the booking's model) does not declare the attribute.
        """
        wanted = list(slot_sks)
        if not wanted:
            return {}
        table = BaseItem.Meta.table_name
        client = BaseItem._get_connection().connection.client
        request: dict[str, Any] = {
            table: {
                "Keys": [{"PK": {"S": pk}, "SK": {"S": sk}} for sk in wanted],
                "ConsistentRead": True,
                "ProjectionExpression": "SK, #count",
                "ExpressionAttributeNames": {"#count": BLOCK_COUNT_ATTRIBUTE},
            }
        }
        counts: dict[str, int] = {}
        while request:
            answer = client.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(table, []):
                count = raw.get(BLOCK_COUNT_ATTRIBUTE, {}).get("N")
                counts[raw["SK"]["S"]] = int(count) if count is not None else 0
            request = answer.get("UnprocessedKeys") or {}
        return counts


def _mark(
    pk: str, sk: str, block: Block, chunk: Sequence[str], *, first: bool, last: bool, entry: AuditEntry
) -> Callable[[LabelledTransaction], None]:
    """One step of a create: mark the ``chunk`` of the block's slots (creating missing slot items)
    and record them on the BLOCK item (the first step puts it, with the audit entry)."""

    def build(tx: LabelledTransaction) -> None:
        if first:
            item = BlockItem(
                pk,
                sk,
                body=block.model_dump(mode="json"),
                slots=set(chunk),
                status="active" if last else "applying",
                revision=0,
            )
            tx.save(item, BlockItem.pk.does_not_exist(), "block")
            audit.add_to(tx, pk, entry)
        else:
            actions: list[Any] = [BlockItem.slots.add(set(chunk)), BlockItem.revision.add(1)]
            if last:
                actions.append(BlockItem.status.set("active"))
            tx.update(BlockItem(pk, sk), actions, "block", condition=BlockItem.status == "applying")
        for slot_sk in chunk:
            tx.update(
                SlotItem(pk, slot_sk),
                [
                    SlotItem.entity.set(SlotItem),
                    SlotItem.used.set(SlotItem.used | 0),
                    SlotItem.blocked.set(True),
                    _count().add(1),
                ],
                "slot",
            )

    return build


def _unmark(
    pk: str,
    sk: str,
    stored: StoredBlock,
    chunk: Sequence[str],
    counts: dict[str, int],
    entry: AuditEntry | None,
) -> Callable[[LabelledTransaction], None]:
    """One step of a delete: take the block off the ``chunk`` of its slots (``counts`` as read);
    with ``entry`` (the last step), delete the BLOCK item and write the audit entry too."""

    def build(tx: LabelledTransaction) -> None:
        if entry is not None:
            tx.tx.delete(BlockItem(pk, sk), condition=BlockItem.revision == stored.revision)
            tx.updated(1, "block")  # (DynamoDB gets deletes first; any failure here is a stale read)
            audit.add_to(tx, pk, entry)
        else:
            tx.update(
                BlockItem(pk, sk),
                [
                    BlockItem.slots.delete(set(chunk)),
                    BlockItem.status.set("removing"),
                    BlockItem.revision.add(1),
                ],
                "block",
                condition=BlockItem.revision == stored.revision,
            )
        for slot_sk in chunk:
            count = counts.get(slot_sk, 0)
            if count < 1:  # not counted (never marked, or marked by hand): leave it be
                continue
            if count == 1:  # the last block on it
                actions: list[Any] = [SlotItem.blocked.set(False), _count().remove()]
            else:
                actions = [_count().add(-1)]
            tx.update(SlotItem(pk, slot_sk), actions, "slot", condition=_count() == count)

    return build


def _count() -> Path:
    """The slot item's block count (not declared by SlotItem)."""
    return Path(BLOCK_COUNT_ATTRIBUTE)
