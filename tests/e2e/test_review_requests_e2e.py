"""Review requests over HTTP on the local stack: the owner turns review requests on (PATCH
/v1/admin/settings), staff book an appointment, confirm, check it in and complete it through the admin
API; time passes with ``POST /_local/scheduler/run {until}``: step 1's e-mail arrives (in
/_local/messages) with the review site and a /r/ link; the customer opens the page and presses
"Stop these e-mails"; when later steps come due nothing more is sent. The staff queue lists the
request as opted out, and its routes answer 401 without a token. With review requests turned off,
a completed appointment gets no e-mail and no place in the queue."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.booking import (
    book_last_free_slot,
    closed,
    first_day,
    messages_to,
    phone_on_no_customer,
    run_scheduler,
)

pytestmark = pytest.mark.e2e
REVIEW_URL = "https://reviews.example.com/e2e-review-requests"
REVIEW_AREA_CODES = ("726", "945", "346", "682")  # numbers no other e2e test uses


def review_mails(http: httpx.Client, email: str) -> list[dict[str, Any]]:
    return [m for m in messages_to(http, email) if REVIEW_URL in m["text"]]


def fired_for(fired: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    return [f for f in fired if f["name"].startswith(f"review-{request_id}-")]


def act(http: httpx.Client, staff: dict[str, str], appointment_id: str, action: str) -> httpx.Response:
    return http.post(f"/v1/admin/appointments/{appointment_id}/{action}", headers=staff)


# ------------------------------------------------------------------------------ the tests
def test_the_review_routes_need_a_staff_token(http: httpx.Client) -> None:
    for method, path in (
        ("GET", "/v1/admin/review-requests"),
        ("POST", f"/v1/admin/review-requests/{uuid.uuid4().hex[:24]}/stop"),
    ):
        response = http.request(method, path)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


def test_an_unknown_review_link_is_a_404_page(http: httpx.Client) -> None:
    response = http.get(f"/r/{'A' * 32}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "This link is not valid" in response.text


def test_completed_appointment_gets_the_review_emails_until_the_customer_stops_them(
    http: httpx.Client, staff: dict[str, str], owner: dict[str, str]
) -> None:
    # The owner turns review requests on (their link leads outside the shop: an owner-only setting)
    settings = {"enabled": True, "review_url": REVIEW_URL, "steps_days": [1, 4, 10]}
    response = http.patch(
        "/v1/admin/settings", json={"changes": {"review_requests": settings}}, headers=owner
    )
    assert response.status_code == 200, response.text
    # A customer books
    email = f"review-{uuid.uuid4().hex[:10]}@example.com"
    # (a phone on no customer: one who opted out on an earlier run is never asked again)
    phone = phone_on_no_customer(http, staff, REVIEW_AREA_CODES)
    customer = {"first_name": "Rae", "last_name": "Viewer", "phone": phone, "email": email}
    vehicle = {"year": 2021, "make": "Mazda", "model": "CX-5"}
    today = datetime.now(UTC).date()
    day = first_day(today + timedelta(days=1), lambda d: not closed(d))  # the store is open
    appointment = book_last_free_slot(http, day, customer, vehicle)["appointment"]
    # Staff confirm, check in and complete it in the admin
    for action in ("confirm", "check-in", "complete"):
        response = act(http, staff, appointment["id"], action)
        assert response.status_code == 200, (action, response.text)
    completed_at = datetime.now(UTC)
    # Nothing yet; the day after, at the shop's reminder time, step 1 fires and its e-mail arrives
    assert review_mails(http, email) == []
    (step_1,) = fired_for(run_scheduler(http, completed_at + timedelta(days=2)), appointment["id"])
    assert step_1["name"] == f"review-{appointment['id']}-1"
    assert step_1["target_function"] == "ReviewRequestsFunction" and step_1["result"] == {"outcome": "sent"}
    (mail,) = review_mails(http, email)
    assert REVIEW_URL in mail["text"] and REVIEW_URL in mail["html"] and "Hello Rae" in mail["text"]
    found = re.search(r"(http://\S+/r/[A-Za-z0-9_-]{16,})", mail["text"])
    assert found is not None, mail["text"]
    link = found.group(1)
    # The customer opens the page (it changes nothing) ...
    page = http.get(link)
    assert page.status_code == 200, page.text
    assert page.headers["referrer-policy"] == "no-referrer" and "<script" not in page.text
    assert "I left a review" in page.text and "Stop these e-mails" in page.text and REVIEW_URL in page.text
    # ... and asks to stop
    stopped = http.post(f"{link}/stop", data={"action": "stop"})
    assert stopped.status_code == 200, stopped.text
    assert "You will not get review e-mails" in stopped.text
    # Later steps come due: nothing fires for this sequence, nothing more arrives
    for days in (5, 11, 30):
        fired = fired_for(run_scheduler(http, completed_at + timedelta(days=days)), appointment["id"])
        assert all(f.get("result") != {"outcome": "sent"} for f in fired), fired
    assert len(review_mails(http, email)) == 1
    # The staff queue shows it as opted out
    listed = http.get(
        "/v1/admin/review-requests", params={"status": "opted_out", "limit": 100}, headers=staff
    )
    assert listed.status_code == 200, listed.text
    (request,) = [r for r in listed.json()["review_requests"] if r["id"] == appointment["id"]]
    assert (request["status"], request["steps_sent"], request["ended_by"]) == ("opted_out", 1, "customer")


def test_with_review_requests_off_a_completed_appointment_gets_no_review_email(
    http: httpx.Client, staff: dict[str, str], owner: dict[str, str]
) -> None:
    current = http.get("/v1/admin/settings", headers=staff)
    assert current.status_code == 200, current.text
    before = current.json()["settings"]["review_requests"]
    off = {"enabled": False, "review_url": REVIEW_URL, "steps_days": [1, 4, 10]}
    response = http.patch("/v1/admin/settings", json={"changes": {"review_requests": off}}, headers=owner)
    assert response.status_code == 200, response.text
    try:
        email = f"no-review-{uuid.uuid4().hex[:10]}@example.com"
        phone = phone_on_no_customer(http, staff, REVIEW_AREA_CODES)
        customer = {"first_name": "Noor", "last_name": "Quiet", "phone": phone, "email": email}
        vehicle = {"year": 2018, "make": "Kia", "model": "Soul"}
        day = first_day(datetime.now(UTC).date() + timedelta(days=1), lambda d: not closed(d))
        appointment = book_last_free_slot(http, day, customer, vehicle)["appointment"]
        for action in ("confirm", "check-in", "complete"):
            response = act(http, staff, appointment["id"], action)
            assert response.status_code == 200, (action, response.text)
        completed_at = datetime.now(UTC)
        # Every step's time passes: nothing was scheduled, nothing arrives, the queue does not hold it
        assert fired_for(run_scheduler(http, completed_at + timedelta(days=30)), appointment["id"]) == []
        assert review_mails(http, email) == []
        listed = http.get("/v1/admin/review-requests", params={"limit": 100}, headers=staff)
        assert listed.status_code == 200, listed.text
        assert appointment["id"] not in [r["id"] for r in listed.json()["review_requests"]]
    finally:
        restored = http.patch(
            "/v1/admin/settings", json={"changes": {"review_requests": before}}, headers=owner
        )
        assert restored.status_code == 200, restored.text
