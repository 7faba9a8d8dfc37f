"""The shop catalog: the shop and its settings, its locations (stores) and its services."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from bookbay.modeling import BaseModel
from bookbay.types import (
    ONE_LINE,
    WEEKDAYS,
    AppointmentType,
    CountryCode,
    E164Phone,
    Email,
    HourMinute,
    LocationId,
    NoteText,
    ServiceId,
    Slug,
    Text,
    TimeZoneName,
    Weekday,
    Zip,
    parse_hhmm,
)

_strict = ConfigDict(extra="forbid", frozen=True)


class Address(BaseModel):
    model_config = _strict

    line1: Text = Field(min_length=1, max_length=120)
    line2: Annotated[str, StringConstraints(max_length=120), ONE_LINE] | None = None
    city: Text = Field(min_length=1, max_length=80)
    state: str = Field(pattern=r"^[A-Z]{2}$", description="Two-letter state code")
    zip: Zip


class Coordinates(BaseModel):
    model_config = _strict

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class OpeningInterval(BaseModel):
    """One opening interval in a day, local time, ``opens`` < ``closes``."""

    model_config = _strict

    opens: HourMinute
    closes: HourMinute

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if parse_hhmm(self.opens) >= parse_hhmm(self.closes):
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        return self


WeeklyHours = dict[Weekday, list[OpeningInterval]]


class Location(BaseModel):
    """A store of the shop."""

    model_config = _strict

    id: LocationId
    name: Text = Field(min_length=1, max_length=120)
    address: Address
    phone: E164Phone
    email: Email = Field(description="The store's address for appointment notifications")
    timezone: TimeZoneName
    coordinates: Coordinates
    weekly_hours: WeeklyHours = Field(description="Opening intervals per weekday; absent day = closed")
    capacity_per_slot: int = Field(ge=1, le=100)
    appointment_types: list[AppointmentType] = Field(min_length=1)
    at_home_zips: list[Zip] = Field(default_factory=list, description="ZIPs served at home")
    salesperson_email: Email | None = None
    closed_dates: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "at_home" in self.appointment_types and not self.at_home_zips:
            raise ValueError("a location offering at_home appointments needs at_home_zips")
        for day, intervals in self.weekly_hours.items():
            ordered = sorted(intervals, key=lambda i: parse_hhmm(i.opens))
            for earlier, later in itertools.pairwise(ordered):
                if parse_hhmm(later.opens) < parse_hhmm(earlier.closes):
                    raise ValueError(f"overlapping opening hours on {day}")
        return self

    def hours_on(self, weekday: int) -> list[OpeningInterval]:
        """Opening intervals on ``date.weekday()`` (0 = Monday)."""
        return list(self.weekly_hours.get(WEEKDAYS[weekday], []))


class Service(BaseModel):
    model_config = _strict

    id: ServiceId
    name: Text = Field(min_length=1, max_length=120)
    description: NoteText = Field(default="", max_length=1000)
    duration_minutes: int = Field(ge=5, le=12 * 60)
    appointment_types: list[AppointmentType] = Field(min_length=1)


class HolidaySettings(BaseModel):
    model_config = _strict

    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,3}$")
    extra_closed_dates: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_calendar(self) -> Self:
        import holidays  # loaded on first use; its calendars are large

        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError as exc:
            raise ValueError(
                f"no holiday calendar for {self.country} {self.subdivision or ''}".strip()
            ) from exc
        return self


class ReviewRequestSettings(BaseModel):
    model_config = _strict

    enabled: bool = False
    review_url: str | None = Field(default=None, pattern=r"^https://\S+$")
    steps_days: list[int] = Field(default_factory=lambda: [1, 4, 10], min_length=1, max_length=10)

    @model_validator(mode="after")
    def _url_when_enabled(self) -> Self:
        if self.enabled and not self.review_url:
            raise ValueError("review_url is required when review requests are enabled")
        if any(d < 0 or d > 365 for d in self.steps_days) or self.steps_days != sorted(set(self.steps_days)):
            raise ValueError("steps_days must be increasing whole days between 0 and 365")
        return self


NotificationRoute = Literal["hq", "store", "salesperson"]
BookingMode = Literal["request", "instant"]
Channel = Literal["sms", "email"]


class ShopSettings(BaseModel):
    """Per-shop settings with SPEC's defaults. The public base URL of links is not one of them: it
    is the stack's PublicBaseUrl parameter (``BaseConfig.public_base_url``), fixed at deploy time."""

    model_config = _strict

    booking_mode: BookingMode = "request"
    require_verification: bool = True
    verification_channels: list[Channel] = Field(
        default_factory=lambda: list[Channel](["sms", "email"]), min_length=1
    )
    sms_countries: list[CountryCode] = Field(default_factory=lambda: ["US", "CA"])
    # Caps on verification codes sent by SMS, shop-wide (the only SMS an anonymous caller can
    # make the shop pay for): past either, codes go by e-mail only. The defaults are several
    # times a busy shop's online bookings (each needs a code or two) and bound what SMS pumping
    # can cost to a few hundred messages a day.
    sms_sends_per_hour: int = Field(
        default=60, ge=0, le=1000, description="At most this many SMS codes in any 60 minutes"
    )
    sms_sends_per_day: int = Field(
        default=300, ge=0, le=5000, description="At most this many SMS codes in any 24 hours"
    )
    reschedule_requests_enabled: bool = True
    reminder_business_days: int = Field(default=1, ge=0, le=10, description="0 = no reminder")
    reminder_time: HourMinute = "09:00"
    business_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    holidays: HolidaySettings = Field(default_factory=HolidaySettings)
    takeover_enabled: bool = False
    notification_route: NotificationRoute = "store"
    hq_email: Email | None = None
    review_requests: ReviewRequestSettings = Field(default_factory=ReviewRequestSettings)
    slot_minutes: int = Field(default=30, ge=5, le=240)
    lead_time_hours: int = Field(default=2, ge=0, le=24 * 14)
    horizon_days: int = Field(default=60, ge=1, le=365)

    @model_validator(mode="after")
    def _route_has_address(self) -> Self:
        if self.notification_route == "hq" and not self.hq_email:
            raise ValueError("notification_route 'hq' needs hq_email")
        return self


class Shop(BaseModel):
    model_config = _strict

    id: Slug
    name: Text = Field(min_length=1, max_length=120)
    timezone: TimeZoneName
    phone: E164Phone
    settings: ShopSettings = Field(default_factory=ShopSettings)


class Catalog(BaseModel):
    """Everything a customer needs to start a booking."""

    model_config = _strict

    shop: Shop
    locations: list[Location]
    services: list[Service]

    def location(self, location_id: str) -> Location | None:
        return next((loc for loc in self.locations if loc.id == location_id), None)

    def service(self, service_id: str) -> Service | None:
        return next((svc for svc in self.services if svc.id == service_id), None)
