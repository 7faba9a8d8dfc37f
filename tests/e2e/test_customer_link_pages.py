"""The customer's link pages in headless Chromium (Playwright) against the local stack: book over
HTTP as a customer who prefers texts, open the link from the e-confirmation SMS in /_local/messages
once the store confirms, confirm, download the .ics and parse it back, request a reschedule with
the shop setting on, and see no such button with it off.
Screenshots go to tests/e2e/artifacts/customer-link-*.png."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from playwright.sync_api import Browser, Page

from tests.e2e.booking import book_last_free_slot, messages_to
from tests.e2e.browser import require_chromium

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE = "+15125550168"
REPRESENTATIVE = "A representative from Bookbay Demo Auto will be contacting you to reschedule your repair"

require_chromium()


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A phone-sized viewport: the pages are mobile-first.
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    try:
        tab = context.new_page()
        yield tab
    finally:
        context.close()


def set_reschedule_requests(http: httpx.Client, staff: dict[str, str], enabled: bool) -> None:
    response = http.patch(
        "/v1/admin/settings", json={"changes": {"reschedule_requests_enabled": enabled}}, headers=staff
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["reschedule_requests_enabled"] is enabled


@pytest.fixture
def reschedule_setting(http: httpx.Client, staff: dict[str, str]) -> Iterator[Any]:
    """Sets ``reschedule_requests_enabled`` for a test; back on (the demo's value) afterwards."""
    yield lambda enabled: set_reschedule_requests(http, staff, enabled)
    set_reschedule_requests(http, staff, True)


# ------------------------------------------------------------------------------ helpers
def a_weekday(days_ahead: int) -> date:
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or (day.month, day.day) in {(11, 26), (11, 27), (12, 24), (12, 25), (12, 31)}:
        day += timedelta(days=1)
    return day


def book(http: httpx.Client, days_ahead: int, last_name: str) -> dict[str, Any]:
    customer = {
        "first_name": "Robin",
        "last_name": last_name,
        "phone": PHONE,
        "email": f"{last_name.lower()}@example.com",
    }
    vehicle = {"year": 2020, "make": "Subaru", "model": "Outback"}
    # A customer who wants texts (verified by their e-mail, where the shop asks, so each booking's
    # new e-mail is a new customer; on a shop that asks for no code, the phone finds the first one)
    return book_last_free_slot(http, a_weekday(days_ahead), customer, vehicle, preferred_channel="sms")


def customer_link(http: httpx.Client, local_stack: Any, last_name: str) -> str:
    """The /c/ link of the newest e-mail to the customer."""
    mails = [m for m in messages_to(http, f"{last_name.lower()}@example.com") if m["channel"] == "email"]
    assert mails, f"no e-mail to {last_name}"
    found = re.search(rf"{re.escape(local_stack.base_url)}/c/[A-Za-z0-9_-]+", mails[-1]["text"])
    assert found is not None, mails[-1]["text"]
    return found.group(0)


def sms_link(http: httpx.Client, local_stack: Any, before: int) -> str:
    """The /c/ link of the one SMS to the customer's phone since ``before`` messages."""
    texts = [m for m in messages_to(http, PHONE)[before:] if m["channel"] == "sms"]
    assert len(texts) == 1, texts
    (text,) = texts
    assert text["text"].startswith("Bookbay Demo Auto") and len(text["text"]) <= 320, text["text"]
    found = re.search(rf"{re.escape(local_stack.base_url)}/c/[A-Za-z0-9_-]+", text["text"])
    assert found is not None, text["text"]
    return found.group(0)


def store_confirms(http: httpx.Client, local_stack: Any, last_name: str) -> None:
    """Staff press Confirm on the page behind the store notification e-mail's link."""
    store = next(
        m
        for m in messages_to(http, "austin@demo-auto.example.com")
        if last_name in m["text"] and m["subject"].startswith("Appointment request")
    )
    staff_link = re.search(rf"{re.escape(local_stack.base_url)}/s/[A-Za-z0-9_-]+", store["text"])
    assert staff_link is not None
    assert http.post(f"{staff_link.group(0)}/confirm", data={"action": "confirm"}).status_code == 200


def download_calendar(tab: Page) -> Calendar:
    """Click "Add to calendar", save the download to the artifacts, parse it back."""
    with tab.expect_download() as download_info:
        tab.get_by_role("link", name="Add to calendar").click()
    download = download_info.value
    assert re.fullmatch(r"bookbay-demo-auto-\d{4}-\d{2}-\d{2}\.ics", download.suggested_filename)
    raw = Path(download.path()).read_bytes()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "customer-link-calendar.ics").write_bytes(raw)
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and b"METHOD:PUBLISH\r\n" in raw
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    calendar = Calendar.from_ical(raw)
    assert calendar["METHOD"] == "PUBLISH"
    return calendar


def shot(tab: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"customer-link-{name}.png"), full_page=True)


def csp_errors(tab: Page) -> list[str]:
    errors: list[str] = []
    tab.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return errors


