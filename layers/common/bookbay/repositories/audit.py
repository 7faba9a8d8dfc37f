"""Writing audit entries with the change they record, and reading a thing's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bookbay.domain.audit import Actor, AuditEntry, FieldChange
from bookbay.domain.ids import new_id
from bookbay.models import keys
from bookbay.models.audit import AuditItem
from bookbay.models.table import bind_table
from bookbay.repositories.pagination import decode_cursor, take
from bookbay.repositories.transactions import LabelledTransaction

_TABLE_KEYS = frozenset({"PK", "SK"})


def entry(
    actor: Actor,
    action: str,
    now: datetime,
    changes: dict[str, FieldChange] | None = None,
    note: str | None = None,
) -> AuditEntry:
    return AuditEntry(id=new_id(), at=now, actor=actor, action=action, changes=changes or {}, note=note)


def audit_item(subject_pk: str, audit: AuditEntry) -> AuditItem:
    at = audit.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return AuditItem(subject_pk, keys.audit_sk(at, audit.id), body=audit.model_dump(mode="json"))


def add_to(tx: LabelledTransaction, subject_pk: str, audit: AuditEntry) -> None:
    """Put ``audit`` in the transaction that makes the change it records."""
    tx.save(audit_item(subject_pk, audit), AuditItem.pk.does_not_exist(), "audit")


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]  # newest first
    next_cursor: str | None


class AuditRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    def history(self, subject_pk: str, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` entries of a thing, oldest first (one Query)."""
        items = AuditItem.query(
            subject_pk,
            AuditItem.sk.startswith(keys.AUDIT_PREFIX),
            scan_index_forward=False,
            limit=limit,
        )
        entries = [AuditEntry.model_validate(item.body) for item in items]
        return list(reversed(entries))

    def appointment_history(self, appointment_id: str, limit: int = 100) -> list[AuditEntry]:
        """``history`` of an appointment."""
        return self.history(keys.appointment_pk(appointment_id), limit)

    def page(self, subject_pk: str, *, limit: int, cursor: str | None) -> AuditPage:
        """A page of a thing's entries, newest first (one Query); ``cursor`` is a previous page's
        ``next_cursor`` (InvalidCursor when it is not one of this thing's)."""

        def valid(key: dict[str, str]) -> bool:
            return key["PK"] == subject_pk and key["SK"].startswith(keys.AUDIT_PREFIX)

        start = decode_cursor(cursor, _TABLE_KEYS, valid) if cursor else None
        items = AuditItem.query(
            subject_pk,
            AuditItem.sk.startswith(keys.AUDIT_PREFIX),
            scan_index_forward=False,
            page_size=limit,
            last_evaluated_key=start,
        )
        kept, next_cursor = take(
            items, limit, lambda item: isinstance(item, AuditItem), lambda i: {"PK": i.pk, "SK": i.sk}
        )
        return AuditPage([AuditEntry.model_validate(item.body) for item in kept], next_cursor)

    def settings_history(self, *, limit: int, cursor: str | None) -> AuditPage:
        """``page`` of the shop settings' changes (their own partition, SETTINGS_HISTORY_PK)."""
        return self.page(keys.SETTINGS_HISTORY_PK, limit=limit, cursor=cursor)
