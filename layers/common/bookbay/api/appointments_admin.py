"""Request and response bodies of the staff appointments routes (``/v1/admin/appointments``)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, model_validator

from bookbay.domain.audit import AuditEntry
from bookbay.domain.booking import Appointment, Contact, CustomerAddress, CustomerSummary, Vehicle
from bookbay.domain.booking_request import BookingRequest, Source
from bookbay.domain.catalog import Channel
from bookbay.modeling import BaseModel
from bookbay.services.appointment_admin import AdminAppointment
from bookbay.services.econfirmation import Sent
from bookbay.types import MULTI_LINE

DEFAULT_PAGE = 50
MAX_PAGE = 100
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), MULTI_LINE]
# What the appointment keeps as its cancellation_reason (at most 500 characters there: a longer one
# was accepted here and then failed the appointment's write, a 5xx).
CancelReason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), MULTI_LINE]


class CustomerRef(BaseModel):
    """Who the appointment is for: the customer record on file (in a takeover booking, the
    location's customer; the booker's details are in `contact` and `takeover`)."""

    id: str
    first_name: str
    last_name: str
    phone: str | None = Field(description="E.164 (null: none on file)")
    email: str | None = Field(description="null: none on file")


class VehicleOut(BaseModel):
    id: str
    year: int
    make: str
    model: str
    vin: str | None
    label: str = Field(description="e.g. 2019 Honda Civic")

    @classmethod
    def of(cls, vehicle: Vehicle | None) -> VehicleOut | None:
        return cls(**vehicle.model_dump(), label=vehicle.label) if vehicle else None


class SentOut(BaseModel):
    preferred: str = Field(description="The customer's preferred channel")
    channel: Channel | None = Field(description="How it went (null: nothing sent, they prefer a call)")
    message_id: str | None


class AdminAppointmentOut(Appointment):
    """The appointment with its customer, vehicle and address (and, read alone, its history)."""

    model_config = ConfigDict(extra="forbid")

    customer: CustomerRef
    vehicle: VehicleOut | None
    address: CustomerAddress | None
    version: int = Field(description="Pass back as `version` in PATCH to avoid lost updates")
    history: list[AuditEntry] | None = Field(
        default=None, description="Who changed what and when (on reads of one appointment)"
    )

    @classmethod
    def of(cls, admin: AdminAppointment) -> AdminAppointmentOut:
        a = admin.appointment
        # The record on file; the details given when booking if the record is gone
        record: CustomerSummary | Contact = admin.customer or a.contact
        return cls.model_validate(
            {
                **a.model_dump(exclude={"version"}),
                "customer": CustomerRef(
                    id=a.customer_id,
                    first_name=record.first_name,
                    last_name=record.last_name,
                    phone=record.phone,
                    email=record.email,
                ),
                "vehicle": VehicleOut.of(admin.vehicle),
                "address": admin.address,
                "version": a.version,
                "history": admin.history,
            }
        )


class AppointmentsResponse(BaseModel):
    appointments: list[AdminAppointmentOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page (null: no more)")


class AppointmentResponse(BaseModel):
    appointment: AdminAppointmentOut
    sent: SentOut | None = Field(default=None, description="send-confirmation: what went out")
    warnings: list[str] = Field(
        default_factory=list,
        description="For staff: `do_not_service` when the appointment is for a customer marked Do Not "
        "Service when it was booked (a phone booking staff entered, or an online request taken for review)",
    )

    @classmethod
    def of(cls, admin: AdminAppointment, sent: Sent | None = None) -> AppointmentResponse:
        return cls(
            appointment=AdminAppointmentOut.of(admin),
            sent=SentOut(preferred=sent.preferred, channel=sent.channel, message_id=sent.message_id)
            if sent
            else None,
            warnings=list(admin.warnings),
        )


class AppointmentPatch(BaseModel):
    """PATCH /v1/admin/appointments/{id}: any of ``start`` (a reschedule under the capacity rules;
    the customer is told), ``notes``, ``staff_notes``; ``version`` from the read (optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: AwareDatetime | None = Field(
        default=None, description="A free slot start, ISO 8601 with offset (not null: leave it out)"
    )
    notes: Notes | None = Field(default=None, description="null clears them")
    staff_notes: Notes | None = Field(default=None, description="null clears them")
    version: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set - {"version"}:
            raise ValueError("give at least one of start, notes, staff_notes")
        if "start" in self.model_fields_set and self.start is None:
            raise ValueError("start: a time is required (an appointment cannot be unscheduled)")
        return self

    @property
    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set - {"version"}}


class ActionBody(BaseModel):
    """The optional body of an action: ``channel`` for send-confirmation (default: the customer's
    preferred one); ``reason`` and ``notify`` (default true: e-mail the customer) for cancel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel | None = None
    reason: CancelReason | None = None
    notify: bool = True


class ManualBooking(BookingRequest):
    """POST /v1/admin/appointments: the public booking body; ``source`` defaults to ``phone``."""

    source: Source = "phone"
