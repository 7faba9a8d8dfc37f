"""The outbox worker: delivering messages (exactly one successful send each) and applying
effects (``services.effects``), from the table's stream, from retry wake-ups, and from the sweep.

Every outbox item waits in the "due" collection until it is delivered (``repositories.outbox``).
The stream hands a new item over at once; a failed attempt is recorded with the time the next
one is due, and a one-time schedule wakes the worker then (best effort). ``sweep`` -- run every
minute by a schedule rule that does not depend on EventBridge Scheduler -- delivers whatever is
due and still undelivered: a failed stream batch, a retry whose wake-up could not be scheduled
(the Scheduler down), a worker that crashed mid-way. Claims are conditional, so two of these
paths never deliver one item twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bookbay.adapters.email import DeliveryError, Email, EmailSender
from bookbay.adapters.scheduler import Scheduler
from bookbay.adapters.sms import Sms, SmsSender
from bookbay.domain.effects import outbox_retry_schedule
from bookbay.domain.messages import OutboundMessage, next_attempt_delay
from bookbay.observability import logger
from bookbay.privacy import mask_contact
from bookbay.repositories.outbox import OutboxRepository, due_items
from bookbay.services import effects
from bookbay.services.effects import EffectDeps
from bookbay.services.effects import Outcome as EffectOutcome

Outcome = Literal["sent", "skipped", "retry_scheduled", "failed"]
RETRY_EVENT_KEY = "outbox_retry"  # {"outbox_retry": <message id>}
EFFECT_RETRY_EVENT_KEY = "effect_retry"  # {"effect_retry": <effect id>}
ATTEMPTS_KEY = "after_attempts"  # in both: the failures the wake-up was scheduled after
SWEEP_LIMIT = 100  # items per sweep (a minute's worth; the next sweep takes the rest)


@dataclass
class OutboxDelivery:
    repo: OutboxRepository
    email: EmailSender
    sms: SmsSender
    scheduler: Scheduler
    effects: EffectDeps | None = None  # None: this worker delivers messages only

    def deliver(
        self, message_id: str, now: datetime, *, retry_target_arn: str, after_attempts: int | None = None
    ) -> Outcome:
        """Send the message unless it is already sent or being sent.

        A provider failure records the attempt and the time the next one is due, and schedules a
        wake-up then (``retry_target_arn`` receives ``{"outbox_retry": message_id}``); a long
        outage delays messages, never drops them. Errors of our own (the table) propagate: the
        caller's batch retries. ``after_attempts``: a wake-up's, the failures it was scheduled
        after; it does nothing once the sweep made that retry (no second try, no second wake-up).
        """
        claimed = self.repo.claim(message_id, now, after_attempts=after_attempts)
        if claimed is None:
            logger.info("outbox message already handled", extra={"message_id": message_id})
            return "skipped"
        message = claimed.message
        try:
            provider_id = self._send(message)
        except DeliveryError as exc:
            # The provider's code and status only (its message names the recipient): logged, and
            # kept as the item's last_error ("SES MessageRejected (HTTP 400)").
            failure = {"error": exc.code, "provider": exc.provider, "provider_status": exc.status}
            attempts = claimed.attempts + 1
            retry_at = now + next_attempt_delay(attempts)
            if not self.repo.release(claimed, str(exc), retry_at):
                logger.error(
                    "outbox message given up",
                    extra={"message_id": message_id, "attempts": attempts, **failure},
                )
                return "failed"
            self._wake_up(RETRY_EVENT_KEY, message_id, attempts, retry_at, retry_target_arn)
            logger.warning(
                "outbox delivery failed; retry scheduled",
                extra={
                    "message_id": message_id,
                    "attempts": attempts,
                    "retry_at": retry_at.isoformat(),
                    **failure,
                },
            )
            return "retry_scheduled"
        self.repo.mark_sent(message_id, provider_id, now)
        logger.info(
            "outbox message sent",
            extra={"message_id": message_id, "channel": message.channel, "to": mask_contact(message.to)},
        )
        return "sent"

    def apply_effect(
        self, effect_id: str, now: datetime, *, retry_target_arn: str, after_attempts: int | None = None
    ) -> EffectOutcome:
        """Apply the effect unless it is done or being applied (``services.effects.deliver``)."""
        if self.effects is None:
            raise RuntimeError("this worker has no effect dependencies")

        def wake_up(item_id: str, attempts: int, at: datetime) -> None:
            self._wake_up(EFFECT_RETRY_EVENT_KEY, item_id, attempts, at, retry_target_arn)

        return effects.deliver(self.effects, effect_id, now, wake_up=wake_up, after_attempts=after_attempts)

    def sweep(self, due_by: datetime, now: datetime, *, retry_target_arn: str) -> dict[str, int]:
        """Deliver every message and apply every effect due by ``due_by`` (the rule's time) and
        not delivered yet (at most SWEEP_LIMIT). Returns how many of each outcome. Claims and
        retry times go by ``now``, the clock: a sweep run ahead of time (the local stack's
        scheduler run with a later ``until``) must not take a delivery in progress as timed out."""
        counts: dict[str, int] = {}
        for kind, item_id in due_items(max(due_by, now), SWEEP_LIMIT):
            if kind == "message":
                outcome: str = self.deliver(item_id, now, retry_target_arn=retry_target_arn)
            else:
                outcome = self.apply_effect(item_id, now, retry_target_arn=retry_target_arn)
            counts[f"{kind}_{outcome}"] = counts.get(f"{kind}_{outcome}", 0) + 1
        if counts:
            logger.info("outbox sweep", extra={"outcomes": counts})
        return counts

    def _wake_up(self, key: str, item_id: str, attempt: int, at: datetime, target_arn: str) -> None:
        """A one-time schedule that invokes the worker for the retry at ``at``. Best effort: if the
        Scheduler fails too, the sweep delivers the item once it is due."""
        try:
            self.scheduler.schedule_once(
                outbox_retry_schedule(item_id, attempt), at, target_arn, {key: item_id, ATTEMPTS_KEY: attempt}
            )
        except Exception as exc:
            logger.warning(
                "retry wake-up not scheduled; the sweep will take it",
                extra={"item_id": item_id, "error": effects.error_code(exc)},
            )

    def _send(self, message: OutboundMessage) -> str:
        if message.channel == "email":
            return self.email.send(
                Email(to=message.to, subject=message.subject or "", text=message.text, html=message.html)
            )
        return self.sms.send(Sms(to=message.to, text=message.text))
