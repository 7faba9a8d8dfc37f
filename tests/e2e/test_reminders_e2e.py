"""Reminders over HTTP on the local stack: book, confirm from the staff page, then let time pass
with ``POST /_local/scheduler/run {until}``. The reminder fires at 09:00 Austin time on the
business day before drop-off (a weekend, a holiday and a daylight-saving change in between), not
a second earlier; it arrives once (in /_local/messages, with a manage link); a rescheduled
appointment gets one reminder, at the new time; one cancelled or checked in through the admin API
gets none (and its link answers 410).
Where the date a test needs lies past the booking horizon, the test widens it for its booking."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.booking import (
    SERVICE,
    book_last_free_slot,
    closed,
    drain,
    first_day,
    messages_to,
    run_scheduler,
)

pytestmark = pytest.mark.e2e
AUSTIN = ZoneInfo("America/Chicago")


# ------------------------------------------------------------------------------ an independent calendar
def expected_reminder(drop_off: date) -> datetime:
    """09:00 in Austin on the last open weekday before ``drop_off`` (the demo: 1 business day)."""
    day = drop_off - timedelta(days=1)
    while closed(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=AUSTIN)


# ------------------------------------------------------------------------------ over HTTP
def email(last_name: str) -> str:
    return f"{last_name.lower()}@example.com"


def book(http: httpx.Client, day: date, last_name: str) -> dict[str, Any]:
    customer = {
        "first_name": "Remy",
        "last_name": last_name,
        "phone": "+1 512-555-0177",
        "email": email(last_name),
    }
    vehicle = {"year": 2020, "make": "Ford", "model": "Escape"}
    appointment: dict[str, Any] = book_last_free_slot(http, day, customer, vehicle)["appointment"]
    return appointment


def reminders_to(http: httpx.Client, last_name: str) -> list[dict[str, Any]]:
    return [m for m in messages_to(http, email(last_name)) if (m["subject"] or "").startswith("Reminder:")]


def staff_link(http: httpx.Client, local_stack: Any, last_name: str) -> str:
    drain(http)
    (store,) = [
        m
        for m in http.get("/_local/messages").json()["messages"]
        if last_name in m["text"] and (m["subject"] or "").startswith("Appointment request")
    ]
    found = re.search(rf"{re.escape(local_stack.base_url)}/s/[A-Za-z0-9_-]+", store["text"])
    assert found is not None
    return found.group(0)


def confirm(http: httpx.Client, local_stack: Any, last_name: str) -> str:
    link = staff_link(http, local_stack, last_name)
    done = http.post(f"{link}/confirm", data={"action": "confirm"})
    assert done.status_code == 200 and "Confirmed" in done.text, done.text[:1000]
    return link


def fired_for(fired: list[dict[str, Any]], appointment_id: str) -> list[dict[str, Any]]:
    return [f for f in fired if f["name"] == f"reminder-{appointment_id}"]


def assert_reminded_once_at(
    http: httpx.Client, appointment: dict[str, Any], last_name: str, at: datetime
) -> dict[str, Any]:
    """Nothing until a second before ``at``; at ``at`` the reminder fires and arrives, once."""
    assert fired_for(run_scheduler(http, at - timedelta(seconds=1)), appointment["id"]) == []
    assert reminders_to(http, last_name) == []
    (fired,) = fired_for(run_scheduler(http, at), appointment["id"])
    assert fired["target_function"] == "RemindersFunction" and fired["result"] == {"outcome": "sent"}
    assert fired["scheduled_time"] == at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (reminder,) = reminders_to(http, last_name)
    start = datetime.fromisoformat(appointment["start"])
    assert f"{start:%B} {start.day}, {start.year}" in reminder["text"]
    assert re.search(r"/c/[A-Za-z0-9_-]{16,}", reminder["text"]) and reminder["html"]
    # the schedule deleted itself: later runs fire nothing more for it
    assert fired_for(run_scheduler(http, at + timedelta(days=30)), appointment["id"]) == []
    assert len(reminders_to(http, last_name)) == 1
    return reminder


def confirmation_link(http: httpx.Client, local_stack: Any, last_name: str) -> str:
    """The customer's link in their e-confirmation ("... confirmed") e-mail."""
    (mail,) = [m for m in messages_to(http, email(last_name)) if "confirmed" in (m["subject"] or "")]
    link = re.search(rf"{re.escape(local_stack.base_url)}/c/[A-Za-z0-9_-]+", mail["text"])
    assert link is not None, mail["text"]
    return link.group(0)


