"""Staff customers and blocked time over HTTP on the local stack, with a staff token from
POST /_local/token:

1. A customer books online; staff find them by phone, e-mail and name; set their preferred channel
   to SMS (the lookup the booking reads follows: a phone booking staff enter for that phone is
   recognized as them and its e-confirmation goes out by SMS); change their phone (the old number
   finds nobody, the new one finds them); make a known-source link and use it with the new phone.
2. The same customer books again under another name: the proposed changes are in the queue;
   staff accept one (the record changes) and reject the other (it does not).
3. Staff block a free time: it vanishes from GET /v1/availability and a booking into it is a
   409; deleted, the time is offered and bookable again.

The customer books online as tests/e2e/booking.py does: from an address of their own, verifying
their e-mail with a one-time code where the shop asks (so each booking is on the e-mail's owner).
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import phonenumbers
import pytest

from tests.e2e.booking import SERVICE, book_last_free_slot, closed, first_day, messages_to, post_booking

pytestmark = pytest.mark.e2e
AUSTIN = ZoneInfo("America/Chicago")
VEHICLE = {"year": 2021, "make": "Subaru", "model": "Outback"}
USED: list[str] = []  # phone numbers the customer had before


@pytest.fixture(scope="module")
def http(local_stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_stack.base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def staff(http: httpx.Client) -> dict[str, str]:
    token = http.post(
        "/_local/token", json={"sub": "e2e-customers", "email": "desk@example.com", "groups": ["staff"]}
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def letters(n: int = 6) -> str:
    return "".join(random.choices(string.ascii_lowercase, k=n))


def free_phone(http: httpx.Client, staff: dict[str, str]) -> str:
    """A valid US number nobody on the stack has (806 numbers: other e2e tests use other areas)."""
    while True:
        candidate = f"+1806{random.randint(200, 989)}{random.randint(1000, 9999)}"
        if not phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            continue
        found = http.get("/v1/admin/customers", params={"q": candidate}, headers=staff)
        assert found.status_code == 200, found.text
        if not found.json()["customers"]:
            return candidate


def a_day(offset: int) -> date:
    """An open weekday ``offset``+ days ahead (other e2e tests book nearer days)."""
    return first_day(datetime.now(AUSTIN).date() + timedelta(days=offset), lambda d: not closed(d))


def search(http: httpx.Client, staff: dict[str, str], q: str) -> list[str]:
    response = http.get("/v1/admin/customers", params={"q": q}, headers=staff)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["customers"]]


def read(http: httpx.Client, staff: dict[str, str], customer_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/admin/customers/{customer_id}", headers=staff)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["customer"]
    return answer


def patch(http: httpx.Client, staff: dict[str, str], customer_id: str, **changes: Any) -> httpx.Response:
    return http.patch(f"/v1/admin/customers/{customer_id}", json=changes, headers=staff)


@pytest.fixture(scope="module")
def person(http: httpx.Client, staff: dict[str, str]) -> dict[str, str]:
    last = "Quill" + letters()
    return {
        "first_name": "Rowan",
        "last_name": last.capitalize(),
        "phone": free_phone(http, staff),
        "email": f"rowan.{uuid.uuid4().hex[:10]}@example.com",
    }


@pytest.fixture(scope="module")
def customer_id(http: httpx.Client, staff: dict[str, str], person: dict[str, str]) -> str:
    booked = book_last_free_slot(http, a_day(30), person, VEHICLE)
    found = search(http, staff, person["phone"])
    assert len(found) == 1
    record = read(http, staff, found[0])
    assert [a["id"] for a in record["recent_appointments"]] == [booked["appointment"]["id"]]
    return found[0]


# ------------------------------------------------------------------------------ 1
def test_find_edit_and_link_a_customer(
    http: httpx.Client, staff: dict[str, str], person: dict[str, str], customer_id: str
) -> None:
    # Found by phone in another format, by e-mail in capitals, by name either way round.
    national = phonenumbers.format_number(
        phonenumbers.parse(person["phone"]), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    assert search(http, staff, national) == [customer_id]
    assert search(http, staff, person["email"].upper()) == [customer_id]
    assert search(http, staff, person["last_name"][:7].lower()) == [customer_id]
    assert search(http, staff, f"rowan {person['last_name']}") == [customer_id]

    # Preferred channel: SMS, with the version read; a stale version is refused.
    version = read(http, staff, customer_id)["version"]
    changed = patch(http, staff, customer_id, preferred_channel="sms", version=version)
    assert changed.status_code == 200, changed.text
    assert changed.json()["customer"]["preferred_channel"] == "sms"
    assert changed.json()["customer"]["history"][-1]["changes"] == {
        "preferred_channel": {"before": "email", "after": "sms"}
    }
    stale = patch(http, staff, customer_id, do_not_service=True, version=version)
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "concurrent_update")

    # The booking reads the lookup item: a phone booking staff enter for this phone is this
    # customer's, and its e-confirmation goes by SMS, the channel just set.
    day = a_day(33)
    slots = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1}).json()[
        "slots"
    ]
    entered = http.post(
        "/v1/admin/appointments",
        json={**SERVICE, "start": slots[-1]["start"], "customer": person, "vehicle": VEHICLE},
        headers={**staff, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert entered.status_code == 201, entered.text
    assert entered.json()["appointment"]["customer"]["id"] == customer_id
    texts = messages_to(http, person["phone"])
    assert any(m["channel"] == "sms" and m["text"] for m in texts), texts

    # A new phone: the old number finds nobody, the new one finds them.
    new_phone = free_phone(http, staff)
    moved = patch(http, staff, customer_id, phone=new_phone)
    assert moved.status_code == 200, moved.text
    assert search(http, staff, person["phone"]) == []
    assert search(http, staff, new_phone) == [customer_id]

    # A known-source link, used with ONE identifying item: the new phone passes, the old does not.
    vehicle_id = read(http, staff, customer_id)["vehicles"][0]["id"]
    link = http.post(
        f"/v1/admin/customers/{customer_id}/source-links",
        json={"vehicle_id": vehicle_id, "campaign": "e2e-spring"},
        headers=staff,
    )
    assert link.status_code == 201, link.text
    token = link.json()["source_token"]
    assert link.json()["url"].endswith(f"/book?src={token}")
    wrong = http.post("/v1/identity/known-source", json={"source_token": token, "phone": person["phone"]})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "identity_mismatch")
    right = http.post("/v1/identity/known-source", json={"source_token": token, "phone": new_phone})
    assert right.status_code == 200, right.text
    assert right.json()["vehicle"]["id"] == vehicle_id and right.json()["verification_token"]
    USED.append(person["phone"])
    person["phone"] = new_phone  # (for the next tests)


# ------------------------------------------------------------------------------ 2
def test_proposed_changes_accepted_and_rejected(
    http: httpx.Client, staff: dict[str, str], person: dict[str, str], customer_id: str
) -> None:
    renamed = {**person, "first_name": "Ro", "last_name": "Quill-" + letters().capitalize()}
    book_last_free_slot(http, a_day(36), renamed, VEHICLE)
    mine = [
        p for p in read(http, staff, customer_id)["proposed_changes"] if p["proposed"] in renamed.values()
    ]
    assert sorted(p["field"] for p in mine) == ["first_name", "last_name"]
    # The queue has them too.
    queue: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = http.get(
            "/v1/admin/proposed-changes",
            params={"limit": 50, **({"cursor": cursor} if cursor else {})},
            headers=staff,
        ).json()
        queue += page["proposed_changes"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert {p["id"] for p in mine} <= {p["id"] for p in queue}

    first = next(p for p in mine if p["field"] == "first_name")
    last = next(p for p in mine if p["field"] == "last_name")
    accepted = http.post(f"/v1/admin/proposed-changes/{first['id']}/accept", headers=staff)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["customer"]["first_name"] == "Ro"
    rejected = http.post(f"/v1/admin/proposed-changes/{last['id']}/reject", headers=staff)
    assert rejected.status_code == 200 and rejected.json()["proposed_change"]["status"] == "rejected"
    again = http.post(f"/v1/admin/proposed-changes/{last['id']}/accept", headers=staff)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "invalid_transition")

    record = read(http, staff, customer_id)
    assert (record["first_name"], record["last_name"]) == ("Ro", person["last_name"])
    assert record["proposed_changes"] == []
    actions = [entry["action"] for entry in record["history"]]
    assert actions[-2:] == ["proposed_change.accept", "proposed_change.reject"]
    assert search(http, staff, f"{person['last_name']} ro") == [customer_id]


# ------------------------------------------------------------------------------ 3
def test_blocked_time_vanishes_and_refuses_bookings_until_unblocked(
    http: httpx.Client, staff: dict[str, str], person: dict[str, str]
) -> None:
    day = a_day(40)

    def offered() -> list[str]:
        response = http.get("/v1/availability", params={**SERVICE, "from": day.isoformat(), "days": 1})
        assert response.status_code == 200, response.text
        return [slot["start"] for slot in response.json()["slots"]]

    starts = offered()
    target = starts[len(starts) // 2]
    start = datetime.fromisoformat(target)
    made = http.post(
        "/v1/admin/blocks",
        json={
            "location_id": SERVICE["location_id"],
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
            "reason": "e2e: lift maintenance",
        },
        headers=staff,
    )
    assert made.status_code == 201, made.text
    block_id = made.json()["block"]["id"]
    assert target not in offered()

    refused = post_booking(
        http, {**SERVICE, "start": target, "customer": person, "vehicle": VEHICLE, "source": "web"}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "slot_unavailable")
    assert target not in [a["start"] for a in refused.json()["error"]["alternatives"]]

    listed = http.get("/v1/admin/blocks", params={"location_id": SERVICE["location_id"]}, headers=staff)
    assert block_id in [b["id"] for b in listed.json()["blocks"]]

    gone = http.delete(f"/v1/admin/blocks/{block_id}", headers=staff)
    assert gone.status_code == 200, gone.text
    assert target in offered()
    booked = post_booking(
        http, {**SERVICE, "start": target, "customer": person, "vehicle": VEHICLE, "source": "web"}
    )
    assert booked.status_code == 201, booked.text


def test_the_routes_need_a_staff_token(http: httpx.Client) -> None:
    for method, path in (
        ("GET", "/v1/admin/customers?q=smith"),
        ("GET", "/v1/admin/proposed-changes"),
        ("POST", "/v1/admin/blocks"),
        ("DELETE", "/v1/admin/blocks/x"),
    ):
        assert http.request(method, path).status_code == 401


def test_no_phone_email_or_name_of_the_customer_in_the_stack_log(
    stack_log: Callable[[], str], person: dict[str, str]
) -> None:
    log = stack_log().lower()
    assert "customer edited" in log  # the functions' lines are there
    for value in (*USED, person["phone"], person["phone"][2:], person["email"], person["last_name"]):
        assert value.lower() not in log, value
