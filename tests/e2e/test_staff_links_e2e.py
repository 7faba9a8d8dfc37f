"""The store's side of a booking over HTTP on the local stack: the notification e-mail's staff link
opens the page, Confirm e-mails the customer once, and concurrent reschedules into one slot never
overbook it. The customers book as tests/e2e/booking.py does (from an address of their own, verifying
their e-mail with a one-time code where the shop asks)."""

from __future__ import annotations

import re
import subprocess
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.booking import is_code, post_booking
from tests.e2e.browser import CHROMIUM, HEADLESS_FLAGS, require_chromium

pytestmark = pytest.mark.e2e
SERVICE = {"location_id": "austin-downtown", "service_id": "oil-change", "appointment_type": "in_store"}


def a_weekday(days_ahead: int) -> date:
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or (day.month, day.day) in {(11, 26), (11, 27), (12, 24), (12, 25), (12, 31)}:
        day += timedelta(days=1)
    return day


def free_slots(http: httpx.Client, day: date) -> dict[str, int]:
    """Start (ISO) -> remaining, for the oil change at Austin Downtown on ``day``."""
    response = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
    assert response.status_code == 200, response.text
    return {slot["start"]: slot["remaining"] for slot in response.json()["slots"]}


def book(http: httpx.Client, start: str, last_name: str) -> dict[str, Any]:
    body = {
        **SERVICE,
        "start": start,
        "customer": {
            "first_name": "Sam",
            "last_name": last_name,
            "phone": "+1 512-555-0142",
            "email": f"{last_name.lower()}@example.com",
        },
        "vehicle": {"year": 2021, "make": "Toyota", "model": "Corolla"},
        "notes": "<script>alert('notes')</script>",
        "source": "web",
    }
    response = post_booking(http, body)
    assert response.status_code == 201, response.text
    appointment: dict[str, Any] = response.json()["appointment"]
    return appointment


def messages(http: httpx.Client, needle: str) -> list[dict[str, Any]]:
    """What was sent to ``needle``'s address or mentions it, oldest first (once the outbox is delivered)."""
    assert http.post("/_local/streams/drain", json={"timeout_seconds": 20}).json() == {"drained": True}
    return [
        m
        for m in http.get("/_local/messages").json()["messages"]
        if needle in m["text"] or m["to"] == f"{needle.lower()}@example.com"
    ]


def staff_link(http: httpx.Client, local_stack: Any, last_name: str) -> str:
    (store,) = [
        m for m in messages(http, last_name) if m["subject"].strip().startswith("Appointment request")
    ]
    assert store["to"] == "austin@demo-auto.example.com"
    found = re.search(rf"{re.escape(local_stack.base_url)}/s/[A-Za-z0-9_-]+", store["text"])
    assert found is not None, store["text"]
    return found.group(0)


def test_the_staff_link_opens_the_page_and_confirm_emails_the_customer_once(
    http: httpx.Client, local_stack: Any
) -> None:
    # Given a booking and the store's notification e-mail
    day = a_weekday(4)
    start, free = next((s, remaining) for s, remaining in free_slots(http, day).items() if remaining >= 1)
    last_name = f"Confirm{uuid.uuid4().hex[:8]}"
    book(http, start, last_name)
    (received,) = [
        m
        for m in messages(http, last_name)
        if m["to"] == f"{last_name.lower()}@example.com" and not is_code(m)
    ]
    assert received["subject"].strip().startswith("We received your appointment request")
    link = staff_link(http, local_stack, last_name)
    # When staff open it (twice, as a mail scanner would first)
    for _ in range(2):
        page = http.get(link)
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["x-frame-options"] == "DENY"
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert last_name in page.text and "&lt;script&gt;" in page.text and "Confirm appointment" in page.text
    assert free_slots(http, day).get(start, 0) == free - 1  # the booking held one place; GET none more
    # And confirm
    done = http.post(f"{link}/confirm", data={"action": "confirm"})
    assert done.status_code == 200 and "the customer has been e-mailed" in done.text
    # Then the customer gets "confirmed" once, even when staff confirm again
    again = http.post(f"{link}/confirm", data={"action": "confirm"})
    assert again.status_code == 200 and "already confirmed" in again.text
    confirmed = [
        m
        for m in messages(http, last_name)
        if m["subject"].strip().startswith("Your appointment is confirmed")
    ]
    assert len(confirmed) == 1 and confirmed[0]["to"] == f"{last_name.lower()}@example.com"
    assert "/c/" in confirmed[0]["text"]


def test_concurrent_reschedules_into_one_place_succeed_exactly_once(
    http: httpx.Client, local_stack: Any
) -> None:
    # Given a slot with capacity 2 of which one place is taken, and two appointments elsewhere
    day = a_weekday(5)
    free = free_slots(http, day)
    target = next(s for s, remaining in free.items() if remaining == 2)
    first, second = [s for s, remaining in free.items() if remaining == 2 and s != target][:2]
    run = uuid.uuid4().hex[:8]
    book(http, target, f"Holder{run}")
    names = [f"Movera{run}", f"Moverb{run}"]
    book(http, first, names[0])
    book(http, second, names[1])
    links = [staff_link(http, local_stack, name) for name in names]
    assert free_slots(http, day)[target] == 1
    # When staff move both into the last place at the same time
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda link: http.post(f"{link}/reschedule", data={"start": target}), links))
    # Then exactly one gets it; the other sees the page again with fresh times, and nothing is overbooked
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text[:500] for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert "That time was just taken" in refused.text and f'value="{target}"' not in refused.text
    after = free_slots(http, day)
    assert target not in after  # full: the holder and the one that moved
    moved_from = first if answers[0].status_code == 200 else second
    assert after[moved_from] == 2 and after[second if moved_from == first else first] == 1
    moved = [
        m
        for name in names
        for m in messages(http, name)
        if m["subject"].strip().startswith("Your appointment has been moved")
    ]
    assert len(moved) == 1


def test_the_page_renders_in_chromium_under_its_content_security_policy(
    http: httpx.Client, local_stack: Any
) -> None:
    require_chromium()
    day = a_weekday(6)
    start = next(s for s, remaining in free_slots(http, day).items() if remaining >= 1)
    last_name = f"Browser{uuid.uuid4().hex[:8]}"
    book(http, start, last_name)
    link = staff_link(http, local_stack, last_name)
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                CHROMIUM,
                *HEADLESS_FLAGS,
                "--enable-logging=stderr",
                "--v=0",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                link,
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    assert last_name in result.stdout and "Reschedule to this time" in result.stdout
    assert "Content Security Policy" not in result.stderr, result.stderr[-2000:]
