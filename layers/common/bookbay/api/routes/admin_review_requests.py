"""Staff API: the review-request queue. GET /v1/admin/review-requests?status&cursor&limit and
POST /v1/admin/review-requests/{id}/stop (Cognito authorizer + staff group)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from bookbay.api.auth import STAFF_SECURITY, staff_actor
from bookbay.api.errors import error_responses
from bookbay.api.review_requests import (
    REQUEST_ID_PATTERN,
    ReviewRequestOut,
    ReviewRequestResponse,
    ReviewRequestsResponse,
)
from bookbay.domain.review_requests import ReviewStatus
from bookbay.services import review_requests

if TYPE_CHECKING:
    from bookbay.repositories.review_requests import ReviewRequestRepository

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def register(
    app: APIGatewayRestResolver, requests: ReviewRequestRepository, *, now: Callable[[], datetime]
) -> None:
    """The queue's routes on ``app`` (the staff group is checked by the handler's middleware)."""

    @app.get(
        "/v1/admin/review-requests",
        summary="The review-request queue",
        description="Review requests in one status (default: the active ones), newest first.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "One page of review requests"}, **error_responses(400, 401, 403)},
    )
    def list_review_requests(
        status: Annotated[
            ReviewStatus, Query(description="active, done, opted_out, stopped or finished")
        ] = "active",
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None, Query(max_length=2000, description="next_cursor of the previous page")
        ] = None,
    ) -> ReviewRequestsResponse:
        found = review_requests.list_requests(requests, status, limit=limit, cursor=cursor)
        return ReviewRequestsResponse(
            review_requests=[ReviewRequestOut.of(r) for r in found.requests], next_cursor=found.next_cursor
        )

    @app.post(
        "/v1/admin/review-requests/<request_id>/stop",
        summary="Stop a review request's e-mails",
        description="Only an active sequence can be stopped (else 409 invalid_transition).",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            200: {"description": "The stopped review request"},
            **error_responses(401, 403, 404, 409),
        },
    )
    def stop_review_request(
        request_id: Annotated[str, Path(pattern=REQUEST_ID_PATTERN, description="Review request id")],
    ) -> ReviewRequestResponse:
        stopped = review_requests.stop(requests, request_id, staff_actor(app), now())
        return ReviewRequestResponse(review_request=ReviewRequestOut.of(stopped))
