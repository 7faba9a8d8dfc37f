"""The outbox: new messages (as items for a transaction), and the delivery state machine.

pending --claim--> sending --mark_sent--> sent
                     |--release(error)--> pending (retry due later) ... --> failed
Claims are conditional writes, so a retried stream batch or a duplicate retry never sends twice.

While an item (a message here, an effect in ``repositories.effects``) is not delivered it is in
the "due" collection of GSI3 (``keys.outbox_due_gsi3``), under the time it is due: a new item a
while after it is written (the stream normally delivers it first), a failed one when its retry is
due. ``due`` reads that collection, so the worker's sweep finds whatever a failed stream batch or
a lost retry schedule left behind: nothing written to the outbox is ever forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from bookbay.domain.messages import MAX_ATTEMPTS, SEND_LEASE, OutboundMessage
from bookbay.models import keys
from bookbay.models.effects import EffectItem  # noqa: F401 - registered for the due query
from bookbay.models.outbox import OutboxItem
from bookbay.models.table import BaseItem, bind_table

OUTBOX_RETENTION = timedelta(days=30)
# A new item is due for the sweep this long after it is written (the stream delivers it at once;
# longer than a send lease, so the sweep never races a delivery in progress).
SWEEP_GRACE = SEND_LEASE + timedelta(minutes=1)
DueKind = Literal["message", "effect"]


def due_keys(due: datetime, item_id: str) -> tuple[str, str]:
    """GSI3 keys of an item due at ``due``."""
    return keys.outbox_due_gsi3(due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), item_id)


def due_items(now: datetime, limit: int) -> list[tuple[DueKind, str]]:
    """Messages and effects not delivered whose time has come (oldest first, at most ``limit``),
    as (kind, id): one Query of GSI3."""
    _, high = due_keys(now, "~")
    found: list[tuple[DueKind, str]] = []
    for item in BaseItem.gsi3.query(
        keys.OUTBOX_DUE_GSI3PK, BaseItem.gsi3sk <= high, limit=limit, page_size=limit
    ):
        item_id = item.gsi3sk.rpartition("#")[2] if item.gsi3sk else ""
        found.append(("message" if isinstance(item, OutboxItem) else "effect", item_id))
    return found


class OutboxRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    @staticmethod
    def new_item(message: OutboundMessage) -> OutboxItem:
        """The item to write (put, or inside a transaction) to enqueue ``message``."""
        gsi3pk, gsi3sk = due_keys(message.created_at + SWEEP_GRACE, message.id)
        return OutboxItem(
            keys.outbox_pk(message.id),
            keys.OUTBOX_SK,
            message_id=message.id,
            channel=message.channel,
            to=message.to,
            subject=message.subject,
            text=message.text,
            html=message.html,
            reference=message.reference,
            created_at=message.created_at,
            status="pending",
            attempts=0,
            expires_at=message.created_at + OUTBOX_RETENTION,
            gsi3pk=gsi3pk,
            gsi3sk=gsi3sk,
        )

    def enqueue(self, message: OutboundMessage) -> None:
        self.new_item(message).save(condition=OutboxItem.pk.does_not_exist())

    def get(self, message_id: str) -> OutboxItem | None:
        try:
            return OutboxItem.get(keys.outbox_pk(message_id), keys.OUTBOX_SK)
        except DoesNotExist:
            return None

    def claim(self, message_id: str, now: datetime, *, after_attempts: int | None = None) -> Claimed | None:
        """Take the message for sending, or None when it is sent, failed, or being sent right now.
        ``after_attempts``: a retry wake-up's take, only while the message has failed exactly that
        many times (the sweep may have made that retry already; its own wake-up comes later)."""
        item = OutboxItem(keys.outbox_pk(message_id), keys.OUTBOX_SK)
        can_take: Condition = OutboxItem.pk.exists() & (
            (OutboxItem.status == "pending")
            | ((OutboxItem.status == "sending") & (OutboxItem.lease_until < now))
        )
        if after_attempts is not None:
            can_take &= OutboxItem.attempts == after_attempts
        try:
            item.update(
                actions=[OutboxItem.status.set("sending"), OutboxItem.lease_until.set(now + SEND_LEASE)],
                condition=can_take,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        message = OutboundMessage(
            id=item.message_id,
            channel=item.channel,  # type: ignore[arg-type]  # written from a Channel
            to=item.to,
            subject=item.subject,
            text=item.text,
            html=item.html,
            reference=item.reference,
            created_at=item.created_at,
        )
        return Claimed(message, int(item.attempts or 0))

    def mark_sent(self, message_id: str, provider_message_id: str, now: datetime) -> None:
        OutboxItem(keys.outbox_pk(message_id), keys.OUTBOX_SK).update(
            actions=[
                OutboxItem.status.set("sent"),
                OutboxItem.sent_at.set(now),
                OutboxItem.provider_message_id.set(provider_message_id),
                OutboxItem.attempts.set(OutboxItem.attempts + 1),
                OutboxItem.lease_until.remove(),
                OutboxItem.gsi3pk.remove(),
                OutboxItem.gsi3sk.remove(),
            ]
        )

    def release(self, claimed: Claimed, error: str, retry_at: datetime) -> bool:
        """Record a failed attempt, the next due at ``retry_at``. Returns False when the message
        has now been given up (it leaves the due collection)."""
        attempts = claimed.attempts + 1
        give_up = attempts >= MAX_ATTEMPTS
        gsi3pk, gsi3sk = due_keys(retry_at, claimed.message.id)
        due = (
            [OutboxItem.gsi3pk.remove(), OutboxItem.gsi3sk.remove()]
            if give_up
            else [OutboxItem.gsi3pk.set(gsi3pk), OutboxItem.gsi3sk.set(gsi3sk)]
        )
        OutboxItem(keys.outbox_pk(claimed.message.id), keys.OUTBOX_SK).update(
            actions=[
                OutboxItem.status.set("failed" if give_up else "pending"),
                OutboxItem.attempts.set(attempts),
                OutboxItem.last_error.set(error[:500]),
                OutboxItem.lease_until.remove(),
                *due,
            ]
        )
        return not give_up


@dataclass(frozen=True)
class Claimed:
    """A message taken for sending, with the attempts made before this one."""

    message: OutboundMessage
    attempts: int
