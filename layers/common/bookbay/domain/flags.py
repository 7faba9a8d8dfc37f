"""Flagged customers: the shop's list of problem customers, and how a booking is matched against it.

A flag holds any of a name, an e-mail, a phone and an address, and a reason. Each field it holds
matches on its own (seed 004: the same person with a new e-mail still matches on the phone; new
people at a flagged address match on the address alone), after the normalization the booking
uses: the name casefolded with accents, punctuation and spacing evened out; the e-mail as
``types.normalize_email`` gives it; the phone in E.164; the address in its canonical form
(``domain.addresses``). Un-flagging a field stops it matching from then on; the flag keeps the
others, and once none is left it stays on the list as inactive (for the record and for the
appointments that matched it) until staff delete it.

Matching is by key: every active field of every flag is one ``FlagKey`` (field, normalized value),
stored once per value with the flags holding it, so a booking looks up at most four keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

from pydantic import AwareDatetime, ConfigDict, Field

from bookbay.domain.audit import Actor
from bookbay.domain.catalog import Address
from bookbay.exceptions import FieldNotFlagged
from bookbay.modeling import BaseModel
from bookbay.types import NoteText, Text

FlagField = Literal["name", "email", "phone", "address"]
FLAG_FIELDS: tuple[FlagField, ...] = ("name", "email", "phone", "address")

_frozen = ConfigDict(frozen=True, extra="forbid")
_FLAG_ID = re.compile(r"[0-9a-f]{24}")  # domain.ids.new_id
_DROPPED = re.compile("['\u2019`.]")  # O'Brien (or O\u2019Brien) -> obrien, J.R. -> jr
_SEPARATORS = re.compile(r"[^\w]+|_")  # hyphens, commas, anything else: a space


def normalize_name(text: str) -> str:
    """``  Dana  Rivera-López `` -> ``dana rivera lopez``: accents removed, casefolded, apostrophes
    and periods dropped, other punctuation a space, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_SEPARATORS.sub(" ", _DROPPED.sub("", bare)).split())


def is_flag_id(text: str) -> bool:
    """Whether ``text`` has the shape of a flag id (anything else names no flag)."""
    return _FLAG_ID.fullmatch(text) is not None


def name_key(first_name: str, last_name: str) -> str:
    """The normalized full name of a booker (first name, then last name)."""
    return normalize_name(f"{first_name} {last_name}")


class FlagKey(NamedTuple):
    """One normalized value of one field: what a flag matches on, and what a booking is looked up by."""

    field: FlagField
    value: str


class FlagEntry(NamedTuple):
    """A flag holding a value, as the value's lookup item names it: enough to report a match."""

    flag_id: str
    reason: str


class FlagMatch(BaseModel):
    """A flag a booking matched, and on which of its fields (in name, email, phone, address order)."""

    model_config = _frozen

    flag_id: str
    fields: list[FlagField] = Field(min_length=1)
    reason: str = Field(description="The flag's reason, as it was when the booking matched it")


class Unflagged(BaseModel):
    """A field staff took off the flag: it no longer matches."""

    model_config = _frozen

    field: FlagField
    at: AwareDatetime
    by: Actor


class Flag(BaseModel):
    """A flagged customer. ``email`` / ``phone`` are normalized; ``address`` is kept as typed, with
    its canonical form (what matches)."""

    model_config = _frozen

    id: str
    name: Text | None = None
    email: str | None = None
    phone: str | None = Field(default=None, description="E.164")
    address: Address | None = None
    address_canonical: str | None = None
    reason: NoteText
    created_at: AwareDatetime
    created_by: Actor
    unflagged: list[Unflagged] = Field(default_factory=list)

    def key(self, name: FlagField) -> FlagKey | None:
        """The key of field ``name`` (None when the flag does not hold it)."""
        value = {
            "name": normalize_name(self.name) if self.name else None,
            "email": self.email,
            "phone": self.phone,
            "address": self.address_canonical,
        }[name]
        return FlagKey(name, value) if value else None

    @property
    def held_fields(self) -> list[FlagField]:
        """The fields the flag was created with."""
        return [name for name in FLAG_FIELDS if self.key(name) is not None]

    @property
    def active_fields(self) -> list[FlagField]:
        """The fields that still match."""
        off = {u.field for u in self.unflagged}
        return [name for name in self.held_fields if name not in off]

    @property
    def active(self) -> bool:
        return bool(self.active_fields)

    def active_keys(self) -> list[FlagKey]:
        return [key for name in self.active_fields if (key := self.key(name)) is not None]

    def entry(self) -> FlagEntry:
        return FlagEntry(self.id, self.reason)

    def unflag(self, name: FlagField, *, at: AwareDatetime, by: Actor) -> Flag:
        """The flag without ``name`` matching; FieldNotFlagged (409) when it does not match now."""
        if name not in self.held_fields:
            raise FieldNotFlagged(f"This flag has no {name}.")
        if name not in self.active_fields:
            raise FieldNotFlagged(f"The {name} of this flag was already un-flagged.")
        return self.model_copy(update={"unflagged": [*self.unflagged, Unflagged(field=name, at=at, by=by)]})


# ------------------------------------------------------------------------------ matching a booking
class Person(Protocol):
    """A booking's contact (``domain.booking.Contact``), already normalized."""

    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def phone(self) -> str: ...


def person_keys(person: Person | None, address_canonical: str | None = None) -> list[FlagKey]:
    """The keys of a booking's details: the contact's name, e-mail and phone, and the address."""
    keys: list[FlagKey] = []
    if person is not None:
        if name := name_key(person.first_name, person.last_name):
            keys.append(FlagKey("name", name))
        keys += [FlagKey("email", person.email), FlagKey("phone", person.phone)]
    if address_canonical:
        keys.append(FlagKey("address", address_canonical))
    return keys


def destination_key(destination: str) -> FlagKey:
    """The key of a verified destination (a normalized e-mail, or a phone in E.164)."""
    return FlagKey("email", destination) if "@" in destination else FlagKey("phone", destination)


@dataclass(frozen=True)
class FlagHits:
    """What a read of flag keys found: the keys it read (``checked``) and, for those some active
    flag holds, the flags (``entries``)."""

    checked: frozenset[FlagKey] = frozenset()
    entries: Mapping[FlagKey, frozenset[FlagEntry]] = field(default_factory=dict)

    def merged(self, other: FlagHits) -> FlagHits:
        """What this read and ``other`` found together."""
        return FlagHits(self.checked | other.checked, {**self.entries, **other.entries})


def match(hits: FlagHits, wanted: Iterable[FlagKey]) -> tuple[list[FlagMatch], tuple[FlagKey, ...]]:
    """The flags the ``wanted`` keys match (by flag id, fields in FLAG_FIELDS order), and the wanted
    keys ``hits`` did not read (they must still be checked)."""
    matched: dict[str, tuple[str, set[FlagField]]] = {}
    unread: list[FlagKey] = []
    for key in dict.fromkeys(wanted):
        if key not in hits.checked:
            unread.append(key)
            continue
        for entry in hits.entries.get(key, frozenset()):
            matched.setdefault(entry.flag_id, (entry.reason, set()))[1].add(key.field)
    matches = [
        FlagMatch(flag_id=flag_id, fields=[f for f in FLAG_FIELDS if f in fields], reason=reason)
        for flag_id, (reason, fields) in sorted(matched.items())
    ]
    return matches, tuple(unread)
