"""Flag matching through POST /v1/appointments in process on moto (seed 004): flags made with the
admin flag routes, bookings made with the booking function, and what the appointment and the
store's e-mail carry. A match informs staff; the booking stands, and the customer sees nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.domain.audit import Actor
from bookbay.domain.booking_request import BookingRequest
from bookbay.models import keys
from bookbay.repositories.availability import AvailabilityRepository
from bookbay.repositories.booking import BookingRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import booking as booking_service
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack
from tests.integration.test_admin_flags_api import on, post_event
from tests.integration.test_booking_api import Post, body, body_of, created, of_kind, poster, table
from tests.integration.test_returning_booking import SAME_PLACE, STRANGER, verify
from tests.support import response_json

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 09:00 in Austin
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
STORE = "austin@demo-auto.example.com"
HOME = {"line1": "123 Main Street", "city": "Austin", "state": "TX", "zip": "78701"}
DANA = {"first_name": "Dana", "last_name": "Rivera", "phone": "+1 512-555-0123", "email": "dana@example.com"}
REASON = "Threatened staff over the bill"


@pytest.fixture
def apps(
    booking_app: ModuleType, seeded: Stack, monkeypatch: pytest.MonkeyPatch
) -> tuple[ModuleType, ModuleType]:
    monkeypatch.setattr(booking_app, "clock", lambda: NOW)
    flags_app = seeded.load("admin_flags", "AdminFlagsFunction")
    monkeypatch.setattr(flags_app, "clock", lambda: NOW)
    return booking_app, flags_app


@pytest.fixture
def book(apps: tuple[ModuleType, ModuleType], call: Any) -> Post:
    return poster(apps[0], call)


@pytest.fixture
def flag(apps: tuple[ModuleType, ModuleType], call: Any) -> Any:
    """Flag with the admin route; the flag's id."""

    def create(**fields: Any) -> str:
        response = call(apps[1], post_event({"reason": REASON, **fields}))
        assert response["statusCode"] == 201, response["body"]
        flag_id: str = response_json(response)["flag"]["id"]
        return flag_id

    return create


@pytest.fixture
def unflag(apps: tuple[ModuleType, ModuleType], call: Any) -> Any:
    def remove(flag_id: str, field: str) -> None:
        response = call(apps[1], on("admin_flags_unflag_field", flag_id, field))
        assert response["statusCode"] == 200, response["body"]

    return remove


def at(hours: int) -> str:
    return (TUESDAY + timedelta(hours=hours)).isoformat()


def stored(stack: Stack, response: dict[str, Any]) -> dict[str, Any]:
    """The appointment a 201 booked, as stored."""
    appointment_id = created(response)["appointment"]["id"]
    record: dict[str, Any] = body_of(table(stack)[keys.appointment_pk(appointment_id), keys.APPOINTMENT_SK])
    return record


def mail_to(stack: Stack, to: str, appointment_id: str) -> dict[str, Any]:
    (mail,) = [
        m
        for m in of_kind(table(stack), "Outbox")
        if m["to_address"] == to and m.get("reference") == f"appointment:{appointment_id}"
    ]
    return mail


# ------------------------------------------------------------------------------ seed 004
def test_same_person_new_email_same_phone_matches_on_the_phone(seeded: Stack, book: Post, flag: Any) -> None:
    flag_id = flag(name="Dana Rivera", email="dana@example.com", phone="512-555-0123", address=HOME)

    # The flagged customer comes back with a new e-mail (and a girlfriend's name)
    response = book(
        body(start=at(0), customer={**DANA, "first_name": "Alex", "email": "alex@new.example.com"})
    )
    record = stored(seeded, response)
    assert record["flag_matches"] == [{"flag_id": flag_id, "fields": ["phone"], "reason": REASON}]
    assert record["flagged"] is True and record["status"] == "requested"  # booked all the same

    # ... or with their own name, typed their own way
    record = stored(
        seeded,
        book(body(start=at(1), customer={**DANA, "first_name": " DANA ", "email": "dana2@new.example.com"})),
    )
    assert record["flag_matches"] == [{"flag_id": flag_id, "fields": ["name", "phone"], "reason": REASON}]


