"""Staff action pages (/s/{token}) in process on moto: GET shows and changes nothing; confirm and
reschedule write the appointment, the capacity and the customer's e-mail in one transaction."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from bookbay.domain.catalog import Catalog
from bookbay.domain.ids import hash_token
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem, LinkTokenItem
from bookbay.repositories.catalog import CatalogRepository
from bookbay.templates import long_when
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack, outbox, table_items
from tests.support import load_event, with_body
from tests.support.appointments import (
    Seeded,
    fill_slot,
    local,
    next_weekday,
    past_weekday,
    seed_appointment,
    slot_used,
)

pytestmark = pytest.mark.integration
FORM = "application/x-www-form-urlencoded"
AUSTIN = "austin-downtown"


# ------------------------------------------------------------------------------ helpers
@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    return CatalogRepository(seeded.table_name, REGION).catalog()


def day() -> Any:
    return next_weekday(datetime.now(UTC).date())


def event(name: str, token: str, body: str | None = None, content_type: str | None = FORM) -> dict[str, Any]:
    e = load_event(name)
    action = {"staff_get": "", "staff_confirm": "/confirm", "staff_reschedule": "/reschedule"}[name]
    e["path"] = f"/s/{token}{action}"
    e["pathParameters"] = {"token": token}
    if name != "staff_get":
        e = with_body(e, body, content_type)
    return e


def start_form(start: datetime) -> str:
    return "start=" + quote(start.isoformat())


def stored(appointment_id: str) -> AppointmentItem:
    return AppointmentItem.get(keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK, consistent_read=True)


def picker_starts(html: str, zone: str = "America/Chicago") -> list[datetime]:
    """The picker's starts (ISO with offset), in ``zone``."""
    values = re.findall(r'name="start" id="[^"]+" value="([^"]+)"', html)
    return [datetime.fromisoformat(v).astimezone(ZoneInfo(zone)) for v in values]


