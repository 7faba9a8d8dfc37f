"""Staff blocked time in process on moto: a block takes every slot it overlaps out of availability
and booking (creating slot items as needed), overlapping blocks never free each other's slots,
appointments already inside stay and are listed, long blocks span several transactions, and bad
input changes nothing. The clock is Monday 2026-11-23, 09:00 in Austin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookbay.models import keys
from bookbay.models.audit import AuditItem
from bookbay.models.blocks import BlockItem
from bookbay.repositories import blocks as blocks_repository
from tests.integration.conftest import Stack
from tests.integration.test_booking_api import NOW, Post, body, created, poster, table
from tests.support import error_of, load_event, response_json, with_body, with_query

pytestmark = pytest.mark.integration

AUSTIN = ZoneInfo("America/Chicago")
LOCATION = "austin-downtown"
TUESDAY = datetime(2026, 11, 24, tzinfo=AUSTIN)


def at(hour: int, minute: int = 0, day: datetime = TUESDAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


@pytest.fixture
def blocks_app(seeded: Stack, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    app = seeded.load("admin_blocks", "AdminBlocksFunction")
    monkeypatch.setattr(app, "clock", lambda: NOW)
    return app


@pytest.fixture
def availability(availability_app: ModuleType, call: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The bookable local starts of a service on a day (HH:MM)."""
    monkeypatch.setattr(availability_app, "clock", lambda: NOW)

    def starts(service: str = "oil-change", day: str = "2026-11-24") -> list[str]:
        event = with_query(
            load_event("availability_get"),
            {
                "location_id": LOCATION,
                "service_id": service,
                "appointment_type": "in_store",
                "from": day,
                "days": "1",
            },
        )
        response = call(availability_app, event)
        assert response["statusCode"] == 200, response["body"]
        return [slot["start"][11:16] for slot in response_json(response)["slots"]]

    return starts


@pytest.fixture
def post(booking_app: ModuleType, call: Any, monkeypatch: pytest.MonkeyPatch) -> Post:
    monkeypatch.setattr(booking_app, "clock", lambda: NOW)
    return poster(booking_app, call)


@pytest.fixture
def staff(blocks_app: ModuleType, call: Any) -> Any:
    def send(
        name: str, data: Any = None, block_id: str | None = None, query: dict[str, str] | None = None
    ) -> Any:
        event = load_event(name)
        if block_id is not None:
            event["path"] = f"/v1/admin/blocks/{block_id}"
            event["pathParameters"] = {"block_id": block_id}
        if query is not None:
            event = with_query(event, query)
        if data is not None:
            event = with_body(event, data if isinstance(data, str) else json.dumps(data))
        response: dict[str, Any] = call(blocks_app, event)
        return response

    return send


