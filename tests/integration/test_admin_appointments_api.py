"""Staff appointments API in process on moto: the list and its filters and cursor, reads with the
audit history, edits (reschedule under capacity, notes, stale versions), every action from the
states where it makes sense (409 elsewhere), and phone bookings entered by staff."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any

import pytest

from bookbay.domain.catalog import Catalog
from bookbay.models import keys
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.customers import CustomersRepository
from bookbay.services.customers import set_do_not_service
from tests.integration.conftest import REGION, Stack, apply_effects, outbox, schedules, table_items
from tests.integration.test_booking_api import set_settings
from tests.integration.test_staff_links import stored
from tests.support import load_event, response_json, with_body, with_query
from tests.support.appointments import CONTACT, local, next_weekday, past_weekday, seed_appointment

pytestmark = pytest.mark.integration
STAFF_SUB = "7d1f0c1e-0b7c-4a53-9a8e-2f1b3c4d5e6f"  # the events' staff member


# ------------------------------------------------------------------------------ fixtures and helpers
@pytest.fixture
def catalog(seeded: Stack) -> Catalog:
    return CatalogRepository(seeded.table_name, REGION).catalog()


@pytest.fixture
def admin(seeded: Stack, staff_app: ModuleType) -> ModuleType:  # staff_app: PUBLIC_BASE_URL set
    return seeded.load("admin_appointments", "AdminAppointmentsFunction")


def day_ahead(days: int = 3) -> date:
    return next_weekday(datetime.now(UTC).date(), days)


def listing(call: Any, admin: ModuleType, **query: str) -> dict[str, Any]:
    response = call(admin, with_query(load_event("admin_appointments_list"), query or None))
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def one(appointment_id: str, name: str = "admin_appointments_get", **path: str) -> dict[str, Any]:
    event = load_event(name)
    params = {"appointment_id": appointment_id, **path}
    event["pathParameters"] = params
    event["path"] = "/v1/admin/appointments/" + "/".join(params.values())
    return event


def action(call: Any, admin: ModuleType, appointment_id: str, name: str, body: Any = None) -> dict[str, Any]:
    event = one(appointment_id, "admin_appointments_action", action=name)
    event = with_body(event, None if body is None else json.dumps(body), "application/json" if body else None)
    response: dict[str, Any] = call(admin, event)
    return response


def patch(call: Any, admin: ModuleType, appointment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = call(
        admin, with_body(one(appointment_id, "admin_appointments_patch"), json.dumps(body))
    )
    return response


def ok(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] in (200, 201), response["body"]
    answer: dict[str, Any] = response_json(response)
    return answer


def refused(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], response_json(response)["error"]["code"]


def audit_of(stack: Stack, appointment_id: str) -> list[dict[str, Any]]:
    return [
        json.loads(i["body"]["S"])
        for i in table_items(stack)
        if i["entity"]["S"] == "Audit" and i["PK"]["S"] == keys.appointment_pk(appointment_id)
    ]


def slot_use(stack: Stack) -> dict[str, int]:
    return {i["SK"]["S"]: int(i["used"]["N"]) for i in table_items(stack) if i["entity"]["S"] == "Slot"}


# ------------------------------------------------------------------------------ auth
def test_every_route_needs_a_staff_token(admin: ModuleType, call: Any) -> None:
    for name in (
        "admin_appointments_list",
        "admin_appointments_get",
        "admin_appointments_patch",
        "admin_appointments_action",
        "admin_appointments_post",
    ):
        event = load_event(name)
        event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "customers"
        assert refused(call(admin, event)) == (403, "forbidden")
        del event["requestContext"]["authorizer"]
        assert refused(call(admin, event)) == (401, "unauthorized")


# ------------------------------------------------------------------------------ the list
def test_the_list_filters_by_status_location_and_flag_and_pages_with_a_cursor(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    day = day_ahead()
    first = seed_appointment(catalog, local(day, 9)).appointment
    second = seed_appointment(catalog, local(day, 10), status="confirmed").appointment
    third = seed_appointment(catalog, local(day, 11), status="cancelled").appointment
    span = {"from": day.isoformat(), "to": day.isoformat()}

    everything = listing(call, admin, **span)
    assert [a["id"] for a in everything["appointments"]] == [first.id, second.id, third.id]
    shown = everything["appointments"][0]
    assert shown["customer"] == {
        "id": first.customer_id,
        "first_name": CONTACT.first_name,
        "last_name": CONTACT.last_name,
        "phone": CONTACT.phone,
        "email": CONTACT.email,
    }
    assert shown["vehicle"]["label"] == "2019 Honda Civic"
    assert (shown["notes"], shown["flag_matches"], shown["takeover"]) == ("Squeaky brakes too", [], None)
    assert shown["start"].endswith("-06:00")  # in the location's zone

    by_status = listing(call, admin, **span, status="requested,confirmed", location_id="austin-downtown")
    assert [a["id"] for a in by_status["appointments"]] == [first.id, second.id]
    assert listing(call, admin, **span, flagged="true")["appointments"] == []

    # one at a time, by cursor, in the same order; the last page says there is no more
    seen, cursor = [], None
    while True:
        page = listing(call, admin, **span, limit="1", **({"cursor": cursor} if cursor else {}))
        seen += [a["id"] for a in page["appointments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [first.id, second.id, third.id]


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"status": "lost"},
        {"from": "2026-13-01"},
        {"from": "2026-12-10", "to": "2026-12-01"},
        {"from": "2026-01-01", "to": "2026-12-31"},
        {"location_id": "nowhere"},
        {"limit": "0"},
    ],
)
def test_bad_list_queries_are_4xx(admin: ModuleType, call: Any, query: dict[str, str]) -> None:
    response = call(admin, with_query(load_event("admin_appointments_list"), query))
    assert 400 <= response["statusCode"] < 500, response["body"]


# ------------------------------------------------------------------------------ actions
def test_confirm_check_in_complete_in_order_and_409_out_of_order(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    s = seed_appointment(catalog, local(day_ahead(), 10))
    a = s.appointment
    # Not yet: completing or marking a future appointment a no-show makes no sense
    assert refused(action(call, admin, a.id, "complete")) == (409, "invalid_transition")
    assert refused(action(call, admin, a.id, "no-show")) == (409, "invalid_transition")
    assert refused(action(call, admin, a.id, "send-confirmation")) == (409, "invalid_transition")

    confirmed = ok(action(call, admin, a.id, "confirm"))["appointment"]
    assert confirmed["status"] == "confirmed"
    # the customer got the e-confirmation (e-mail: no profile on file) and the reminder is scheduled
    (mail,) = outbox(seeded, CONTACT.email)
    assert "confirmed" in mail["subject"]["S"]
    apply_effects(seeded)
    assert set(schedules(seeded, "reminder-")) == {f"reminder-{a.id}"}
    assert refused(action(call, admin, a.id, "confirm")) == (409, "invalid_transition")

    checked_in = ok(action(call, admin, a.id, "check-in"))["appointment"]
    assert checked_in["status"] == "checked_in"
    apply_effects(seeded)
    assert schedules(seeded, "reminder-") == {}
    assert set(slot_use(seeded).values()) == {0}  # the slot is free again
    assert refused(action(call, admin, a.id, "cancel")) == (409, "invalid_transition")

    done = ok(action(call, admin, a.id, "complete"))["appointment"]
    assert (done["status"], done["completed_at"] is not None) == ("completed", True)

    # every change is audited: who, when, what
    history = ok(call(admin, one(a.id)))["appointment"]["history"]
    assert [h["action"] for h in history] == ["confirm", "check-in", "complete"]
    assert {h["actor"]["sub"] for h in history} == {STAFF_SUB}
    assert stored(a.id).body["status"] == "completed"


def test_cancel_frees_the_time_tells_the_customer_and_deletes_the_reminder(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    a = seed_appointment(catalog, local(day_ahead(), 10)).appointment
    ok(action(call, admin, a.id, "confirm"))
    apply_effects(seeded)
    assert set(schedules(seeded, "reminder-")) == {f"reminder-{a.id}"}
    cancelled = ok(action(call, admin, a.id, "cancel", {"reason": "Customer called"}))["appointment"]
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", "Customer called")
    apply_effects(seeded)
    assert schedules(seeded, "reminder-") == {}
    assert set(slot_use(seeded).values()) == {0}
    subjects = [m["subject"]["S"] for m in outbox(seeded, CONTACT.email)]
    assert any("has been cancelled" in s for s in subjects), subjects
    assert refused(action(call, admin, a.id, "cancel")) == (409, "invalid_transition")
    assert [h["note"] for h in audit_of(seeded, a.id) if h["action"] == "cancel"] == ["Customer called"]


def test_cancel_without_notice_sends_nothing(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    a = seed_appointment(catalog, local(day_ahead(), 10)).appointment
    ok(action(call, admin, a.id, "cancel", {"notify": False}))
    assert outbox(seeded, CONTACT.email) == []


def test_no_show_once_the_time_has_come(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    a = seed_appointment(catalog, local(past_weekday(1), 10), status="confirmed").appointment
    assert ok(action(call, admin, a.id, "no-show"))["appointment"]["status"] == "no_show"


def test_send_confirmation_by_a_chosen_channel(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    a = seed_appointment(catalog, local(day_ahead(), 10), status="confirmed").appointment
    answer = ok(action(call, admin, a.id, "send-confirmation", {"channel": "sms"}))
    assert answer["sent"]["channel"] == "sms"
    (sms,) = outbox(seeded, CONTACT.phone)
    assert "/c/" in sms["text"]["S"]
    assert [h["action"] for h in audit_of(seeded, a.id)] == ["send-confirmation"]


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [("teleport", None, 422), ("cancel", {"notify": "maybe"}, 422), ("cancel", {"extra": 1}, 422)],
)
def test_bad_actions_are_4xx_and_change_nothing(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog, name: str, body: Any, status: int
) -> None:
    a = seed_appointment(catalog, local(day_ahead(), 10)).appointment
    response = action(call, admin, a.id, name, body)
    assert response["statusCode"] in (400, 404, 422), response["body"]
    assert stored(a.id).body["status"] == "requested"


def test_an_unknown_appointment_is_404(admin: ModuleType, call: Any) -> None:
    assert refused(call(admin, one("0" * 24))) == (404, "appointment_not_found")
    assert refused(action(call, admin, "0" * 24, "confirm"))[0] == 404


# ------------------------------------------------------------------------------ edits
def test_patch_start_reschedules_under_capacity_and_tells_the_customer(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    day = day_ahead()
    a = seed_appointment(catalog, local(day, 10)).appointment
    read = ok(call(admin, one(a.id)))["appointment"]
    moved = ok(patch(call, admin, a.id, {"start": local(day, 14).isoformat(), "version": read["version"]}))
    assert moved["appointment"]["start"] == local(day, 14).isoformat()
    assert moved["appointment"]["status"] == "confirmed"
    assert any("moved to" in m["subject"]["S"] for m in outbox(seeded, CONTACT.email))
    assert [h["action"] for h in moved["appointment"]["history"]] == ["reschedule"]
    # the old version is stale now
    assert refused(patch(call, admin, a.id, {"notes": "x", "version": read["version"]})) == (
        409,
        "concurrent_update",
    )
    # a full slot is refused: fill 15:00 (capacity 2) and try to move there
    for _ in range(2):
        seed_appointment(catalog, local(day, 15))
    assert refused(patch(call, admin, a.id, {"start": local(day, 15).isoformat()})) == (
        409,
        "slot_unavailable",
    )
    assert stored(a.id).body["start"] == local(day, 14).isoformat()


def test_patch_notes_is_audited_with_before_and_after(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    a = seed_appointment(catalog, local(day_ahead(), 10)).appointment
    edited = ok(patch(call, admin, a.id, {"staff_notes": "Bring the spare key"}))["appointment"]
    assert edited["staff_notes"] == "Bring the spare key"
    (entry,) = edited["history"]
    assert entry["changes"] == {"staff_notes": {"before": None, "after": "Bring the spare key"}}


@pytest.mark.parametrize("body", [{}, {"version": 1}, {"start": "tomorrow"}, {"status": "confirmed"}])
def test_bad_patches_are_4xx(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog, body: Any
) -> None:
    a = seed_appointment(catalog, local(day_ahead(), 10)).appointment
    response = patch(call, admin, a.id, body)
    assert 400 <= response["statusCode"] < 500, response["body"]
    assert stored(a.id).version == 1


# ------------------------------------------------------------------------------ phone bookings
def manual(body_changes: dict[str, Any] | None = None) -> dict[str, Any]:
    event = load_event("admin_appointments_post")
    body = json.loads(event["body"])
    body["start"] = local(day_ahead(), 10).isoformat()
    body.update(body_changes or {})
    return with_body(event, json.dumps(body))


def test_a_phone_booking_is_confirmed_texted_reminded_and_audited(
    seeded: Stack, admin: ModuleType, call: Any
) -> None:
    answer = ok(call(admin, manual()))
    booked = answer["appointment"]
    assert (booked["status"], booked["source"], answer["warnings"]) == ("confirmed", "phone", [])
    (sms,) = outbox(seeded, "+15125550123")
    assert sms["channel"]["S"] == "sms" and "/c/" in sms["text"]["S"]
    apply_effects(seeded)
    assert set(schedules(seeded, "reminder-")) == {f"reminder-{booked['id']}"}
    (entry,) = booked["history"]
    assert (entry["action"], entry["actor"]["sub"]) == ("book", STAFF_SUB)


def test_a_do_not_service_customer_is_booked_by_staff_with_a_warning(
    seeded: Stack, admin: ModuleType, call: Any
) -> None:
    first = ok(call(admin, manual()))["appointment"]
    set_do_not_service(CustomersRepository(seeded.table_name, REGION), first["customer"]["id"], True)
    second = ok(call(admin, manual({"start": local(day_ahead(), 11).isoformat()})))
    assert second["warnings"] == ["do_not_service"]
    assert second["appointment"]["customer"]["id"] == first["customer"]["id"]


@pytest.mark.parametrize("takeover", [True, False])
def test_a_phone_booking_at_an_address_on_file_follows_the_takeover_setting(
    seeded: Stack, admin: ModuleType, call: Any, takeover: bool
) -> None:
    # Given the shop's takeover setting, and a customer at home at 123 Main Street
    set_settings(seeded, takeover_enabled=takeover)
    home = {"line1": "123 Main Street", "city": "Austin", "state": "TX", "zip": "78701"}
    first = ok(call(admin, manual({"appointment_type": "at_home", "address": home})))["appointment"]
    # When staff enter a caller whose phone is not on file, at the same place typed differently
    caller = {"first_name": "Sam", "last_name": "Okafor", "phone": "512-555-0188", "email": "sam@example.com"}
    same_place = {"line1": "123 MAIN ST", "city": "AUSTIN", "state": "TX", "zip": "78701"}
    changes = {
        "start": local(day_ahead(), 11).isoformat(),
        "appointment_type": "at_home",
        "address": same_place,
        "customer": caller,
    }
    second = ok(call(admin, manual(changes)))["appointment"]
    record = stored(second["id"]).body
    customers = [i for i in table_items(seeded) if i["entity"]["S"] == "Customer"]
    if takeover:
        # Then it goes on the customer at that address, with the note for staff (as online)
        assert second["customer"]["id"] == first["customer"]["id"] and len(customers) == 1
        assert second["takeover"] == {
            "name": "Sam Okafor",
            "phone": "+15125550188",
            "email": "sam@example.com",
        }
        assert record["staff_notes"].startswith("***POTENTIAL SITE TAKEOVER***")
        assert (second["source"], second["status"]) == ("phone", "confirmed")
        # and `customer` describes the record on file, in the answer, the read and the list; the
        # caller is the appointment's contact
        on_file = {k: first["customer"][k] for k in ("id", "first_name", "last_name", "phone", "email")}
        read = ok(call(admin, one(second["id"])))["appointment"]
        (listed,) = [a for a in listing(call, admin)["appointments"] if a["id"] == second["id"]]
        for shown in (second, read, listed):
            assert shown["customer"] == on_file and on_file["first_name"] != "Sam"
            assert (shown["contact"]["first_name"], shown["contact"]["phone"]) == ("Sam", "+15125550188")
    else:
        # Then the caller is a new customer at the same location
        assert second["customer"]["id"] != first["customer"]["id"] and len(customers) == 2
        assert second["takeover"] is None and record.get("staff_notes") is None


def test_a_phone_booking_into_a_full_slot_is_409(
    seeded: Stack, admin: ModuleType, call: Any, catalog: Catalog
) -> None:
    for _ in range(2):
        seed_appointment(catalog, local(day_ahead(), 10))
    assert refused(call(admin, manual())) == (409, "slot_unavailable")


def test_a_phone_booking_keeps_the_channel_the_customer_gave_on_their_profile(
    seeded: Stack, admin: ModuleType, call: Any
) -> None:
    # Given a customer on file who prefers e-mail
    first = ok(call(admin, manual({"preferred_channel": "email"})))["appointment"]
    assert outbox(seeded, "+15125550123") == []
    # When they call again and ask staff for texts
    second = ok(
        call(admin, manual({"start": local(day_ahead(), 11).isoformat(), "preferred_channel": "sms"}))
    )
    # Then this booking's e-confirmation is a text and the profile (and its lookup items) say sms
    assert second["appointment"]["customer"]["id"] == first["customer"]["id"]
    (sms,) = outbox(seeded, "+15125550123")
    assert sms["channel"]["S"] == "sms"
    items = table_items(seeded)
    profile = next(
        i
        for i in items
        if i["PK"]["S"] == keys.customer_pk(first["customer"]["id"]) and i["SK"]["S"] == "PROFILE"
    )
    assert json.loads(profile["body"]["S"])["preferred_channel"] == "sms"
    lookups = [i for i in items if i["entity"]["S"] == "CustomerLookup"]
    assert lookups and {json.loads(i["summary"]["S"])["preferred_channel"] for i in lookups} == {"sms"}
