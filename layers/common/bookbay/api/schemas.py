"""Request and response bodies of the public and staff API (pydantic), by route group."""

from __future__ import annotations

from pydantic import BaseModel, Field

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
from bookbay.types import AppointmentType, Weekday


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
    def of(cls, shop: Shop) -> ShopOut:
        s = shop.settings
        return cls(
            id=shop.id,
            name=shop.name,
            timezone=shop.timezone,
            phone=shop.phone,
            booking_mode=s.booking_mode,
            reschedule_requests_enabled=s.reschedule_requests_enabled,
            verification_channels=s.verification_channels,
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


# ---------------------------------------------------------------- settings (staff)
class SettingsResponse(BaseModel):
    settings: ShopSettings
    version: int = Field(description="Pass back as `version` in PATCH to avoid lost updates")


class SettingsPatch(BaseModel):
    """Fields to change; absent fields keep their value. Nested objects are replaced whole."""

    model_config = {"extra": "forbid"}

    version: int | None = Field(default=None, description="The version read; a mismatch is a 409")
    changes: dict[str, object] = Field(
        min_length=1, description='Settings to change, e.g. {"booking_mode": "instant"}'
    )
