"""POST /v1/verification/codes and /checks in process on moto: codes are HOTP values of a challenge
(nothing stored reveals one), the limits (checks per code; sliding windows of sends per destination
and per client address; the cooldown; countries; wrong codes per destination and client address,
and per destination; the shop's SMS caps), recognition of a customer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pyotp
import pytest
from boto3.dynamodb.types import TypeDeserializer

from bookbay import observability
from bookbay.domain import verification as v
from bookbay.domain.booking import CustomerAddress, CustomerSummary, Vehicle
from bookbay.domain.catalog import Address
from bookbay.domain.rate_windows import Limit
from bookbay.domain.verification import destination_digest
from bookbay.models import keys
from bookbay.models.customers import AddressItem, CustomerLookupItem, VehicleItem
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.rate_windows import Full, RateWindows, Taken
from tests.integration.conftest import REGION, Stack
from tests.support import FakeLambdaContext, LogLines, error_of, load_event, response_json, with_body

PHONE = "+15125550199"
EMAIL = "pat.returning@example.com"
START = datetime(2026, 11, 23, 15, 0, 3, tzinfo=UTC)
VICTIM_IP = "203.0.113.10"
ATTACKER_IP = "198.51.100.66"

Post = Callable[..., dict[str, Any]]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(verification_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(START)
    monkeypatch.setattr(verification_app, "clock", fake)
    return fake


def _post(app: ModuleType, event_name: str, body: dict[str, Any], ip: str) -> dict[str, Any]:
    event = with_body(load_event(event_name), json.dumps(body))
    event["requestContext"]["identity"]["sourceIp"] = ip
    response: dict[str, Any] = app.lambda_handler(event, FakeLambdaContext())
    return response


@pytest.fixture
def send(verification_app: ModuleType, clock: Clock) -> Post:
    def post(to: str = PHONE, channel: str = "sms", ip: str = "203.0.113.10") -> dict[str, Any]:
        return _post(verification_app, "verification_codes_post", {"channel": channel, "to": to}, ip)

    return post


@pytest.fixture
def check(verification_app: ModuleType, clock: Clock) -> Post:
    def post(code: str, to: str = PHONE, zip_code: str | None = None, ip: str = VICTIM_IP) -> dict[str, Any]:
        body: dict[str, Any] = {"to": to, "code": code}
        if zip_code:
            body["zip"] = zip_code
        return _post(verification_app, "verification_checks_post", body, ip)

    return post


def table(stack: Stack) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=REGION)
    deserialize = TypeDeserializer().deserialize
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=stack.table_name, ConsistentRead=True):
        items.extend({k: deserialize(v) for k, v in raw.items()} for raw in page["Items"])
    return items


def code_messages(stack: Stack, to: str | None = None) -> list[dict[str, Any]]:
    """The outbox's code messages (to ``to`` only, when given), oldest first."""
    return sorted(
        (
            i
            for i in table(stack)
            if i["PK"].startswith("OUTBOX#")
            and i.get("reference") == "verification"
            and to in (None, i["to_address"])
        ),
        key=lambda i: (i["created_at"], i["PK"]),
    )


def sent_codes(stack: Stack, to: str | None = None) -> list[str]:
    """The codes in the outbox's messages, oldest first."""
    return [re.match(r"^(\d{6}) is your ", m["text"]).group(1) for m in code_messages(stack, to)]  # type: ignore[union-attr]


def last_code(stack: Stack) -> str:
    return sent_codes(stack)[-1]


def call_catalog(app: ModuleType) -> dict[str, Any]:
    """GET /v1/shop's ``shop``."""
    response: dict[str, Any] = app.lambda_handler(load_event("catalog_get_shop"), FakeLambdaContext())
    assert response["statusCode"] == 200, response["body"]
    shop: dict[str, Any] = response_json(response)["shop"]
    return shop


def phone_digest(app: ModuleType, phone: str) -> str:
    return destination_digest(app.deps.tokens.code_key(), phone)


