"""Known-source links (bookbay.services.source_links) on an in-process moto table: what a link stores,
who it accepts, and how it refuses (one answer for every reason; 5 wrong items lock it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from bookbay.domain.booking import Vehicle
from bookbay.domain.ids import hash_token
from bookbay.domain.source_links import MAX_FAILURES, SourceLink
from bookbay.exceptions import Conflict, IdentityMismatch, NotFound, ShopNotConfigured, ValidationFailed
from bookbay.models import keys
from bookbay.models.customers import CustomerLookupItem, VehicleItem
from bookbay.repositories.customers import CustomersRepository
from bookbay.repositories.source_links import SourceLinkRepository
from bookbay.repositories.verification import VerificationRepository
from bookbay.services.source_links import (
    MISMATCH_MESSAGE,
    KnownSourcePassed,
    check_known_source,
    create_source_link,
)
from bookbay.services.verification_tokens import VerificationTokens
from tests.support.customers import CUSTOMER, EMAIL, PHONE, VEHICLE, add_customer
from tests.support.table import REGION, moto_table

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
BASE_URL = "https://book.example.com"
OTHER = "c0ffee0000000002"
OTHER_PHONE = "+15125550142"
SECOND_VEHICLE = Vehicle(id="d" * 20, year=2015, make="Ford", model="F-150")


@dataclass
class World:
    table: str
    customers: CustomersRepository
    links: SourceLinkRepository
    verification: VerificationRepository
    tokens: VerificationTokens

    def create(self, **overrides: Any) -> tuple[str, str]:
        """(url, raw token) of a new link for CUSTOMER (with VEHICLE unless overridden)."""
        arguments: dict[str, Any] = {
            "configured_base_url": BASE_URL,
            "customer_id": CUSTOMER,
            "vehicle_id": VEHICLE.id,
            "now": NOW,
            **overrides,
        }
        created = create_source_link(self.customers, self.links, **arguments)
        return created.url, created.source_token

    def check(
        self,
        token: str,
        *,
        phone: str | None = None,
        email: str | None = None,
        zip_code: str | None = None,
        now: datetime = NOW,
    ) -> KnownSourcePassed:
        return check_known_source(
            self.links,
            self.verification,
            self.tokens,
            source_token=token,
            phone=phone,
            email=email,
            zip_code=zip_code,
            now=now,
        )

    def items(self) -> list[dict[str, Any]]:
        client = boto3.client("dynamodb", region_name=REGION)
        deserialize = TypeDeserializer().deserialize
        raw = client.scan(TableName=self.table, ConsistentRead=True)["Items"]
        return [{k: deserialize(v) for k, v in item.items()} for item in raw]

    def failures(self, token: str) -> int:
        link = self.links.get(hash_token(token))
        assert link is not None
        return link.failures


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with moto_table(monkeypatch) as table:
        add_customer(vehicles=(VEHICLE, SECOND_VEHICLE))
        add_customer(OTHER, OTHER_PHONE, "sam.other@example.com", first_name="Sam", vehicles=())
        yield World(
            table,
            CustomersRepository(table, REGION),
            SourceLinkRepository(table, REGION),
            VerificationRepository(table, REGION),
            VerificationTokens(lambda: b"unit-test-signing-key-0123456789"),
        )


# ---------------------------------------------------------------- creating links
def test_a_link_stores_only_the_hash_of_its_token(world: World) -> None:
    # When staff create a link for a customer's vehicle in a campaign
    url, token = world.create(campaign="spring-tires")

    # Then the URL is on the public base URL and carries the token; the token has >= 128 bits
    assert url == f"{BASE_URL}/book?src={token}"
    assert len(token) >= 22
    # And the link is stored under the token's SHA-256, and the token itself nowhere
    (item,) = [i for i in world.items() if i["PK"].startswith("SOURCE#")]
    assert item["PK"] == f"SOURCE#{hash_token(token)}" and item["SK"] == "SOURCE"
    assert item["entity"] == "SourceLink"
    assert item["customer_id"] == CUSTOMER and item["vehicle_id"] == VEHICLE.id
    assert item["campaign"] == "spring-tires" and item["failures"] == 0
    assert item["expires_at"] == int((NOW + timedelta(days=180)).timestamp())
    assert all(token not in json.dumps(i, default=str) for i in world.items())


def test_two_links_never_share_a_token(world: World) -> None:
    tokens = {world.create()[1] for _ in range(5)}
    assert len(tokens) == 5


def test_the_configured_base_url_wins_over_the_settings(world: World) -> None:
    url, token = world.create(configured_base_url="https://www.shop.example/", days=30)
    assert url == f"https://www.shop.example/book?src={token}"
    link = world.links.get(hash_token(token))
    assert link is not None and link.expires_at == NOW + timedelta(days=30) and link.vehicle_id == VEHICLE.id


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"customer_id": "nobody"}, NotFound),
        ({"vehicle_id": "e" * 20}, ValidationFailed),  # no such vehicle at all
        ({"customer_id": OTHER}, ValidationFailed),  # VEHICLE is not the other customer's
        ({"campaign": "Spring Tires!"}, ValidationFailed),
        ({"campaign": "x" * 41}, ValidationFailed),
        ({"days": 0}, ValidationFailed),
        ({"days": 731}, ValidationFailed),
        ({"configured_base_url": ""}, ShopNotConfigured),  # no base URL
    ],
)
def test_a_link_is_refused_for_what_it_cannot_point_at(
    world: World, overrides: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        world.create(**overrides)
    assert not [i for i in world.items() if i["PK"].startswith("SOURCE#")]


def test_a_link_without_a_vehicle_or_campaign(world: World) -> None:
    _, token = world.create(vehicle_id=None, customer_id=OTHER)
    link = world.links.get(hash_token(token))
    assert link is not None
    assert (link.customer_id, link.vehicle_id, link.campaign, link.failures) == (OTHER, None, None, 0)


# ---------------------------------------------------------------- checking one item
def test_the_right_phone_gives_a_known_source_token_and_the_preselected_vehicle(world: World) -> None:
    _, token = world.create()

    passed = world.check(token, phone="(512) 555-0199", zip_code="78701")

    identity = world.tokens.verify(passed.verification_token, NOW)
    assert (identity.destination, identity.channel, identity.customer_id) == (PHONE, "sms", CUSTOMER)
    assert (identity.vehicle_id, identity.via) == (VEHICLE.id, "known_source")
    assert passed.expires_in == 1800
    assert passed.vehicle is not None and (passed.vehicle.id, passed.vehicle.label) == (
        VEHICLE.id,
        "2019 Toyota Camry",
    )
    assert passed.customer.first_name == "Pat"
    assert {v.id for v in passed.customer.vehicles} == {VEHICLE.id, SECOND_VEHICLE.id}
    assert [(a.id, a.label) for a in passed.customer.addresses] == [("b" * 20, "1** M*** St")]
    assert world.failures(token) == 0


def test_the_right_email_in_any_case_matches_and_a_link_works_again(world: World) -> None:
    _, token = world.create(vehicle_id=None)
    for _ in range(2):
        passed = world.check(token, email=EMAIL.upper())
        identity = world.tokens.verify(passed.verification_token, NOW)
        assert (identity.destination, identity.channel, identity.customer_id) == (EMAIL, "email", CUSTOMER)
        assert identity.vehicle_id is None and identity.via == "known_source"
        assert passed.vehicle is None
        assert len(passed.customer.addresses) == 2  # no zip: every address
    assert world.failures(token) == 0


def test_a_vehicle_removed_since_is_not_preselected(world: World) -> None:
    _, token = world.create()
    VehicleItem(keys.customer_pk(CUSTOMER), keys.vehicle_sk(VEHICLE.id)).delete()
    passed = world.check(token, phone=PHONE)
    assert passed.vehicle is None
    assert world.tokens.verify(passed.verification_token, NOW).vehicle_id is None


@pytest.mark.parametrize(
    "item",
    [
        {"phone": OTHER_PHONE},  # another customer's phone
        {"phone": "+15125550100"},  # nobody's phone
        {"email": "sam.other@example.com"},
        {"email": "nobody@example.com"},
    ],
)
def test_an_item_that_is_not_the_links_customers_is_refused_and_counted(
    world: World, item: dict[str, str]
) -> None:
    _, token = world.create()
    with pytest.raises(IdentityMismatch) as refused:
        world.check(token, phone=item.get("phone"), email=item.get("email"))
    assert refused.value.message == MISMATCH_MESSAGE and refused.value.code == "identity_mismatch"
    assert world.failures(token) == 1


def test_five_wrong_items_lock_the_link_even_for_the_right_one(world: World) -> None:
    _, token = world.create()
    for n in range(1, MAX_FAILURES + 1):
        with pytest.raises(IdentityMismatch):
            world.check(token, phone=OTHER_PHONE)
        assert world.failures(token) == n
    # The sixth check, with the right phone, is refused the same way and changes nothing
    with pytest.raises(IdentityMismatch) as refused:
        world.check(token, phone=PHONE)
    assert refused.value.message == MISMATCH_MESSAGE
    assert world.failures(token) == MAX_FAILURES


def test_four_wrong_items_then_the_right_one_still_passes(world: World) -> None:
    _, token = world.create()
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(IdentityMismatch):
            world.check(token, email="nobody@example.com")
    assert world.check(token, phone=PHONE).customer.first_name == "Pat"
    assert world.failures(token) == MAX_FAILURES - 1


def test_unknown_and_expired_links_get_the_same_refusal(world: World) -> None:
    _, token = world.create(days=1)
    with pytest.raises(IdentityMismatch) as unknown:
        world.check("Zm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4", phone=PHONE)
    with pytest.raises(IdentityMismatch) as expired:
        world.check(token, phone=PHONE, now=NOW + timedelta(days=1))
    assert unknown.value.message == expired.value.message == MISMATCH_MESSAGE
    assert world.failures(token) == 0  # a refused expired link counts nothing
    assert world.check(token, phone=PHONE, now=NOW + timedelta(days=1, seconds=-1)).vehicle is not None


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"phone": PHONE, "email": EMAIL}, "body"),
        ({}, "body"),
        ({"phone": "not a phone"}, "body.phone"),
        ({"email": "pat@"}, "body.email"),
        ({"email": PHONE}, "body.email"),
    ],
)
def test_not_exactly_one_well_formed_item_is_a_validation_error_and_counts_nothing(
    world: World, item: dict[str, str], field: str
) -> None:
    _, token = world.create()
    with pytest.raises(ValidationFailed) as refused:
        world.check(token, phone=item.get("phone"), email=item.get("email"))
    assert refused.value.details is not None and refused.value.details[0]["field"] == field
    assert world.failures(token) == 0


def test_a_do_not_service_customer_is_answered_like_anyone_else(world: World) -> None:
    summary = CustomerLookupItem.get(keys.phone_pk(PHONE), keys.PHONE_SK)
    summary.update(actions=[CustomerLookupItem.summary.set({**summary.summary, "do_not_service": True})])
    _, token = world.create()
    passed = world.check(token, phone=PHONE)
    assert passed.customer.first_name == "Pat" and passed.vehicle is not None


# ---------------------------------------------------------------- the attempt limit in storage
def test_attempts_are_taken_by_conditional_writes_and_given_back_only_on_a_match(world: World) -> None:
    link = SourceLink(
        token_hash="f" * 64,
        customer_id=CUSTOMER,
        vehicle_id=None,
        campaign=None,
        created_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    world.links.create(link)
    with pytest.raises(Conflict):
        world.links.create(link)  # a token hash is never stored twice
    taken = [world.links.take_attempt(link.token_hash, NOW, 3) for _ in range(4)]
    assert [t.failures if t else None for t in taken] == [1, 2, 3, None]
    world.links.give_back_attempt(link.token_hash)
    again = world.links.take_attempt(link.token_hash, NOW, 3)
    assert again is not None and again.failures == 3 and again.locked is False
    assert world.links.take_attempt("0" * 64, NOW, 3) is None  # unknown: nothing created
    world.links.give_back_attempt("0" * 64)
    assert world.links.get("0" * 64) is None
