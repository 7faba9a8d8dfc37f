"""POST /v1/appointments in process on moto: what one booking writes, returning customers, the
refusals (which write nothing), idempotency, and slot capacity."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from bookbay.domain.booking import CustomerSummary
from bookbay.domain.ids import hash_token, stable_id
from bookbay.models import keys
from bookbay.models.booking import SlotItem
from bookbay.repositories.booking import BookingRepository, CustomerLookup
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import booking
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack, apply_effects
from tests.support import error_of, load_event, response_json, with_body

pytestmark = pytest.mark.integration

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 09:00 in Austin
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHICAGO)
PHONE = "+15125550123"
EMAIL = "dana.rivera@example.com"
Post = Callable[..., dict[str, Any]]


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(load_event("booking_post")["body"])
    data.update({"start": TUESDAY_10.isoformat(), "notes": None})
    data.update(overrides)
    return data


def customer(
    first: str = "Dana", last: str = "Rivera", phone: str = PHONE, email: str = EMAIL
) -> dict[str, str]:
    return {"first_name": first, "last_name": last, "phone": phone, "email": email}


@pytest.fixture
def app(booking_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setattr(booking_app, "clock", lambda: NOW)
    return booking_app


@pytest.fixture
def post(app: ModuleType, call: Any) -> Post:
    return poster(app, call)


def poster(app: ModuleType, call: Any) -> Post:
    """POST /v1/appointments to ``app``: a fresh Idempotency-Key per call unless ``key`` is given."""
    counter = iter(range(1, 10_000))

    def send(data: dict[str, Any] | str, *, key: str | None = None, **headers: str) -> dict[str, Any]:
        event = load_event("booking_post")
        raw = data if isinstance(data, str) else json.dumps(data)
        event = with_body(event, raw)
        event["headers"].pop("Idempotency-Key", None)
        event["headers"].update(headers)
        event["headers"]["Idempotency-Key"] = key or f"test-key-{next(counter):06d}"
        if key == "":
            del event["headers"]["Idempotency-Key"]
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        response: dict[str, Any] = call(app, event)
        return response

    return send


def set_settings(stack: Stack, **changes: Any) -> None:
    """Change the shop settings (before the function's first request reads the catalog)."""
    repo = CatalogRepository(stack.table_name, REGION)
    catalog, version = repo.catalog_and_version()
    repo.save_settings(
        catalog.shop, catalog.shop.settings.model_copy(update=changes), expected_version=version
    )


def table(stack: Stack) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the domain table, by (PK, SK), as plain values."""
    client = boto3.client("dynamodb", region_name=REGION)
    deserialize = TypeDeserializer().deserialize
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=stack.table_name, ConsistentRead=True):
        for raw in page["Items"]:
            item = {name: deserialize(value) for name, value in raw.items()}
            items[item["PK"], item["SK"]] = item
    return items


def of_kind(items: dict[tuple[str, str], dict[str, Any]], entity: str) -> list[dict[str, Any]]:
    return [item for item in items.values() if item.get("entity") == entity]


def body_of(item: dict[str, Any]) -> Any:
    return json.loads(item["body"])


def created(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 201, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


# ------------------------------------------------------------------------------ a new customer
def test_a_new_customer_books_and_everything_is_written_at_once(seeded: Stack, post: Post) -> None:
    answer = created(post(body(notes="Squeaky brakes")))

    appointment = answer["appointment"]
    assert appointment == {
        "id": appointment["id"],
        "status": "requested",
        "start": "2026-11-24T10:00:00-06:00",
        "end": "2026-11-24T10:30:00-06:00",
        "location_id": "austin-downtown",
        "service_id": "oil-change",
        "appointment_type": "in_store",
    }
    assert answer["manage_url"].startswith(f"{PUBLIC_BASE_URL}/c/")
    items = table(seeded)
    # The appointment, with its index keys
    stored = items[keys.appointment_pk(appointment["id"]), keys.APPOINTMENT_SK]
    assert stored["status"] == "requested" and stored["version"] == 1
    assert (stored["GSI1PK"], stored["GSI1SK"]) == (
        "LOCATION#austin-downtown",
        f"2026-11-24T10:00:00#{appointment['id']}",
    )
    record = body_of(stored)
    customer_id = record["customer_id"]
    assert (stored["GSI2PK"], stored["GSI2SK"]) == (
        f"CUSTOMER#{customer_id}",
        "APPOINTMENT#2026-11-24T16:00:00Z",
    )
    assert record["contact"] == customer(phone=PHONE) and record["notes"] == "Squeaky brakes"
    assert record["slot_starts"] == ["2026-11-24T16:00:00Z"] and record["source"] == "web"
    # The customer, found later by phone or e-mail
    profile = body_of(items[keys.customer_pk(customer_id), keys.PROFILE_SK])
    assert (profile["first_name"], profile["phone"], profile["email"]) == ("Dana", PHONE, EMAIL)
    for pk, sk in ((keys.phone_pk(PHONE), keys.PHONE_SK), (keys.email_pk(EMAIL), keys.EMAIL_SK)):
        assert items[pk, sk]["customer_id"] == customer_id
        assert CustomerSummary.model_validate(json.loads(items[pk, sk]["summary"])).customer_id == customer_id
    # The vehicle on the customer; the slot's capacity; no address for an in-store booking
    (vehicle,) = of_kind(items, "Vehicle")
    assert vehicle["SK"] == keys.vehicle_sk(stable_id(customer_id, "2019|honda|civic"))
    assert record["vehicle_id"] == body_of(vehicle)["id"] and record["address_id"] is None
    assert items["LOCATION#austin-downtown", "SLOT#2026-11-24T16:00:00Z"]["used"] == 1
    assert of_kind(items, "Address") == [] and of_kind(items, "AddressKey") == []
    # The messages (outbox, delivered by the stream) and the link tokens (hashes only)
    outbox = of_kind(items, "Outbox")
    assert sorted(m["to_address"] for m in outbox) == ["austin@demo-auto.example.com", EMAIL]
    assert all(
        m["status"] == "pending" and m["reference"] == f"appointment:{appointment['id']}" for m in outbox
    )
    tokens = of_kind(items, "LinkToken")
    assert sorted(t["kind"] for t in tokens) == ["customer", "staff"]
    raw_token = answer["manage_url"].rsplit("/", 1)[1]
    assert keys.token_pk(hash_token(raw_token)) in {t["PK"] for t in tokens}
    # Only the customer's e-mail carries the raw token: no stored record does
    holders = {item["entity"] for item in items.values() if raw_token in json.dumps(item, default=str)}
    assert holders == {"Outbox"}
    assert [m["to_address"] for m in outbox if raw_token in m["text"]] == [EMAIL]


@pytest.mark.parametrize(("mode", "status"), [("request", "requested"), ("instant", "confirmed")])
def test_the_booking_mode_decides_the_status(seeded: Stack, post: Post, mode: str, status: str) -> None:
    set_settings(seeded, booking_mode=mode)
    assert created(post(body()))["appointment"]["status"] == status


@pytest.mark.parametrize(
    ("preferred", "customer_channels"), [("sms", ["sms"]), ("email", ["email"]), ("phone", [])]
)
def test_an_instant_booking_sends_the_e_confirmation_by_the_preferred_channel_and_schedules_the_reminder(
    seeded: Stack, post: Post, preferred: str, customer_channels: list[str]
) -> None:
    # Given a shop that books at once, and a new customer who wants texts (or e-mail, or a call)
    set_settings(seeded, booking_mode="instant")
    wednesday_10 = datetime(2026, 11, 25, 10, 0, tzinfo=CHICAGO)
    answer = created(post(body(preferred_channel=preferred, start=wednesday_10.isoformat())))
    appointment_id = answer["appointment"]["id"]
    items = table(seeded)
    # Then the profile keeps the preference
    profile = next(body_of(i) for i in of_kind(items, "Customer"))
    assert profile["preferred_channel"] == preferred
    # and the customer gets the e-confirmation by that channel (none for "phone"), carrying the very
    # link the booking answered; the store is told as always
    outbox = of_kind(items, "Outbox")
    to_customer = [m for m in outbox if m["to_address"] in (PHONE, EMAIL)]
    assert [m["channel"] for m in to_customer] == customer_channels
    for message in to_customer:
        assert answer["manage_url"] in message["text"]
        assert "Bookbay Demo Auto" in message["text"]
    if preferred == "sms":
        assert len(to_customer[0]["text"]) <= 320  # short: two SMS segments at most
    assert len([m for m in outbox if m["channel"] == "email" and m["to_address"] not in (PHONE, EMAIL)]) == 1
    # And its reminder is scheduled (by the outbox worker, from the booking's effect): 09:00 Austin
    # time on Tuesday, the business day before
    (effect,) = apply_effects(seeded, NOW)
    assert (effect["status"]["S"], json.loads(effect["body"]["S"])["subject"]) == ("done", appointment_id)
    client = boto3.client("scheduler", region_name=REGION)
    schedule = client.get_schedule(Name=f"reminder-{appointment_id}", GroupName=seeded.schedule_group)
    assert schedule["ScheduleExpression"] == "at(2026-11-24T15:00:00)"
    assert json.loads(schedule["Target"]["Input"]) == {"reminder": appointment_id, "sequence": 0}


def test_a_requested_booking_has_no_reminder_yet(seeded: Stack, post: Post) -> None:
    created(post(body(preferred_channel="sms")))
    assert apply_effects(seeded) == []  # a request has no reminder to sync
    client = boto3.client("scheduler", region_name=REGION)
    names = [s["Name"] for s in client.list_schedules(GroupName=seeded.schedule_group)["Schedules"]]
    assert [n for n in names if n.startswith("reminder-")] == []


def test_a_90_minute_service_holds_three_slots(seeded: Stack, post: Post) -> None:
    answer = created(post(body(service_id="brake-inspection")))
    assert answer["appointment"]["end"] == "2026-11-24T11:30:00-06:00"
    slots = {item["SK"]: item["used"] for item in of_kind(table(seeded), "Slot")}
    assert slots == {
        "SLOT#2026-11-24T16:00:00Z": 1,
        "SLOT#2026-11-24T16:30:00Z": 1,
        "SLOT#2026-11-24T17:00:00Z": 1,
    }


# ------------------------------------------------------------------------------ returning customers
def test_a_returning_customer_by_phone_never_overwrites_and_proposes_changes(
    seeded: Stack, post: Post
) -> None:
    first = created(post(body()))
    before = table(seeded)
    customer_id = body_of(before[keys.appointment_pk(first["appointment"]["id"]), keys.APPOINTMENT_SK])[
        "customer_id"
    ]
    profile_before = before[keys.customer_pk(customer_id), keys.PROFILE_SK]

    # When the same phone books with another last name and another e-mail
    second = created(
        post(
            body(
                start=(TUESDAY_10 + timedelta(hours=1)).isoformat(),
                customer=customer(first="DANA", last="Rivera-Lopez", email="dana@work.example.com"),
            )
        )
    )

    after = table(seeded)
    record = body_of(after[keys.appointment_pk(second["appointment"]["id"]), keys.APPOINTMENT_SK])
    assert record["customer_id"] == customer_id
    assert record["contact"]["last_name"] == "Rivera-Lopez"  # as the booker typed it, on the appointment
    assert after[keys.customer_pk(customer_id), keys.PROFILE_SK] == profile_before  # the record is untouched
    assert len(of_kind(after, "Customer")) == 1
    proposals = sorted((body_of(p) for p in of_kind(after, "ProposedChange")), key=lambda c: c["field"])
    assert [(p["field"], p["current"], p["proposed"]) for p in proposals] == [
        ("email", EMAIL, "dana@work.example.com"),
        ("last_name", "Rivera", "Rivera-Lopez"),
    ]
    assert all(p["appointment_id"] == second["appointment"]["id"] for p in proposals)
    assert {item["GSI3PK"] for item in of_kind(after, "ProposedChange")} == {keys.PROPOSED_PENDING_GSI3PK}
    assert {item["status"] for item in of_kind(after, "ProposedChange")} == {"pending"}
    # The unverified new e-mail is proposed, not added as a lookup: verifying it later must not
    # reveal this customer's vehicles and addresses to whoever typed it
    assert (keys.email_pk("dana@work.example.com"), keys.EMAIL_SK) not in after
    assert BookingRepository(seeded.table_name, REGION).find_customer(PHONE, "x@example.com") == (
        CustomerSummary.model_validate(json.loads(after[keys.phone_pk(PHONE), keys.PHONE_SK]["summary"]))
    )


def test_a_returning_customer_by_email_gets_the_new_phone_proposed(seeded: Stack, post: Post) -> None:
    created(post(body()))
    created(
        post(
            body(start=(TUESDAY_10 + timedelta(hours=1)).isoformat(), customer=customer(phone="512-555-0188"))
        )
    )
    items = table(seeded)
    (profile,) = of_kind(items, "Customer")
    customer_id = body_of(profile)["id"]
    assert (keys.phone_pk("+15125550188"), keys.PHONE_SK) not in items
    assert [(p["field"], p["proposed"]) for p in map(body_of, of_kind(items, "ProposedChange"))] == [
        ("phone", "+15125550188")
    ]
    assert {body_of(a)["customer_id"] for a in of_kind(items, "Appointment")} == {customer_id}


def test_a_known_vehicle_is_not_duplicated_and_a_new_one_is_added(seeded: Stack, post: Post) -> None:
    created(post(body()))
    created(
        post(
            body(
                start=(TUESDAY_10 + timedelta(hours=1)).isoformat(),
                vehicle={"year": 2019, "make": "HONDA", "model": " civic "},
            )
        )
    )
    assert len(of_kind(table(seeded), "Vehicle")) == 1
    created(
        post(
            body(
                start=(TUESDAY_10 + timedelta(hours=2)).isoformat(),
                vehicle={"year": 2021, "make": "Ford", "model": "F-150", "vin": "1FTFW1E50MFA00001"},
            )
        )
    )
    items = table(seeded)
    vehicles = sorted((body_of(v) for v in of_kind(items, "Vehicle")), key=lambda v: v["year"])
    assert [(v["year"], v["make"], v["vin"]) for v in vehicles] == [
        (2019, "Honda", None),  # as first written: never overwritten by the later spelling
        (2021, "Ford", "1FTFW1E50MFA00001"),
    ]
    appointments = sorted((body_of(a) for a in of_kind(items, "Appointment")), key=lambda a: a["start"])
    assert [a["vehicle_id"] for a in appointments] == [
        vehicles[0]["id"],
        vehicles[0]["id"],
        vehicles[1]["id"],
    ]


def test_a_saved_vehicle_can_be_booked_by_its_id(seeded: Stack, post: Post) -> None:
    created(post(body()))
    (vehicle,) = of_kind(table(seeded), "Vehicle")
    vehicle_id = body_of(vehicle)["id"]
    answer = created(
        post(body(start=(TUESDAY_10 + timedelta(hours=1)).isoformat(), vehicle=None, vehicle_id=vehicle_id))
    )
    record = body_of(table(seeded)[keys.appointment_pk(answer["appointment"]["id"]), keys.APPOINTMENT_SK])
    assert record["vehicle_id"] == vehicle_id


def test_an_at_home_booking_stores_the_canonical_address_on_the_customer(seeded: Stack, post: Post) -> None:
    address = {
        "line1": "1100 Congress Avenue",
        "line2": "Apt. 4",
        "city": "Austin",
        "state": "TX",
        "zip": "78701",
    }
    answer = created(post(body(appointment_type="at_home", address=address)))
    # Booking the same place again, spelled differently, adds no second address
    created(
        post(
            body(
                appointment_type="at_home",
                start=(TUESDAY_10 + timedelta(hours=1)).isoformat(),
                address={**address, "line1": "1100 congress ave", "line2": "apartment 4"},
            )
        )
    )
    items = table(seeded)
    canonical = "1100 CONGRESS AVE APT 4|AUSTIN|TX|78701"
    (stored,) = of_kind(items, "Address")
    record = body_of(items[keys.appointment_pk(answer["appointment"]["id"]), keys.APPOINTMENT_SK])
    customer_id = record["customer_id"]
    assert stored["PK"] == keys.customer_pk(customer_id)
    assert body_of(stored) == {
        "id": stable_id(customer_id, canonical),
        "address": address,
        "canonical": canonical,
    }
    assert record["address_id"] == stable_id(customer_id, canonical)
    key = items[keys.address_key_pk(canonical), keys.ADDRESSKEY_SK]
    assert (key["customer_id"], key["address_id"]) == (customer_id, stable_id(customer_id, canonical))


# ------------------------------------------------------------------------------ refusals change nothing
FORM = "application/x-www-form-urlencoded"


def address(line1: str, city: str, zip_code: str) -> dict[str, str]:
    return {"line1": line1, "city": city, "state": "TX", "zip": zip_code}


BAD_REQUESTS: list[tuple[str, Any, dict[str, str], int, str]] = [
    ("malformed JSON", "{not json", {}, 400, "malformed_json"),
    ("no customer", {"customer": None}, {}, 422, "validation_error"),
    ("bad phone", {"customer": customer(phone="555")}, {}, 422, "validation_error"),
    ("bad e-mail", {"customer": customer(email="dana@@example")}, {}, 422, "validation_error"),
    ("naive start", {"start": "2026-11-24T10:00:00"}, {}, 422, "validation_error"),
    ("two vehicles", {"vehicle_id": "a" * 20}, {}, 422, "validation_error"),
    ("bad source", {"source": "Web!"}, {}, 422, "validation_error"),
    ("unknown location", {"location_id": "nowhere"}, {}, 404, "location_not_found"),
    ("unknown service", {"service_id": "nothing"}, {}, 404, "service_not_found"),
    ("type not offered", {"appointment_type": "online"}, {}, 422, "appointment_type_not_offered"),
    ("at home, no address", {"appointment_type": "at_home"}, {}, 422, "validation_error"),
    (
        "at home, unserved ZIP",
        {"appointment_type": "at_home", "address": address("1 Main St", "Round Rock", "78664")},
        {},
        422,
        "zip_not_served",
    ),
    (
        "at home, not an address",
        {"appointment_type": "at_home", "address": address("PO Box 9", "Austin", "78701")},
        {},
        422,
        "validation_error",
    ),
    ("unknown saved vehicle", {"vehicle": None, "vehicle_id": "f" * 20}, {}, 422, "validation_error"),
    ("not a slot start", {"start": "2026-11-24T10:10:00-06:00"}, {}, 409, "slot_unavailable"),
    ("a Sunday", {"start": "2026-11-29T10:00:00-06:00"}, {}, 409, "slot_unavailable"),
    ("inside the lead time", {"start": "2026-11-23T10:00:00-06:00"}, {}, 409, "slot_unavailable"),
    ("past the horizon", {"start": "2027-03-01T10:00:00-06:00"}, {}, 409, "slot_unavailable"),
    ("no idempotency key", {}, {"key": ""}, 422, "validation_error"),
    ("short idempotency key", {}, {"key": "short"}, 422, "validation_error"),
    ("a form body", "location_id=x", {"Content-Type": FORM}, 415, "unsupported_media_type"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "headers", "status", "code"),
    [
        pytest.param(change, headers, status, code, id=name)
        for name, change, headers, status, code in BAD_REQUESTS
    ],
)
def test_a_refused_booking_changes_nothing(
    seeded: Stack, post: Post, change: Any, headers: dict[str, str], status: int, code: str
) -> None:
    before = table(seeded)
    data = change if isinstance(change, str) else body(**change)
    key = headers.pop("key", None)
    error = error_of(post(data, key=key, **headers), status, code)
    if status == 409:
        assert len(error["alternatives"]) == 3
    assert table(seeded) == before


def test_a_shop_requiring_verification_answers_401_and_changes_nothing(seeded: Stack, post: Post) -> None:
    set_settings(seeded, require_verification=True)
    before = table(seeded)
    error_of(post(body()), 401, "verification_required")
    error_of(post(body(), Authorization="Bearer not-a-token"), 401, "invalid_verification_token")
    assert table(seeded) == before


# Do Not Service (told only to a verified booker; anyone else's booking is a request for staff
# to review, answered like anyone's): tests/integration/test_do_not_service_booking.py


# ------------------------------------------------------------------------------ idempotency
def test_a_replay_returns_the_first_answer_and_books_once(seeded: Stack, post: Post) -> None:
    first = post(body(), key="replay-key-0001")
    again = post(body(), key="replay-key-0001")
    assert first["statusCode"] == again["statusCode"] == 201
    assert response_json(again) == response_json(first)
    items = table(seeded)
    assert len(of_kind(items, "Appointment")) == 1 and len(of_kind(items, "Outbox")) == 2
    assert items["LOCATION#austin-downtown", "SLOT#2026-11-24T16:00:00Z"]["used"] == 1


def test_the_same_key_with_another_body_is_refused(seeded: Stack, post: Post) -> None:
    created(post(body(), key="reused-key-0001"))
    before = table(seeded)
    other = body(start=(TUESDAY_10 + timedelta(hours=1)).isoformat())
    error_of(post(other, key="reused-key-0001"), 422, "idempotency_key_reused")
    assert table(seeded) == before


def test_a_replay_while_the_first_request_runs_is_a_409(
    seeded: Stack, post: Post, app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_book = booking.book
    replies: list[dict[str, Any]] = []

    def book_while_replayed(*args: Any, **kwargs: Any) -> Any:
        replies.append(post(body(), key="in-flight-key-01"))  # the client retries meanwhile
        return real_book(*args, **kwargs)

    monkeypatch.setattr(booking, "book", book_while_replayed)  # the route calls it through the module
    first = post(body(), key="in-flight-key-01")
    assert first["statusCode"] == 201
    (reply,) = replies
    error_of(reply, 409, "request_in_progress")
    assert len(of_kind(table(seeded), "Appointment")) == 1


def test_a_refusal_is_not_remembered_so_a_retry_runs_again(
    seeded: Stack, post: Post, app: ModuleType
) -> None:
    set_settings(seeded, require_verification=True)
    error_of(post(body(), key="retry-after-4xx"), 401, "verification_required")
    set_settings(seeded, require_verification=False)
    app.deps.catalog._cached = None  # as a warm container does once its catalog cache expires
    created(post(body(), key="retry-after-4xx"))


# ------------------------------------------------------------------------------ capacity
def test_a_full_slot_is_a_409_with_the_next_free_alternatives(seeded: Stack, post: Post) -> None:
    for n in (1, 2):
        created(post(body(customer=customer(phone=f"512-555-010{n}", email=f"c{n}@example.com"))))
    before = table(seeded)
    error = error_of(
        post(body(customer=customer(phone="512-555-0109", email="c9@example.com"))), 409, "slot_unavailable"
    )
    assert error["alternatives"] == [
        {"start": "2026-11-24T10:30:00-06:00", "end": "2026-11-24T11:00:00-06:00", "remaining": 2},
        {"start": "2026-11-24T11:00:00-06:00", "end": "2026-11-24T11:30:00-06:00", "remaining": 2},
        {"start": "2026-11-24T11:30:00-06:00", "end": "2026-11-24T12:00:00-06:00", "remaining": 2},
    ]
    assert table(seeded) == before
    assert before["LOCATION#austin-downtown", "SLOT#2026-11-24T16:00:00Z"]["used"] == 2


def test_a_long_service_cannot_overlap_a_full_slot(seeded: Stack, post: Post) -> None:
    for n in (1, 2):  # 10:30 is full
        created(
            post(
                body(
                    start=(TUESDAY_10 + timedelta(minutes=30)).isoformat(),
                    customer=customer(phone=f"512-555-010{n}", email=f"c{n}@example.com"),
                )
            )
        )
    before = table(seeded)
    # A 90-minute service at 10:00 needs 10:30 too
    error = error_of(post(body(service_id="brake-inspection")), 409, "slot_unavailable")
    assert error["alternatives"][0]["start"] == "2026-11-24T11:00:00-06:00"
    assert table(seeded) == before


def test_a_blocked_slot_is_unavailable(seeded: Stack, post: Post) -> None:
    SlotItem(keys.location_pk("austin-downtown"), keys.slot_sk(TUESDAY_10), used=0, blocked=True).save()
    before = table(seeded)
    error_of(post(body()), 409, "slot_unavailable")
    assert table(seeded) == before


def test_a_first_booking_racing_another_with_the_same_phone_lands_on_that_customer(
    seeded: Stack, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another booking created the phone's customer between our lookup and our transaction
    created(post(body(customer=customer(email="other@example.com"))))
    real_lookup = BookingRepository.lookup
    calls: list[int] = []

    def stale_first_lookup(self: BookingRepository, *args: Any, **kwargs: Any) -> CustomerLookup:
        calls.append(1)
        return CustomerLookup() if len(calls) == 1 else real_lookup(self, *args, **kwargs)

    monkeypatch.setattr(BookingRepository, "lookup", stale_first_lookup)
    answer = created(post(body(start=(TUESDAY_10 + timedelta(hours=1)).isoformat())))

    items = table(seeded)
    assert len(calls) == 2 and len(of_kind(items, "Customer")) == 1
    (profile,) = of_kind(items, "Customer")
    record = body_of(items[keys.appointment_pk(answer["appointment"]["id"]), keys.APPOINTMENT_SK])
    assert record["customer_id"] == body_of(profile)["id"]
    assert len(of_kind(items, "Appointment")) == 2


def conflicting(times: int) -> Callable[..., Any]:
    """Connection.transact_write_items that collides with another transaction ``times`` times first."""
    from pynamodb.connection.base import Connection

    real = Connection.transact_write_items
    calls: list[int] = []

    def transact(self: Connection, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            items = sum(
                len(kwargs.get(k) or ())
                for k in ("condition_check_items", "delete_items", "put_items", "update_items")
            )
            reasons = [CancellationReason(code="TransactionConflict", message="conflict")] + [None] * (
                items - 1
            )
            cause = VerboseClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}},
                "TransactWriteItems",
                cancellation_reasons=reasons,
            )
            raise TransactWriteError("Failed to write transaction items", cause)
        return real(self, *args, **kwargs)

    transact.calls = calls  # type: ignore[attr-defined]
    return transact


def test_a_transaction_colliding_with_another_is_tried_again(
    seeded: Stack, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.connection.base import Connection

    transact = conflicting(2)
    monkeypatch.setattr(Connection, "transact_write_items", transact)
    created(post(body()))
    assert len(transact.calls) == 3  # type: ignore[attr-defined]
    assert len(of_kind(table(seeded), "Appointment")) == 1


def test_a_transaction_that_keeps_colliding_is_a_409_conflict(
    seeded: Stack, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.connection.base import Connection

    monkeypatch.setattr(Connection, "transact_write_items", conflicting(99))
    before = table(seeded)
    error_of(post(body()), 409, "conflict")
    assert table(seeded) == before