def accepted(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 202, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def set_settings(stack: Stack, **changes: Any) -> None:
    repo = CatalogRepository(stack.table_name, REGION)
    catalog, version = repo.catalog_and_version()
    repo.save_settings(
        catalog.shop, catalog.shop.settings.model_copy(update=changes), expected_version=version
    )


def add_customer(*, do_not_service: bool = False) -> CustomerSummary:
    summary = CustomerSummary(
        customer_id="c0ffee0000000001",
        first_name="Pat",
        last_name="Returning",
        phone=PHONE,
        email=EMAIL,
        do_not_service=do_not_service,
    )
    for pk, sk in ((keys.phone_pk(PHONE), keys.PHONE_SK), (keys.email_pk(EMAIL), keys.EMAIL_SK)):
        CustomerLookupItem(
            pk, sk, customer_id=summary.customer_id, summary=summary.model_dump(mode="json")
        ).save()
    owner = keys.customer_pk(summary.customer_id)
    vehicle = Vehicle(id="a" * 20, year=2019, make="Toyota", model="Camry")
    VehicleItem(owner, keys.vehicle_sk(vehicle.id), body=vehicle.model_dump(mode="json")).save()
    for address_id, line1, zip_code in (("b" * 20, "123 Main St", "78701"), ("c" * 20, "9 Oak Ave", "85016")):
        address = CustomerAddress(
            id=address_id,
            address=Address(line1=line1, city="Austin", state="TX", zip=zip_code),
            canonical=line1.upper(),
        )
        AddressItem(owner, keys.address_sk(address_id), body=address.model_dump(mode="json")).save()
    return summary


# ------------------------------------------------------------------------------ sending
def hotp_code(code_key: bytes, destination: str, stored: dict[str, Any]) -> str:
    """The RFC 4226 code of a stored challenge, computed here from its nonce and counter."""
    key = hmac.new(
        code_key, b"hotp\0" + destination.encode() + b"\0" + bytes.fromhex(stored["nonce"]), hashlib.sha256
    ).digest()
    return pyotp.HOTP(base64.b32encode(key).decode(), digits=6).at(int(stored["counter"]))


def test_a_code_is_sent_through_the_outbox_and_is_the_hotp_of_a_stored_challenge(
    seeded: Stack, verification_app: ModuleType, send: Post
) -> None:
    # When a code is requested by SMS
    answer = accepted(send())

    # Then the answer says how long it lasts, and the outbox holds the SMS with the code
    assert answer == {"expires_in": 600, "resend_after": 30}
    items = table(seeded)
    (message,) = [i for i in items if i["PK"].startswith("OUTBOX#")]
    code = last_code(seeded)
    assert message["to_address"] == PHONE and message["channel"] == "sms"
    assert message["text"] == f"{code} is your Bookbay Demo Auto verification code. It expires in 10 minutes."
    # And what is stored is the challenge, keyed by an HMAC: a random nonce and the HOTP counter
    # that make the code with the secret's code key (pyotp's HOTP of the challenge's key)
    key = verification_app.deps.tokens.code_key()
    (stored,) = [i for i in items if i["PK"].startswith("CODE#")]
    assert stored["PK"] == f"CODE#{destination_digest(key, PHONE)}"
    assert len(bytes.fromhex(stored["nonce"])) == 16 and stored["counter"] == 1
    assert hotp_code(key, PHONE, stored) == code
    assert "code_hash" not in stored and code not in json.dumps(stored, default=str)
    assert stored["expires_at"] == int((START + timedelta(minutes=10)).timestamp())
    for item in items:
        if not item["PK"].startswith(("OUTBOX#", "SHOP", "LOCATION#", "SERVICE#")):
            assert code not in json.dumps(item, default=str) and PHONE not in json.dumps(item, default=str)


def test_an_unknown_destination_gets_the_same_answer_as_a_customer(seeded: Stack, send: Post) -> None:
    add_customer()
    known = send(to=PHONE)
    unknown = send(to="+15125550142")
    assert known["statusCode"] == unknown["statusCode"] == 202
    assert response_json(known) == response_json(unknown)


def test_a_resend_within_30_seconds_is_refused_with_retry_after(send: Post, clock: Clock) -> None:
    accepted(send())
    clock.advance(seconds=10)
    refused = send()
    error_of(refused, 429, "too_many_requests")
    assert refused["multiValueHeaders"]["Retry-After"] == ["20"]
    clock.advance(seconds=20)
    accepted(send())


def test_a_sixth_send_within_10_minutes_is_refused_with_retry_after(send: Post, clock: Clock) -> None:
    for _ in range(5):
        accepted(send())
        clock.advance(seconds=31)
    refused = send()
    error = error_of(refused, 429, "too_many_requests")
    # The first send (START) leaves the window 10 minutes after it; 5 x 31 s later, 445 s remain.
    assert refused["multiValueHeaders"]["Retry-After"] == ["445"]
    assert error["retry_after"] == 445
    clock.advance(seconds=444)
    error_of(send(), 429, "too_many_requests")
    clock.advance(seconds=1)
    accepted(send())


def test_one_client_address_may_not_send_to_many_destinations(send: Post) -> None:
    for n in range(20):
        accepted(send(to=f"+1512555{n:04d}"))
    error_of(send(to="+15125559999"), 429, "too_many_requests")
    accepted(send(to="+15125559999", ip="198.51.100.7"))


def test_no_burst_across_a_clock_window_edge_reaches_one_phone(
    seeded: Stack, send: Post, clock: Clock
) -> None:
    # Given 5 codes sent to one phone in the 2 minutes before 15:10, an edge of the old
    # clock-aligned 10-minute windows (15:07:58 .. 15:10:02)
    clock.now = datetime(2026, 11, 23, 15, 7, 58, tzinfo=UTC)
    for _ in range(5):
        accepted(send())
        clock.advance(seconds=31)
    # When a 6th is asked for just after the edge, 3 minutes after the first
    clock.now = datetime(2026, 11, 23, 15, 10, 58, tzinfo=UTC)
    refused = send()
    # Then it is refused until the first leaves the window (15:17:58), and none was sent
    error_of(refused, 429, "too_many_requests")
    assert refused["multiValueHeaders"]["Retry-After"] == ["420"]
    assert len(code_messages(seeded, PHONE)) == 5
    clock.now = datetime(2026, 11, 23, 15, 17, 57, tzinfo=UTC)
    error_of(send(), 429, "too_many_requests")
    clock.now = datetime(2026, 11, 23, 15, 17, 58, tzinfo=UTC)
    accepted(send())
    assert len(code_messages(seeded, PHONE)) == 6


def test_no_burst_across_a_clock_window_edge_from_one_client_address(
    seeded: Stack, send: Post, clock: Clock
) -> None:
    # Given 20 codes from one address in the minute before 15:10 (to 20 phones)
    clock.now = datetime(2026, 11, 23, 15, 9, 0, tzinfo=UTC)
    for n in range(20):
        accepted(send(to=f"+1512555{n:04d}"))
        clock.advance(seconds=2)
    # When it asks for more after the edge (15:10:30, 90 s after the first)
    clock.now = datetime(2026, 11, 23, 15, 10, 30, tzinfo=UTC)
    refused = send(to="+15125559999")
    # Then it is refused until 10 minutes after the first, and nothing more was sent
    error_of(refused, 429, "too_many_requests")
    assert refused["multiValueHeaders"]["Retry-After"] == ["510"]
    assert len(code_messages(seeded)) == 20
    accepted(send(to="+15125559999", ip="198.51.100.7"))


def test_a_stranger_with_10_wrong_codes_locks_only_their_own_address_out_of_a_phone(
    verification_app: ModuleType, seeded: Stack, send: Post, check: Post, clock: Clock
) -> None:
    # Given a stranger who asked twice for codes to a victim's phone and tried 10 wrong codes
    for _ in range(2):
        accepted(send(ip=ATTACKER_IP))
        for _ in range(5):
            error_of(check(wrong(last_code(seeded)), ip=ATTACKER_IP), 400, "invalid_code")
        clock.advance(seconds=31)
    stored_before = [i for i in table(seeded) if i["PK"].startswith("CODE#")]

    # Then the stranger's next check is refused, with the right code too, until the first wrong one
    # leaves the hour
    locked = check(last_code(seeded), ip=ATTACKER_IP)
    error_of(locked, 429, "too_many_requests")
    assert 3400 < int(locked["multiValueHeaders"]["Retry-After"][0]) <= 3600
    # And the stranger's send gets the same answer as any send, but nothing is sent or stored
    assert accepted(send(ip=ATTACKER_IP)) == {"expires_in": 600, "resend_after": 30}
    assert len(code_messages(seeded, PHONE)) == 2
    assert [i for i in table(seeded) if i["PK"].startswith("CODE#")] == stored_before

    # And the victim, from their own address, gets a code and verifies with it
    clock.advance(seconds=31)
    accepted(send(ip=VICTIM_IP))
    assert len(code_messages(seeded, PHONE)) == 3
    passed = check(last_code(seeded), ip=VICTIM_IP)
    assert passed["statusCode"] == 200, passed["body"]
    # And the right code's place in the counts was given back: only the 10 wrong ones count
    windows = RateWindows(seeded.table_name, REGION)
    key = verification_app.deps.tokens.code_key()
    digest = destination_digest(key, PHONE)
    victim = v.source_subject(digest, v.ip_digest(key, VICTIM_IP))
    read = windows.read([(v.FAILURES, digest), (v.SOURCE_FAILURES, victim)])
    assert len(read[v.FAILURES, digest].counted(v.FAILURES, clock.now)) == 10
    assert read[v.SOURCE_FAILURES, victim].counted(v.SOURCE_FAILURES, clock.now) == []


def test_30_wrong_codes_from_anywhere_lock_a_phone_and_sends_to_it_send_nothing(
    seeded: Stack, send: Post, check: Post, clock: Clock
) -> None:
    # Given 30 wrong codes for one phone within the hour, from 3 addresses (6 codes, 5 checks each)
    for n in range(6):
        accepted(send(ip=f"198.51.100.{n}"))
        for _ in range(5):
            error_of(check(wrong(last_code(seeded)), ip=f"198.51.100.{10 + n // 2}"), 400, "invalid_code")
        clock.advance(minutes=3)
    assert len(code_messages(seeded, PHONE)) == 6

    # Then a check from any other address is refused, and a send answers as ever but sends nothing
    error_of(check("123456", ip=VICTIM_IP), 429, "too_many_requests")
    assert accepted(send(ip=VICTIM_IP)) == {"expires_in": 600, "resend_after": 30}
    assert len(code_messages(seeded, PHONE)) == 6
    # And once the first wrong codes leave the hour, codes go and check again
    clock.advance(minutes=45)
    accepted(send(ip=VICTIM_IP))
    assert len(code_messages(seeded, PHONE)) == 7
    assert check(last_code(seeded), ip=VICTIM_IP)["statusCode"] == 200


def test_the_shops_sms_cap_refuses_the_next_sms_code_and_email_still_works(
    seeded: Stack,
    verification_app: ModuleType,
    catalog_app: ModuleType,
    send: Post,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fired: list[str] = []
    monkeypatch.setattr(observability.metrics, "add_metric", lambda name, unit, value: fired.append(name))
    monkeypatch.setattr(catalog_app, "clock", clock, raising=False)
    # Given a shop that sends at most 3 SMS codes an hour
    set_settings(seeded, sms_sends_per_hour=3)
    shop = call_catalog(catalog_app)
    assert shop["verification_channels"] == ["sms", "email"]
    for n in range(3):
        accepted(send(to=f"+1512555{n:04d}", ip=f"198.51.100.{n}"))
        clock.advance(minutes=5)

    # When a 4th stranger asks for an SMS code
    refused = send(to="+15125550042", ip="198.51.100.42")

    # Then it is refused, saying to ask by e-mail, nothing is sent, and the metric fires
    error = error_of(refused, 409, "sms_unavailable")
    assert "e-mail" in error["message"]
    assert [m["channel"] for m in code_messages(seeded)] == ["sms"] * 3
    assert fired == ["SmsCapReached"]
    assert not [
        i for i in table(seeded) if i["PK"] == f"RATE#SEND#{phone_digest(verification_app, '+15125550042')}"
    ]
    # And the shop offers codes by e-mail only while the cap holds; an e-mail code goes
    assert call_catalog(catalog_app)["verification_channels"] == ["email"]
    accepted(send(to=EMAIL, channel="email", ip="198.51.100.42"))
    assert [m["channel"] for m in code_messages(seeded)] == ["sms"] * 3 + ["email"]
    # And an hour after the first SMS, SMS goes again
    clock.now = START + timedelta(hours=1)
    assert call_catalog(catalog_app)["verification_channels"] == ["sms", "email"]
    accepted(send(to="+15125550042", ip="198.51.100.42"))


def test_a_busy_sms_window_is_a_retry_not_the_cap_reached(
    seeded: Stack, verification_app: ModuleType, send: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    fired: list[str] = []
    monkeypatch.setattr(observability.metrics, "add_metric", lambda name, unit, value: fired.append(name))
    # Given other requests that win every write of the shop's SMS window (far below its cap)
    windows = verification_app.deps.rate_windows
    write = windows._write
    monkeypatch.setattr(
        windows,
        "_write",
        lambda limit, *args: False if limit.kind.startswith("SMS") else write(limit, *args),
    )
    # When a customer asks for an SMS code
    refused = send(to="+15125550042", ip="198.51.100.42")
    # Then it is a 429 to retry in a second: not sms_unavailable, no SmsCapReached, nothing sent,
    # and the destination's count given back
    error = error_of(refused, 429, "too_many_requests")
    assert refused["multiValueHeaders"]["Retry-After"] == ["1"] and error["retry_after"] == 1
    assert fired == []
    assert code_messages(seeded) == []
    digest = phone_digest(verification_app, "+15125550042")
    assert not [
        slot for i in table(seeded) if i["PK"] == f"RATE#SEND#{digest}" for slot in i["slots"] if slot
    ]


def test_the_shops_daily_sms_cap_holds_for_24_hours(seeded: Stack, send: Post, clock: Clock) -> None:
    set_settings(seeded, sms_sends_per_day=2)
    for n in range(2):
        accepted(send(to=f"+1512555{n:04d}", ip=f"198.51.100.{n}"))
        clock.advance(hours=2)
    error_of(send(to="+15125550042", ip="198.51.100.42"), 409, "sms_unavailable")
    clock.now = START + timedelta(hours=23, minutes=59)
    error_of(send(to="+15125550042", ip="198.51.100.42"), 409, "sms_unavailable")
    clock.now = START + timedelta(hours=24)
    accepted(send(to="+15125550042", ip="198.51.100.42"))
    assert len(code_messages(seeded)) == 3


def test_a_shop_offering_only_sms_says_to_try_later(seeded: Stack, send: Post) -> None:
    set_settings(seeded, verification_channels=["sms"], sms_sends_per_hour=0)
    error = error_of(send(), 409, "sms_unavailable")
    assert "later" in error["message"] and "e-mail" not in error["message"]


def test_takers_racing_on_a_stale_read_never_count_past_a_limit(seeded: Stack) -> None:
    # Given 12 requests that all read the window before any of them wrote (as concurrent ones do)
    windows = RateWindows(seeded.table_name, REGION)
    limit = Limit("TEST", 5, timedelta(minutes=10))
    stale = windows.window(limit, "subject")
    results = [windows.take(limit, "subject", START + timedelta(milliseconds=n), stale) for n in range(12)]
    # Then exactly 5 were counted, in 5 slots, the others refused until the first leaves the window
    taken = [r for r in results if isinstance(r, Taken)]
    assert len(taken) == 5 and sorted(t.slot for t in taken) == [0, 1, 2, 3, 4]
    assert [r for r in results if not isinstance(r, Taken)] == [Full(600)] * 7
    assert sorted(windows.window(limit, "subject").slots) == [t.value for t in taken]

    # And when all 5 have left the window, 12 more racing on one read take the 5 freed slots only
    later = START + timedelta(minutes=10, seconds=1)
    stale = windows.window(limit, "subject")
    results = [windows.take(limit, "subject", later + timedelta(milliseconds=n), stale) for n in range(12)]
    again = [r for r in results if isinstance(r, Taken)]
    assert len(again) == 5 and sorted(t.slot for t in again) == [0, 1, 2, 3, 4]
    assert sorted(windows.window(limit, "subject").slots) == sorted(t.value for t in again)


def test_sms_to_a_country_the_shop_does_not_allow_is_refused(send: Post, seeded: Stack) -> None:
    error_of(send(to="+442079460958"), 422, "channel_not_offered")
    assert not [i for i in table(seeded) if i["PK"].startswith(("OUTBOX#", "CODE#"))]


def test_a_channel_the_shop_does_not_offer_is_refused(seeded: Stack, send: Post) -> None:
    set_settings(seeded, verification_channels=["email"])
    error_of(send(), 422, "channel_not_offered")
    accepted(send(to=EMAIL, channel="email"))


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "sms", "to": "not a phone"},
        {"channel": "email", "to": "nope"},
        {"channel": "fax", "to": PHONE},
    ],
)
def test_bad_input_is_a_422(verification_app: ModuleType, body: dict[str, Any]) -> None:
    response = _post(verification_app, "verification_codes_post", body, "203.0.113.10")
    assert response["statusCode"] == 422, response["body"]


