"""The flagged-customer routes in process on moto: staff only, what a flag writes (the flag, one
FLAGVALUE item per field, the audit entry), un-flagging a field, deleting, pages, and bad input
(which changes nothing)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from bookbay.domain.addresses import canonical_address
from bookbay.domain.audit import Actor
from bookbay.domain.catalog import Address
from bookbay.domain.flags import FlagKey
from bookbay.exceptions import StaleWrite
from bookbay.models import keys
from bookbay.repositories import audit
from bookbay.repositories.flags import FlagsRepository
from tests.integration.conftest import REGION, Stack
from tests.integration.test_booking_api import body_of, of_kind, table
from tests.support import error_of, load_event, response_json, with_body, with_query

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
STAFF_EMAIL = "advisor@demo-auto.example.com"  # the sample events' claims
HOME = {"line1": "123 Main Street", "city": "Austin", "state": "TX", "zip": "78701"}
HOME_CANONICAL = canonical_address(Address.model_validate(HOME))
FLAG = {
    "name": "Dana Rivera",
    "email": "Dana.Rivera@Example.com",
    "phone": "(512) 555-0123",
    "address": HOME,
    "reason": "Abusive to staff at the last visit",
}
Call = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def flags_app(seeded: Stack, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    app = seeded.load("admin_flags", "AdminFlagsFunction")
    monkeypatch.setattr(app, "clock", lambda: NOW)
    return app


@pytest.fixture
def send(flags_app: ModuleType, call: Any) -> Call:
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = call(flags_app, event)
        return response

    return invoke


# ------------------------------------------------------------------------------ events
def post_event(data: dict[str, Any] | str) -> dict[str, Any]:
    return with_body(load_event("admin_flags_post"), data if isinstance(data, str) else json.dumps(data))


def on(name: str, flag_id: str, field: str | None = None) -> dict[str, Any]:
    """One of the flag-id events, for ``flag_id`` (and ``field``)."""
    event = load_event(name)
    event["pathParameters"]["flag_id"] = flag_id
    event["path"] = f"/v1/admin/flags/{flag_id}" + (f"/fields/{field}" if field else "")
    if field is not None:
        event["pathParameters"]["field"] = field
    return event


def list_event(**query: str) -> dict[str, Any]:
    return with_query(load_event("admin_flags_list"), query or None)


def created(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 201, response["body"]
    flag: dict[str, Any] = response_json(response)["flag"]
    return flag


def ok(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def entries(stack: Stack, field: str, value: str) -> set[str]:
    """The flag ids the FLAGVALUE item of (field, value) holds."""
    item = table(stack).get((keys.flag_value_pk(field, value), keys.FLAGVALUE_SK))
    return {json.loads(member)[0] for member in (item or {}).get("entries", set())}


def audit_actions(stack: Stack, flag_id: str) -> list[tuple[str, str | None]]:
    items = table(stack)
    found = sorted(
        (sk, body_of(item))
        for (pk, sk), item in items.items()
        if pk == keys.flag_pk(flag_id) and sk.startswith(keys.AUDIT_PREFIX)
    )
    return [(entry["action"], entry["actor"]["email"]) for _, entry in found]


# ------------------------------------------------------------------------------ staff only
ROUTES = [
    list_event,
    lambda: post_event(FLAG),
    lambda: on("admin_flags_get", "018f3a2b4c5d9e8f7a6b5c4d"),
    lambda: on("admin_flags_delete", "018f3a2b4c5d9e8f7a6b5c4d"),
    lambda: on("admin_flags_unflag_field", "018f3a2b4c5d9e8f7a6b5c4d", "phone"),
]


@pytest.mark.parametrize("event_factory", ROUTES)
def test_every_route_wants_a_staff_member(seeded: Stack, send: Call, event_factory: Any) -> None:
    before = table(seeded)
    event = event_factory()
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "customers"
    error_of(send(event), 403, "forbidden")
    del event["requestContext"]["authorizer"]
    error_of(send(event), 401, "unauthorized")
    assert table(seeded) == before


# ------------------------------------------------------------------------------ create and read
def test_a_flag_is_stored_with_a_value_item_per_field_and_an_audit_entry(seeded: Stack, send: Call) -> None:
    flag = created(send(post_event(FLAG)))

    assert {k: flag[k] for k in ("name", "email", "phone", "address", "reason")} == {
        "name": "Dana Rivera",
        "email": "dana.rivera@example.com",
        "phone": "+15125550123",
        "address": {**HOME, "line2": None},
        "reason": "Abusive to staff at the last visit",
    }
    assert flag["active"] is True and flag["active_fields"] == ["name", "email", "phone", "address"]
    assert flag["created_by"] == STAFF_EMAIL and flag["unflagged"] == []
    assert flag["created_at"].startswith("2026-11-23T15:00:00")
    # Each field is one key: the booking reads it by key
    assert entries(seeded, "name", "dana rivera") == {flag["id"]}
    assert entries(seeded, "email", "dana.rivera@example.com") == {flag["id"]}
    assert entries(seeded, "phone", "+15125550123") == {flag["id"]}
    assert entries(seeded, "address", HOME_CANONICAL) == {flag["id"]}
    assert audit_actions(seeded, flag["id"]) == [("flag.create", STAFF_EMAIL)]

    assert ok(send(on("admin_flags_get", flag["id"])))["flag"] == flag
    assert ok(send(list_event()))["flags"] == [flag]


def test_one_field_is_enough_and_two_flags_may_share_a_value(seeded: Stack, send: Call) -> None:
    first = created(send(post_event({"phone": "512-555-0123", "reason": "Left without paying"})))
    second = created(send(post_event({"phone": "+15125550123", "name": "Sam Lee", "reason": "Rude"})))
    assert first["active_fields"] == ["phone"] and second["active_fields"] == ["name", "phone"]
    assert entries(seeded, "phone", "+15125550123") == {first["id"], second["id"]}

    # Un-flagging the phone of one leaves the other's
    ok(send(on("admin_flags_unflag_field", first["id"], "phone")))
    assert entries(seeded, "phone", "+15125550123") == {second["id"]}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason": "No details"}, "body"),
        ({**FLAG, "reason": "   "}, "body.reason"),
        ({k: v for k, v in FLAG.items() if k != "reason"}, "body.reason"),
        ({**FLAG, "email": "not-an-email"}, "body.email"),
        ({**FLAG, "phone": "12"}, "body.phone"),
        ({**FLAG, "name": "Dana"}, "body.name"),
        ({**FLAG, "name": "D" * 200}, "body.name"),
        ({**FLAG, "address": {**HOME, "zip": "7870"}}, "body.address.zip"),
        ({**FLAG, "address": {**HOME, "state": "CA"}}, "body.address.state"),
        ({**FLAG, "address": {**HOME, "line1": "Somewhere nice"}}, "body.address.line1"),
        ({**FLAG, "colour": "red"}, "body.colour"),
    ],
)
def test_bad_flags_are_422_naming_the_field_and_write_nothing(
    seeded: Stack, send: Call, data: dict[str, Any], field: str
) -> None:
    before = table(seeded)
    error = error_of(send(post_event(data)), 422, "validation_error")
    assert any(d["field"].startswith(field) for d in error["details"]), error
    assert table(seeded) == before


def test_undecodable_or_non_json_bodies_are_refused(seeded: Stack, send: Call) -> None:
    before = table(seeded)
    error_of(send(post_event('{"reason": ')), 400, "malformed_json")
    error_of(
        send(with_body(load_event("admin_flags_post"), "reason=x", "text/plain")),
        415,
        "unsupported_media_type",
    )
    error_of(send(post_event("[1, 2]")), 422, "validation_error")
    assert table(seeded) == before


@pytest.mark.parametrize(
    "flag_id", ["018f3a2b4c5d9e8f7a6b5c4d", "nope", "f" * 3000, "018F3A2B4C5D9E8F7A6B5C4D"]
)
def test_unknown_ids_are_404_on_every_route(seeded: Stack, send: Call, flag_id: str) -> None:
    before = table(seeded)
    error_of(send(on("admin_flags_get", flag_id)), 404, "flag_not_found")
    error_of(send(on("admin_flags_delete", flag_id)), 404, "flag_not_found")
    error_of(send(on("admin_flags_unflag_field", flag_id, "email")), 404, "flag_not_found")
    assert table(seeded) == before


# ------------------------------------------------------------------------------ un-flag, delete
def test_unflagging_fields_one_by_one_leaves_an_inactive_flag(seeded: Stack, send: Call) -> None:
    flag = created(send(post_event(FLAG)))

    after = ok(send(on("admin_flags_unflag_field", flag["id"], "phone")))["flag"]
    assert after["active_fields"] == ["name", "email", "address"] and after["active"] is True
    assert [(u["field"], u["by"]) for u in after["unflagged"]] == [("phone", STAFF_EMAIL)]
    assert entries(seeded, "phone", "+15125550123") == set()
    assert entries(seeded, "email", "dana.rivera@example.com") == {flag["id"]}

    # Again, or a field it never had: 409, nothing changes
    before = table(seeded)
    error_of(send(on("admin_flags_unflag_field", flag["id"], "phone")), 409, "field_not_flagged")
    error_of(send(on("admin_flags_unflag_field", flag["id"], "colour")), 422, "validation_error")
    assert table(seeded) == before

    for field in ("name", "email", "address"):
        after = ok(send(on("admin_flags_unflag_field", flag["id"], field)))["flag"]
    assert after["active"] is False and after["active_fields"] == []
    for field, value in (("name", "dana rivera"), ("address", HOME_CANONICAL)):
        assert entries(seeded, field, value) == set()
    # Still on the list and readable: the appointments that matched it name it
    assert [f["id"] for f in ok(send(list_event()))["flags"]] == [flag["id"]]
    assert ok(send(on("admin_flags_get", flag["id"])))["flag"] == after
    assert [a for a, _ in audit_actions(seeded, flag["id"])] == ["flag.create"] + ["flag.unflag_field"] * 4

    partial = created(send(post_event({"email": "x@example.com", "reason": "Chargebacks"})))
    error_of(send(on("admin_flags_unflag_field", partial["id"], "address")), 409, "field_not_flagged")


def test_a_deleted_flag_is_gone_and_matches_nothing(seeded: Stack, send: Call) -> None:
    flag = created(send(post_event(FLAG)))
    ok(send(on("admin_flags_unflag_field", flag["id"], "name")))

    response = send(on("admin_flags_delete", flag["id"]))
    assert response["statusCode"] == 204, response["body"]
    error_of(send(on("admin_flags_get", flag["id"])), 404, "flag_not_found")
    error_of(send(on("admin_flags_delete", flag["id"])), 404, "flag_not_found")
    assert ok(send(list_event()))["flags"] == []
    items = table(seeded)
    assert of_kind(items, "Flag") == []
    assert all(not item.get("entries") for item in of_kind(items, "FlagValue"))
    # The history stays: who flagged, un-flagged and deleted
    assert audit_actions(seeded, flag["id"]) == [
        ("flag.create", STAFF_EMAIL),
        ("flag.unflag_field", STAFF_EMAIL),
        ("flag.delete", STAFF_EMAIL),
    ]


# ------------------------------------------------------------------------------ pages
def test_the_list_pages_newest_first_with_a_cursor(seeded: Stack, send: Call, flags_app: Any) -> None:
    ids = []
    for n in range(5):
        flags_app.clock = lambda n=n: NOW.replace(minute=n)
        ids.append(created(send(post_event({"phone": f"+1512555010{n}", "reason": f"r{n}"})))["id"])

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        answer = ok(send(list_event(limit="2", **({"cursor": cursor} if cursor else {}))))
        assert len(answer["flags"]) <= 2
        seen += [f["id"] for f in answer["flags"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        base64.urlsafe_b64encode(b"[1]").decode(),
        base64.urlsafe_b64encode(
            json.dumps(
                {
                    "PK": {"S": "CUSTOMER#1"},
                    "SK": {"S": "PROFILE"},
                    "GSI3PK": {"S": "PROPOSED#pending"},
                    "GSI3SK": {"S": "x"},
                }
            ).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps(
                {
                    "PK": {"S": "FLAG#018f3a2b4c5d9e8f7a6b5c4d"},
                    "SK": {"S": "FLAG"},
                    "GSI3PK": {"S": "FLAGS"},
                    "GSI3SK": {"S": "x" * 1500},
                }
            ).encode()
        ).decode(),
    ],
)
def test_a_cursor_that_is_not_a_next_cursor_is_400(seeded: Stack, send: Call, cursor: str) -> None:
    error_of(send(list_event(cursor=cursor)), 400, "invalid_cursor")


@pytest.mark.parametrize("limit", ["0", "201", "many"])
def test_a_bad_limit_is_422(seeded: Stack, send: Call, limit: str) -> None:
    error = error_of(send(list_event(limit=limit)), 422, "validation_error")
    assert error["details"][0]["field"] == "query.limit"


# ------------------------------------------------------------------------------ concurrent changes
def test_a_change_from_a_stale_read_is_refused_and_writes_nothing(seeded: Stack, send: Call) -> None:
    flag = created(send(post_event(FLAG)))
    repo = FlagsRepository(seeded.table_name, REGION)
    stale = repo.get(flag["id"])
    assert stale is not None
    ok(send(on("admin_flags_unflag_field", flag["id"], "name")))  # meanwhile, another staff member
    before = table(seeded)

    entry = audit.entry(Actor(sub="s-2"), "flag.unflag_field", NOW)
    after = stale.flag.unflag("phone", at=NOW, by=Actor(sub="s-2"))
    with pytest.raises(StaleWrite):
        repo.unflag(stale, after, FlagKey("phone", "+15125550123"), entry)
    with pytest.raises(StaleWrite):
        repo.delete(stale, audit.entry(Actor(sub="s-2"), "flag.delete", NOW))
    assert table(seeded) == before