# ------------------------------------------------------------------------------ tests
def test_the_customer_confirms_adds_to_calendar_and_asks_to_reschedule(
    http: httpx.Client, local_stack: Any, page: Page, reschedule_setting: Any
) -> None:
    reschedule_setting(True)
    errors = csp_errors(page)
    # Given a booking: the customer's e-mail ("request received") carries the manage link
    last_name = f"Owner{uuid.uuid4().hex[:8]}"
    booked = book(http, 24, last_name)
    start = datetime.fromisoformat(booked["appointment"]["start"])
    link = customer_link(http, local_stack, last_name)
    assert link == booked["manage_url"]
    # When the customer opens it
    response = page.goto(link)
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    shot(page, "1-requested")
    # Then they see their appointment, waiting for the store, with the three options
    assert page.get_by_role("heading", level=1).inner_text() == "Your appointment"
    body = page.locator("main").inner_text()
    for text in (
        "Bookbay Demo Auto",
        "Austin Downtown",
        "801 Congress Ave",
        "Oil change",
        "2020 Subaru Outback",
    ):
        assert text in body, text
    assert "waiting for the store to confirm" in body
    assert page.get_by_role("button", name="Confirm appointment").is_visible()
    assert page.get_by_role("link", name="Add to calendar").is_visible()
    assert page.get_by_role("button", name="Request reschedule").is_visible()
    # When the store confirms (its notification e-mail's staff link), the customer gets the
    # e-confirmation by text (their preferred channel) with the link; no e-mail this time
    sms_before, mails_before = (
        len(messages_to(http, PHONE)),
        len(messages_to(http, f"{last_name.lower()}@example.com")),
    )
    store_confirms(http, local_stack, last_name)
    confirmation_link = sms_link(http, local_stack, sms_before)
    assert len(messages_to(http, f"{last_name.lower()}@example.com")) == mails_before
    page.goto(confirmation_link)
    assert "Confirmed by the store" in page.locator("main").inner_text()
    shot(page, "2-confirmed-by-store")
    # And the customer presses Confirm
    page.get_by_role("button", name="Confirm appointment").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you for confirming"
    assert page.get_by_role("button", name="Confirm appointment").count() == 0
    shot(page, "3-thank-you")
    # Then "Add to calendar" downloads an .ics that parses back to the appointment
    calendar = download_calendar(page)
    (event,) = calendar.events
    assert event["UID"] == f"{booked['appointment']['id']}@bookbay-demo-auto.bookbay"
    assert event.decoded("DTSTART") == start.astimezone(UTC)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event["SUMMARY"] == "Oil change at Bookbay Demo Auto"
    assert event["LOCATION"] == "Austin Downtown, 801 Congress Ave, Austin, TX 78701"
    assert event["STATUS"] == "CONFIRMED" and event.sequence >= 1
    first_sequence = event.sequence
    # When they ask to reschedule instead
    page.get_by_role("button", name="Request reschedule").click()
    page.wait_for_load_state()
    # Then the page gives the representative message, and the store is told
    assert page.get_by_role("heading", level=1).inner_text() == "Reschedule requested"
    assert REPRESENTATIVE in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Request reschedule").count() == 0
    shot(page, "4-reschedule-requested")
    told = [
        m
        for m in messages_to(http, "austin@demo-auto.example.com")
        if m["subject"].startswith("Reschedule request") and last_name in m["text"]
    ]
    assert len(told) == 1 and "/s/" in told[0]["text"]
    # and the calendar entry of the same event turns tentative, one sequence later
    again = Calendar.from_ical(http.get(f"{confirmation_link}/calendar.ics").content).events[0]
    assert again["UID"] == event["UID"] and again["STATUS"] == "TENTATIVE"
    assert again.sequence == first_sequence + 1
    # And the original manage link shows the same state (the links are one appointment's)
    page.goto(link)
    assert REPRESENTATIVE in page.locator("main").inner_text()
    assert errors == []


def test_without_reschedule_requests_the_button_is_absent_and_the_post_is_a_404(
    http: httpx.Client, local_stack: Any, page: Page, reschedule_setting: Any
) -> None:
    # Given a shop that does not take reschedule requests online
    reschedule_setting(False)
    last_name = f"Nomove{uuid.uuid4().hex[:8]}"
    book(http, 25, last_name)
    link = customer_link(http, local_stack, last_name)
    # When the customer opens the link
    response = page.goto(link)
    assert response is not None and response.status == 200
    shot(page, "5-no-reschedule")
    # Then there is Confirm and Add to calendar, but no Request reschedule
    assert page.get_by_role("button", name="Confirm appointment").is_visible()
    assert page.get_by_role("link", name="Add to calendar").is_visible()
    assert page.get_by_role("button", name="Request reschedule").count() == 0
    # and a hand-made POST answers 404, telling them to call
    refused = http.post(f"{link}/reschedule", data={"action": "reschedule"})
    assert refused.status_code == 404 and "call Austin Downtown" in refused.text
    # When the shop turns them on, the button appears
    reschedule_setting(True)
    page.reload()
    assert page.get_by_role("button", name="Request reschedule").is_visible()


def test_an_unknown_link_is_a_friendly_404_page(local_stack: Any, page: Page) -> None:
    response = page.goto(f"{local_stack.base_url}/c/{'A' * 32}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "This link is not valid"
