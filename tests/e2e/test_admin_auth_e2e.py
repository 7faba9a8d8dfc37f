"""Every staff route the template declares (`/v1/admin/...`, read from template.yaml, not listed by
hand) answers 401 JSON without a sign-in token and 403 with a token outside the staff group, over
HTTP on the local stack, and declares the Cognito authorizer for API Gateway; and 401 for a token
the authorizer lets through that is not the staff app client's ID token (an access token, another
app client's, another pool's)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from bookbay_local.template import load_template

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def admin_routes() -> list[tuple[str, str, str]]:
    """(function, method, path) of every Api event under /v1/admin in template.yaml."""
    template = load_template(ROOT / "template.yaml")
    routes = []
    for name in template.resources_of_type("AWS::Serverless::Function"):
        for event in (template.properties(name).get("Events") or {}).values():
            props = event.get("Properties") or {}
            if event.get("Type") == "Api" and str(props.get("Path", "")).startswith("/v1/admin"):
                routes.append((name, str(props["Method"]).upper(), str(props["Path"])))
    return routes


ROUTES = admin_routes()


def concrete(path: str) -> str:
    """The path with each {parameter} filled with a plausible value."""
    return re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", path)


# SPEC's staff API table, route by route (path parameter names are the template's).
SPEC_ROUTES = {
    ("GET", "/v1/admin/appointments"),
    ("POST", "/v1/admin/appointments"),
    ("GET", "/v1/admin/appointments/{appointment_id}"),
    ("PATCH", "/v1/admin/appointments/{appointment_id}"),
    ("POST", "/v1/admin/appointments/{appointment_id}/{action}"),
    ("GET", "/v1/admin/customers"),
    ("GET", "/v1/admin/customers/{customer_id}"),
    ("PATCH", "/v1/admin/customers/{customer_id}"),
    ("POST", "/v1/admin/customers/{customer_id}/source-links"),
    ("GET", "/v1/admin/flags"),
    ("POST", "/v1/admin/flags"),
    ("GET", "/v1/admin/flags/{flag_id}"),
    ("DELETE", "/v1/admin/flags/{flag_id}"),
    ("DELETE", "/v1/admin/flags/{flag_id}/fields/{field}"),
    ("GET", "/v1/admin/review-requests"),
    ("POST", "/v1/admin/review-requests/{request_id}/stop"),
    ("GET", "/v1/admin/proposed-changes"),
    ("POST", "/v1/admin/proposed-changes/{change_id}/{decision}"),
    ("GET", "/v1/admin/settings"),
    ("PATCH", "/v1/admin/settings"),
    ("POST", "/v1/admin/blocks"),
    ("DELETE", "/v1/admin/blocks/{block_id}"),
}


def test_the_template_declares_every_staff_route_of_spec() -> None:
    declared = {(method, path) for _, method, path in ROUTES}
    assert SPEC_ROUTES - declared == set()


@pytest.mark.parametrize(("function", "method", "path"), ROUTES, ids=[f"{m} {p}" for _, m, p in ROUTES])
def test_every_admin_route_needs_a_staff_sign_in(
    http: httpx.Client, function: str, method: str, path: str
) -> None:
    template = load_template(ROOT / "template.yaml")
    events = template.properties(function)["Events"].values()
    (event,) = [
        e
        for e in events
        if e["Properties"].get("Path") == path and e["Properties"]["Method"].upper() == method
    ]
    assert event["Properties"].get("Auth") == {"Authorizer": "StaffCognito"}

    body: dict[str, Any] | None = {} if method in ("POST", "PATCH") else None
    anonymous = http.request(method, concrete(path), json=body)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["error"]["code"] in ("unauthorized", "Unauthorized")

    token = http.post("/_local/token", json={"sub": "e2e-outsider", "groups": ["customers"]}).json()["token"]
    outsider = http.request(method, concrete(path), json=body, headers={"Authorization": f"Bearer {token}"})
    assert outsider.status_code == 403, outsider.text
    assert outsider.json()["error"]["code"] == "forbidden"


# Tokens that API Gateway's Cognito authorizer passes on (signed by the pool, unexpired) but that
# are not the staff app client's ID token (/_local/token's overrides replay them locally).
FORGED_TOKENS = {
    "access token": {"token_use": "access"},
    "another app client's ID token": {"aud": "1h2j3k4l5m6n7o8p9q0r1s2t3u"},
    "another pool's ID token": {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AttackerP"},
}


def test_staff_tokens_of_another_kind_client_or_pool_are_refused_on_every_staff_route(
    http: httpx.Client,
) -> None:
    staff = {"sub": "e2e-forger", "email": "forger@example.com", "groups": ["staff"]}
    signed_in = http.post("/_local/token", json=staff).json()["token"]
    answer = http.get("/v1/admin/settings", headers={"Authorization": f"Bearer {signed_in}"})
    assert answer.status_code == 200, answer.text
    for forgery, overrides in FORGED_TOKENS.items():
        issued = http.post("/_local/token", json={**staff, **overrides})
        assert issued.status_code == 200, issued.text
        headers = {"Authorization": f"Bearer {issued.json()['token']}"}
        for _, method, path in ROUTES:
            body: dict[str, Any] | None = {} if method in ("POST", "PATCH") else None
            refused = http.request(method, concrete(path), json=body, headers=headers)
            assert refused.status_code == 401, f"{forgery}: {method} {path} {refused.text}"
            assert refused.json() == {
                "error": {"code": "unauthorized", "message": "A valid staff sign-in token is required."}
            }, f"{forgery}: {method} {path}"