def block(staff: Any, start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    data = {"location_id": LOCATION, "start": start.isoformat(), "end": end.isoformat(), **extra}
    response = staff("admin_blocks_post", data)
    assert response["statusCode"] == 201, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def unblock(staff: Any, block_id: str) -> dict[str, Any]:
    response = staff("admin_blocks_delete", block_id=block_id)
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def slots(stack: Stack) -> dict[str, dict[str, Any]]:
    """The location's slot items by local HH:MM on the Tuesday."""
    found: dict[str, dict[str, Any]] = {}
    for (pk, sk), item in table(stack).items():
        if pk == keys.location_pk(LOCATION) and sk.startswith(keys.SLOT_PREFIX):
            start = keys.slot_start(sk).astimezone(AUSTIN)
            found[start.strftime("%m-%d %H:%M")] = item
    return found


def blocked(stack: Stack) -> dict[str, int]:
    """Blocked slots and their block counts."""
    return {
        when: int(item.get("block_count", 0))
        for when, item in slots(stack).items()
        if item.get("blocked") is True
    }


# ------------------------------------------------------------------------------ the flow
def test_a_block_takes_its_time_out_of_availability_and_booking_until_deleted(
    seeded: Stack, staff: Any, availability: Any, post: Post
) -> None:
    assert {"12:00", "12:30"} <= set(availability())
    answer = block(staff, at(12), at(13), reason="  Lift 2   in maintenance ")
    made = answer["block"]
    assert made["id"].startswith(f"{LOCATION}.20261124T180000Z.")
    assert (made["start"], made["end"]) == ("2026-11-24T12:00:00-06:00", "2026-11-24T13:00:00-06:00")
    assert (made["reason"], made["slots"], made["created_by"]) == (
        "Lift 2 in maintenance",
        2,
        "advisor@demo-auto.example.com",
    )
    assert answer["appointments_in_block"] == [] and answer["warning"] is None

    # The slot items exist now (created by the block), blocked once each.
    assert blocked(seeded) == {"11-24 12:00": 1, "11-24 12:30": 1}
    offered = availability()
    assert "12:00" not in offered and "12:30" not in offered and {"11:30", "13:00"} <= set(offered)
    # A 90-minute service cannot start where it would run into the block either.
    brakes = availability("brake-inspection")
    assert not {"11:00", "11:30", "12:00", "12:30"} & set(brakes) and "10:30" in brakes and "13:00" in brakes
    error_of(post(body(start="2026-11-24T12:30:00-06:00")), 409, "slot_unavailable")

    # The BLOCK item records exactly its slots; the location's audit trail records who.
    item = BlockItem.get(keys.location_pk(LOCATION), keys.block_sk(at(12), made["id"].rsplit(".", 1)[1]))
    assert item.status == "active" and item.slots == {keys.slot_sk(at(12)), keys.slot_sk(at(12, 30))}
    entries = [a.body for a in AuditItem.query(keys.location_pk(LOCATION), AuditItem.sk.startswith("AUDIT#"))]
    assert [(e["action"], e["actor"]["email"]) for e in entries] == [
        ("block.create", "advisor@demo-auto.example.com")
    ]

    deleted = unblock(staff, made["id"])
    assert deleted["block"]["status"] == "deleted"
    assert blocked(seeded) == {}
    assert {"12:00", "12:30"} <= set(availability())
    created(post(body(start="2026-11-24T12:30:00-06:00")))
    entries = [a.body for a in AuditItem.query(keys.location_pk(LOCATION), AuditItem.sk.startswith("AUDIT#"))]
    assert [e["action"] for e in entries] == ["block.create", "block.delete"]
    assert not list(BlockItem.query(keys.location_pk(LOCATION), BlockItem.sk.startswith(keys.BLOCK_PREFIX)))
    error_of(staff("admin_blocks_delete", block_id=made["id"]), 404, "not_found")


def test_overlapping_blocks_never_free_each_others_slots(
    seeded: Stack, staff: Any, availability: Any
) -> None:
    first = block(staff, at(12), at(13))["block"]["id"]
    second = block(staff, at(12, 30), at(13, 30))["block"]["id"]
    assert blocked(seeded) == {"11-24 12:00": 1, "11-24 12:30": 2, "11-24 13:00": 1}

    unblock(staff, first)
    assert blocked(seeded) == {"11-24 12:30": 1, "11-24 13:00": 1}
    offered = availability()
    assert "12:00" in offered and "12:30" not in offered and "13:00" not in offered

    unblock(staff, second)
    assert blocked(seeded) == {}
    assert all(int(item.get("block_count", 0)) == 0 for item in slots(seeded).values())


def test_a_block_overlapping_part_of_a_slot_blocks_the_whole_slot(seeded: Stack, staff: Any) -> None:
    answer = block(staff, at(12, 10), at(12, 40))
    assert answer["block"]["slots"] == 2
    assert blocked(seeded) == {"11-24 12:00": 1, "11-24 12:30": 1}


def test_appointments_inside_stay_and_are_listed(seeded: Stack, staff: Any, post: Post) -> None:
    booked = created(post(body(start="2026-11-24T12:30:00-06:00")))["appointment"]
    answer = block(staff, at(12), at(14))
    assert [a["id"] for a in answer["appointments_in_block"]] == [booked["id"]]
    assert answer["appointments_in_block"][0]["customer_name"] == "Dana Rivera"
    assert answer["warning"] and "stay booked" in answer["warning"]
    stored = table(seeded)[(keys.appointment_pk(booked["id"]), keys.APPOINTMENT_SK)]
    assert stored["status"] == "requested"
    slot = slots(seeded)["11-24 12:30"]
    assert (slot["used"], slot["blocked"], slot["block_count"]) == (1, True, 1)
    unblock(staff, answer["block"]["id"])
    slot = slots(seeded)["11-24 12:30"]
    assert (slot["used"], slot["blocked"]) == (1, False)  # the appointment still holds it


def test_a_long_block_spans_several_transactions_and_comes_back_whole(
    seeded: Stack, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blocks_repository, "SLOTS_PER_TRANSACTION", 7)
    answer = block(staff, at(7), at(7) + timedelta(days=2))  # Tuesday and Wednesday
    assert answer["block"]["slots"] == 40  # 07:30-17:30, 20 slots a day
    counts = blocked(seeded)
    assert len(counts) == 40 and set(counts.values()) == {1}
    unblock(staff, answer["block"]["id"])
    assert blocked(seeded) == {}
    assert not list(BlockItem.query(keys.location_pk(LOCATION), BlockItem.sk.startswith(keys.BLOCK_PREFIX)))


def test_a_location_lists_its_blocks_in_pages(staff: Any) -> None:
    ids = [block(staff, at(8 + n), at(9 + n))["block"]["id"] for n in range(3)]
    first = response_json(staff("admin_blocks_list", query={"location_id": LOCATION, "limit": "2"}))
    assert [b["id"] for b in first["blocks"]] == ids[:2] and first["next_cursor"]
    rest = response_json(
        staff(
            "admin_blocks_list", query={"location_id": LOCATION, "limit": "2", "cursor": first["next_cursor"]}
        )
    )
    assert [b["id"] for b in rest["blocks"]] == ids[2:] and rest["next_cursor"] is None
    error_of(staff("admin_blocks_list", query={"location_id": "nowhere"}), 404, "location_not_found")
    error_of(
        staff("admin_blocks_list", query={"location_id": LOCATION, "cursor": "e30"}), 400, "invalid_cursor"
    )


# ------------------------------------------------------------------------------ bad input
SUNDAY = datetime(2026, 11, 29, tzinfo=AUSTIN)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"start": at(13).isoformat(), "end": at(12).isoformat()}, 422, "validation_error"),
        (
            {"start": at(12).isoformat(), "end": (at(12) + timedelta(days=32)).isoformat()},
            422,
            "validation_error",
        ),
        ({"start": "2026-11-20T12:00:00-06:00", "end": "2026-11-20T13:00:00-06:00"}, 422, "validation_error"),
        ({"start": "2026-11-24T12:00:00", "end": "2026-11-24T13:00:00"}, 422, "validation_error"),
        (
            {"start": at(9, day=SUNDAY).isoformat(), "end": at(12, day=SUNDAY).isoformat()},
            422,
            "validation_error",
        ),
        ({"location_id": "nowhere"}, 404, "location_not_found"),
        ({"location_id": "Not A Slug"}, 422, "validation_error"),
        ({"reason": ""}, 422, "validation_error"),
        ({"colour": "red"}, 422, "validation_error"),
        ('{"start": ', 400, "malformed_json"),
    ],
)
def test_bad_blocks_are_4xx_and_change_nothing(
    seeded: Stack, staff: Any, data: Any, status: int, code: str
) -> None:
    before = table(seeded)
    if isinstance(data, dict):
        data = {"location_id": LOCATION, "start": at(12).isoformat(), "end": at(13).isoformat(), **data}
    error_of(staff("admin_blocks_post", data), status, code)
    assert table(seeded) == before


@pytest.mark.parametrize(
    "block_id",
    [
        "nonsense",
        "austin-downtown.20261124T180000Z.018f3a2b4c5d9e8f7a6b5c4d",
        "austin-downtown.20261399T180000Z.018f3a2b4c5d9e8f7a6b5c4d",
    ],
)
def test_unknown_blocks_are_404(staff: Any, block_id: str) -> None:
    error_of(staff("admin_blocks_delete", block_id=block_id), 404, "not_found")


def test_no_token_is_401(blocks_app: ModuleType, call: Any) -> None:
    event = load_event("admin_blocks_post")
    del event["requestContext"]["authorizer"]
    error_of(call(blocks_app, event), 401, "unauthorized")


def test_times_are_answered_in_the_locations_zone(staff: Any) -> None:
    start = at(12).astimezone(UTC)
    made = block(staff, start, start + timedelta(hours=1))["block"]
    assert made["start"] == "2026-11-24T12:00:00-06:00"
