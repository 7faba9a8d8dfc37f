"""What a booking asks for (POST /v1/appointments, and staff entering one): the booking use
case's input (``services.booking``), validated as the API receives it."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, model_validator

from bookbay.domain.booking import Contact, PreferredChannel, VehicleDetails
from bookbay.domain.catalog import Address
from bookbay.modeling import BaseModel
from bookbay.types import MULTI_LINE, SLUG_PATTERN, AppointmentType, LocationId, ServiceId

RecordId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{20}$"),
    Field(description="Id of a record on the customer's profile (from the verification answer)"),
]
Source = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, max_length=40),
    Field(description="Where the booking comes from: web, google, campaign, ...", examples=["web"]),
]


class BookingRequest(BaseModel):
    """POST /v1/appointments. At most one of ``vehicle_id`` / ``vehicle``; at home: ``address_id``
    or ``address`` (in store or online, an ``address`` is kept as the customer's on file, and an
    ``address_id`` is refused: it names where a visit at home goes). ``customer`` and the vehicle
    may be left out only with a verification token that names them (a recognized customer; a
    known-source link's vehicle)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location_id: LocationId
    service_id: ServiceId
    appointment_type: AppointmentType
    start: AwareDatetime = Field(
        description="A slot start, ISO 8601 with its UTC offset", examples=["2026-11-24T09:00:00-06:00"]
    )
    customer: Contact | None = Field(
        default=None,
        description="The booker's details; leave out with a returning customer's verification token "
        "to book with the details on file",
    )
    vehicle_id: RecordId | None = None
    vehicle: VehicleDetails | None = None
    address_id: RecordId | None = None
    address: Address | None = None
    notes: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] | None = None
    source: Source
    preferred_channel: PreferredChannel | None = Field(
        default=None,
        description="How the customer wants the e-confirmation and reminder: `sms`, `email`, or "
        "`phone` (no message). Kept on a new customer's profile; a returning customer's is changed "
        "by staff only. Default: the profile's (`email` for a new customer).",
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> Self:
        if self.vehicle_id is not None and self.vehicle is not None:
            raise ValueError("give either vehicle_id or vehicle (not both)")
        if self.address_id is not None and self.address is not None:
            raise ValueError("give either address_id or address (not both)")
        if self.address_id is not None and self.appointment_type != "at_home":
            raise ValueError("address_id is for at_home appointments (give the address to keep it on file)")
        return self
