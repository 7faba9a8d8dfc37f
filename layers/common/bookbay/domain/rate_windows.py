"""Sliding-window limits ("at most N events in any span of W") kept exact under concurrency.

A limited subject (a destination's sends, a client address's sends, the shop's SMS) is one stored
list of *slots*, each holding the time of the event that took it (integer microseconds since the
epoch, so no rounding can make two events look further apart than they are). An event may take
slot ``i < N`` only while the slot is free: never taken, released, or holding an event at or
before ``now - W``; or it may append slot ``len(slots)`` while fewer than N exist. The write is
conditional on the slot still holding what was read (on the list's length for an append), so two
concurrent takers of one slot cannot both win. Two counted events that held the same slot are at
least W apart (an event given back, ``FREE``, counts no more), so no half-open span ``[a, a + W)``
holds two of them: with at most N slots, no span of W ever holds more than N events. There is
no window edge to burst across, and ``retry_after`` is exactly when the oldest counted event
leaves the window.

A limit lowered while events are counted (a shop setting) keeps counting the events in slots
past the new N (``counted`` reads every slot), so no new event is taken until fewer than the new
N are in the window; only concurrent takers racing that first read can pass it, and never more
than the old N.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
FREE = 0  # a released slot (no event is ever at the epoch)


def micros(moment: datetime) -> int:
    """``moment`` as whole microseconds since the epoch (exact, unlike ``timestamp()``)."""
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class Limit:
    """At most ``events`` events of ``kind`` (per subject) in any span of ``per``."""

    kind: str
    events: int
    per: timedelta

    @property
    def per_micros(self) -> int:
        return self.per // _MICROSECOND


@dataclass(frozen=True)
class Window:
    """The slots of one limited subject as read (empty: nothing was ever counted)."""

    slots: tuple[int, ...] = ()

    def counted(self, limit: Limit, now: datetime) -> list[int]:
        """The events still in the window at ``now``, oldest first."""
        since = micros(now) - limit.per_micros
        return sorted(t for t in self.slots if t > since)

    def full(self, limit: Limit, now: datetime) -> bool:
        return len(self.counted(limit, now)) >= limit.events

    def retry_after(self, limit: Limit, now: datetime) -> int:
        """Whole seconds (at least 1) until one more event fits: when the oldest event that keeps
        the window full leaves it."""
        counted = self.counted(limit, now)
        if len(counted) < limit.events:
            return 1
        leaves = counted[len(counted) - limit.events] + limit.per_micros
        return max(1, -(-(leaves - micros(now)) // 1_000_000))

    def free_slot(self, limit: Limit, now: datetime, rng: random.Random | None = None) -> int | None:
        """A slot an event at ``now`` may take (``len(slots)``: append one), None when full.

        One of the free slots at random, so concurrent takers rarely race for the same one."""
        if self.full(limit, now):
            return None
        since = micros(now) - limit.per_micros
        free = [i for i, t in enumerate(self.slots[: limit.events]) if t <= since]
        if len(self.slots) < limit.events:
            free.append(len(self.slots))
        if not free:  # only after a lowered limit: the counted events sit past the new N
            return None
        return (rng or random).choice(free)

    def taken(self, slot: int, now: datetime) -> Window:
        """This window after an event at ``now`` took ``slot``."""
        value = micros(now)
        if slot == len(self.slots):
            return Window((*self.slots, value))
        return Window((*self.slots[:slot], value, *self.slots[slot + 1 :]))
