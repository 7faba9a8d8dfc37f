"""Applying effects (``domain.effects``): the outbox worker's other half, next to delivering
messages (``services.outbox``). Each effect is claimed, applied and marked done; a failure
(the Scheduler down, a table error) records the attempt and leaves it due again later, so it
is delayed, never lost. Every effect brings something in line with what is stored now, so
applying one twice (a lease that ran out mid-way) does nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bookbay.domain.audit import SYSTEM
from bookbay.domain.effects import Effect, EffectName
from bookbay.domain.messages import next_attempt_delay
from bookbay.observability import logger
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.effects import EffectRepository
from bookbay.services import reminders, review_requests
from bookbay.services.reminders import ReminderScheduling
from bookbay.services.review_requests import ReviewDeps

Outcome = Literal["applied", "skipped", "retry_due", "failed"]


@dataclass(frozen=True)
class EffectDeps:
    effects: EffectRepository
    appointments: AppointmentRepository
    reminders: ReminderScheduling  # the reminder function as the schedules' target
    reviews: ReviewDeps  # the catalog, review requests, and the review-request function as target


def apply_effect(deps: EffectDeps, effect: Effect, now: datetime) -> str:
    """Apply ``effect`` to what is stored now; what it did, for the log. Errors propagate."""
    return _APPLY[effect.name](deps, effect, now)


def _sync_reminder(deps: EffectDeps, effect: Effect, now: datetime) -> str:
    appointment = deps.appointments.get(effect.subject)
    if appointment is None:
        reminders.cancel_reminder(deps.reminders, effect.subject)
        return "appointment gone: no reminder"
    at = reminders.schedule_reminder(deps.reminders, appointment, deps.reviews.catalog.catalog(), now)
    return f"reminder at {at.isoformat()}" if at else "no reminder"


def _start_reviews(deps: EffectDeps, effect: Effect, now: datetime) -> str:
    appointment = deps.appointments.get(effect.subject)
    if appointment is None:
        return "appointment gone"
    catalog = deps.reviews.catalog.catalog()
    started = review_requests.start_for_completed(
        deps.reviews, appointment, catalog, effect.actor or SYSTEM, now
    )
    return "review requests started" if started else "review requests not started"


def _unschedule_review_step(deps: EffectDeps, effect: Effect, now: datetime) -> str:
    review_requests.unschedule_step(deps.reviews.scheduling.scheduler, effect.subject, effect.step or 1)
    return "review step unscheduled"


_APPLY: dict[EffectName, Callable[[EffectDeps, Effect, datetime], str]] = {
    "reminder.sync": _sync_reminder,
    "review.start": _start_reviews,
    "review.unschedule": _unschedule_review_step,
}


def deliver(
    deps: EffectDeps,
    effect_id: str,
    now: datetime,
    *,
    wake_up: Callable[[str, int, datetime], None],
    after_attempts: int | None = None,
) -> Outcome:
    """Claim, apply and mark done the effect ``effect_id``; on a failure record the attempt and
    ask ``wake_up(effect_id, attempts, when)`` for the retry (best effort: the sweep finds it
    anyway). ``after_attempts``: the attempts a retry wake-up was scheduled after (it does
    nothing once another retry was made)."""
    claimed = deps.effects.claim(effect_id, now, after_attempts=after_attempts)
    if claimed is None:
        logger.info("effect already handled", extra={"effect_id": effect_id})
        return "skipped"
    effect = claimed.effect
    try:
        what = apply_effect(deps, effect, now)
    except Exception as exc:  # a failure of the Scheduler, the table, ...: retried later
        code = error_code(exc)
        attempts = claimed.attempts + 1
        retry_at = now + next_attempt_delay(attempts)
        if not deps.effects.release(claimed, code, retry_at):
            logger.error(
                "effect given up", extra={"effect_id": effect_id, "effect": effect.name, "error": code}
            )
            return "failed"
        logger.warning(
            "effect failed; retry due",
            extra={
                "effect_id": effect_id,
                "effect": effect.name,
                "attempts": attempts,
                "error": code,
                "retry_at": retry_at.isoformat(),
            },
        )
        wake_up(effect_id, attempts, retry_at)
        return "retry_due"
    deps.effects.done(effect_id, now)
    logger.info(
        "effect applied",
        extra={"effect_id": effect_id, "effect": effect.name, "subject": effect.subject, "result": what},
    )
    return "applied"


def error_code(exc: Exception) -> str:
    """An error's code (an AWS error code, else the exception's type): never its text, which can
    name a recipient."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
