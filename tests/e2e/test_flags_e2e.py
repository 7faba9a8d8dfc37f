"""Seed 004's flagged customers over HTTP on the local stack: staff flag a customer with a token
from POST /_local/token, then (1) the same person books with a new e-mail and the same phone and
matches on the phone, (2) new people at the flagged address book at home and match on the address
alone, (3) after staff un-flag the phone, the phone alone matches nothing. Each booking is booked
(201) and its store e-mail in /_local/messages carries the "Flagged customer" line.

The stored appointment (its ``flag_matches``) is read with GET /v1/admin/appointments/{id}, and the
flagged filter of the staff list finds it. Each person books as tests/e2e/booking.py does (from an
address of their own, verifying the booking's e-mail with a one-time code where the shop asks)."""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.booking import post_booking

pytestmark = pytest.mark.e2e

AUSTIN = ZoneInfo("America/Chicago")
TABLE = "bookbay-local-BookbayTable"
STORE = "austin@demo-auto.example.com"
SERVICE = {"location_id": "austin-downtown", "service_id": "oil-change"}
REASON = "Threatened the technician (e2e)"


def phone() -> str:
    """A fresh phone number (other e2e tests use 512 and 737 numbers)."""
    return f"+1 210-555-01{random.randint(0, 99):02d}"


def book(http: httpx.Client, customer: dict[str, str], address: dict[str, str] | None = None) -> str:
    """Book a free slot 2-4 weeks ahead (in store, or at home at ``address``); the appointment id.
    Each booking here has an e-mail of its own: it finds the booking's store e-mail."""
    kind = {"appointment_type": "at_home"} if address else {"appointment_type": "in_store"}
    first_day = datetime.now(AUSTIN).date() + timedelta(days=14)
    query: dict[str, str | int] = {**SERVICE, **kind, "from": first_day.isoformat(), "days": 14}
    if address:
        query["zip"] = address["zip"]
    response = http.get("/v1/availability", params=query)
    assert response.status_code == 200, response.text
    starts = [slot["start"] for slot in response.json()["slots"] if slot["remaining"] >= 1]
    for start in random.sample(starts, min(5, len(starts))):
        body: dict[str, Any] = {
            **SERVICE,
            **kind,
            "start": start,
            "customer": customer,
            "source": "phone-e2e",
        }
        body["vehicle"] = {"year": 2018, "make": "Toyota", "model": "Camry"}
        if address:
            body["address"] = address
        booked = post_booking(http, body)
        if booked.status_code == 409:  # taken by another test meanwhile: another slot
            continue
        assert booked.status_code == 201, booked.text  # a flagged customer is still booked
        assert "flag" not in booked.text.lower()  # and not told
        appointment_id: str = booked.json()["appointment"]["id"]
        return appointment_id
    pytest.fail("no free slot to book")


def appointment(http: httpx.Client, staff: dict[str, str], appointment_id: str) -> dict[str, Any]:
    """The appointment as staff see it (GET /v1/admin/appointments/{id})."""
    response = http.get(f"/v1/admin/appointments/{appointment_id}", headers=staff)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["appointment"]
    return answer


