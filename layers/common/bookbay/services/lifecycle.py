"""The appointments service: every change of an existing appointment, from every entry point
(the customer's ``/c/`` link, the store's ``/s/`` link, every staff action and PATCH), applies
the lifecycle table (``domain.lifecycle``) here, and only here.

``apply`` checks the row of the action against the appointment as read (its state, who asks,
the time), works out what the row says the change writes (the appointment, capacity, messages,
link tokens, effects, the audit entry) and writes it in ONE transaction conditional on the
version read (``AppointmentRepository.write``). Two conflicting actions at once therefore never
both apply: the loser's write fails, and it is answered by the appointment as it is now: the
table's refusal (409 ``invalid_transition``) when its action is not allowed any more (confirm
after a cancel), else a 409 ``concurrent_update`` (nothing it asked was written; read it again).

The effects outside the table (reminder schedules, review requests) are outbox effects written
in that same transaction and applied by the outbox worker (``services.effects``) with retries,
so they are never lost when the Scheduler fails, and never half-applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, cast

from bookbay.domain import effects, lifecycle
from bookbay.domain.audit import Actor, AuditEntry, diff
from bookbay.domain.availability import earliest_start, horizon_last_day, required_slots
from bookbay.domain.catalog import Catalog, Channel
from bookbay.domain.effects import Effect, NewLink
from bookbay.domain.lifecycle import Action, ActorKind, Rule
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import InvalidInput, NotFound, SlotNoLongerBookable, StaleWrite
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.appointments import (
    AppointmentChange,
    AppointmentRepository,
    StoredAppointment,
    TokenExpiry,
)
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import econfirmation, links
from bookbay.services.econfirmation import ProfileSource, Sent
from bookbay.services.notifications import (
    AppointmentDetails,
    cancelled_message,
    reschedule_request_message,
    rescheduled_message,
)


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"


@dataclass(frozen=True)
class LifecycleDeps:
    catalog: CatalogRepository
    appointments: AppointmentRepository
    customers: ProfileSource | None = None  # the preferred channel (None: e-mail)
    public_base_url: str = ""  # PublicBaseUrl (BaseConfig.public_base_url)


@dataclass(frozen=True)
class Ask:
    """What is asked: ``action`` by ``actor``, with what that action takes."""

    action: Action
    actor: Actor
    start: datetime | None = None  # reschedule: the new start
    reason: str | None = None  # cancel
    notify: bool = True  # cancel: tell the customer
    channel: Channel | None = None  # send_confirmation: staff's choice of channel
    changes: Mapping[str, Any] = field(default_factory=dict)  # edit (and with a reschedule): notes
    staff_token: str | None = None  # reschedule from a staff link: its expiry follows the new end


@dataclass(frozen=True)
class Applied:
    appointment: StoredAppointment
    changed: bool  # False: nothing needed writing (the customer had already confirmed this time)
    sent: Sent | None = None  # what told the customer (confirm, send_confirmation)


# ------------------------------------------------------------------------------ the use case
def load(deps: LifecycleDeps, appointment_id: str) -> StoredAppointment:
    appointment = deps.appointments.get(appointment_id)
    if appointment is None:
        raise AppointmentNotFound("There is no such appointment.")
    return appointment


def act(deps: LifecycleDeps, appointment_id: str, ask: Ask, now: datetime) -> Applied:
    """``apply`` to the appointment of that id (AppointmentNotFound: none)."""
    return apply(deps, load(deps, appointment_id), ask, now)


def apply(
    deps: LifecycleDeps,
    appointment: StoredAppointment,
    ask: Ask,
    now: datetime,
    *,
    linked: links.LinkedAppointment | None = None,
) -> Applied:
    """Apply ``ask`` to ``appointment`` as read (``linked``: with its details, when a link page
    has them already). Raises InvalidTransition (409) where the table does not allow it, StaleWrite
    (409) when it lost a race to a change it would still be allowed after, and what the action's
    own rules raise (SlotUnavailable, InvalidInput)."""
    by = cast(ActorKind, ask.actor.kind)
    rule = lifecycle.check(ask.action, appointment.status, by, start=appointment.start, now=now)
    context = _Context(deps, appointment, ask, now, linked)
    plan = _PLANS[ask.action](context)
    if plan.after is None:
        return Applied(appointment, changed=False, sent=plan.sent)
    change = AppointmentChange(
        before=appointment,
        after=plan.after,
        allowed_from=rule.from_states,
        hold=plan.hold,
        release=plan.release,
        capacity=plan.capacity,
        messages=plan.messages,
        links=plan.links,
        effects=_effects(rule, appointment.id, ask.actor, now),
        audit=_audit_entry(ask, now, plan) if by == "staff" else None,
        token_expiry=plan.token_expiry,
    )
    try:
        stored = deps.appointments.write(change)
    except StaleWrite:
        # Lost a race: answer with the appointment as it is now (the table's refusal if it no
        # longer allows the action; else the StaleWrite, a 409 concurrent_update).
        again = load(deps, appointment.id)
        lifecycle.check(ask.action, again.status, by, start=again.start, now=now)
        logger.info("lifecycle: lost a race", extra={"appointment_id": appointment.id, "action": ask.action})
        raise
    logger.info(
        "lifecycle",
        extra={
            "appointment_id": appointment.id,
            "action": ask.action,
            "from_status": appointment.status,
            "status": stored.status,
            "effects": [e.name for e in change.effects],
            "messages": len(change.messages),
        },
    )
    return Applied(stored, changed=True, sent=plan.sent)


# ------------------------------------------------------------------------------ what each writes
@dataclass(frozen=True)
class _Plan:
    after: Any  # the Appointment after the change (None: nothing to write)
    hold: Sequence[datetime] = ()
    release: Sequence[datetime] = ()
    capacity: int = 0
    messages: Sequence[OutboundMessage] = ()
    links: Sequence[NewLink] = ()
    token_expiry: TokenExpiry | None = None
    sent: Sent | None = None
    audit_before: dict[str, Any] = field(default_factory=dict)
    audit_after: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Context:
    deps: LifecycleDeps
    appointment: StoredAppointment
    ask: Ask
    now: datetime
    linked: links.LinkedAppointment | None

    @cached_property
    def loaded(self) -> links.LinkedAppointment:
        """The catalog, vehicle and address (read once, only by actions that show them)."""
        if self.linked is not None:
            return self.linked
        return links.with_details(self.deps.appointments, self.deps.catalog, self.appointment)

    @property
    def catalog(self) -> Catalog:
        return self.loaded.catalog

    @property
    def details(self) -> AppointmentDetails:
        return self.loaded.details

    @property
    def base_url(self) -> str:
        return links.public_base_url(self.deps.public_base_url)

    def became(self, **fields: object) -> Any:
        return lifecycle.became(self.appointment, self.ask.action, self.now, **fields)

    def confirmation(self, appointment: Any) -> econfirmation.Prepared:
        return econfirmation.prepare(
            "confirmation",
            self.catalog,
            appointment,
            preferred=econfirmation.preferred_channel(self.deps.customers, self.appointment),
            vehicle_label=self.details.vehicle_label,
            address=self.details.address,
            base_url=self.base_url,
            now=self.now,
            channel=self.ask.channel,
        )


def _confirm(c: _Context) -> _Plan:
    confirmed = c.became()
    return _confirm_plan(confirmed, c.confirmation(confirmed))


def _confirm_plan(after: Any, prepared: econfirmation.Prepared) -> _Plan:
    return _Plan(
        after,
        messages=[prepared.message] if prepared.message else [],
        links=[prepared.link] if prepared.link else [],
        sent=prepared.sent,
    )


def _send_confirmation(c: _Context) -> _Plan:
    """The e-confirmation again (staff, by hand); nothing for a customer who prefers a call."""
    prepared = c.confirmation(c.appointment)
    if prepared.message is None:
        return _Plan(None, sent=prepared.sent)
    return _confirm_plan(c.appointment, prepared)


def _customer_confirm(c: _Context) -> _Plan:
    if c.appointment.customer_confirmed:
        return _Plan(None)  # confirming twice writes nothing the second time
    return _Plan(c.became())


def _request_reschedule(c: _Context) -> _Plan:
    requested = c.became()
    staff_url, staff_link = links.new_link(c.base_url, "staff", c.appointment.id, c.appointment.end)
    message = reschedule_request_message(
        c.catalog,
        requested,
        vehicle_label=c.details.vehicle_label,
        staff_url=staff_url,
        now=c.now,
        address=c.details.address,
    )
    return _Plan(requested, messages=[message], links=[staff_link])


def _reschedule(c: _Context) -> _Plan:
    """Move the appointment to ``ask.start``: a start of the location for this service (else
    InvalidInput), within the lead time and horizon (else SlotNoLongerBookable), under the slots'
    capacity (else SlotUnavailable from the write). It is confirmed: the store chose the time."""
    appointment, details, now = c.appointment, c.details, c.now
    settings = c.catalog.shop.settings
    given = c.ask.start
    if given is None or given.tzinfo is None:
        raise InvalidInput("Give the new start with its UTC offset.")
    # Compared before any conversion: a start centuries away must not overflow the arithmetic.
    if given < earliest_start(settings, now) or given > now + timedelta(days=settings.horizon_days + 1):
        raise SlotNoLongerBookable(_NO_LONGER_BOOKABLE)
    start = given.astimezone(details.zone)
    slots = required_slots(details.location, details.service, settings, start)
    if slots is None:
        raise InvalidInput(
            "That is not a start time of this location for this service; pick one from the list."
        )
    if start == appointment.start:
        raise InvalidInput("That is the appointment's current time; pick another one.")
    if start.date() > horizon_last_day(details.location, settings, now):
        raise SlotNoLongerBookable(_NO_LONGER_BOOKABLE)
    end = (start + timedelta(minutes=details.service.duration_minutes)).astimezone(details.zone)
    manage_url, manage_link = links.new_link(c.base_url, "customer", appointment.id, end)
    old = {s.astimezone(UTC) for s in appointment.slot_starts}
    new = sorted({s.astimezone(UTC) for s in slots})
    moved = c.became(start=start, end=end, slot_starts=new, **c.ask.changes)
    message = rescheduled_message(
        c.catalog,
        moved,
        previous_start=appointment.start,
        vehicle_label=details.vehicle_label,
        manage_url=manage_url,
        now=now,
        address=details.address,
    )
    token = c.ask.staff_token
    return _Plan(
        moved,
        hold=[s for s in new if s not in old],
        release=sorted(old.difference(new)),
        capacity=details.location.capacity_per_slot,
        messages=[message],
        links=[manage_link],
        token_expiry=TokenExpiry(token, end + links.KEEP_AFTER_END["staff"]) if token else None,
        audit_before={"start": appointment.start.isoformat(), **_fields(appointment, c.ask.changes)},
        audit_after={"start": start.isoformat(), **c.ask.changes},
    )


def _release(c: _Context, **fields: object) -> _Plan:
    return _Plan(c.became(**fields), release=list(c.appointment.slot_starts))


def _cancel(c: _Context) -> _Plan:
    cancelled = c.became(cancellation_reason=c.ask.reason)
    messages: list[OutboundMessage] = []
    if c.ask.notify and c.appointment.start > c.now:
        messages.append(
            cancelled_message(
                c.catalog,
                cancelled,
                vehicle_label=c.details.vehicle_label,
                address=c.details.address,
                now=c.now,
            )
        )
    return _Plan(cancelled, release=list(c.appointment.slot_starts), messages=messages)


def _edit(c: _Context) -> _Plan:
    changes = dict(c.ask.changes)
    return _Plan(
        c.appointment.model_copy(update={**changes, "updated_at": c.now}),
        audit_before=_fields(c.appointment, changes),
        audit_after=changes,
    )


def _not_here(c: _Context) -> _Plan:
    raise InvalidInput(f"{c.ask.action} is not a change of an existing appointment (see services.booking).")


_PLANS: dict[Action, Callable[[_Context], _Plan]] = {
    "request": _not_here,  # a booking starts from "new": services.booking writes it
    "book": _not_here,
    "confirm": _confirm,
    "customer_confirm": _customer_confirm,
    "reschedule": _reschedule,
    "request_reschedule": _request_reschedule,
    "check_in": _release,
    "complete": lambda c: _Plan(c.became()),
    "cancel": _cancel,
    "no_show": _release,
    "send_confirmation": _send_confirmation,
    "edit": _edit,
}
_NO_LONGER_BOOKABLE = "That time can no longer be booked (too soon, or past the booking horizon)."
# How staff actions are named in the audit trail (the admin API's action names).
AUDIT_NAMES: dict[Action, str] = {
    "check_in": "check-in",
    "no_show": "no-show",
    "send_confirmation": "send-confirmation",
}


# ------------------------------------------------------------------------------ helpers
def _effects(rule: Rule, appointment_id: str, actor: Actor, now: datetime) -> list[Effect]:
    out: list[Effect] = []
    if "sync_reminder" in rule.effects:
        out.append(effects.reminder_sync(appointment_id, now))
    if "start_reviews" in rule.effects:
        out.append(effects.review_start(appointment_id, actor, now))
    return out


def _audit_entry(ask: Ask, now: datetime, plan: _Plan) -> AuditEntry:
    name = AUDIT_NAMES.get(ask.action, ask.action)
    return audit.entry(ask.actor, name, now, diff(plan.audit_before, plan.audit_after), note=ask.reason)


def _fields(appointment: StoredAppointment, changes: Mapping[str, Any]) -> dict[str, Any]:
    return {name: getattr(appointment, name) for name in changes}
