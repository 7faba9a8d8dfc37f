"""Reminder times (bookbay.domain.reminders) and the reminder schedule rules and messages
(bookbay.services.reminders / econfirmation) without AWS: business days, holidays, closed dates,
daylight-saving changes, the inside-the-window policy; what gets scheduled, and by which channel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.adapters.scheduler import InMemoryScheduler
from bookbay.domain.booking import Appointment
from bookbay.domain.catalog import Catalog, Location, ShopSettings
from bookbay.domain.reminders import is_business_day, reminder_at, reminder_day
from bookbay.services import reminders
from bookbay.services.econfirmation import prepare
from bookbay.services.notifications import customer_message, delivery_channel
from bookbay.shopfile import read_shop_file
from bookbay.templates import long_when, short_when

ROOT = Path(__file__).resolve().parents[2]
CHICAGO = ZoneInfo("America/Chicago")
PHOENIX = ZoneInfo("America/Phoenix")
EARLY = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)  # long before every appointment below
TARGET = "arn:aws:lambda:us-east-1:123456789012:function:reminders"
BASE = "https://book.example.com"


@pytest.fixture(scope="module")
def demo() -> Catalog:
    return read_shop_file(ROOT / "ops" / "shops" / "demo.yaml")


def location(demo: Catalog, location_id: str = "austin-downtown", **changes: Any) -> Location:
    found = demo.location(location_id)
    assert found is not None
    return found.model_copy(update=changes)


def settings(**changes: Any) -> ShopSettings:
    """US holidays (no state), Mon-Fri, 1 business day at 09:00, no extra closed dates."""
    data: dict[str, Any] = {"holidays": {"country": "US"}}
    data.update(changes)
    return ShopSettings.model_validate(data)


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = CHICAGO) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ------------------------------------------------------------------------------ business days
def test_a_monday_drop_off_is_reminded_on_the_friday_before(demo: Catalog) -> None:
    at = reminder_at(local(date(2026, 11, 30), 10), location(demo), settings(), EARLY)
    assert at == utc(2026, 11, 27, 15, 0)  # Fri 09:00 CST
    assert at is not None
    assert at.tzinfo == UTC


def test_thanksgiving_is_skipped(demo: Catalog) -> None:
    # Friday 2026-11-27 after Thanksgiving (Thu 2026-11-26): the business day before is Wednesday
    assert reminder_at(local(date(2026, 11, 27), 8), location(demo), settings(), EARLY) == utc(
        2026, 11, 25, 15, 0
    )
    assert not is_business_day(location(demo), settings(), date(2026, 11, 26))


def test_two_business_days_skip_the_weekend_and_a_holiday(demo: Catalog) -> None:
    # Tuesday 2026-12-01: Monday (1), then back over the weekend to Friday (2)
    at = reminder_at(local(date(2026, 12, 1), 10), location(demo), settings(reminder_business_days=2), EARLY)
    assert at == utc(2026, 11, 27, 15, 0)
    # Monday 2026-11-30 with 2: Friday (1), Thursday is Thanksgiving, Wednesday (2)
    assert reminder_day(location(demo), settings(reminder_business_days=2), date(2026, 11, 30)) == date(
        2026, 11, 25
    )


def test_the_shops_extra_closed_dates_and_the_locations_closed_dates_are_skipped(demo: Catalog) -> None:
    thursday = date(2026, 12, 10)
    assert reminder_day(location(demo), settings(), thursday) == date(2026, 12, 9)
    closed_wednesday = settings(holidays={"country": "US", "extra_closed_dates": ["2026-12-09"]})
    assert reminder_day(location(demo), closed_wednesday, thursday) == date(2026, 12, 8)
    store_closed = location(demo, closed_dates=[date(2026, 12, 9), date(2026, 12, 8)])
    assert reminder_day(store_closed, settings(), thursday) == date(2026, 12, 7)


def test_the_shops_business_days_decide_not_the_opening_hours(demo: Catalog) -> None:
    # Austin Downtown opens Saturdays, but the shop's business days are Mon-Fri by default
    assert reminder_day(location(demo), settings(), date(2026, 11, 30)) == date(2026, 11, 27)
    with_saturday = settings(business_days=["mon", "tue", "wed", "thu", "fri", "sat"])
    assert reminder_day(location(demo), with_saturday, date(2026, 11, 30)) == date(2026, 11, 28)


def test_a_state_calendar_adds_its_holidays(demo: Catalog) -> None:
    # Texas observes the Friday after Thanksgiving: a Monday drop-off is reminded on Wednesday
    texas = settings(holidays={"country": "US", "subdivision": "TX"})
    assert reminder_day(location(demo), texas, date(2026, 11, 30)) == date(2026, 11, 25)


def test_the_reminder_time_setting_is_local(demo: Catalog) -> None:
    at = reminder_at(local(date(2026, 12, 2), 10), location(demo), settings(reminder_time="17:45"), EARLY)
    assert at == utc(2026, 12, 1, 23, 45)  # Tue 17:45 CST


def test_the_drop_off_day_is_the_locations_local_day(demo: Catalog) -> None:
    # 03:00 UTC on Tuesday is still Monday evening in Austin: reminded on the Friday before
    start = utc(2026, 12, 1, 3, 0)
    assert reminder_at(start, location(demo), settings(), EARLY) == utc(2026, 11, 27, 15, 0)


def test_reminders_off_or_no_business_day_in_reach_give_none(demo: Catalog) -> None:
    start = local(date(2026, 11, 30), 10)
    assert reminder_at(start, location(demo), settings(reminder_business_days=0), EARLY) is None
    closed_all_winter = location(
        demo, closed_dates=[date(2026, 7, 1) + timedelta(days=n) for n in range(200)]
    )
    assert reminder_at(start, closed_all_winter, settings(), EARLY) is None


def test_naive_times_are_refused(demo: Catalog) -> None:
    with pytest.raises(ValueError, match="aware"):
        reminder_at(datetime(2026, 11, 30, 10), location(demo), settings(), EARLY)  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        reminder_at(local(date(2026, 11, 30), 10), location(demo), settings(), datetime(2026, 1, 1))  # noqa: DTZ001


# ------------------------------------------------------------------------------ daylight saving
def test_across_the_fall_back_change_the_reminder_keeps_its_local_time_in_chicago(demo: Catalog) -> None:
    # DST ends Sun 2026-11-01 in Chicago. Monday 11-02 10:00 is CST (-6), the Friday before is
    # CDT (-5): 09:00 on Friday is 14:00 UTC, not 15:00 (the Monday's offset)
    monday = local(date(2026, 11, 2), 10)
    assert monday.utcoffset() == timedelta(hours=-6)
    at = reminder_at(monday, location(demo), settings(), EARLY)
    assert at == utc(2026, 10, 30, 14, 0)
    assert at is not None
    assert at.astimezone(CHICAGO).hour == 9
    # and a week later, both sides on CST, it is 15:00 UTC again
    assert reminder_at(local(date(2026, 11, 9), 10), location(demo), settings(), EARLY) == utc(
        2026, 11, 6, 15, 0
    )


def test_phoenix_has_no_daylight_saving_change(demo: Catalog) -> None:
    phoenix = location(demo, "phoenix-camelback")
    for monday, friday in ((date(2026, 11, 2), 30), (date(2026, 11, 9), 6)):
        at = reminder_at(local(monday, 9, zone=PHOENIX), phoenix, settings(), EARLY)
        assert at is not None and at.astimezone(UTC).hour == 16  # 09:00 MST, every week of the year
        assert at.astimezone(PHOENIX).day == friday
    # the same Monday in Chicago (the day after DST ended) is reminded at 14:00 UTC, Phoenix at 16:00
    assert reminder_at(local(date(2026, 11, 2), 9, zone=PHOENIX), phoenix, settings(), EARLY) == utc(
        2026, 10, 30, 16, 0
    )


def test_across_the_spring_forward_change(demo: Catalog) -> None:
    # DST starts Sun 2027-03-14: Monday 03-15 is CDT, the Friday before is CST (15:00 UTC)
    assert reminder_at(local(date(2027, 3, 15), 10), location(demo), settings(), EARLY) == utc(
        2027, 3, 12, 15, 0
    )


def test_a_reminder_time_that_does_not_exist_or_happens_twice(demo: Catalog) -> None:
    every_day = settings(business_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    # 02:30 does not exist on Sun 2027-03-14 in Chicago: it lands at 03:30 CDT (08:30 UTC)
    skipped = reminder_at(
        local(date(2027, 3, 15), 10),
        location(demo),
        every_day.model_copy(update={"reminder_time": "02:30"}),
        EARLY,
    )
    assert skipped == utc(2027, 3, 14, 8, 30)
    # 01:30 happens twice on Sun 2026-11-01: the first one (CDT, 06:30 UTC)
    twice = reminder_at(
        local(date(2026, 11, 2), 10),
        location(demo),
        every_day.model_copy(update={"reminder_time": "01:30"}),
        EARLY,
    )
    assert twice == utc(2026, 11, 1, 6, 30)


# ------------------------------------------------------------------------------ inside the window
def test_inside_the_window_there_is_no_reminder(demo: Catalog) -> None:
    monday = local(date(2026, 11, 30), 10)
    reminder = utc(2026, 11, 27, 15, 0)
    assert reminder_at(monday, location(demo), settings(), reminder - timedelta(seconds=1)) == reminder
    # booked, confirmed or moved at or after the reminder time: none (the confirmation just went out)
    assert reminder_at(monday, location(demo), settings(), reminder) is None
    assert reminder_at(monday, location(demo), settings(), utc(2026, 11, 28, 12, 0)) is None


# ------------------------------------------------------------------------------ the schedule
def appointment(demo: Catalog, start: datetime, status: str = "confirmed", sequence: int = 1) -> Appointment:
    return Appointment.model_validate(
        {
            "id": "0192a0b1c2d3e4f5a6b7c8d9",
            "status": status,
            "location_id": "austin-downtown",
            "service_id": "oil-change",
            "appointment_type": "in_store",
            "start": start,
            "end": start + timedelta(minutes=30),
            "slot_starts": [start.astimezone(UTC)],
            "customer_id": "cust-1",
            "vehicle_id": None,
            "contact": {
                "first_name": "Pat",
                "last_name": "Customer",
                "phone": "+15125550123",
                "email": "pat@example.com",
            },
            "source": "web",
            "created_at": EARLY,
            "updated_at": EARLY,
            "sequence": sequence,
        }
    )


def test_a_confirmed_appointment_gets_one_schedule_with_its_sequence(demo: Catalog) -> None:
    scheduling = reminders.ReminderScheduling(InMemoryScheduler(), TARGET)
    a = appointment(demo, local(date(2026, 11, 30), 10), sequence=3)
    at = reminders.schedule_reminder(scheduling, a, demo, EARLY)
    name = f"reminder-{a.id}"
    assert at == utc(2026, 11, 27, 15, 0)
    assert scheduling.scheduler.schedules == {name: (at, TARGET, {"reminder": a.id, "sequence": 3})}  # type: ignore[attr-defined]
    # moved: the same schedule, replaced
    moved = a.model_copy(update={"start": local(date(2026, 12, 2), 10), "sequence": 4})
    at2 = reminders.schedule_reminder(scheduling, moved, demo, EARLY)
    assert scheduling.scheduler.schedules == {name: (at2, TARGET, {"reminder": a.id, "sequence": 4})}  # type: ignore[attr-defined]
    # moved inside the window, cancelled, or not confirmed: no schedule left
    for gone in (
        moved.model_copy(update={"start": local(date(2026, 10, 1), 16)}),  # reminder Sep 30
        moved.model_copy(update={"status": "cancelled"}),
        moved.model_copy(update={"status": "checked_in"}),
        moved.model_copy(update={"status": "requested"}),
    ):
        reminders.schedule_reminder(scheduling, a, demo, EARLY)
        assert reminders.schedule_reminder(scheduling, gone, demo, EARLY) is None
        assert scheduling.scheduler.schedules == {}  # type: ignore[attr-defined]
    reminders.schedule_reminder(scheduling, a, demo, EARLY)
    reminders.cancel_reminder(scheduling, a.id)
    assert scheduling.scheduler.schedules == {}  # type: ignore[attr-defined]
    reminders.cancel_reminder(scheduling, a.id)  # nothing there: fine


class BrokenScheduler(InMemoryScheduler):
    def schedule_once(self, *args: Any) -> None:
        raise RuntimeError("ThrottlingException")


def test_a_scheduler_failure_propagates_so_the_worker_retries_the_effect(demo: Catalog) -> None:
    a = appointment(demo, local(date(2026, 11, 30), 10))
    with pytest.raises(RuntimeError, match="ThrottlingException"):
        reminders.schedule_reminder(reminders.ReminderScheduling(BrokenScheduler(), TARGET), a, demo, EARLY)
    assert reminders.schedule_reminder(
        reminders.ReminderScheduling(InMemoryScheduler(), TARGET), a, demo, EARLY
    )


# ------------------------------------------------------------------------------ the messages
def test_the_channel_follows_the_preference_and_the_sms_countries(demo: Catalog) -> None:
    a = appointment(demo, local(date(2026, 11, 30), 10))
    shop = demo.shop.settings
    assert delivery_channel("phone", a, shop) is None
    assert delivery_channel("email", a, shop) == "email"
    assert delivery_channel("sms", a, shop) == "sms"
    uk = a.model_copy(update={"contact": a.contact.model_copy(update={"phone": "+442079460018"})})
    assert delivery_channel("sms", uk, shop) == "email"  # the shop texts US and CA only
    assert delivery_channel("sms", uk, shop.model_copy(update={"sms_countries": ["GB"]})) == "sms"


def test_the_reminder_sms_is_short_with_shop_time_and_link(demo: Catalog) -> None:
    a = appointment(demo, local(date(2026, 11, 30), 10))
    url = f"{BASE}/c/{'x' * 32}"
    sms = customer_message(
        "reminder", "sms", demo, a, vehicle_label=None, address=None, manage_url=url, now=EARLY
    )
    assert (sms.channel, sms.to, sms.html, sms.subject) == ("sms", "+15125550123", None, None)
    assert sms.text.startswith("Bookbay Demo Auto reminder:")
    assert short_when(a.start) in sms.text and sms.text.endswith(url) and "\n" not in sms.text
    assert len(sms.text) <= 200
    confirmation = customer_message(
        "confirmation", "sms", demo, a, vehicle_label=None, address=None, manage_url=url, now=EARLY
    )
    assert confirmation.text.startswith("Bookbay Demo Auto:") and "Please confirm" in confirmation.text


def test_the_reminder_email_has_html_and_text(demo: Catalog) -> None:
    a = appointment(demo, local(date(2026, 11, 30), 10))
    url = f"{BASE}/c/{'y' * 32}"
    mail = customer_message(
        "reminder",
        "email",
        demo,
        a,
        vehicle_label="2019 Honda Civic",
        address=None,
        manage_url=url,
        now=EARLY,
    )
    assert mail.to == "pat@example.com" and mail.subject is not None
    assert mail.subject.startswith("Reminder: your appointment on Mon, Nov 30, 10:00 AM CST")
    assert mail.html is not None and f'href="{url}"' in mail.html and long_when(a.start) in mail.html
    assert url in mail.text and "2019 Honda Civic" in mail.text and "<" not in mail.text
    confirmation = customer_message(
        "confirmation", "email", demo, a, vehicle_label=None, address=None, manage_url=url, now=EARLY
    )
    assert confirmation.subject is not None and confirmation.subject.startswith(
        "Your appointment is confirmed"
    )


def test_prepare_mints_a_fresh_link_per_message_and_none_for_a_phone_customer(demo: Catalog) -> None:
    a = appointment(demo, local(date(2026, 11, 30), 10))
    kwargs: dict[str, Any] = {"vehicle_label": None, "address": None, "base_url": BASE, "now": EARLY}
    nothing = prepare("reminder", demo, a, preferred="phone", **kwargs)
    assert (nothing.message, nothing.link, nothing.sent.channel) == (None, None, None)
    first = prepare("reminder", demo, a, preferred="sms", **kwargs)
    second = prepare("reminder", demo, a, preferred="sms", **kwargs)
    assert (
        first.link is not None and second.link is not None and first.link.token_hash != second.link.token_hash
    )
    assert first.link.appointment_id == a.id and first.link.kind == "customer"
    assert first.message is not None and first.message.id == first.sent.message_id
    staff_choice = prepare("confirmation", demo, a, preferred="phone", channel="email", **kwargs)
    assert staff_choice.message is not None and staff_choice.message.channel == "email"
