"""What the staff customer routes read and write besides the profile itself (which
``repositories.customers`` writes): a customer's whole record, the name search, the proposed-change
queue, and known-source links written with their audit entry.

Keys (no Scan anywhere):
- the whole record: the profile by key; vehicles, addresses and proposed changes by
  ``begins_with`` on the customer's partition; appointments and phone / e-mail lookup items on GSI2
  (GSI2PK=CUSTOMER#<id>, GSI2SK=APPOINTMENT#... / CONTACT#...); the history from the audit items.
- the name search: GSI3PK=CUSTOMERNAME#<first character of the normalized last name>,
  GSI3SK=<normalized last> <normalized first>#<id> on the profile (``customers.name_index``);
  one Query with ``begins_with`` per way of reading the words typed.
- proposed changes: PK=CUSTOMER#<id>, SK=PROPOSED#<created>#<change id>; pending ones on
  GSI3PK=PROPOSED#pending (GSI3SK = the SK), and PROPOSED#accepted / PROPOSED#rejected once
  decided. A change's public id is its key (customer id and SK) as URL-safe base64, so
  accepting or rejecting one is a GetItem and a conditional write, never a search.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import AwareDatetime, ConfigDict
from pynamodb.exceptions import DoesNotExist

from bookbay.domain.audit import AuditEntry
from bookbay.domain.booking import CustomerAddress, CustomerProfile, ProposedChange, Vehicle
from bookbay.domain.source_links import SourceLink
from bookbay.exceptions import Conflict, StaleWrite
from bookbay.modeling import BaseModel
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem
from bookbay.models.customers import (
    AddressItem,
    CustomerItem,
    CustomerLookupItem,
    ProposedChangeItem,
    VehicleItem,
)
from bookbay.models.source_links import SourceLinkItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.repositories import audit
from bookbay.repositories.audit import AuditRepository
from bookbay.repositories.pagination import GSI3_CURSOR_KEYS, decode_cursor, gsi3_key, take
from bookbay.repositories.source_links import SourceLinkRepository
from bookbay.repositories.transactions import LabelledTransaction, write_transaction
from bookbay.types import STORED

RECENT_APPOINTMENTS = 20
HISTORY_ENTRIES = 100
MAX_NAME_READINGS = 4  # ways of reading the words of a name search (as typed, then rotated)
_NAME_CURSOR_KEYS = GSI3_CURSOR_KEYS | {"reading"}
_CUSTOMER_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")
_PROPOSED_SK = re.compile(r"^PROPOSED#[0-9T:.+\-Z]{10,40}#[0-9a-zA-Z_-]{1,64}$")


# ------------------------------------------------------------------------------ what is read
class CustomerAppointment(BaseModel):
    """The fields of an appointment the customer page lists (others in the body are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    status: str
    start: AwareDatetime
    end: AwareDatetime
    location_id: str
    service_id: str
    appointment_type: str
    vehicle_id: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class StoredProposal:
    ref: str  # the public id: the item's key
    change: ProposedChange


@dataclass(frozen=True)
class Contact:
    kind: str  # phone | email
    value: str


@dataclass(frozen=True)
class CustomerRecord:
    profile: CustomerProfile
    version: int
    contacts: list[Contact]
    vehicles: list[Vehicle]
    addresses: list[CustomerAddress]
    appointments: list[CustomerAppointment]
    proposed_changes: list[StoredProposal]
    history: list[AuditEntry]


@dataclass(frozen=True)
class CustomerPage:
    customers: list[CustomerProfile]
    next_cursor: str | None


@dataclass(frozen=True)
class ProposalPage:
    proposals: list[StoredProposal]
    next_cursor: str | None


# ------------------------------------------------------------------------------ proposal ids
def proposal_ref(customer_id: str, sort_key: str) -> str:
    """The public id of the proposed change stored under (CUSTOMER#<customer_id>, ``sort_key``)."""
    raw = f"{customer_id}\n{sort_key}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def proposal_key(ref: str) -> tuple[str, str] | None:
    """(PK, SK) a public proposed-change id names; None when it is not one (never a 5xx)."""
    if not 0 < len(ref) <= 300:
        return None
    try:
        text = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4)).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    customer_id, _, sort_key = text.partition("\n")
    if not _CUSTOMER_ID.match(customer_id) or not _PROPOSED_SK.match(sort_key):
        return None
    return keys.customer_pk(customer_id), sort_key


