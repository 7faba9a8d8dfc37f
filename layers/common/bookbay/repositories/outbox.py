"""The outbox: new messages (as items for a transaction), and the delivery state machine.

pending --claim--> sending --mark_sent--> sent
                     |--release(error)--> pending (retry scheduled) ... --> failed
Claims are conditional writes, so a retried stream batch or a duplicate retry never sends twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from bookbay.domain.messages import MAX_ATTEMPTS, SEND_LEASE, OutboundMessage
from bookbay.models import keys
from bookbay.models.outbox import OutboxItem
from bookbay.models.table import bind_table

OUTBOX_RETENTION = timedelta(days=30)


class OutboxRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    @staticmethod
    def new_item(message: OutboundMessage) -> OutboxItem:
        """The item to write (put, or inside a transaction) to enqueue ``message``."""
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
        )

    def enqueue(self, message: OutboundMessage) -> None:
        self.new_item(message).save(condition=OutboxItem.pk.does_not_exist())

    def get(self, message_id: str) -> OutboxItem | None:
        try:
            return OutboxItem.get(keys.outbox_pk(message_id), keys.OUTBOX_SK)
        except DoesNotExist:
            return None

    def claim(self, message_id: str, now: datetime) -> OutboxItem | None:
        """Take the message for sending, or None when it is sent, failed, or being sent right now."""
        item = OutboxItem(keys.outbox_pk(message_id), keys.OUTBOX_SK)
        can_take: Condition = OutboxItem.pk.exists() & (
            (OutboxItem.status == "pending")
            | ((OutboxItem.status == "sending") & (OutboxItem.lease_until < now))
        )
        try:
            item.update(
                actions=[OutboxItem.status.set("sending"), OutboxItem.lease_until.set(now + SEND_LEASE)],
                condition=can_take,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return item

    def mark_sent(self, item: OutboxItem, provider_message_id: str, now: datetime) -> None:
        item.update(
            actions=[
                OutboxItem.status.set("sent"),
                OutboxItem.sent_at.set(now),
                OutboxItem.provider_message_id.set(provider_message_id),
                OutboxItem.attempts.set(OutboxItem.attempts + 1),
                OutboxItem.lease_until.remove(),
            ]
        )

    def release(self, item: OutboxItem, error: str) -> bool:
        """Record a failed attempt. Returns False when the message has now been given up."""
        attempts = (item.attempts or 0) + 1
        give_up = attempts >= MAX_ATTEMPTS
        item.update(
            actions=[
                OutboxItem.status.set("failed" if give_up else "pending"),
                OutboxItem.attempts.set(attempts),
                OutboxItem.last_error.set(error[:500]),
                OutboxItem.lease_until.remove(),
            ]
        )
        return not give_up
