"""Booking over HTTP on the local stack: one booking end to end, and races for one slot.

The races send 25 bookings at once (different customers, different Idempotency-Keys) for a slot of
capacity 2: the local stack runs them concurrently (a pool of function containers) against moto,
and the slot's conditional capacity must let exactly two through. The slot items are then read
straight from moto. They use Phoenix Camelback, whose slots the other e2e tests leave alone.

Every customer books from a loopback address of their own, with the verification token of their
e-mail where the shop asks for one (tests/e2e/booking.py); the racers all verify before the race.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bookbay.domain.availability import slot_starts
from bookbay.models import keys
from bookbay.shopfile import read_shop_file
from tests.e2e.booking import (
    first_day,
    is_code,
    messages_to,
    post_booking,
    requires_verification,
    verification_tokens,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
PHOENIX = ZoneInfo("America/Phoenix")
LOCATION = "phoenix-camelback"
TABLE = "bookbay-local-BookbayTable"
THREADS = 25
RUN = uuid.uuid4().hex[:6]  # the racers' e-mails are this run's own (each verifies one)
CATALOG = read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")


def is_open(day: date) -> bool:
    """Whether the Phoenix store takes bookings on ``day`` (a weekday with slots)."""
    location = CATALOG.location(LOCATION)
    assert location is not None
    return day.weekday() < 5 and bool(slot_starts(location, CATALOG.shop.settings, day))


def open_day(days_ahead: int) -> date:
    """A day the Phoenix store is open, at least ``days_ahead`` days from now (within the horizon)."""
    return first_day(datetime.now(PHOENIX).date() + timedelta(days=days_ahead), is_open)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), tzinfo=PHOENIX)


def booking(start: datetime, n: int, *, service_id: str = "oil-change") -> dict[str, Any]:
    return {
        "location_id": LOCATION,
        "service_id": service_id,
        "appointment_type": "in_store",
        "start": start.isoformat(),
        "customer": {
            "first_name": "Racer",
            "last_name": f"Number{n}",
            "phone": f"+1 602-555-{n:04d}",
            "email": f"racer{n}-{RUN}@example.com",
        },
        "vehicle": {"year": 2020, "make": "Mazda", "model": "CX-5"},
        "source": "e2e-race",
    }


def verified(http: httpx.Client, bodies: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The headers each body's customer books with: their verification token where the shop asks."""
    if not requires_verification(http):
        return [{} for _ in bodies]
    tokens = verification_tokens(http, [body["customer"] for body in bodies])
    return [{"Authorization": f"Bearer {token}"} for token in tokens]


def race(
    http: httpx.Client, bodies: list[dict[str, Any]], headers: list[dict[str, str]]
) -> list[httpx.Response]:
    """Send every body at the same moment, each from its own thread, address and connection (as
    separate customers' browsers would)."""
    start = threading.Barrier(len(bodies))

    def send(call: tuple[dict[str, Any], dict[str, str]]) -> httpx.Response:
        body, authorized = call
        start.wait()
        return post_booking(http, body, headers=authorized)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, zip(bodies, headers, strict=True)))


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Keep a race's figures in tests/e2e/artifacts/booking-races.json (for the closing notes)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "booking-races.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    recorded[name] = {str(k): v for k, v in figures.items()}
    path.write_text(json.dumps(recorded, indent=2, default=str) + "\n")


def used(dynamodb: Any, slot: datetime) -> int:
    item = dynamodb.get_item(
        TableName=TABLE,
        Key={"PK": {"S": keys.location_pk(LOCATION)}, "SK": {"S": keys.slot_sk(slot)}},
        ConsistentRead=True,
    ).get("Item")
    return int(item["used"]["N"]) if item else 0


def appointments_on(dynamodb: Any, day: date) -> list[dict[str, Any]]:
    answer = dynamodb.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :day)",
        ExpressionAttributeValues={":pk": {"S": f"LOCATION#{LOCATION}"}, ":day": {"S": day.isoformat()}},
    )
    return list(answer["Items"])


