"""Customer records as staff and ops change them: the profile (CUSTOMER#<id> / PROFILE) and its
phone / e-mail lookup items (PHONE#<e164> / EMAIL#<email>, each carrying a CustomerSummary).

The booking reads a customer from a lookup item in one read, so what it must know (names, contact,
the Do Not Service flag, the preferred channel) is kept on every lookup item too, and every change
of the profile rewrites the profile and every lookup item's summary in ONE transaction
(``write_profile``). A customer's lookup items are found on GSI2 (GSI2PK=CUSTOMER#<id>,
GSI2SK=CONTACT#...), plus the ones the profile's own phone and e-mail name (older items were
written without GSI2 keys; the next write gives them theirs).

Every profile write also keeps the profile's place in the name search (GSI3, ``name_index``), so
profiles written before the search existed get theirs on their next change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from bookbay.domain.audit import Actor, AuditEntry, diff
from bookbay.domain.booking import CustomerProfile, CustomerSummary, Vehicle
from bookbay.domain.flags import normalize_name
from bookbay.exceptions import ContactInUse, NotFound, StaleWrite
from bookbay.models import keys
from bookbay.models.customers import CustomerItem, CustomerLookupItem
from bookbay.models.table import BaseItem, bind_table
from bookbay.repositories import audit
from bookbay.repositories.appointments import customer_parts
from bookbay.repositories.transactions import LabelledTransaction, write_transaction
from bookbay.types import STORED

Edit = Callable[[CustomerProfile], CustomerProfile]
AuditFor = Callable[[CustomerProfile, CustomerProfile], AuditEntry | None]
Also = Callable[[LabelledTransaction], None]
STALE = "The customer changed while it was being updated; try again."
# Who changes a customer from ops/customers.py (no staff sign-in there).
OPS = Actor(kind="system", sub="ops")
# The profile fields staff change (and the audit trail records).
EDITABLE_FIELDS = frozenset(
    {"first_name", "last_name", "phone", "email", "do_not_service", "preferred_channel"}
)


def profile_audit(actor: Actor, action: str, now: datetime, note: str | None = None) -> AuditFor:
    """The audit entry of a profile write: who, when, and each edited field before / after (the
    real values: the audit trail is shop data, never logged). None (no entry) when nothing changed
    and there is no ``note`` to keep."""

    def entry(before: CustomerProfile, after: CustomerProfile) -> AuditEntry | None:
        changes = diff(
            before.model_dump(mode="json", include=set(EDITABLE_FIELDS)),
            after.model_dump(mode="json", include=set(EDITABLE_FIELDS)),
        )
        if not changes and note is None:
            return None
        return audit.entry(actor, action, now, changes, note)

    return entry


def name_index(profile: CustomerProfile) -> tuple[str, str]:
    """(GSI3PK, GSI3SK) of a profile in the name search: normalized last name, then first name
    (accents, case and punctuation as the flag matching normalizes them)."""
    return keys.customer_name_gsi3(
        profile.id, normalize_name(profile.last_name), normalize_name(profile.first_name)
    )


@dataclass(frozen=True)
class ProfileWritten:
    before: CustomerProfile
    profile: CustomerProfile  # as stored now
    version: int  # the profile item's version now
    lookups_updated: int  # phone / e-mail lookup items that now carry the new summary
    written: bool  # False: nothing changed, nothing was written


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
        return None if item is None else CustomerProfile.model_validate(item.body, context=STORED)

    def profile_and_version(self, customer_id: str) -> tuple[CustomerProfile, int] | None:
        """The profile and its item's version (what an optimistic write is conditional on)."""
        item = self._profile_item(customer_id)
        return (
            None
            if item is None
            else (CustomerProfile.model_validate(item.body, context=STORED), item.version or 0)
        )

    def vehicle(self, customer_id: str, vehicle_id: str) -> Vehicle | None:
        """The customer's saved vehicle ``vehicle_id`` (None: the customer has no such vehicle)."""
        return customer_parts(customer_id, vehicle_id, None)[0]

    def find_by_contact(self, destination: str) -> CustomerSummary | None:
        """Whose a normalized phone (E.164) or e-mail is (one consistent GetItem)."""
        try:
            item = CustomerLookupItem.get(*keys.contact_key(destination), consistent_read=True)
        except DoesNotExist:
            return None
        return CustomerSummary.model_validate(item.summary, context=STORED)

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

    # ------------------------------------------------------------------ changes
    def write_profile(
        self,
        customer_id: str,
        edit: Edit,
        *,
        expected_version: int | None = None,
        audit_for: AuditFor | None = None,
        also: Also | None = None,
        write_unchanged: bool = False,
    ) -> ProfileWritten:
        """Apply ``edit`` to the profile and write, in ONE transaction: the profile (conditional on
        the version read, with its name-search keys), every phone / e-mail lookup item of the
        customer with the new summary, for a changed phone or e-mail the new value's lookup item
        (conditional: nobody else's) and the deletion of the old value's, the audit entry
        ``audit_for(before, after)`` gives, and whatever ``also`` adds.

        Raises NotFound (no such customer), StaleWrite (the version is not ``expected_version``,
        or a condition failed: the profile, a lookup item or an ``also`` item changed between the
        read and the write), ContactInUse (the new phone / e-mail is another customer's), and
        whatever ``edit`` raises. Nothing changed and nothing to add (no ``also``, not
        ``write_unchanged``): nothing is written.

        Which condition failed is found out by reading again, not from the cancellation reasons:
        the transaction has deletes, which DynamoDB gets before the puts and updates, and
        LabelledTransaction labels only checks, puts and updates.
        """
        profile_item = self._profile_item(customer_id)
        if profile_item is None:
            raise NotFound("No customer with this id.")
        version = profile_item.version or 0
        if expected_version is not None and expected_version != version:
            raise StaleWrite(
                "The customer was changed by someone else since you read it; load it again.",
                extra={"version": version},
            )
        before = CustomerProfile.model_validate(profile_item.body, context=STORED)
        after = edit(before)
        if after == before and also is None and not write_unchanged:
            return ProfileWritten(before, before, version, 0, written=False)

        lookups = self.contact_lookups(customer_id, before)
        owned = {(item.pk, item.sk) for item in lookups}
        removed: set[tuple[str, str]] = set()
        added: dict[tuple[str, str], str] = {}  # new lookup key -> which contact (phone | email)
        for kind, old, new in (("phone", before.phone, after.phone), ("email", before.email, after.email)):
            if old == new:
                continue
            if old:
                removed.add(keys.contact_key(old))
            if new and keys.contact_key(new) not in owned:
                added[keys.contact_key(new)] = kind
        kept = [item for item in lookups if (item.pk, item.sk) not in removed]
        summary = after.summary().model_dump(mode="json")
        entry = audit_for(before, after) if audit_for is not None else None
        gsi3pk, gsi3sk = name_index(after)

        def build(tx: LabelledTransaction) -> None:
            profile_item.body = after.model_dump(mode="json")
            profile_item.gsi3pk, profile_item.gsi3sk = gsi3pk, gsi3sk
            # The VersionAttribute makes the put conditional on the version read.
            tx.save(profile_item, None, "profile")
            if entry is not None:
                audit.add_to(tx, keys.customer_pk(customer_id), entry)
            for pk, sk in added:
                gsi2pk, gsi2sk = keys.customer_contact_gsi2(customer_id, pk)
                tx.save(
                    CustomerLookupItem(
                        pk, sk, customer_id=customer_id, summary=summary, gsi2pk=gsi2pk, gsi2sk=gsi2sk
                    ),
                    CustomerLookupItem.pk.does_not_exist() | (CustomerLookupItem.customer_id == customer_id),
                    "lookup",
                )
            for item in kept:
                gsi2pk, gsi2sk = keys.customer_contact_gsi2(customer_id, item.pk)
                tx.update(
                    CustomerLookupItem(item.pk, item.sk),
                    [
                        CustomerLookupItem.summary.set(summary),
                        CustomerLookupItem.gsi2pk.set(gsi2pk),
                        CustomerLookupItem.gsi2sk.set(gsi2sk),
                    ],
                    "lookup",
                    condition=CustomerLookupItem.customer_id == customer_id,
                )
            if also is not None:
                also(tx)
            for pk, sk in sorted(removed & owned):
                tx.tx.delete(
                    CustomerLookupItem(pk, sk), condition=CustomerLookupItem.customer_id == customer_id
                )
                tx.updated(1, "lookup")

        try:
            write_transaction(build, lambda _: StaleWrite(STALE))
        except StaleWrite:
            self._refuse_taken_contacts(customer_id, added)
            raise
        return ProfileWritten(
            before, after, profile_item.version or version + 1, len(kept) + len(added), written=True
        )

    def set_do_not_service(self, customer_id: str, flag: bool, *, actor: Actor = OPS) -> DoNotServiceSet:
        """Set the flag on the profile and on every lookup item of the customer, in one transaction
        (also when it is set already: the lookups then get their summary and GSI2 keys anew), with
        an audit entry of ``actor``'s change (none when the flag was set already).

        NotFound when there is no such customer; StaleWrite when the profile or a lookup item
        changed between the read and the write (read again and retry).
        """
        written = self.write_profile(
            customer_id,
            lambda profile: profile.model_copy(update={"do_not_service": flag}),
            audit_for=profile_audit(actor, "customer.edit", datetime.now(UTC)),
            write_unchanged=True,
        )
        return DoNotServiceSet(profile=written.profile, lookups_updated=written.lookups_updated)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _profile_item(customer_id: str) -> CustomerItem | None:
        try:
            return CustomerItem.get(keys.customer_pk(customer_id), keys.PROFILE_SK, consistent_read=True)
        except DoesNotExist:
            return None

    @staticmethod
    def _refuse_taken_contacts(customer_id: str, added: dict[tuple[str, str], str]) -> None:
        """ContactInUse when a phone / e-mail the failed write was to add is another customer's
        (one consistent read of those lookup items); else nothing (the failure was another one)."""
        if not added:
            return
        for item in CustomerLookupItem.batch_get(sorted(added), consistent_read=True):
            if item.customer_id != customer_id:
                kind = added[(item.pk, item.sk)]
                what = "phone number" if kind == "phone" else "e-mail address"
                raise ContactInUse(
                    f"That {what} belongs to another customer.",
                    details=[{"field": f"body.{kind}", "message": f"this {what} is another customer's"}],
                )
