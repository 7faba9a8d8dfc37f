"""The error body every API answer uses, and the OpenAPI ``responses`` for it."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import Field

from bookbay.modeling import BaseModel


class ErrorDetail(BaseModel):
    field: str = Field(description="Where the problem is, e.g. body.customer.phone or query.near")
    message: str = Field(description="What is wrong with it")


class AlternativeSlot(BaseModel):
    start: datetime = Field(description="In the location's time zone, with its UTC offset")
    end: datetime
    remaining: int = Field(description="Bookings the slot can still take")


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable snake_case error code", examples=["validation_error"])
    message: str = Field(description="Human-readable explanation")
    details: list[ErrorDetail] | None = Field(default=None, description="Per-field problems (422)")
    alternatives: list[AlternativeSlot] | None = Field(
        default=None, description="The next free slots (409 slot_unavailable)"
    )
    retry_after: int | None = Field(
        default=None, description="Seconds until it may be tried again (429; also the Retry-After header)"
    )


class ErrorResponse(BaseModel):
    error: ErrorInfo


_DESCRIPTIONS = {
    400: "Malformed request (bad JSON or encoding)",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    410: "No longer available",
    415: "Unsupported content type (send application/json)",
    422: "Invalid input",
    429: "Too many requests",
    503: "Not ready or temporarily unavailable",
}


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses`` entries for the given error statuses (always 422)."""
    wanted = sorted({*statuses, 422})
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {"application/json": {"model": ErrorResponse}},
        }
        for status in wanted
    }
