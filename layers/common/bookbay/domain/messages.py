"""Outgoing messages (the outbox) and their delivery state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Self

from pydantic import ConfigDict, Field, model_validator

from bookbay.domain.catalog import Channel
from bookbay.modeling import BaseModel

DeliveryStatus = Literal["pending", "sending", "sent", "failed"]

# Backoff between delivery attempts after a provider failure; the last one repeats.
RETRY_BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)
MAX_ATTEMPTS = 60  # about two days of hourly retries before a message is given up (and alarmed)
SEND_LEASE = timedelta(minutes=2)


class OutboundMessage(BaseModel):
    """A message to deliver: an e-mail (subject, text, html) or an SMS (text)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=8, max_length=64)
    channel: Channel
    to: str = Field(min_length=3, max_length=254)
    subject: str | None = Field(default=None, max_length=200)
    text: str = Field(min_length=1, max_length=20000)
    html: str | None = Field(default=None, max_length=200000)
    reference: str | None = Field(
        default=None, max_length=120, description="What it is about, e.g. an appointment"
    )
    created_at: datetime

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.channel == "email" and not self.subject:
            raise ValueError("an e-mail needs a subject")
        if self.channel == "sms" and (self.html or len(self.text) > 1600):
            raise ValueError("an SMS is plain text of at most 1600 characters")
        return self


def next_attempt_delay(attempts: int) -> timedelta:
    """Delay before attempt ``attempts + 1`` (``attempts`` >= 1 failed so far)."""
    return RETRY_BACKOFF[min(attempts, len(RETRY_BACKOFF)) - 1]
