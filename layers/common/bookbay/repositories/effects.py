"""Effect items: new ones (for the transaction of the change that causes them), and the state
machine the worker applies them by, the same as the messages' (``repositories.outbox``):

pending --claim--> applying --done--> done
                      |--release(error)--> pending (retry due later) ... --> failed
Claims are conditional writes with a lease, so a re-delivered stream record, a retry and the
sweep never apply one effect at the same time, and a done one is never applied again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from bookbay.domain.effects import Effect
from bookbay.domain.messages import MAX_ATTEMPTS, SEND_LEASE
from bookbay.models import keys
from bookbay.models.effects import EffectItem
from bookbay.models.table import bind_table
from bookbay.repositories.outbox import OUTBOX_RETENTION, SWEEP_GRACE, due_keys


def new_item(effect: Effect) -> EffectItem:
    """The item to write (inside the change's transaction) to enqueue ``effect``."""
    gsi3pk, gsi3sk = due_keys(effect.created_at + SWEEP_GRACE, effect.id)
    return EffectItem(
        keys.effect_pk(effect.id),
        keys.EFFECT_SK,
        effect_id=effect.id,
        body=effect.model_dump(mode="json"),
        created_at=effect.created_at,
        status="pending",
        attempts=0,
        expires_at=effect.created_at + OUTBOX_RETENTION,
        gsi3pk=gsi3pk,
        gsi3sk=gsi3sk,
    )


class EffectRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    def get(self, effect_id: str) -> EffectItem | None:
        try:
            return EffectItem.get(keys.effect_pk(effect_id), keys.EFFECT_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def claim(
        self, effect_id: str, now: datetime, *, after_attempts: int | None = None
    ) -> ClaimedEffect | None:
        """Take the effect to apply it, or None when it is done, failed, or being applied now.
        ``after_attempts``: as for messages (``OutboxRepository.claim``)."""
        item = EffectItem(keys.effect_pk(effect_id), keys.EFFECT_SK)
        can_take: Condition = EffectItem.pk.exists() & (
            (EffectItem.status == "pending")
            | ((EffectItem.status == "applying") & (EffectItem.lease_until < now))
        )
        if after_attempts is not None:
            can_take &= EffectItem.attempts == after_attempts
        try:
            item.update(
                actions=[EffectItem.status.set("applying"), EffectItem.lease_until.set(now + SEND_LEASE)],
                condition=can_take,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return ClaimedEffect(Effect.model_validate(item.body), int(item.attempts or 0))

    def done(self, effect_id: str, now: datetime) -> None:
        EffectItem(keys.effect_pk(effect_id), keys.EFFECT_SK).update(
            actions=[
                EffectItem.status.set("done"),
                EffectItem.done_at.set(now),
                EffectItem.attempts.set(EffectItem.attempts + 1),
                EffectItem.lease_until.remove(),
                EffectItem.gsi3pk.remove(),
                EffectItem.gsi3sk.remove(),
            ]
        )

    def release(self, claimed: ClaimedEffect, error: str, retry_at: datetime) -> bool:
        """Record a failed attempt (``error``: a code, never provider text), the next due at
        ``retry_at``. False when the effect has now been given up (it leaves the due collection)."""
        attempts = claimed.attempts + 1
        give_up = attempts >= MAX_ATTEMPTS
        gsi3pk, gsi3sk = due_keys(retry_at, claimed.effect.id)
        due = (
            [EffectItem.gsi3pk.remove(), EffectItem.gsi3sk.remove()]
            if give_up
            else [EffectItem.gsi3pk.set(gsi3pk), EffectItem.gsi3sk.set(gsi3sk)]
        )
        EffectItem(keys.effect_pk(claimed.effect.id), keys.EFFECT_SK).update(
            actions=[
                EffectItem.status.set("failed" if give_up else "pending"),
                EffectItem.attempts.set(attempts),
                EffectItem.last_error.set(error[:200]),
                EffectItem.lease_until.remove(),
                *due,
            ]
        )
        return not give_up

    def status(self, effect_id: str) -> tuple[str, int] | None:
        """(status, attempts) of an effect, for tests and ops."""
        item = self.get(effect_id)
        return (str(item.status), int(item.attempts or 0)) if item is not None else None


@dataclass(frozen=True)
class ClaimedEffect:
    """An effect taken to apply, with the attempts made before this one."""

    effect: Effect
    attempts: int
