"""Bad input over HTTP, against the local stack: always a 4xx with the JSON error body, never a 5xx,
and nothing changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import with_value

pytestmark = pytest.mark.e2e


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/nothing-here", 404, "not_found"),
        ("GET", "/", 404, "not_found"),
        ("DELETE", "/v1/shop", 404, "not_found"),
        ("POST", "/v1/locations", 404, "not_found"),
        ("PUT", "/v1/admin/settings", 404, "not_found"),
        ("GET", "/v1/shop%00", 404, "not_found"),
        ("GET", "/v1/locations/%2E%2E", 422, "validation_error"),
        ("GET", "/v1/locations/a%2Fb", 422, "validation_error"),
        ("GET", "/v1/locations/%E2%9C%93", 422, "validation_error"),
        ("GET", "/v1/locations/%FF", 422, None),
        ("GET", "/v1/locations/nowhere", 404, "location_not_found"),
        ("GET", "/v1/locations?near=%FF", 422, "validation_error"),
        ("GET", "/v1/locations?near=" + "9" * 5000, 422, "validation_error"),
        ("GET", "/v1/locations?near=00000", 422, "unknown_zip"),
    ],
)
def test_bad_routes_paths_and_queries(
    http: httpx.Client, method: str, path: str, status: int, code: str | None
) -> None:
    assert_error(http.request(method, path), status, code)


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b'{"changes": {', "application/json", 400, "malformed_json"),
        (b'{"changes": {"booking_mode": "instant"}}', "text/plain", 415, "unsupported_media_type"),
        (b"changes=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"changes": {"booking_mode": "instant"}}', "", 415, "unsupported_media_type"),
        (b'{"changes": "\xff\xfe"}', "application/json", 400, None),
        (b"\xef\xbb\xbf\xff", "application/json", 400, None),
        (b'{"changes": {"booking_mode": 7}}', "application/json", 422, "validation_error"),
        (b"[]", "application/json", 422, "validation_error"),
        (b"null", "application/json", 422, "validation_error"),
    ],
)
def test_bad_bodies_change_nothing(
    http: httpx.Client,
    staff: dict[str, str],
    content: bytes,
    content_type: str,
    status: int,
    code: str | None,
) -> None:
    before = http.get("/v1/admin/settings", headers=staff).json()
    headers = {**staff, "Content-Type": content_type} if content_type else dict(staff)
    assert_error(http.patch("/v1/admin/settings", content=content, headers=headers), status, code)
    assert http.get("/v1/admin/settings", headers=staff).json() == before


def test_admin_routes_need_a_valid_token(http: httpx.Client) -> None:
    assert_error(http.get("/v1/admin/settings"), 401, "unauthorized")
    assert_error(
        http.get("/v1/admin/settings", headers={"Authorization": "Bearer not-a-jwt"}), 401, "unauthorized"
    )
    customer = http.post("/_local/token", json={"sub": "c1", "email": "c@example.com", "groups": []}).json()[
        "token"
    ]
    assert_error(
        http.get("/v1/admin/settings", headers={"Authorization": f"Bearer {customer}"}), 403, "forbidden"
    )


def test_the_demo_shop_answers(http: httpx.Client) -> None:
    response = http.get("/v1/shop")
    assert response.status_code == 200
    body = response.json()
    assert body["shop"]["name"] == "Bookbay Demo Auto"
    assert len(body["locations"]) == 2 and len(body["services"]) == 3


# ------------------------------------------------------------------------------ text that is not text
NOT_TEXT = {"NUL": "\x00", "ESC": "\x1b", "RLO": "\u202e", "ZWSP": "\u200b"}
CUSTOMER = {"first_name": "Dana", "last_name": "Rivera", "phone": "+15125550123", "email": "d@example.com"}
BOOKING: dict[str, Any] = {
    "location_id": "austin-downtown",
    "service_id": "oil-change",
    "appointment_type": "in_store",
    "start": "2031-01-07T10:00:00-06:00",
    "customer": CUSTOMER,
    "vehicle": {"year": 2019, "make": "Honda", "model": "Civic"},
    "address": {"line1": "1100 S Lamar Blvd", "city": "Austin", "state": "TX", "zip": "78704"},
    "notes": "Check the tires",
    "source": "web",
}


@pytest.mark.parametrize("char", list(NOT_TEXT.values()), ids=list(NOT_TEXT))
def test_a_booking_with_a_character_that_is_not_text_is_422_naming_the_field(
    http: httpx.Client, char: str
) -> None:
    """Issue 14, item 6: refused before anything is looked up or written (the body is checked
    before the verification, so no code is needed to see it)."""
    for field in ("customer.first_name", "vehicle.model", "address.line1", "notes"):
        key = {"Idempotency-Key": f"text-{uuid.uuid4()}"}
        response = http.post("/v1/appointments", json=with_value(BOOKING, field, f"Ab{char}c"), headers=key)
        assert_error(response, 422, "validation_error")
        (detail,) = [d for d in response.json()["error"]["details"] if d["field"] == f"body.{field}"]
        assert f"U+{ord(char):04X}" in detail["message"]


def test_a_flag_reason_that_is_not_text_is_422_and_changes_nothing(
    http: httpx.Client, staff: dict[str, str]
) -> None:
    before = http.get("/v1/admin/flags", headers=staff).json()
    body = {"name": "Dana Rivera", "reason": "Rude\u202e to staff"}
    response = http.post("/v1/admin/flags", json=body, headers=staff)
    assert_error(response, 422, "validation_error")
    assert [d["field"] for d in response.json()["error"]["details"]] == ["body.reason"]
    assert http.get("/v1/admin/flags", headers=staff).json() == before


def test_a_link_token_never_reaches_the_stack_log(http: httpx.Client, stack_log: Callable[[], str]) -> None:
    """Issue 14, item 7: the access log names the route template, not the path as sent."""
    token = f"tok{uuid.uuid4().hex}"
    assert http.get(f"/c/{token}").status_code == 404
    log = stack_log()
    assert "[gateway] GET /c/{token} -> 404" in log
    assert token not in log