def store_mail(http: httpx.Client, booker_email: str) -> str:
    """The text of the store's e-mail about the booking by ``booker_email``, once delivered."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in http.get("/_local/messages").json()["messages"]:
            if message["to"] == STORE and booker_email in (message["text"] or ""):
                text: str = message["text"]
                return text
        time.sleep(0.25)
    pytest.fail(f"the store's e-mail about {booker_email}'s booking did not reach /_local/messages")


def test_flagged_customers_over_http(http: httpx.Client, staff: dict[str, str]) -> None:
    routes = [("GET", "/v1/admin/flags"), ("POST", "/v1/admin/flags"), ("GET", "/v1/admin/flags/x")]
    for method, path in routes:  # staff only
        assert http.request(method, path, json={}).status_code == 401

    street = f"{random.randint(1000, 9999)} Elm Street"
    home = {"line1": street, "city": "Austin", "state": "TX", "zip": "78702"}
    flagged = {
        "first_name": "Jordan",
        "last_name": "Pike",
        "phone": phone(),
        "email": f"jp-{uuid.uuid4().hex[:8]}@example.com",
    }
    created = http.post(
        "/v1/admin/flags",
        headers=staff,
        json={
            "name": "Jordan Pike",
            "email": flagged["email"],
            "phone": flagged["phone"],
            "address": home,
            "reason": REASON,
        },
    )
    assert created.status_code == 201, created.text
    flag = created.json()["flag"]
    assert flag["active_fields"] == ["name", "email", "phone", "address"]
    try:
        assert http.get(f"/v1/admin/flags/{flag['id']}", headers=staff).json()["flag"] == flag

        # 1. The same person with a new e-mail (and a borrowed name) but the same phone
        casey = {**flagged, "first_name": "Casey", "email": f"new-{uuid.uuid4().hex[:8]}@example.com"}
        record = appointment(http, staff, book(http, casey))
        assert record["flag_matches"] == [{"flag_id": flag["id"], "fields": ["phone"], "reason": REASON}]
        assert f"Flagged customer: matched on phone - reason: {REASON}" in store_mail(http, casey["email"])

        # 2. New people at the flagged address, typed their own way
        newcomers = {
            "first_name": "Robin",
            "last_name": "Vance",
            "phone": phone(),
            "email": f"rv-{uuid.uuid4().hex[:8]}@example.com",
        }
        if newcomers["phone"] == flagged["phone"]:
            newcomers["phone"] = "+1 210-555-0200"
        typed = {**home, "line1": street.upper().replace("STREET", "ST."), "city": "AUSTIN"}
        record = appointment(http, staff, book(http, newcomers, typed))
        assert record["flag_matches"] == [{"flag_id": flag["id"], "fields": ["address"], "reason": REASON}]
        assert f"Flagged customer: matched on address - reason: {REASON}" in store_mail(
            http, newcomers["email"]
        )

        # The staff list's flagged filter finds it, with the fields that matched
        day = record["start"][:10]
        flagged_list = http.get(
            "/v1/admin/appointments",
            headers=staff,
            params={"from": day, "to": day, "flagged": "true", "location_id": record["location_id"]},
        )
        assert flagged_list.status_code == 200, flagged_list.text
        shown = {a["id"]: a["flag_matches"] for a in flagged_list.json()["appointments"]}
        assert shown[record["id"]] == record["flag_matches"]

        # 3. Staff un-flag the phone: the phone alone matches nothing now; the rest still does
        unflagged = http.delete(f"/v1/admin/flags/{flag['id']}/fields/phone", headers=staff)
        assert unflagged.status_code == 200, unflagged.text
        assert unflagged.json()["flag"]["active_fields"] == ["name", "email", "address"]
        assert http.delete(f"/v1/admin/flags/{flag['id']}/fields/phone", headers=staff).status_code == 409
        casey_again = {**casey, "email": f"new2-{uuid.uuid4().hex[:8]}@example.com"}
        record = appointment(http, staff, book(http, casey_again))
        assert record["flag_matches"] == [] and not record.get("flagged")
        assert "Flagged customer" not in store_mail(http, casey_again["email"])
        record = appointment(http, staff, book(http, flagged))
        assert record["flag_matches"] == [
            {"flag_id": flag["id"], "fields": ["name", "email"], "reason": REASON}
        ]

        listed = http.get("/v1/admin/flags", headers=staff, params={"limit": 100}).json()
        assert flag["id"] in [f["id"] for f in listed["flags"]]
    finally:
        # Other e2e tests share the stack: the flag goes
        assert http.delete(f"/v1/admin/flags/{flag['id']}", headers=staff).status_code == 204
    assert http.get(f"/v1/admin/flags/{flag['id']}", headers=staff).status_code == 404
