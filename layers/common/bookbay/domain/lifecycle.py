"""The appointment lifecycle: every state and transition, declared once, as a table.

Each row of ``LIFECYCLE`` says, for one action: the states it may start from, the state it leads
to (None: the status stays), who may take it, when (before or after the start), and the effects
it causes. ``services.lifecycle`` applies the table for every entry point (the public booking,
the customer's ``/c/`` link, the store's ``/s/`` link, every staff action and PATCH); a
transition the table does not allow is an ``InvalidTransition`` (409 ``invalid_transition``)
everywhere, in the words of ``refusal``.

Effects:

- ``hold_capacity`` / ``move_capacity`` / ``release_capacity``: the slots' counters change in the
  transition's own transaction (conditional per slot, so no slot is ever over-sold);
- ``notify_customer`` / ``notify_store``: outbox messages in the same transaction;
- ``sync_reminder``: an outbox effect in the same transaction; the worker then makes the reminder
  schedule match the appointment as it is (``REMINDER_DUE_IN``: created or moved while it is
  confirmed, deleted otherwise);
- ``start_reviews``: an outbox effect in the same transaction; the worker starts the review
  requests (``services.review_requests``).

Link expiry is part of the lifecycle too: ``LINK_ACTIVE_IN`` says in which states each kind of
link still works; every transition to another state ends them (410), with no token to delete.
The ``customer`` link also ends once the appointment's time has ended, the ``staff`` one once it
has started (see ``link_active``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, TypeVar, get_args

from bookbay.domain.booking import (
    HOLDS_CAPACITY,
    Appointment,
    AppointmentStatus,
    CustomerConfirmation,
)
from bookbay.exceptions import InvalidTransition

Action = Literal[
    "request",
    "book",
    "confirm",
    "customer_confirm",
    "reschedule",
    "request_reschedule",
    "check_in",
    "complete",
    "cancel",
    "no_show",
    "send_confirmation",
    "edit",
]
ActorKind = Literal["customer", "staff", "system"]
EffectKind = Literal[
    "hold_capacity",
    "move_capacity",
    "release_capacity",
    "notify_customer",
    "notify_store",
    "sync_reminder",
    "start_reviews",
]
Timing = Literal["any", "before_start", "after_start"]
LinkKind = Literal["customer", "staff", "review"]

# The state of an appointment not written yet: what a booking starts from.
NEW: Final = "new"
ALL_STATUSES: frozenset[str] = frozenset(get_args(AppointmentStatus))
# The one state in which a reminder is due (the reminder schedule follows it).
REMINDER_DUE_IN: frozenset[str] = frozenset({"confirmed"})
# The states in which each kind of link works; leaving them ends the link (410).
LINK_ACTIVE_IN: dict[LinkKind, frozenset[str]] = {
    "customer": HOLDS_CAPACITY,
    "staff": HOLDS_CAPACITY,
    "review": ALL_STATUSES,
}


@dataclass(frozen=True)
class Rule:
    """One transition: ``action`` from ``from_states`` to ``to_state`` (None: unchanged), by
    ``by``, at ``timing``, causing ``effects``. ``verb`` completes "cannot ..." in the refusal."""

    action: Action
    from_states: frozenset[str]
    to_state: AppointmentStatus | None
    by: frozenset[ActorKind]
    effects: tuple[EffectKind, ...]
    verb: str
    timing: Timing = "any"


_CUSTOMER: frozenset[ActorKind] = frozenset({"customer"})
_STAFF: frozenset[ActorKind] = frozenset({"staff"})
_ANYONE_BOOKING: frozenset[ActorKind] = frozenset({"customer", "staff"})
_NEW: frozenset[str] = frozenset({NEW})
_TO_CONFIRM: frozenset[str] = frozenset({"requested", "reschedule_requested"})
_CUSTOMER_MAY_ANSWER: frozenset[str] = frozenset({"requested", "confirmed"})

LIFECYCLE: tuple[Rule, ...] = (
    # A booking in request mode: staff confirm it later.
    Rule(
        "request",
        _NEW,
        "requested",
        _ANYONE_BOOKING,
        ("hold_capacity", "notify_customer", "notify_store"),
        "be requested",
        "before_start",
    ),
    # A booking in instant mode, or entered by staff: confirmed at once.
    Rule(
        "book",
        _NEW,
        "confirmed",
        _ANYONE_BOOKING,
        ("hold_capacity", "notify_customer", "notify_store", "sync_reminder"),
        "be booked",
        "before_start",
    ),
    Rule("confirm", _TO_CONFIRM, "confirmed", _STAFF, ("notify_customer", "sync_reminder"), "be confirmed"),
    # The customer's word only: it never confirms on the store's behalf.
    Rule("customer_confirm", _CUSTOMER_MAY_ANSWER, None, _CUSTOMER, (), "be confirmed"),
    Rule(
        "reschedule",
        HOLDS_CAPACITY,
        "confirmed",
        _STAFF,
        ("move_capacity", "notify_customer", "sync_reminder"),
        "be moved",
        "before_start",
    ),
    # The appointment keeps its time and its slots until staff move or cancel it.
    Rule(
        "request_reschedule",
        _CUSTOMER_MAY_ANSWER,
        "reschedule_requested",
        _CUSTOMER,
        ("notify_store", "sync_reminder"),
        "be rescheduled",
    ),
    Rule(
        "check_in",
        HOLDS_CAPACITY,
        "checked_in",
        _STAFF,
        ("release_capacity", "sync_reminder"),
        "be checked in",
    ),
    Rule("complete", frozenset({"checked_in"}), "completed", _STAFF, ("start_reviews",), "be completed"),
    Rule(
        "cancel",
        HOLDS_CAPACITY,
        "cancelled",
        _STAFF,
        ("release_capacity", "notify_customer", "sync_reminder"),
        "be cancelled",
    ),
    Rule(
        "no_show",
        HOLDS_CAPACITY,
        "no_show",
        _STAFF,
        ("release_capacity", "sync_reminder"),
        "be marked a no-show",
        "after_start",
    ),
    Rule(
        "send_confirmation",
        frozenset({"confirmed"}),
        None,
        _STAFF,
        ("notify_customer",),
        "be sent its e-confirmation",
        "before_start",
    ),
    Rule("edit", ALL_STATUSES, None, _STAFF, (), "be edited"),
)
RULES: dict[Action, Rule] = {rule.action: rule for rule in LIFECYCLE}
if set(RULES) != set(get_args(Action)):  # pragma: no cover - a row per action, once each
    raise RuntimeError("LIFECYCLE must declare every action exactly once")

_TIMING_REFUSAL: dict[Timing, str] = {
    "any": "",
    "before_start": "An appointment whose time has come cannot {verb}.",
    "after_start": "An appointment can {verb} only once its time has come.",
}


def status_words(status: str) -> str:
    return status.replace("_", " ")


def refusal(rule: Rule, status: str) -> str:
    """The one sentence every entry point answers a transition the table does not allow with."""
    return f"An appointment that is {status_words(status)} cannot {rule.verb}."


def allows(rule: Rule, status: str, by: ActorKind) -> bool:
    return status in rule.from_states and by in rule.by


def check(action: Action, status: str, by: ActorKind, *, start: datetime | None, now: datetime) -> Rule:
    """The rule of ``action`` when it may be taken from ``status`` by ``by`` at ``now`` (for an
    appointment starting at ``start``); else InvalidTransition, in the table's words."""
    rule = RULES[action]
    if not allows(rule, status, by):
        if status in rule.from_states:  # the state allows it, but not to this actor
            raise InvalidTransition(f"This action is not open to the {by} on an appointment.")
        raise InvalidTransition(refusal(rule, status))
    if start is not None and rule.timing != "any":
        started = start <= now
        if (rule.timing == "before_start" and started) or (rule.timing == "after_start" and not started):
            raise InvalidTransition(_TIMING_REFUSAL[rule.timing].format(verb=rule.verb))
    return rule


