"""The appointment's .ics (bookbay.domain.calendar), parsed back with icalendar, and the customer-side
transitions of bookbay.domain.booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bookbay.domain import lifecycle
from bookbay.domain.booking import Appointment, AppointmentStatus, Contact
from bookbay.domain.calendar import (
    appointment_calendar,
    calendar_filename,
    calendar_status,
    event_uid,
)
from bookbay.domain.catalog import Address, Catalog
from bookbay.exceptions import InvalidTransition
from bookbay.shopfile import read_shop_file

ROOT = Path(__file__).resolve().parents[2]
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 2, 15, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")


def appointment(
    start: datetime,
    *,
    status: AppointmentStatus = "confirmed",
    sequence: int = 0,
    appointment_type: Any = "in_store",
    minutes: int = 30,
) -> Appointment:
    return Appointment(
        id="019a3f0c2b1e4d5e6f7a8b9c",
        status=status,
        location_id="austin-downtown",
        service_id="oil-change",
        appointment_type=appointment_type,
        start=start,
        end=start + timedelta(minutes=minutes),
        slot_starts=[start.astimezone(UTC)],
        customer_id="cust-1",
        contact=Contact(first_name="Pat", last_name="Lee", phone="+15125550177", email="pat@example.com"),
        source="web",
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(days=1),
        sequence=sequence,
    )


def ics(
    catalog: Catalog,
    a: Appointment,
    *,
    at_home: Address | None = None,
    vehicle: str | None = "2019 Honda Civic",
) -> tuple[bytes, Calendar]:
    location = catalog.location(a.location_id)
    service = catalog.service(a.service_id)
    assert location is not None and service is not None
    raw = appointment_calendar(
        shop=catalog.shop,
        location=location,
        service=service,
        appointment=a,
        vehicle_label=vehicle,
        at_home=at_home,
        now=NOW,
    )
    return raw, Calendar.from_ical(raw)


def test_the_file_is_a_publish_calendar_with_one_event_in_utc(catalog: Catalog) -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)
    raw, calendar = ics(catalog, appointment(start, sequence=3))
    assert calendar["METHOD"] == "PUBLISH" and calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//Bookbay//Appointment booking//EN"
    (event,) = calendar.events
    assert event["UID"] == "019a3f0c2b1e4d5e6f7a8b9c@bookbay-demo-auto.bookbay"
    assert event.sequence == 3
    # 9:00 CST is 15:00 UTC, written as UTC ("Z"), no VTIMEZONE needed
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == NOW
    for line in (b"DTSTART:20261201T150000Z", b"DTEND:20261201T153000Z", b"DTSTAMP:20261102T150405Z"):
        assert line + b"\r\n" in raw
    assert b"VTIMEZONE" not in raw and b"TZID" not in raw
    assert event["SUMMARY"] == "Oil change at Bookbay Demo Auto"
    assert event["LOCATION"] == "Austin Downtown, 801 Congress Ave, Austin, TX 78701"
    description = str(event["DESCRIPTION"])
    assert "Vehicle: 2019 Honda Civic" in description and "+1 512-555-0100" in description
    assert event["STATUS"] == "CONFIRMED"


def test_lines_end_with_crlf_and_are_folded_at_75_octets(catalog: Catalog) -> None:
    raw, _ = ics(catalog, appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)), vehicle="V" * 200)
    assert raw.endswith(b"END:VCALENDAR\r\n")
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)  # no bare LF anywhere
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # the long description was folded
    assert "V" * 200 in str(Calendar.from_ical(raw).events[0]["DESCRIPTION"])


def test_the_uid_is_stable_and_the_sequence_grows_across_a_reschedule(catalog: Catalog) -> None:
    before = appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), sequence=1)
    # A reschedule: another start, one more sequence (as the repository writes it)
    moved_start = datetime(2026, 12, 3, 14, 30, tzinfo=CHICAGO)
    after = before.model_copy(
        update={
            "start": moved_start,
            "end": moved_start + timedelta(minutes=30),
            "sequence": before.sequence + 1,
        }
    )
    first = ics(catalog, before)[1].events[0]
    second = ics(catalog, after)[1].events[0]
    assert first["UID"] == second["UID"] == event_uid(before.id, "bookbay-demo-auto")
    assert second.sequence == first.sequence + 1
    assert second.decoded("DTSTART") == datetime(2026, 12, 3, 20, 30, tzinfo=UTC)


def test_times_stay_right_across_daylight_saving(catalog: Catalog) -> None:
    # 9:00 in Chicago is 14:00 UTC in summer (CDT) and 15:00 UTC in winter (CST)
    summer = ics(catalog, appointment(datetime(2026, 10, 30, 9, 0, tzinfo=CHICAGO)))[1].events[0]
    winter = ics(catalog, appointment(datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO)))[1].events[0]
    assert summer.decoded("DTSTART") == datetime(2026, 10, 30, 14, 0, tzinfo=UTC)
    assert winter.decoded("DTSTART") == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("requested", "TENTATIVE"),
        ("confirmed", "CONFIRMED"),
        ("reschedule_requested", "TENTATIVE"),
        ("checked_in", "CONFIRMED"),
        ("completed", "CONFIRMED"),
        ("cancelled", "CANCELLED"),
        ("no_show", "CANCELLED"),
    ],
)
def test_the_status_follows_the_appointment(
    catalog: Catalog, status: AppointmentStatus, expected: str
) -> None:
    assert calendar_status(status) == expected
    event = ics(catalog, appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), status=status))[1].events[0]
    assert event["STATUS"] == expected


def test_an_at_home_appointment_is_located_at_the_home_address(catalog: Catalog) -> None:
    home = Address(line1="1100 S Lamar Blvd", line2="Unit 4", city="Austin", state="TX", zip="78704")
    a = appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), appointment_type="at_home")
    event = ics(catalog, a, at_home=home)[1].events[0]
    assert event["LOCATION"] == "1100 S Lamar Blvd, Unit 4, Austin, TX 78704"
    assert "Type: At home" in str(event["DESCRIPTION"])


def test_the_filename_is_the_shop_and_the_local_day(catalog: Catalog) -> None:
    location = catalog.location("austin-downtown")
    assert location is not None
    # 23:30 on Dec 1 in Chicago is already Dec 2 in UTC: the name uses the store's day
    a = appointment(datetime(2026, 12, 1, 23, 30, tzinfo=CHICAGO))
    assert calendar_filename(catalog.shop, a, location) == "bookbay-demo-auto-2026-12-01.ics"


# ------------------------------------------------------------------------------ transitions
def _became(a: Any, action: lifecycle.Action, by: lifecycle.ActorKind = "staff") -> Any:
    lifecycle.check(action, a.status, by, start=a.start, now=NOW)
    return lifecycle.became(a, action, NOW)


def test_a_customer_confirmation_counts_for_its_start_only_and_keeps_the_sequence() -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)
    requested = appointment(start, status="requested", sequence=2)
    confirmed = _became(requested, "customer_confirm", "customer")
    assert confirmed.status == "requested" and confirmed.customer_confirmed
    assert confirmed.sequence == 2 and confirmed.updated_at == NOW
    moved = confirmed.model_copy(
        update={"start": start + timedelta(days=1), "end": start + timedelta(days=1, minutes=30)}
    )
    assert not moved.customer_confirmed


def test_a_reschedule_request_drops_the_confirmation_and_bumps_the_sequence() -> None:
    confirmed = _became(
        appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), sequence=1), "customer_confirm", "customer"
    )
    requested = _became(confirmed, "request_reschedule", "customer")
    assert requested.status == "reschedule_requested" and requested.sequence == 2
    assert requested.reschedule_requested_at == NOW and not requested.customer_confirmed
    assert requested.start == confirmed.start and requested.slot_starts == confirmed.slot_starts


@pytest.mark.parametrize("status", ["requested", "confirmed", "reschedule_requested"])
def test_check_in_from_a_held_time(status: AppointmentStatus) -> None:
    a = appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), status=status, sequence=4)
    checked_in = _became(a, "check_in")
    assert (checked_in.status, checked_in.checked_in_at, checked_in.sequence) == ("checked_in", NOW, 5)


@pytest.mark.parametrize("status", ["checked_in", "completed", "cancelled", "no_show"])
def test_no_transition_from_a_status_that_no_longer_holds_a_time(status: AppointmentStatus) -> None:
    a = appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), status=status)
    with pytest.raises(InvalidTransition):
        _became(a, "check_in")
    with pytest.raises(InvalidTransition):
        _became(a, "customer_confirm", "customer")
    with pytest.raises(InvalidTransition):
        _became(a, "request_reschedule", "customer")


def test_a_reschedule_request_cannot_be_confirmed_or_repeated_by_the_customer() -> None:
    a = appointment(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), status="reschedule_requested")
    with pytest.raises(InvalidTransition):
        _became(a, "customer_confirm", "customer")
    with pytest.raises(InvalidTransition):
        _became(a, "request_reschedule", "customer")
