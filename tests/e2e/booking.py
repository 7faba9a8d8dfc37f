"""Helpers the e2e tests share: booking over HTTP (the day's last free slot of the Austin store's
in-store oil change; other e2e tests take the first ones of their days), the demo shop's calendar
read independently of the code under test, the messages the stack sent, and its scheduler."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import httpx

from bookbay.shopfile import read_shop_file

ROOT = Path(__file__).resolve().parents[2]
SERVICE = {"location_id": "austin-downtown", "service_id": "oil-change", "appointment_type": "in_store"}
DEMO = read_shop_file(ROOT / "ops" / "shops" / "demo.yaml").shop.settings


def book_last_free_slot(
    http: httpx.Client, day: date, customer: dict[str, str], vehicle: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """POST /v1/appointments for ``day``'s last free start (``extra``: more body fields, e.g.
    ``preferred_channel``); the 201 answer."""
    response = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
    assert response.status_code == 200, response.text
    start = [slot["start"] for slot in response.json()["slots"] if slot["remaining"] >= 1][-1]
    body = {**SERVICE, "start": start, "customer": customer, "vehicle": vehicle, "source": "web", **extra}
    booked = http.post("/v1/appointments", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 201, booked.text
    answer: dict[str, Any] = booked.json()
    return answer


def phone_on_no_customer(
    http: httpx.Client, staff: dict[str, str], area_codes: tuple[str, ...], taken: set[str] | None = None
) -> str:
    """A fictional number (``+1 <area code> 555-01xx``) that is on no customer yet, nor in ``taken``
    (added to it): a stack that ran the tests before holds some, with their history (an opt-out,
    Do Not Service)."""
    taken = taken if taken is not None else set()
    for _ in range(100):
        number = f"+1{random.choice(area_codes)}5550{random.randint(100, 199)}"
        if number in taken:
            continue
        taken.add(number)
        search = http.get("/v1/admin/customers", params={"q": number}, headers=staff)
        assert search.status_code == 200, search.text
        if not search.json()["customers"]:
            return number
    raise AssertionError("100 phone numbers in a row are on customers already: restart the stack")


# ------------------------------------------------------------------------------ the demo's calendar
def closed(day: date) -> bool:
    """The demo shop's closed days, read straight from the holidays library and its shop file."""
    return (
        day.weekday() >= 5
        or day in holidays.country_holidays("US", years=day.year)
        or (day in DEMO.holidays.extra_closed_dates)
    )


def first_day(after: date, wanted: Callable[[date], bool]) -> date:
    """The first day from ``after`` on that is ``wanted``."""
    day = after
    while not wanted(day):
        day += timedelta(days=1)
    return day


# ------------------------------------------------------------------------------ the stack's side
def messages_to(http: httpx.Client, to: str) -> list[dict[str, Any]]:
    """Every message sent to ``to`` (an address or phone number), oldest first, once the outbox
    is delivered (GET /_local/messages)."""
    assert http.post("/_local/streams/drain", json={"timeout_seconds": 30}).json() == {"drained": True}
    return [m for m in http.get("/_local/messages").json()["messages"] if m["to"] == to]


def run_scheduler(http: httpx.Client, until: datetime) -> list[dict[str, Any]]:
    """Let time pass to ``until``: the schedules due by then fire (POST /_local/scheduler/run)."""
    response = http.post("/_local/scheduler/run", json={"until": until.isoformat()})
    assert response.status_code == 200, response.text
    fired: list[dict[str, Any]] = response.json()["fired"]
    return fired
