"""Booking idempotency across containers and callers, in process on moto: the booking function
imported as the local stack's containers import it (each under a module name of its own) shares one
record per Idempotency-Key and caller; a replay of a key with another verification token, or none,
never gets the first caller's answer."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from bookbay.api.idempotency import KEY_PREFIX
from bookbay.services import booking
from bookbay_local.functions import import_handler
from tests.integration.conftest import REGION, Stack
from tests.integration.test_booking_api import (
    NOW,
    PHONE,
    body,
    body_of,
    created,
    of_kind,
    set_settings,
    table,
)
from tests.integration.test_returning_booking import verify
from tests.support import FakeLambdaContext, error_of, load_event, response_json, with_body

pytestmark = pytest.mark.integration

OTHER_PHONE = "+17375550199"
Post = Callable[..., dict[str, Any]]


@pytest.fixture
def container(seeded: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], ModuleType]:
    """The booking function's container ``n``: functions/booking/app.py imported by the local stack's
    own loader, under the module name that container gets, its clock at NOW."""
    spec = seeded.functions["BookingFunction"]
    started: dict[int, ModuleType] = {}

    def start(number: int) -> ModuleType:
        if number not in started:
            handler = import_handler(spec, container=number)
            module = sys.modules[handler.__module__]
            monkeypatch.setattr(module, "clock", lambda: NOW)
            started[number] = module
        return started[number]

    return start


def post_to(app: ModuleType, data: dict[str, Any], key: str, token: str | None = None) -> dict[str, Any]:
    event = with_body(load_event("booking_post"), json.dumps(data))
    event["headers"]["Idempotency-Key"] = key
    event["headers"].pop("Authorization", None)
    if token:
        event["headers"]["Authorization"] = f"Bearer {token}"
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    response: dict[str, Any] = app.lambda_handler(event, FakeLambdaContext())
    return response


def idempotency_records(stack: Stack) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = client.scan(TableName=stack.provisioned.tables["IdempotencyTable"])["Items"]
    return items


@pytest.fixture
def verification(verification_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setattr(verification_app, "clock", lambda: NOW)
    return verification_app


def token_for(stack: Stack, verification_app: ModuleType, channel: str, to: str) -> str:
    token: str = verify(stack, verification_app, channel, to)["verification_token"]
    return token


# ------------------------------------------------------------------------------ one record per key
def test_two_containers_share_one_record_per_key(
    seeded: Stack, container: Callable[[int], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two containers of the booking function (two imports of app.py under different names)
    first, second = container(1), container(2)
    assert first.__name__ != second.__name__
    real_book = booking.book
    retried: list[bool] = []
    replies: list[dict[str, Any]] = []

    def book_while_another_container_retries(*args: Any, **kwargs: Any) -> Any:
        if not retried:  # the client's retry lands on the other container meanwhile
            retried.append(True)
            replies.append(post_to(second, body(), "shared-key-0001"))
        return real_book(*args, **kwargs)

    monkeypatch.setattr(booking, "book", book_while_another_container_retries)
    # When a booking runs in one and its retry arrives in the other while it runs
    answer = created(post_to(first, body(), "shared-key-0001"))

    # Then the retry is a 409 request_in_progress, not a second booking
    (reply,) = replies
    error_of(reply, 409, "request_in_progress")
    # and once the first is done, a retry in either container gets its answer
    for app in (second, first):
        again = post_to(app, body(), "shared-key-0001")
        assert again["statusCode"] == 201 and response_json(again) == answer
    assert len(of_kind(table(seeded), "Appointment")) == 1
    # One record, under the stable prefix (no module name, no phone or e-mail in it)
    (record,) = idempotency_records(seeded)
    assert record["id"]["S"].startswith(f"{KEY_PREFIX}#")
    assert PHONE not in json.dumps(record)


def test_another_body_under_the_key_is_refused_in_another_container(
    seeded: Stack, container: Callable[[int], ModuleType]
) -> None:
    created(post_to(container(1), body(), "shared-key-0002"))
    before = table(seeded)
    other = body(notes="Another booking")
    error_of(post_to(container(2), other, "shared-key-0002"), 422, "idempotency_key_reused")
    assert table(seeded) == before


# ------------------------------------------------------------------------------ one record per caller
def test_a_replay_with_another_token_or_none_is_not_the_first_answer(
    seeded: Stack, container: Callable[[int], ModuleType], verification: ModuleType
) -> None:
    set_settings(seeded, require_verification=True)
    app = container(1)
    # Given Dana verified her phone and booked with a key
    dana = token_for(seeded, verification, "sms", PHONE)
    first = created(post_to(app, body(), "caller-key-0001", dana))

    # A replay of the key without a token is a booking without one: refused by this shop
    error_of(post_to(app, body(), "caller-key-0001"), 401, "verification_required")
    # A replay with someone else's token is their booking: refused (not their contact typed)
    other = token_for(seeded, verification, "sms", OTHER_PHONE)
    refused = post_to(app, body(), "caller-key-0001", other)
    assert refused["statusCode"] == 422, refused["body"]
    assert first["manage_url"] not in refused["body"]
    # Dana verified by e-mail is another verified caller: a booking of its own
    by_email = token_for(seeded, verification, "email", body()["customer"]["email"])
    second = created(post_to(app, body(), "caller-key-0001", by_email))
    assert second["appointment"]["id"] != first["appointment"]["id"]
    assert second["manage_url"] != first["manage_url"]

    # Dana again with a fresh code for the same phone (now a customer on file) is the same caller:
    # the first answer
    (dana_on_file,) = of_kind(table(seeded), "Customer")
    fresh = app.deps.tokens.issue(PHONE, "sms", body_of(dana_on_file)["id"], NOW + timedelta(minutes=1))
    assert fresh != dana
    again = post_to(container(2), body(), "caller-key-0001", fresh)
    assert again["statusCode"] == 201 and response_json(again) == first
    assert {r["id"]["S"].split("#")[0] for r in idempotency_records(seeded)} == {KEY_PREFIX}


def test_an_anonymous_booking_is_not_replayed_to_a_verified_caller(
    seeded: Stack, container: Callable[[int], ModuleType], verification: ModuleType
) -> None:
    set_settings(seeded, require_verification=False)
    app = container(1)
    first = created(post_to(app, body(), "caller-key-0002"))
    # The same key and body with a verification token (the typed phone's) books anew
    second = created(post_to(app, body(), "caller-key-0002", token_for(seeded, verification, "sms", PHONE)))
    assert second["appointment"]["id"] != first["appointment"]["id"]
    assert second["manage_url"] != first["manage_url"]
    assert len(of_kind(table(seeded), "Appointment")) == 2
    # and each caller's replay gets its own answer
    assert response_json(post_to(container(2), body(), "caller-key-0002")) == first


def test_a_verified_booking_is_not_replayed_without_a_token_or_with_another_destinations(
    seeded: Stack, container: Callable[[int], ModuleType], verification: ModuleType
) -> None:
    # Where bookings without a code are taken, Dana verifies her phone and books with a key
    set_settings(seeded, require_verification=False)
    app = container(1)
    first = created(post_to(app, body(), "caller-key-0003", token_for(seeded, verification, "sms", PHONE)))

    # The same key and body without a token is an anonymous caller: a booking of its own
    anonymous = created(post_to(container(2), body(), "caller-key-0003"))
    assert anonymous["appointment"]["id"] != first["appointment"]["id"]
    assert anonymous["manage_url"] != first["manage_url"]
    # With a token for another phone: refused as that caller's own booking (not their contact)
    other = post_to(app, body(), "caller-key-0003", token_for(seeded, verification, "sms", OTHER_PHONE))
    assert other["statusCode"] == 422 and first["manage_url"] not in other["body"]
    # Dana's own replay (the same phone verified again) is still the first answer
    (dana,) = of_kind(table(seeded), "Customer")
    fresh = app.deps.tokens.issue(PHONE, "sms", body_of(dana)["id"], NOW + timedelta(minutes=2))
    again = post_to(container(2), body(), "caller-key-0003", fresh)
    assert again["statusCode"] == 201 and response_json(again) == first
    assert len(of_kind(table(seeded), "Appointment")) == 2


def test_a_bad_token_is_refused_before_any_record_is_written(
    seeded: Stack, container: Callable[[int], ModuleType], verification: ModuleType
) -> None:
    error_of(
        post_to(container(1), body(), "bad-token-key-1", "not-a-token"), 401, "invalid_verification_token"
    )
    assert idempotency_records(seeded) == []
    assert of_kind(table(seeded), "Appointment") == []


def test_a_booking_without_a_token_reads_no_secret(
    seeded: Stack, container: Callable[[int], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = container(1)

    def no_secret() -> bytes:
        raise AssertionError("the signing secret was read for a booking without a token")

    monkeypatch.setattr(app.deps.tokens, "_secret", no_secret)
    set_settings(seeded, require_verification=False)
    created(post_to(app, body(), "no-secret-key-01"))
