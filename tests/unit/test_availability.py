"""Slot availability (bookbay.domain.availability): hours, capacity, lead time, horizon, holidays, DST."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bookbay.domain.availability import (
    AvailableSlot,
    SlotUsage,
    alternatives,
    bookable_slots,
    day_bounds_utc,
    required_slots,
    slot_starts,
    slots_needed,
)
from bookbay.domain.catalog import HolidaySettings, Location, Service, ShopSettings
from bookbay.exceptions import AppointmentTypeNotOffered, ShopNotConfigured, ZipNotServed
from bookbay.types import AppointmentType

CHICAGO = ZoneInfo("America/Chicago")
PHOENIX = ZoneInfo("America/Phoenix")
WEEKDAY_HOURS = [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}]
MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 2026-11-23, 09:00 in Austin


def make_location(**overrides: Any) -> Location:
    data: dict[str, Any] = {
        "id": "downtown",
        "name": "Downtown",
        "address": {"line1": "801 Congress Ave", "city": "Austin", "state": "TX", "zip": "78701"},
        "phone": "512-555-0100",
        "email": "store@example.com",
        "timezone": "America/Chicago",
        "coordinates": {"lat": 30.27, "lon": -97.74},
        "weekly_hours": {
            **dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WEEKDAY_HOURS),
            "sat": [{"opens": "08:00", "closes": "12:00"}],
        },
        "capacity_per_slot": 2,
        "appointment_types": ["in_store", "at_home"],
        "at_home_zips": ["78701", "78702"],
    }
    data.update(overrides)
    return Location.model_validate(data)


def make_service(minutes: int = 30, types: list[str] | None = None) -> Service:
    return Service.model_validate(
        {
            "id": f"service-{minutes}",
            "name": f"A {minutes}-minute service",
            "duration_minutes": minutes,
            "appointment_types": types or ["in_store", "at_home"],
        }
    )


def make_settings(**overrides: Any) -> ShopSettings:
    data: dict[str, Any] = {"holidays": {"country": "US", "subdivision": "TX"}}
    data.update(overrides)
    return ShopSettings.model_validate(data)


LOCATION = make_location()
SETTINGS = make_settings()
OIL = make_service(30)
BRAKES = make_service(90)


def at(day: date, hhmm: str, zone: ZoneInfo = CHICAGO) -> datetime:
    """The UTC instant of a local wall time."""
    hours, minutes = hhmm.split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), tzinfo=zone).astimezone(UTC)


def local_times(starts: list[datetime], zone: ZoneInfo = CHICAGO) -> list[str]:
    return [s.astimezone(zone).strftime("%H:%M") for s in starts]


def slots(
    service: Service = OIL,
    *,
    location: Location = LOCATION,
    settings: ShopSettings = SETTINGS,
    start_day: date = MONDAY,
    days: int = 1,
    now: datetime = NOW,
    usage: dict[datetime, SlotUsage] | None = None,
    appointment_type: AppointmentType = "in_store",
    customer_zip: str | None = None,
) -> list[AvailableSlot]:
    return bookable_slots(
        location,
        service,
        settings,
        appointment_type=appointment_type,
        customer_zip=customer_zip,
        start_day=start_day,
        days=days,
        now=now,
        usage=usage or {},
    )


def starts_of(found: list[AvailableSlot]) -> list[str]:
    return [s.start.strftime("%m-%d %H:%M") for s in found]


# ------------------------------------------------------------------------------ the calendar
def test_weekdays_have_slots_in_each_opening_interval_and_saturday_only_in_the_morning() -> None:
    monday = slot_starts(LOCATION, SETTINGS, MONDAY)
    assert local_times(monday) == [
        *["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"],
        *["13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30"],
    ]
    assert all(s.tzinfo is UTC for s in monday)
    assert monday[0] == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 08:00 CST
    saturday = slot_starts(LOCATION, SETTINGS, date(2026, 12, 5))
    assert local_times(saturday) == ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert slot_starts(LOCATION, SETTINGS, date(2026, 12, 6)) == []  # Sunday: no hours


@pytest.mark.parametrize(
    ("minutes", "morning", "afternoon"),
    [
        (45, ["08:00", "08:45", "09:30", "10:15", "11:00"], ["13:00", "13:45", "14:30", "15:15", "16:00"]),
        (60, ["08:00", "09:00", "10:00", "11:00"], ["13:00", "14:00", "15:00", "16:00"]),
        (90, ["08:00", "09:30"], ["13:00", "14:30"]),
    ],
)
def test_slots_are_slot_minutes_long_and_end_by_closing(
    minutes: int, morning: list[str], afternoon: list[str]
) -> None:
    settings = make_settings(slot_minutes=minutes)
    assert local_times(slot_starts(LOCATION, settings, MONDAY)) == [*morning, *afternoon]


@pytest.mark.parametrize(("duration", "slot", "needed"), [(30, 30, 1), (31, 30, 2), (90, 30, 3), (90, 45, 2)])
def test_a_service_needs_its_duration_in_whole_slots(duration: int, slot: int, needed: int) -> None:
    assert slots_needed(make_service(duration), make_settings(slot_minutes=slot)) == needed


def test_holidays_of_the_country_and_subdivision_and_closed_dates_have_no_slots() -> None:
    settings = make_settings(
        holidays={"country": "US", "subdivision": "TX", "extra_closed_dates": ["2026-12-01"]}
    )
    location = make_location(closed_dates=["2026-12-02"])
    assert slot_starts(location, settings, date(2026, 11, 26)) == []  # Thanksgiving (US)
    assert slot_starts(location, settings, date(2026, 11, 27)) == []  # Friday after Thanksgiving (TX)
    assert slot_starts(location, settings, date(2026, 12, 1)) == []  # the shop's extra closed date
    assert slot_starts(location, settings, date(2026, 12, 2)) == []  # the location's closed date
    assert len(slot_starts(location, settings, date(2026, 12, 3))) == 16
    # Without the subdivision only the federal holidays close the shop.
    federal = make_settings(holidays=HolidaySettings(country="US"))
    assert slot_starts(location, federal, date(2026, 11, 26)) == []
    assert len(slot_starts(location, federal, date(2026, 11, 27))) == 16


def test_an_unknown_holiday_calendar_is_refused_and_a_stored_one_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="no holiday calendar"):
        make_settings(holidays={"country": "ZZ"})
    # A record saved before settings were checked for it: no slots, a clear 503, never a crash.
    unknown = HolidaySettings.model_construct(country="ZZ", subdivision=None, extra_closed_dates=[])
    with pytest.raises(ShopNotConfigured):
        slot_starts(LOCATION, SETTINGS.model_copy(update={"holidays": unknown}), MONDAY)


def test_a_week_of_bookable_slots_skips_holidays_and_sundays() -> None:
    found = slots(start_day=date(2026, 11, 23), days=7)
    days = sorted({s.start.date() for s in found})
    assert days == [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 28)]
    assert starts_of(found)[0] == "11-23 11:00"  # 09:00 now + 2 hours of lead time


# ------------------------------------------------------------------------------ one booking
def test_a_90_minute_service_holds_three_consecutive_slots_of_one_interval() -> None:
    assert required_slots(LOCATION, BRAKES, SETTINGS, at(MONDAY, "08:00")) == [
        at(MONDAY, "08:00"),
        at(MONDAY, "08:30"),
        at(MONDAY, "09:00"),
    ]
    # Any zone may name the start.
    assert required_slots(LOCATION, BRAKES, SETTINGS, at(MONDAY, "10:30").astimezone(PHOENIX)) == [
        at(MONDAY, "10:30"),
        at(MONDAY, "11:00"),
        at(MONDAY, "11:30"),
    ]
    assert required_slots(LOCATION, BRAKES, SETTINGS, at(MONDAY, "11:00")) is None  # runs into lunch
    assert required_slots(LOCATION, BRAKES, SETTINGS, at(MONDAY, "15:30")) is not None  # ends 17:00
    assert required_slots(LOCATION, BRAKES, SETTINGS, at(MONDAY, "16:00")) is None  # past closing
    assert required_slots(LOCATION, BRAKES, SETTINGS, at(MONDAY, "08:15")) is None  # not a slot start
    assert required_slots(LOCATION, BRAKES, SETTINGS, at(MONDAY, "12:00")) is None  # lunch
    assert required_slots(LOCATION, OIL, SETTINGS, at(date(2026, 11, 26), "08:00")) is None  # holiday
    assert required_slots(LOCATION, OIL, SETTINGS, at(date(2026, 12, 6), "08:00")) is None  # Sunday


def test_a_90_minute_service_is_offered_only_where_it_ends_by_lunch_or_closing() -> None:
    found = slots(BRAKES)
    assert [s.start.strftime("%H:%M") for s in found] == [
        *["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"],
        *["13:00", "13:30", "14:00", "14:30", "15:00", "15:30"],
    ]
    first = found[0]
    assert first.start == datetime(2026, 11, 30, 8, 0, tzinfo=CHICAGO)
    assert first.end == datetime(2026, 11, 30, 9, 30, tzinfo=CHICAGO)
    assert first.start.utcoffset() == timedelta(hours=-6) and first.remaining == 2


def test_a_90_minute_service_needs_all_three_slots_free() -> None:
    usage = {at(MONDAY, "09:00"): SlotUsage(used=2)}
    starts = [s.start.strftime("%H:%M") for s in slots(BRAKES, usage=usage)]
    assert starts[:3] == ["09:30", "10:00", "10:30"]  # 08:00, 08:30 and 09:00 would hold 09:00
    assert [s.start.strftime("%H:%M") for s in slots(OIL, usage=usage)][:3] == ["08:00", "08:30", "09:30"]


# ------------------------------------------------------------------------------ capacity
def test_remaining_is_the_least_free_capacity_over_the_slots_held() -> None:
    usage = {at(MONDAY, "08:00"): SlotUsage(used=1), at(MONDAY, "08:30"): SlotUsage(used=2)}
    oil = {s.start.strftime("%H:%M"): s.remaining for s in slots(OIL, usage=usage)}
    assert oil["08:00"] == 1 and "08:30" not in oil and oil["09:00"] == 2
    brakes = {s.start.strftime("%H:%M"): s.remaining for s in slots(BRAKES, usage=usage)}
    assert "08:00" not in brakes and brakes["09:00"] == 2
    usage = {at(MONDAY, "09:00"): SlotUsage(used=1)}
    brakes = {s.start.strftime("%H:%M"): s.remaining for s in slots(BRAKES, usage=usage)}
    assert (brakes["08:00"], brakes["08:30"], brakes["09:00"], brakes["09:30"]) == (1, 1, 1, 2)


def test_an_overbooked_slot_is_not_offered() -> None:
    usage = {at(MONDAY, "08:00"): SlotUsage(used=3)}
    assert "08:00" not in [s.start.strftime("%H:%M") for s in slots(OIL, usage=usage)]


def test_blocked_slots_are_not_offered_nor_held_by_longer_services() -> None:
    usage = {at(MONDAY, "14:00"): SlotUsage(used=0, blocked=True)}
    oil = [s.start.strftime("%H:%M") for s in slots(OIL, usage=usage)]
    assert "14:00" not in oil and {"13:30", "14:30"} <= set(oil)
    brakes = [s.start.strftime("%H:%M") for s in slots(BRAKES, usage=usage)]
    assert brakes[6:] == ["14:30", "15:00", "15:30"]  # 13:00, 13:30, 14:00 would hold 14:00


def test_usage_keys_may_be_in_any_zone() -> None:
    usage = {at(MONDAY, "08:00").astimezone(CHICAGO): SlotUsage(used=2)}
    assert starts_of(slots(OIL, usage=usage))[0] == "11-30 08:30"


# ------------------------------------------------------------------------------ lead time, horizon
def test_starts_before_now_plus_the_lead_time_are_not_offered() -> None:
    now = at(MONDAY, "08:10")
    assert starts_of(slots(now=now))[0] == "11-30 10:30"  # 08:10 + 2 h = 10:10
    assert starts_of(slots(now=now, settings=make_settings(lead_time_hours=0)))[0] == "11-30 08:30"
    exactly = at(MONDAY, "09:00")
    assert starts_of(slots(now=exactly, settings=make_settings(lead_time_hours=0)))[0] == "11-30 09:00"
    assert slots(now=at(MONDAY, "16:00")) == []  # nothing left today


def test_days_beyond_the_horizon_are_not_offered() -> None:
    settings = make_settings(horizon_days=3)
    now = at(MONDAY, "07:00")
    found = slots(settings=settings, now=now, days=7)
    assert sorted({s.start.date() for s in found}) == [MONDAY + timedelta(days=d) for d in range(4)]
    assert slots(settings=settings, now=now, start_day=MONDAY + timedelta(days=4)) == []
    # The horizon is counted from today in the location's zone: at 23:30 Sunday in Austin
    # (05:30 UTC Monday) today is still Sunday there.
    sunday_night = datetime(2026, 11, 30, 5, 30, tzinfo=UTC)
    found = slots(settings=settings, now=sunday_night, days=7)
    assert max(s.start.date() for s in found) == MONDAY + timedelta(days=2)


def test_a_window_starting_in_the_past_keeps_only_its_days_from_today() -> None:
    found = slots(start_day=date(2026, 11, 20), days=5, now=NOW)  # 20..24, today is the 23rd
    assert sorted({s.start.date() for s in found}) == [date(2026, 11, 23), date(2026, 11, 24)]
    assert slots(start_day=date(2026, 11, 1), days=5, now=NOW) == []
    assert slots(start_day=date(1, 1, 1), days=365, now=NOW) == []
    assert slots(start_day=date(9999, 12, 31), days=365, now=NOW) == []
    assert slots(days=0) == []


# ------------------------------------------------------------------------------ appointment types
def test_at_home_only_for_the_zips_the_location_serves() -> None:
    found = slots(appointment_type="at_home", customer_zip="78702")
    assert len(found) == 16
    with pytest.raises(ZipNotServed):
        slots(appointment_type="at_home", customer_zip="78759")
    with pytest.raises(ZipNotServed):
        slots(appointment_type="at_home", customer_zip=None)


def test_the_type_must_be_offered_by_the_location_and_the_service() -> None:
    with pytest.raises(AppointmentTypeNotOffered, match="Downtown"):
        slots(appointment_type="online")
    with pytest.raises(AppointmentTypeNotOffered, match="90-minute"):
        slots(make_service(90, ["in_store"]), appointment_type="at_home", customer_zip="78701")
    assert AppointmentTypeNotOffered.code == "appointment_type_not_offered"
    assert ZipNotServed.code == "zip_not_served"


# ------------------------------------------------------------------------------ alternatives
def test_alternatives_are_the_next_bookable_slots_at_or_after_a_time() -> None:
    usage = {at(MONDAY, "11:00"): SlotUsage(used=2), at(MONDAY, "13:00"): SlotUsage(blocked=True)}
    now = at(MONDAY, "07:00")
    found = alternatives(
        LOCATION,
        BRAKES,
        SETTINGS,
        after=at(MONDAY, "10:00"),
        usage=usage,
        now=now,
        appointment_type="in_store",
        customer_zip=None,
    )
    assert starts_of(found) == ["11-30 13:30", "11-30 14:00", "11-30 14:30"]
    found = alternatives(
        LOCATION,
        OIL,
        SETTINGS,
        after=at(MONDAY, "16:30"),
        usage={},
        now=now,
        limit=2,
        appointment_type="in_store",
        customer_zip=None,
    )
    assert starts_of(found) == ["11-30 16:30", "12-01 08:00"]
    # Never before the lead time, never past the horizon.
    found = alternatives(
        LOCATION,
        OIL,
        SETTINGS,
        after=at(MONDAY, "06:00"),
        usage={},
        now=at(MONDAY, "09:00"),
        limit=1,
        appointment_type="in_store",
        customer_zip=None,
    )
    assert starts_of(found) == ["11-30 11:00"]
    near_horizon = make_settings(horizon_days=1)
    found = alternatives(
        LOCATION,
        OIL,
        near_horizon,
        after=at(MONDAY + timedelta(days=1), "16:00"),
        usage={},
        now=now,
        limit=5,
        appointment_type="in_store",
        customer_zip=None,
    )
    assert starts_of(found) == ["12-01 16:00", "12-01 16:30"]
    with pytest.raises(ZipNotServed):
        alternatives(
            LOCATION,
            OIL,
            SETTINGS,
            after=now,
            usage={},
            now=now,
            appointment_type="at_home",
            customer_zip="99999",
        )


# ------------------------------------------------------------------------------ daylight saving
SPRING_FORWARD = date(2027, 3, 14)  # Sunday: 02:00 CST -> 03:00 CDT
FALL_BACK = date(2027, 11, 7)  # Sunday: 02:00 CDT -> 01:00 CST
NIGHT_AND_MORNING = {
    "sun": [{"opens": "00:30", "closes": "04:00"}, {"opens": "08:00", "closes": "12:00"}],
    "sat": [{"opens": "08:00", "closes": "12:00"}],
    "mon": [{"opens": "08:00", "closes": "12:00"}],
}


def dst_location(zone: str) -> Location:
    return make_location(timezone=zone, weekly_hours=NIGHT_AND_MORNING)


def offsets(starts: list[datetime], zone: ZoneInfo) -> list[str]:
    return [s.astimezone(zone).strftime("%H:%M%z") for s in starts]


def test_spring_forward_in_chicago_skips_the_missing_hour() -> None:
    location = dst_location("America/Chicago")
    day = slot_starts(location, SETTINGS, SPRING_FORWARD)
    assert offsets(day[:5], CHICAGO) == ["00:30-0600", "01:00-0600", "01:30-0600", "03:00-0500", "03:30-0500"]
    assert len(day) == 5 + 8  # 02:00 and 02:30 do not exist
    assert offsets(day[5:6], CHICAGO) == ["08:00-0500"]
    assert day[5] == datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    # The week before and the day before: standard time, the whole night.
    assert len(slot_starts(location, SETTINGS, SPRING_FORWARD - timedelta(days=7))) == 7 + 8
    saturday = slot_starts(location, SETTINGS, SPRING_FORWARD - timedelta(days=1))
    assert offsets(saturday[:1], CHICAGO) == ["08:00-0600"] and saturday[0].hour == 14
    monday = slot_starts(location, SETTINGS, SPRING_FORWARD + timedelta(days=1))
    assert offsets(monday[:1], CHICAGO) == ["08:00-0500"] and monday[0].hour == 13
    # 01:30 CST and 03:00 CDT are consecutive instants: a 90-minute service spans the change.
    held = required_slots(location, BRAKES, SETTINGS, at(SPRING_FORWARD, "01:30"))
    assert held == [datetime(2027, 3, 14, h, m, tzinfo=UTC) for h, m in ((7, 30), (8, 0), (8, 30))]
    assert required_slots(location, BRAKES, SETTINGS, at(SPRING_FORWARD, "03:00")) is None  # ends 04:30
    found = slots(BRAKES, location=location, start_day=SPRING_FORWARD, now=datetime(2027, 3, 10, tzinfo=UTC))
    night = [(s.start.isoformat(), s.end.isoformat()) for s in found if s.start.hour < 8]
    assert night == [
        ("2027-03-14T00:30:00-06:00", "2027-03-14T03:00:00-05:00"),
        ("2027-03-14T01:00:00-06:00", "2027-03-14T03:30:00-05:00"),
        ("2027-03-14T01:30:00-06:00", "2027-03-14T04:00:00-05:00"),
    ]
    start, end = day_bounds_utc(location, SPRING_FORWARD, SPRING_FORWARD)
    assert end - start == timedelta(hours=23)


def test_fall_back_in_chicago_offers_the_repeated_hour_once() -> None:
    location = dst_location("America/Chicago")
    day = slot_starts(location, SETTINGS, FALL_BACK)
    assert offsets(day[:7], CHICAGO) == [
        *["00:30-0500", "01:00-0500", "01:30-0500"],  # the first 01:00-02:00 (fold=0)
        *["02:00-0600", "02:30-0600", "03:00-0600", "03:30-0600"],
    ]
    assert len(day) == 7 + 8
    assert len(set(day)) == len(day) and day == sorted(day)
    assert offsets(day[7:8], CHICAGO) == ["08:00-0600"]
    saturday = slot_starts(location, SETTINGS, FALL_BACK - timedelta(days=1))
    assert offsets(saturday[:1], CHICAGO) == ["08:00-0500"]
    # The second 01:00-02:00 (CST) has no slots, so nothing held runs through it.
    assert required_slots(location, BRAKES, SETTINGS, at(FALL_BACK, "01:00")) is None
    assert required_slots(location, BRAKES, SETTINGS, at(FALL_BACK, "02:00")) == [
        datetime(2027, 11, 7, h, m, tzinfo=UTC) for h, m in ((8, 0), (8, 30), (9, 0))
    ]
    start, end = day_bounds_utc(location, FALL_BACK, FALL_BACK)
    assert end - start == timedelta(hours=25)


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
def test_phoenix_has_no_daylight_saving(day: date) -> None:
    location = dst_location("America/Phoenix")
    starts = slot_starts(location, SETTINGS, day)
    assert len(starts) == 7 + 8
    assert {s.astimezone(PHOENIX).utcoffset() for s in starts} == {timedelta(hours=-7)}
    assert local_times(starts, PHOENIX)[:7] == ["00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30"]
    found = slots(
        location=location, start_day=day, now=datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=3)
    )
    assert len(found) == 15 and found[0].start.isoformat() == f"{day.isoformat()}T00:30:00-07:00"


def test_slots_never_overlap_in_real_time_across_spring_forward() -> None:
    # 45-minute slots from 00:45: 01:30 CST runs until 08:15Z = 03:15 CDT, 02:15 does not exist, and
    # 03:00 CDT (08:00Z) would overlap 01:30's slot: the next slot is 03:45 CDT.
    location = make_location(weekly_hours={"sun": [{"opens": "00:45", "closes": "05:00"}]})
    for minutes in (30, 40, 45, 50):
        night = slot_starts(location, make_settings(slot_minutes=minutes), SPRING_FORWARD)
        assert all(b - a >= timedelta(minutes=minutes) for a, b in itertools.pairwise(night)), minutes
    night = slot_starts(location, make_settings(slot_minutes=45), SPRING_FORWARD)
    assert offsets(night, CHICAGO) == ["00:45-0600", "01:30-0600", "03:45-0500"]
