"""Slot availability: which starts a service can be booked at, in a location's time zone (no I/O).

A location's day is cut into ``slot_minutes`` slots inside each opening interval, from ``opens``
in local wall time, each ending by ``closes``. Slots are identified by their UTC start (the key of
their capacity item). Daylight-saving changes: wall times that do not exist (spring forward) have
no slot, of a wall time that happens twice (fall back) only the first (``fold=0``) has one, and no
slot starts before the previous one ends in real time.

A booking of a service holds ``ceil(duration / slot_minutes)`` consecutive slots: the slots of one
opening interval starting at the booking's start, one after the other in real (UTC) time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bookbay.domain.catalog import Location, Service, ShopSettings
from bookbay.exceptions import AppointmentTypeNotOffered, ShopNotConfigured, ZipNotServed
from bookbay.types import AppointmentType, parse_hhmm


@dataclass(frozen=True)
class SlotUsage:
    """What the capacity item of one slot says: appointments holding it, and whether staff blocked it."""

    used: int = 0
    blocked: bool = False


FREE = SlotUsage()


@dataclass(frozen=True)
class AvailableSlot:
    """A start the service can be booked at; ``start`` and ``end`` are in the location's zone."""

    start: datetime
    end: datetime
    remaining: int


# ------------------------------------------------------------------------------ the calendar
def zone_of(location: Location) -> ZoneInfo:
    return ZoneInfo(location.timezone)


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays  # its calendars load on the first closed-day check, not at import

    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as exc:
        raise ShopNotConfigured(
            f"The shop's holiday calendar ({country}{'-' + subdivision if subdivision else ''}) "
            "is not known; fix the holidays setting."
        ) from exc
    return frozenset(calendar.keys())


def is_closed(location: Location, settings: ShopSettings, day: date) -> bool:
    """Closed all day: the location's closed dates, the shop's extra closed dates and public holidays."""
    if day in location.closed_dates or day in settings.holidays.extra_closed_dates:
        return True
    return day in _public_holidays(settings.holidays.country, settings.holidays.subdivision, day.year)


def _local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of wall time ``wall`` on ``day``; None when it does not exist (spring forward).

    Ambiguous wall times (fall back) resolve to their first occurrence (``fold=0``).
    """
    local = datetime.combine(day, wall, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def _interval_slots(location: Location, settings: ShopSettings, day: date) -> list[list[datetime]]:
    """The UTC slot starts of each opening interval on ``day`` (earliest interval first)."""
    if is_closed(location, settings, day):
        return []
    zone = zone_of(location)
    step = timedelta(minutes=settings.slot_minutes)
    intervals = sorted(location.hours_on(day.weekday()), key=lambda i: parse_hhmm(i.opens))
    result: list[list[datetime]] = []
    for interval in intervals:
        wall = datetime.combine(day, parse_hhmm(interval.opens))
        closes = datetime.combine(day, parse_hhmm(interval.closes))
        starts: list[datetime] = []
        while wall + step <= closes:
            instant = _local_instant(day, wall.time(), zone)
            # Skip a wall time that does not exist, and one that would overlap the previous slot in
            # real time (a slot length that does not divide the hour skipped on spring forward).
            if instant is not None and (not starts or instant >= starts[-1] + step):
                starts.append(instant)
            wall += step
        result.append(starts)
    return result


def slot_starts(location: Location, settings: ShopSettings, day: date) -> list[datetime]:
    """The UTC starts of every slot of ``day`` (a local date), none on closed days and holidays."""
    return [start for starts in _interval_slots(location, settings, day) for start in starts]


def day_bounds_utc(location: Location, first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight starting ``first_day`` and local midnight ending ``last_day``."""
    zone = zone_of(location)
    start = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


# ------------------------------------------------------------------------------ one booking
def slots_needed(service: Service, settings: ShopSettings) -> int:
    """How many consecutive slots a booking of ``service`` holds."""
    return math.ceil(service.duration_minutes / settings.slot_minutes)


def _run_from(starts: list[datetime], index: int, needed: int, step: timedelta) -> list[datetime] | None:
    """``needed`` slots from ``starts[index]``, each ``step`` after the previous one, or None."""
    run = starts[index : index + needed]
    if len(run) < needed or run[-1] - run[0] != step * (needed - 1):
        return None
    return run


def required_slots(
    location: Location, service: Service, settings: ShopSettings, start: datetime
) -> list[datetime] | None:
    """The UTC starts of the slots a booking at ``start`` holds.

    None when ``start`` is not a slot start of its (local) day, or the service would run past the
    end of the opening interval it starts in.
    """
    instant = start.astimezone(UTC)
    day = instant.astimezone(zone_of(location)).date()
    step = timedelta(minutes=settings.slot_minutes)
    for starts in _interval_slots(location, settings, day):
        if instant in starts:
            return _run_from(starts, starts.index(instant), slots_needed(service, settings), step)
    return None


