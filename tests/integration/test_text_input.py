"""Text that is not text (issue 14, item 6), in process on moto: a NUL, an ESC, a RIGHT-TO-LEFT
OVERRIDE (U+202E) or a ZERO WIDTH SPACE (U+200B) in a name, a vehicle field, an address, a note or
a reason is a 422 naming the field, on the public booking and on the staff routes, and nothing is
written; names of every script still book, in NFC; and a record stored before the rule (with such
a character in it) still reads, the character shown as U+FFFD."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.domain.catalog import Catalog
from bookbay.models import keys
from bookbay.models.appointments import AppointmentItem
from bookbay.repositories.catalog import CatalogRepository
from tests.integration.conftest import REGION, Stack, table_items
from tests.support import load_event, response_json, with_body, with_value
from tests.support.appointments import local, next_weekday, seed_appointment
from tests.support.customers import CUSTOMER, add_customer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 09:00 in Austin
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
NOT_TEXT = {"NUL": "\x00", "ESC": "\x1b", "RLO": "\u202e", "ZWSP": "\u200b"}
Call = Any


# ------------------------------------------------------------------------------ helpers
def booking(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(load_event("booking_post")["body"])
    data.update(
        start=TUESDAY_10.isoformat(),
        address={
            "line1": "1100 S Lamar Blvd",
            "line2": "Unit 4",
            "city": "Austin",
            "state": "TX",
            "zip": "78704",
        },
    )
    data.update(overrides)
    return data


def event(name: str, data: Any = None, params: dict[str, str] | None = None) -> dict[str, Any]:
    e = load_event(name)
    if params is not None:
        path = e["resource"]
        for key, value in params.items():
            path = path.replace("{" + key + "}", value)
        e["path"], e["pathParameters"] = path, params
    if data is not None:
        e = with_body(e, json.dumps(data))
    return e


def refused(response: dict[str, Any], field: str) -> str:
    """The 422's message for ``field``, after checking it is the validation error naming it."""
    assert response["statusCode"] == 422, response["body"]
    error = response_json(response)["error"]
    assert error["code"] == "validation_error", error
    messages = [d["message"] for d in error["details"] if d["field"] == field]
    assert messages, error["details"]
    return str(messages[0])


@pytest.fixture
def book(seeded: Stack, call: Call, monkeypatch: pytest.MonkeyPatch) -> Any:
    app = seeded.load("booking", "BookingFunction")
    monkeypatch.setattr(app, "clock", lambda: NOW)
    keys_used = iter(range(1, 10_000))

    def post(data: dict[str, Any]) -> dict[str, Any]:
        e = with_body(load_event("booking_post"), json.dumps(data))
        e["headers"]["Idempotency-Key"] = f"text-key-{next(keys_used):06d}"
        e["multiValueHeaders"] = {k: [v] for k, v in e["headers"].items()}
        response: dict[str, Any] = call(app, e)
        return response

    return post


@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    return CatalogRepository(seeded.table_name, REGION).catalog()


@pytest.fixture
def appointments_app(seeded: Stack) -> ModuleType:
    return seeded.load("admin_appointments", "AdminAppointmentsFunction")


# ------------------------------------------------------------------------------ the public booking
@pytest.mark.parametrize(
    "field",
    [
        "customer.first_name",
        "customer.last_name",
        "vehicle.make",
        "vehicle.model",
        "address.line1",
        "address.line2",
        "address.city",
        "notes",
    ],
)
def test_a_booking_with_a_character_that_is_not_text_is_422_naming_the_field(
    seeded: Stack, book: Any, field: str
) -> None:
    before = table_items(seeded)
    for name, char in NOT_TEXT.items():
        message = refused(book(with_value(booking(), field, f"Ab{char}cd")), f"body.{field}")
        assert f"character 3 is U+{ord(char):04X}" in message, (name, message)
    assert table_items(seeded) == before  # nothing written: no customer, appointment or message


def test_a_line_break_in_a_one_line_field_is_refused_and_in_the_notes_taken(seeded: Stack, book: Any) -> None:
    before = table_items(seeded)
    assert "one line only" in refused(
        book(with_value(booking(), "customer.last_name", "Ri\nvera")), "body.customer.last_name"
    )
    assert "a tab" in refused(book(with_value(booking(), "vehicle.model", "Civic\tSi")), "body.vehicle.model")
    assert table_items(seeded) == before
    answer = book(booking(notes="Brakes squeak.\r\nCall first,\tplease."))
    assert answer["statusCode"] == 201, answer["body"]


