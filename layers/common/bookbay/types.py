"""Constrained types shared by domain models and API schemas; declared once."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, StringConstraints

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
ZIP_PATTERN = r"^\d{5}$"

Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN),
    Field(description="Identifier: lower-case letters, digits and dashes", examples=["downtown"]),
]
LocationId = Slug
ServiceId = Slug
Zip = Annotated[
    str,
    StringConstraints(pattern=ZIP_PATTERN),
    Field(description="US ZIP code, 5 digits", examples=["78701"]),
]
CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166 two-letter country code", examples=["US"]),
]
OtpCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(description="The 6-digit one-time code that was sent", examples=["042137"]),
]
AppointmentType = Literal["in_store", "online", "at_home"]
APPOINTMENT_TYPES: tuple[AppointmentType, ...] = ("in_store", "online", "at_home")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_check_timezone),
    Field(description="IANA time zone", examples=["America/Chicago"]),
]


def normalize_phone(value: str, region: str = "US") -> str:
    """Parse a phone number to E.164, or raise ValueError."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """``+1 512-555-0123`` (international format), or the value as given when it does not parse."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(value: str) -> str:
    """Validate an e-mail address's syntax and return its normalized form, or raise ValueError."""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


E164Phone = Annotated[
    str,
    StringConstraints(min_length=3, max_length=32),
    AfterValidator(normalize_phone),
    Field(description="Phone number; stored as E.164", examples=["+15125550100"]),
]
Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254),
    AfterValidator(normalize_email),
    Field(description="E-mail address", examples=["service@example.com"]),
]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_hhmm(value: str) -> time:
    if not _HHMM.match(value):
        raise ValueError(f"{value!r} is not a time of day as HH:MM")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _check_hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


HourMinute = Annotated[
    str,
    AfterValidator(_check_hhmm),
    Field(description="Local time of day, HH:MM (24h)", examples=["09:00"]),
]
