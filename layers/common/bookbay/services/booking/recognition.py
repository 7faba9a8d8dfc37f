"""Booking step 2, recognition: who is booking, and on which customer record it goes (the
verified customer, the owner of the typed phone or e-mail, takeover's location customer, or a
new one), with what they typed that differs from the record as proposed changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbay.domain.booking import (
    Contact,
    CustomerProfile,
    CustomerSummary,
    ProposedChange,
    ProposedField,
    Takeover,
    VerifiedVia,
)
from bookbay.domain.booking_request import BookingRequest
from bookbay.domain.ids import new_id
from bookbay.exceptions import (
    BookingNotAvailable,
    InvalidVerificationToken,
    ValidationFailed,
)
from bookbay.repositories.booking import CustomerLookup, LookupKind
from bookbay.services.booking.offer import Offer
from bookbay.services.booking.ports import BookingStore
from bookbay.services.verification_tokens import VerifiedIdentity
from bookbay.types import phone_display


@dataclass(frozen=True)
class Booker:
    """Who is booking, and on which customer record it goes."""

    contact: Contact  # as typed (or, left out by a verified customer, as on file)
    customer: CustomerSummary
    on_file: bool  # the booker is this customer (their saved vehicles and addresses may be named)
    new_profile: CustomerProfile | None = None
    new_lookups: tuple[LookupKind, ...] = ()
    proposed: tuple[ProposedChange, ...] = ()
    takeover: Takeover | None = None
    address_id: str | None = None  # takeover: the location's address record on the customer
    verified_via: VerifiedVia | None = None


def recognize(
    request: BookingRequest,
    identity: VerifiedIdentity | None,
    lookup: CustomerLookup,
    offer: Offer,
    booking_repo: BookingStore,
    *,
    appointment_id: str,
    now: datetime,
    staff: bool = False,
) -> Booker:
    """Recognize the customer: the verified one; else (no token) the owner of the typed phone, then
    e-mail; else, takeover on, the owner of the typed at-home address; else a new customer.

    Do Not Service is said only to whom it concerns: a booker verified as that customer is refused
    (403). Anyone else who lands on such a customer (an unverified booker recognized by the typed
    phone or e-mail, a takeover of their address) is answered like any booker; the plan makes it a
    request for staff to review, with the mark (``plan.make_plan``). ``staff`` book them (the
    result warns)."""
    existing: CustomerSummary | None
    if identity is None:
        existing = lookup.customer
    elif identity.customer_id is not None:
        if lookup.profile is None:
            raise InvalidVerificationToken("The verification is no longer valid; verify again.")
        existing = lookup.profile.summary()
    else:
        existing = lookup.by_verified
    via = identity.via if identity else None

    if existing is not None:
        if identity is not None and not staff:  # the booker proved to be this customer
            refuse_do_not_service(existing, offer)
        contact = request.customer or _contact_on_file(existing)
        return Booker(
            contact=contact,
            customer=existing,
            on_file=True,
            proposed=tuple(_proposed_changes(existing, lookup, contact, appointment_id, request.source, now)),
            verified_via=via,
        )

    contact = _contact_typed(request)
    if identity is not None:
        _check_verified_contact(identity, contact)
    owner = lookup.address_owner
    if owner is not None and offer.catalog.shop.settings.takeover_enabled:
        location_customer = booking_repo.customer_summary(owner.customer_id)
        if location_customer is not None:  # never the booker: Do Not Service is not said to them
            return Booker(
                contact=contact,
                customer=location_customer,
                on_file=False,
                takeover=Takeover(name=contact.full_name, phone=contact.phone, email=contact.email),
                address_id=owner.address_id,
                verified_via=via,
            )
    profile = CustomerProfile(
        id=new_id(),
        first_name=contact.first_name,
        last_name=contact.last_name,
        phone=contact.phone,
        email=contact.email,
        preferred_channel=request.preferred_channel or "email",
        source=request.source,
        created_at=now,
    )
    # Verified: the typed phone or e-mail that was not verified may already be another customer's.
    unowned: list[LookupKind] = []
    if lookup.by_phone is None:
        unowned.append("phone")
    if lookup.by_email is None:
        unowned.append("email")
    return Booker(
        contact=contact,
        customer=profile.summary(),
        on_file=False,
        new_profile=profile,
        new_lookups=tuple(unowned),
        verified_via=via,
    )


def refuse_do_not_service(customer: CustomerSummary, offer: Offer) -> None:
    if customer.do_not_service:
        raise BookingNotAvailable(
            f"We can't book this appointment online. Please call {offer.location.name} at "
            f"{phone_display(offer.location.phone)} to book.",
            extra={"phone": offer.location.phone},
        )


def _contact_typed(request: BookingRequest) -> Contact:
    if request.customer is None:
        raise ValidationFailed(
            "Give your name, phone number and e-mail.",
            details=[
                {"field": "body.customer", "message": "required unless a verified returning customer books"}
            ],
        )
    return request.customer


def _contact_on_file(customer: CustomerSummary) -> Contact:
    """A verified customer who left the details out: the record's (when it has a phone and e-mail)."""
    if not customer.phone or not customer.email:
        raise ValidationFailed(
            "We need your phone number and e-mail for this booking; please give your details.",
            details=[{"field": "body.customer", "message": "required: the record on file is incomplete"}],
        )
    return Contact(
        first_name=customer.first_name,
        last_name=customer.last_name,
        phone=customer.phone,
        email=customer.email,
    )


def _check_verified_contact(identity: VerifiedIdentity, contact: Contact) -> None:
    """A new customer's verified phone or e-mail is the one on the booking (it becomes the profile)."""
    if identity.channel == "sms" and contact.phone != identity.destination:
        field, what = "body.customer.phone", "phone number"
    elif identity.channel == "email" and contact.email != identity.destination:
        field, what = "body.customer.email", "e-mail address"
    else:
        return
    raise ValidationFailed(
        f"Book with the {what} you verified, or verify this one.",
        details=[{"field": field, "message": f"must be the {what} that was verified"}],
    )


def _proposed_changes(
    customer: CustomerSummary,
    lookup: CustomerLookup,
    contact: Contact,
    appointment_id: str,
    source: str,
    now: datetime,
) -> list[ProposedChange]:
    """What the booker typed that differs from the record (names case-insensitively)."""
    differences: list[tuple[ProposedField, str | None, str]] = []
    if customer.first_name.casefold() != contact.first_name.casefold():
        differences.append(("first_name", customer.first_name, contact.first_name))
    if customer.last_name.casefold() != contact.last_name.casefold():
        differences.append(("last_name", customer.last_name, contact.last_name))
    email_is_theirs = lookup.by_email is not None and lookup.by_email.customer_id == customer.customer_id
    if customer.email != contact.email and not email_is_theirs:
        differences.append(("email", customer.email, contact.email))
    if customer.phone != contact.phone and lookup.by_phone is None:
        differences.append(("phone", customer.phone, contact.phone))
    return [
        ProposedChange(
            id=new_id(),
            customer_id=customer.customer_id,
            field=name,
            current=current,
            proposed=value,
            appointment_id=appointment_id,
            source=source,
            created_at=now,
        )
        for name, current, value in differences
    ]