@pytest.mark.parametrize(
    ("first", "last", "stored_first", "stored_last"),
    [
        ("Jose\u0301", "Zoe\u0308", "José", "Zoë"),  # decomposed: kept composed (NFC)
        ("Seán", "O'Brien", "Seán", "O'Brien"),
        ("Nguyễn", "Thị Minh Khai", "Nguyễn", "Thị Minh Khai"),
        ("محمد", "العلي", "محمد", "العلي"),
        ("שרה", "כהן", "שרה", "כהן"),
        ("مهدی", "محمدی\u200cنژاد", "مهدی", "محمدی\u200cنژاد"),  # noqa: RUF001 - Persian: a ZWNJ between Arabic letters
        ("Zoë", "Łukasiewicz-Żak", "Zoë", "Łukasiewicz-Żak"),
    ],
)
def test_names_of_every_script_book_in_nfc(
    seeded: Stack, book: Any, first: str, last: str, stored_first: str, stored_last: str
) -> None:
    data = booking(
        customer={
            "first_name": first,
            "last_name": last,
            "phone": "+1 512-555-0177",
            "email": "names@example.com",
        }
    )
    answer = book(data)
    assert answer["statusCode"] == 201, answer["body"]
    appointment_id = response_json(answer)["appointment"]["id"]
    item = AppointmentItem.get(keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK)
    assert (item.body["contact"]["first_name"], item.body["contact"]["last_name"]) == (
        stored_first,
        stored_last,
    )


def test_the_length_is_measured_in_nfc(seeded: Stack, book: Any) -> None:
    # 60 characters composed, 120 code points as typed (e + COMBINING ACUTE ACCENT)
    answer = book(with_value(booking(), "customer.first_name", "e\u0301" * 60))
    assert answer["statusCode"] == 201, answer["body"]
    answer = book(
        with_value(
            booking(start=(TUESDAY_10 + timedelta(hours=1)).isoformat()), "customer.first_name", "é" * 61
        )
    )
    refused(answer, "body.customer.first_name")


# ------------------------------------------------------------------------------ the staff routes
def test_staff_notes_and_a_cancel_reason_that_are_not_text_are_422_and_change_nothing(
    seeded: Stack, appointments_app: ModuleType, call: Call, catalog: Catalog
) -> None:
    a = seed_appointment(catalog, local(next_weekday(datetime.now(UTC).date(), 3), 10)).appointment
    params = {"appointment_id": a.id}
    before = table_items(seeded)
    for char in NOT_TEXT.values():
        for name in ("notes", "staff_notes"):
            response = call(
                appointments_app, event("admin_appointments_patch", {name: f"Call {char}first"}, params)
            )
            refused(response, f"body.{name}")
        response = call(
            appointments_app,
            event(
                "admin_appointments_action",
                {"reason": f"Asked{char}", "notify": False},
                {**params, "action": "cancel"},
            ),
        )
        refused(response, "body.reason")
    assert table_items(seeded) == before  # not cancelled, no audit entry, no message

    # Line breaks and tabs are notes' own: CR LF is kept as LF
    response = call(
        appointments_app,
        event("admin_appointments_patch", {"staff_notes": "Spare key\r\nin\tthe box"}, params),
    )
    assert response["statusCode"] == 200, response["body"]
    assert response_json(response)["appointment"]["staff_notes"] == "Spare key\nin\tthe box"


def test_a_phone_booking_with_a_vehicle_field_that_is_not_text_is_422(
    seeded: Stack, appointments_app: ModuleType, call: Call
) -> None:
    before = table_items(seeded)
    for char in NOT_TEXT.values():
        data = with_value(
            booking(start=local(next_weekday(datetime.now(UTC).date(), 3), 11).isoformat()),
            "vehicle.make",
            f"Hon{char}da",
        )
        refused(call(appointments_app, event("admin_appointments_post", data)), "body.vehicle.make")
    assert table_items(seeded) == before