def test_new_people_at_a_flagged_address_match_on_the_address_alone(
    seeded: Stack, book: Post, flag: Any
) -> None:
    flag_id = flag(name="Dana Rivera", email="dana@example.com", phone="512-555-0123", address=HOME)
    newcomers = {
        "first_name": "Sam",
        "last_name": "Okafor",
        "phone": "512-555-0188",
        "email": "sam@example.com",
    }
    same_place = {"line1": "123 MAIN ST", "city": "AUSTIN", "state": "TX", "zip": "78701"}

    response = book(body(start=at(0), customer=newcomers, appointment_type="at_home", address=same_place))
    record = stored(seeded, response)
    assert record["flag_matches"] == [{"flag_id": flag_id, "fields": ["address"], "reason": REASON}]
    # The customer is told nothing about it; the store is
    assert "flag" not in response["body"].lower()
    customer_mail = mail_to(seeded, "sam@example.com", record["id"])
    assert "flag" not in (customer_mail["text"] + customer_mail.get("html", "")).lower()
    store_mail = mail_to(seeded, STORE, record["id"])
    assert f"Flagged customer: matched on address - reason: {REASON}" in store_mail["text"]
    assert "Flagged customer:</strong> matched on address" in store_mail["html"]


def test_an_in_store_booking_giving_a_flagged_address_matches_on_it(
    seeded: Stack, book: Post, flag: Any
) -> None:
    flag_id = flag(name="Dana Rivera", address=HOME)
    record = stored(seeded, book(body(start=at(0), customer=STRANGER, address=SAME_PLACE)))
    assert record["appointment_type"] == "in_store" and record.get("address_id") is None
    assert record["flag_matches"] == [{"flag_id": flag_id, "fields": ["address"], "reason": REASON}]


def test_unflagging_the_phone_leaves_the_other_fields_matching(
    seeded: Stack, book: Post, flag: Any, unflag: Any
) -> None:
    flag_id = flag(name="Dana Rivera", email="dana@example.com", phone="512-555-0123", address=HOME)
    unflag(flag_id, "phone")

    # The phone alone no longer matches
    record = stored(
        seeded, book(body(start=at(0), customer={**DANA, "first_name": "Alex", "email": "a@x.example.com"}))
    )
    assert record["flag_matches"] == [] and record["flagged"] is False
    assert "Flagged" not in mail_to(seeded, STORE, record["id"])["text"]

    # The rest still does
    record = stored(
        seeded,
        book(body(start=at(1), customer=DANA, appointment_type="at_home", address=HOME)),
    )
    assert record["flag_matches"] == [
        {"flag_id": flag_id, "fields": ["name", "email", "address"], "reason": REASON}
    ]
    assert (
        f"Flagged customer: matched on name, email, address - reason: {REASON}"
        in mail_to(seeded, STORE, record["id"])["text"]
    )


def test_two_flags_match_separately_and_a_deleted_flag_not_at_all(
    seeded: Stack, book: Post, flag: Any, apps: tuple[ModuleType, ModuleType], call: Any
) -> None:
    by_phone = flag(phone="512-555-0123")
    by_email = flag(email="DANA@example.com")
    record = stored(seeded, book(body(start=at(0), customer=DANA)))
    assert record["flag_matches"] == sorted(
        [
            {"flag_id": by_phone, "fields": ["phone"], "reason": REASON},
            {"flag_id": by_email, "fields": ["email"], "reason": REASON},
        ],
        key=lambda m: m["flag_id"],
    )
    assert mail_to(seeded, STORE, record["id"])["text"].count("Flagged customer:") == 2

    assert call(apps[1], on("admin_flags_delete", by_phone))["statusCode"] == 204
    record = stored(seeded, book(body(start=at(1), customer=DANA)))
    assert [m["flag_id"] for m in record["flag_matches"]] == [by_email]


def test_no_flags_no_matches(seeded: Stack, book: Post, flag: Any) -> None:
    flag(name="Someone Else", phone="+1 512-555-0999")
    record = stored(seeded, book(body(start=at(0), customer=DANA)))
    assert record["flag_matches"] == [] and record["flagged"] is False
    assert "Flagged" not in mail_to(seeded, STORE, record["id"])["text"]


# ------------------------------------------------------------------------------ details on file
def test_a_verified_customer_booking_with_the_details_on_file_is_matched_too(
    seeded: Stack,
    book: Post,
    flag: Any,
    verification_app: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verification_app, "clock", lambda: NOW)
    # A customer books at home, then is flagged on the phone and the address they have on file
    first = stored(seeded, book(body(start=at(0), customer=DANA, appointment_type="at_home", address=HOME)))
    assert first["flag_matches"] == []
    flag_id = flag(phone="512-555-0123", address=HOME)

    # They verify by e-mail and book with nothing typed: the saved vehicle and address
    again = verify(seeded, verification_app, "email", "dana@example.com", zip_code="78701")
    (vehicle,) = again["customer"]["vehicles"]
    (address,) = again["customer"]["addresses"]
    data = {
        "location_id": "austin-downtown",
        "service_id": "oil-change",
        "appointment_type": "at_home",
        "start": at(1),
        "vehicle_id": vehicle["id"],
        "address_id": address["id"],
        "source": "web",
    }
    record = stored(seeded, book(data, Authorization=f"Bearer {again['verification_token']}"))
    # The phone and the address came from the record, not the request: still matched
    assert record["contact"]["phone"] == "+15125550123" and record["address_id"] == address["id"]
    assert record["flag_matches"] == [{"flag_id": flag_id, "fields": ["phone", "address"], "reason": REASON}]
    assert len(of_kind(table(seeded), "Appointment")) == 2  # written once


