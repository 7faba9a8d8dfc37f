"""Customer records as staff and ops change them: the profile (CUSTOMER#<id> / PROFILE) and its
phone / e-mail lookup items (PHONE#<e164> / EMAIL#<email>, each carrying a CustomerSummary).

The booking reads a customer from a lookup item in one read, so what it must know (the Do Not
Service flag) is kept on every lookup item too, and changed with the profile in one transaction.
A customer's lookup items are found on GSI2 (GSI2PK=CUSTOMER#<id>, GSI2SK=CONTACT#...), plus the
ones the profile's own phone and e-mail name (older items were written without GSI2 keys; this
write gives them theirs).
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from bookbay.domain.booking import CustomerProfile, CustomerSummary, Vehicle
from bookbay.exceptions import NotFound, StaleWrite
from bookbay.models import keys
from bookbay.models.customers import CustomerItem, CustomerLookupItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.repositories.appointments import customer_parts
from bookbay.repositories.transactions import LabelledTransaction, write_transaction


@dataclass(frozen=True)
class DoNotServiceSet:
    profile: CustomerProfile
    lookups_updated: int  # phone / e-mail lookup items that now carry the flag


class CustomersRepository:
    def __init__(self, table_name: str, region: str) -> None:
        bind_table(table_name, region)

    # ------------------------------------------------------------------ reads
    def profile(self, customer_id: str) -> CustomerProfile | None:
        item = self._profile_item(customer_id)
        return None if item is None else CustomerProfile.model_validate(item.body)

    def vehicle(self, customer_id: str, vehicle_id: str) -> Vehicle | None:
        """The customer's saved vehicle ``vehicle_id`` (None: the customer has no such vehicle)."""
        return customer_parts(customer_id, vehicle_id, None)[0]

    def find_by_contact(self, destination: str) -> CustomerSummary | None:
        """Whose a normalized phone (E.164) or e-mail is (one consistent GetItem)."""
        try:
            item = CustomerLookupItem.get(*keys.contact_key(destination), consistent_read=True)
        except DoesNotExist:
            return None
        return CustomerSummary.model_validate(item.summary)

    def contact_lookups(self, customer_id: str, profile: CustomerProfile) -> list[CustomerLookupItem]:
        """The customer's phone / e-mail lookup items: those GSI2 lists and those the profile names,
        read consistently by key (the index only says which there are; it may lag a write)."""
        wanted = {keys.contact_key(value) for value in (profile.phone, profile.email) if value}
        gsi2pk = keys.customer_pk(customer_id)
        for item in BaseItem.gsi2.query(gsi2pk, BaseItem.gsi2sk.startswith(keys.CONTACT_PREFIX)):
            if isinstance(item, CustomerLookupItem):
                wanted.add((item.pk, item.sk))
        if not wanted:
            return []
        found = CustomerLookupItem.batch_get(sorted(wanted), consistent_read=True)
        return sorted(
            (item for item in found if item.customer_id == customer_id), key=lambda item: (item.pk, item.sk)
        )

    # ------------------------------------------------------------------ Do Not Service
    def set_do_not_service(self, customer_id: str, flag: bool) -> DoNotServiceSet:
        """Set the flag on the profile and on every lookup item of the customer, in one transaction.

        NotFound when there is no such customer; StaleWrite when the profile or a lookup item
        changed between the read and the write (read again and retry).
        """
        profile_item = self._profile_item(customer_id)
        if profile_item is None:
            raise NotFound("No customer with this id.")
        profile = CustomerProfile.model_validate(profile_item.body).model_copy(
            update={"do_not_service": flag}
        )
        lookups = self.contact_lookups(customer_id, profile)

        def build(tx: LabelledTransaction) -> None:
            profile_item.body = profile.model_dump(mode="json")
            # The VersionAttribute makes the put conditional on the version read.
            tx.save(profile_item, None, "profile")
            for item in lookups:
                summary = CustomerSummary.model_validate(item.summary).model_copy(
                    update={"do_not_service": flag}
                )
                gsi2pk, gsi2sk = keys.customer_contact_gsi2(customer_id, item.pk)
                tx.update(
                    CustomerLookupItem(item.pk, item.sk),
                    [
                        CustomerLookupItem.summary.set(summary.model_dump(mode="json")),
                        CustomerLookupItem.gsi2pk.set(gsi2pk),
                        CustomerLookupItem.gsi2sk.set(gsi2sk),
                    ],
                    "lookup",
                    condition=CustomerLookupItem.customer_id == customer_id,
                )

        write_transaction(build, self._stale)
        return DoNotServiceSet(profile=profile, lookups_updated=len(lookups))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _profile_item(customer_id: str) -> CustomerItem | None:
        try:
            return CustomerItem.get(keys.customer_pk(customer_id), keys.PROFILE_SK, consistent_read=True)
        except DoesNotExist:
            return None

    @staticmethod
    def _stale(_: set[str]) -> Exception:
        return StaleWrite("The customer changed while it was being updated; try again.")