def test_a_customer_edit_with_a_name_that_is_not_text_is_422(seeded: Stack, call: Call) -> None:
    app = seeded.load("admin_customers", "AdminCustomersFunction")
    add_customer()
    before = table_items(seeded)
    for char in NOT_TEXT.values():
        for name in ("first_name", "last_name"):
            response = call(
                app, event("admin_customers_patch", {name: f"Pa{char}t"}, {"customer_id": CUSTOMER})
            )
            refused(response, f"body.{name}")
    assert table_items(seeded) == before
    response = call(
        app, event("admin_customers_patch", {"first_name": "Zoe\u0308"}, {"customer_id": CUSTOMER})
    )
    assert response["statusCode"] == 200, response["body"]
    assert response_json(response)["customer"]["first_name"] == "Zoë"


def test_a_flag_or_a_block_with_text_that_is_not_text_is_422_and_writes_nothing(
    seeded: Stack, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = seeded.load("admin_flags", "AdminFlagsFunction")
    blocks = seeded.load("admin_blocks", "AdminBlocksFunction")
    monkeypatch.setattr(blocks, "clock", lambda: NOW)
    flag = json.loads(load_event("admin_flags_post")["body"])
    block = json.loads(load_event("admin_blocks_post")["body"])
    before = table_items(seeded)
    for char in NOT_TEXT.values():
        for field in ("name", "reason", "address.line1", "address.city"):
            refused(
                call(flags, event("admin_flags_post", with_value(flag, field, f"Da{char}na Rivera"))),
                f"body.{field}",
            )
        refused(
            call(blocks, event("admin_blocks_post", with_value(block, "reason", f"Lift{char} 2"))),
            "body.reason",
        )
    assert table_items(seeded) == before


# ------------------------------------------------------------------------------ stored before the rule
def test_a_record_stored_before_the_rule_still_reads_with_the_character_replaced(
    seeded: Stack, appointments_app: ModuleType, customer_links_app: ModuleType, call: Call, catalog: Catalog
) -> None:
    seededappt = seed_appointment(catalog, local(next_weekday(datetime.now(UTC).date(), 3), 10))
    a = seededappt.appointment
    item = AppointmentItem.get(keys.appointment_pk(a.id), keys.APPOINTMENT_SK)
    body = dict(item.body)
    body["contact"] = {**body["contact"], "first_name": "Pat\x00", "last_name": "\u202eremotsuC"}
    body["notes"] = "Squeaky\u200b brakes\r\ntoo"
    AppointmentItem(
        item.pk, item.sk, **{**item.attribute_values, "body": body}
    ).save()  # as an old version left it

    response = call(appointments_app, event("admin_appointments_get", params={"appointment_id": a.id}))
    assert response["statusCode"] == 200, response["body"]
    read = response_json(response)["appointment"]
    assert (read["contact"]["first_name"], read["contact"]["last_name"]) == ("Pat\ufffd", "\ufffdremotsuC")
    assert read["notes"] == "Squeaky\ufffd brakes\ntoo"
    listed = call(appointments_app, event("admin_appointments_list"))
    assert listed["statusCode"] == 200, listed["body"]

    page = load_event("customer_get")
    page["path"], page["pathParameters"] = (
        f"/c/{seededappt.customer_token}",
        {"token": seededappt.customer_token},
    )
    response = call(customer_links_app, page)
    assert response["statusCode"] == 200, response["body"][:300]
    assert "\x00" not in response["body"] and "\u202e" not in response["body"]


def test_a_cancel_reason_longer_than_the_appointment_keeps_is_422_not_a_5xx(
    seeded: Stack, appointments_app: ModuleType, call: Call, catalog: Catalog
) -> None:
    # Before: 2,000 characters were accepted, then the appointment's write refused more than 500 (a 5xx)
    a = seed_appointment(catalog, local(next_weekday(datetime.now(UTC).date(), 3), 10)).appointment
    params = {"appointment_id": a.id, "action": "cancel"}
    before = table_items(seeded)
    response = call(
        appointments_app, event("admin_appointments_action", {"reason": "x" * 501, "notify": False}, params)
    )
    assert "at most 500 characters" in refused(response, "body.reason")
    assert table_items(seeded) == before
    response = call(
        appointments_app, event("admin_appointments_action", {"reason": "x" * 500, "notify": False}, params)
    )
    assert response["statusCode"] == 200, response["body"]
    assert response_json(response)["appointment"]["cancellation_reason"] == "x" * 500