# ------------------------------------------------------------------------------ checking
def test_the_right_code_gives_a_token_for_a_new_customer(
    verification_app: ModuleType, seeded: Stack, send: Post, check: Post
) -> None:
    accepted(send())
    response = check(last_code(seeded))
    assert response["statusCode"] == 200, response["body"]
    answer = response_json(response)
    assert answer["returning_customer"] is False and answer["customer"] is None
    assert answer["expires_in"] == 1800
    identity = verification_app.deps.tokens.verify(answer["verification_token"], START)
    assert (identity.destination, identity.channel, identity.customer_id) == (PHONE, "sms", None)


def test_a_code_is_single_use(seeded: Stack, send: Post, check: Post) -> None:
    accepted(send())
    code = last_code(seeded)
    assert check(code)["statusCode"] == 200
    error_of(check(code), 410, "code_expired")


def test_a_code_expires_after_10_minutes(seeded: Stack, send: Post, check: Post, clock: Clock) -> None:
    accepted(send())
    clock.advance(minutes=10)
    error_of(check(last_code(seeded)), 410, "code_expired")


def test_a_wrong_code_is_a_400_and_a_sixth_check_is_refused_even_with_the_right_code(
    seeded: Stack, send: Post, check: Post
) -> None:
    accepted(send())
    code = last_code(seeded)
    for _ in range(5):
        error_of(check(wrong(code)), 400, "invalid_code")
    error_of(check(code), 410, "code_expired")


