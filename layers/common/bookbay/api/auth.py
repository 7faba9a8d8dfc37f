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

# OpenAPI security requirement of every staff route (the scheme is declared by scripts/openapi.py).
STAFF_SECURITY: list[dict[str, list[str]]] = [{"staffCognito": []}]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


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


def staff_identity(event_claims: dict[str, Any] | None) -> StaffIdentity | None:
    if not event_claims or not event_claims.get("sub"):
        return None
    return StaffIdentity(
        sub=str(event_claims["sub"]),
        email=event_claims.get("email"),
        groups=parse_groups(event_claims.get("cognito:groups")),
    )


def require_staff(group: str) -> Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]:
    """Middleware: 401 without authorizer claims, 403 without ``group``; stores the identity."""

    def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        authorizer = app.current_event.request_context.authorizer
        identity = staff_identity(authorizer.claims if authorizer else None)
        if identity is None:
            return error_response(
                HTTPStatus.UNAUTHORIZED, "unauthorized", "A valid staff sign-in token is required."
            )
        if group not in identity.groups:
            return error_response(
                HTTPStatus.FORBIDDEN, "forbidden", "Your account is not in the staff group."
            )
        app.append_context(staff=identity)
        return next_middleware(app)

    return middleware


def staff_actor(app: APIGatewayRestResolver) -> Actor:
    """The signed-in staff member (put in ``app.context`` by ``require_staff``) as an audit Actor."""
    staff: StaffIdentity = app.context["staff"]
    return Actor(kind="staff", sub=staff.sub, email=staff.email)


def staff_only(group: str) -> Callable[[Handler], Handler]:
    """Decorates a staff function's ``lambda_handler``: 401 / 403 (as ``require_staff``) BEFORE the
    resolver runs, so someone who is not staff learns nothing about a route, not even how its body
    would be validated (Powertools validates a request before any middleware)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def guarded(event: dict[str, Any], context: Any) -> dict[str, Any]:
            claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims")
            identity = staff_identity(claims if isinstance(claims, dict) else None)
            if identity is None:
                refusal = error_response(
                    HTTPStatus.UNAUTHORIZED, "unauthorized", "A valid staff sign-in token is required."
                )
            elif group not in identity.groups:
                refusal = error_response(
                    HTTPStatus.FORBIDDEN, "forbidden", "Your account is not in the staff group."
                )
            else:
                return handler(event, context)
            return {
                "statusCode": refusal.status_code,
                "headers": {"Content-Type": content_types.APPLICATION_JSON, **refusal.headers},
                "body": refusal.body,
                "isBase64Encoded": False,
            }

        return guarded

    return decorate
