"""POST /v1/identity/known-source in process on moto: a known-source link plus ONE matching phone or
e-mail gives a verification token (via known_source, with the link's vehicle); every refusal is
the same 403; 5 wrong items lock the link; nothing identifying reaches the logs."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from bookbay.domain.ids import hash_token
from bookbay.repositories.customers import CustomersRepository
from bookbay.repositories.source_links import SourceLinkRepository
from bookbay.services.customers import set_do_not_service
from bookbay.services.source_links import create_source_link
from tests.integration.conftest import PUBLIC_BASE_URL, REGION, Stack
from tests.support import FakeLambdaContext, LogLines, error_of, load_event, response_json, with_body
from tests.support.customers import CUSTOMER, EMAIL, PHONE, VEHICLE, add_customer

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 15, 0, 3, tzinfo=UTC)
OTHER_PHONE = "+15125550142"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(verification_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(START)
    monkeypatch.setattr(verification_app, "clock", fake)
    return fake


def new_link(stack: Stack, *, vehicle_id: str | None = VEHICLE.id, days: int = 180) -> str:
    """A link as the admin route / the ops command make one; returns its raw token."""
    created = create_source_link(
        CustomersRepository(stack.table_name, REGION),
        SourceLinkRepository(stack.table_name, REGION),
        configured_base_url=PUBLIC_BASE_URL,
        customer_id=CUSTOMER,
        vehicle_id=vehicle_id,
        campaign="spring-tires",
        days=days,
        now=START,
    )
    assert created.url == f"{PUBLIC_BASE_URL}/book?src={created.source_token}"
    return created.source_token


def post(app: ModuleType, body: dict[str, Any]) -> dict[str, Any]:
    event = with_body(load_event("identity_known_source_post"), json.dumps(body))
    response: dict[str, Any] = app.lambda_handler(event, FakeLambdaContext())
    return response


def passed(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def failures(stack: Stack, token: str) -> int:
    link = SourceLinkRepository(stack.table_name, REGION).get(hash_token(token))
    assert link is not None
    return link.failures


# ------------------------------------------------------------------------------ matches
def test_the_right_phone_gives_a_known_source_token_with_the_customer_and_vehicle(
    verification_app: ModuleType, seeded: Stack, clock: Clock
) -> None:
    # Given a customer and a link for their vehicle
    add_customer()
    token = new_link(seeded)

    # When they enter their phone, in any spelling, and a ZIP
    answer = passed(
        post(verification_app, {"source_token": token, "phone": "(512) 555-0199", "zip": "78701"})
    )

    # Then they are recognized, the vehicle is preselected, and the token says so
    assert answer["customer"] == {
        "first_name": "Pat",
        "vehicles": [{"id": VEHICLE.id, "label": "2019 Toyota Camry"}],
        "addresses": [{"id": "b" * 20, "masked": "1** M*** St"}],
    }
    assert answer["vehicle"] == {"id": VEHICLE.id, "label": "2019 Toyota Camry"}
    assert answer["expires_in"] == 1800
    identity = verification_app.deps.tokens.verify(answer["verification_token"], START)
    assert (identity.destination, identity.channel, identity.customer_id) == (PHONE, "sms", CUSTOMER)
    assert (identity.vehicle_id, identity.via) == (VEHICLE.id, "known_source")
    assert identity.expires_at == START + timedelta(minutes=30)
    assert failures(seeded, token) == 0


def test_the_right_email_gives_a_token_too(verification_app: ModuleType, seeded: Stack, clock: Clock) -> None:
    add_customer()
    token = new_link(seeded, vehicle_id=None)
    answer = passed(post(verification_app, {"source_token": token, "email": EMAIL.upper()}))
    assert answer["vehicle"] is None and len(answer["customer"]["addresses"]) == 2
    identity = verification_app.deps.tokens.verify(answer["verification_token"], START)
    assert (identity.destination, identity.channel, identity.customer_id) == (EMAIL, "email", CUSTOMER)
    assert (identity.vehicle_id, identity.via) == (None, "known_source")


def test_a_do_not_service_customer_gets_the_same_200(
    verification_app: ModuleType, seeded: Stack, clock: Clock
) -> None:
    add_customer()
    token = new_link(seeded)
    before = passed(post(verification_app, {"source_token": token, "phone": PHONE}))
    set_do_not_service(CustomersRepository(seeded.table_name, REGION), CUSTOMER, True)
    after = passed(post(verification_app, {"source_token": token, "phone": PHONE}))
    assert {k: v for k, v in after.items() if k != "verification_token"} == {
        k: v for k, v in before.items() if k != "verification_token"
    }
    assert "do_not_service" not in json.dumps(after)


# ------------------------------------------------------------------------------ refusals
def test_a_mismatch_and_an_unknown_or_expired_link_get_the_same_403(
    verification_app: ModuleType, seeded: Stack, clock: Clock
) -> None:
    add_customer()
    add_customer("c0ffee0000000002", OTHER_PHONE, "sam@example.com")
    token = new_link(seeded, days=1)

    mismatch = post(verification_app, {"source_token": token, "phone": OTHER_PHONE})
    nobody = post(verification_app, {"source_token": token, "email": "nobody@example.com"})
    unknown = post(verification_app, {"source_token": "Zm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4", "phone": PHONE})
    clock.now = START + timedelta(days=1)
    expired = post(verification_app, {"source_token": token, "phone": PHONE})

    error = error_of(mismatch, 403, "identity_mismatch")
    assert "couldn't confirm" in error["message"]
    assert mismatch["body"] == nobody["body"] == unknown["body"] == expired["body"]
    assert failures(seeded, token) == 2


def test_five_wrong_items_lock_the_link(verification_app: ModuleType, seeded: Stack, clock: Clock) -> None:
    add_customer()
    token = new_link(seeded)
    for _ in range(5):
        error_of(
            post(verification_app, {"source_token": token, "phone": OTHER_PHONE}), 403, "identity_mismatch"
        )
    # The sixth, with the right phone, is refused too
    error_of(post(verification_app, {"source_token": token, "phone": PHONE}), 403, "identity_mismatch")
    assert failures(seeded, token) == 5


@pytest.mark.parametrize(
    "body",
    [
        {"phone": PHONE, "email": EMAIL},
        {},
        {"phone": "not a phone"},
        {"email": "pat@"},
        {"phone": PHONE, "name": "Pat"},  # extra fields are refused
        {"phone": PHONE, "zip": "787"},
    ],
)
def test_not_exactly_one_good_item_is_a_422_that_counts_nothing(
    verification_app: ModuleType, seeded: Stack, clock: Clock, body: dict[str, Any]
) -> None:
    add_customer()
    token = new_link(seeded)
    error_of(post(verification_app, {"source_token": token, **body}), 422, "validation_error")
    assert failures(seeded, token) == 0


def test_a_malformed_token_or_body_is_a_4xx(verification_app: ModuleType, seeded: Stack) -> None:
    error_of(post(verification_app, {"source_token": "short", "phone": PHONE}), 422, "validation_error")
    error_of(post(verification_app, {"phone": PHONE}), 422, "validation_error")
    event = with_body(load_event("identity_known_source_post"), "{not json")
    error_of(verification_app.lambda_handler(event, FakeLambdaContext()), 400, "malformed_json")
    event = with_body(
        load_event("identity_known_source_post"), "phone=1", "application/x-www-form-urlencoded"
    )
    error_of(verification_app.lambda_handler(event, FakeLambdaContext()), 415, "unsupported_media_type")


def test_the_sample_event_is_a_well_formed_request(verification_app: ModuleType, seeded: Stack) -> None:
    # The event's token is no link here: the generic refusal, not a validation error
    response = verification_app.lambda_handler(load_event("identity_known_source_post"), FakeLambdaContext())
    error_of(response, 403, "identity_mismatch")


# ------------------------------------------------------------------------------ logs
def test_no_token_phone_number_or_email_address_appears_in_any_log_line(
    verification_app: ModuleType, seeded: Stack, clock: Clock, capfd: pytest.CaptureFixture[str]
) -> None:
    service_logger = verification_app.logger
    every_line = LogLines(service_logger.registered_formatter)
    root = logging.getLogger()
    previous = (service_logger.log_level, root.level)
    service_logger.setLevel("DEBUG")
    root.setLevel(logging.INFO)
    service_logger.addHandler(every_line)
    root.addHandler(every_line)
    add_customer()
    tokens: list[str] = []
    try:
        # When links are created and checked: matches by phone and e-mail, mismatches, a lock
        tokens.append(new_link(seeded))
        tokens.append(new_link(seeded, vehicle_id=None))
        passed(post(verification_app, {"source_token": tokens[0], "phone": PHONE, "zip": "78701"}))
        passed(post(verification_app, {"source_token": tokens[1], "email": EMAIL}))
        for _ in range(6):
            post(verification_app, {"source_token": tokens[1], "phone": OTHER_PHONE})
        post(verification_app, {"source_token": tokens[1], "email": EMAIL})
        post(verification_app, {"source_token": "Zm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4", "phone": PHONE})
        set_do_not_service(CustomersRepository(seeded.table_name, REGION), CUSTOMER, True)
    finally:
        service_logger.removeHandler(every_line)
        root.removeHandler(every_line)
        service_logger.setLevel(previous[0])
        root.setLevel(previous[1])

    captured = capfd.readouterr()
    lines = [*every_line.lines, *captured.out.splitlines(), *captured.err.splitlines()]
    assert sum("known source check failed" in line for line in every_line.lines) >= 5  # captured
    assert sum("known source check passed" in line for line in every_line.lines) >= 2
    forbidden = [*tokens, "Zm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4", PHONE, PHONE[1:], PHONE[2:]]
    forbidden += [OTHER_PHONE, OTHER_PHONE[1:], OTHER_PHONE[2:], EMAIL, EMAIL.split("@", 1)[0]]
    patterns = [re.compile(rf"(?<![0-9A-Za-z_-]){re.escape(word)}(?![0-9A-Za-z_-])") for word in forbidden]
    leaks = [(p.pattern, line) for line in lines for p in patterns if p.search(line)]
    assert leaks == []
