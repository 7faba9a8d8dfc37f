"""Request and response bodies of the public and staff API (pydantic), by route group."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, model_validator

from bookbay.domain.audit import AuditEntry
from bookbay.domain.availability import AvailableSlot
from bookbay.domain.booking import Appointment, AppointmentStatus
from bookbay.domain.catalog import (
    Address,
    BookingMode,
    Channel,
    Coordinates,
    Location,
    OpeningInterval,
    Service,
    Shop,
    ShopSettings,
)
from bookbay.modeling import BaseModel
from bookbay.types import AppointmentType, OtpCode, Weekday, Zip


# ---------------------------------------------------------------- catalog
class ShopOut(BaseModel):
    id: str
    name: str
    timezone: str = Field(description="The shop's home time zone (IANA)")
    phone: str = Field(description="E.164")
    booking_mode: BookingMode = Field(description="request: staff confirm; instant: booked at once")
    reschedule_requests_enabled: bool
    verification_channels: list[Channel]
    require_verification: bool

    @classmethod
    def of(cls, shop: Shop, verification_channels: list[Channel] | None = None) -> ShopOut:
        """``verification_channels``: those offered now (the shop's SMS cap), else the setting's."""
        s = shop.settings
        return cls(
            id=shop.id,
            name=shop.name,
            timezone=shop.timezone,
            phone=shop.phone,
            booking_mode=s.booking_mode,
            reschedule_requests_enabled=s.reschedule_requests_enabled,
            verification_channels=s.verification_channels
            if verification_channels is None
            else verification_channels,
            require_verification=s.require_verification,
        )


class LocationOut(BaseModel):
    id: str
    name: str
    address: Address
    zip: str
    phone: str = Field(description="E.164")
    timezone: str = Field(description="IANA time zone; the location's times are in it")
    coordinates: Coordinates
    appointment_types: list[AppointmentType]
    weekly_hours: dict[Weekday, list[OpeningInterval]]
    distance_miles: float | None = Field(
        default=None, description="Miles from the centroid of the `near` ZIP (only with `near`)"
    )

    @classmethod
    def of(cls, location: Location, distance_miles: float | None = None) -> LocationOut:
        return cls(
            id=location.id,
            name=location.name,
            address=location.address,
            zip=location.address.zip,
            phone=location.phone,
            timezone=location.timezone,
            coordinates=location.coordinates,
            appointment_types=location.appointment_types,
            weekly_hours=location.weekly_hours,
            distance_miles=distance_miles,
        )


class ServiceOut(BaseModel):
    id: str
    name: str
    description: str
    duration_minutes: int
    appointment_types: list[AppointmentType]

    @classmethod
    def of(cls, service: Service) -> ServiceOut:
        return cls.model_validate(service.model_dump())


class ShopResponse(BaseModel):
    shop: ShopOut
    locations: list[LocationOut]
    services: list[ServiceOut]


class LocationsResponse(BaseModel):
    locations: list[LocationOut] = Field(description="Nearest first when `near` is given, else by name")


class LocationResponse(BaseModel):
    location: LocationOut


# ---------------------------------------------------------------- availability
class AvailableSlotOut(BaseModel):
    start: AwareDatetime = Field(
        description="Start, ISO 8601 with the location's UTC offset", examples=["2026-11-24T09:00:00-06:00"]
    )
    end: AwareDatetime = Field(
        description="When the service ends (start + its duration), with the location's UTC offset",
        examples=["2026-11-24T10:30:00-06:00"],
    )
    remaining: int = Field(ge=1, description="How many more bookings this start can take")

    @classmethod
    def of(cls, slot: AvailableSlot) -> AvailableSlotOut:
        return cls(start=slot.start, end=slot.end, remaining=slot.remaining)


class AvailabilityResponse(BaseModel):
    timezone: str = Field(description="The location's IANA time zone; the slots' times are in it")
    slots: list[AvailableSlotOut] = Field(description="Only bookable starts, earliest first")


# ---------------------------------------------------------------- booking
# Idempotency-Key header: 8-100 printable ASCII characters without spaces (e.g. a UUID).
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{8,100}$"


class AppointmentOut(BaseModel):
    id: str
    status: AppointmentStatus
    start: AwareDatetime = Field(description="In the location's time zone, with its UTC offset")
    end: AwareDatetime
    location_id: str
    service_id: str
    appointment_type: AppointmentType

    @classmethod
    def of(cls, appointment: Appointment) -> AppointmentOut:
        return cls(
            id=appointment.id,
            status=appointment.status,
            start=appointment.start,
            end=appointment.end,
            location_id=appointment.location_id,
            service_id=appointment.service_id,
            appointment_type=appointment.appointment_type,
        )


class BookingResponse(BaseModel):
    appointment: AppointmentOut
    manage_url: str = Field(description="The customer's link to see, confirm or reschedule it")


# ---------------------------------------------------------------- settings (staff)
class SettingsResponse(BaseModel):
    settings: ShopSettings
    version: int = Field(description="Pass back as `version` in PATCH to avoid lost updates")
    owner_only: list[str] = Field(
        description="The settings only members of the owner group may change (mail routing, "
        "notification addresses, security); anyone else naming one in a PATCH gets 403 `owner_required`"
    )
    owner: bool = Field(description="Whether you are in the owner group (may change `owner_only`)")


class SettingsHistoryResponse(BaseModel):
    history: list[AuditEntry] = Field(
        description="Changes of the settings, newest first: who (`actor`: sub and e-mail), when, and "
        "each changed field's value before and after"
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one")


class SettingsPatch(BaseModel):
    """Fields to change; absent fields keep their value. Nested objects are replaced whole."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, description="The version read; a mismatch is a 409")
    changes: dict[str, object] = Field(
        min_length=1, description='Settings to change, e.g. {"booking_mode": "instant"}'
    )


# ---------------------------------------------------------------- verification
class VerificationCodeRequest(BaseModel):
    """POST /v1/verification/codes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel = Field(description="sms or email (one the shop offers)")
    to: str = Field(
        min_length=3,
        max_length=254,
        description="The phone number (sms) or e-mail address (email) to send the code to",
        examples=["+15125550100"],
    )


class VerificationCodeAccepted(BaseModel):
    """The same answer whether or not a customer has that phone or e-mail."""

    expires_in: int = Field(description="Seconds the code is valid")
    resend_after: int = Field(description="Seconds before another code may be requested")


class VerificationCheckRequest(BaseModel):
    """POST /v1/verification/checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(
        min_length=3, max_length=254, description="The phone number or e-mail address the code was sent to"
    )
    code: OtpCode
    zip: Zip | None = Field(default=None, description="Only show saved addresses in this ZIP code")


class RecordChoiceOut(BaseModel):
    id: str = Field(description="Pass as vehicle_id when booking")
    label: str = Field(description="e.g. 2019 Toyota Camry")


class MaskedAddressOut(BaseModel):
    id: str = Field(description="Pass as address_id when booking")
    masked: str = Field(description="The street, masked: enough for its owner to recognize")


class RecognizedCustomerOut(BaseModel):
    first_name: str
    vehicles: list[RecordChoiceOut]
    addresses: list[MaskedAddressOut]


class VerificationCheckResponse(BaseModel):
    verification_token: str = Field(description="Send as `Authorization: Bearer <token>` when booking")
    expires_in: int = Field(description="Seconds the token is valid")
    returning_customer: bool
    customer: RecognizedCustomerOut | None = Field(description="Null for a new customer")


# ---------------------------------------------------------------- known-source identity
SourceToken = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,128}$"),
    Field(description="The opaque token of the known-source link (its `src` parameter)"),
]


class KnownSourceRequest(BaseModel):
    """POST /v1/identity/known-source: the link's token and exactly ONE of ``phone`` / ``email``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_token: SourceToken
    phone: str | None = Field(
        default=None,
        min_length=3,
        max_length=32,
        description="The customer's phone number (give this or email)",
        examples=["+15125550100"],
    )
    email: str | None = Field(
        default=None,
        min_length=3,
        max_length=254,
        description="The customer's e-mail address (give this or phone)",
    )
    zip: Zip | None = Field(default=None, description="Only show saved addresses in this ZIP code")

    @model_validator(mode="after")
    def _exactly_one_item(self) -> Self:
        if (self.phone is None) == (self.email is None):
            raise ValueError("give exactly one of phone or email")
        return self


class KnownSourceResponse(BaseModel):
    verification_token: str = Field(description="Send as `Authorization: Bearer <token>` when booking")
    expires_in: int = Field(description="Seconds the token is valid")
    customer: RecognizedCustomerOut
    vehicle: RecordChoiceOut | None = Field(
        description="The vehicle the link is for (book it without choosing again); null when none"
    )
