"""Request and response bodies of the staff customer routes: search, read, edit, known-source
links, and the proposed-change queue."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, StringConstraints, model_validator

from bookbay.domain.audit import AuditEntry
from bookbay.domain.booking import CustomerSummary, PreferredChannel, ProposedField
from bookbay.domain.catalog import Address
from bookbay.domain.source_links import MAX_CAMPAIGN_LENGTH
from bookbay.modeling import BaseModel
from bookbay.repositories.customer_admin import CustomerAppointment, CustomerRecord, StoredProposal
from bookbay.types import ONE_LINE, E164Phone, Email


def _person_name(value: str) -> str:
    """Spaces collapsed; a name has a letter or digit (text only: ``types.ONE_LINE`` refused a NUL,
    a zero-width space or a bidi override, which would end up in every message to the customer)."""
    value = " ".join(value.split())
    if not any(c.isalnum() for c in value):
        raise ValueError("a name has letters")
    return value


PersonName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    ONE_LINE,
    AfterValidator(_person_name),
    Field(description="As the shop keeps it (spaces collapsed); letters, no control characters"),
]
_PATCH_FIELDS = ("first_name", "last_name", "phone", "email", "do_not_service", "preferred_channel")


class CustomerOut(BaseModel):
    """A customer in a list: who, how to reach them, and what the booking must know."""

    id: str
    first_name: str
    last_name: str
    phone: str | None = Field(description="E.164")
    email: str | None
    do_not_service: bool = Field(description="May not book online")
    preferred_channel: PreferredChannel = Field(
        description="How messages reach them: phone (none), sms, email"
    )

    @classmethod
    def of(cls, summary: CustomerSummary) -> CustomerOut:
        return cls(
            id=summary.customer_id,
            first_name=summary.first_name,
            last_name=summary.last_name,
            phone=summary.phone,
            email=summary.email,
            do_not_service=summary.do_not_service,
            preferred_channel=summary.preferred_channel,
        )


class CustomersResponse(BaseModel):
    customers: list[CustomerOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one")
    matched_by: Literal["phone", "email", "name"] = Field(description="How `q` was read")


class CustomerContactOut(BaseModel):
    kind: Literal["phone", "email"]
    value: str = Field(description="E.164 phone or normalized e-mail")
    primary: bool = Field(description="The profile's own phone / e-mail (others are older ones on file)")


class CustomerVehicleOut(BaseModel):
    id: str
    year: int
    make: str
    model: str
    vin: str | None
    label: str


class CustomerAddressOut(BaseModel):
    id: str
    address: Address


class ProposedChangeOut(BaseModel):
    id: str = Field(description="Use with POST /v1/admin/proposed-changes/{id}/accept | reject")
    customer_id: str
    field: ProposedField
    current: str | None = Field(description="What the record says")
    proposed: str = Field(description="What the customer entered")
    appointment_id: str | None
    source: str
    status: Literal["pending", "accepted", "rejected"]
    created_at: AwareDatetime

    @classmethod
    def of(cls, stored: StoredProposal) -> ProposedChangeOut:
        change = stored.change
        return cls(
            id=stored.ref,
            customer_id=change.customer_id,
            field=change.field,
            current=change.current,
            proposed=change.proposed,
            appointment_id=change.appointment_id,
            source=change.source,
            status=change.status,
            created_at=change.created_at,
        )


class CustomerDetail(CustomerOut):
    """Everything staff see of one customer."""

    version: int = Field(description="Send it back with a PATCH: a stale one is a 409")
    source: str = Field(description="Where the first booking came from")
    created_at: AwareDatetime
    contacts: list[CustomerContactOut]
    vehicles: list[CustomerVehicleOut]
    addresses: list[CustomerAddressOut]
    recent_appointments: list[CustomerAppointment] = Field(description="Latest start first (at most 20)")
    proposed_changes: list[ProposedChangeOut] = Field(description="Pending ones")
    history: list[AuditEntry] = Field(description="Who changed what, oldest first")

    @classmethod
    def of_record(cls, record: CustomerRecord) -> CustomerDetail:
        profile = record.profile
        return cls(
            **CustomerOut.of(profile.summary()).model_dump(),
            version=record.version,
            source=profile.source,
            created_at=profile.created_at,
            contacts=[
                CustomerContactOut(
                    kind="email" if c.kind == "email" else "phone",
                    value=c.value,
                    primary=c.value in (profile.phone, profile.email),
                )
                for c in record.contacts
            ],
            vehicles=[
                CustomerVehicleOut(id=v.id, year=v.year, make=v.make, model=v.model, vin=v.vin, label=v.label)
                for v in record.vehicles
            ],
            addresses=[CustomerAddressOut(id=a.id, address=a.address) for a in record.addresses],
            recent_appointments=record.appointments,
            proposed_changes=[ProposedChangeOut.of(p) for p in record.proposed_changes],
            history=record.history,
        )


class CustomerResponse(BaseModel):
    customer: CustomerDetail


class CustomerPatch(BaseModel):
    """PATCH /v1/admin/customers/{id}: the fields to change (at least one), and optionally the
    ``version`` read (then a customer changed meanwhile is a 409, not overwritten)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=0, description="The `version` of the customer as read")
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    phone: E164Phone | None = Field(
        default=None, description="A new phone number: another customer's is a 409 `contact_in_use`"
    )
    email: Email | None = Field(
        default=None, description="A new e-mail address: another customer's is a 409 `contact_in_use`"
    )
    do_not_service: bool | None = Field(default=None, description="true: the customer may not book online")
    preferred_channel: PreferredChannel | None = Field(
        default=None, description="phone (no messages), sms (needs a phone), email (needs an e-mail)"
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        given = [name for name in _PATCH_FIELDS if name in self.model_fields_set]
        if not given:
            raise ValueError(f"give at least one of {', '.join(_PATCH_FIELDS)}")
        nulls = [name for name in given if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)}: a value is required (fields cannot be removed)")
        return self


class SourceLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vehicle_id: str | None = Field(
        default=None, max_length=64, description="One of the customer's vehicles: booked without choosing"
    )
    campaign: str | None = Field(
        default=None,
        max_length=MAX_CAMPAIGN_LENGTH,
        description="A short slug naming the campaign, e.g. spring-tires",
    )


class SourceLinkResponse(BaseModel):
    url: str = Field(description="<public base URL>/book?src=<token>")
    source_token: str = Field(description="Shown once: only its hash is stored")
    expires_at: AwareDatetime


class ProposedChangesResponse(BaseModel):
    proposed_changes: list[ProposedChangeOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one")


class ProposedChangeDecision(BaseModel):
    """The answer of accept / reject: the change as it is now, and (accepted) the customer."""

    proposed_change: ProposedChangeOut
    customer: CustomerOut | None = Field(default=None, description="After the change (accept only)")
