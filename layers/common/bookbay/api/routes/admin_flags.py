"""Staff API: the flagged-customer list (Cognito authorizer + staff group).

GET /v1/admin/flags (cursor pages), POST /v1/admin/flags, GET and DELETE /v1/admin/flags/{flag_id},
DELETE /v1/admin/flags/{flag_id}/fields/{field} (un-flag one field). Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from bookbay.api.auth import STAFF_SECURITY, staff_actor
from bookbay.api.errors import error_responses
from bookbay.api.flags import FlagCreate, FlagOut, FlagResponse, FlagsResponse
from bookbay.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from bookbay.domain.flags import FlagField
from bookbay.services import flags
from bookbay.services.flags import NewFlag

if TYPE_CHECKING:
    from bookbay.repositories.flags import FlagsRepository

FlagId = Annotated[str, Path(description="The flag's id (an unknown or malformed one is a 404)")]


def register(app: APIGatewayRestResolver, repo: FlagsRepository, *, now: Callable[[], datetime]) -> None:
    """The flag routes on ``app`` (the staff group is checked by the handler's middleware)."""

    @app.get(
        "/v1/admin/flags",
        summary="The flagged-customer list",
        description="Newest first, active and inactive flags (every field un-flagged) alike. Pass the "
        "answer's `next_cursor` as `cursor` for the next page; a cursor that is not one is a 400 "
        "`invalid_cursor`.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "A page of flags"}, **error_responses(400, 401, 403, 503)},
    )
    def list_flags(
        cursor: Annotated[
            str | None, Query(max_length=4000, description="`next_cursor` of the previous page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Flags per page")] = DEFAULT_LIMIT,
    ) -> FlagsResponse:
        page = flags.list_flags(repo, limit=limit, cursor=cursor)
        return FlagsResponse(flags=[FlagOut.of(flag) for flag in page.flags], next_cursor=page.next_cursor)

    @app.post(
        "/v1/admin/flags",
        summary="Flag a customer",
        description="Any of `name`, `email`, `phone`, `address` (at least one), and a `reason`. Every new "
        "appointment, online or entered by staff, is checked on each field after normalization; a match "
        "is stored on the appointment (`flag_matches`) and shown to staff, and the booking still stands.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            201: {"description": "Flagged", "content": {"application/json": {"model": FlagResponse}}},
            **error_responses(400, 401, 403, 415, 503),
        },
    )
    def create_flag(body: Annotated[FlagCreate, Body()]) -> Response[FlagResponse]:
        flag = flags.create_flag(
            repo,
            NewFlag(
                reason=body.reason, name=body.name, email=body.email, phone=body.phone, address=body.address
            ),
            actor=staff_actor(app),
            now=now(),
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=FlagResponse(flag=FlagOut.of(flag)),
        )

    @app.get(
        "/v1/admin/flags/<flag_id>",
        summary="A flag",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "The flag"}, **error_responses(401, 403, 404, 503)},
    )
    def get_flag(flag_id: FlagId) -> FlagResponse:
        return FlagResponse(flag=FlagOut.of(flags.get_flag(repo, flag_id)))

    @app.delete(
        "/v1/admin/flags/<flag_id>",
        summary="Delete a flag",
        description="The flag leaves the list and matches nothing from now on; appointments keep the "
        "matches they had, and the audit trail keeps who flagged and who deleted.",
        tags=["admin"],
        security=STAFF_SECURITY,
        # No body: "content" is given (empty) so the document does not describe one.
        responses={
            204: {"description": "Deleted", "content": {}},
            **error_responses(401, 403, 404, 409, 503),
        },
    )
    def delete_flag(flag_id: FlagId) -> Response[None]:
        flags.delete_flag(repo, flag_id, actor=staff_actor(app), now=now())
        return Response(status_code=HTTPStatus.NO_CONTENT, body=None)

    @app.delete(
        "/v1/admin/flags/<flag_id>/fields/<field>",
        summary="Un-flag one field of a flag",
        description="That field stops matching new appointments; the flag keeps its other fields. With "
        "none left the flag stays on the list as inactive (`active: false`) until deleted. A field the "
        "flag does not hold, or one already un-flagged, is a 409 `field_not_flagged`.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            200: {"description": "The flag after the change"},
            **error_responses(401, 403, 404, 409, 503),
        },
    )
    def unflag_field(
        flag_id: FlagId, field: Annotated[FlagField, Path(description="name, email, phone or address")]
    ) -> FlagResponse:
        flag = flags.unflag_field(repo, flag_id, field, actor=staff_actor(app), now=now())
        return FlagResponse(flag=FlagOut.of(flag))
