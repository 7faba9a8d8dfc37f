"""Sliding-window limits in DynamoDB (``bookbay.domain.rate_windows``): one item of slots per
limited subject, read consistently, a slot taken by an UpdateItem conditional on what it held
(on the list's length for a new slot), and given back the same way.

Taking never counts past the limit, whatever runs at the same time: a taker that loses a race
for a slot reads the item again and tries another, ``TAKE_ATTEMPTS`` times in all, then is
refused like a full window (``Full(1, contended=True)``: retry after a second; a busy window is
not a full one, so no caller takes it for a cap reached).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action

from bookbay.domain.rate_windows import FREE, Limit, Window, micros
from bookbay.models import keys
from bookbay.models.table import bind_table
from bookbay.models.verification import RateWindowItem

TAKE_ATTEMPTS = 6
# An item outlives its newest event's window a little; TTL then removes it.
SLACK = timedelta(minutes=5)

Subject = tuple[Limit, str]


@dataclass(frozen=True)
class Taken:
    """An event counted against ``limit`` for ``subject`` (in ``slot``, as ``value``)."""

    limit: Limit
    subject: str
    slot: int
    value: int


@dataclass(frozen=True)
class Full:
    """Nothing was counted: the window is full for ``retry_after`` more seconds, or (``contended``)
    other requests kept taking the slot this one tried, and it may try again in a second."""

    retry_after: int
    contended: bool = False


def _condition_failed(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def _key(limit: Limit, subject: str) -> tuple[str, str]:
    return keys.rate_pk(limit.kind, subject), keys.RATE_WINDOW_SK


def _window(item: RateWindowItem) -> Window:
    return Window(tuple(int(cast("float", t)) for t in item.slots or ()))


class RateWindows:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    def read(self, subjects: Iterable[Subject], *, consistent: bool = True) -> dict[Subject, Window]:
        """The windows of ``subjects`` (one BatchGetItem; empty for a subject never counted)."""
        wanted = {_key(limit, subject): (limit, subject) for limit, subject in subjects}
        found = {w: Window() for w in wanted.values()}
        if wanted:
            for item in RateWindowItem.batch_get(list(wanted), consistent_read=consistent):
                found[wanted[(item.pk, item.sk)]] = _window(item)
        return found

    def window(self, limit: Limit, subject: str) -> Window:
        try:
            item = RateWindowItem.get(*_key(limit, subject), consistent_read=True)
        except DoesNotExist:
            return Window()
        return _window(item)

    def take(self, limit: Limit, subject: str, now: datetime, read: Window | None = None) -> Taken | Full:
        """Count an event at ``now`` (``read``: the window as just read, if it was)."""
        window = read if read is not None else self.window(limit, subject)
        for _ in range(TAKE_ATTEMPTS):
            slot = window.free_slot(limit, now)
            if slot is None:
                return Full(window.retry_after(limit, now))
            if self._write(limit, subject, window, slot, now):
                return Taken(limit, subject, slot, micros(now))
            window = self.window(limit, subject)
        return Full(1, contended=True)

    def release(self, taken: Taken) -> None:
        """Give a counted event back (nothing if its slot no longer holds it)."""
        item = RateWindowItem(*_key(taken.limit, taken.subject))
        try:
            item.update(
                actions=[RateWindowItem.slots[taken.slot].set(FREE)],
                condition=RateWindowItem.slots[taken.slot] == taken.value,
            )
        except UpdateError as error:
            if not _condition_failed(error):
                raise

    def _write(self, limit: Limit, subject: str, window: Window, slot: int, now: datetime) -> bool:
        """Put ``now`` in ``slot`` if it still holds what ``window`` read; False otherwise."""
        value = micros(now)
        item = RateWindowItem(*_key(limit, subject))
        actions: list[Action] = [
            RateWindowItem.entity.set(RateWindowItem),
            RateWindowItem.expires_at.set(now + limit.per + SLACK),
        ]
        held = len(window.slots)
        condition: Condition
        if slot < held:
            actions.append(RateWindowItem.slots[slot].set(value))
            condition = RateWindowItem.slots[slot] == window.slots[slot]
        elif held == 0:
            actions.append(RateWindowItem.slots.set(cast("list[NumberAttribute]", [value])))
            condition = RateWindowItem.slots.does_not_exist()
        else:
            actions.append(RateWindowItem.slots.set(RateWindowItem.slots.append([value])))
            condition = size(RateWindowItem.slots) == held
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as error:
            if _condition_failed(error):
                return False
            raise
        return True