def check_offered(
    location: Location, service: Service, appointment_type: AppointmentType, customer_zip: str | None
) -> None:
    """Raise unless the location and the service offer ``appointment_type`` (at home: at that ZIP)."""
    if appointment_type not in location.appointment_types:
        raise AppointmentTypeNotOffered(
            f"{location.name} does not offer {appointment_type.replace('_', ' ')} appointments."
        )
    if appointment_type not in service.appointment_types:
        raise AppointmentTypeNotOffered(
            f"{service.name} is not offered for {appointment_type.replace('_', ' ')} appointments."
        )
    if appointment_type == "at_home":
        if customer_zip is None:
            raise ZipNotServed("At-home appointments need the ZIP code of the address.")
        if customer_zip not in location.at_home_zips:
            raise ZipNotServed(f"{location.name} does not come to ZIP code {customer_zip}.")


# ------------------------------------------------------------------------------ what is bookable
def horizon_last_day(location: Location, settings: ShopSettings, now: datetime) -> date:
    """The last local date that may be booked: today (local) + ``horizon_days``."""
    return now.astimezone(zone_of(location)).date() + timedelta(days=settings.horizon_days)


def earliest_start(settings: ShopSettings, now: datetime) -> datetime:
    """The earliest start that may be booked: ``now`` + the lead time (UTC)."""
    return now.astimezone(UTC) + timedelta(hours=settings.lead_time_hours)


def bookable_days(
    location: Location, settings: ShopSettings, start_day: date, days: int, now: datetime
) -> tuple[date, date] | None:
    """The first and last local dates of ``start_day`` + ``days`` that lie between today and the
    horizon, or None when none does."""
    today = now.astimezone(zone_of(location)).date()
    last_allowed = horizon_last_day(location, settings, now)
    if days < 1 or start_day > last_allowed:
        return None
    last = start_day + timedelta(days=min(days - 1, (last_allowed - start_day).days))
    first = max(start_day, today)
    return (first, last) if first <= last else None


def _slots_of_day(
    location: Location,
    service: Service,
    settings: ShopSettings,
    day: date,
    earliest: datetime,
    usage: Mapping[datetime, SlotUsage],
) -> Iterator[AvailableSlot]:
    zone = zone_of(location)
    needed = slots_needed(service, settings)
    step = timedelta(minutes=settings.slot_minutes)
    duration = timedelta(minutes=service.duration_minutes)
    for starts in _interval_slots(location, settings, day):
        for index, start in enumerate(starts):
            if start < earliest:
                continue
            run = _run_from(starts, index, needed, step)
            if run is None:
                continue
            held = [usage.get(slot, FREE) for slot in run]
            if any(u.blocked for u in held):
                continue
            remaining = min(location.capacity_per_slot - u.used for u in held)
            if remaining > 0:
                yield AvailableSlot(
                    start=start.astimezone(zone), end=(start + duration).astimezone(zone), remaining=remaining
                )


def bookable_slots(
    location: Location,
    service: Service,
    settings: ShopSettings,
    *,
    appointment_type: AppointmentType,
    customer_zip: str | None,
    start_day: date,
    days: int,
    now: datetime,
    usage: Mapping[datetime, SlotUsage],
) -> list[AvailableSlot]:
    """Every start on local dates ``start_day`` .. ``start_day + days - 1`` a booking can take now.

    Leaves out starts before ``now`` + the lead time, dates beyond the horizon, and starts whose
    slots are blocked or full. ``usage`` maps UTC slot starts to their usage (absent = free).
    Raises AppointmentTypeNotOffered / ZipNotServed when the type is not offered there.
    """
    check_offered(location, service, appointment_type, customer_zip)
    window = bookable_days(location, settings, start_day, days, now)
    if window is None:
        return []
    earliest = earliest_start(settings, now)
    first, last = window
    slots: list[AvailableSlot] = []
    day = first
    while day <= last:
        slots.extend(_slots_of_day(location, service, settings, day, earliest, usage))
        day += timedelta(days=1)
    return slots


def alternatives(
    location: Location,
    service: Service,
    settings: ShopSettings,
    *,
    after: datetime,
    usage: Mapping[datetime, SlotUsage],
    now: datetime,
    limit: int = 3,
    appointment_type: AppointmentType,
    customer_zip: str | None,
) -> list[AvailableSlot]:
    """The next ``limit`` bookable slots starting at or after ``after`` (within the horizon).

    ``usage`` should cover the slots from ``after`` on; absent slots count as free.
    """
    check_offered(location, service, appointment_type, customer_zip)
    zone = zone_of(location)
    earliest = max(earliest_start(settings, now), after.astimezone(UTC))
    day = earliest.astimezone(zone).date()
    last = horizon_last_day(location, settings, now)
    found: list[AvailableSlot] = []
    while day <= last and len(found) < limit:
        for slot in _slots_of_day(location, service, settings, day, earliest, usage):
            found.append(slot)
            if len(found) == limit:
                break
        day += timedelta(days=1)
    return found