# ------------------------------------------------------------------------------ the tests
def test_a_monday_drop_off_is_reminded_on_the_open_weekday_before_at_nine(
    http: httpx.Client, local_stack: Any
) -> None:
    # A Monday 3 weeks or more ahead: the reminder skips the weekend (and a Friday holiday, if any)
    today = datetime.now(UTC).date()
    monday = first_day(today + timedelta(days=21), lambda d: d.weekday() == 0 and not closed(d))
    last_name = f"Monday{uuid.uuid4().hex[:8]}"
    appointment = book(http, monday, last_name)
    confirm(http, local_stack, last_name)
    at = expected_reminder(monday)
    assert at.weekday() == 4 or closed(at.date() + timedelta(days=1))
    assert_reminded_once_at(http, appointment, last_name, at)


@contextmanager
def horizon_reaching(http: httpx.Client, staff: dict[str, str], day: date) -> Iterator[None]:
    """The shop's booking horizon widened to reach ``day`` while the block runs (restored after)."""
    current = http.get("/v1/admin/settings", headers=staff)
    assert current.status_code == 200, current.text
    before = current.json()["settings"]["horizon_days"]
    horizon = max(before, (day - datetime.now(UTC).date()).days + 2)
    response = http.patch("/v1/admin/settings", json={"changes": {"horizon_days": horizon}}, headers=staff)
    assert response.status_code == 200, response.text
    try:
        yield
    finally:
        restored = http.patch("/v1/admin/settings", json={"changes": {"horizon_days": before}}, headers=staff)
        assert restored.status_code == 200, restored.text


def test_the_day_after_a_holiday_is_reminded_before_the_holiday(
    http: httpx.Client, local_stack: Any, staff: dict[str, str]
) -> None:
    today = datetime.now(UTC).date()
    # the first open weekday after a weekday holiday (or extra closed date) at least 3 days ahead
    day = first_day(
        today + timedelta(days=3),
        lambda d: not closed(d) and closed(d - timedelta(days=1)) and (d - timedelta(days=1)).weekday() < 5,
    )
    last_name = f"Holiday{uuid.uuid4().hex[:8]}"
    with horizon_reaching(http, staff, day):
        appointment = book(http, day, last_name)
        confirm(http, local_stack, last_name)
    at = expected_reminder(day)
    assert at.date() < day - timedelta(days=1)
    assert_reminded_once_at(http, appointment, last_name, at)


def test_a_rescheduled_appointment_gets_one_reminder_at_the_new_time(
    http: httpx.Client, local_stack: Any
) -> None:
    today = datetime.now(UTC).date()
    monday = first_day(today + timedelta(days=28), lambda d: d.weekday() == 0 and not closed(d))
    last_name = f"Moved{uuid.uuid4().hex[:8]}"
    appointment = book(http, monday, last_name)
    link = confirm(http, local_stack, last_name)
    # Staff move it to the first open day at least a week later
    later = first_day(monday + timedelta(days=7), lambda d: not closed(d))
    response = http.get("/v1/availability", params={**SERVICE, "from": later.isoformat(), "days": 1})
    new_start = [s["start"] for s in response.json()["slots"] if s["remaining"] >= 1][-1]
    moved = http.post(f"{link}/reschedule", data={"start": new_start})
    assert moved.status_code == 200 and "Moved to" in moved.text, moved.text[:1000]
    # The old reminder time passes without a reminder; the new one brings exactly one
    assert (
        fired_for(run_scheduler(http, expected_reminder(monday) + timedelta(hours=1)), appointment["id"])
        == []
    )
    assert reminders_to(http, last_name) == []
    assert_reminded_once_at(http, {**appointment, "start": new_start}, last_name, expected_reminder(later))


