"""Review requests (no I/O): after a completed appointment, e-mails ask the customer for a review
(seed 004: "added to the Review Request Queue which will automatically start asking them, via a
selection of emails, to leave a review").

One request per completed appointment (its id is the appointment's id), one active sequence per
customer at a time, and a customer who opted out is never asked again. The state machine:

    active --(all steps sent)------------> finished
    active --(customer: I left a review)--> done
    active --(customer: stop e-mails)-----> opted_out
    active --(staff stop, or the shop turned review requests off)--> stopped

Every end state is final. ``steps_days`` (the shop's ``review_requests.steps_days`` when the
sequence started; a sequence keeps its steps if the setting changes) says how many days after the
completion each e-mail goes out; ``steps_sent`` counts the e-mails sent, so step ``n`` (1-based) is
due only while ``steps_sent == n - 1``.

When a step goes out: at the shop's ``reminder_time`` in the store's time zone, ``steps_days[n-1]``
calendar days after the local completion date (every day counts; a review request is not a shop
visit). The wall time is built on the local date and only then converted to UTC, so 09:00 stays
09:00 across a daylight-saving change. A time that has already passed (a day-0 step after the
reminder time, or a step fired late) goes out ``CATCH_UP`` from now instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from bookbay.exceptions import InvalidTransition
from bookbay.modeling import BaseModel
from bookbay.types import Email, HourMinute, parse_hhmm

ReviewStatus = Literal["active", "done", "opted_out", "stopped", "finished"]
REVIEW_STATUSES: tuple[ReviewStatus, ...] = ("active", "done", "opted_out", "stopped", "finished")
EndedBy = Literal["customer", "staff", "system"]
# Why a sequence stopped before its end (status ``stopped``).
STOPPED_BY_STAFF = "stopped_by_staff"
REVIEW_REQUESTS_DISABLED = "review_requests_disabled"
# A step whose time has passed goes out this long from now (never "in the past").
CATCH_UP = timedelta(minutes=1)

_frozen = ConfigDict(frozen=True, extra="forbid")


class ReviewRequest(BaseModel):
    """A completed appointment's customer being asked for a review."""

    model_config = _frozen

    id: str = Field(min_length=1, max_length=64, description="The completed appointment's id")
    appointment_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    location_id: str
    service_id: str
    visit_start: AwareDatetime = Field(description="The appointment's start, in the store's zone")
    first_name: str = Field(min_length=1, max_length=60)
    email: Email = Field(description="Where the e-mails go: the appointment's contact e-mail")
    status: ReviewStatus = "active"
    steps_days: list[int] = Field(min_length=1, max_length=10)
    steps_sent: int = Field(default=0, ge=0)
    completed_at: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime
    next_step_at: AwareDatetime | None = Field(default=None, description="When the next e-mail goes out")
    last_sent_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    ended_by: EndedBy | None = None
    end_reason: str | None = Field(default=None, max_length=60)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.steps_sent > len(self.steps_days):
            raise ValueError("more steps sent than the sequence has")
        if self.appointment_id != self.id:
            raise ValueError("a review request's id is its appointment's id")
        return self

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def next_step(self) -> int | None:
        """The 1-based step due next (None: the sequence is over)."""
        if not self.is_active or self.steps_sent >= len(self.steps_days):
            return None
        return self.steps_sent + 1

    @property
    def last_step(self) -> int:
        return len(self.steps_days)


# ------------------------------------------------------------------------------ timing
def step_at(
    completed_at: datetime,
    days: int,
    timezone: str,
    reminder_time: HourMinute,
    now: datetime,
) -> datetime:
    """The UTC instant of a step ``days`` days after a completion at ``completed_at`` (aware), at
    ``reminder_time`` in ``timezone``; ``CATCH_UP`` from ``now`` when that instant has passed."""
    if completed_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("review request times need aware datetimes")
    zone = ZoneInfo(timezone)
    day: date = completed_at.astimezone(zone).date() + timedelta(days=days)
    # fold=0: a repeated wall time is its first occurrence, a skipped one takes the earlier offset.
    at = datetime.combine(day, parse_hhmm(reminder_time), tzinfo=zone).astimezone(UTC)
    return max(at, (now + CATCH_UP).astimezone(UTC))


def step_time(
    request: ReviewRequest, step: int, timezone: str, reminder_time: HourMinute, now: datetime
) -> datetime:
    """When step ``step`` (1-based) of ``request`` goes out (see ``step_at``)."""
    if not 1 <= step <= request.last_step:
        raise ValueError(f"step {step} is not a step of this sequence (1..{request.last_step})")
    return step_at(request.completed_at, request.steps_days[step - 1], timezone, reminder_time, now)


# ------------------------------------------------------------------------------ transitions
def step_sent(request: ReviewRequest, step: int, now: datetime, next_at: datetime | None) -> ReviewRequest:
    """The request once step ``step`` went out: ``finished`` after the last one, else still active
    with ``next_at`` as the next step's time."""
    if request.next_step != step:
        raise InvalidTransition(f"Step {step} of this review request is not the one due.")
    last = step == request.last_step
    if not last and next_at is None:
        raise ValueError("the next step's time is needed until the last step")
    changes: dict[str, object] = {
        "steps_sent": step,
        "last_sent_at": now,
        "updated_at": now,
        "next_step_at": None if last else next_at,
    }
    if last:
        changes.update(status="finished", ended_at=now, ended_by="system", end_reason=None)
    return request.model_copy(update=changes)


def end(
    request: ReviewRequest,
    status: Literal["done", "opted_out", "stopped"],
    now: datetime,
    *,
    by: EndedBy,
    reason: str | None = None,
) -> ReviewRequest:
    """End an active sequence: ``done`` (the customer left a review), ``opted_out`` (the customer
    asked to stop), ``stopped`` (staff, or the shop turned review requests off). Anything but an
    active request raises InvalidTransition (409)."""
    if not request.is_active:
        raise InvalidTransition(
            f"This review request is {request.status.replace('_', ' ')}, not active; nothing to stop."
        )
    return request.model_copy(
        update={
            "status": status,
            "updated_at": now,
            "ended_at": now,
            "ended_by": by,
            "end_reason": reason,
            "next_step_at": None,
        }
    )