def test_failures_are_counted_per_destination_and_client_address_across_resends(
    seeded: Stack, send: Post, check: Post, clock: Clock
) -> None:
    # Given 9 wrong codes over two codes sent to one phone, from one address
    for wrong_ones in (5, 4):
        accepted(send())
        for _ in range(wrong_ones):
            error_of(check(wrong(last_code(seeded))), 400, "invalid_code")
        clock.advance(seconds=31)
    # When a third code comes and the 10th wrong one is tried
    accepted(send())
    error_of(check(wrong(last_code(seeded))), 400, "invalid_code")
    # Then even the right code is refused from that address for now, and a 4th send sends nothing
    error_of(check(last_code(seeded)), 429, "too_many_requests")
    clock.advance(seconds=31)
    accepted(send())
    assert len(code_messages(seeded, PHONE)) == 3


def test_a_check_without_any_code_sent_is_a_410(check: Post) -> None:
    error_of(check("123456"), 410, "code_expired")


def test_a_returning_customer_sees_vehicles_and_masked_addresses_in_the_zip(
    verification_app: ModuleType, seeded: Stack, send: Post, check: Post
) -> None:
    customer = add_customer()
    accepted(send(to=EMAIL, channel="email"))
    response = check(last_code(seeded), to=EMAIL.upper(), zip_code="78701")
    assert response["statusCode"] == 200, response["body"]
    answer = response_json(response)
    assert answer["returning_customer"] is True
    assert answer["customer"] == {
        "first_name": "Pat",
        "vehicles": [{"id": "a" * 20, "label": "2019 Toyota Camry"}],
        "addresses": [{"id": "b" * 20, "masked": "1** M*** St"}],
    }
    identity = verification_app.deps.tokens.verify(answer["verification_token"], START)
    assert (identity.destination, identity.channel, identity.customer_id) == (
        EMAIL,
        "email",
        customer.customer_id,
    )


