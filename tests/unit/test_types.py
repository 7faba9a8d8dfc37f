from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from bookbay.types import E164Phone, Email, HourMinute, TimeZoneName, normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(512) 555-0100", "+15125550100"),
        ("+1 512 555 0100", "+15125550100"),
        ("512.555.0100", "+15125550100"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_normalize_to_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164
    assert TypeAdapter(E164Phone).validate_python(raw) == e164


@pytest.mark.parametrize("raw", ["555", "not a phone", "+1 000 000 0000", ""])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(E164Phone).validate_python(raw)


def test_email_is_validated_and_lowercased() -> None:
    assert normalize_email("Pat.Customer@Example.COM") == "pat.customer@example.com"
    for bad in ["pat", "pat@", "@example.com", "pat@@example.com", "pat@localhost"]:
        with pytest.raises(ValueError):
            TypeAdapter(Email).validate_python(bad)


def test_time_of_day_and_time_zone() -> None:
    assert TypeAdapter(HourMinute).validate_python("07:30") == "07:30"
    for bad in ["7:30", "24:00", "12:60", "noon"]:
        with pytest.raises(ValidationError):
            TypeAdapter(HourMinute).validate_python(bad)
    assert TypeAdapter(TimeZoneName).validate_python("America/Phoenix") == "America/Phoenix"
    for bad in ["Mars/Olympus", "../etc/passwd", "America/"]:
        with pytest.raises(ValidationError):
            TypeAdapter(TimeZoneName).validate_python(bad)
