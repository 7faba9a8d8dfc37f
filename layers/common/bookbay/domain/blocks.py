"""Blocked time: staff take a stretch of a location's time out of booking (no I/O here).

A block marks every slot of the location that overlaps it (``blocked_slots``): a slot from 10:00
to 10:30 is blocked by a block from 10:15 to 11:00. The slots are the location's opening-hour
slots (``domain.availability.slot_starts``) as they are when the block is made; closed days and
holidays have none (they are not bookable anyway).

A block's id names where it is stored: ``<location id>.<UTC start as YYYYMMDDTHHMMSSZ>.<ref>``,
so deleting one is a GetItem, never a search.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from pydantic import AwareDatetime, ConfigDict, Field

from bookbay.domain.audit import Actor
from bookbay.domain.availability import slot_starts, zone_of
from bookbay.domain.catalog import Location, ShopSettings
from bookbay.exceptions import ValidationFailed
from bookbay.modeling import BaseModel
from bookbay.types import SLUG_PATTERN, NoteText

MAX_BLOCK_DAYS = 31
# How far ahead a block may start: past the longest booking horizon (365 days) with room to spare,
# and far from the calendar's end (a start in year 9999 must not overflow the arithmetic).
MAX_BLOCK_AHEAD_DAYS = 2 * 366
_ID = re.compile(SLUG_PATTERN.removesuffix("$") + r"\.(\d{8}T\d{6}Z)\.([0-9a-f]{24})$")
_ID_TIME = "%Y%m%dT%H%M%SZ"


class Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    location_id: str
    start: AwareDatetime = Field(description="In the location's time zone")
    end: AwareDatetime
    reason: NoteText | None = None
    created_at: AwareDatetime
    created_by: Actor


class BlockRef(NamedTuple):
    location_id: str
    start_utc: datetime
    ref: str


def block_id(location_id: str, start: datetime, ref: str) -> str:
    return f"{location_id}.{start.astimezone(UTC).strftime(_ID_TIME)}.{ref}"


def parse_block_id(text: str) -> BlockRef | None:
    """What a block id names; None when it is not one (a 404, never a 5xx)."""
    match = _ID.match(text) if len(text) <= 120 else None
    if match is None:
        return None
    location_id = text.split(".", 1)[0]
    try:
        start = datetime.strptime(match.group(1), _ID_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None
    return BlockRef(location_id, start, match.group(2))


def check_range(start: datetime, end: datetime, now: datetime) -> None:
    """A block ends after it starts, lasts at most MAX_BLOCK_DAYS days, is not all past, and starts
    at most MAX_BLOCK_AHEAD_DAYS ahead. Compared as given (no conversion, so nothing overflows)."""
    if end <= start:
        raise ValidationFailed(
            "A block ends after it starts.", details=[{"field": "body.end", "message": "must be after start"}]
        )
    if end - start > timedelta(days=MAX_BLOCK_DAYS):
        raise ValidationFailed(
            f"A block lasts at most {MAX_BLOCK_DAYS} days; make several.",
            details=[{"field": "body.end", "message": f"at most {MAX_BLOCK_DAYS} days after start"}],
        )
    if end <= now:
        raise ValidationFailed(
            "That time is past already.", details=[{"field": "body.end", "message": "must be in the future"}]
        )
    if start > now + timedelta(days=MAX_BLOCK_AHEAD_DAYS):
        raise ValidationFailed(
            f"A block starts at most {MAX_BLOCK_AHEAD_DAYS} days ahead.",
            details=[{"field": "body.start", "message": f"at most {MAX_BLOCK_AHEAD_DAYS} days from now"}],
        )


def blocked_slots(
    location: Location, settings: ShopSettings, start: datetime, end: datetime
) -> list[datetime]:
    """The UTC starts of the location's slots that overlap [``start``, ``end``), in order."""
    zone = zone_of(location)
    step = timedelta(minutes=settings.slot_minutes)
    first = (start - step).astimezone(zone).date()  # a slot that starts the day before
    last = end.astimezone(zone).date()
    found: list[datetime] = []
    day = first
    while day <= last:
        found.extend(
            slot for slot in slot_starts(location, settings, day) if slot < end and slot + step > start
        )
        day += timedelta(days=1)
    return sorted(set(found))
