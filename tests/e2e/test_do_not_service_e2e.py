"""Do Not Service over HTTP on the local stack (issue 14, item 10), with ``require_verification``
off for the test (put back after it): someone books with a Do Not Service customer's phone and no
code and gets the 201 ``requested`` an unknown phone gets (the same keys), while staff see the
request marked ``do_not_service`` (the admin read and the store's e-mail); the customer, verified
by a code to their e-mail, gets the 403 ``booking_not_available``. Each person books from a
loopback address of their own (tests/e2e/booking.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.booking import (
    SERVICE,
    messages_to,
    phone_on_no_customer,
    post_booking,
    verification_token,
)

pytestmark = pytest.mark.e2e

AUSTIN = ZoneInfo("America/Chicago")
STORE = "austin@demo-auto.example.com"
AREA_CODES = ("325", "361")  # no other e2e test's
VEHICLE = {"year": 2017, "make": "Mazda", "model": "3"}


@pytest.fixture
def unverified_bookings(http: httpx.Client) -> Iterator[None]:
    """The shop takes bookings without a code for the test (an owner's setting), as it was after."""
    token = http.post(
        "/_local/token",
        json={"sub": "e2e-owner-do-not-service", "email": "owner@example.com", "groups": ["staff", "owner"]},
    )
    assert token.status_code == 200, token.text
    owner = {"Authorization": f"Bearer {token.json()['token']}"}
    before = http.get("/v1/admin/settings", headers=owner)
    assert before.status_code == 200, before.text
    original = before.json()["settings"]["require_verification"]
    changed = http.patch(
        "/v1/admin/settings", json={"changes": {"require_verification": False}}, headers=owner
    )
    assert changed.status_code == 200, changed.text
    yield
    restored = http.patch(
        "/v1/admin/settings", json={"changes": {"require_verification": original}}, headers=owner
    )
    assert restored.status_code == 200, restored.text


def free_starts(http: httpx.Client) -> list[str]:
    """Free in-store oil-change starts 3 to 5 weeks ahead."""
    first = datetime.now(AUSTIN).date() + timedelta(days=21)
    query: dict[str, str | int] = {**SERVICE, "from": first.isoformat(), "days": 14}
    response = http.get("/v1/availability", params=query)
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"] if slot["remaining"] >= 2]


def booking(start: str, customer: dict[str, str]) -> dict[str, Any]:
    return {**SERVICE, "start": start, "customer": customer, "vehicle": VEHICLE, "source": "web"}


def person(first: str, last: str, phone: str) -> dict[str, str]:
    email = f"{first}.{last}.{uuid.uuid4().hex[:6]}@example.com".lower()
    return {"first_name": first, "last_name": last, "phone": phone, "email": email}


def keys_of(value: Any) -> Any:
    return {k: keys_of(v) for k, v in value.items()} if isinstance(value, dict) else None


def test_an_unverified_booking_with_a_do_not_service_phone_is_a_request_like_anyones(
    http: httpx.Client, staff: dict[str, str], unverified_bookings: None
) -> None:
    taken: set[str] = set()
    dana = person("Dana", "Marsh", phone_on_no_customer(http, staff, AREA_CODES, taken))
    first, second, third = free_starts(http)[:3]
    # Given Dana on file (her first booking), marked Do Not Service by staff
    booked = post_booking(http, booking(first, dana))
    assert booked.status_code == 201, booked.text
    read = http.get(f"/v1/admin/appointments/{booked.json()['appointment']['id']}", headers=staff)
    customer_id = read.json()["appointment"]["customer_id"]
    marked = http.patch(f"/v1/admin/customers/{customer_id}", json={"do_not_service": True}, headers=staff)
    assert marked.status_code == 200, marked.text

    # When a stranger books with her phone (their own name and e-mail), no code
    stranger = person("Riley", "Stone", dana["phone"])
    probe = post_booking(http, booking(second, stranger))
    # and someone with a phone on no customer books too
    nobody = person("Pat", "Lowe", phone_on_no_customer(http, staff, AREA_CODES, taken))
    unknown = post_booking(http, booking(second, nobody))

    # Then both are the same 201: status requested, the same keys
    assert (probe.status_code, unknown.status_code) == (201, 201), (probe.text, unknown.text)
    answer = probe.json()
    assert answer["appointment"]["status"] == unknown.json()["appointment"]["status"] == "requested"
    assert keys_of(answer) == keys_of(unknown.json()) and "do_not_service" not in probe.text
    # and staff see it on Dana's record, marked, not confirmed
    request_id = answer["appointment"]["id"]
    staff_read = http.get(f"/v1/admin/appointments/{request_id}", headers=staff)
    assert staff_read.status_code == 200, staff_read.text
    shown = staff_read.json()
    assert shown["appointment"]["customer_id"] == customer_id
    assert (shown["appointment"]["status"], shown["appointment"]["do_not_service"]) == ("requested", True)
    assert shown["warnings"] == ["do_not_service"]
    subjects = [m["subject"] for m in messages_to(http, STORE) if "Riley Stone" in (m["subject"] or "")]
    assert len(subjects) == 1 and subjects[0].startswith("Appointment request (Do Not Service): ")
    (to_stranger,) = messages_to(http, stranger["email"])
    assert to_stranger["subject"].startswith("We received your appointment request")

    # Dana herself, verified by a code to her e-mail, is told: the 403 with the store's phone
    token = verification_token(http, dana)
    refused = post_booking(http, booking(third, dana), headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "booking_not_available"
    assert refused.json()["error"]["phone"] == "+15125550100"
