"""Staff API: blocked time (Cognito authorizer + staff group).

POST /v1/admin/blocks (block a time at a location: availability and bookings then offer only the
free time), DELETE /v1/admin/blocks/{block_id} (give it back), GET /v1/admin/blocks?location_id
(a location's blocks). Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from bookbay.api.auth import STAFF_SECURITY, staff_actor
from bookbay.api.blocks import (
    AppointmentInBlock,
    BlockCreate,
    BlockCreated,
    BlockOut,
    BlockResponse,
    BlocksResponse,
)
from bookbay.api.errors import error_responses
from bookbay.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from bookbay.services import blocks
from bookbay.services.blocks import BlocksDeps
from bookbay.types import LocationId


def register(app: APIGatewayRestResolver, deps: BlocksDeps, *, now: Callable[[], datetime]) -> None:
    """The blocked-time routes on ``app`` (the staff group is checked by the handler's middleware)."""

    @app.post(
        "/v1/admin/blocks",
        summary="Block time at a location",
        description="Every slot of the location that overlaps [start, end) is taken out of booking: "
        "availability and every booking (online, by staff, a reschedule) offer only free time. "
        "Appointments already in that time stay; the answer lists them with a `warning`. Blocks may "
        "overlap: deleting one never frees time another still blocks.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            201: {"description": "Blocked", "content": {"application/json": {"model": BlockCreated}}},
            **error_responses(400, 401, 403, 404, 409, 415, 503),
        },
    )
    def create_block(body: Annotated[BlockCreate, Body()]) -> Response[BlockCreated]:
        created = blocks.create_block(
            deps.catalog,
            deps.blocks,
            location_id=body.location_id,
            start=body.start,
            end=body.end,
            reason=body.reason,
            actor=staff_actor(app),
            now=now(),
        )
        inside = [AppointmentInBlock.of(a) for a in created.appointments]
        warning = (
            f"{len(inside)} appointment(s) booked in this time stay booked: move or cancel them if needed."
            if inside
            else None
        )
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=BlockCreated(
                block=BlockOut.of(created.block, status="active", slots=created.slots),
                appointments_in_block=inside,
                warning=warning,
            ),
        )

    @app.get(
        "/v1/admin/blocks",
        summary="A location's blocks",
        description="By start. Pass the answer's `next_cursor` as `cursor` for the next page.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "A page of blocks"}, **error_responses(400, 401, 403, 404, 503)},
    )
    def list_blocks(
        location_id: Annotated[LocationId, Query(description="The location")],
        cursor: Annotated[
            str | None, Query(max_length=4000, description="`next_cursor` of the previous page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Blocks per page")] = DEFAULT_LIMIT,
    ) -> BlocksResponse:
        page = blocks.list_blocks(deps.catalog, deps.blocks, location_id, limit=limit, cursor=cursor)
        return BlocksResponse(
            blocks=[BlockOut.of_stored(b) for b in page.blocks], next_cursor=page.next_cursor
        )

    @app.delete(
        "/v1/admin/blocks/<block_id>",
        summary="Give blocked time back",
        description="Its slots can be booked again, except where another block covers them too.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "The block, deleted"}, **error_responses(401, 403, 404, 409)},
    )
    def delete_block(
        block_id: Annotated[
            str, Path(max_length=120, description="The block's id (an unknown one is a 404)")
        ],
    ) -> BlockResponse:
        deleted = blocks.delete_block(deps.blocks, block_id, actor=staff_actor(app), now=now())
        return BlockResponse(block=BlockOut.of(deleted.block, status="deleted", slots=len(deleted.slots)))
