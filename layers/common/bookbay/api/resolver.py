"""The one resolver factory: every API function builds its resolver here.

It registers the domain-exception -> HTTP mapping and the bad-input handlers, so handlers never
build error bodies and domain code never sees HTTP.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from bookbay import exceptions as exc
from bookbay.observability import logger

# Most specific class first wins (looked up along the exception's MRO).
STATUS_BY_EXCEPTION: dict[type[exc.DomainError], HTTPStatus] = {
    exc.NotFound: HTTPStatus.NOT_FOUND,
    exc.Gone: HTTPStatus.GONE,
    exc.InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    exc.Conflict: HTTPStatus.CONFLICT,
    exc.Forbidden: HTTPStatus.FORBIDDEN,
    exc.Unauthorized: HTTPStatus.UNAUTHORIZED,
    exc.ShopNotConfigured: HTTPStatus.SERVICE_UNAVAILABLE,
    exc.TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    exc.InvalidCode: HTTPStatus.BAD_REQUEST,
}

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def status_for(error: exc.DomainError) -> HTTPStatus:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_EXCEPTION:
            return STATUS_BY_EXCEPTION[cls]
    return HTTPStatus.BAD_REQUEST


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    error: dict[str, Any] = {**(extra or {}), "code": code, "message": message}
    if details:
        error["details"] = details
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", e.get("type")))} for e in errors]


def _json_body(text: str) -> Any:
    """The request body as JSON. Nesting deep enough to exhaust the parser's recursion (``[[[[...``)
    is malformed JSON like any other (a 400), not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


def _content_type(event: Mapping[str, Any]) -> str:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "content-type" and value:
            return str(value).split(";")[0].strip().lower()
    return ""


class BookbayResolver(APIGatewayRestResolver):
    """The REST resolver; JSON API routes refuse non-JSON bodies (415) before anything parses them."""

    def __init__(self, *, json_api: bool) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=_json_body)
        self._json_api = json_api

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if (
            self._json_api
            and event.get("httpMethod") in _BODY_METHODS
            and event.get("body")
            and _content_type(event) != "application/json"
        ):
            refusal = error_response(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the request body as JSON with Content-Type: application/json.",
            )
            return {
                "statusCode": refusal.status_code,
                "multiValueHeaders": {
                    name: [value]
                    for name, value in {"Content-Type": refusal.content_type, **refusal.headers}.items()
                },
                "body": refusal.body,
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


def add_security_headers(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    response = next_middleware(app)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def make_resolver(*, json_api: bool = True) -> BookbayResolver:
    """A REST resolver with validation, the error mapping and the bad-input handlers."""
    app = BookbayResolver(json_api=json_api)
    app.use([add_security_headers])

    @app.exception_handler(exc.DomainError)
    def _domain_error(error: exc.DomainError) -> Response[str]:
        status = status_for(error)
        logger.info("domain error", extra={"error_code": error.code, "status": int(status)})
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, exc.TooManyRequests) else None
        return error_response(status, error.code, error.message, error.details, error.extra, headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response[str]:
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(
                HTTPStatus.BAD_REQUEST, "malformed_json", "The request body is not valid JSON."
            )
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "validation_error",
            "The request has invalid or missing fields.",
            _validation_details(errors),
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_: RequestUnsupportedContentType) -> Response[str]:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as JSON with Content-Type: application/json.",
        )

    @app.exception_handler([UnicodeDecodeError, binascii.Error])
    def _undecodable(_: Exception) -> Response[str]:
        return error_response(
            HTTPStatus.BAD_REQUEST, "invalid_encoding", "The request body must be UTF-8 text."
        )

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return error_response(
            HTTPStatus.NOT_FOUND,
            "not_found",
            "No such route or method. The API is described at /swagger.",
        )

    return app
