"""Effects: what a change causes outside the table (schedules), written as outbox items in the
change's own transaction and applied afterwards by the outbox worker, with retries.

An effect names what to bring in line, never how it was at the time: ``reminder.sync`` makes the
appointment's reminder schedule match the appointment as it is when the effect is applied, so an
effect delayed by an outage, delivered twice or out of order still ends in the right state.

Also here: the names of the one-time schedules (one per thing, so creating one is idempotent),
and the link tokens a change writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, Field

from bookbay.domain.audit import Actor
from bookbay.domain.ids import new_id
from bookbay.modeling import BaseModel

EffectName = Literal["reminder.sync", "review.start", "review.unschedule"]


class Effect(BaseModel):
    """One effect to apply: ``name`` on ``subject`` (an appointment or review request id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=8, max_length=64)
    name: EffectName
    subject: str = Field(min_length=1, max_length=64)
    step: int | None = Field(default=None, ge=1, description="review.unschedule: the step's schedule")
    actor: Actor | None = Field(default=None, description="review.start: who completed the visit")
    created_at: AwareDatetime


def reminder_sync(appointment_id: str, now: datetime) -> Effect:
    """Make the appointment's reminder schedule match the appointment (create, move or delete)."""
    return Effect(id=new_id(), name="reminder.sync", subject=appointment_id, created_at=now)


def review_start(appointment_id: str, actor: Actor, now: datetime) -> Effect:
    """Start the review requests of a completed appointment (once: the request's id is its own)."""
    return Effect(id=new_id(), name="review.start", subject=appointment_id, actor=actor, created_at=now)


def review_unschedule(request_id: str, step: int, now: datetime) -> Effect:
    """Delete the schedule of a review request's step (its sequence ended)."""
    return Effect(id=new_id(), name="review.unschedule", subject=request_id, step=step, created_at=now)


# ------------------------------------------------------------------------------ schedule names
def reminder_schedule(appointment_id: str) -> str:
    """Name of the one-time schedule of an appointment's reminder (one per appointment, <= 64 chars)."""
    return f"reminder-{appointment_id}"[:64]


def review_schedule(request_id: str, step: int) -> str:
    """Name of the one-time schedule of a review request's step (one per step, <= 64 chars)."""
    return f"review-{request_id}-{step}"[:64]


def outbox_retry_schedule(item_id: str, attempt: int) -> str:
    """Name of the one-time schedule that wakes the worker for an item's retry (<= 64 chars)."""
    return f"outbox-retry-{item_id}-{attempt}"[:64]


# ------------------------------------------------------------------------------ link tokens
@dataclass(frozen=True)
class NewLink:
    """A link token to write with the change whose message carries it (only its hash is kept)."""

    token_hash: str
    kind: str
    appointment_id: str
    expires_at: datetime
