"""When an appointment's reminder goes out (no I/O).

The reminder goes out ``reminder_business_days`` business days before the drop-off date, at
``reminder_time`` in the location's time zone. A business day is one of the shop's
``business_days`` (Mon-Fri by default) on which the location is not closed: the closed days are
the ones availability uses (``availability.is_closed``: the location's closed dates, the shop's
extra closed dates and the public holidays of its ``holidays`` country / subdivision).

Time zones: the wall time is built on the local date with zoneinfo and only then converted to
UTC, so a reminder at 09:00 is at 09:00 whatever the offset on that day (CST or CDT), and one
for a Monday after a daylight-saving change is on the Friday's offset, not the Monday's. A
``reminder_time`` that does not exist that day (spring forward, e.g. 02:30) is read with the
offset before the change, i.e. it lands one hour later in wall time (03:30); one that happens
twice (fall back) is the first of the two.

Booked (or confirmed, or moved) inside the window -- the reminder time is already past: there
is NO reminder. The change that put the appointment there sends the customer a message right
then (the e-confirmation on confirm, the "moved" e-mail on reschedule) with the same details
and the same manage link, so a "reminder" a moment later would only repeat it; and a reminder
sent at an arbitrary hour (say 11 PM the day before) is worse than none. The only reminders
are therefore the ones at the shop's chosen local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bookbay.domain.availability import is_closed
from bookbay.domain.catalog import Location, ShopSettings
from bookbay.types import WEEKDAYS, parse_hhmm

# The farthest back a reminder is looked for: 10 business days fit in far fewer calendar days
# unless the shop is closed for months (then: no reminder rather than an endless walk).
MAX_LOOKBACK_DAYS = 120


def is_business_day(location: Location, settings: ShopSettings, day: date) -> bool:
    """One of the shop's business weekdays, and the location is not closed all day."""
    return WEEKDAYS[day.weekday()] in settings.business_days and not is_closed(location, settings, day)


def reminder_day(location: Location, settings: ShopSettings, drop_off: date) -> date | None:
    """The local date ``reminder_business_days`` business days before ``drop_off`` (None: off)."""
    wanted = settings.reminder_business_days
    if wanted <= 0:
        return None
    day, found = drop_off, 0
    for _ in range(MAX_LOOKBACK_DAYS):
        day -= timedelta(days=1)
        if is_business_day(location, settings, day):
            found += 1
            if found == wanted:
                return day
    return None


def reminder_at(
    appointment_start_local: datetime, location: Location, settings: ShopSettings, now: datetime
) -> datetime | None:
    """The UTC instant the reminder of an appointment starting at ``appointment_start_local``
    (aware; any zone, read in the location's) goes out, or None: reminders off, no business day
    found, or that instant is not after ``now`` (inside the window: see the module docstring)."""
    if appointment_start_local.tzinfo is None or now.tzinfo is None:
        raise ValueError("reminder times need aware datetimes")
    zone = ZoneInfo(location.timezone)
    day = reminder_day(location, settings, appointment_start_local.astimezone(zone).date())
    if day is None:
        return None
    # fold=0: a repeated wall time is its first occurrence, a skipped one takes the earlier offset.
    at = datetime.combine(day, parse_hhmm(settings.reminder_time), tzinfo=zone).astimezone(UTC)
    if at <= now or at >= appointment_start_local:
        return None
    return at
