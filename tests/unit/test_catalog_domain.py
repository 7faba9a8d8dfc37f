from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bookbay.domain.catalog import Location, ReviewRequestSettings, ShopSettings


def location(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "downtown",
        "name": "Downtown",
        "address": {"line1": "801 Congress Ave", "city": "Austin", "state": "TX", "zip": "78701"},
        "phone": "512-555-0100",
        "email": "Store@Example.com",
        "timezone": "America/Chicago",
        "coordinates": {"lat": 30.27, "lon": -97.74},
        "weekly_hours": {
            "mon": [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}]
        },
        "capacity_per_slot": 2,
        "appointment_types": ["in_store"],
    }
    data.update(overrides)
    return data


def test_a_location_normalizes_contact_data_and_reads_hours_by_weekday() -> None:
    loc = Location.model_validate(location())
    assert loc.phone == "+15125550100"
    assert loc.email == "store@example.com"
    assert [(i.opens, i.closes) for i in loc.hours_on(0)] == [("08:00", "12:00"), ("13:00", "17:00")]
    assert loc.hours_on(6) == []


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"appointment_types": ["at_home"]}, "at_home_zips"),
        (
            {
                "weekly_hours": {
                    "mon": [{"opens": "08:00", "closes": "12:00"}, {"opens": "11:00", "closes": "14:00"}]
                }
            },
            "overlapping",
        ),
        ({"weekly_hours": {"mon": [{"opens": "17:00", "closes": "08:00"}]}}, "before closes"),
        ({"weekly_hours": {"funday": []}}, "funday"),
        ({"capacity_per_slot": 0}, "capacity_per_slot"),
        ({"id": "Has Spaces"}, "id"),
        ({"timezone": "Central Time"}, "time zone"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_locations_are_refused_with_the_reason(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Location.model_validate(location(**overrides))
    assert problem in str(caught.value)


def test_settings_defaults_follow_the_spec() -> None:
    s = ShopSettings()
    assert (s.booking_mode, s.require_verification, s.verification_channels) == (
        "request",
        True,
        ["sms", "email"],
    )
    assert (s.sms_countries, s.reschedule_requests_enabled, s.reminder_business_days) == (
        ["US", "CA"],
        True,
        1,
    )
    assert (s.reminder_time, s.business_days) == ("09:00", ["mon", "tue", "wed", "thu", "fri"])
    assert (s.takeover_enabled, s.notification_route, s.review_requests.steps_days) == (
        False,
        "store",
        [1, 4, 10],
    )
    assert (s.slot_minutes, s.lead_time_hours, s.horizon_days) == (30, 2, 60)


def test_settings_consistency_rules() -> None:
    with pytest.raises(ValidationError, match="hq_email"):
        ShopSettings(notification_route="hq")
    with pytest.raises(ValidationError, match="review_url"):
        ReviewRequestSettings(enabled=True)
    with pytest.raises(ValidationError, match="steps_days"):
        ReviewRequestSettings(steps_days=[4, 1])
    with pytest.raises(ValidationError):
        ShopSettings.model_validate({"sms_countries": ["usa"]})
    for unknown in ({"country": "XX"}, {"country": "US", "subdivision": "ZZ"}):
        with pytest.raises(ValidationError, match="no holiday calendar"):
            ShopSettings.model_validate({"holidays": unknown})
    assert (
        ShopSettings.model_validate({"holidays": {"country": "CA", "subdivision": "ON"}}).holidays.country
        == "CA"
    )
    assert ShopSettings(notification_route="hq", hq_email="HQ@example.com").hq_email == "hq@example.com"
