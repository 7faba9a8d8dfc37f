"""The staff guard (bookbay.api.auth: ``staff_only`` before the resolver, ``require_staff`` in it)
takes only an ID token that the stack's user pool issued to its app client: API Gateway's Cognito
authorizer lets any unexpired token of the pool through (an access token, another app client's
ID token), and a second pool on the authorizer would pass its tokens too."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.api.auth import APP_CLIENT_STAGE_VARIABLE, require_staff, staff_only
from bookbay.config import ConfigError, StaffApiConfig
from tests.support import FakeLambdaContext, load_event

# The sample events' claims: the local stack's user pool and app client.
POOL_ID = "us-east-1_17f7286268"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"
CLIENT_ID = "fa7adee0e6"
UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "A valid staff sign-in token is required."}}

Mutation = Callable[[dict[str, Any]], None]


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = event["requestContext"]["authorizer"]["claims"]
    return claims


def as_access_token(event: dict[str, Any]) -> None:
    claims = claims_of(event)
    claims["token_use"] = "access"
    claims["client_id"] = claims.pop("aud")
    claims.pop("email")


def setting(key: str, value: str | None) -> Mutation:
    def mutate(event: dict[str, Any]) -> None:
        if value is None:
            claims_of(event).pop(key)
        else:
            claims_of(event)[key] = value

    return mutate


FORGED: dict[str, Mutation] = {
    "access token of the app client": as_access_token,
    "token_use missing": setting("token_use", None),
    "token_use other": setting("token_use", "refresh"),
    "another app client of the pool": setting("aud", "0ther4ppcl1ent"),
    "aud missing": setting("aud", None),
    "aud differs only in case": setting("aud", CLIENT_ID.upper()),
    "another pool": setting("iss", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_0therP00l"),
    "the pool's id in another region": setting(
        "iss", f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}"
    ),
    "iss over http": setting("iss", ISSUER.replace("https://", "http://")),
    "iss missing": setting("iss", None),
}


def staff_event() -> dict[str, Any]:
    event = load_event("admin_settings_get")
    assert claims_of(event)["iss"] == ISSUER and claims_of(event)["aud"] == CLIENT_ID
    assert event["stageVariables"] == {APP_CLIENT_STAGE_VARIABLE: CLIENT_ID}
    return event


class Guarded:
    """A staff handler behind both guards, as functions/admin_*/app.py wire them."""

    def __init__(self) -> None:
        self.calls = 0
        self.resolver = APIGatewayRestResolver()
        self.resolver.use([require_staff("staff", issuer=ISSUER)])

        @self.resolver.get("/v1/admin/settings")
        def read() -> dict[str, Any]:
            self.calls += 1
            return {"sub": self.resolver.context["staff"].sub}

        @staff_only("staff", issuer=ISSUER)
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return self.resolver.resolve(event, context)

        self.handler = handler

    def middleware_only(self, event: dict[str, Any]) -> dict[str, Any]:
        """The resolver alone: require_staff must refuse by itself (a route without staff_only)."""
        return self.resolver.resolve(event, cast(LambdaContext, FakeLambdaContext()))

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler(event, FakeLambdaContext())


@pytest.fixture(params=["staff_only", "require_staff"])
def guard(request: pytest.FixtureRequest) -> tuple[Guarded, Callable[[dict[str, Any]], dict[str, Any]]]:
    guarded = Guarded()
    return guarded, (guarded if request.param == "staff_only" else guarded.middleware_only)


def test_the_stacks_id_token_for_its_app_client_passes(
    guard: tuple[Guarded, Callable[[dict[str, Any]], dict[str, Any]]],
) -> None:
    guarded, call = guard
    response = call(staff_event())
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"]) == {"sub": "7d1f0c1e-0b7c-4a53-9a8e-2f1b3c4d5e6f"}
    assert guarded.calls == 1


@pytest.mark.parametrize("mutate", FORGED.values(), ids=list(FORGED))
def test_a_token_the_authorizer_lets_through_but_is_not_the_stacks_staff_id_token_is_401(
    guard: tuple[Guarded, Callable[[dict[str, Any]], dict[str, Any]]], mutate: Mutation
) -> None:
    guarded, call = guard
    event = staff_event()
    mutate(event)
    response = call(event)
    assert response["statusCode"] == 401
    assert json.loads(response["body"]) == UNAUTHORIZED
    assert guarded.calls == 0


def test_the_app_client_is_the_one_the_api_stage_names(
    guard: tuple[Guarded, Callable[[dict[str, Any]], dict[str, Any]]],
) -> None:
    guarded, call = guard
    event = staff_event()
    event["stageVariables"] = {APP_CLIENT_STAGE_VARIABLE: "an0therc1ient"}
    response = call(event)
    assert (response["statusCode"], json.loads(response["body"])) == (401, UNAUTHORIZED)
    assert guarded.calls == 0


@pytest.mark.parametrize("stage_variables", [None, {}, {APP_CLIENT_STAGE_VARIABLE: ""}])
def test_an_api_stage_without_the_app_client_refuses_every_token_with_503(
    guard: tuple[Guarded, Callable[[dict[str, Any]], dict[str, Any]]], stage_variables: Any
) -> None:
    guarded, call = guard
    event = staff_event()
    event["stageVariables"] = stage_variables
    response = call(event)
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"]["code"] == "sign_in_not_configured"
    assert guarded.calls == 0
    # Without claims it stays the 401 anyone gets.
    del event["requestContext"]["authorizer"]
    assert call(event)["statusCode"] == 401


def test_the_group_check_is_unchanged(
    guard: tuple[Guarded, Callable[[dict[str, Any]], dict[str, Any]]],
) -> None:
    guarded, call = guard
    event = staff_event()
    claims_of(event)["cognito:groups"] = "customers"
    response = call(event)
    assert response["statusCode"] == 403
    assert json.loads(response["body"])["error"]["code"] == "forbidden"
    assert guarded.calls == 0


BASE_ENV = {"TABLE_NAME": "t", "SHOP_NAME": "s", "PUBLIC_BASE_URL": "https://book.example.com"}


def test_staff_functions_need_their_user_pool_and_build_its_issuer() -> None:
    config = StaffApiConfig.from_env(
        {**BASE_ENV, "AWS_REGION": "eu-west-1", "STAFF_USER_POOL_ID": "eu-west-1_Ab9"}
    )
    assert config.staff_token_issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab9"
    with pytest.raises(ConfigError, match="STAFF_USER_POOL_ID"):
        StaffApiConfig.from_env(BASE_ENV)
    with pytest.raises(ConfigError, match="STAFF_USER_POOL_ID"):
        StaffApiConfig.from_env({**BASE_ENV, "STAFF_USER_POOL_ID": "us-east-1_x/../other"})
