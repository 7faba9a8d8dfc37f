"""Review requests without AWS: step times (local wall time, daylight-saving changes, zones without
DST, catch-up), the state machine, the e-mail, the page's wording and the queue's cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.domain import review_requests as domain
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog
from bookbay.domain.review_requests import ReviewRequest, step_at, step_time
from bookbay.exceptions import InvalidCursor, InvalidTransition
from bookbay.repositories import review_requests as review_storage
from bookbay.repositories.pagination import GSI3_CURSOR_KEYS, decode_cursor, encode_cursor
from bookbay.services.notifications import appointment_details
from bookbay.services.review_requests import ReviewView, link_end, review_message
from bookbay.shopfile import read_shop_file

ROOT = Path(__file__).resolve().parents[2]
CHICAGO = ZoneInfo("America/Chicago")
PHOENIX = ZoneInfo("America/Phoenix")
PAGE = "https://book.example.com/r/TOKENtokenTOKENtokenTOKENtoken12"
REVIEW = "https://reviews.example.com/shop"


@pytest.fixture(scope="module")
def demo() -> Catalog:
    return read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = CHICAGO) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def request(**changes: Any) -> ReviewRequest:
    completed = local(date(2026, 10, 30), 16, 30)
    data: dict[str, Any] = {
        "id": "appt-0001",
        "appointment_id": "appt-0001",
        "customer_id": "cust-0001",
        "location_id": "austin-downtown",
        "service_id": "oil-change",
        "visit_start": local(date(2026, 10, 30), 10),
        "first_name": "Pat",
        "email": "pat@example.com",
        "steps_days": [1, 4, 10],
        "completed_at": completed,
        "created_at": completed,
        "updated_at": completed,
    }
    data.update(changes)
    return ReviewRequest.model_validate(data)


# ------------------------------------------------------------------------------ step times
def test_a_step_is_at_the_reminder_time_local_n_days_after_the_completion_date() -> None:
    completed = local(date(2026, 6, 10), 15)  # a Wednesday afternoon, CDT (UTC-5)
    at = step_at(completed, 1, "America/Chicago", "09:00", completed)
    assert at == datetime(2026, 6, 11, 14, 0, tzinfo=UTC) and at.tzinfo == UTC
    # every calendar day counts (a weekend too): 4 days later is a Sunday
    assert step_at(completed, 4, "America/Chicago", "09:00", completed).astimezone(CHICAGO) == local(
        date(2026, 6, 14), 9
    )


def test_the_local_completion_date_counts_not_the_utc_one() -> None:
    # 23:30 in Austin is already the next day in UTC; step 1 is still the next LOCAL day at 09:00
    completed = local(date(2026, 6, 10), 23, 30)
    assert completed.astimezone(UTC).date() == date(2026, 6, 11)
    assert step_at(completed, 1, "America/Chicago", "09:00", completed).astimezone(CHICAGO) == local(
        date(2026, 6, 11), 9
    )


@pytest.mark.parametrize(
    ("completed_day", "days", "expected_utc"),
    [
        # Fall back (Sunday, November 1, 2026): 09:00 CDT before, 09:00 CST after -- one hour apart in UTC
        (date(2026, 10, 30), 1, datetime(2026, 10, 31, 14, 0, tzinfo=UTC)),
        (date(2026, 10, 30), 4, datetime(2026, 11, 3, 15, 0, tzinfo=UTC)),
        (date(2026, 10, 31), 1, datetime(2026, 11, 1, 15, 0, tzinfo=UTC)),  # the change day itself
        # Spring forward (Sunday, March 8, 2026)
        (date(2026, 3, 6), 1, datetime(2026, 3, 7, 15, 0, tzinfo=UTC)),
        (date(2026, 3, 6), 4, datetime(2026, 3, 10, 14, 0, tzinfo=UTC)),
        (date(2026, 3, 7), 1, datetime(2026, 3, 8, 14, 0, tzinfo=UTC)),
    ],
)
def test_nine_am_stays_nine_am_across_daylight_saving_changes(
    completed_day: date, days: int, expected_utc: datetime
) -> None:
    completed = local(completed_day, 12)
    at = step_at(completed, days, "America/Chicago", "09:00", completed)
    assert at == expected_utc
    assert at.astimezone(CHICAGO).time() == time(9)


def test_a_zone_without_daylight_saving_keeps_its_offset() -> None:
    completed = local(date(2026, 10, 30), 12, zone=PHOENIX)
    for days in (1, 4, 10):
        at = step_at(completed, days, "America/Phoenix", "09:00", completed)
        assert at == datetime.combine(date(2026, 10, 30) + timedelta(days=days), time(16), tzinfo=UTC)


def test_a_reminder_time_skipped_by_spring_forward_lands_an_hour_later_in_wall_time() -> None:
    completed = local(date(2026, 3, 7), 12)
    at = step_at(completed, 1, "America/Chicago", "02:30", completed)
    assert at.astimezone(CHICAGO) == local(date(2026, 3, 8), 3, 30)


def test_a_step_whose_time_has_passed_goes_out_shortly_never_in_the_past() -> None:
    # day 0 after the reminder time, and a step fired late
    completed = local(date(2026, 6, 10), 15)
    assert step_at(completed, 0, "America/Chicago", "09:00", completed) == (
        completed + domain.CATCH_UP
    ).astimezone(UTC)
    late = local(date(2026, 6, 20), 8)
    assert step_at(completed, 4, "America/Chicago", "09:00", late) == (late + domain.CATCH_UP).astimezone(UTC)
    # day 0 before the reminder time: that same morning
    early = local(date(2026, 6, 10), 7)
    assert step_at(early, 0, "America/Chicago", "09:00", early).astimezone(CHICAGO) == local(
        date(2026, 6, 10), 9
    )


def test_times_must_be_aware_and_steps_in_the_sequence() -> None:
    with pytest.raises(ValueError, match="aware"):
        step_at(
            datetime(2026, 6, 10, 12, tzinfo=UTC).replace(tzinfo=None),
            1,
            "America/Chicago",
            "09:00",
            datetime.now(UTC),
        )
    r = request()
    assert step_time(r, 3, "America/Chicago", "09:00", r.completed_at).astimezone(CHICAGO) == local(
        date(2026, 11, 9), 9
    )
    for step in (0, 4):
        with pytest.raises(ValueError, match="not a step"):
            step_time(r, step, "America/Chicago", "09:00", r.completed_at)


# ------------------------------------------------------------------------------ the state machine
def test_each_step_moves_the_sequence_on_and_the_last_finishes_it() -> None:
    r = request()
    assert (r.status, r.next_step, r.is_active) == ("active", 1, True)
    now = r.completed_at + timedelta(days=1)
    r = domain.step_sent(r, 1, now, now + timedelta(days=3))
    assert (r.status, r.steps_sent, r.next_step, r.next_step_at) == ("active", 1, 2, now + timedelta(days=3))
    r = domain.step_sent(r, 2, now, now + timedelta(days=6))
    r = domain.step_sent(r, 3, now, None)
    assert (r.status, r.steps_sent, r.next_step, r.next_step_at) == ("finished", 3, None, None)
    assert (r.ended_at, r.ended_by) == (now, "system")


def test_only_the_step_due_can_be_sent() -> None:
    r = request()
    now = r.completed_at
    for step in (0, 2, 3):
        with pytest.raises(InvalidTransition):
            domain.step_sent(r, step, now, now)
    with pytest.raises(ValueError, match="next step"):
        domain.step_sent(r, 1, now, None)
    finished = request(status="finished", steps_sent=3)
    with pytest.raises(InvalidTransition):
        domain.step_sent(finished, 3, now, None)


@pytest.mark.parametrize(
    ("status", "by"), [("done", "customer"), ("opted_out", "customer"), ("stopped", "staff")]
)
def test_an_active_sequence_ends_once(status: Any, by: Any) -> None:
    r = request(steps_sent=1, next_step_at=datetime(2026, 11, 3, 14, tzinfo=UTC))
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    ended = domain.end(r, status, now, by=by, reason="why" if status == "stopped" else None)
    assert (ended.status, ended.ended_at, ended.ended_by, ended.next_step_at, ended.next_step) == (
        status,
        now,
        by,
        None,
        None,
    )
    assert ended.steps_sent == 1
    for end_status in ("done", "opted_out", "stopped"):
        with pytest.raises(InvalidTransition, match="not active"):
            domain.end(ended, end_status, now, by="staff")


def test_a_request_is_consistent() -> None:
    with pytest.raises(ValueError, match="more steps sent"):
        request(steps_sent=4)
    with pytest.raises(ValueError, match="appointment's id"):
        request(appointment_id="another")
    with pytest.raises(ValueError):
        request(email="not an e-mail")


# ------------------------------------------------------------------------------ the e-mail
def test_the_email_has_the_review_site_the_page_link_and_escapes_what_customers_typed(demo: Catalog) -> None:
    r = request(first_name="<b>Pat</b>")
    now = r.completed_at + timedelta(days=1)
    first = review_message(demo, r, 1, review_url=REVIEW, page_url=PAGE, now=now)
    assert (first.channel, first.to, first.reference) == ("email", "pat@example.com", "review:appt-0001:1")
    assert first.subject == "How was your visit to Bookbay Demo Auto?"
    assert first.html is not None
    assert f'href="{REVIEW}"' in first.html and f'href="{PAGE}"' in first.html
    assert "&lt;b&gt;Pat&lt;/b&gt;" in first.html and "<b>Pat</b>" not in first.html
    assert REVIEW in first.text and PAGE in first.text and "Hello <b>Pat</b>" in first.text
    assert "Friday, October 30" in first.text and "Austin Downtown" in first.text
    assert "last e-mail" not in first.text
    last = review_message(demo, r, 3, review_url=REVIEW, page_url=PAGE, now=now)
    assert last.subject == "Would you review your visit to Bookbay Demo Auto?"
    assert "This is our last e-mail about this visit." in last.text


def test_the_email_does_without_a_store_or_service_the_catalog_lost(demo: Catalog) -> None:
    r = request(location_id="closed-store", service_id="gone-service")
    message = review_message(demo, r, 1, review_url=REVIEW, page_url=PAGE, now=r.completed_at)
    assert "thank you for choosing Bookbay Demo Auto on Friday, October 30." in message.text
    assert "Call" not in message.text


def test_a_link_lives_past_the_sequences_last_step() -> None:
    r = request()
    assert link_end(r) == r.completed_at + timedelta(days=11)


# ------------------------------------------------------------------------------ the page
def view(demo: Catalog, r: ReviewRequest, outcome: Any = "shown") -> ReviewView:
    appointment = Appointment.model_validate(
        {
            "id": r.appointment_id,
            "status": "completed",
            "location_id": r.location_id,
            "service_id": r.service_id,
            "appointment_type": "in_store",
            "start": r.visit_start,
            "end": r.visit_start + timedelta(minutes=30),
            "slot_starts": [r.visit_start],
            "customer_id": r.customer_id,
            "contact": {"first_name": "Pat", "last_name": "Lee", "phone": "+15125550123", "email": r.email},
            "source": "web",
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
    )
    details = appointment_details(demo, appointment, vehicle_label=None, address=None)
    return ReviewView(details, r, REVIEW, outcome)


@pytest.mark.parametrize(
    ("status", "outcome", "headline", "notice", "can_answer", "can_opt_out"),
    [
        ("active", "shown", "How did we do?", None, True, True),
        ("done", "shown", "Thank you for your review", "You told us you left a review", False, True),
        ("opted_out", "shown", "No more review e-mails", "You asked us to stop", False, False),
        ("stopped", "shown", "These e-mails have stopped", "no longer sending", False, True),
        ("finished", "shown", "Thank you for your visit", "That was our last e-mail", False, True),
        ("done", "done", "Thank you for your review", "We will not send you more", False, True),
        ("done", "already_done", "Thank you for your review", "You had already told us", False, True),
        ("opted_out", "opted_out", "No more review e-mails", "You will not get review e-mails", False, False),
        ("finished", "opted_out", "No more review e-mails", "You will not get review e-mails", False, False),
        ("stopped", "already_opted_out", "No more review e-mails", "already asked us to stop", False, False),
        ("stopped", "ended", "These e-mails have stopped", "already stopped", False, True),
    ],
)
def test_the_page_says_where_the_sequence_stands(
    demo: Catalog,
    status: Any,
    outcome: Any,
    headline: str,
    notice: str | None,
    can_answer: bool,
    can_opt_out: bool,
) -> None:
    ended = (
        {} if status == "active" else {"ended_at": datetime(2026, 11, 2, tzinfo=UTC), "ended_by": "customer"}
    )
    v = view(demo, request(status=status, **ended), outcome)
    assert v.headline == headline
    assert (v.notice is None) if notice is None else (v.notice is not None and notice in v.notice)
    assert (v.can_answer, v.can_opt_out) == (can_answer, can_opt_out)


# ------------------------------------------------------------------------------ cursors
PARTITION = "REVIEWS#active"
KEY = {
    "PK": {"S": "REVIEW#abc"},
    "SK": {"S": "REVIEW"},
    "GSI3PK": {"S": PARTITION},
    "GSI3SK": {"S": "2026-11-01T00:00:00.000000Z#abc"},
}


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, dict[str, str]]:
    return decode_cursor(cursor, GSI3_CURSOR_KEYS, review_storage._list_key(PARTITION))


def test_a_cursor_round_trips() -> None:
    assert _decode(encode_cursor({name: value["S"] for name, value in KEY.items()})) == KEY


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "bm90IGpzb24",  # "not json"
        b64(["PK"]),
        b64({**KEY, "extra": {"S": "x"}}),  # another attribute smuggled in
        b64({**KEY, "GSI3PK": {"S": "REVIEWS#done"}}),  # another list's cursor
        b64({**KEY, "PK": {"S": "CUSTOMER#1"}}),  # a key of another kind of item
        b64({**KEY, "SK": {"S": "STEP#1"}}),
        b64({**KEY, "SK": {"N": "1"}}),
        b64({**KEY, "SK": "REVIEW"}),
        b64({**KEY, "GSI3SK": {"S": ""}}),  # DynamoDB refuses empty key values
        b64({**KEY, "GSI3SK": {"S": "x" * 1100}}),  # and sort keys over 1024 bytes
        "A" * 3000,
    ],
)
def test_anything_but_a_cursor_of_that_list_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        _decode(cursor)
