"""The customer's link pages (/c/{token}) in process on moto: GET and the .ics change nothing;
Confirm records the customer's word; Request reschedule (where the shop takes them) sets the
status and e-mails the store in one transaction; check-in, cancel or the end of the appointment
end the link (410)."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from icalendar import Calendar

from bookbay.domain.audit import Actor
from bookbay.domain.catalog import Catalog
from bookbay.exceptions import InvalidTransition
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import lifecycle
from bookbay.services.lifecycle import Ask, LifecycleDeps
from bookbay.templates import long_when
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack, outbox, table_items
from tests.support import load_event, with_body
from tests.support.appointments import local, next_weekday, past_weekday, seed_appointment, slot_used

pytestmark = pytest.mark.integration
FORM = "application/x-www-form-urlencoded"
AUSTIN = "austin-downtown"
ROUTES = {
    "customer_get": "",
    "customer_calendar": "/calendar.ics",
    "customer_confirm": "/confirm",
    "customer_reschedule": "/reschedule",
}
BODIES = {"customer_confirm": "action=confirm", "customer_reschedule": "action=reschedule"}
REPRESENTATIVE = "A representative from Bookbay Demo Auto will be contacting you to reschedule your repair."


# ------------------------------------------------------------------------------ helpers
@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    return CatalogRepository(seeded.table_name, REGION).catalog()


def day() -> Any:
    return next_weekday(datetime.now(UTC).date())


def event(name: str, token: str, body: str | None = None, content_type: str | None = FORM) -> dict[str, Any]:
    e = load_event(name)
    e["path"] = f"/c/{token}{ROUTES[name]}"
    e["pathParameters"] = {"token": token}
    if name in BODIES:
        e = with_body(e, BODIES[name] if body is None else body, content_type)
    return e


def stored(appointment_id: str) -> AppointmentItem:
    return AppointmentItem.get(keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK, consistent_read=True)


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()}


def assert_page(response: dict[str, Any], status: int) -> str:
    assert response["statusCode"] == status, response["body"][:2000]
    headers = headers_of(response)
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src" not in csp and "default-src 'none'" in csp
    nonce = re.search(r"style-src 'nonce-([^']+)'", csp)
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in response["body"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    body: str = response["body"]
    assert "<script" not in body and "http://" not in body and "https://" not in body  # no external asset
    assert '<html lang="en">' in body and '<meta name="viewport"' in body
    return body


def ics_of(response: dict[str, Any]) -> Calendar:
    assert response["statusCode"] == 200, response["body"][:2000]
    headers = headers_of(response)
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+\.ics"', headers["content-disposition"])
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
    body: str = response["body"]
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    return Calendar.from_ical(body)


def set_reschedule_requests(stack: Stack, enabled: bool) -> None:
    repo = CatalogRepository(stack.table_name, REGION)
    catalog, version = repo.catalog_and_version()
    settings = catalog.shop.settings.model_copy(update={"reschedule_requests_enabled": enabled})
    repo.save_settings(catalog.shop, settings, expected_version=version)


def has_confirm(html: str) -> bool:
    return 'action="confirm"' in html or re.search(r'action="[^"]+/confirm"', html) is not None


def has_reschedule(html: str) -> bool:
    return ">Request reschedule</button>" in html


# ------------------------------------------------------------------------------ GET
def test_the_page_shows_the_appointment_and_changes_nothing(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    # Given a confirmed appointment
    start = local(day(), 10)
    s = seed_appointment(catalog, start, status="confirmed")
    before = table_items(seeded)
    # When the customer opens the link (twice: a mail scanner may do it first)
    for _ in range(2):
        html = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    # Then the page shows the shop, the store, the service, the vehicle, the time in the store's zone
    for text in (
        "Bookbay Demo Auto",
        "Austin Downtown",
        "801 Congress Ave",
        "Austin, TX 78701",
        "+1 512-555-0100",
        'href="tel:+15125550100"',
        "Oil change",
        "2019 Honda Civic",
        long_when(start),
        "CST",
        "Confirmed by the store",
    ):
        assert text in html, text
    # and the three options, relative to the page
    assert f'action="{s.customer_token}/confirm"' in html and ">Confirm appointment</button>" in html
    assert f'href="{s.customer_token}/calendar.ics"' in html and "Add to calendar" in html
    assert f'action="{s.customer_token}/reschedule"' in html and has_reschedule(html)
    # but none of the customer's contact details (the link may be forwarded)
    assert "pat.customer@example.com" not in html and "555-0123" not in html
    # and accessible structure: one h1, labelled sections
    assert html.count("<h1>") == 1 and 'aria-labelledby="appointment-heading"' in html
    # and nothing changed
    assert table_items(seeded) == before


def test_a_phoenix_appointment_is_shown_in_mountain_standard_time(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    start = local(day(), 9, zone="America/Phoenix")
    s = seed_appointment(catalog, start, location_id="phoenix-camelback", status="confirmed")
    html = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    assert long_when(start).endswith("at 9:00 AM MST") and long_when(start) in html
    assert "Phoenix Camelback" in html and "2400 E Camelback Rd" in html


def test_an_at_home_appointment_shows_where(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day(), 11), appointment_type="at_home", status="confirmed")
    html = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    assert "At home" in html and "1100 S Lamar Blvd" in html
    calendar = ics_of(call(customer_links_app, event("customer_calendar", s.customer_token)))
    assert calendar.events[0]["LOCATION"] == "1100 S Lamar Blvd, Austin, TX 78704"


# ------------------------------------------------------------------------------ confirm
def test_confirm_records_the_customers_word_once_and_offers_the_calendar(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day(), 10), status="confirmed")
    before = stored(s.appointment.id)
    # When the customer confirms
    html = assert_page(call(customer_links_app, event("customer_confirm", s.customer_token)), 200)
    # Then the page thanks them and offers "Add to calendar" (a sibling of this page), not Confirm
    assert "Thank you for confirming" in html and "See you then!" in html
    assert 'href="calendar.ics"' in html and "Add to calendar" in html
    assert not has_confirm(html) and 'action="reschedule"' in html
    assert f'href="../{s.customer_token}"' in html
    # and the confirmation is recorded for this start; status and calendar sequence unchanged
    item = stored(s.appointment.id)
    assert item.status == "confirmed" and item.version == before.version + 1
    assert item.body["sequence"] == before.body["sequence"]
    confirmation = item.body["customer_confirmation"]
    assert datetime.fromisoformat(confirmation["start"]) == s.appointment.start
    assert abs(datetime.fromisoformat(confirmation["at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert outbox(seeded) == []
    # When they confirm again (a double click, a reload)
    after = table_items(seeded)
    again = assert_page(call(customer_links_app, event("customer_confirm", s.customer_token)), 200)
    # Then nothing is written, and the page says so
    assert "You had already confirmed" in again
    assert table_items(seeded) == after
    # And the page no longer offers Confirm
    page = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    assert not has_confirm(page) and "You confirmed this appointment" in page


def test_confirming_a_request_does_not_confirm_it_for_the_store(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    # Given a request (the shop is in request mode: staff confirm)
    s = seed_appointment(catalog, local(day(), 10))
    page = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    assert "waiting for the store to confirm" in page and has_confirm(page)
    # When the customer confirms
    html = assert_page(call(customer_links_app, event("customer_confirm", s.customer_token)), 200)
    # Then it stays requested: the page says the store still has to confirm
    assert "The store still has to confirm this time" in html
    item = stored(s.appointment.id)
    assert item.status == "requested" and item.body["customer_confirmation"] is not None
    # and the calendar entry is tentative until the store confirms
    calendar = ics_of(call(customer_links_app, event("customer_calendar", s.customer_token)))
    assert calendar.events[0]["STATUS"] == "TENTATIVE"


def test_a_confirmation_lapses_when_staff_move_the_appointment(
    seeded: Stack, customer_links_app: Any, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    start = local(day(), 10)
    s = seed_appointment(catalog, start, status="confirmed")
    assert_page(call(customer_links_app, event("customer_confirm", s.customer_token)), 200)
    # When staff move it (the staff page's reschedule)
    new_start = local(day() + timedelta(days=1), 14)
    staff = load_event("staff_reschedule")
    staff["path"] = f"/s/{s.staff_token}/reschedule"
    staff["pathParameters"] = {"token": s.staff_token}
    staff = with_body(staff, "start=" + quote(new_start.isoformat()), FORM)
    assert call(staff_app, staff)["statusCode"] == 200
    # Then the customer is asked to confirm the new time
    page = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    assert long_when(new_start) in page and has_confirm(page)


# ------------------------------------------------------------------------------ calendar
def test_the_calendar_file_imports_and_changes_nothing(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    start = local(day(), 10)
    s = seed_appointment(catalog, start, status="confirmed")
    before = table_items(seeded)
    response = call(customer_links_app, event("customer_calendar", s.customer_token))
    calendar = ics_of(response)
    day_text = start.date().isoformat()
    assert headers_of(response)["content-disposition"] == (
        f'attachment; filename="bookbay-demo-auto-{day_text}.ics"'
    )
    assert calendar["METHOD"] == "PUBLISH" and calendar["VERSION"] == "2.0" and calendar["PRODID"]
    (vevent,) = calendar.events
    assert vevent["UID"] == f"{s.appointment.id}@bookbay-demo-auto.bookbay"
    assert vevent.decoded("DTSTART") == start.astimezone(UTC)
    assert vevent.decoded("DTEND") == (start + timedelta(minutes=30)).astimezone(UTC)
    assert vevent.decoded("DTSTART").tzinfo is not None and vevent.decoded(
        "DTSTART"
    ).utcoffset() == timedelta(0)
    assert "DTSTART:" + start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in response["body"]
    assert vevent.sequence == 0 and vevent["STATUS"] == "CONFIRMED"
    assert vevent["SUMMARY"] == "Oil change at Bookbay Demo Auto"
    assert vevent["LOCATION"] == "Austin Downtown, 801 Congress Ave, Austin, TX 78701"
    assert "Vehicle: 2019 Honda Civic" in str(vevent["DESCRIPTION"])
    assert s.customer_token not in response["body"]  # no capability in a synced calendar
    assert table_items(seeded) == before


def test_the_calendar_uid_stays_and_its_sequence_grows_across_a_staff_reschedule(
    seeded: Stack, customer_links_app: Any, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day(), 10), status="confirmed")
    first = ics_of(call(customer_links_app, event("customer_calendar", s.customer_token))).events[0]
    new_start = local(day() + timedelta(days=1), 15)
    staff = load_event("staff_reschedule")
    staff["path"] = f"/s/{s.staff_token}/reschedule"
    staff["pathParameters"] = {"token": s.staff_token}
    assert (
        call(staff_app, with_body(staff, "start=" + quote(new_start.isoformat()), FORM))["statusCode"] == 200
    )
    second = ics_of(call(customer_links_app, event("customer_calendar", s.customer_token))).events[0]
    assert second["UID"] == first["UID"]
    assert second.sequence == first.sequence + 1
    assert second.decoded("DTSTART") == new_start.astimezone(UTC)


# ------------------------------------------------------------------------------ reschedule requests
def test_a_reschedule_request_keeps_the_time_and_emails_the_store_once(
    seeded: Stack, customer_links_app: Any, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    start = local(day(), 10)
    s = seed_appointment(catalog, start, status="confirmed")
    assert_page(call(customer_links_app, event("customer_confirm", s.customer_token)), 200)
    before = stored(s.appointment.id)
    # When the customer asks to reschedule
    html = assert_page(call(customer_links_app, event("customer_reschedule", s.customer_token)), 200)
    # Then the page shows the representative message
    assert REPRESENTATIVE in html and "Reschedule requested" in html
    assert not has_confirm(html) and not has_reschedule(html) and 'href="calendar.ics"' in html
    # and the appointment is reschedule_requested (one more calendar sequence), still holding its slot
    item = stored(s.appointment.id)
    assert (item.status, item.body["status"]) == ("reschedule_requested", "reschedule_requested")
    assert item.body["sequence"] == before.body["sequence"] + 1 and item.version == before.version + 1
    assert item.body["reschedule_requested_at"] is not None
    assert item.body["customer_confirmation"] is None
    assert slot_used(AUSTIN, start) == 1
    # and the store got one e-mail with a link to pick the new time
    (message,) = outbox(seeded)
    assert message["to_address"]["S"] == "austin@demo-auto.example.com"
    assert message["subject"]["S"].startswith("Reschedule request: Oil change")
    assert "Pat Customer asks to reschedule" in message["text"]["S"]
    assert long_when(start) in message["text"]["S"]
    staff_link = re.search(rf"{re.escape(PUBLIC_BASE_URL)}/s/([A-Za-z0-9_-]+)", message["text"]["S"])
    assert staff_link is not None
    staff = load_event("staff_get")
    staff["path"] = f"/s/{staff_link.group(1)}"
    staff["pathParameters"] = {"token": staff_link.group(1)}
    staff_page = call(staff_app, staff)
    assert staff_page["statusCode"] == 200 and "The customer asked to reschedule" in staff_page["body"]
    # When they ask again
    after = table_items(seeded)
    again = assert_page(call(customer_links_app, event("customer_reschedule", s.customer_token)), 200)
    # Then nothing more happens
    assert REPRESENTATIVE in again and table_items(seeded) == after
    # and the page says the request is pending; Confirm is refused meanwhile
    page = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    assert REPRESENTATIVE in page and not has_confirm(page) and not has_reschedule(page)
    refused = assert_page(call(customer_links_app, event("customer_confirm", s.customer_token)), 409)
    assert "cannot be confirmed now" in refused and table_items(seeded) == after
    # and the calendar entry turns tentative
    calendar = ics_of(call(customer_links_app, event("customer_calendar", s.customer_token)))
    assert calendar.events[0]["STATUS"] == "TENTATIVE"


def test_where_the_shop_takes_no_reschedule_requests_there_is_no_button_and_the_post_is_a_404(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    set_reschedule_requests(seeded, False)
    s = seed_appointment(catalog, local(day(), 10), status="confirmed")
    page = assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    assert not has_reschedule(page) and "/reschedule" not in page and has_confirm(page)
    before = table_items(seeded)
    html = assert_page(call(customer_links_app, event("customer_reschedule", s.customer_token)), 404)
    assert "Not available online" in html and "+1 512-555-0100" in html
    assert table_items(seeded) == before
    # and back on, the button is back
    set_reschedule_requests(seeded, True)
    assert has_reschedule(assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200))


# ------------------------------------------------------------------------------ links that no longer work
def test_after_check_in_every_route_answers_410_and_changes_nothing(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    start = local(day(), 10)
    s = seed_appointment(catalog, start, status="confirmed")
    assert_page(call(customer_links_app, event("customer_get", s.customer_token)), 200)
    deps = LifecycleDeps(
        CatalogRepository(seeded.table_name, REGION), AppointmentRepository(seeded.table_name, REGION)
    )
    check_in = Ask("check_in", Actor(kind="staff", sub="staff-1"))
    # When staff check the vehicle in
    result = lifecycle.act(deps, s.appointment.id, check_in, datetime.now(UTC))
    # Then it is checked in, its slot released and its reminder's effect written with it
    assert result.appointment.status == "checked_in"
    item = stored(s.appointment.id)
    assert item.status == "checked_in" and item.body["checked_in_at"] is not None
    assert item.body["sequence"] == 1 and slot_used(AUSTIN, start) == 0
    effects = [json.loads(i["body"]["S"]) for i in table_items(seeded) if i["entity"]["S"] == "Effect"]
    assert [(e["name"], e["subject"]) for e in effects] == [("reminder.sync", s.appointment.id)]
    # and the customer's link is no longer active, on every route
    before = table_items(seeded)
    for name in ROUTES:
        html = assert_page(call(customer_links_app, event(name, s.customer_token)), 410)
        assert "This link is no longer active" in html and "checked in" in html
    assert table_items(seeded) == before
    # and it cannot be checked in twice
    with pytest.raises(InvalidTransition, match="that is checked in cannot be checked in"):
        lifecycle.act(deps, s.appointment.id, check_in, datetime.now(UTC))


@pytest.mark.parametrize("status", ["cancelled", "checked_in", "completed", "no_show"])
def test_links_of_appointments_that_no_longer_hold_their_time_answer_410(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog, status: Any
) -> None:
    s = seed_appointment(catalog, local(day(), 10), status=status)
    before = table_items(seeded)
    for name in ROUTES:
        html = assert_page(call(customer_links_app, event(name, s.customer_token)), 410)
        assert "This link is no longer active" in html
    assert table_items(seeded) == before


def test_the_link_of_a_past_appointment_answers_410(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(past_weekday(7), 10), status="confirmed")
    for name in ROUTES:
        assert_page(call(customer_links_app, event(name, s.customer_token)), 410)


# The last one is well formed (like new_link_token()'s) but in no table; a constant, so that
# pytest-xdist's workers collect the same test ids.
@pytest.mark.parametrize("token", ["abc", "not a token!", "x" * 300, "Tm90SW5UaGVUYWJsZUF0QWxsMDEyMzQ1"])
def test_unknown_or_malformed_tokens_answer_404(customer_links_app: Any, call: Any, token: str) -> None:
    for name in ROUTES:
        html = assert_page(call(customer_links_app, event(name, token)), 404)
        assert "This link is not valid" in html


def test_a_staff_link_token_does_not_open_the_customer_page(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day(), 10))
    assert_page(call(customer_links_app, event("customer_get", s.staff_token)), 404)


# ------------------------------------------------------------------------------ bad posts
def test_bad_posts_answer_4xx_pages_and_change_nothing(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day(), 10), status="confirmed")
    token = s.customer_token
    before = table_items(seeded)
    cases: list[tuple[dict[str, Any], int]] = [
        (event("customer_confirm", token, '{"action": "confirm"}', "application/json"), 415),
        (event("customer_confirm", token, "action=confirm", "text/plain"), 415),
        (event("customer_reschedule", token, "action=reschedule", None), 415),
        (event("customer_reschedule", token, "--b\r\n\r\n--b--", "multipart/form-data; boundary=b"), 415),
        (event("customer_confirm", token, ""), 400),
        (event("customer_confirm", token, "   "), 400),
        (event("customer_reschedule", token, "start=%zz&&&=="), 400),
    ]
    for e, status in cases:
        html = assert_page(call(customer_links_app, e), status)
        assert "<h1>" in html
    assert table_items(seeded) == before


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Origin": "https://evil.example.net"}, 403),
        ({"Origin": "null"}, 200),  # what Referrer-Policy: no-referrer makes a browser send
        ({"Origin": PUBLIC_BASE_URL}, 200),
        ({}, 200),  # no browser: the token is the capability
    ],
)
@pytest.mark.parametrize("name", ["customer_confirm", "customer_reschedule"])
def test_posts_from_another_site_are_refused(
    seeded: Stack,
    customer_links_app: Any,
    call: Any,
    catalog: Catalog,
    headers: dict[str, str],
    status: int,
    name: str,
) -> None:
    s = seed_appointment(catalog, local(day(), 10), status="confirmed")
    e = event(name, s.customer_token)
    kept = {k: v for k, v in e["headers"].items() if k not in ("Origin", "Sec-Fetch-Site")}
    e["headers"] = {**kept, **headers}
    e["multiValueHeaders"] = {k: [v] for k, v in e["headers"].items()}
    before = stored(s.appointment.id).version
    assert_page(call(customer_links_app, copy.deepcopy(e)), status)
    assert stored(s.appointment.id).version == (before + 1 if status == 200 else before)


# ------------------------------------------------------------------------------ races
def test_a_confirm_that_lost_a_race_to_staff_is_tried_again_on_the_fresh_record(
    seeded: Stack, customer_links_app: Any, staff_app: Any, call: Any, catalog: Catalog, monkeypatch: Any
) -> None:
    # Given the customer's request read the appointment just before staff confirmed it
    s = seed_appointment(catalog, local(day(), 10))
    repo = customer_links_app.deps.appointments
    stale = repo.by_token(s.customer_token, "customer")
    staff = load_event("staff_confirm")
    staff["path"] = f"/s/{s.staff_token}/confirm"
    staff["pathParameters"] = {"token": s.staff_token}
    assert call(staff_app, staff)["statusCode"] == 200
    monkeypatch.setattr(repo, "by_token", lambda token, kind: stale)
    # When the customer's confirm writes: the first write fails, the second one (fresh) succeeds
    html = assert_page(call(customer_links_app, event("customer_confirm", s.customer_token)), 200)
    assert "See you then!" in html
    item = stored(s.appointment.id)
    assert item.status == "confirmed" and item.body["customer_confirmation"] is not None


def test_a_reschedule_request_that_lost_a_race_to_a_cancel_answers_410(
    seeded: Stack, customer_links_app: Any, call: Any, catalog: Catalog, monkeypatch: Any
) -> None:
    s = seed_appointment(catalog, local(day(), 10), status="confirmed")
    repo = customer_links_app.deps.appointments
    stale = repo.by_token(s.customer_token, "customer")
    item = stored(s.appointment.id)
    body = {**item.body, "status": "cancelled"}
    item.update(actions=[AppointmentItem.status.set("cancelled"), AppointmentItem.body.set(body)])  # a cancel
    monkeypatch.setattr(repo, "by_token", lambda token, kind: stale)
    before = table_items(seeded)
    assert_page(call(customer_links_app, event("customer_reschedule", s.customer_token)), 410)
    assert table_items(seeded) == before
