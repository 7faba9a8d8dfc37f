"""Delivering outbox messages: exactly one successful send per message, retries on a schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bookbay.adapters.email import DeliveryError, Email, EmailSender
from bookbay.adapters.scheduler import Scheduler
from bookbay.adapters.sms import Sms, SmsSender
from bookbay.domain.messages import next_attempt_delay
from bookbay.models import keys
from bookbay.models.outbox import OutboxItem
from bookbay.observability import logger
from bookbay.privacy import mask_contact
from bookbay.repositories.outbox import OutboxRepository

Outcome = Literal["sent", "skipped", "retry_scheduled", "failed"]
RETRY_EVENT_KEY = "outbox_retry"


@dataclass
class OutboxDelivery:
    repo: OutboxRepository
    email: EmailSender
    sms: SmsSender
    scheduler: Scheduler

    def deliver(self, message_id: str, now: datetime, *, retry_target_arn: str) -> Outcome:
        """Send the message unless it is already sent or being sent.

        A provider failure records the attempt and schedules the next one (``retry_target_arn``
        receives ``{"outbox_retry": message_id}``), so a long outage delays messages, never drops
        them. Errors of our own (table, scheduler) propagate: the caller's batch retries.
        """
        item = self.repo.claim(message_id, now)
        if item is None:
            logger.info("outbox message already handled", extra={"message_id": message_id})
            return "skipped"
        try:
            provider_id = self._send(item)
        except DeliveryError as exc:
            if not self.repo.release(item, str(exc)):
                logger.error(
                    "outbox message given up",
                    extra={"message_id": message_id, "attempts": item.attempts, "error": str(exc)},
                )
                return "failed"
            attempts = int(item.attempts or 1)
            retry_at = now + next_attempt_delay(attempts)
            self.scheduler.schedule_once(
                keys.outbox_retry_schedule(message_id, attempts),
                retry_at,
                retry_target_arn,
                {RETRY_EVENT_KEY: message_id},
            )
            logger.warning(
                "outbox delivery failed; retry scheduled",
                extra={
                    "message_id": message_id,
                    "attempts": attempts,
                    "retry_at": retry_at.isoformat(),
                    "error": str(exc),
                },
            )
            return "retry_scheduled"
        self.repo.mark_sent(item, provider_id, now)
        logger.info(
            "outbox message sent",
            extra={"message_id": message_id, "channel": item.channel, "to": mask_contact(item.to)},
        )
        return "sent"

    def _send(self, item: OutboxItem) -> str:
        if item.channel == "email":
            return self.email.send(
                Email(to=item.to, subject=item.subject or "", text=item.text, html=item.html)
            )
        return self.sms.send(Sms(to=item.to, text=item.text))
