"""GET /v1/availability in process, on moto tables created from the template, with the demo shop.

Slot usage is written as the booking flow writes it (SlotItem: PK=LOCATION#<id>, SK=SLOT#<UTC>).
The function's clock is pinned: Monday 2026-11-23, 09:00 in Austin (America/Chicago).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from bookbay.config import BaseConfig
from bookbay.domain.availability import SlotUsage
from bookbay.models import keys
from bookbay.models.booking import SlotItem
from bookbay.repositories.availability import AvailabilityRepository
from tests.support import load_event, response_json, with_query

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
BRAKES_IN_STORE = {
    "location_id": "austin-downtown",
    "service_id": "brake-inspection",
    "appointment_type": "in_store",
}
OIL_IN_STORE = {**BRAKES_IN_STORE, "service_id": "oil-change"}


@pytest.fixture
def app(availability_app: Any) -> Any:
    availability_app.clock = lambda: NOW
    return availability_app


def slot(location_id: str, start_utc: datetime, used: int = 0, blocked: bool | None = None) -> None:
    item = SlotItem(keys.location_pk(location_id), keys.slot_sk(start_utc), used=used)
    if blocked is not None:
        item.blocked = blocked
    item.save()


def availability(app: Any, call: Any, **query: str) -> tuple[int, Any]:
    response = call(app, with_query(load_event("availability_get"), query))
    assert response["multiValueHeaders"]["Content-Type"][0] == "application/json"
    return response["statusCode"], response_json(response)


def starts(body: Any) -> list[str]:
    return [s["start"] for s in body["slots"]]


def test_the_sample_event_answers_a_week_of_slots_with_utc_offsets(app: Any, call: Any) -> None:
    response = call(app, load_event("availability_get"))  # from 2026-11-24, 7 days, brakes in store
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["timezone"] == "America/Chicago"
    assert body["slots"][0] == {
        "start": "2026-11-24T07:30:00-06:00",
        "end": "2026-11-24T09:00:00-06:00",
        "remaining": 2,
    }
    days = Counter(s["start"][:10] for s in body["slots"])
    # Tue, Wed 07:30-17:30 (90 min: 18 starts), Thanksgiving (US) closed, Friday 18,
    # Saturday 08:00-12:00 (6 starts), Sunday closed, Monday 18.
    assert days == {"2026-11-24": 18, "2026-11-25": 18, "2026-11-27": 18, "2026-11-28": 6, "2026-11-30": 18}
    assert body["slots"][17]["start"] == "2026-11-24T16:00:00-06:00"
    assert body["slots"][17]["end"] == "2026-11-24T17:30:00-06:00"


def test_used_full_and_blocked_slots_shape_the_answer(app: Any, call: Any) -> None:
    # 07:30 CST = 13:30Z. One booking at 07:30, the 09:00 slot full, the 12:00 slot blocked.
    slot("austin-downtown", datetime(2026, 11, 24, 13, 30, tzinfo=UTC), used=1)
    slot("austin-downtown", datetime(2026, 11, 24, 15, 0, tzinfo=UTC), used=2)
    slot("austin-downtown", datetime(2026, 11, 24, 18, 0, tzinfo=UTC), used=0, blocked=True)
    slot("austin-downtown", datetime(2026, 11, 24, 19, 0, tzinfo=UTC), used=1, blocked=False)
    # Another location's usage and usage outside the range change nothing.
    slot("phoenix-camelback", datetime(2026, 11, 24, 14, 0, tzinfo=UTC), used=2)
    slot("austin-downtown", datetime(2026, 11, 23, 19, 0, tzinfo=UTC), used=2)

    status, body = availability(app, call, **BRAKES_IN_STORE, **{"from": "2026-11-24", "days": "1"})
    assert status == 200
    brakes = {s["start"][11:16]: s["remaining"] for s in body["slots"]}
    # 90 minutes = 3 slots: no start whose slots include 09:00 (full) or 12:00 (blocked).
    for holds_full_or_blocked in ("08:00", "08:30", "09:00", "11:00", "11:30", "12:00"):
        assert holds_full_or_blocked not in brakes
    # The least free capacity over the 3 slots: 07:30 and 13:00 have 1 used.
    assert (brakes["07:30"], brakes["09:30"], brakes["10:30"]) == (1, 2, 2)
    assert (brakes["12:30"], brakes["13:00"], brakes["13:30"]) == (1, 1, 2)
    assert len(brakes) == 18 - 6

    status, body = availability(app, call, **OIL_IN_STORE, **{"from": "2026-11-24", "days": "1"})
    oil = {s["start"][11:16]: s["remaining"] for s in body["slots"]}
    assert (oil["07:30"], oil["08:00"], oil["13:00"]) == (1, 2, 1)
    assert "09:00" not in oil and "12:00" not in oil
    assert len(oil) == 20 - 2


def test_from_defaults_to_today_at_the_location_after_the_lead_time(app: Any, call: Any) -> None:
    status, body = availability(app, call, **BRAKES_IN_STORE, days="1")
    assert status == 200
    assert starts(body)[0] == "2026-11-23T11:00:00-06:00"  # 09:00 now + 2 hours
    assert all(s.startswith("2026-11-23") for s in starts(body))
    status, body = availability(app, call, **BRAKES_IN_STORE)  # days defaults to 7
    assert {s[:10] for s in starts(body)} == {
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-27",
        "2026-11-28",
    }


def test_phoenix_answers_in_its_own_zone(app: Any, call: Any) -> None:
    phoenix = {**OIL_IN_STORE, "location_id": "phoenix-camelback"}
    status, body = availability(app, call, **phoenix, **{"from": "2026-11-24", "days": "1"})
    assert status == 200 and body["timezone"] == "America/Phoenix"
    assert starts(body)[0] == "2026-11-24T07:00:00-07:00" and len(body["slots"]) == 18


def test_the_offsets_follow_daylight_saving_time(app: Any, call: Any) -> None:
    app.clock = lambda: datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
    status, body = availability(app, call, **BRAKES_IN_STORE, **{"from": "2027-03-12", "days": "4"})
    assert status == 200
    first_of_day = {s["start"][:10]: s["start"] for s in reversed(body["slots"])}
    assert first_of_day == {
        "2027-03-12": "2027-03-12T07:30:00-06:00",
        "2027-03-13": "2027-03-13T08:00:00-06:00",
        "2027-03-15": "2027-03-15T07:30:00-05:00",
    }


def test_at_home_for_a_served_zip(app: Any, call: Any) -> None:
    query = {"location_id": "austin-downtown", "service_id": "oil-change", "appointment_type": "at_home"}
    status, body = availability(app, call, **query, zip="78702", **{"from": "2026-11-24", "days": "1"})
    assert status == 200 and len(body["slots"]) == 20


def test_days_past_the_horizon_answer_no_slots(app: Any, call: Any) -> None:
    status, body = availability(app, call, **BRAKES_IN_STORE, **{"from": "2027-06-01", "days": "7"})
    assert (status, body) == (200, {"timezone": "America/Chicago", "slots": []})
    # 2026-11-23 + 60 days = 2027-01-22 (a Friday) is the last bookable day.
    status, body = availability(app, call, **BRAKES_IN_STORE, **{"from": "2027-01-20", "days": "7"})
    assert {s[:10] for s in starts(body)} == {"2027-01-20", "2027-01-21", "2027-01-22"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({**BRAKES_IN_STORE, "location_id": "nowhere"}, "location_not_found"),
        ({**BRAKES_IN_STORE, "service_id": "nothing"}, "service_not_found"),
    ],
)
def test_unknown_location_or_service_is_a_404(app: Any, call: Any, query: dict[str, str], code: str) -> None:
    status, body = availability(app, call, **query)
    assert (status, body["error"]["code"]) == (404, code)


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        (
            {"service_id": "oil-change", "appointment_type": "in_store"},
            "validation_error",
            "query.location_id",
        ),
        ({**BRAKES_IN_STORE, "location_id": "Austin Downtown"}, "validation_error", "query.location_id"),
        ({**BRAKES_IN_STORE, "appointment_type": "drive_thru"}, "validation_error", "query.appointment_type"),
        ({**BRAKES_IN_STORE, "from": "2026-13-01"}, "validation_error", "query.from"),
        ({**BRAKES_IN_STORE, "from": "tomorrow"}, "validation_error", "query.from"),
        ({**BRAKES_IN_STORE, "days": "0"}, "validation_error", "query.days"),
        ({**BRAKES_IN_STORE, "days": "seven"}, "validation_error", "query.days"),
        ({**BRAKES_IN_STORE, "days": "61"}, "validation_error", "query.days"),  # the demo horizon is 60
        ({**BRAKES_IN_STORE, "days": "366"}, "validation_error", "query.days"),
        ({**BRAKES_IN_STORE, "zip": "7870"}, "validation_error", "query.zip"),
    ],
)
def test_bad_or_missing_parameters_are_a_422_with_details(
    app: Any, call: Any, query: dict[str, str], code: str, field: str
) -> None:
    status, body = availability(app, call, **query)
    assert status == 422
    assert body["error"]["code"] == code and body["error"]["message"]
    assert field in [d["field"] for d in body["error"]["details"]]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({**BRAKES_IN_STORE, "appointment_type": "at_home", "zip": "78701"}, "appointment_type_not_offered"),
        (
            {"location_id": "phoenix-camelback", "service_id": "oil-change", "appointment_type": "at_home"},
            "appointment_type_not_offered",
        ),
        (
            {"location_id": "austin-downtown", "service_id": "oil-change", "appointment_type": "at_home"},
            "zip_not_served",
        ),
        (
            {
                "location_id": "austin-downtown",
                "service_id": "oil-change",
                "appointment_type": "at_home",
                "zip": "78759",
            },
            "zip_not_served",
        ),
    ],
)
def test_types_not_offered_and_zips_not_served_are_a_422(
    app: Any, call: Any, query: dict[str, str], code: str
) -> None:
    status, body = availability(app, call, **query)
    assert (status, body["error"]["code"]) == (422, code) and body["error"]["message"]


def test_a_warm_request_makes_exactly_one_dynamodb_query(
    app: Any, call: Any, dynamodb_calls: Counter[str], seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As deployed, the catalog stays cached for CATALOG_CACHE_SECONDS' default (the tests load the
    # functions with the local stack's environment, which turns the cache off): the function's own
    # catalog repository keeps it that long here.
    cache_seconds = BaseConfig.model_fields["catalog_cache_seconds"].default
    assert cache_seconds > 0
    monkeypatch.setattr(app.deps.catalog, "_cache_seconds", cache_seconds)
    query = {**BRAKES_IN_STORE, "days": "60"}
    assert availability(app, call, **query)[0] == 200
    assert dynamodb_calls == {"Query": 2}  # cold: the catalog, then the slot usage
    dynamodb_calls.clear()
    for _ in range(3):
        status, body = availability(app, call, **query)
        assert status == 200 and body["slots"]
    assert dynamodb_calls == {"Query": 3}  # warm: the slot usage only (the catalog is cached)
    assert seeded.calls["AvailabilityFunction"] == {"dynamodb:Query"}


def test_usage_follows_a_truncated_query_to_its_next_page(seeded: Any, dynamodb_calls: Counter[str]) -> None:
    # Given slot items bigger than usual (padding), 12 x 100 KB: more than one 1 MB Query page
    client = boto3.client("dynamodb", region_name="us-east-1")
    first = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
    for n in range(12):
        client.put_item(
            TableName=seeded.table_name,
            Item={
                "PK": {"S": keys.location_pk("austin-downtown")},
                "SK": {"S": keys.slot_sk(first + timedelta(minutes=30 * n))},
                "entity": {"S": "Slot"},
                "used": {"N": str(n % 3)},
                "padding": {"S": "x" * 100_000},
            },
        )
    dynamodb_calls.clear()
    # When the usage of the day is read
    usage = AvailabilityRepository(seeded.table_name, "us-east-1").usage(
        "austin-downtown", first, first + timedelta(hours=6)
    )
    # Then every slot is there, read in two pages of the one Query
    assert len(usage) == 12 and usage[first + timedelta(minutes=30)] == SlotUsage(used=1)
    assert dynamodb_calls == {"Query": 2}
    # The range is half-open: a slot starting at its end is not in it; an empty range reads nothing.
    repo = AvailabilityRepository(seeded.table_name, "us-east-1")
    assert sorted(repo.usage("austin-downtown", first, first + timedelta(hours=1))) == [
        first,
        first + timedelta(minutes=30),
    ]
    assert repo.usage("austin-downtown", first, first) == {}
    assert dynamodb_calls == {"Query": 3}
