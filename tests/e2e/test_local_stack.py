"""The local stack as a person (or a test acting as one) sees it: over HTTP, from another process."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest

pytestmark = pytest.mark.e2e

NOT_FOUND = {
    "error": {"code": "not_found", "message": "No such route or method. The API is described at /swagger."}
}


def token(http: httpx.Client, groups: list[str]) -> dict[str, str]:
    answer = http.post(
        "/_local/token", json={"sub": "e2e-user", "email": "e2e@example.com", "groups": groups}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def assert_json_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def test_the_stack_serves_the_demo_shop(http: httpx.Client) -> None:
    response = http.get("/v1/shop")
    assert response.status_code == 200
    body = response.json()
    assert body["shop"]["id"] == "bookbay-demo-auto" and body["shop"]["name"] == "Bookbay Demo Auto"
    assert {loc["id"] for loc in body["locations"]} == {"austin-downtown", "phoenix-camelback"}
    assert {svc["id"] for svc in body["services"]} == {"oil-change", "brake-inspection", "repair-estimate"}


def test_its_moto_endpoint_is_reachable_with_boto3(local_stack: Any) -> None:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=local_stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert "bookbay-local-BookbayTable" in dynamodb.list_tables()["TableNames"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/no-such-thing"),
        ("DELETE", "/v1/shop"),
        ("POST", "/v1/locations"),
        ("GET", "/"),
        ("TRACE", "/v1/shop"),
    ],
)
def test_an_unknown_route_or_method_is_a_json_404(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert_json_error(response, 404, "not_found")
    assert response.json() == NOT_FOUND


def test_admin_settings_need_a_staff_token(http: httpx.Client) -> None:
    assert_json_error(http.get("/v1/admin/settings"), 401, "unauthorized")
    assert_json_error(
        http.get("/v1/admin/settings", headers={"Authorization": "Bearer x.y.z"}), 401, "unauthorized"
    )
    assert_json_error(http.get("/v1/admin/settings", headers=token(http, ["customers"])), 403, "forbidden")
    staff = http.get("/v1/admin/settings", headers=token(http, ["staff"]))
    assert staff.status_code == 200
    assert staff.json()["settings"]["booking_mode"] == "request"


def test_a_raw_token_without_bearer_is_accepted(http: httpx.Client) -> None:
    raw = token(http, ["staff"])["Authorization"].removeprefix("Bearer ")
    assert http.get("/v1/admin/settings", headers={"Authorization": raw}).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"email": "a@example.com", "groups": []}, 422),
        ({"sub": "", "groups": []}, 422),
        ({"sub": "u", "groups": "staff"}, 422),
        ({"sub": "u", "groups": [1]}, 422),
        ({"sub": "u", "email": "not-an-address"}, 422),
        ({"sub": "u", "role": "admin"}, 422),
        ([], 422),
        ("{", 400),
    ],
)
def test_token_requests_with_bad_input_are_refused(http: httpx.Client, body: Any, status: int) -> None:
    if isinstance(body, str):
        response = http.post("/_local/token", content=body, headers={"Content-Type": "application/json"})
    else:
        response = http.post("/_local/token", json=body)
    assert_json_error(response, status)


@pytest.mark.parametrize(
    "body",
    [{}, {"until": "2026-11-24T09:00:00"}, {"until": "next tuesday"}, {"until": 1795420000}, {"until": None}],
)
def test_scheduler_run_needs_an_until_with_offset(http: httpx.Client, body: dict[str, Any]) -> None:
    assert_json_error(http.post("/_local/scheduler/run", json=body), 422, "validation_error")


def test_scheduler_run_with_nothing_due_fires_nothing(http: httpx.Client) -> None:
    response = http.post("/_local/scheduler/run", json={"until": "2000-01-01T00:00:00+00:00"})
    assert response.status_code == 200
    assert response.json() == {"fired": [], "rules_fired": []}  # a time passed: no sweep either


@pytest.mark.parametrize(
    ("content", "status"),
    [(b'{"changes": {"booking_mode": "\xff\xfe"}}', 400), (b"\xff\xfe\xfd", 400), (b'{"changes": {', 400)],
)
def test_bad_bodies_to_admin_settings_are_json_4xx(http: httpx.Client, content: bytes, status: int) -> None:
    staff = token(http, ["staff"])
    before = http.get("/v1/admin/settings", headers=staff).json()
    response = http.patch(
        "/v1/admin/settings", content=content, headers={**staff, "Content-Type": "application/json"}
    )
    assert_json_error(response, status)
    assert http.get("/v1/admin/settings", headers=staff).json() == before


def test_a_body_over_10_mb_is_refused_by_the_gateway(http: httpx.Client) -> None:
    response = http.patch(
        "/v1/admin/settings",
        content=b"x" * (10 * 1024 * 1024 + 1),
        headers={**token(http, ["staff"]), "Content-Type": "application/json"},
    )
    assert_json_error(response, 413, "request_too_large")


def test_the_control_surface(http: httpx.Client) -> None:
    assert_json_error(http.get("/_local/nothing"), 404, "not_found")
    assert_json_error(http.post("/_local/messages"), 405, "method_not_allowed")
    messages = http.get("/_local/messages")
    assert messages.status_code == 200 and isinstance(messages.json()["messages"], list)
    page = http.get("/_local/outbox")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Bookbay local outbox" in page.text
    assert http.post("/_local/streams/drain", json={"timeout_seconds": 10}).json() == {"drained": True}
