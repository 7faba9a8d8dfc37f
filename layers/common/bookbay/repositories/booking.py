"""Booking storage: recognizing the customer (one BatchGetItem) and writing a booking (one transaction).

Everything a booking writes goes into one TransactWriteItems: the slot holds (conditional ``ADD``,
so a slot of capacity k is taken exactly k times), the appointment, a new customer's profile and
its phone / e-mail lookup items (conditional: one customer per phone and per e-mail), proposed
changes, the vehicle and the address (written only if absent: what is on file is never
overwritten), the outbox messages and the link tokens. Either all of it is stored or nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC
from typing import Literal

from pynamodb.exceptions import DoesNotExist

from bookbay.domain.audit import AuditEntry
from bookbay.domain.booking import (
    Appointment,
    CustomerAddress,
    CustomerProfile,
    CustomerSummary,
    ProposedChange,
    Vehicle,
)
from bookbay.domain.effects import Effect, NewLink
from bookbay.domain.flags import FlagHits, FlagKey
from bookbay.domain.messages import OutboundMessage
from bookbay.exceptions import Conflict, CustomerChanged, FlagCheckIncomplete, SlotUnavailable
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem, LinkTokenItem
from bookbay.models.customers import (
    AddressItem,
    AddressKeyItem,
    CustomerItem,
    CustomerLookupItem,
    ProposedChangeItem,
    VehicleItem,
)
from bookbay.models.effects import EffectItem
from bookbay.models.outbox import OutboxItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.repositories import audit
from bookbay.repositories.appointments import customer_parts, link_item, new_appointment_item
from bookbay.repositories.customers import name_index
from bookbay.repositories.effects import new_item as new_effect_item
from bookbay.repositories.flags import add_flag_checks, hits_from, hits_returned, value_key
from bookbay.repositories.outbox import OutboxRepository
from bookbay.repositories.slots import hold_slots
from bookbay.repositories.transactions import LabelledTransaction, ReturnedItem, write_transaction
from bookbay.types import STORED

LookupKind = Literal["phone", "email"]


@dataclass(frozen=True)
class AddressOwner:
    """Which customer (and which of their address records) a location on file belongs to."""

    customer_id: str
    address_id: str


@dataclass(frozen=True)
class CustomerLookup:
    """What one read found: who the typed phone and e-mail belong to (each may be nobody, or two
    different customers), the owner of a verified phone / e-mail, a verified customer's profile,
    and the owner of a typed at-home address."""

    by_phone: CustomerSummary | None = None
    by_email: CustomerSummary | None = None
    by_verified: CustomerSummary | None = None
    profile: CustomerProfile | None = None
    address_owner: AddressOwner | None = None
    vehicle: Vehicle | None = None  # the verified customer's saved vehicle, when asked for
    address: CustomerAddress | None = None  # ... and saved address
    flags: FlagHits = field(default_factory=FlagHits)  # the flags of the values asked about

    @property
    def customer(self) -> CustomerSummary | None:
        """The phone's owner wins, then the e-mail's."""
        return self.by_phone or self.by_email


@dataclass(frozen=True)
class BookingPlan:
    """Everything one booking writes, decided by the booking service."""

    appointment: Appointment
    capacity_per_slot: int
    customer: CustomerSummary  # whose appointment it is (new: new_profile's summary)
    new_profile: CustomerProfile | None = None
    # Lookup items to add for ``customer`` with the booker's phone / e-mail (appointment.contact).
    new_lookups: tuple[LookupKind, ...] = ()
    proposed_changes: tuple[ProposedChange, ...] = ()
    vehicle: Vehicle | None = None  # written only if the customer has no such vehicle yet
    address: CustomerAddress | None = None  # likewise, with its ADDRESSKEY item
    messages: tuple[OutboundMessage, ...] = ()
    links: tuple[NewLink, ...] = ()
    effects: tuple[Effect, ...] = ()  # what the booking's lifecycle row causes (its reminder)
    # Flag values the lookup did not read (details on file): checked to be unflagged on writing.
    flag_checks: tuple[FlagKey, ...] = ()
    audit: AuditEntry | None = None  # a staff booking: who entered it


class BookingRepository:
    def __init__(
        self,
        table_name: str,
        region: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        bind_table(table_name, region)
        self._sleep = sleep

    # ------------------------------------------------------------------ reads
    def lookup(
        self,
        phone: str | None,
        email: str | None,
        *,
        verified: str | None = None,
        customer_id: str | None = None,
        address_canonical: str | None = None,
        parts: tuple[str | None, str | None] = (None, None),
        flags: Collection[FlagKey] = (),
    ) -> CustomerLookup:
        """In one (strongly consistent) BatchGetItem: the owners of the typed phone and e-mail, of
        the ``verified`` phone / e-mail, the profile of ``customer_id`` with its saved vehicle and
        address named by ``parts`` (vehicle id, address id), the owner of the address whose
        canonical form is ``address_canonical``, and the flags holding the ``flags`` values (at
        most one key per value: no scan). Absent ones are None."""
        phone_key = (keys.phone_pk(phone), keys.PHONE_SK) if phone else None
        email_key = (keys.email_pk(email), keys.EMAIL_SK) if email else None
        verified_key = keys.contact_key(verified) if verified else None
        profile_key = (keys.customer_pk(customer_id), keys.PROFILE_SK) if customer_id else None
        address_key = (
            (keys.address_key_pk(address_canonical), keys.ADDRESSKEY_SK) if address_canonical else None
        )
        vehicle_id, address_id = parts if customer_id else (None, None)
        vehicle_key = (
            (keys.customer_pk(customer_id), keys.vehicle_sk(vehicle_id))
            if customer_id and vehicle_id
            else None
        )
        saved_address_key = (
            (keys.customer_pk(customer_id), keys.address_sk(address_id))
            if customer_id and address_id
            else None
        )
        wanted = [
            k
            for k in (
                phone_key,
                email_key,
                verified_key,
                profile_key,
                address_key,
                vehicle_key,
                saved_address_key,
            )
            if k is not None
        ] + [value_key(key) for key in flags]
        if not wanted:
            return CustomerLookup()
        found: dict[tuple[str, str], BaseItem] = {
            (item.pk, item.sk): item
            for item in BaseItem.batch_get(list(dict.fromkeys(wanted)), consistent_read=True)
        }

        def summary(key: tuple[str, str] | None) -> CustomerSummary | None:
            item = found.get(key) if key else None
            return (
                CustomerSummary.model_validate(item.summary, context=STORED)
                if isinstance(item, CustomerLookupItem)
                else None
            )

        profile = found.get(profile_key) if profile_key else None
        owner = found.get(address_key) if address_key else None
        vehicle = found.get(vehicle_key) if vehicle_key else None
        saved = found.get(saved_address_key) if saved_address_key else None
        return CustomerLookup(
            by_phone=summary(phone_key),
            by_email=summary(email_key),
            by_verified=summary(verified_key),
            profile=CustomerProfile.model_validate(profile.body, context=STORED)
            if isinstance(profile, CustomerItem)
            else None,
            address_owner=AddressOwner(owner.customer_id, owner.address_id)
            if isinstance(owner, AddressKeyItem)
            else None,
            vehicle=Vehicle.model_validate(vehicle.body, context=STORED)
            if isinstance(vehicle, VehicleItem)
            else None,
            address=CustomerAddress.model_validate(saved.body, context=STORED)
            if isinstance(saved, AddressItem)
            else None,
            flags=hits_from(flags, found),
        )

    def find_customer(self, phone: str, email: str) -> CustomerSummary | None:
        """The customer a phone (first) or an e-mail belongs to, in one BatchGetItem."""
        return self.lookup(phone, email).customer

    def customer_summary(self, customer_id: str) -> CustomerSummary | None:
        """A customer's summary from their profile (one GetItem); None when there is no such customer."""
        try:
            item = CustomerItem.get(keys.customer_pk(customer_id), keys.PROFILE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return CustomerProfile.model_validate(item.body, context=STORED).summary()

    def customer_parts(
        self, customer_id: str, vehicle_id: str | None, address_id: str | None
    ) -> tuple[Vehicle | None, CustomerAddress | None]:
        """A saved vehicle and / or address of the customer (one BatchGetItem); None where absent."""
        return customer_parts(customer_id, vehicle_id, address_id)

    # ------------------------------------------------------------------ the booking
    def create(self, plan: BookingPlan) -> None:
        """Write the booking in one transaction.

        Raises SlotUnavailable when a slot is full or blocked, CustomerChanged when a concurrent
        booking created the phone's or e-mail's customer first (re-run the booking: it will find
        them), FlagCheckIncomplete (with the flags found) when a detail on file is flagged (plan
        again with them), Conflict when the transaction keeps colliding with others.
        """
        returned: list[ReturnedItem] = []
        try:
            write_transaction(
                lambda tx: self._add_items(tx, plan), self._failure, sleep=self._sleep, returned=returned
            )
        except FlagCheckIncomplete as flagged:
            hits = hits_returned(plan.flag_checks, returned)
            raise FlagCheckIncomplete(flagged.message, hits if hits.entries else None) from flagged

    @staticmethod
    def _add_items(tx: LabelledTransaction, plan: BookingPlan) -> None:
        appointment = plan.appointment
        customer_id = plan.customer.customer_id
        customer_pk = keys.customer_pk(customer_id)

        add_flag_checks(tx, plan.flag_checks)
        hold_slots(tx.tx, appointment.location_id, appointment.slot_starts, plan.capacity_per_slot)
        tx.updated(len(appointment.slot_starts), "slot")

        tx.save(
            new_appointment_item(appointment),
            AppointmentItem.pk.does_not_exist(),
            "appointment",
        )
        if plan.audit is not None:
            audit.add_to(tx, keys.appointment_pk(appointment.id), plan.audit)

        if plan.new_profile is not None:
            name_pk, name_sk = name_index(plan.new_profile)  # its place in the staff's name search
            tx.save(
                CustomerItem(
                    customer_pk,
                    keys.PROFILE_SK,
                    body=plan.new_profile.model_dump(mode="json"),
                    gsi3pk=name_pk,
                    gsi3sk=name_sk,
                ),
                CustomerItem.pk.does_not_exist(),
                "profile",
            )
        summary = plan.customer.model_dump(mode="json")
        for kind in dict.fromkeys(plan.new_lookups):
            pk, sk = (
                (keys.phone_pk(appointment.contact.phone), keys.PHONE_SK)
                if kind == "phone"
                else (keys.email_pk(appointment.contact.email), keys.EMAIL_SK)
            )
            gsi2pk, gsi2sk = keys.customer_contact_gsi2(customer_id, pk)
            tx.save(
                CustomerLookupItem(
                    pk, sk, customer_id=customer_id, summary=summary, gsi2pk=gsi2pk, gsi2sk=gsi2sk
                ),
                CustomerLookupItem.pk.does_not_exist(),
                "lookup",
            )

        for change in plan.proposed_changes:
            created = change.created_at.astimezone(UTC).isoformat()
            sort_key = keys.proposed_sk(created, change.id)
            tx.save(
                ProposedChangeItem(
                    customer_pk,
                    sort_key,
                    body=change.model_dump(mode="json"),
                    status=change.status,
                    gsi3pk=keys.PROPOSED_PENDING_GSI3PK,
                    gsi3sk=sort_key,
                ),
                ProposedChangeItem.pk.does_not_exist(),
                "other",
            )

        if plan.vehicle is not None:
            vehicle_body = plan.vehicle.model_dump(mode="json")
            tx.update(
                VehicleItem(customer_pk, keys.vehicle_sk(plan.vehicle.id)),
                [VehicleItem.entity.set(VehicleItem), VehicleItem.body.set(VehicleItem.body | vehicle_body)],
                "other",
            )
        if plan.address is not None:
            address_body = plan.address.model_dump(mode="json")
            tx.update(
                AddressItem(customer_pk, keys.address_sk(plan.address.id)),
                [AddressItem.entity.set(AddressItem), AddressItem.body.set(AddressItem.body | address_body)],
                "other",
            )
            # Which customer a location belongs to: the first one to book there keeps it.
            tx.update(
                AddressKeyItem(keys.address_key_pk(plan.address.canonical), keys.ADDRESSKEY_SK),
                [
                    AddressKeyItem.entity.set(AddressKeyItem),
                    AddressKeyItem.customer_id.set(AddressKeyItem.customer_id | customer_id),
                    AddressKeyItem.address_id.set(AddressKeyItem.address_id | plan.address.id),
                ],
                "other",
            )

        for message in plan.messages:
            tx.save(OutboxRepository.new_item(message), OutboxItem.pk.does_not_exist(), "other")
        for link in plan.links:
            tx.save(link_item(link), LinkTokenItem.pk.does_not_exist(), "other")
        for effect in plan.effects:
            tx.save(new_effect_item(effect), EffectItem.pk.does_not_exist(), "other")

    @staticmethod
    def _failure(failed: set[str]) -> Exception:
        """What a cancelled booking transaction means (``failed``: labels of failed conditions)."""
        if "slot" in failed:
            return SlotUnavailable("That time is no longer available.")
        if "flag" in failed:
            return FlagCheckIncomplete("A detail on file is flagged; the booking reads its flags again.")
        if failed & {"profile", "lookup"}:
            return CustomerChanged("Your details were saved by another booking at the same moment.")
        return Conflict("The booking collided with another change; try again.")
