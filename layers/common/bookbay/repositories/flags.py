"""Flagged customers in the table: the flag (FLAG#<id>), its list (GSI3PK=FLAGS), and one
FLAGVALUE#<field>#<normalized value> item per value an active flag field holds.

A value item carries the flags holding it as a string set (``FlagValueItem.entries``), each
member the flag's id and reason, changed only with ADD / DELETE: a flag's value items change in
the transaction that creates, un-flags or deletes it (with its audit entry), so the flag and what
matches never disagree, and two flags with one value never overwrite each other.

The booking reads the value items of its details by key inside its one BatchGetItem
(``repositories.booking``), and the ones it could not know before that read (a detail on file)
as condition checks in its transaction (``add_flag_checks``): a check that fails (the value is
flagged) hands the value item back with the cancellation (``hits_returned``), and the booking is
written again with that match, without another read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC

from pynamodb.exceptions import DoesNotExist

from bookbay.domain.audit import AuditEntry
from bookbay.domain.flags import Flag, FlagEntry, FlagHits, FlagKey, is_flag_id
from bookbay.exceptions import StaleWrite
from bookbay.models import keys
from bookbay.models.flags import FlagItem, FlagValueItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.pagination import GSI3_CURSOR_KEYS, decode_cursor, gsi3_key, take
from bookbay.repositories.transactions import LabelledTransaction, ReturnedItem, write_transaction
from bookbay.types import STORED

STALE = "The flag changed meanwhile; load it again."
_CREATED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


@dataclass(frozen=True)
class StoredFlag:
    """A flag as read, with the storage version its next write is conditional on."""

    flag: Flag
    version: int


@dataclass(frozen=True)
class FlagPage:
    flags: list[Flag]
    next_cursor: str | None


# ------------------------------------------------------------------------------ value items
def value_key(key: FlagKey) -> tuple[str, str]:
    """(PK, SK) of the value item of ``key``."""
    return keys.flag_value_pk(key.field, key.value), keys.FLAGVALUE_SK


def encode_entry(entry: FlagEntry) -> str:
    """A value item's set member for a flag: compact JSON ``[id, reason]``. The same flag always
    gives the same member (the reason never changes), so DELETE removes exactly what ADD added."""
    return json.dumps([entry.flag_id, entry.reason], separators=(",", ":"), ensure_ascii=False)


def decode_entry(member: str) -> FlagEntry | None:
    try:
        flag_id, reason = json.loads(member)
    except (ValueError, TypeError):
        return None
    return FlagEntry(str(flag_id), str(reason))


def hits_from(wanted: Collection[FlagKey], found: Mapping[tuple[str, str], BaseItem]) -> FlagHits:
    """What a batch read of the ``wanted`` value items (``found``, by (PK, SK)) says about them."""
    entries: dict[FlagKey, frozenset[FlagEntry]] = {}
    for key in wanted:
        item = found.get(value_key(key))
        members = item.entries if isinstance(item, FlagValueItem) and item.entries else set()
        decoded = frozenset(e for member in members if (e := decode_entry(member)) is not None)
        if decoded:
            entries[key] = decoded
    return FlagHits(checked=frozenset(wanted), entries=entries)


def add_flag_checks(tx: LabelledTransaction, unread: Collection[FlagKey]) -> None:
    """Condition checks (label ``flag``) that the ``unread`` values are held by no flag; a failed
    one hands its value item back (``hits_returned`` reads it)."""
    for key in dict.fromkeys(unread):
        tx.check(
            FlagValueItem,
            *value_key(key),
            FlagValueItem.entries.does_not_exist(),
            "flag",
            return_item=True,
        )


def hits_returned(unread: Collection[FlagKey], returned: Collection[ReturnedItem]) -> FlagHits:
    """What the failed ``add_flag_checks`` of ``unread`` handed back: the flags of those values
    (only the failed ones count as read; the others are checked again)."""
    found: dict[tuple[str, str], BaseItem] = {}
    for label, raw in returned:
        if label != "flag":
            continue
        item = FlagValueItem.from_raw_data(raw)
        found[(item.pk, item.sk)] = item
    return hits_from([key for key in unread if value_key(key) in found], found)


# ------------------------------------------------------------------------------ the flags
class FlagsRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    # ------------------------------------------------------------------ reads
    def get(self, flag_id: str) -> StoredFlag | None:
        """The flag (one consistent GetItem); None when there is none."""
        try:
            item = FlagItem.get(keys.flag_pk(flag_id), keys.FLAG_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return StoredFlag(Flag.model_validate(item.body, context=STORED), item.version or 0)

    def list(self, *, limit: int, cursor: str | None = None) -> FlagPage:
        """One page of flags, newest first (one Query on GSI3). ``cursor`` is a previous page's
        ``next_cursor``; InvalidCursor when it is not one."""
        start = decode_cursor(cursor, GSI3_CURSOR_KEYS, _list_key) if cursor else None
        results = BaseItem.gsi3.query(
            keys.FLAGS_GSI3PK, scan_index_forward=False, page_size=limit, last_evaluated_key=start
        )
        items, next_cursor = take(results, limit, lambda item: isinstance(item, FlagItem), gsi3_key)
        return FlagPage(
            [Flag.model_validate(item.body, context=STORED) for item in items if isinstance(item, FlagItem)],
            next_cursor,
        )

    # ------------------------------------------------------------------ changes
    def create(self, flag: Flag, entry: AuditEntry) -> None:
        """The flag, its value items and its audit entry, in one transaction."""

        def build(tx: LabelledTransaction) -> None:
            tx.save(_item(flag), FlagItem.pk.does_not_exist(), "flag")
            audit.add_to(tx, keys.flag_pk(flag.id), entry)
            member = encode_entry(flag.entry())
            for key in flag.active_keys():
                tx.update(
                    FlagValueItem(*value_key(key)),
                    [FlagValueItem.entity.set(FlagValueItem), FlagValueItem.entries.add({member})],
                    "value",
                )

        write_transaction(build, _stale)

    def unflag(self, stored: StoredFlag, after: Flag, key: FlagKey, entry: AuditEntry) -> None:
        """Store ``after`` (``stored`` with ``key``'s field un-flagged) and take the flag off the
        value item of ``key``; StaleWrite when the flag changed since ``stored`` was read."""

        def build(tx: LabelledTransaction) -> None:
            tx.save(_item(after, version=stored.version), None, "flag")
            audit.add_to(tx, keys.flag_pk(after.id), entry)
            tx.update(
                FlagValueItem(*value_key(key)),
                [FlagValueItem.entries.delete({encode_entry(stored.flag.entry())})],
                "value",
            )

        write_transaction(build, _stale)

    def delete(self, stored: StoredFlag, entry: AuditEntry) -> None:
        """Delete the flag and take it off the value items of its active fields (its audit
        entries stay); StaleWrite when the flag changed since ``stored`` was read."""
        flag = stored.flag

        def build(tx: LabelledTransaction) -> None:
            item = FlagItem(keys.flag_pk(flag.id), keys.FLAG_SK)
            item.version = stored.version  # the delete is conditional on the version read
            tx.tx.delete(item)
            # LabelledTransaction has no deletes: DynamoDB gets this one first, so the label is
            # out of place. It does not matter: the only condition that can fail is the flag's
            # version (a fresh audit key never exists), whatever the label says.
            tx.updated(1, "flag")
            audit.add_to(tx, keys.flag_pk(flag.id), entry)
            member = encode_entry(flag.entry())
            for key in flag.active_keys():
                tx.update(FlagValueItem(*value_key(key)), [FlagValueItem.entries.delete({member})], "value")

        write_transaction(build, lambda _: StaleWrite(STALE))


def _item(flag: Flag, version: int | None = None) -> FlagItem:
    created = flag.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    item = FlagItem(
        keys.flag_pk(flag.id),
        keys.FLAG_SK,
        body=flag.model_dump(mode="json"),
        gsi3pk=keys.FLAGS_GSI3PK,
        gsi3sk=keys.flags_gsi3sk(created, flag.id),
    )
    if version is not None:  # the put is conditional on "version = <as read>", and increments it
        item.version = version
    return item


def _stale(failed: set[str]) -> Exception:
    if failed - {"flag"}:
        logger.info("flag change refused", extra={"failed": sorted(failed)})
    return StaleWrite(STALE)


# ------------------------------------------------------------------------------ cursors
def _list_key(key: dict[str, str]) -> bool:
    """Whether a cursor's key is one of the flag list's (an existing flag's shape, bounded)."""
    flag_id = key["PK"].removeprefix(keys.flag_pk(""))
    return (
        key["GSI3PK"] == keys.FLAGS_GSI3PK
        and key["SK"] == keys.FLAG_SK
        and key["PK"] == keys.flag_pk(flag_id)
        and is_flag_id(flag_id)
        and _CREATED.fullmatch(key["GSI3SK"].removesuffix(f"#{flag_id}")) is not None
    )
