"""Bad input to the staff write routes, in process on moto: each case below answered a 5xx, or a
4xx after writing part of the request, before it was fixed. Every one is a 4xx JSON error now (or
the staff page's 409), and the table is exactly as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from bookbay.api.auth import STAFF_SECURITY
from bookbay.domain.catalog import Catalog
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem
from bookbay.repositories.catalog import CatalogRepository
from tests.integration.conftest import REGION, Stack, table_items
from tests.support import load_event, response_json, with_body, with_query
from tests.support.appointments import local, next_weekday, seed_appointment
from tests.support.customers import CUSTOMER, add_customer

pytestmark = pytest.mark.integration

# Far enough that converting them to another zone, or adding a day, leaves the calendar.
CENTURIES_AWAY = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


# ------------------------------------------------------------------------------ helpers
@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    return CatalogRepository(seeded.table_name, REGION).catalog()


@pytest.fixture
def appointments_app(seeded: Stack, staff_app: ModuleType) -> ModuleType:  # staff_app: PUBLIC_BASE_URL
    return seeded.load("admin_appointments", "AdminAppointmentsFunction")


def day_ahead() -> Any:
    return next_weekday(datetime.now(UTC).date(), 3)


def event(
    name: str, data: Any = None, params: dict[str, str] | None = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """The sample event ``name`` with its path parameters, query and JSON body (a str: as is)."""
    e = load_event(name)
    if params is not None:
        path = e["resource"]
        for key, value in params.items():
            path = path.replace("{" + key + "}", value)
        e["path"], e["pathParameters"] = path, params
    if query:
        e = with_query(e, query)
    if data is not None:
        e = with_body(e, data if isinstance(data, str) else json.dumps(data))
    return e


def error(response: dict[str, Any], status: int) -> str:
    """The error code of a JSON error answer with ``status``."""
    assert response["statusCode"] == status, response["body"]
    headers = {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()}
    assert headers["content-type"] == "application/json"
    code: str = response_json(response)["error"]["code"]
    return code


def stored(appointment_id: str) -> AppointmentItem:
    return AppointmentItem.get(keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK, consistent_read=True)


def patch(call: Any, app: ModuleType, appointment_id: str, data: Any) -> dict[str, Any]:
    response: dict[str, Any] = call(
        app, event("admin_appointments_patch", data, {"appointment_id": appointment_id})
    )
    return response


# ------------------------------------------------------------------------------ PATCH an appointment
def test_a_null_start_is_422_and_changes_nothing(
    seeded: Stack, appointments_app: ModuleType, call: Any, catalog: Catalog
) -> None:
    # Before: 502 (AttributeError: None has no isoformat) from the reschedule.
    a = seed_appointment(catalog, local(day_ahead(), 10)).appointment
    before = table_items(seeded)
    for data in ({"start": None}, {"start": None, "notes": "x"}):
        assert error(patch(call, appointments_app, a.id, data), 422) == "validation_error"
    assert table_items(seeded) == before


@pytest.mark.parametrize("start", CENTURIES_AWAY)
def test_a_start_centuries_away_is_409_and_changes_nothing(
    seeded: Stack, appointments_app: ModuleType, call: Any, catalog: Catalog, start: str
) -> None:
    # Before: 502 (OverflowError: date value out of range) converting it to the store's zone.
    a = seed_appointment(catalog, local(day_ahead(), 10)).appointment
    before = table_items(seeded)
    assert error(patch(call, appointments_app, a.id, {"start": start}), 409) == "slot_unavailable"
    assert table_items(seeded) == before


def test_notes_with_a_refused_start_are_not_written_either(
    seeded: Stack, appointments_app: ModuleType, call: Any, catalog: Catalog
) -> None:
    # Before: the notes were written first, then the start refused: a 4xx that changed the notes.
    day = day_ahead()
    a = seed_appointment(catalog, local(day, 10)).appointment
    for _ in range(2):  # 15:00 is full (capacity 2)
        seed_appointment(catalog, local(day, 15))
    before = table_items(seeded)
    refusals = [
        ({"notes": "Call first", "start": local(day, 10, 10).isoformat()}, 422, "invalid_input"),  # no slot
        ({"staff_notes": "Spare key", "start": local(day, 10).isoformat()}, 422, "invalid_input"),  # its time
        ({"notes": "Call first", "start": local(day, 15).isoformat()}, 409, "slot_unavailable"),  # full
        ({"notes": "Call first", "start": CENTURIES_AWAY[1]}, 409, "slot_unavailable"),
    ]
    for data, status, code in refusals:
        assert error(patch(call, appointments_app, a.id, data), status) == code, data
    assert table_items(seeded) == before

    # Accepted, both change in one write: one version more, one audit entry naming both.
    data = {"notes": "Call first", "staff_notes": "Spare key", "start": local(day, 14).isoformat()}
    answer = patch(call, appointments_app, a.id, data)
    assert answer["statusCode"] == 200, answer["body"]
    moved = response_json(answer)["appointment"]
    assert (moved["notes"], moved["staff_notes"], moved["start"]) == (
        "Call first",
        "Spare key",
        local(day, 14).isoformat(),
    )
    item = stored(a.id)
    assert (item.version, item.body["notes"], item.body["staff_notes"]) == (2, "Call first", "Spare key")
    (entry,) = moved["history"]
    assert entry["action"] == "reschedule"
    assert entry["changes"] == {
        "start": {"before": a.start.isoformat(), "after": local(day, 14).isoformat()},
        "notes": {"before": a.notes, "after": "Call first"},
        "staff_notes": {"before": None, "after": "Spare key"},
    }


# ------------------------------------------------------------------------------ the staff page
@pytest.mark.parametrize("start", CENTURIES_AWAY)
def test_the_staff_page_refuses_a_start_centuries_away_with_fresh_times(
    seeded: Stack, staff_app: ModuleType, call: Any, catalog: Catalog, start: str
) -> None:
    # Before: 502 from the same conversion (services.staff_actions, shared with PATCH).
    s = seed_appointment(catalog, local(day_ahead(), 10))
    e = load_event("staff_reschedule")
    e["path"], e["pathParameters"] = f"/s/{s.staff_token}/reschedule", {"token": s.staff_token}
    e = with_body(e, "start=" + start.replace("+", "%2B"), "application/x-www-form-urlencoded")
    before = table_items(seeded)
    response = call(staff_app, e)
    assert response["statusCode"] == 409, response["body"][:500]
    assert "can no longer be booked" in response["body"]
    assert table_items(seeded) == before


# ------------------------------------------------------------------------------ the list
@pytest.mark.parametrize(
    "query",
    [
        {"from": "9999-12-31"},
        {"from": "9999-12-30", "location_id": "austin-downtown"},
        {"from": "0001-01-01", "to": "0001-01-02"},
    ],
)
def test_list_days_centuries_away_are_422(
    appointments_app: ModuleType, call: Any, query: dict[str, str]
) -> None:
    # Before: 502 (OverflowError) computing the default `to` or the day after `to`.
    assert (
        error(call(appointments_app, event("admin_appointments_list", query=query)), 422) == "invalid_input"
    )


# ------------------------------------------------------------------------------ blocks
@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00"),
        ("9999-12-01T09:00:00-06:00", "9999-12-01T10:00:00-06:00"),
        ("2031-01-07T09:00:00-06:00", "2031-01-07T10:00:00-06:00"),  # more than 2 years ahead
    ],
)
def test_blocks_far_ahead_are_422_and_write_nothing(
    seeded: Stack, call: Any, monkeypatch: pytest.MonkeyPatch, start: str, end: str
) -> None:
    # Before: 502 (OverflowError) for the first; 201 and years of slot items for the others.
    app = seeded.load("admin_blocks", "AdminBlocksFunction")
    monkeypatch.setattr(app, "clock", lambda: datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    before = table_items(seeded)
    data = {"location_id": "austin-downtown", "start": start, "end": end}
    response = call(app, event("admin_blocks_post", data))
    assert error(response, 422) == "validation_error"
    assert response_json(response)["error"]["details"][0]["field"] == "body.start"
    assert table_items(seeded) == before


def test_a_block_two_years_ahead_is_still_taken(
    seeded: Stack, call: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = seeded.load("admin_blocks", "AdminBlocksFunction")
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    monkeypatch.setattr(app, "clock", lambda: now)
    start = now + timedelta(days=728)  # Monday 2028-11-20, 09:00 in Austin
    data = {
        "location_id": "austin-downtown",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    response = call(app, event("admin_blocks_post", data))
    assert response["statusCode"] == 201, response["body"]


# ------------------------------------------------------------------------------ any JSON body
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_too_deeply_is_400_malformed_json(
    seeded: Stack, appointments_app: ModuleType, call: Any, opener: str
) -> None:
    # Before: 502 (RecursionError in json.loads, before any route code ran).
    depth = 100_000
    nested = opener * depth + "1" + ("]" if opener == "[" else "}") * depth
    before = table_items(seeded)
    response = call(appointments_app, event("admin_appointments_post", nested))
    assert error(response, 400) == "malformed_json"
    assert table_items(seeded) == before


# ------------------------------------------------------------------------------ customers
@pytest.mark.parametrize("name", ["\u0000", "\u200b", "Pat\u0007", "-", "\u200b \u200b"])
def test_a_name_without_letters_or_with_control_characters_is_422(
    seeded: Stack, staff_app: ModuleType, call: Any, name: str
) -> None:
    # Before: 200, and the name went into the profile, the lookups and the name search.
    app = seeded.load("admin_customers", "AdminCustomersFunction")
    add_customer()
    before = table_items(seeded)
    for field in ("first_name", "last_name"):
        response = call(app, event("admin_customers_patch", {field: name}, {"customer_id": CUSTOMER}))
        assert error(response, 422) == "validation_error"
        assert response_json(response)["error"]["details"][0]["field"] == f"body.{field}"
    assert table_items(seeded) == before
    accepted = call(app, event("admin_customers_patch", {"first_name": "Zoë"}, {"customer_id": CUSTOMER}))
    assert accepted["statusCode"] == 200, accepted["body"]


# ------------------------------------------------------------------------------ the document
def test_deleting_a_flag_documents_a_204_without_a_body(seeded: Stack) -> None:
    # Before: the 204 was documented as an application/json body (`null`), which it never has.
    app = seeded.load("admin_flags", "AdminFlagsFunction")
    schemes = {next(iter(STAFF_SECURITY[0])): HTTPBearer(bearerFormat="JWT")}
    document = app.app.get_openapi_schema(security_schemes=schemes).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    deleted = document["paths"]["/v1/admin/flags/{flag_id}"]["delete"]["responses"]["204"]
    assert not deleted.get("content")
