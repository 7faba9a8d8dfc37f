"""Every staff function, loaded with the template's environment, takes only the stack's staff ID
token: an access token, another app client's ID token or another pool's token (all of which API
Gateway's Cognito authorizer can pass on) answer 401 before anything is read or changed. The ids in
the sample events are the ones the template resolves to locally, and the local gateway passes the
API stage's variables and checks a token's pool as API Gateway does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bookbay_local.auth import TokenIssuer
from bookbay_local.functions import FunctionRegistry
from bookbay_local.gateway import LocalGateway, read_api
from bookbay_local.web import HttpRequest
from tests.integration.conftest import Stack
from tests.support import load_event, response_json, with_body

pytestmark = pytest.mark.integration

UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "A valid staff sign-in token is required."}}

# (logical id, folder, a sample event of one of its reads)
STAFF_FUNCTIONS = [
    ("AdminSettingsFunction", "admin_settings", "admin_settings_get"),
    ("AdminAppointmentsFunction", "admin_appointments", "admin_appointments_list"),
    ("AdminCustomersFunction", "admin_customers", "admin_customers_search"),
    ("AdminFlagsFunction", "admin_flags", "admin_flags_list"),
    ("AdminBlocksFunction", "admin_blocks", "admin_blocks_list"),
    ("AdminReviewRequestsFunction", "admin_review_requests", "admin_review_requests_list"),
]


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = event["requestContext"]["authorizer"]["claims"]
    return claims


def access_token(claims: dict[str, Any]) -> None:
    """The same sign-in's access token, as API Gateway passes its claims (no aud, no e-mail)."""
    claims.update(token_use="access", client_id=claims.pop("aud"), scope="openid email")
    claims.pop("email")


def other_client(claims: dict[str, Any]) -> None:
    claims["aud"] = "1h2j3k4l5m6n7o8p9q0r1s2t3u"  # another app client of the same pool


def other_pool(claims: dict[str, Any]) -> None:
    claims["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AttackerP"


FORGERIES: dict[str, Callable[[dict[str, Any]], None]] = {
    "access token": access_token,
    "another app client": other_client,
    "another pool": other_pool,
}


def forged(event: dict[str, Any], forgery: str) -> dict[str, Any]:
    FORGERIES[forgery](claims_of(event))
    return event


@pytest.mark.parametrize(
    ("logical_id", "folder", "sample"), STAFF_FUNCTIONS, ids=[f[0] for f in STAFF_FUNCTIONS]
)
def test_every_staff_function_refuses_tokens_that_are_not_the_stacks_staff_id_token(
    seeded: Stack, call: Any, logical_id: str, folder: str, sample: str
) -> None:
    app = seeded.load(folder, logical_id)
    # Given the sample event's token (the local stack's pool and app client), the read is answered
    signed_in = call(app, load_event(sample))
    assert signed_in["statusCode"] not in (401, 403, 503), signed_in["body"]
    # When the same staff member's claims come from a token the stack must not take
    for forgery in FORGERIES:
        response = call(app, forged(load_event(sample), forgery))
        # Then 401, with the body every missing sign-in gets
        assert (response["statusCode"], response_json(response)) == (401, UNAUTHORIZED), forgery


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_settings_change_changes_nothing(settings_app: Any, call: Any, forgery: str) -> None:
    before = response_json(call(settings_app, load_event("admin_settings_get")))
    body = json.dumps({"changes": {"booking_mode": "instant"}, "version": before["version"]})
    response = call(settings_app, forged(with_body(load_event("admin_settings_patch"), body), forgery))
    assert (response["statusCode"], response_json(response)) == (401, UNAUTHORIZED)
    assert response_json(call(settings_app, load_event("admin_settings_get"))) == before


def test_the_sample_events_carry_the_ids_the_template_resolves_to_locally(stack: Stack) -> None:
    resolver = stack.resolver
    pool_id, client_id = resolver.ref("StaffUserPool"), resolver.ref("StaffUserPoolClient")
    issuer = f"https://cognito-idp.{resolver.region}.amazonaws.com/{pool_id}"
    # The staff functions get the pool (their issuer), the API stage the app client.
    for logical_id, _, sample in STAFF_FUNCTIONS:
        assert stack.env(logical_id)["STAFF_USER_POOL_ID"] == pool_id, logical_id
        event = load_event(sample)
        assert (claims_of(event)["iss"], claims_of(event)["aud"]) == (issuer, client_id), sample
        assert event["stageVariables"] == {"staffAppClientId": client_id}, sample
    api = read_api(resolver).apis["BookbayApi"]
    assert api.variables == {"staffAppClientId": client_id}
    # The local Cognito stand-in issues its tokens for the same pool and client.
    tokens = TokenIssuer.for_template(resolver)
    assert (tokens.issuer, tokens.client_id) == (issuer, client_id)


def test_the_local_gateway_checks_the_pool_as_api_gateway_does_and_passes_the_stage_variables(
    stack: Stack,
) -> None:
    captured: list[dict[str, Any]] = []

    def capture(event: dict[str, Any], _: Any) -> dict[str, Any]:
        captured.append(event)
        return {"statusCode": 204}

    registry = FunctionRegistry([])
    registry.register("AdminSettingsFunction", capture)
    tokens = TokenIssuer.for_template(stack.resolver)
    gateway = LocalGateway(read_api(stack.resolver), registry, tokens)

    def get(token: str) -> int:
        request = HttpRequest("GET", "/v1/admin/settings", headers=[("Authorization", f"Bearer {token}")])
        return gateway.dispatch(request).status

    # The pool's ID token, its access token and another app client's token reach the function...
    assert get(tokens.issue("s1", "s1@example.com", ["staff"])) == 204
    assert get(tokens.issue("s2", None, ["staff"], token_use="access")) == 204
    assert get(tokens.issue("s3", None, ["staff"], client_id="another-client")) == 204
    id_claims, access_claims, other_claims = (e["requestContext"]["authorizer"]["claims"] for e in captured)
    assert (id_claims["token_use"], id_claims["aud"], id_claims["iss"]) == (
        "id",
        tokens.client_id,
        tokens.issuer,
    )
    assert id_claims["email"] == "s1@example.com"
    assert access_claims["token_use"] == "access" and access_claims["client_id"] == tokens.client_id
    assert "aud" not in access_claims and "email" not in access_claims
    assert other_claims["aud"] == "another-client"
    assert all(e["stageVariables"] == {"staffAppClientId": tokens.client_id} for e in captured)
    # ...another pool's is refused by the authorizer itself, as in AWS.
    other_pool_token = tokens.issue(
        "s4", None, ["staff"], issuer="https://cognito-idp.us-east-1.amazonaws.com/x_1"
    )
    assert get(other_pool_token) == 401
    assert len(captured) == 3
