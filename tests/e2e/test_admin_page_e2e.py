"""The staff admin page (GET /admin) in headless Chromium (Playwright, Debian's chromium) against the
local stack, signed in with the stand-in's "Sign in (local)" (POST /_local/token):

- staff find a flagged appointment in red, with the fields that matched and the reason, and un-flag
  one field from the page; the flag (read over the API) no longer holds that field;
- staff confirm an appointment from the page (the API shows it confirmed, audited as them, and the
  customer got the e-confirmation), and a confirm the state no longer allows shows the API's 409;
- a phone booking for a Do Not Service customer is booked and shows the warning;
- check-in and complete from the page, then the review queue's "Stop these e-mails";
- flags created and deleted from the page; a setting changed from the page (and put back);
- the token lives in sessionStorage only, survives a reload, and a refused one asks to sign in again.

Customers book over HTTP (POST /v1/appointments, as tests/e2e/booking.py does: from an address of
their own, with their e-mail's one-time code where the shop asks) and what the page did is read back
over the staff API. The browser runs in Asia/Tokyo, so times on the page are shown in the store's
zone only if the page does it. Every tab is checked for CSP violations, script errors and console
errors. Screenshots at a phone (390x844) and a desktop (1280x900) viewport go to
tests/e2e/artifacts/admin-page-*.png.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from bookbay.templates import time_of_day
from tests.e2e.booking import closed, drain, messages_to, phone_on_no_customer, post_booking
from tests.e2e.browser import CSP_PROBE, require_chromium

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}
DESKTOP_VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
BROWSER_ZONE = "Asia/Tokyo"  # not the store's: the page must show the store's own times
AUSTIN = "austin-downtown"
CHICAGO = ZoneInfo("America/Chicago")
SESSION_KEY = "bookbay.admin.session"
# Area codes no other e2e test uses, so the phones (555-01xx) are this module's own.
AREA_CODES = ("432", "830", "254", "409", "214", "469", "972", "281")  # not the booking page tests'
RED = "rgb(207, 34, 46)"  # the flagged card's border (#cf222e)
PINK = "rgb(255, 235, 233)"  # the flagged card's background (#ffebe9)
# WCAG contrast of an element's text on the first opaque background behind it.
CONTRAST = """
(node) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let back = node;
  while (back && (rgb(getComputedStyle(back).backgroundColor)[3] === 0 ||
                  getComputedStyle(back).backgroundColor === "transparent")) back = back.parentElement;
  const fg = lum(rgb(getComputedStyle(node).color));
  const bg = lum(rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255,255,255)"));
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}
"""

require_chromium()

RNG = random.Random()
_USED_PHONES: set[str] = set()


# ------------------------------------------------------------------------------ browser
@dataclass
class Tab:
    """A browser tab and what it logged."""

    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__cspViolations || []")
        return found + [line for line in self.console if "Content Security Policy" in line]

    def assert_clean(self, *, failed_loads_expected: bool = False) -> None:
        """No CSP violation, no script error, and no console error (4xx answers the test caused
        log "Failed to load resource", which ``failed_loads_expected`` allows)."""
        assert self.csp_violations() == []
        assert self.errors == []
        problems = [
            line
            for line in self.console
            if line.startswith(("error:", "warning:"))
            and not (failed_loads_expected and "Failed to load resource" in line)
        ]
        assert problems == []


def _open(browser: Browser, viewport: ViewportSize) -> Iterator[Tab]:
    context = browser.new_context(viewport=viewport, timezone_id=BROWSER_ZONE)
    context.add_init_script(CSP_PROBE)
    try:
        tab = Tab(context.new_page())
        tab.page.on("console", lambda message: tab.console.append(f"{message.type}: {message.text}"))
        tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
        yield tab
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Tab]:
    yield from _open(browser, PHONE_VIEWPORT)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Tab]:
    yield from _open(browser, DESKTOP_VIEWPORT)


def screenshot(tab: Tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / f"admin-page-{name}.png"), full_page=True)


def sign_in(tab: Tab, base_url: str, email: str, hash_: str = "") -> None:
    """Open the page and sign in with the local stand-in as ``email`` (sub ``local-<email>``)."""
    page = tab.page
    page.goto(f"{base_url}/admin{hash_}")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.fill("#local-email", email)
    page.get_by_role("button", name="Sign in (local)").click()
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {email}")


def show_flagged_on(tab: Tab, day: str) -> None:
    """List ``day``'s flagged appointments with the page's filters, and wait for the list."""
    page = tab.page
    page.fill("#filter-from", day)
    page.fill("#filter-to", day)
    page.check("#filter-flagged")
    page.get_by_role("button", name="Show appointments").click()
    expect(page.locator("#appointment-list")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#appointment-list li.appt:not(.flagged)")).to_have_count(0)


def staff_email() -> str:
    return f"staff.{uuid.uuid4().hex[:8]}@example.com"


# ------------------------------------------------------------------------------ the stack's side
@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    phone: str  # E.164
    email: str

    def contact(self) -> dict[str, str]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phone": self.phone,
            "email": self.email,
        }


def new_person(http: httpx.Client, staff: dict[str, str], first_name: str, last_name: str) -> Person:
    """A person whose phone is on no customer yet, and used by no other test of this run."""
    number = phone_on_no_customer(http, staff, AREA_CODES, _USED_PHONES)
    return Person(first_name, last_name, number, f"{first_name.lower()}.{uuid.uuid4().hex[:8]}@example.com")


def open_days(first_offset: int) -> Iterator[date]:
    day = datetime.now(CHICAGO).date() + timedelta(days=first_offset)
    for _ in range(40):
        if not closed(day):
            yield day
        day += timedelta(days=1)


def free_starts(http: httpx.Client, day: date) -> list[str]:
    query: dict[str, str | int] = {
        "location_id": AUSTIN,
        "service_id": "oil-change",
        "appointment_type": "in_store",
        "from": day.isoformat(),
        "days": 1,
    }
    response = http.get("/v1/availability", params=query)
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"] if slot["remaining"] >= 1]


def book(http: httpx.Client, who: Person, *, first_offset: int = 3) -> dict[str, Any]:
    """POST /v1/appointments (as the customer books: tests/e2e/booking.py) for the oil change at
    Austin, at a late free slot of the first open day from ``first_offset`` days ahead; the
    appointment answered."""
    for day in open_days(first_offset):
        for start in reversed(free_starts(http, day)[-4:]):
            body = {
                "location_id": AUSTIN,
                "service_id": "oil-change",
                "appointment_type": "in_store",
                "start": start,
                "customer": who.contact(),
                "vehicle": {"year": 2019, "make": "Honda", "model": "Civic"},
                "source": "web",
            }
            response = post_booking(http, body)
            if response.status_code == 409:  # taken meanwhile: another time
                continue
            assert response.status_code == 201, response.text
            found: dict[str, Any] = response.json()["appointment"]
            return found
    pytest.fail("no free slot to book")


def read(http: httpx.Client, staff: dict[str, str], path: str) -> dict[str, Any]:
    response = http.get(path, headers=staff)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def local_time(start: str) -> str:
    """``5:00 PM CST``: the start as the store shows it."""
    moment = datetime.fromisoformat(start).astimezone(CHICAGO)
    return f"{time_of_day(moment)} {moment.tzname()}"


@pytest.fixture
def flag(http: httpx.Client, staff: dict[str, str]) -> Iterator[Callable[..., dict[str, Any]]]:
    """``flag(name=..., phone=..., reason=...)`` creates a flag over the API; it is deleted after
    the test (so it matches nobody else's bookings)."""
    made: list[str] = []

    def create(**body: Any) -> dict[str, Any]:
        response = http.post("/v1/admin/flags", json=body, headers=staff)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()["flag"]
        made.append(created["id"])
        return created

    yield create
    for flag_id in made:
        http.delete(f"/v1/admin/flags/{flag_id}", headers=staff)


# ------------------------------------------------------------------------------ flagged appointments
def test_staff_find_the_flagged_appointment_in_red_and_unflag_one_field(
    http: httpx.Client,
    staff: dict[str, str],
    local_stack: Any,
    phone: Tab,
    desktop: Tab,
    flag: Callable[..., dict[str, Any]],
) -> None:
    # Given staff flagged a customer by name and phone (over the API)
    dana = new_person(http, staff, "Dana", f"Okafor{uuid.uuid4().hex[:4]}")
    reason = f"Threatened the technician (e2e {uuid.uuid4().hex[:6]})"
    flagged = flag(name=f"{dana.first_name} {dana.last_name}", phone=dana.phone, reason=reason)
    # And the same person books online with a new e-mail address
    booked = book(http, dana)
    day = booked["start"][:10]
    stored = read(http, staff, f"/v1/admin/appointments/{booked['id']}")["appointment"]
    assert stored["flag_matches"] == [
        {"flag_id": flagged["id"], "fields": ["name", "phone"], "reason": reason}
    ]

    # When staff sign in on a phone and list that day's flagged appointments
    email = staff_email()
    page = phone.page
    sign_in(phone, local_stack.base_url, email)
    show_flagged_on(phone, day)

    # Then the appointment is in red, says "Flagged customer", which fields matched and why
    card = page.locator(f'li[data-appointment-id="{booked["id"]}"]')
    expect(card).to_be_visible()
    expect(card).to_have_class("appt flagged")
    assert card.evaluate("(n) => getComputedStyle(n).backgroundColor") == PINK
    assert card.evaluate("(n) => getComputedStyle(n).borderLeftColor") == RED
    expect(card.locator(".flag-label")).to_contain_text("Flagged customer")
    expect(card.locator(".flag-match")).to_have_text(f"Matched on: Name, Phone. Reason: {reason}")
    # the matched values carry a "flagged" tag (words, not colour alone); the e-mail did not match
    expect(card.locator(".matched")).to_have_count(2)
    expect(card.locator(".matched").nth(1)).to_contain_text(
        f"({dana.phone[2:5]}) {dana.phone[5:8]}-{dana.phone[8:]}"
    )
    expect(card.locator(".matched-tag")).to_have_text(["flagged", "flagged"])
    expect(card).to_contain_text(dana.email)
    # at the store's time, whatever the browser's zone
    expect(card.locator(".appt-time")).to_have_text(local_time(booked["start"]))
    for selector in (".flag-label", ".matched-tag", ".flag-match", ".badge"):
        assert card.locator(selector).first.evaluate(CONTRAST) >= 4.5, selector
    expect(page.locator("#appointments-summary")).to_contain_text("flagged")
    # Nothing else of this test's leaks: the token is not in the address bar
    assert "token" not in page.url and "code=" not in page.url
    screenshot(phone, "phone")

    # When staff open it and un-flag the phone
    card.get_by_role("link", name=f"{dana.first_name} {dana.last_name}").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(f"{dana.first_name} {dana.last_name}")
    flags_box = page.locator("#appointment-flags")
    expect(flags_box.get_by_role("button", name="Un-flag phone")).to_be_visible()
    expect(flags_box.get_by_role("button", name="Un-flag name")).to_be_visible()
    screenshot(phone, "phone-detail")
    flags_box.get_by_role("button", name="Un-flag phone").click()

    # Then the page says so, and only the name is left to un-flag
    expect(page.locator("#appointment-notice")).to_have_text(
        "Phone un-flagged: it no longer matches new appointments."
    )
    expect(flags_box.get_by_role("button", name="Un-flag phone")).to_have_count(0)
    expect(flags_box).to_contain_text("un-flagged: no longer matches new appointments")
    expect(flags_box.get_by_role("button", name="Un-flag name")).to_be_visible()
    # And the API has it: the phone no longer matches, un-flagged by this staff member
    after = read(http, staff, f"/v1/admin/flags/{flagged['id']}")["flag"]
    assert after["active_fields"] == ["name"]
    assert [(u["field"], u["by"]) for u in after["unflagged"]] == [("phone", email)]
    # while the appointment keeps the matches it had
    again = read(http, staff, f"/v1/admin/appointments/{booked['id']}")["appointment"]
    assert again["flag_matches"] == stored["flag_matches"]
    phone.assert_clean()

    # And on a desktop the list shows the same red row
    sign_in(desktop, local_stack.base_url, email)
    show_flagged_on(desktop, day)
    desktop_card = desktop.page.locator(f'li[data-appointment-id="{booked["id"]}"]')
    expect(desktop_card).to_have_class("appt flagged")
    expect(desktop_card.locator(".flag-match")).to_contain_text("Matched on: Name, Phone.")
    screenshot(desktop, "desktop")
    desktop.assert_clean()


# ------------------------------------------------------------------------------ today and upcoming
def test_the_list_opens_on_the_next_14_days_and_today_shows_the_stores_today(
    http: httpx.Client, staff: dict[str, str], local_stack: Any, desktop: Tab
) -> None:
    # Given an appointment a few days ahead
    ray = new_person(http, staff, "Ray", f"Moss{uuid.uuid4().hex[:4]}")
    booked = book(http, ray)
    today = datetime.now(CHICAGO).date()  # the store's today (the browser is in Tokyo)
    page = desktop.page
    card = page.locator(f'li[data-appointment-id="{booked["id"]}"]')

    def listed() -> None:
        """Wait for the list; load pages until the booked card shows (or no page is left)."""
        expect(page.locator("#appointment-list")).not_to_have_attribute("aria-busy", "true")
        more = page.locator("#appointments-more")
        while card.count() == 0 and more.is_visible():
            more.click()
            expect(page.locator("#appointment-list")).not_to_have_attribute("aria-busy", "true")

    # When staff sign in, the list opens on the store's next 14 days, with that appointment
    sign_in(desktop, local_stack.base_url, staff_email())
    expect(page.locator("#filter-from")).to_have_value(today.isoformat())
    expect(page.locator("#filter-to")).to_have_value((today + timedelta(days=13)).isoformat())
    listed()
    expect(card).to_contain_text(f"{ray.first_name} {ray.last_name}")
    # "Today" narrows it to the store's today: the appointment of a later day is not listed
    page.get_by_role("button", name="Today", exact=True).click()
    expect(page.locator("#filter-from")).to_have_value(today.isoformat())
    expect(page.locator("#filter-to")).to_have_value(today.isoformat())
    listed()
    expect(card).to_have_count(0)
    headings = page.locator("#appointment-list .day-heading").all_inner_texts()
    assert all(h.startswith("Today · ") for h in headings), headings
    # "Next 14 days" brings it back
    page.get_by_role("button", name="Next 14 days").click()
    expect(page.locator("#filter-to")).to_have_value((today + timedelta(days=13)).isoformat())
    listed()
    expect(card).to_have_count(1)
    desktop.assert_clean()


# ------------------------------------------------------------------------------ actions
def test_staff_confirm_from_the_page_and_see_the_409_of_a_confirm_too_late(
    http: httpx.Client, staff: dict[str, str], local_stack: Any, desktop: Tab
) -> None:
    # Given two requested appointments (the demo shop is in request mode)
    lee = new_person(http, staff, "Lee", f"Park{uuid.uuid4().hex[:4]}")
    kim = new_person(http, staff, "Kim", f"Ito{uuid.uuid4().hex[:4]}")
    first = book(http, lee)
    second = book(http, kim)
    assert first["status"] == second["status"] == "requested"

    # When staff open the first one and press Confirm
    email = staff_email()
    page = desktop.page
    sign_in(desktop, local_stack.base_url, email, f"#appointment/{first['id']}")
    expect(page.locator("#appointment-heading")).to_contain_text(f"{lee.first_name} {lee.last_name}")
    expect(page.locator("#appointment-summary")).to_contain_text(local_time(first["start"]))
    told_before = len(messages_to(http, lee.email))  # the code (where asked) and "request received"
    page.get_by_role("button", name="Confirm", exact=True).click()

    # Then the page says it is confirmed and offers what a confirmed appointment allows
    expect(page.locator("#appointment-notice")).to_have_text(
        "Confirmed. The customer gets the e-confirmation."
    )
    expect(page.locator("#appointment-summary .badge")).to_have_text("Confirmed")
    expect(page.get_by_role("button", name="Confirm", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Send confirmation…")).to_be_visible()
    expect(page.locator("#appointment-history")).to_contain_text(email)
    screenshot(desktop, "desktop-detail")
    # And the API has it confirmed, audited as this staff member, and the customer was told
    stored = read(http, staff, f"/v1/admin/appointments/{first['id']}")["appointment"]
    assert stored["status"] == "confirmed"
    confirm = [entry for entry in stored["history"] if entry["action"] == "confirm"]
    assert [(e["actor"]["sub"], e["actor"]["email"]) for e in confirm] == [(f"local-{email}", email)]
    told = messages_to(http, lee.email)[told_before:]
    assert len(told) == 1, told  # the e-confirmation, with the manage link
    assert "/c/" in told[0]["text"]

    # When someone confirms the second one elsewhere while the page shows it as requested
    page.goto(f"{local_stack.base_url}/admin#appointment/{second['id']}")
    expect(page.locator("#appointment-summary .badge")).to_have_text("Requested")
    confirmed = http.post(f"/v1/admin/appointments/{second['id']}/confirm", json={}, headers=staff)
    assert confirmed.status_code == 200, confirmed.text
    page.get_by_role("button", name="Confirm", exact=True).click()

    # Then the page shows the API's 409 in words and the appointment as it is now
    alert = page.locator("#appointment-error")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_have_text("An appointment that is confirmed cannot be confirmed.")
    expect(page.locator("#appointment-summary .badge")).to_have_text("Confirmed")
    desktop.assert_clean(failed_loads_expected=True)


def test_check_in_complete_and_stop_the_review_emails_from_the_page(
    http: httpx.Client, staff: dict[str, str], local_stack: Any, desktop: Tab
) -> None:
    # Given a confirmed appointment
    ana = new_person(http, staff, "Ana", f"Silva{uuid.uuid4().hex[:4]}")
    booked = book(http, ana)
    assert (
        http.post(f"/v1/admin/appointments/{booked['id']}/confirm", json={}, headers=staff).status_code == 200
    )
    page = desktop.page
    sign_in(desktop, local_stack.base_url, staff_email(), f"#appointment/{booked['id']}")

    # When staff check it in, then complete it
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#appointment-notice")).to_have_text("Checked in.")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#appointment-summary .badge")).to_have_text("Completed")
    expect(page.locator("#no-actions")).to_have_text("No actions: the appointment is completed.")
    assert read(http, staff, f"/v1/admin/appointments/{booked['id']}")["appointment"]["status"] == "completed"

    # Then, once the completion's effects are applied (the stream worker starts the review
    # requests), the customer is in the review queue, and staff stop the e-mails from it
    drain(http)
    page.get_by_role("link", name="Review queue").click()
    item = page.locator(f'li[data-review-id="{booked["id"]}"]')
    expect(item).to_contain_text(ana.email)
    expect(item).to_contain_text("Active")
    item.get_by_role("button", name="Stop these e-mails").click()
    expect(item).to_contain_text("Stopped")
    expect(item.get_by_role("button", name="Stop these e-mails")).to_have_count(0)
    stopped = read(http, staff, "/v1/admin/review-requests?status=stopped&limit=100")["review_requests"]
    assert booked["id"] in [r["id"] for r in stopped]
    desktop.assert_clean()


# ------------------------------------------------------------------------------ phone booking
def test_a_phone_booking_for_a_do_not_service_customer_is_made_with_the_warning(
    http: httpx.Client, staff: dict[str, str], local_stack: Any, phone: Tab
) -> None:
    # Given a customer on file marked Do Not Service
    sam = new_person(http, staff, "Sam", f"Nguyen{uuid.uuid4().hex[:4]}")
    book(http, sam)
    found = read(http, staff, f"/v1/admin/customers?q={sam.email}")["customers"]
    assert len(found) == 1
    customer_id = found[0]["id"]
    marked = http.patch(f"/v1/admin/customers/{customer_id}", json={"do_not_service": True}, headers=staff)
    assert marked.status_code == 200, marked.text

    # When staff take their call and enter the booking on a phone
    page = phone.page
    sign_in(phone, local_stack.base_url, staff_email(), "#new-booking")
    day = next(open_days(5))
    page.select_option("#nb-location", AUSTIN)
    page.select_option("#nb-service", "oil-change")
    page.locator("#nb-type-list").get_by_label("At the store").check()
    page.fill("#nb-from", day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    times = page.locator("#nb-time-list input")
    expect(times.first).to_be_attached()
    start = times.last.get_attribute("value")
    assert start is not None
    page.locator(f'#nb-time-list label[for="{times.last.get_attribute("id")}"]').click()
    page.fill("#nb-first", sam.first_name)
    page.fill("#nb-last", sam.last_name)
    page.fill("#nb-phone", f"({sam.phone[2:5]}) {sam.phone[5:8]}-{sam.phone[8:]}")
    page.fill("#nb-email", sam.email)
    page.locator("#view-new-booking").get_by_label("Text message").check()
    page.fill("#nb-year", "2021")
    page.fill("#nb-make", "Ford")
    page.fill("#nb-model", "F-150")
    page.get_by_role("button", name="Book it").click()

    # Then it is booked, with the Do Not Service warning for staff
    result = page.locator("#booking-result")
    expect(result).to_be_visible()
    expect(page.locator("#booking-warnings")).to_contain_text("Do Not Service.")
    expect(result).to_contain_text(f"{sam.first_name} {sam.last_name}")
    expect(result).to_contain_text("confirmed")
    screenshot(phone, "phone-booking")
    href = page.locator("#booking-result-link").get_attribute("href")
    assert href and href.startswith("#appointment/")
    appointment = read(http, staff, f"/v1/admin/appointments/{href.split('/', 1)[1]}")["appointment"]
    assert appointment["status"] == "confirmed"
    assert appointment["source"] == "phone"
    assert appointment["customer"]["id"] == customer_id
    assert appointment["start"] == start
    assert read(http, staff, f"/v1/admin/customers/{customer_id}")["customer"]["preferred_channel"] == "sms"
    phone.assert_clean()


# ------------------------------------------------------------------------------ flags and settings
def test_flags_are_created_unflagged_and_deleted_from_the_page(
    http: httpx.Client, staff: dict[str, str], local_stack: Any, desktop: Tab
) -> None:
    page = desktop.page
    sign_in(desktop, local_stack.base_url, staff_email(), "#flags")
    reason = f"Chargebacks (e2e {uuid.uuid4().hex[:6]})"
    who = new_person(http, staff, "Robin", "Flagg")

    # A flag without any field is refused, the API's words under the form
    page.get_by_text("Flag a customer").click()
    page.fill("#flag-reason", reason)
    page.get_by_role("button", name="Flag this customer").click()
    expect(page.locator("#flag-form-error")).to_contain_text(
        "give at least one of name, email, phone and address"
    )

    # A flag on e-mail and phone is created, listed first
    page.fill("#flag-email", who.email)
    page.fill("#flag-phone", who.phone)
    page.get_by_role("button", name="Flag this customer").click()
    item = page.locator("#flag-list li.item").filter(has_text=reason)
    expect(item).to_be_visible()
    flag_id = item.get_attribute("data-flag-id")
    assert flag_id
    created = read(http, staff, f"/v1/admin/flags/{flag_id}")["flag"]
    assert (created["email"], created["phone"], created["reason"]) == (who.email, who.phone, reason)

    # Un-flag the e-mail: the value is struck through and the API agrees
    item.get_by_role("button", name="Un-flag e-mail").click()
    expect(item.locator(".struck")).to_have_text(who.email)
    assert read(http, staff, f"/v1/admin/flags/{flag_id}")["flag"]["active_fields"] == ["phone"]

    # Delete it (after saying yes): gone from the page and the API
    item.get_by_role("button", name="Delete flag").click()
    item.get_by_role("button", name="Yes, delete it").click()
    expect(page.locator(f'#flag-list li[data-flag-id="{flag_id}"]')).to_have_count(0)
    assert http.get(f"/v1/admin/flags/{flag_id}", headers=staff).status_code == 404
    desktop.assert_clean(failed_loads_expected=True)


def test_a_setting_changed_from_the_page_is_saved_with_its_version(
    http: httpx.Client, staff: dict[str, str], local_stack: Any, desktop: Tab
) -> None:
    before = read(http, staff, "/v1/admin/settings")
    horizon = before["settings"]["horizon_days"]
    page = desktop.page
    try:
        sign_in(desktop, local_stack.base_url, staff_email(), "#settings")
        expect(page.locator("#set-horizon")).to_have_value(str(horizon))
        page.fill("#set-horizon", str(horizon + 1))
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#settings-notice")).to_have_text("Saved: horizon days.")
        after = read(http, staff, "/v1/admin/settings")
        assert after["settings"]["horizon_days"] == horizon + 1
        assert after["version"] == before["version"] + 1
        # A change made elsewhere meanwhile: the page's save is a 409, shown, not an overwrite
        elsewhere = http.patch(
            "/v1/admin/settings", json={"changes": {"horizon_days": horizon + 2}}, headers=staff
        )
        assert elsewhere.status_code == 200, elsewhere.text
        page.fill("#set-horizon", str(horizon + 3))
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#settings-error")).to_contain_text("changed since you read them")
        assert read(http, staff, "/v1/admin/settings")["settings"]["horizon_days"] == horizon + 2
    finally:
        restored = http.patch(
            "/v1/admin/settings", json={"changes": {"horizon_days": horizon}}, headers=staff
        )
        assert restored.status_code == 200, restored.text
    desktop.assert_clean(failed_loads_expected=True)


# ------------------------------------------------------------------------------ the session
def test_the_token_lives_in_session_storage_only_and_a_refused_one_asks_again(
    local_stack: Any, desktop: Tab
) -> None:
    page = desktop.page
    email = staff_email()
    # Sign in with the keyboard alone
    page.goto(f"{local_stack.base_url}/admin")
    page.locator("#local-email").fill(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "local-sign-in"
    page.keyboard.press("Enter")
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {email}")
    expect(page.locator("#appointments-summary")).not_to_be_empty()

    # The token is in sessionStorage, nowhere else
    session = page.evaluate(f"JSON.parse(sessionStorage.getItem('{SESSION_KEY}'))")
    assert session["email"] == email and session["token"].count(".") == 2
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    assert session["token"] not in page.url

    # A reload keeps the sign-in (same tab)
    page.reload()
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {email}")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_hidden()

    # A token the API refuses (401) asks to sign in again, and is forgotten
    page.evaluate(
        f"""() => {{
          const s = JSON.parse(sessionStorage.getItem('{SESSION_KEY}'));
          s.token = s.token.slice(0, -4) + "AAAA";
          sessionStorage.setItem('{SESSION_KEY}', JSON.stringify(s));
        }}"""
    )
    page.reload()
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    expect(page.locator("#sign-in-message")).to_have_text("Your sign-in has ended. Please sign in again.")
    assert page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')") is None

    # Sign in again, then sign out: the token is gone
    page.get_by_role("button", name="Sign in (local)").click()
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {email}")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#sign-in-message")).to_have_text("You are signed out.")
    assert page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')") is None
    desktop.assert_clean(failed_loads_expected=True)


# ------------------------------------------------------------------------------ edit, move, cancel
def test_notes_reschedule_send_confirmation_and_cancel_from_the_page(
    http: httpx.Client, staff: dict[str, str], local_stack: Any, desktop: Tab
) -> None:
    # Given a confirmed appointment
    joe = new_person(http, staff, "Joe", f"Baker{uuid.uuid4().hex[:4]}")
    booked = book(http, joe, first_offset=8)
    assert (
        http.post(f"/v1/admin/appointments/{booked['id']}/confirm", json={}, headers=staff).status_code == 200
    )
    page = desktop.page
    sign_in(desktop, local_stack.base_url, staff_email(), f"#appointment/{booked['id']}")
    expect(page.locator("#appointment-heading")).to_contain_text(joe.first_name)

    # Staff notes are saved, then shown highlighted and labelled
    page.fill("#edit-staff-notes", "Customer will bring the spare key.")
    page.get_by_role("button", name="Save notes").click()
    expect(page.locator("#appointment-notice")).to_have_text("Notes saved.")
    expect(page.locator("#appointment-takeover .takeover-label")).to_contain_text("Staff notes")
    stored = read(http, staff, f"/v1/admin/appointments/{booked['id']}")["appointment"]
    assert stored["staff_notes"] == "Customer will bring the spare key."

    # Reschedule to another free time (the public availability in the store's zone)
    page.get_by_role("button", name="Show free times").click()
    times = page.locator("#reschedule-list input")
    expect(times.first).to_be_attached()
    new_start = times.first.get_attribute("value")
    assert new_start and new_start != booked["start"]
    page.locator(f'#reschedule-list label[for="{times.first.get_attribute("id")}"]').click()
    page.get_by_role("button", name="Move to this time").click()
    expect(page.locator("#appointment-notice")).to_contain_text("Moved to")
    expect(page.locator("#appointment-notice")).to_contain_text(local_time(new_start))
    assert read(http, staff, f"/v1/admin/appointments/{booked['id']}")["appointment"]["start"] == new_start

    # Send the e-confirmation again, by e-mail
    page.get_by_role("button", name="Send confirmation…").click()
    page.locator("#send-form").get_by_label("E-mail").check()
    page.get_by_role("button", name="Send it").click()
    expect(page.locator("#appointment-notice")).to_have_text("The e-confirmation went out by e-mail.")

    # Cancel with a reason, the customer not told
    page.get_by_role("button", name="Cancel…").click()
    page.fill("#cancel-reason", "Customer called to cancel")
    page.uncheck("#cancel-notify")
    page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.locator("#appointment-summary .badge")).to_have_text("Cancelled")
    expect(page.locator("#appointment-summary")).to_contain_text("Customer called to cancel")
    expect(page.locator("#reschedule-form")).to_be_hidden()
    final = read(http, staff, f"/v1/admin/appointments/{booked['id']}")["appointment"]
    assert final["status"] == "cancelled" and final["cancellation_reason"] == "Customer called to cancel"
    assert [e["action"] for e in final["history"]][-4:] == [
        "edit",
        "reschedule",
        "send-confirmation",
        "cancel",
    ]
    desktop.assert_clean()


def test_a_takeover_note_is_highlighted_and_the_customer_edited_from_the_page(
    http: httpx.Client, staff: dict[str, str], owner: dict[str, str], local_stack: Any, phone: Tab
) -> None:
    # Given the takeover setting on, and an address on file for one customer
    on_file = new_person(http, staff, "Mia", f"Lopez{uuid.uuid4().hex[:4]}")
    newcomer = new_person(http, staff, "Ray", f"Cole{uuid.uuid4().hex[:4]}")
    address = {
        "line1": f"{RNG.randint(10000, 99999)} Duval Street",
        "city": "Austin",
        "state": "TX",
        "zip": "78751",
    }
    before = read(http, staff, "/v1/admin/settings")["settings"]["takeover_enabled"]
    assert (
        http.patch(
            "/v1/admin/settings", json={"changes": {"takeover_enabled": True}}, headers=owner
        ).status_code
        == 200
    )
    try:
        first = book_at_home(http, on_file, address)
        # When someone whose phone is not on file books at that address
        second = book_at_home(http, newcomer, address)
    finally:
        restore = http.patch(
            "/v1/admin/settings", json={"changes": {"takeover_enabled": before}}, headers=owner
        )
        assert restore.status_code == 200, restore.text
    stored = read(http, staff, f"/v1/admin/appointments/{second['id']}")["appointment"]
    assert stored["takeover"] is not None and "POTENTIAL SITE TAKEOVER" in stored["staff_notes"]
    on_file_id = read(http, staff, f"/v1/admin/appointments/{first['id']}")["appointment"]["customer"]["id"]
    assert stored["customer"]["id"] == on_file_id

    # Then staff see the takeover note highlighted and labelled in the list
    page = phone.page
    sign_in(phone, local_stack.base_url, staff_email())
    day = second["start"][:10]
    page.fill("#filter-from", day)
    page.fill("#filter-to", day)
    page.get_by_role("button", name="Show appointments").click()
    expect(page.locator("#appointment-list")).not_to_have_attribute("aria-busy", "true")
    card = page.locator(f'li[data-appointment-id="{second["id"]}"]')
    box = card.locator(".takeover-box")
    expect(box.locator(".takeover-label")).to_contain_text("Potential site takeover")
    expect(box).to_contain_text("POTENTIAL SITE TAKEOVER")
    expect(box).to_contain_text(newcomer.first_name)
    assert box.evaluate("(n) => getComputedStyle(n).backgroundColor") == "rgb(255, 248, 197)"
    assert box.locator(".takeover-label").evaluate(CONTRAST) >= 4.5
    screenshot(phone, "phone-takeover")

    # And they find the customer on file by phone and change how they are told
    page.get_by_role("link", name="Customers").click()
    page.fill("#customer-q", on_file.phone)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#customers-summary")).to_have_text("1 customer found by phone.")
    name = f"{on_file.first_name} {on_file.last_name}"
    page.locator("#customer-list").get_by_role("link", name=name).click()
    expect(page.locator("#customer-heading")).to_have_text(name)
    expect(page.locator("#customer-summary")).to_contain_text(address["line1"])
    page.select_option("#cu-channel", "sms")
    page.get_by_role("button", name="Save customer").click()
    expect(page.locator("#customer-notice")).to_have_text("Customer saved.")
    customer = read(http, staff, f"/v1/admin/customers/{on_file_id}")["customer"]
    assert customer["preferred_channel"] == "sms"
    phone.assert_clean()


def book_at_home(http: httpx.Client, who: Person, address: dict[str, str]) -> dict[str, Any]:
    """An at-home oil change at ``address`` (ZIP 78751, served from Austin) on a free slot."""
    for day in open_days(4):
        query: dict[str, str | int] = {
            "location_id": AUSTIN,
            "service_id": "oil-change",
            "appointment_type": "at_home",
            "from": day.isoformat(),
            "days": 1,
            "zip": address["zip"],
        }
        slots = http.get("/v1/availability", params=query)
        assert slots.status_code == 200, slots.text
        for start in [s["start"] for s in slots.json()["slots"] if s["remaining"] >= 1][-3:]:
            body = {
                "location_id": AUSTIN,
                "service_id": "oil-change",
                "appointment_type": "at_home",
                "start": start,
                "customer": who.contact(),
                "vehicle": {"year": 2018, "make": "Toyota", "model": "Camry"},
                "address": address,
                "source": "web",
            }
            response = post_booking(http, body)
            if response.status_code == 409:
                continue
            assert response.status_code == 201, response.text
            found: dict[str, Any] = response.json()["appointment"]
            return found
    pytest.fail("no free at-home slot")