def _stored_proposal(item: ProposedChangeItem) -> StoredProposal:
    """The change as stored; its status is the item's (what the conditions test)."""
    change = ProposedChange.model_validate({**item.body, "status": item.status})
    return StoredProposal(proposal_ref(change.customer_id, item.sk), change)


# ------------------------------------------------------------------------------ the name search
def name_readings(normalized: str) -> list[str]:
    """The GSI3SK prefixes a normalized name search stands for: the words as typed (``smith`` /
    ``smith john``: last name first) and each rotation (``john smith`` -> ``smith john``; ``ana
    de la cruz`` -> ``de la cruz ana`` ...), at most MAX_NAME_READINGS, without repeats."""
    words = normalized.split()
    readings = [" ".join(words[k:] + words[:k]) for k in range(min(len(words), MAX_NAME_READINGS))]
    return list(dict.fromkeys(reading for reading in readings if reading))


class CustomerAdminRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)
        self._audit = AuditRepository(table_name, region)

    # ------------------------------------------------------------------ one customer
    def record(self, customer_id: str) -> CustomerRecord | None:
        """Everything staff see of a customer; None when there is no such customer."""
        pk = keys.customer_pk(customer_id)
        try:
            item = CustomerItem.get(pk, keys.PROFILE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        profile = CustomerProfile.model_validate(item.body, context=STORED)
        contacts = [
            Contact("email" if lookup.sk == keys.EMAIL_SK else "phone", lookup.pk.partition("#")[2])
            for lookup in BaseItem.gsi2.query(pk, BaseItem.gsi2sk.startswith(keys.CONTACT_PREFIX))
            if isinstance(lookup, CustomerLookupItem) and lookup.customer_id == customer_id
        ]
        for kind, value in (("phone", profile.phone), ("email", profile.email)):
            if value and Contact(kind, value) not in contacts:  # an older lookup item without GSI2 keys
                contacts.append(Contact(kind, value))
        vehicles = [
            Vehicle.model_validate(v.body, context=STORED)
            for v in VehicleItem.query(pk, VehicleItem.sk.startswith(keys.VEHICLE_PREFIX))
        ]
        addresses = [
            CustomerAddress.model_validate(a.body, context=STORED)
            for a in AddressItem.query(pk, AddressItem.sk.startswith(keys.ADDRESS_PREFIX))
        ]
        appointments = [
            CustomerAppointment.model_validate(a.body)
            for a in BaseItem.gsi2.query(
                pk,
                BaseItem.gsi2sk.startswith("APPOINTMENT#"),
                scan_index_forward=False,
                limit=RECENT_APPOINTMENTS,
            )
            if isinstance(a, AppointmentItem)
        ]
        proposals = [
            _stored_proposal(p)
            for p in ProposedChangeItem.query(
                pk,
                ProposedChangeItem.sk.startswith(keys.PROPOSED_PREFIX),
                filter_condition=ProposedChangeItem.status == "pending",
                consistent_read=True,
            )
        ]
        return CustomerRecord(
            profile=profile,
            version=item.version or 0,
            contacts=sorted(contacts, key=lambda c: (c.kind != "phone", c.value != profile.phone, c.value)),
            vehicles=vehicles,
            addresses=addresses,
            appointments=appointments,
            proposed_changes=proposals,
            history=self._audit.history(pk, limit=HISTORY_ENTRIES),
        )

    # ------------------------------------------------------------------ the name search
    def search_names(self, normalized: str, *, limit: int, cursor: str | None) -> CustomerPage:
        """Profiles whose normalized "last first" name starts with a reading of ``normalized``
        (``name_readings``), in name order reading by reading, each profile once. One Query per
        reading, read only as far as the page needs."""
        readings = name_readings(normalized)
        if not readings:
            return CustomerPage([], None)
        partitions = [keys.customer_name_gsi3pk(reading) for reading in readings]
        first, start = 0, None
        if cursor:
            key = decode_cursor(cursor, _NAME_CURSOR_KEYS, lambda k: _name_cursor_ok(k, readings, partitions))
            first = int(key.pop("reading")["S"])
            start = key

        def items() -> Iterator[tuple[int, BaseItem]]:
            for index in range(first, len(readings)):
                query = BaseItem.gsi3.query(
                    partitions[index],
                    BaseItem.gsi3sk.startswith(readings[index]),
                    page_size=limit,
                    last_evaluated_key=start if index == first else None,
                )
                for item in query:
                    yield index, item

        def keep(entry: tuple[int, BaseItem]) -> bool:
            index, item = entry
            if not isinstance(item, CustomerItem):
                return False
            # Already in an earlier reading's results (same partition, its prefix too).
            return not any(
                partitions[j] == item.gsi3pk and (item.gsi3sk or "").startswith(readings[j])
                for j in range(index)
            )

        def key_of(entry: tuple[int, BaseItem]) -> dict[str, str]:
            index, item = entry
            return {**gsi3_key(item), "reading": str(index)}

        page, next_cursor = take(items(), limit, keep, key_of)
        return CustomerPage(
            [
                CustomerProfile.model_validate(item.body, context=STORED)
                for _, item in page
                if isinstance(item, CustomerItem)
            ],
            next_cursor,
        )

    def unindexed_customers(self, location_ids: list[str]) -> tuple[int, list[str]]:
        """For the name-search backfill (ops): how many customers have appointments at these
        locations, and which of them have a profile without name-search keys (written before the
        search existed). One Query of GSI1 per location, BatchGetItem of the profiles; no Scan."""
        customer_ids: set[str] = set()
        for location_id in location_ids:
            for item in BaseItem.gsi1.query(keys.location_pk(location_id)):
                if isinstance(item, AppointmentItem):
                    customer_ids.add(str(item.body["customer_id"]))
        wanted = [(keys.customer_pk(c), keys.PROFILE_SK) for c in sorted(customer_ids)]
        missing = sorted(
            str(item.body["id"])
            for item in CustomerItem.batch_get(wanted, consistent_read=True)
            if not item.gsi3pk
        )
        return len(customer_ids), missing

    # ------------------------------------------------------------------ proposed changes
    def pending_proposals(self, *, limit: int, cursor: str | None) -> ProposalPage:
        """A page of the pending proposed changes, oldest first (one Query on GSI3)."""
        start = decode_cursor(cursor, GSI3_CURSOR_KEYS, _pending_cursor_ok) if cursor else None
        query = BaseItem.gsi3.query(keys.PROPOSED_PENDING_GSI3PK, page_size=limit, last_evaluated_key=start)
        page, next_cursor = take(query, limit, lambda item: isinstance(item, ProposedChangeItem), gsi3_key)
        return ProposalPage(
            [_stored_proposal(item) for item in page if isinstance(item, ProposedChangeItem)], next_cursor
        )

    def proposal(self, ref: str) -> StoredProposal | None:
        """The proposed change a public id names (one consistent GetItem); None if none."""
        key = proposal_key(ref)
        if key is None:
            return None
        try:
            item = ProposedChangeItem.get(*key, consistent_read=True)
        except DoesNotExist:
            return None
        stored = _stored_proposal(item)
        return stored if stored.ref == ref else None

    @staticmethod
    def decide_in(tx: LabelledTransaction, proposal: StoredProposal, status: str) -> None:
        """Add to ``tx`` the proposed change's move from pending to ``status`` (accepted or
        rejected), conditional on it being pending still."""
        key = proposal_key(proposal.ref)
        if key is None:  # a stored proposal's ref always decodes
            raise ValueError("not a proposed change id")
        body = proposal.change.model_copy(update={"status": status}).model_dump(mode="json")
        tx.update(
            ProposedChangeItem(*key),
            [
                ProposedChangeItem.status.set(status),
                ProposedChangeItem.body.set(body),
                ProposedChangeItem.gsi3pk.set(keys.proposed_gsi3pk(status)),
            ],
            "proposed",
            condition=ProposedChangeItem.status == "pending",
        )

    def reject(self, proposal: StoredProposal, entry: AuditEntry) -> None:
        """Close the change as rejected with its audit entry (on the customer), in one transaction;
        StaleWrite when it was decided meanwhile."""

        def build(tx: LabelledTransaction) -> None:
            self.decide_in(tx, proposal, "rejected")
            audit.add_to(tx, keys.customer_pk(proposal.change.customer_id), entry)

        write_transaction(build, lambda _: StaleWrite("The proposed change was decided meanwhile."))


class AuditedSourceLinks(SourceLinkRepository):
    """Known-source links that staff create: the link and the customer's audit entry of it in one
    transaction (``services.source_links.create_source_link`` stores through ``create``)."""

    def __init__(
        self, table_name: str, region: str, entry: Callable[[SourceLink], AuditEntry] | None = None
    ) -> None:
        super().__init__(table_name, region)
        self._entry = entry

    def auditing(self, entry: Callable[[SourceLink], AuditEntry]) -> AuditedSourceLinks:
        """The same store, recording ``entry(link)`` with each link it creates."""
        links = copy.copy(self)
        links._entry = entry
        return links

    def create(self, link: SourceLink) -> None:
        if self._entry is None:
            raise RuntimeError("AuditedSourceLinks.create needs an audit entry: use auditing()")
        item = SourceLinkItem(
            keys.source_pk(link.token_hash),
            keys.SOURCE_SK,
            customer_id=link.customer_id,
            vehicle_id=link.vehicle_id,
            campaign=link.campaign,
            created_at=link.created_at,
            failures=link.failures,
            expires_at=link.expires_at,
        )
        entry = self._entry(link)

        def build(tx: LabelledTransaction) -> None:
            tx.save(item, SourceLinkItem.pk.does_not_exist(), "link")
            audit.add_to(tx, keys.customer_pk(link.customer_id), entry)

        write_transaction(build, lambda _: Conflict("A link with this token exists already; create another."))


# ------------------------------------------------------------------------------ cursors
def _name_cursor_ok(key: dict[str, str], readings: list[str], partitions: list[str]) -> bool:
    reading = key["reading"]
    if not reading.isdigit() or int(reading) >= len(readings):
        return False
    index = int(reading)
    customer_id = key["PK"].removeprefix(keys.customer_pk(""))
    return (
        key["PK"] == keys.customer_pk(customer_id)
        and _CUSTOMER_ID.match(customer_id) is not None
        and key["SK"] == keys.PROFILE_SK
        and key["GSI3PK"] == partitions[index]
        and key["GSI3SK"].startswith(readings[index])
        and key["GSI3SK"].endswith(f"#{customer_id}")
    )


def _pending_cursor_ok(key: dict[str, str]) -> bool:
    customer_id = key["PK"].removeprefix(keys.customer_pk(""))
    return (
        key["GSI3PK"] == keys.PROPOSED_PENDING_GSI3PK
        and key["PK"] == keys.customer_pk(customer_id)
        and _CUSTOMER_ID.match(customer_id) is not None
        and _PROPOSED_SK.match(key["SK"]) is not None
        and key["GSI3SK"] == key["SK"]
    )
