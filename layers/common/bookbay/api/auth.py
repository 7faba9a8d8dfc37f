"""Staff identity from the Cognito authorizer's claims (API Gateway REST, or the local stand-in)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from bookbay.api.resolver import error_response
from bookbay.domain.audit import Actor
from bookbay.observability import logger

# OpenAPI security requirement of every staff route (the scheme is declared by scripts/openapi.py).
STAFF_SECURITY: list[dict[str, list[str]]] = [{"staffCognito": []}]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# The API stage's variable that holds the staff app client's id (template.yaml: BookbayApi's
# Variables; an environment variable would be a cycle: client -> API's URL -> API -> function).
APP_CLIENT_STAGE_VARIABLE = "staffAppClientId"


@dataclass(frozen=True)
class StaffIdentity:
    sub: str
    email: str | None
    groups: frozenset[str]


def parse_groups(raw: Any) -> frozenset[str]:
    """``cognito:groups`` arrives as a list, "a,b", or "[a b]" depending on the integration."""
    if raw is None:
        return frozenset()
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw if g)
    text = str(raw).strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


def staff_identity(
    event_claims: dict[str, Any] | None, *, issuer: str, client_id: str
) -> StaffIdentity | None:
    """The staff member if the claims are an ID token (``token_use`` "id") that the stack's user pool
    (``iss``) issued to its app client (``aud``). API Gateway's Cognito authorizer passes any
    unexpired token the pool signed: an access token, or the ID token of another app client."""
    if not event_claims or not event_claims.get("sub"):
        return None
    if (
        event_claims.get("token_use") != "id"
        or event_claims.get("iss") != issuer
        or event_claims.get("aud") != client_id
    ):
        return None
    return StaffIdentity(
        sub=str(event_claims["sub"]),
        email=event_claims.get("email"),
        groups=parse_groups(event_claims.get("cognito:groups")),
    )


def checked_staff(
    claims: Any, stage_variables: Any, *, group: str, issuer: str
) -> StaffIdentity | Response[str]:
    """The staff member, or the refusal: 401 without claims or with claims that are not a staff ID
    token of this stack (``staff_identity``), 403 outside ``group``; 503 when the API stage names no
    app client (a broken deploy: no token can be checked)."""
    claims = claims if isinstance(claims, dict) else None
    if not claims or not claims.get("sub"):
        return error_response(
            HTTPStatus.UNAUTHORIZED, "unauthorized", "A valid staff sign-in token is required."
        )
    client_id = stage_variables.get(APP_CLIENT_STAGE_VARIABLE) if isinstance(stage_variables, dict) else None
    if not client_id:
        logger.error("staff app client id missing", extra={"stage_variable": APP_CLIENT_STAGE_VARIABLE})
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "sign_in_not_configured",
            "Staff sign-in is not set up for this shop (the API names no app client).",
        )
    identity = staff_identity(claims, issuer=issuer, client_id=str(client_id))
    if identity is None:
        return error_response(
            HTTPStatus.UNAUTHORIZED, "unauthorized", "A valid staff sign-in token is required."
        )
    if group not in identity.groups:
        return error_response(HTTPStatus.FORBIDDEN, "forbidden", "Your account is not in the staff group.")
    return identity


def require_staff(
    group: str, *, issuer: str
) -> Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]:
    """Middleware: refuses as ``checked_staff`` does (``issuer``: StaffApiConfig.staff_token_issuer);
    stores the identity."""

    def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        event = app.current_event
        authorizer = event.request_context.authorizer
        identity = checked_staff(
            authorizer.claims if authorizer else None, event.stage_variables, group=group, issuer=issuer
        )
        if isinstance(identity, Response):
            return identity
        app.append_context(staff=identity)
        return next_middleware(app)

    return middleware


def staff_actor(app: APIGatewayRestResolver) -> Actor:
    """The signed-in staff member (put in ``app.context`` by ``require_staff``) as an audit Actor."""
    staff: StaffIdentity = app.context["staff"]
    return Actor(kind="staff", sub=staff.sub, email=staff.email)


def staff_in_group(app: APIGatewayRestResolver, group: str) -> bool:
    """Whether the signed-in staff member (``require_staff``'s) is also in ``group`` (the owners)."""
    staff: StaffIdentity = app.context["staff"]
    return group in staff.groups


def staff_only(group: str, *, issuer: str) -> Callable[[Handler], Handler]:
    """Decorates a staff function's ``lambda_handler``: 401 / 403 (as ``require_staff``) BEFORE the
    resolver runs, so someone who is not staff learns nothing about a route, not even how its body
    would be validated (Powertools validates a request before any middleware)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def guarded(event: dict[str, Any], context: Any) -> dict[str, Any]:
            claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims")
            checked = checked_staff(claims, event.get("stageVariables"), group=group, issuer=issuer)
            if isinstance(checked, StaffIdentity):
                return handler(event, context)
            return {
                "statusCode": checked.status_code,
                "headers": {"Content-Type": content_types.APPLICATION_JSON, **checked.headers},
                "body": checked.body,
                "isBase64Encoded": False,
            }

        return guarded

    return decorate
