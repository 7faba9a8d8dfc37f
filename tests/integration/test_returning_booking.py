"""Booking with a verification token, in process on moto, through both handlers: a new customer
verified by SMS books; the same person verifies by e-mail, sees the vehicle and a masked address,
books with nothing re-entered and stays one customer; takeover on and off; a shop requiring
verification."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.models import keys
from bookbay.repositories.customers import CustomersRepository
from bookbay.services.customers import set_do_not_service
from tests.integration.conftest import REGION, Stack
from tests.integration.test_booking_api import (
    Post,
    body,
    body_of,
    created,
    of_kind,
    poster,
    set_settings,
    table,
)
from tests.integration.test_verification_api import _post, last_code
from tests.support import error_of, response_json

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
PHONE = "+17375550142"
EMAIL = "morgan.lee@example.com"
MORGAN = {"first_name": "Morgan", "last_name": "Lee", "phone": "(737) 555-0142", "email": EMAIL}
HOME = {"line1": "123 Main Street", "city": "Austin", "state": "TX", "zip": "78701"}
# A phone not on file, at HOME typed another way
STRANGER = {"first_name": "Sam", "last_name": "Okafor", "phone": "512-555-0188", "email": "sam@example.com"}
SAME_PLACE = {"line1": "123 MAIN ST", "city": "AUSTIN", "state": "TX", "zip": "78701"}


@pytest.fixture
def apps(
    booking_app: ModuleType, verification_app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> tuple[ModuleType, ModuleType]:
    monkeypatch.setattr(booking_app, "clock", lambda: NOW)
    monkeypatch.setattr(verification_app, "clock", lambda: NOW)
    return booking_app, verification_app


@pytest.fixture
def book(apps: tuple[ModuleType, ModuleType], post: Post) -> Post:
    def send(data: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return post(data, **headers)

    return send


@pytest.fixture
def post(apps: tuple[ModuleType, ModuleType], call: Any) -> Post:
    return poster(apps[0], call)


def verify(
    stack: Stack, app: ModuleType, channel: str, to: str, zip_code: str | None = None
) -> dict[str, Any]:
    sent = _post(app, "verification_codes_post", {"channel": channel, "to": to}, "203.0.113.20")
    assert sent["statusCode"] == 202, sent["body"]
    check: dict[str, Any] = {"to": to, "code": last_code(stack)}
    if zip_code:
        check["zip"] = zip_code
    response = _post(app, "verification_checks_post", check, "203.0.113.20")
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def at(hours: int) -> str:
    return (TUESDAY + timedelta(hours=hours)).isoformat()


def test_verify_by_sms_book_then_come_back_by_email_and_stay_one_customer(
    seeded: Stack, apps: tuple[ModuleType, ModuleType], book: Post
) -> None:
    set_settings(seeded, require_verification=True)
    _, verification_app = apps

    # A new customer verifies by SMS and books an at-home oil change
    first = verify(seeded, verification_app, "sms", PHONE)
    assert first["returning_customer"] is False
    error_of(book(body(start=at(0), customer=MORGAN)), 401, "verification_required")
    booked = created(
        book(
            body(start=at(0), customer=MORGAN, appointment_type="at_home", address=HOME),
            first["verification_token"],
        )
    )
    items = table(seeded)
    (profile,) = of_kind(items, "Customer")
    customer_id = body_of(profile)["id"]
    assert body_of(profile)["phone"] == PHONE
    phone_item = items[keys.phone_pk(PHONE), keys.PHONE_SK]
    assert phone_item["customer_id"] == customer_id
    assert (phone_item["GSI2PK"], phone_item["GSI2SK"]) == keys.customer_contact_gsi2(
        customer_id, keys.phone_pk(PHONE)
    )
    record = body_of(items[keys.appointment_pk(booked["appointment"]["id"]), keys.APPOINTMENT_SK])
    assert record["verified_via"] == "code" and record["customer_id"] == customer_id

    # The same person comes back from another source and verifies by e-mail
    again = verify(seeded, verification_app, "email", EMAIL.upper(), zip_code="78701")
    assert again["returning_customer"] is True
    (vehicle,) = again["customer"]["vehicles"]
    (address,) = again["customer"]["addresses"]
    assert vehicle["label"] == "2019 Honda Civic" and address["masked"] == "1** M*** St"

    # ... and books with nothing re-entered
    second = created(
        book(
            {
                "location_id": "austin-downtown",
                "service_id": "oil-change",
                "appointment_type": "at_home",
                "start": at(2),
                "vehicle_id": vehicle["id"],
                "address_id": address["id"],
                "source": "google",
            },
            again["verification_token"],
        )
    )
    items = table(seeded)
    assert len(of_kind(items, "Customer")) == 1
    assert len(of_kind(items, "Vehicle")) == 1 and len(of_kind(items, "Address")) == 1
    assert of_kind(items, "ProposedChange") == []
    record = body_of(items[keys.appointment_pk(second["appointment"]["id"]), keys.APPOINTMENT_SK])
    assert record["customer_id"] == customer_id
    assert (record["vehicle_id"], record["address_id"]) == (vehicle["id"], address["id"])
    assert record["contact"]["phone"] == PHONE and record["contact"]["email"] == EMAIL


def test_a_token_for_another_contact_than_typed_is_refused_and_writes_nothing(
    seeded: Stack, apps: tuple[ModuleType, ModuleType], book: Post
) -> None:
    token = verify(seeded, apps[1], "sms", PHONE)["verification_token"]
    before = table(seeded)
    error = error_of(book(body(customer={**MORGAN, "phone": "+17375550143"}), token), 422, "validation_error")
    assert error["details"][0]["field"] == "body.customer.phone"
    assert table(seeded) == before


@pytest.mark.parametrize("takeover", [True, False])
def test_takeover_on_and_off(
    seeded: Stack, apps: tuple[ModuleType, ModuleType], book: Post, takeover: bool
) -> None:
    set_settings(seeded, takeover_enabled=takeover)
    owner = created(book(body(start=at(0), customer=MORGAN, appointment_type="at_home", address=HOME)))
    items = table(seeded)
    owner_id = body_of(items[keys.appointment_pk(owner["appointment"]["id"]), keys.APPOINTMENT_SK])[
        "customer_id"
    ]

    # A phone not on file books at the same place, typed differently
    answer = created(
        book(body(start=at(1), customer=STRANGER, appointment_type="at_home", address=SAME_PLACE))
    )
    items = table(seeded)
    record = body_of(items[keys.appointment_pk(answer["appointment"]["id"]), keys.APPOINTMENT_SK])
    store_mail = [
        m
        for m in of_kind(items, "Outbox")
        if m["to_address"] == "austin@demo-auto.example.com"
        and m.get("reference") == f"appointment:{answer['appointment']['id']}"
    ]
    if takeover:
        assert record["customer_id"] == owner_id and len(of_kind(items, "Customer")) == 1
        assert record["takeover"] == {
            "name": "Sam Okafor",
            "phone": "+15125550188",
            "email": "sam@example.com",
        }
        note = record["staff_notes"]
        assert note.startswith("***POTENTIAL SITE TAKEOVER***\n\nThis job was booked on a location")
        assert "NAME: Sam Okafor" in note and "PHONE NUMBER: +1 512-555-0188" in note
        assert "EMAIL: sam@example.com" in note and "create a new customer record" in note
        assert len(of_kind(items, "Address")) == 1  # the location's own record
        assert (keys.phone_pk("+15125550188"), keys.PHONE_SK) not in items
        (mail,) = store_mail
        assert "***POTENTIAL SITE TAKEOVER***" in mail["text"] and "NAME: Sam Okafor" in mail["text"]
    else:
        assert record["customer_id"] != owner_id and len(of_kind(items, "Customer")) == 2
        assert record.get("takeover") is None and record.get("staff_notes") is None
        addresses = [body_of(a) for a in of_kind(items, "Address")]
        assert (
            len(addresses) == 2 and len({a["canonical"] for a in addresses}) == 1
        )  # one location, two customers
        assert items[keys.phone_pk("+15125550188"), keys.PHONE_SK]["customer_id"] == record["customer_id"]
        (mail,) = store_mail
        assert "TAKEOVER" not in mail["text"]
    # The booker gets the confirmation in both cases
    assert any(m["to_address"] == "sam@example.com" for m in of_kind(items, "Outbox"))


def test_a_verified_do_not_service_customer_is_refused_with_the_store_phone(
    seeded: Stack, apps: tuple[ModuleType, ModuleType], book: Post
) -> None:
    created(book(body(start=at(0), customer=MORGAN)))
    customer_id = of_kind(table(seeded), "Customer")[0]["PK"].removeprefix("CUSTOMER#")
    set_do_not_service(CustomersRepository(seeded.table_name, REGION), customer_id, True)
    answer = verify(seeded, apps[1], "email", EMAIL)
    assert answer["returning_customer"] is True  # the check reveals nothing about the flag
    before = table(seeded)
    error = error_of(
        book(body(start=at(1), customer=None), answer["verification_token"]), 403, "booking_not_available"
    )
    assert error["phone"] == "+15125550100" and "Morgan" not in json.dumps(error)
    assert table(seeded) == before


def test_an_address_given_with_an_in_store_booking_is_kept_on_file(
    seeded: Stack, apps: tuple[ModuleType, ModuleType], book: Post
) -> None:
    """In store (or online) the visit is at the shop, yet the address the customer typed is theirs:
    kept on file (offered masked when they come back, used by takeover), never silently dropped."""
    set_settings(seeded, takeover_enabled=True)
    answer = created(book(body(start=at(0), customer=MORGAN, appointment_type="in_store", address=HOME)))
    items = table(seeded)
    record = body_of(items[keys.appointment_pk(answer["appointment"]["id"]), keys.APPOINTMENT_SK])
    # The appointment is at the shop: no visit address on it
    assert record["appointment_type"] == "in_store" and record.get("address_id") is None
    (address,) = [body_of(a) for a in of_kind(items, "Address")]
    assert address["address"] == {**HOME, "line2": None}
    assert address["canonical"] == "123 MAIN ST|AUSTIN|TX|78701"
    assert (
        items[keys.address_key_pk(address["canonical"]), keys.ADDRESSKEY_SK]["customer_id"]
        == record["customer_id"]
    )
    # Coming back, the customer is offered it, masked
    again = verify(seeded, apps[1], "email", EMAIL, zip_code="78701")
    (offered,) = again["customer"]["addresses"]
    assert (offered["id"], offered["masked"]) == (address["id"], "1** M*** St")
    # and a phone not on file booking in store at that address is the takeover case
    taken = created(
        book(body(start=at(1), customer=STRANGER, appointment_type="in_store", address=SAME_PLACE))
    )
    items = table(seeded)
    second = body_of(items[keys.appointment_pk(taken["appointment"]["id"]), keys.APPOINTMENT_SK])
    assert second["customer_id"] == record["customer_id"] and second["takeover"]["name"] == "Sam Okafor"
    assert len(of_kind(items, "Customer")) == 1 and len(of_kind(items, "Address")) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"address_id": "a" * 20}, "body"),  # a saved address names where an at-home visit goes
        (
            {"address": {"line1": "PO Box 9", "city": "Austin", "state": "TX", "zip": "78701"}},
            "body.address.line1",
        ),
        (
            {"address": {"line1": "1 Main St", "city": "Austin", "state": "CA", "zip": "78701"}},
            "body.address.state",
        ),
    ],
)
def test_an_in_store_booking_with_an_unusable_address_is_refused_and_writes_nothing(
    seeded: Stack, book: Post, change: dict[str, Any], field: str
) -> None:
    before = table(seeded)
    error = error_of(
        book(body(start=at(0), customer=MORGAN, appointment_type="in_store", **change)),
        422,
        "validation_error",
    )
    assert error["details"][0]["field"] == field
    assert table(seeded) == before