def test_a_customer_verified_by_sms_is_matched_on_that_phone(
    seeded: Stack,
    book: Post,
    flag: Any,
    verification_app: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_calls: Counter[str],
) -> None:
    monkeypatch.setattr(verification_app, "clock", lambda: NOW)
    stored(seeded, book(body(start=at(0), customer=DANA)))
    flag_id = flag(phone="512-555-0123", email="dana@example.com")

    # Nothing typed: the verified phone is read with the customer, the e-mail on file is checked
    token = verify(seeded, verification_app, "sms", "+15125550123")
    data = {**body(start=at(1)), "customer": None, "vehicle": None}
    data["vehicle_id"] = token["customer"]["vehicles"][0]["id"]
    dynamodb_calls.clear()
    record = stored(seeded, book(data, Authorization=f"Bearer {token['verification_token']}"))
    assert record["flag_matches"] == [{"flag_id": flag_id, "fields": ["email", "phone"], "reason": REASON}]
    # The failed check on the e-mail handed its flag back: one read in all, the write once more
    assert dynamodb_calls["BatchGetItem"] == 1 and dynamodb_calls["TransactWriteItems"] == 2
    assert len(of_kind(table(seeded), "Appointment")) == 2


def test_an_unflagged_value_on_file_passes_the_check(
    seeded: Stack,
    book: Post,
    flag: Any,
    unflag: Any,
    verification_app: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verification_app, "clock", lambda: NOW)
    stored(seeded, book(body(start=at(0), customer=DANA)))
    flag_id = flag(phone="512-555-0123", name="Somebody Else")
    unflag(flag_id, "phone")
    assert "entries" not in table(seeded)[keys.flag_value_pk("phone", "+15125550123"), keys.FLAGVALUE_SK]

    token = verify(seeded, verification_app, "email", "dana@example.com")
    data = {**body(start=at(1)), "customer": None, "vehicle": None}
    data["vehicle_id"] = token["customer"]["vehicles"][0]["id"]
    record = stored(seeded, book(data, Authorization=f"Bearer {token['verification_token']}"))
    assert record["flag_matches"] == []


# ------------------------------------------------------------------------------ entered by staff
def test_a_booking_entered_by_staff_is_checked_the_same_way(seeded: Stack, flag: Any) -> None:
    flag_id = flag(email="dana@example.com")
    catalog_repo = CatalogRepository(seeded.table_name, REGION)
    result = booking_service.book(
        BookingRequest.model_validate({**body(start=at(0), customer=DANA), "source": "phone"}),
        now=NOW,
        catalog_repo=catalog_repo,
        booking_repo=BookingRepository(seeded.table_name, REGION),
        availability_repo=AvailabilityRepository(seeded.table_name, REGION),
        configured_base_url=PUBLIC_BASE_URL,
        staff=booking_service.StaffBooking(actor=Actor(sub="s-1", email="advisor@demo-auto.example.com")),
    )
    record = body_of(table(seeded)[keys.appointment_pk(result.appointment.id), keys.APPOINTMENT_SK])
    assert record["flag_matches"] == [{"flag_id": flag_id, "fields": ["email"], "reason": REASON}]
    assert record["source"] == "phone"


def test_the_store_html_escapes_the_reason(seeded: Stack, book: Post, flag: Any) -> None:
    flag(phone="512-555-0123", reason="<b>loud</b> & rude")
    record = stored(seeded, book(body(start=at(0), customer=DANA)))
    mail = mail_to(seeded, STORE, record["id"])
    assert "&lt;b&gt;loud&lt;/b&gt; &amp; rude" in mail["html"] and "<b>loud</b>" not in mail["html"]
    assert "reason: <b>loud</b> & rude" in mail["text"]
    assert json.dumps(record["flag_matches"][0]["reason"]) == json.dumps("<b>loud</b> & rude")
