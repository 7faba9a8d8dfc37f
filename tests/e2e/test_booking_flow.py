"""Issue 3's whole flow over HTTP on the local stack, as a customer and a service advisor would:
availability -> book -> both e-mails -> the staff link -> confirm -> the customer's e-mail; and a
reschedule from the same link. The customers book as tests/e2e/booking.py does (from an address of
their own, verifying their e-mail with a one-time code where the shop asks)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from tests.e2e.booking import authorization, is_code, messages_to, post_booking

pytestmark = pytest.mark.e2e
SHOP = "Bookbay Demo Auto"


def mails_to(http: httpx.Client, email: str) -> list[dict[str, Any]]:
    """The messages to ``email`` about the appointment (not a one-time code), oldest first."""
    return [m for m in messages_to(http, email) if not is_code(m)]


def link(html_or_text: str, prefix: str) -> str:
    found = re.search(rf"https?://[^\s\"'<>]+{re.escape(prefix)}[A-Za-z0-9_\-]+", html_or_text)
    assert found, f"no {prefix} link in the message"
    return found.group(0)


def test_request_confirm_and_reschedule(http: httpx.Client) -> None:
    query = {
        "location_id": "austin-downtown",
        "service_id": "brake-inspection",
        "appointment_type": "in_store",
        "days": "14",
    }
    slots = http.get("/v1/availability", params=query).json()["slots"]
    assert len(slots) > 20
    first, later = slots[10], slots[-1]
    email = f"pat.{uuid.uuid4().hex[:8]}@example.com"
    body = {
        "location_id": "austin-downtown",
        "service_id": "brake-inspection",
        "appointment_type": "in_store",
        "start": first["start"],
        "source": "web",
        "notes": "Squeaks when braking",
        "customer": {"first_name": "Pat", "last_name": "Flow", "phone": "+1 512 555 0177", "email": email},
        "vehicle": {"year": 2019, "make": "Honda", "model": "Civic"},
    }
    booked = post_booking(http, body)
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["appointment"]
    assert (appointment["status"], appointment["start"]) == ("requested", first["start"])
    assert "/c/" in booked.json()["manage_url"]

    # The customer's "request received" e-mail (after the code, if one was asked for) and the
    # store's notification.
    (received,) = mails_to(http, email)
    for detail in (SHOP, "Austin Downtown", "Brake inspection", "2019 Honda Civic"):
        assert detail in received["text"]
    store = [m for m in messages_to(http, "austin@demo-auto.example.com") if "Pat Flow" in m["text"]]
    assert len(store) == 1
    staff_url = link(store[0]["html"], "/s/")

    # The advisor opens the link (GET changes nothing), then confirms.
    page = httpx.get(staff_url, timeout=30)
    assert page.status_code == 200 and "Pat Flow" in page.text and "Confirm" in page.text
    assert len(mails_to(http, email)) == 1
    confirmed = httpx.post(f"{staff_url}/confirm", data={"action": "confirm"}, timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    customer_mail = mails_to(http, email)
    assert len(customer_mail) == 2 and "confirmed" in customer_mail[1]["subject"].lower()

    # The advisor reschedules to a later slot from the same link.
    moved = httpx.post(f"{staff_url}/reschedule", data={"start": later["start"]}, timeout=30)
    assert moved.status_code == 200, moved.text
    customer_mail = mails_to(http, email)
    assert len(customer_mail) == 3
    new_slots = http.get("/v1/availability", params=query).json()["slots"]
    remaining = {s["start"]: s["remaining"] for s in new_slots}
    assert remaining.get(first["start"]) == first["remaining"]  # the old slot is free again
    assert remaining.get(later["start"], 0) == later["remaining"] - 1


def test_a_booking_while_ses_fails_answers_201_and_its_mail_arrives_once_ses_recovers(
    local_stack: Any, http: httpx.Client
) -> None:
    ses = boto3.client(
        "ses",
        endpoint_url=local_stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    sender = "bookings@demo.bookbay.local"
    query = {
        "location_id": "phoenix-camelback",
        "service_id": "oil-change",
        "appointment_type": "in_store",
        "days": "7",
    }
    start = http.get("/v1/availability", params=query).json()["slots"][3]["start"]
    email = f"ses.{uuid.uuid4().hex[:8]}@example.com"
    body = {
        **{k: v for k, v in query.items() if k != "days"},
        "start": start,
        "source": "google",
        "customer": {"first_name": "Sam", "last_name": "Outage", "phone": "+1 602 555 0188", "email": email},
        "vehicle": {"year": 2021, "make": "Ford", "model": "F-150"},
    }
    verified = authorization(http, body["customer"])  # the code's e-mail, while SES still works
    ses.delete_identity(Identity=sender)
    try:
        booked = post_booking(http, body, headers=verified)
        assert booked.status_code == 201, booked.text  # a failing SES never fails the booking
        assert mails_to(http, email) == []
    finally:
        ses.verify_email_identity(EmailAddress=sender)
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    fired = http.post("/_local/scheduler/run", json={"until": until}).json()["fired"]
    assert {f["target_function"] for f in fired} == {"OutboxSenderFunction"}
    assert len(mails_to(http, email)) == 1
    assert http.post("/_local/scheduler/run", json={"until": until}).json()["fired"] == []
    assert len(mails_to(http, email)) == 1  # nothing is sent twice
