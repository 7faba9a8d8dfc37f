"""Every (state, action, actor) pair, walked over the appointments service on moto: an allowed
transition writes its new state (one version up) and its effects; any other answers
InvalidTransition (409 ``invalid_transition``) in the table's words and changes nothing stored.

The expectations below are written out from the product's rules (SPEC: the appointment
lifecycle), not read from ``domain.lifecycle``, so a wrong row in the table fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import product
from typing import Any

import boto3
import pytest

from bookbay.domain.audit import CUSTOMER, SYSTEM, Actor
from bookbay.domain.booking import AppointmentStatus
from bookbay.domain.catalog import Catalog
from bookbay.domain.lifecycle import LIFECYCLE, Action
from bookbay.exceptions import InvalidTransition
from bookbay.models import keys
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import lifecycle
from bookbay.services.lifecycle import Ask, LifecycleDeps
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack
from tests.support.appointments import local, next_weekday, past_weekday, seed_appointment

pytestmark = pytest.mark.integration

STATUSES: tuple[AppointmentStatus, ...] = (
    "requested",
    "confirmed",
    "reschedule_requested",
    "checked_in",
    "completed",
    "cancelled",
    "no_show",
)
HOLDING = {"requested", "confirmed", "reschedule_requested"}
STAFF = Actor(kind="staff", sub="staff-1", email="sam@demo-auto.example.com")
ACTORS = {"staff": STAFF, "customer": CUSTOMER, "system": SYSTEM}

# action -> (from states, who, the status after (None: unchanged), when: any | upcoming | started)
EXPECTED: dict[Action, tuple[set[str], set[str], str | None, str]] = {
    "confirm": ({"requested", "reschedule_requested"}, {"staff"}, "confirmed", "any"),
    "customer_confirm": ({"requested", "confirmed"}, {"customer"}, None, "any"),
    "reschedule": (HOLDING, {"staff"}, "confirmed", "upcoming"),
    "request_reschedule": ({"requested", "confirmed"}, {"customer"}, "reschedule_requested", "any"),
    "check_in": (HOLDING, {"staff"}, "checked_in", "any"),
    "complete": ({"checked_in"}, {"staff"}, "completed", "any"),
    "cancel": (HOLDING, {"staff"}, "cancelled", "any"),
    "no_show": (HOLDING, {"staff"}, "no_show", "started"),
    "send_confirmation": ({"confirmed"}, {"staff"}, None, "upcoming"),
    "edit": (set(STATUSES), {"staff"}, None, "any"),
}
# What each allowed action leaves for the outbox worker.
EFFECTS: dict[Action, list[str]] = {
    "confirm": ["reminder.sync"],
    "reschedule": ["reminder.sync"],
    "request_reschedule": ["reminder.sync"],
    "check_in": ["reminder.sync"],
    "cancel": ["reminder.sync"],
    "no_show": ["reminder.sync"],
    "complete": ["review.start"],
}


@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    return CatalogRepository(seeded.table_name, REGION).catalog()


@pytest.fixture
def deps(seeded: Stack) -> LifecycleDeps:
    return LifecycleDeps(
        catalog=CatalogRepository(seeded.table_name, REGION),
        appointments=AppointmentRepository(seeded.table_name, REGION),
        public_base_url=PUBLIC_BASE_URL,
    )


def _query(stack: Stack, **kwargs: Any) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = client.query(TableName=stack.table_name, **kwargs)["Items"]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def appointment_items(stack: Stack, appointment_id: str, *moved_to: datetime) -> list[dict[str, Any]]:
    """The appointment's own items (the appointment and what hangs on it) and its slots' counters
    (and those of the slots of ``moved_to``)."""
    own = _query(
        stack,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.appointment_pk(appointment_id)}},
    )
    (appointment,) = [i for i in own if i["entity"]["S"] == "Appointment"]
    body = json.loads(appointment["body"]["S"])
    starts = {datetime.fromisoformat(s) for s in body["slot_starts"]} | set(moved_to)
    client = boto3.client("dynamodb", region_name=REGION)
    slots = [
        found["Item"]
        for start in sorted(starts)
        if "Item"
        in (
            found := client.get_item(
                TableName=stack.table_name,
                Key={"PK": {"S": keys.location_pk(body["location_id"])}, "SK": {"S": keys.slot_sk(start)}},
            )
        )
    ]
    return own + slots


def effect_names(stack: Stack) -> list[str]:
    """The effects waiting for the outbox worker (each waits in the due index until applied)."""
    due = _query(
        stack,
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :due",
        ExpressionAttributeValues={":due": {"S": keys.OUTBOX_DUE_GSI3PK}},
    )
    return sorted(json.loads(i["body"]["S"])["name"] for i in due if i["entity"]["S"] == "Effect")


def holds(stack: Stack, appointment_id: str, slot_starts: Any) -> list[str]:
    """What the slots of ``slot_starts`` count as used."""
    wanted = {keys.slot_sk(s) for s in slot_starts}
    return [
        i["used"]["N"]
        for i in appointment_items(stack, appointment_id, *slot_starts)
        if i["entity"]["S"] == "Slot" and i["SK"]["S"] in wanted
    ]


def test_the_table_declares_every_action_once_and_the_walk_covers_it() -> None:
    declared = [rule.action for rule in LIFECYCLE]
    assert len(declared) == len(set(declared))
    # "request" and "book" start from no appointment: services.booking applies them (its tests)
    assert set(declared) - {"request", "book"} == set(EXPECTED)


def starts(when: str, now: datetime) -> Iterator[datetime]:
    """A slot of its own for each appointment of the walk (capacity is 2 a slot): every half hour
    from 08:00 to 16:30 in Austin, on open days a week ahead (upcoming) or before today (started)."""
    day = next_weekday(now.date(), 7) if when == "upcoming" else past_weekday(1)
    while True:
        for half_hour in range(18):
            yield local(day, 8 + half_hour // 2, 30 * (half_hour % 2))
        day = next_weekday(day, 1) if when == "upcoming" else past_weekday((now.date() - day).days + 1)


@pytest.mark.parametrize("status", STATUSES)
def test_every_action_by_every_actor_from_every_state(
    seeded: Stack, catalog: Catalog, deps: LifecycleDeps, status: AppointmentStatus
) -> None:
    now = datetime.now(UTC)
    new_start = local(next_weekday(now.date(), 21), 11)  # where a reschedule moves it
    walked, effects_before = 0, effect_names(seeded)
    slots = {when: starts(when, now) for when in ("upcoming", "started")}
    for when, action, kind in product(slots, EXPECTED, ACTORS):
        from_states, who, after, timing = EXPECTED[action]
        seeded_appointment = seed_appointment(catalog, next(slots[when]), status=status)
        appointment_id = seeded_appointment.appointment.id
        before = appointment_items(seeded, appointment_id, new_start)
        stored = deps.appointments.get(appointment_id)
        assert stored is not None
        ask = Ask(
            action,
            ACTORS[kind],
            start=new_start if action == "reschedule" else None,
            reason="Customer called" if action == "cancel" else None,
            changes={"notes": "Walked"} if action == "edit" else {},
        )
        allowed = status in from_states and kind in who and timing in ("any", when)
        label = f"{action} by {kind} from {status} ({when})"
        if not allowed:
            with pytest.raises(InvalidTransition) as refused:
                lifecycle.act(deps, appointment_id, ask, now)
            assert refused.value.code == "invalid_transition", label  # 409 on every route
            if status not in from_states:
                words = status.replace("_", " ")
                assert str(refused.value).startswith(f"An appointment that is {words} cannot "), label
            assert appointment_items(seeded, appointment_id, new_start) == before, label  # nothing
            assert effect_names(seeded) == effects_before, label
        else:
            applied = lifecycle.act(deps, appointment_id, ask, now)
            got = deps.appointments.get(appointment_id)
            assert got is not None, label
            assert got.status == (after or status), label
            if applied.changed:
                assert got.version == stored.version + 1, label
                expected_effects = sorted(effects_before + EFFECTS.get(action, []))
                assert effect_names(seeded) == expected_effects, label
                effects_before = expected_effects
            else:  # the customer confirming a time they had confirmed already writes nothing
                assert appointment_items(seeded, appointment_id, new_start) == before, label
            if status in HOLDING:  # capacity follows the status: held, moved, or given back
                still = got.status in HOLDING
                assert holds(seeded, appointment_id, stored.slot_starts) == (
                    ["1"] if still and action != "reschedule" else ["0"]
                ), label
                if action == "reschedule":
                    assert holds(seeded, appointment_id, got.slot_starts) == ["1"], label
        walked += 1
    assert walked == 2 * len(EXPECTED) * len(ACTORS) == 60


def test_the_time_decides_for_moving_and_no_shows(
    seeded: Stack, catalog: Catalog, deps: LifecycleDeps
) -> None:
    now = datetime.now(UTC)
    upcoming = seed_appointment(catalog, local(next_weekday(now.date(), 7), 10), status="confirmed")
    with pytest.raises(InvalidTransition, match="can be marked a no-show only once its time has come"):
        lifecycle.act(deps, upcoming.appointment.id, Ask("no_show", STAFF), now)
    started = seed_appointment(catalog, local(past_weekday(1), 10), status="confirmed")
    later = local(next_weekday(now.date(), 7), 11)
    with pytest.raises(InvalidTransition, match="whose time has come cannot be moved"):
        lifecycle.act(deps, started.appointment.id, Ask("reschedule", STAFF, start=later), now)