def test_across_a_daylight_saving_change_the_reminder_is_at_nine_local(
    http: httpx.Client, local_stack: Any, staff: dict[str, str]
) -> None:
    # The first open weekday after the next change of Austin's UTC offset, whose open weekday
    # before is on the other side of it (the booking horizon is widened for the test)
    today = datetime.now(UTC).date()

    def offset(day: date) -> timedelta | None:
        return datetime.combine(day, time(12), tzinfo=AUSTIN).utcoffset()

    day = first_day(
        today + timedelta(days=3),
        lambda d: not closed(d) and offset(d) != offset(expected_reminder(d).date()),
    )
    last_name = f"Dst{uuid.uuid4().hex[:8]}"
    with horizon_reaching(http, staff, day):
        appointment = book(http, day, last_name)
        confirm(http, local_stack, last_name)
    at = expected_reminder(day)
    start = datetime.fromisoformat(appointment["start"])
    assert at.utcoffset() != start.utcoffset()  # the reminder's 09:00 is on the other offset
    # A naive "same clock time on the drop-off's offset" would be an hour off either way
    naive = datetime.combine(at.date(), time(9), tzinfo=start.tzinfo)
    assert naive != at
    assert fired_for(run_scheduler(http, min(naive, at) - timedelta(seconds=1)), appointment["id"]) == []
    assert_reminded_once_at(http, appointment, last_name, at)


def test_a_cancelled_appointment_gets_no_reminder(
    http: httpx.Client, local_stack: Any, staff: dict[str, str]
) -> None:
    # Given a confirmed appointment (its reminder scheduled), cancelled by staff in the admin API
    today = datetime.now(UTC).date()
    day = first_day(today + timedelta(days=35), lambda d: d.weekday() == 2 and not closed(d))
    last_name = f"Cancel{uuid.uuid4().hex[:8]}"
    appointment = book(http, day, last_name)
    confirm(http, local_stack, last_name)
    cancelled = http.post(
        f"/v1/admin/appointments/{appointment['id']}/cancel",
        json={"reason": "Customer called"},
        headers=staff,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["appointment"]["status"] == "cancelled"
    # Then its reminder time passes with nothing fired and nothing sent; the customer was told
    assert (
        fired_for(run_scheduler(http, expected_reminder(day) + timedelta(hours=1)), appointment["id"]) == []
    )
    assert reminders_to(http, last_name) == []
    assert any("has been cancelled" in (m["subject"] or "") for m in messages_to(http, email(last_name)))
    # and the customer's link answers 410
    assert http.get(confirmation_link(http, local_stack, last_name)).status_code == 410


def test_a_checked_in_appointment_gets_no_reminder_and_its_link_is_no_longer_active(
    http: httpx.Client, local_stack: Any, staff: dict[str, str]
) -> None:
    # Given a confirmed appointment whose vehicle the store checks in early (admin API)
    today = datetime.now(UTC).date()
    day = first_day(today + timedelta(days=36), lambda d: d.weekday() == 3 and not closed(d))
    last_name = f"CheckIn{uuid.uuid4().hex[:8]}"
    appointment = book(http, day, last_name)
    confirm(http, local_stack, last_name)
    link = confirmation_link(http, local_stack, last_name)
    assert http.get(link).status_code == 200
    checked_in = http.post(f"/v1/admin/appointments/{appointment['id']}/check-in", headers=staff)
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["appointment"]["status"] == "checked_in"
    # Then the customer's link says it is no longer active, and changes nothing
    page = http.get(link)
    assert page.status_code == 410 and "no longer active" in page.text
    assert http.post(f"{link}/confirm", data={"action": "confirm"}).status_code == 410
    # and the reminder's time passes with nothing fired and nothing sent
    assert (
        fired_for(run_scheduler(http, expected_reminder(day) + timedelta(hours=1)), appointment["id"]) == []
    )
    assert reminders_to(http, last_name) == []
