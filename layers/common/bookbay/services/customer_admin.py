"""Staff use cases on customers: search, read, edit, known-source links, proposed changes.

Every change goes through ``CustomersRepository.write_profile``: the profile and every phone /
e-mail lookup item (which the booking reads) change in one transaction with the audit entry, so
accepting a proposed change is exactly a staff edit of that field (plus closing the change).
Nothing here logs a name, phone number or e-mail address: ids and field names only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from bookbay.domain.audit import Actor, AuditEntry
from bookbay.domain.booking import CustomerProfile, CustomerSummary, PreferredChannel
from bookbay.domain.flags import normalize_name
from bookbay.exceptions import InvalidCursor, InvalidTransition, NotFound, StaleWrite, ValidationFailed
from bookbay.observability import logger
from bookbay.repositories import audit
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.customer_admin import (
    AuditedSourceLinks,
    CustomerAdminRepository,
    CustomerRecord,
    ProposalPage,
    StoredProposal,
)
from bookbay.repositories.customers import CustomersRepository, ProfileWritten, profile_audit
from bookbay.services.customers import retrying
from bookbay.types import normalize_email, normalize_phone

if TYPE_CHECKING:  # known-source links load on their one route, not with every staff request
    from bookbay.services.source_links import SourceLinkCreated

MatchedBy = Literal["phone", "email", "name"]
# A search text of phone characters only (digits, spaces, + - . ( )) is a phone number.
_PHONE_LIKE = re.compile(r"^[\d\s()+.\-]+$")


@dataclass(frozen=True)
class CustomerAdminDeps:
    """What the staff customer routes read and write: profiles and their lookups, the staff view
    (search, records, proposed changes), known-source links, and the catalog (the shop's settings
    for a link's base URL)."""

    customers: CustomersRepository
    admin: CustomerAdminRepository
    links: AuditedSourceLinks
    catalog: CatalogRepository
    public_base_url: str  # PublicBaseUrl (BaseConfig.public_base_url)


@dataclass(frozen=True)
class CustomerEdit:
    """What staff change (None: unchanged). Names trimmed, phone E.164, e-mail normalized."""

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    do_not_service: bool | None = None
    preferred_channel: PreferredChannel | None = None

    def changes(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class SearchResult:
    customers: list[CustomerSummary]
    next_cursor: str | None
    matched_by: MatchedBy


# ------------------------------------------------------------------------------ search and read
def search(
    repo: CustomerAdminRepository, customers: CustomersRepository, q: str, *, limit: int, cursor: str | None
) -> SearchResult:
    """Customers by ``q``: a phone number (any usual format) or an e-mail address finds its owner
    by key; anything else is a name: the start of the last name (``smi``), or last and first name
    in either order (``smith john``, ``john smith``, ``Smith, J``), whatever the case and accents.

    ValidationFailed (422) for a phone number or e-mail that is not one, or text with no letters
    or digits; InvalidCursor (400) for a cursor that is not the previous page's.
    """
    text = " ".join(q.split())
    if "@" in text or _PHONE_LIKE.match(text):
        kind: MatchedBy = "email" if "@" in text else "phone"
        try:
            destination = normalize_email(text) if kind == "email" else normalize_phone(text)
        except ValueError as exc:
            what = "an e-mail address" if kind == "email" else "a whole phone number"
            raise ValidationFailed(
                f"Search by {what}, or by name.",
                details=[{"field": "query.q", "message": f"not {what}"}],
            ) from exc
        if cursor:
            raise InvalidCursor("A search by phone or e-mail has one page; leave out the cursor.")
        found = customers.find_by_contact(destination)
        return SearchResult([found] if found else [], None, kind)
    normalized = normalize_name(text)
    if not normalized:
        raise ValidationFailed(
            "Search by name, phone number or e-mail address.",
            details=[{"field": "query.q", "message": "give letters or digits"}],
        )
    page = repo.search_names(normalized, limit=limit, cursor=cursor)
    return SearchResult([profile.summary() for profile in page.customers], page.next_cursor, "name")


def read(repo: CustomerAdminRepository, customer_id: str) -> CustomerRecord:
    record = repo.record(customer_id)
    if record is None:
        raise NotFound("No customer with this id.")
    return record


# ------------------------------------------------------------------------------ edit
def _edited(profile: CustomerProfile, edit: CustomerEdit) -> CustomerProfile:
    after = profile.model_copy(update=edit.changes())
    if after.preferred_channel == "sms" and not after.phone:
        raise ValidationFailed(
            "The customer has no phone number to text.",
            details=[{"field": "body.preferred_channel", "message": "sms needs a phone number on file"}],
        )
    if after.preferred_channel == "email" and not after.email:
        raise ValidationFailed(
            "The customer has no e-mail address.",
            details=[{"field": "body.preferred_channel", "message": "email needs an e-mail address on file"}],
        )
    return after


def edit_customer(
    customers: CustomersRepository,
    customer_id: str,
    edit: CustomerEdit,
    *,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> ProfileWritten:
    """Change the profile, every lookup item's summary and, for a new phone / e-mail, the lookup
    items (the new one added, the old one removed), with the audit entry, in one transaction.

    With ``version`` (from the read): StaleWrite (409) when the customer changed since. Without:
    a collision with another write is tried again from a fresh read. ContactInUse (409) when the
    new phone / e-mail is another customer's; ValidationFailed (422) for a preferred channel the
    customer has no contact for; NotFound for an unknown customer.
    """
    if not edit.changes():
        raise ValidationFailed(
            "Nothing to change.", details=[{"field": "body", "message": "give at least one field to change"}]
        )

    def write() -> ProfileWritten:
        return customers.write_profile(
            customer_id,
            lambda profile: _edited(profile, edit),
            expected_version=version,
            audit_for=profile_audit(actor, "customer.edit", now),
        )

    written = write() if version is not None else retrying(write)
    logger.info(
        "customer edited",
        extra={"customer_id": customer_id, "fields": sorted(edit.changes()), "written": written.written},
    )
    return written


# ------------------------------------------------------------------------------ known-source links
def create_link(
    deps: CustomerAdminDeps,
    *,
    customer_id: str,
    vehicle_id: str | None,
    campaign: str | None,
    actor: Actor,
    now: datetime,
) -> SourceLinkCreated:
    """A known-source link for the customer (and one of their vehicles), stored with the audit
    entry of who made it (never the token), under the configured base URL (PublicBaseUrl).
    NotFound / ValidationFailed as create_source_link."""

    def entry(link: object) -> AuditEntry:
        parts = ["known-source link"]
        if vehicle_id:
            parts.append(f"vehicle {vehicle_id}")
        if campaign:
            parts.append(f"campaign {campaign}")
        return audit.entry(actor, "customer.source_link", now, note=", ".join(parts))

    from bookbay.services.source_links import create_source_link

    return create_source_link(
        deps.customers,
        deps.links.auditing(entry),
        configured_base_url=deps.public_base_url,
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        campaign=campaign,
        now=now,
    )


# ------------------------------------------------------------------------------ proposed changes
def pending_proposals(repo: CustomerAdminRepository, *, limit: int, cursor: str | None) -> ProposalPage:
    """A page of the pending proposed changes, oldest first (InvalidCursor, 400, for a cursor that
    is not the previous page's)."""
    return repo.pending_proposals(limit=limit, cursor=cursor)


def _pending(repo: CustomerAdminRepository, ref: str) -> StoredProposal:
    stored = repo.proposal(ref)
    if stored is None:
        raise NotFound("No proposed change with this id.")
    if stored.change.status != "pending":
        raise InvalidTransition(f"This proposed change was {stored.change.status} already.")
    return stored


def _proposed_value(stored: StoredProposal) -> str:
    """The proposed value as a staff edit would store it (the booking stored it normalized)."""
    change = stored.change
    try:
        if change.field == "phone":
            return normalize_phone(change.proposed)
        if change.field == "email":
            return normalize_email(change.proposed)
    except ValueError as exc:
        raise ValidationFailed(
            f"The proposed {change.field} is not valid; reject it.",
            details=[{"field": change.field, "message": "not valid"}],
        ) from exc
    value = " ".join(change.proposed.split())
    if not value:
        raise ValidationFailed(
            f"The proposed {change.field} is blank; reject it.",
            details=[{"field": change.field, "message": "blank"}],
        )
    return value


def accept_proposal(
    customers: CustomersRepository, repo: CustomerAdminRepository, ref: str, *, actor: Actor, now: datetime
) -> tuple[StoredProposal, ProfileWritten]:
    """Apply a pending proposed change to the profile exactly as a staff edit of that field would
    (lookup items and all), close it as accepted, and audit it, in one transaction.

    NotFound for an unknown id; InvalidTransition (409) when it is not pending (also when it was
    decided by someone else meanwhile); ContactInUse (409) for a phone / e-mail that became
    another customer's.
    """

    def write() -> tuple[StoredProposal, ProfileWritten]:
        stored = _pending(repo, ref)
        change = stored.change
        value = _proposed_value(stored)
        try:
            written = customers.write_profile(
                change.customer_id,
                lambda profile: profile.model_copy(update={change.field: value}),
                audit_for=profile_audit(actor, "proposed_change.accept", now, note=f"proposed change {ref}"),
                also=lambda tx: repo.decide_in(tx, stored, "accepted"),
            )
        except StaleWrite:
            _pending(repo, ref)  # InvalidTransition when it was decided meanwhile
            raise
        return stored, written

    stored, written = retrying(write)
    logger.info(
        "proposed change accepted",
        extra={"customer_id": stored.change.customer_id, "field": stored.change.field},
    )
    return StoredProposal(stored.ref, stored.change.model_copy(update={"status": "accepted"})), written


def reject_proposal(
    repo: CustomerAdminRepository, ref: str, *, actor: Actor, now: datetime
) -> StoredProposal:
    """Close a pending proposed change as rejected (the profile stays as it is), audited.
    NotFound for an unknown id; InvalidTransition (409) when it is not pending."""
    stored = _pending(repo, ref)
    change = stored.change
    entry = audit.entry(
        actor, "proposed_change.reject", now, note=f"proposed change {ref}: {change.field} not changed"
    )
    try:
        repo.reject(stored, entry)
    except StaleWrite:
        _pending(repo, ref)
        raise
    logger.info("proposed change rejected", extra={"customer_id": change.customer_id, "field": change.field})
    return StoredProposal(stored.ref, change.model_copy(update={"status": "rejected"}))


# ------------------------------------------------------------------------------ backfill (ops)
@dataclass(frozen=True)
class NamesIndexed:
    checked: int  # customers with appointments at the shop's locations
    indexed: int  # profiles that got their name-search keys now


def index_names(
    customers: CustomersRepository, repo: CustomerAdminRepository, location_ids: list[str]
) -> NamesIndexed:
    """Give every profile written before the name search its keys (ops/customers.py
    index-names): each is rewritten as it is (with its lookups), which sets them. Safe to re-run."""
    checked, missing = repo.unindexed_customers(location_ids)

    def rewrite(customer_id: str) -> None:
        retrying(lambda: customers.write_profile(customer_id, lambda profile: profile, write_unchanged=True))

    for customer_id in missing:
        rewrite(customer_id)
    logger.info("customer names indexed", extra={"checked": checked, "indexed": len(missing)})
    return NamesIndexed(checked, len(missing))
