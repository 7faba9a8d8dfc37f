"""Appointments after booking: reading one (by id or by a link token) and the store's changes to it.

Every change is ONE TransactWriteItems (``write``): the appointment (conditional on its status and
on the version read), the slot capacity it moves, the link tokens it adds, the outbox items of
the messages that announce it and of the effects it causes, and its audit entry. Either all of it
happens or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import Field
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex

from bookbay.domain.audit import AuditEntry
from bookbay.domain.booking import Appointment, CustomerAddress, CustomerProfile, CustomerSummary, Vehicle
from bookbay.domain.effects import Effect, NewLink
from bookbay.domain.ids import hash_token
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import SlotUnavailable, StaleWrite
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem, LinkTokenItem
from bookbay.models.customers import AddressItem, VehicleItem
from bookbay.models.effects import EffectItem
from bookbay.models.outbox import OutboxItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.effects import new_item as new_effect_item
from bookbay.repositories.outbox import OutboxRepository
from bookbay.repositories.pagination import decode_cursor, take
from bookbay.repositories.slots import hold_slots, release_slots
from bookbay.repositories.transactions import LabelledTransaction, write_transaction
from bookbay.types import STORED


class StoredAppointment(Appointment):
    """An appointment as read, with the storage version its next write is conditional on."""

    version: int = Field(exclude=True, ge=0, description="The stored item's version")


@dataclass(frozen=True)
class TokenExpiry:
    """Move the expiry of the link token ``raw_token`` (e.g. a staff link, when the time moves)."""

    raw_token: str
    expires_at: datetime


def index_keys(appointment: Appointment) -> dict[str, str]:
    """The appointment's GSI keys: by location and local start (GSI1), by customer and UTC start
    (GSI2), the whole shop's by UTC start (GSI3)."""
    gsi1pk, gsi1sk = keys.appointment_gsi1(
        appointment.location_id, appointment.start.isoformat(), appointment.id
    )
    utc_start = appointment.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    gsi2pk, gsi2sk = keys.appointment_gsi2(appointment.customer_id, utc_start)
    gsi3pk, gsi3sk = keys.appointment_gsi3(utc_start, appointment.id)
    return {
        "gsi1pk": gsi1pk,
        "gsi1sk": gsi1sk,
        "gsi2pk": gsi2pk,
        "gsi2sk": gsi2sk,
        "gsi3pk": gsi3pk,
        "gsi3sk": gsi3sk,
    }


def new_appointment_item(appointment: Appointment) -> AppointmentItem:
    """The item of a new appointment: its body, its status, its index keys."""
    item = AppointmentItem(
        keys.appointment_pk(appointment.id),
        keys.APPOINTMENT_SK,
        body=appointment.model_dump(mode="json"),
        status=appointment.status,
    )
    for name, value in index_keys(appointment).items():
        setattr(item, name, value)
    return item


@dataclass(frozen=True)
class AppointmentParts:
    """What an appointment points at: its customer's record on file (None: no longer there),
    its saved vehicle and its (at-home) address."""

    customer: CustomerSummary | None
    vehicle: Vehicle | None
    address: CustomerAddress | None


def customer_parts(
    customer_id: str, vehicle_id: str | None, address_id: str | None
) -> tuple[Vehicle | None, CustomerAddress | None]:
    """A customer's saved vehicle and / or address (one BatchGetItem); None where absent."""
    wanted: list[tuple[str, str]] = []
    if vehicle_id:
        wanted.append((keys.customer_pk(customer_id), keys.vehicle_sk(vehicle_id)))
    if address_id:
        wanted.append((keys.customer_pk(customer_id), keys.address_sk(address_id)))
    vehicle: Vehicle | None = None
    address: CustomerAddress | None = None
    if not wanted:
        return vehicle, address
    for item in BaseItem.batch_get(wanted, consistent_read=True):
        if isinstance(item, VehicleItem):
            vehicle = Vehicle.model_validate(item.body, context=STORED)
        elif isinstance(item, AddressItem):
            address = CustomerAddress.model_validate(item.body, context=STORED)
    return vehicle, address


class AppointmentRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    # ------------------------------------------------------------------ reads
    def get(self, appointment_id: str) -> StoredAppointment | None:
        try:
            item = AppointmentItem.get(
                keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK, consistent_read=True
            )
        except DoesNotExist:
            return None
        return StoredAppointment.model_validate({**item.body, "version": item.version or 0}, context=STORED)

    def by_token(self, raw_token: str, kind: str) -> StoredAppointment | None:
        """The appointment a link token of ``kind`` acts on (two reads), or None for an unknown token
        or one of another kind. Whether the link still works is the caller's rule (the token's TTL
        only cleans up, a while after the appointment)."""
        try:
            token = LinkTokenItem.get(
                keys.token_pk(hash_token(raw_token)), keys.TOKEN_SK, consistent_read=True
            )
        except DoesNotExist:
            return None
        if token.kind != kind:
            return None
        return self.get(token.appointment_id)

    def vehicle_and_address(self, appointment: Appointment) -> tuple[Vehicle | None, CustomerAddress | None]:
        """The appointment's vehicle and (at-home) address records, in one BatchGetItem."""
        return customer_parts(appointment.customer_id, appointment.vehicle_id, appointment.address_id)

    def page(
        self,
        *,
        location_id: str | None,
        low: str,
        high: str,
        statuses: Sequence[str] = (),
        flagged: bool | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> tuple[list[StoredAppointment], str | None]:
        """One page of appointments by start, oldest first: a location's (GSI1, sort keys are its
        local ISO starts) or, without ``location_id``, the whole shop's (GSI3, UTC starts); ``low``
        and ``high`` bound the sort key. ``statuses`` is a filter in DynamoDB; ``flagged`` is read
        from the body, so it filters here (the page still ends at ``limit`` matches or the end).
        InvalidCursor for a cursor that is not this list's."""
        index: GlobalSecondaryIndex[BaseItem]
        if location_id is not None:
            partition, index, names = (
                keys.location_pk(location_id),
                AppointmentItem.gsi1,
                ("GSI1PK", "GSI1SK"),
            )
        else:
            partition, index, names = keys.APPOINTMENTS_GSI3PK, AppointmentItem.gsi3, ("GSI3PK", "GSI3SK")
        attributes = frozenset({"PK", "SK", *names})

        def ours(key: dict[str, str]) -> bool:
            return (
                key[names[0]] == partition
                and key["SK"] == keys.APPOINTMENT_SK
                and key["PK"].startswith(keys.appointment_pk(""))
            )

        start = decode_cursor(cursor, attributes, ours) if cursor else None
        range_key = getattr(AppointmentItem, names[1].lower())
        query = index.query(
            partition,
            range_key.between(low, high),
            filter_condition=AppointmentItem.status.is_in(*statuses) if statuses else None,
            last_evaluated_key=start,
            page_size=min(max(limit, 10), 100),
        )

        def key_of(item: AppointmentItem) -> dict[str, str]:
            return {
                "PK": item.pk,
                "SK": item.sk,
                names[0]: partition,
                names[1]: getattr(item, names[1].lower()),
            }

        def keep(item: AppointmentItem) -> bool:
            return flagged is None or bool(item.body.get("flag_matches")) == flagged

        appointments = (item for item in query if isinstance(item, AppointmentItem))
        items, next_cursor = take(appointments, limit, keep, key_of)
        stored = [
            StoredAppointment.model_validate({**i.body, "version": i.version or 0}, context=STORED)
            for i in items
        ]
        return stored, next_cursor

    def parts(self, appointment: Appointment) -> AppointmentParts:
        """The appointment's customer record, vehicle and address, in one BatchGetItem."""
        return self.parts_of([appointment], consistent_read=True)[appointment.id]

    def parts_of(
        self, appointments: Sequence[Appointment], *, consistent_read: bool = False
    ) -> dict[str, AppointmentParts]:
        """The customer records, vehicles and addresses of a page of appointments, by appointment
        id, in BatchGetItem calls of up to 100 keys (pynamodb splits them)."""
        wanted: set[tuple[str, str]] = set()
        for a in appointments:
            wanted.add((keys.customer_pk(a.customer_id), keys.PROFILE_SK))
            if a.vehicle_id:
                wanted.add((keys.customer_pk(a.customer_id), keys.vehicle_sk(a.vehicle_id)))
            if a.address_id:
                wanted.add((keys.customer_pk(a.customer_id), keys.address_sk(a.address_id)))
        found: dict[tuple[str, str], BaseItem] = {
            (item.pk, item.sk): item
            for item in BaseItem.batch_get(sorted(wanted), consistent_read=consistent_read)
        }

        def body(sk: str, a: Appointment) -> Any:
            item = found.get((keys.customer_pk(a.customer_id), sk))
            return item.body if item is not None else None  # type: ignore[attr-defined]

        parts: dict[str, AppointmentParts] = {}
        for a in appointments:
            profile = body(keys.PROFILE_SK, a)
            vehicle = body(keys.vehicle_sk(a.vehicle_id), a) if a.vehicle_id else None
            address = body(keys.address_sk(a.address_id), a) if a.address_id else None
            parts[a.id] = AppointmentParts(
                CustomerProfile.model_validate(profile, context=STORED).summary()
                if profile is not None
                else None,
                Vehicle.model_validate(vehicle, context=STORED) if vehicle is not None else None,
                CustomerAddress.model_validate(address, context=STORED) if address is not None else None,
            )
        return parts

    # ------------------------------------------------------------------ changes
    def write(self, change: AppointmentChange) -> StoredAppointment:
        """Write ``change`` in one transaction: the appointment (conditional on the version read
        and on its stored status being one of ``allowed_from``), the slots it holds and releases,
        its messages, link tokens, effects and audit entry. Returns the appointment as stored.

        Raises SlotUnavailable when a slot to hold is full or blocked, StaleWrite when the
        appointment changed since it was read (or left those statuses).
        """
        before, after = change.before, change.after
        stored = StoredAppointment.model_validate({**after.model_dump(), "version": before.version + 1})
        released = sorted({s.astimezone(UTC) for s in change.release})
        held = sorted({s.astimezone(UTC) for s in change.hold})
        if set(released) & set(held):
            raise ValueError("a slot is both held and released (an item may appear once per transaction)")
        actions = [AppointmentItem.status.set(stored.status), AppointmentItem.body.set(_body(stored))]
        if (after.start, after.location_id) != (before.start, before.location_id):
            index = index_keys(stored)
            actions += [
                AppointmentItem.gsi1sk.set(index["gsi1sk"]),
                AppointmentItem.gsi2sk.set(index["gsi2sk"]),
                AppointmentItem.gsi3pk.set(index["gsi3pk"]),
                AppointmentItem.gsi3sk.set(index["gsi3sk"]),
            ]

        def build(tx: LabelledTransaction) -> None:
            put_all(tx, change.messages, change.links, change.effects)
            if change.audit is not None:
                audit.add_to(tx, keys.appointment_pk(before.id), change.audit)
            release_slots(tx.tx, before.location_id, released)
            tx.updated(len(released), "release")
            hold_slots(tx.tx, before.location_id, held, change.capacity)
            tx.updated(len(held), "hold")
            tx.update(
                _item(before),
                actions,
                "appointment",
                condition=AppointmentItem.status.is_in(*sorted(change.allowed_from)),
            )
            if change.token_expiry is not None:
                tx.update(
                    LinkTokenItem(keys.token_pk(hash_token(change.token_expiry.raw_token)), keys.TOKEN_SK),
                    [LinkTokenItem.expires_at.set(change.token_expiry.expires_at)],
                    "token",
                    condition=LinkTokenItem.pk.exists(),
                )

        write_transaction(build, _failure)
        return stored


@dataclass(frozen=True)
class AppointmentChange:
    """What one transition writes: ``after`` in place of ``before`` (as read), and with it."""

    before: StoredAppointment
    after: Appointment
    allowed_from: frozenset[str]
    hold: Sequence[datetime] = ()  # UTC slot starts to hold (under ``capacity``)
    release: Sequence[datetime] = ()  # UTC slot starts to release
    capacity: int = 0
    messages: Sequence[OutboundMessage] = ()
    links: Sequence[NewLink] = ()
    effects: Sequence[Effect] = ()
    audit: AuditEntry | None = None
    token_expiry: TokenExpiry | None = None


def link_item(link: NewLink) -> LinkTokenItem:
    return LinkTokenItem(
        keys.token_pk(link.token_hash),
        keys.TOKEN_SK,
        kind=link.kind,
        appointment_id=link.appointment_id,
        expires_at=link.expires_at,
    )


def put_all(
    tx: LabelledTransaction,
    messages: Iterable[OutboundMessage] = (),
    links: Iterable[NewLink] = (),
    effects: Iterable[Effect] = (),
) -> None:
    """Add a change's outbox messages, link tokens and effects to its transaction."""
    for message in messages:
        tx.save(OutboxRepository.new_item(message), OutboxItem.pk.does_not_exist(), "outbox")
    for link in links:
        tx.save(link_item(link), LinkTokenItem.pk.does_not_exist(), "link")
    for effect in effects:
        tx.save(new_effect_item(effect), EffectItem.pk.does_not_exist(), "effect")


def _failure(failed: set[str]) -> Exception:
    """What a cancelled appointment transaction means (``failed``: labels of failed conditions)."""
    if "hold" in failed:
        return SlotUnavailable("That time is no longer free.")
    if not failed:
        return StaleWrite("The appointment is being changed right now; try again.")
    if failed != {"appointment"}:
        logger.error("appointment change refused", extra={"failed": sorted(failed)})
    return StaleWrite("The appointment changed meanwhile; load it again.")


def _item(appointment: StoredAppointment) -> AppointmentItem:
    item = AppointmentItem(keys.appointment_pk(appointment.id), keys.APPOINTMENT_SK)
    # The update adds the condition "version = <as read>" and increments it (0: none stored yet).
    item.version = appointment.version or None
    return item


def _body(appointment: Appointment) -> dict[str, object]:
    body: dict[str, object] = appointment.model_dump(mode="json")
    return body