# ------------------------------------------------------------------------------ one booking
def test_a_booking_over_http_answers_201_and_a_replay_the_same(local_stack: Any, http: httpx.Client) -> None:
    start = at(open_day(5), 8)
    body = booking(start, 1)
    body["customer"]["email"] = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    key = str(uuid.uuid4())

    first = post_booking(http, body, key=key)
    assert first.status_code == 201, first.text
    appointment = first.json()["appointment"]
    assert appointment["status"] == "requested"
    assert (
        appointment["start"] == start.isoformat()
        and appointment["end"] == (start + timedelta(minutes=30)).isoformat()
    )
    assert first.json()["manage_url"].startswith(local_stack.base_url + "/c/")

    again = post_booking(http, body, key=key)
    assert (again.status_code, again.json()) == (201, first.json())
    other = post_booking(http, {**body, "notes": "changed my mind"}, key=key)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"

    # The customer's e-mail goes out through the outbox (the stream delivers it), once
    sent = [m for m in messages_to(http, body["customer"]["email"]) if not is_code(m)]
    assert len(sent) == 1, sent


# ------------------------------------------------------------------------------ races
def test_25_concurrent_bookings_of_a_capacity_2_slot_make_exactly_2(
    http: httpx.Client, dynamodb: Any
) -> None:
    day = open_day(8)
    slot = at(day, 13)
    bodies = [booking(slot, 100 + n) for n in range(THREADS)]
    headers = verified(http, bodies)

    started = time.monotonic()
    responses = race(http, bodies, headers)
    elapsed = time.monotonic() - started

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 2, 409: 23}, [r.text for r in responses if r.status_code not in (201, 409)]
    for refused in (r for r in responses if r.status_code == 409):
        error = refused.json()["error"]
        assert error["code"] == "slot_unavailable"
        assert error["alternatives"] and all(a["start"] != slot.isoformat() for a in error["alternatives"])
    assert used(dynamodb, slot) == 2
    booked = {r.json()["appointment"]["id"] for r in responses if r.status_code == 201}
    on_day = [
        item for item in appointments_on(dynamodb, day) if item["GSI1SK"]["S"].startswith(f"{day}T13:00")
    ]
    assert {item["PK"]["S"].removeprefix("APPOINTMENT#") for item in on_day} == booked
    record_figures(
        "same_slot",
        {"requests": THREADS, "statuses": dict(statuses), "slot_used": 2, "seconds": round(elapsed, 2)},
    )


def test_a_race_mixing_90_minute_bookings_never_overbooks_any_slot(http: httpx.Client, dynamodb: Any) -> None:
    day = first_day(open_day(8) + timedelta(days=1), is_open)  # not the 25-bookings race's day
    slot = at(day, 13)
    # 12 oil changes at 13:00, and 13 brake jobs at 12:30 (90 minutes: 12:30, 13:00 and 13:30)
    bodies = [booking(slot, 200 + n) for n in range(12)]
    bodies += [
        booking(slot - timedelta(minutes=30), 300 + n, service_id="brake-inspection") for n in range(13)
    ]

    responses = race(http, bodies, verified(http, bodies))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 2, 409: 23}, [r.text for r in responses if r.status_code not in (201, 409)]
    long_ones = sum(
        1 for body, r in zip(bodies, responses, strict=True)
        if r.status_code == 201 and body["service_id"] == "brake-inspection"
    )  # fmt: skip
    assert used(dynamodb, slot) == 2
    assert used(dynamodb, slot - timedelta(minutes=30)) == long_ones
    assert used(dynamodb, slot + timedelta(minutes=30)) == long_ones
    assert len(appointments_on(dynamodb, day)) == 2
    record_figures(
        "mixed_30_and_90_minutes",
        {"requests": len(bodies), "statuses": dict(statuses), "booked_90_minute": long_ones, "slot_used": 2},
    )
