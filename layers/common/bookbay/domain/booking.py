"""Customers, their vehicles and addresses, and appointments."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, field_validator, model_validator

from bookbay.domain.catalog import Address
from bookbay.domain.flags import FlagMatch
from bookbay.modeling import BaseModel
from bookbay.types import (
    MULTI_LINE,
    AppointmentType,
    E164Phone,
    Email,
    LocationId,
    NoteText,
    ServiceId,
    Text,
    phone_display,
)

AppointmentStatus = Literal[
    "requested", "confirmed", "reschedule_requested", "checked_in", "completed", "cancelled", "no_show"
]
# Statuses whose appointment holds its slots' capacity.
HOLDS_CAPACITY: frozenset[str] = frozenset({"requested", "confirmed", "reschedule_requested"})
PreferredChannel = Literal["phone", "sms", "email"]

_frozen = ConfigDict(frozen=True, extra="forbid")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


class Contact(BaseModel):
    """Who booked, as they typed it (normalized)."""

    model_config = _frozen

    first_name: Text = Field(min_length=1, max_length=60)
    last_name: Text = Field(min_length=1, max_length=60)
    phone: E164Phone
    email: Email

    @field_validator("first_name", "last_name")
    @classmethod
    def _trim(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class VehicleDetails(BaseModel):
    model_config = _frozen

    year: int = Field(ge=1900, le=datetime.now(UTC).year + 2)
    make: Text = Field(min_length=1, max_length=40)
    model: Text = Field(min_length=1, max_length=60)
    vin: str | None = Field(default=None, description="17-character VIN")

    @field_validator("make", "model")
    @classmethod
    def _trim(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("vin")
    @classmethod
    def _vin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        if not _VIN.match(value):
            raise ValueError("a VIN is 17 letters and digits (no I, O or Q)")
        return value

    @property
    def label(self) -> str:
        return f"{self.year} {self.make} {self.model}"

    def identity(self) -> str:
        """What makes two vehicles of one customer the same vehicle."""
        return self.vin or f"{self.year}|{self.make.casefold()}|{self.model.casefold()}"


class Vehicle(VehicleDetails):
    id: str


class CustomerAddress(BaseModel):
    model_config = _frozen

    id: str
    address: Address
    canonical: str = Field(description="Normalized form used to match addresses")


class CustomerSummary(BaseModel):
    """What the phone / e-mail lookup items carry: enough to recognize a customer in one read."""

    model_config = _frozen

    customer_id: str
    first_name: Text
    last_name: Text
    phone: str | None
    email: str | None
    do_not_service: bool = False
    preferred_channel: PreferredChannel = "email"


TAKEOVER_HEADING = "***POTENTIAL SITE TAKEOVER***"


class Takeover(BaseModel):
    """A booking at a location on file by someone whose phone was not recognized (takeover on):
    the appointment is on the location's customer, and staff get the booker's details to review."""

    model_config = _frozen

    name: str
    phone: str = Field(description="E.164")
    email: str | None = None

    def note(self) -> str:
        """The note staff see on the appointment (the wording of the shop's takeover setting)."""
        return "\n\n".join(
            (
                TAKEOVER_HEADING,
                "This job was booked on a location that already exists in your system by a customer "
                "whose phone number we did not recognize. We have booked the appointment on the "
                "existing customer for this location. The new customer's information is as follows:",
                f"NAME: {self.name}",
                f"PHONE NUMBER: {phone_display(self.phone)}",
                f"EMAIL: {self.email or 'Not given'}",
                "Please review the job. If it is an existing customer using a new phone number, please "
                "update the record. If the customer is a new owner of an existing location, create a "
                "new customer record and map the job to that record.",
            )
        )


VerifiedVia = Literal["code", "known_source"]


class CustomerConfirmation(BaseModel):
    """The customer pressed Confirm on their link: when, and for which start time. It records the
    customer's word only; it never confirms on the store's behalf (the status stays as it was)."""

    model_config = _frozen

    at: AwareDatetime
    start: AwareDatetime = Field(description="The appointment's start the customer confirmed")


# The warning staff get on a Do Not Service customer's appointment (never shown to a customer).
DO_NOT_SERVICE_WARNING = "do_not_service"


class Appointment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    status: AppointmentStatus
    location_id: LocationId
    service_id: ServiceId
    appointment_type: AppointmentType
    start: AwareDatetime = Field(description="In the location's time zone")
    end: AwareDatetime
    slot_starts: list[AwareDatetime] = Field(min_length=1, description="UTC starts of the slots it holds")
    customer_id: str
    vehicle_id: str | None = None
    address_id: str | None = None
    contact: Contact = Field(description="The booker's details as given")
    notes: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] | None = None
    source: str = Field(min_length=1, max_length=40)
    verified_via: VerifiedVia | None = Field(
        default=None, description="How the booker proved the contact: a code, a known-source link, or not"
    )
    takeover: Takeover | None = Field(
        default=None, description="Booked on the location's customer by an unrecognized phone"
    )
    staff_notes: NoteText | None = Field(default=None, description="For staff only (e.g. the takeover note)")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    sequence: int = Field(default=0, ge=0, description="Incremented on each change (calendar SEQUENCE)")
    customer_confirmation: CustomerConfirmation | None = Field(
        default=None, description="The customer confirmed from their link (it counts for that start only)"
    )
    reschedule_requested_at: AwareDatetime | None = Field(
        default=None, description="When the customer last asked to reschedule from their link"
    )
    checked_in_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    cancellation_reason: Annotated[str, StringConstraints(max_length=500), MULTI_LINE] | None = None
    no_show_at: AwareDatetime | None = None
    flag_matches: list[FlagMatch] = Field(
        default_factory=list,
        description="Flagged customers the booking matched when it was made, each with the fields that "
        "matched (a match informs staff; the booking stands)",
    )
    flagged: bool = Field(default=False, description="It matched a flag: flag_matches is not empty")
    do_not_service: bool = Field(
        default=False,
        description="Its customer was marked Do Not Service when it was booked: booked online without "
        "a verification, a request for staff to review (never confirmed by itself); entered by staff, "
        "booked with their warning",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    @model_validator(mode="after")
    def _flagged(self) -> Self:
        self.flagged = bool(self.flag_matches)  # derived from flag_matches; stored for filtering
        return self

    @property
    def holds_capacity(self) -> bool:
        return self.status in HOLDS_CAPACITY

    def is_past(self, now: datetime) -> bool:
        return self.end <= now

    @property
    def customer_confirmed(self) -> bool:
        """The customer confirmed the CURRENT time (a confirmation of an earlier time does not count)."""
        return self.customer_confirmation is not None and self.customer_confirmation.start == self.start


class CustomerProfile(BaseModel):
    """The customer record (CUSTOMER#<id> / PROFILE) as the shop has it on file."""

    model_config = _frozen

    id: str
    first_name: Text
    last_name: Text
    phone: str | None = None
    email: str | None = None
    do_not_service: bool = False
    preferred_channel: PreferredChannel = "email"
    source: str = Field(description="Where the first booking came from, e.g. web")
    created_at: AwareDatetime

    def summary(self) -> CustomerSummary:
        return CustomerSummary(
            customer_id=self.id,
            first_name=self.first_name,
            last_name=self.last_name,
            phone=self.phone,
            email=self.email,
            do_not_service=self.do_not_service,
            preferred_channel=self.preferred_channel,
        )


ProposedField = Literal["first_name", "last_name", "phone", "email"]


class ProposedChange(BaseModel):
    """What a customer entered that differs from the record: kept for staff, never applied by itself."""

    model_config = _frozen

    id: str
    customer_id: str
    field: ProposedField
    current: str | None = Field(description="What the record says")
    proposed: str = Field(description="What the customer entered")
    appointment_id: str | None = Field(default=None, description="The booking it came with")
    source: str
    status: Literal["pending", "accepted", "rejected"] = "pending"
    created_at: AwareDatetime
