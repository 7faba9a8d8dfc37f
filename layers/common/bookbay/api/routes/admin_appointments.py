"""Staff API: appointments (Cognito authorizer + staff group).

GET /v1/admin/appointments (filters, cursor pages), POST /v1/admin/appointments (a phone booking
entered by staff), GET and PATCH /v1/admin/appointments/{appointment_id} (read with history; edit,
``start`` = reschedule), POST /v1/admin/appointments/{appointment_id}/{action} (confirm, check-in,
complete, cancel, no-show, send-confirmation). Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from http import HTTPStatus
from typing import Annotated, get_args

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from bookbay.api.appointments_admin import (
    DEFAULT_PAGE,
    MAX_PAGE,
    ActionBody,
    AdminAppointmentOut,
    AppointmentPatch,
    AppointmentResponse,
    AppointmentsResponse,
    ManualBooking,
)
from bookbay.api.auth import STAFF_SECURITY, staff_actor
from bookbay.api.errors import error_responses
from bookbay.domain.booking import AppointmentStatus
from bookbay.exceptions import InvalidInput
from bookbay.services import appointment_admin
from bookbay.services.appointment_admin import Action, AdminAppointmentsDeps, Filters

AppointmentId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{24}$", description="The appointment's id (an unknown one is a 404)")
]


def register(
    app: APIGatewayRestResolver, deps: AdminAppointmentsDeps, *, now: Callable[[], datetime]
) -> None:
    """The appointment routes on ``app`` (the staff group is checked by the handler's middleware)."""
    admin = deps.admin

    @app.get(
        "/v1/admin/appointments",
        summary="Appointments, by start",
        description="Oldest first, from `from` to `to` (local days, at most 92, within 10 years of "
        "today; default today and the next 13): at `location_id` in its zone, else the whole shop's "
        "in the shop's zone. Filters: "
        "`status` (comma-separated), `flagged` (true: only those that matched a flag). Each comes with "
        "its customer, vehicle, address, notes, source, `flag_matches`, `takeover` and `do_not_service` (its "
        "customer was marked Do Not Service when it was booked). Pass the answer's "
        "`next_cursor` as `cursor` for the next page.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "A page of appointments"}, **error_responses(400, 401, 403, 503)},
    )
    def list_appointments(
        from_: Annotated[date | None, Query(alias="from", description="First local day, YYYY-MM-DD")] = None,
        to: Annotated[date | None, Query(description="Last local day, YYYY-MM-DD")] = None,
        status: Annotated[
            str | None,
            Query(
                pattern=r"^[a-z_]+(,[a-z_]+)*$",
                max_length=200,
                description="Statuses, comma-separated (e.g. requested,confirmed)",
            ),
        ] = None,
        location_id: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9-]+$")] = None,
        flagged: Annotated[bool | None, Query(description="true: only flagged; false: only not")] = None,
        cursor: Annotated[
            str | None, Query(max_length=4000, description="`next_cursor` of the previous page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Appointments per page")] = DEFAULT_PAGE,
    ) -> AppointmentsResponse:
        filters = Filters(
            first=from_,
            last=to,
            statuses=_statuses(status),
            location_id=location_id,
            flagged=flagged,
        )
        page, next_cursor = appointment_admin.list_appointments(
            admin, filters, now(), limit=limit, cursor=cursor
        )
        return AppointmentsResponse(
            appointments=[AdminAppointmentOut.of(a) for a in page], next_cursor=next_cursor
        )

    @app.post(
        "/v1/admin/appointments",
        summary="Enter a phone booking",
        description="The public booking's body, no code needed; `source` defaults to `phone`. Booked "
        "confirmed under the same rules as online (capacity, the customer recognized by phone then "
        "e-mail, flags, takeover); the customer gets the e-confirmation by `preferred_channel` (else "
        'their profile\'s). A Do Not Service customer is booked with `warnings: ["do_not_service"]` '
        "for staff rather than refused.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            201: {"description": "Booked", "content": {"application/json": {"model": AppointmentResponse}}},
            **error_responses(400, 401, 403, 404, 409, 415, 503),
        },
    )
    def create_appointment(body: Annotated[ManualBooking, Body()]) -> Response[AppointmentResponse]:
        booked = appointment_admin.enter_booking(deps, body, staff_actor(app), now())
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=AppointmentResponse.of(booked),
        )

    @app.get(
        "/v1/admin/appointments/<appointment_id>",
        summary="An appointment, with its history",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "The appointment"}, **error_responses(401, 403, 404, 503)},
    )
    def get_appointment(appointment_id: AppointmentId) -> AppointmentResponse:
        return AppointmentResponse.of(appointment_admin.read(admin, appointment_id))

    @app.patch(
        "/v1/admin/appointments/<appointment_id>",
        summary="Edit an appointment",
        description="`start` moves it to another free time under the same capacity rules (409 "
        "`slot_unavailable` when taken) and e-mails the customer the new time; `notes` and `staff_notes` "
        "are replaced. With `version` (from the read) a change made meanwhile is a 409 "
        "`concurrent_update`.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            200: {"description": "The appointment after the change"},
            **error_responses(400, 401, 403, 404, 409, 415, 503),
        },
    )
    def patch_appointment(
        appointment_id: AppointmentId, body: Annotated[AppointmentPatch, Body()]
    ) -> AppointmentResponse:
        edited = appointment_admin.edit(
            admin, appointment_id, body.changes, staff_actor(app), now(), version=body.version
        )
        return AppointmentResponse.of(edited)

    @app.post(
        "/v1/admin/appointments/<appointment_id>/<action>",
        summary="Act on an appointment",
        description="`confirm` (requested or reschedule requested; sends the e-confirmation and "
        "schedules the reminder; an appointment marked `do_not_service`, an online request of a Do Not "
        "Service customer taken for review, is confirmed as staff decide, answered with `warnings: "
        '["do_not_service"]`), `check-in` (while it holds its time; ends the customer link and the '
        "reminder), `complete` (checked in; starts the review requests), `cancel` (while it holds its "
        "time; frees it, e-mails the customer unless `notify` is false), `no-show` (once its time has "
        "come), `send-confirmation` (confirmed and upcoming; by `channel` or the preferred one). From "
        "any other status: 409 `invalid_transition`.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            200: {"description": "The appointment after the action"},
            **error_responses(400, 401, 403, 404, 409, 415, 503),
        },
    )
    def act(
        appointment_id: AppointmentId,
        action: Annotated[Action, Path(description="The action")],
        body: Annotated[ActionBody | None, Body()] = None,
    ) -> AppointmentResponse:
        options = body or ActionBody()
        acted = appointment_admin.act(
            admin,
            appointment_id,
            action,
            staff_actor(app),
            now(),
            channel=options.channel,
            reason=options.reason,
            notify=options.notify,
        )
        return AppointmentResponse.of(acted, acted.sent)


def _statuses(text: str | None) -> tuple[AppointmentStatus, ...]:
    if not text:
        return ()
    known: dict[str, AppointmentStatus] = {s: s for s in get_args(AppointmentStatus)}
    wanted = list(dict.fromkeys(text.split(",")))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InvalidInput(f"Unknown status {unknown[0]!r}; use one of {', '.join(sorted(known))}.")
    return tuple(known[s] for s in wanted)