def assert_page(response: dict[str, Any], status: int) -> str:
    assert response["statusCode"] == status, response["body"][:2000]
    headers = {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()}
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src" not in csp and "default-src 'none'" in csp
    nonce = re.search(r"style-src 'nonce-([^']+)'", csp)
    assert nonce is not None and f'<style nonce="{nonce.group(1)}">' in response["body"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    assert "<script" not in response["body"]
    body: str = response["body"]
    return body


# ------------------------------------------------------------------------------ GET
def test_the_page_shows_the_appointment_with_confirm_and_free_times_and_changes_nothing(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    # Given a requested appointment whose notes and name carry markup
    start = local(day(), 10)
    seeded_appointment = seed_appointment(
        catalog,
        start,
        notes="<script>alert('x')</script> & more",
        contact=seed_contact(first_name="<b>Pat</b>"),
    )
    before = table_items(seeded)
    # When staff open the link from the e-mail (a mail scanner may do the same)
    html = assert_page(call(staff_app, event("staff_get", seeded_appointment.staff_token)), 200)
    # Then the page shows it, escaped, in the location's zone
    for text in (
        "Oil change",
        "Austin Downtown",
        "801 Congress Ave",
        "2019 Honda Civic",
        "+1 512-555-0123",
        "pat.customer@example.com",
        "website",
        long_when(start),
        "Requested, waiting for the store to confirm",
    ):
        assert text in html, text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html
    assert "&lt;b&gt;Pat&lt;/b&gt;" in html and "<b>Pat</b>" not in html
    assert f'action="{seeded_appointment.staff_token}/confirm"' in html
    assert f'action="{seeded_appointment.staff_token}/reschedule"' in html
    # and a picker of free starts in the next 14 days, without the current one
    starts = picker_starts(html)
    assert starts and start not in starts
    assert all(s.utcoffset() == timedelta(hours=-6) for s in starts)  # CST
    assert max(starts).date() < datetime.now(UTC).date() + timedelta(days=15)
    assert '<label for="slot-1-1">' in html
    # and nothing changed
    assert table_items(seeded) == before


def seed_contact(**changes: str) -> Any:
    from tests.support.appointments import CONTACT

    return CONTACT.model_copy(update=changes)


def test_a_phoenix_appointment_is_shown_in_mountain_standard_time(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    start = local(day(), 9, zone="America/Phoenix")
    seeded_appointment = seed_appointment(catalog, start, location_id="phoenix-camelback")
    html = assert_page(call(staff_app, event("staff_get", seeded_appointment.staff_token)), 200)
    assert long_when(start).endswith("at 9:00 AM MST") and long_when(start) in html
    assert all(s.utcoffset() == timedelta(hours=-7) for s in picker_starts(html, "America/Phoenix"))


def test_an_at_home_appointment_shows_the_address_and_offers_times(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    seeded_appointment = seed_appointment(catalog, local(day(), 11), appointment_type="at_home")
    html = assert_page(call(staff_app, event("staff_get", seeded_appointment.staff_token)), 200)
    assert "1100 S Lamar Blvd" in html and "At home" in html
    assert picker_starts(html)


# ------------------------------------------------------------------------------ confirm
def test_confirm_confirms_and_emails_the_customer_once(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day(), 10))
    # When staff confirm
    html = assert_page(call(staff_app, event("staff_confirm", s.staff_token, "action=confirm")), 200)
    # Then the page says so, the appointment is confirmed and the customer's e-mail is in the outbox
    assert "Confirmed \N{EM DASH} the customer has been e-mailed." in html
    assert f'href="../{s.staff_token}"' in html
    item = stored(s.appointment.id)
    assert (item.status, item.version, item.body["status"], item.body["sequence"]) == (
        "confirmed",
        2,
        "confirmed",
        1,
    )
    (message,) = outbox(seeded)
    assert message["to_address"]["S"] == "pat.customer@example.com"
    assert message["subject"]["S"].startswith("Your appointment is confirmed: ")
    assert long_when(s.appointment.start) in message["text"]["S"]
    manage = re.search(rf"{re.escape(PUBLIC_BASE_URL)}/c/([A-Za-z0-9_-]+)", message["text"]["S"])
    assert manage is not None
    link = LinkTokenItem.get(keys.token_pk(hash_token(manage.group(1))), keys.TOKEN_SK)
    assert (link.kind, link.appointment_id) == ("customer", s.appointment.id)
    # When they confirm again (a double click, a reload)
    again = assert_page(call(staff_app, event("staff_confirm", s.staff_token, "action=confirm")), 200)
    # Then nothing more is sent
    assert "already confirmed" in again and len(outbox(seeded)) == 1
    assert stored(s.appointment.id).version == 2
    # And the page no longer offers Confirm, but still Reschedule
    page = assert_page(call(staff_app, event("staff_get", s.staff_token)), 200)
    assert "/confirm" not in page and "/reschedule" in page and ">Confirmed<" in page


# ------------------------------------------------------------------------------ reschedule
def test_reschedule_moves_the_capacity_and_emails_the_customer(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    old_start = local(day(), 10)
    s = seed_appointment(catalog, old_start)
    html = assert_page(call(staff_app, event("staff_get", s.staff_token)), 200)
    new_start = next(t for t in picker_starts(html) if t.date() > old_start.date())
    assert (slot_used(AUSTIN, old_start), slot_used(AUSTIN, new_start)) == (1, 0)
    # When staff pick a new time
    done = assert_page(call(staff_app, event("staff_reschedule", s.staff_token, start_form(new_start))), 200)
    # Then the capacity moved, the appointment is there (confirmed) and the customer is told
    assert f"Moved to {long_when(new_start)}" in done
    assert (slot_used(AUSTIN, old_start), slot_used(AUSTIN, new_start)) == (0, 1)
    item = stored(s.appointment.id)
    assert datetime.fromisoformat(item.body["start"]) == new_start
    assert item.body["slot_starts"] == [new_start.astimezone(UTC).isoformat().replace("+00:00", "Z")]
    assert (item.status, item.body["sequence"], item.version) == ("confirmed", 1, 2)
    assert item.gsi1sk == f"{new_start.isoformat()[:19]}#{s.appointment.id}"
    assert item.gsi2sk == "APPOINTMENT#" + new_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (message,) = outbox(seeded)
    assert message["subject"]["S"].startswith("Your appointment has been moved to ")
    assert long_when(new_start) in message["text"]["S"] and long_when(old_start) in message["text"]["S"]
    # and the staff link keeps working until the new time is past
    token = LinkTokenItem.get(keys.token_pk(hash_token(s.staff_token)), keys.TOKEN_SK)
    assert token.expires_at == new_start.astimezone(UTC) + timedelta(minutes=30, days=1)


def test_moving_a_long_service_by_one_slot_only_moves_the_slots_it_leaves_and_takes(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    # Given a 90-minute booking at 10:00 (10:00, 10:30, 11:00) and another booking holding the
    # 10:30 and 11:00 slots too: both are full (capacity 2)
    start = local(day(), 10)
    s = seed_appointment(catalog, start, service_id="brake-inspection")
    half_hour = timedelta(minutes=30)
    for slot in (start + half_hour, start + 2 * half_hour):
        fill_slot(AUSTIN, slot, 2)
    # Then 10:30 is still offered (this appointment's own holds count as free for it)
    html = assert_page(call(staff_app, event("staff_get", s.staff_token)), 200)
    assert start + half_hour in picker_starts(html)
    # When it moves to 10:30
    assert_page(call(staff_app, event("staff_reschedule", s.staff_token, start_form(start + half_hour))), 200)
    # Then 10:00 is released, 11:30 held, and the shared slots are as they were
    assert [slot_used(AUSTIN, start + k * half_hour) for k in range(4)] == [0, 2, 2, 1]


@pytest.mark.parametrize("blocked", [False, True])
def test_reschedule_into_a_full_or_blocked_slot_is_a_409_page_and_changes_nothing(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog, blocked: bool
) -> None:
    start = local(day(), 10)
    s = seed_appointment(catalog, start)
    target = local(day(), 14)
    fill_slot(AUSTIN, target, 0 if blocked else 2, blocked=blocked)
    before = table_items(seeded)
    html = assert_page(call(staff_app, event("staff_reschedule", s.staff_token, start_form(target))), 409)
    assert "That time was just taken" in html
    starts = picker_starts(html)
    assert starts and target not in starts and start not in starts
    assert 'action="reschedule"' in html and 'action="confirm"' in html  # siblings of this page
    assert table_items(seeded) == before


def test_a_time_beyond_the_horizon_is_refused_with_fresh_times(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day(), 10))
    far = local(next_weekday(datetime.now(UTC).date(), 70), 10)
    before = table_items(seeded)
    html = assert_page(call(staff_app, event("staff_reschedule", s.staff_token, start_form(far))), 409)
    assert "can no longer be booked" in html and picker_starts(html)
    assert table_items(seeded) == before


# ------------------------------------------------------------------------------ links that do not work
def test_links_of_cancelled_or_past_appointments_are_no_longer_active(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    cancelled = seed_appointment(catalog, local(day(), 10), status="cancelled")
    past = seed_appointment(catalog, local(past_weekday(7), 10))
    before = table_items(seeded)
    for token in (cancelled.staff_token, past.staff_token):
        for name, body in (
            ("staff_get", None),
            ("staff_confirm", "action=confirm"),
            ("staff_reschedule", "start=x"),
        ):
            html = assert_page(call(staff_app, event(name, token, body)), 410)
            assert "This link is no longer active" in html
    assert table_items(seeded) == before


# The last one has a real token's shape (32 URL-safe characters) but was never issued; fixed, so
# that every pytest-xdist worker collects the same parameters.
@pytest.mark.parametrize("token", ["abc", "not a token!", "x" * 300, "q7Hk2vN9xWcR4tLm8PzB1sDf6GjY3aUe"])
def test_unknown_or_malformed_tokens_answer_404(staff_app: Any, call: Any, token: str) -> None:
    html = assert_page(call(staff_app, event("staff_get", token)), 404)
    assert "This link is not valid" in html
    assert_page(call(staff_app, event("staff_confirm", token, "action=confirm")), 404)


def test_a_customer_link_token_does_not_open_the_staff_page(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    s: Seeded = seed_appointment(catalog, local(day(), 10))
    assert_page(call(staff_app, event("staff_get", s.customer_token)), 404)


# ------------------------------------------------------------------------------ bad posts
def test_bad_posts_answer_4xx_pages_and_change_nothing(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog
) -> None:
    start = local(day(), 10)
    s = seed_appointment(catalog, start)
    token = s.staff_token
    before = table_items(seeded)
    cases: list[tuple[dict[str, Any], int]] = [
        (event("staff_confirm", token, '{"action": "confirm"}', "application/json"), 415),
        (event("staff_confirm", token, "action=confirm", "text/plain"), 415),
        (event("staff_confirm", token, "action=confirm", None), 415),
        (event("staff_reschedule", token, "--b\r\n\r\n--b--", "multipart/form-data; boundary=b"), 415),
        (event("staff_confirm", token, None), 400),
        (event("staff_confirm", token, "   "), 400),
        (event("staff_reschedule", token, "start=%zz&&&=="), 400),
        (event("staff_reschedule", token, "when=tomorrow"), 422),
        (event("staff_reschedule", token, "start=next+tuesday"), 422),
        (event("staff_reschedule", token, "start=2026-12-01T10:00:00"), 422),  # no offset
        (event("staff_reschedule", token, start_form(local(day(), 10, 10))), 422),  # not a slot
        (event("staff_reschedule", token, start_form(local(day(), 22))), 422),  # closed
        (event("staff_reschedule", token, start_form(start)), 422),  # where it is
    ]
    for e, status in cases:
        html = assert_page(call(staff_app, e), status)
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
def test_posts_from_another_site_are_refused(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog, headers: dict[str, str], status: int
) -> None:
    s = seed_appointment(catalog, local(day(), 10))
    e = event("staff_confirm", s.staff_token, "action=confirm")
    kept = {k: v for k, v in e["headers"].items() if k not in ("Origin", "Sec-Fetch-Site")}
    e["headers"] = {**kept, **headers}
    e["multiValueHeaders"] = {k: [v] for k, v in e["headers"].items()}
    assert_page(call(staff_app, copy.deepcopy(e)), status)
    assert len(outbox(seeded)) == (1 if status == 200 else 0)


# ------------------------------------------------------------------------------ races
def test_a_confirm_that_lost_a_race_says_already_confirmed_and_sends_nothing(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a request that read the appointment just before another one confirmed it
    s = seed_appointment(catalog, local(day(), 10))
    repo = staff_app.deps.appointments
    stale = repo.by_token(s.staff_token, "staff")
    assert_page(call(staff_app, event("staff_confirm", s.staff_token, "action=confirm")), 200)
    monkeypatch.setattr(repo, "by_token", lambda token, kind: stale)
    # When it confirms: its conditional write fails, and it finds the appointment confirmed
    html = assert_page(call(staff_app, event("staff_confirm", s.staff_token, "action=confirm")), 200)
    assert "already confirmed" in html
    assert len(outbox(seeded)) == 1 and stored(s.appointment.id).version == 2


def test_a_reschedule_that_lost_a_race_is_a_409_page_and_changes_nothing(
    seeded: Stack, staff_app: Any, call: Any, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = local(day(), 10)
    s = seed_appointment(catalog, start)
    repo = staff_app.deps.appointments
    stale = repo.by_token(s.staff_token, "staff")
    assert_page(call(staff_app, event("staff_confirm", s.staff_token, "action=confirm")), 200)
    monkeypatch.setattr(repo, "by_token", lambda token, kind: stale)
    before = table_items(seeded)
    html = assert_page(
        call(staff_app, event("staff_reschedule", s.staff_token, start_form(local(day(), 15)))), 409
    )
    assert "changed meanwhile" in html
    assert table_items(seeded) == before