def test_without_a_zip_every_address_is_shown(seeded: Stack, send: Post, check: Post) -> None:
    add_customer()
    accepted(send())
    answer = response_json(check(last_code(seeded)))
    assert [a["masked"] for a in answer["customer"]["addresses"]] == ["1** M*** St", "9 O** Ave"]


def test_do_not_service_is_not_revealed(seeded: Stack, send: Post, check: Post) -> None:
    add_customer(do_not_service=True)
    accepted(send())
    answer = response_json(check(last_code(seeded)))
    assert answer["returning_customer"] is True and answer["customer"]["first_name"] == "Pat"
    assert "do_not_service" not in json.dumps(answer)


# ------------------------------------------------------------------------------ logs
def test_no_code_phone_number_or_email_address_appears_in_any_log_line(
    verification_app: ModuleType,
    seeded: Stack,
    send: Post,
    check: Post,
    clock: Clock,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Given every log record of the run (the function's at DEBUG, everything else's at INFO)
    service_logger = verification_app.logger
    every_line = LogLines(service_logger.registered_formatter)
    root = logging.getLogger()
    previous = (service_logger.log_level, root.level)
    service_logger.setLevel("DEBUG")
    root.setLevel(logging.INFO)
    service_logger.addHandler(every_line)
    root.addHandler(every_line)
    add_customer()
    codes: list[str] = []
    try:
        # When a whole flow runs: sends, a refused resend and country, wrong and right checks, SMS and e-mail
        accepted(send())
        codes.append(last_code(seeded))
        error_of(send(), 429, "too_many_requests")
        error_of(send(to="+442079460958"), 422, "channel_not_offered")
        error_of(check(wrong(codes[-1])), 400, "invalid_code")
        assert check(codes[-1])["statusCode"] == 200
        error_of(check(codes[-1]), 410, "code_expired")
        accepted(send(to=EMAIL, channel="email"))
        codes.append(last_code(seeded))
        assert check(codes[-1], to=EMAIL, zip_code="78701")["statusCode"] == 200
        clock.advance(seconds=31)
        accepted(send(to="+15125550142"))
        codes.append(last_code(seeded))
        error_of(check(wrong(codes[-1]), to="+15125550142"), 400, "invalid_code")
    finally:
        service_logger.removeHandler(every_line)
        root.removeHandler(every_line)
        service_logger.setLevel(previous[0])
        root.setLevel(previous[1])

    # Then no line holds a code, a full phone number (in any spelling) or a full e-mail address
    captured = capfd.readouterr()
    lines = [*every_line.lines, *captured.out.splitlines(), *captured.err.splitlines()]
    assert sum("verification code sent" in line for line in every_line.lines) >= 3  # the logs were captured
    forbidden = [*codes, PHONE, PHONE[1:], PHONE[2:], "+442079460958", "442079460958", "2079460958"]
    forbidden += ["+15125550142", "15125550142", "5125550142", EMAIL, EMAIL.split("@", 1)[0]]
    # (a code is matched as a whole number, so a timestamp that happens to contain its digits is no leak)
    patterns = [re.compile(rf"(?<![0-9]){re.escape(word)}(?![0-9])") for word in forbidden]
    leaks = [(p.pattern, line) for line in lines for p in patterns if p.search(line)]
    assert leaks == []