def link_active(kind: LinkKind, appointment: Appointment, now: datetime) -> bool:
    """A link works in its states (``LINK_ACTIVE_IN``); a customer link until the appointment's
    time has ended, a staff link until it has started (nothing is left to confirm or move)."""
    if appointment.status not in LINK_ACTIVE_IN[kind]:
        return False
    if kind == "customer":
        return now < appointment.end
    if kind == "staff":
        return now < appointment.start
    return True


# ------------------------------------------------------------------------------ what each becomes
_A = TypeVar("_A", bound=Appointment)


def became(appointment: _A, action: Action, now: datetime, **fields: object) -> _A:
    """The appointment after ``action`` (already checked against the table): its new status, the
    time stamp of the change, and one more ``sequence`` (its calendar event's) where the event
    changes. The time and slots of a reschedule come in ``fields``."""
    rule = RULES[action]
    update: dict[str, object] = {"updated_at": now, **fields}
    if rule.to_state is not None:
        update["status"] = rule.to_state
    stamp = _STAMPS.get(action)
    if stamp is not None:
        update[stamp] = now
    if action == "customer_confirm":
        update["customer_confirmation"] = CustomerConfirmation(at=now, start=appointment.start)
    elif action == "request_reschedule":
        update["customer_confirmation"] = None
    if action in _CHANGES_THE_EVENT:
        update["sequence"] = appointment.sequence + 1
    return appointment.model_copy(update=update)


_STAMPS: dict[Action, str] = {
    "check_in": "checked_in_at",
    "complete": "completed_at",
    "cancel": "cancelled_at",
    "no_show": "no_show_at",
    "request_reschedule": "reschedule_requested_at",
}
# What changes the calendar event (its STATUS or time): the ``sequence`` goes up.
_CHANGES_THE_EVENT: frozenset[Action] = frozenset(
    {"confirm", "reschedule", "request_reschedule", "check_in", "complete", "cancel", "no_show"}
)
