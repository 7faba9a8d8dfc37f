"""Staff API: appointments (Cognito authorizer + staff group).

GET /v1/admin/appointments (filters, cursor pages), POST /v1/admin/appointments (a phone booking
entered by staff), GET and PATCH /v1/admin/appointments/{appointment_id} (read with history; edit,
``start`` = reschedule), POST /v1/admin/appointments/{appointment_id}/{action} (confirm, check-in,
complete, cancel, no-show, send-confirmation). Every change is audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from http import HTTPStatus
from typing import Annotated, Any, get_args

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

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
from bookbay.api.auth import STAFF_SECURITY, require_staff, staff_actor, staff_only
from bookbay.api.errors import error_responses
from bookbay.api.resolver import make_resolver
from bookbay.config import AdminAppointmentsConfig
from bookbay.domain.booking import AppointmentStatus, PreferredChannel
from bookbay.exceptions import DomainError, InvalidInput
from bookbay.observability import logger, metrics, tracer
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.audit import AuditRepository
from bookbay.repositories.availability import AvailabilityRepository
from bookbay.repositories.booking import BookingRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.customers import CustomersRepository
from bookbay.services import appointment_admin, booking, customer_admin
from bookbay.services.appointment_admin import Action, AdminDeps, Filters
from bookbay.services.customer_admin import CustomerEdit
from bookbay.services.staff_actions import StaffDeps

config = AdminAppointmentsConfig.from_env()
catalog_repo = CatalogRepository(config.table_name, config.region, cache_seconds=config.catalog_cache_seconds)
customers = CustomersRepository(config.table_name, config.region)
deps = AdminDeps(
    staff=StaffDeps(
        catalog=catalog_repo,
        appointments=AppointmentRepository(config.table_name, config.region),
        availability=AvailabilityRepository(config.table_name, config.region),
        public_base_url=config.public_base_url,
        customers=customers,
    ),
    audit=AuditRepository(config.table_name, config.region),
)
booking_repo = BookingRepository(config.table_name, config.region)
clock: Callable[[], datetime] = partial(datetime.now, UTC)
app = make_resolver()
app.use([require_staff(config.staff_group)])

AppointmentId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{24}$", description="The appointment's id (an unknown one is a 404)")
]


@app.get(
    "/v1/admin/appointments",
    summary="Appointments, by start",
    description="Oldest first, from `from` to `to` (local days, at most 92, within 10 years of "
    "today; default today and the next 13): at `location_id` in its zone, else the whole shop's "
    "in the shop's zone. Filters: "
    "`status` (comma-separated), `flagged` (true: only those that matched a flag). Each comes with "
    "its customer, vehicle, address, notes, source, `flag_matches` and `takeover`. Pass the answer's "
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
        deps, filters, clock(), limit=limit, cursor=cursor
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
    now = clock()
    result = booking.book(
        body,
        now=now,
        catalog_repo=catalog_repo,
        booking_repo=booking_repo,
        availability_repo=deps.staff.availability,
        configured_base_url=config.public_base_url,
        staff=booking.StaffBooking(staff_actor(app)),
    )
    if body.preferred_channel is not None:
        _keep_preference(result.appointment.customer_id, body.preferred_channel, now)
    admin = appointment_admin.read(deps, result.appointment.id)
    admin = dataclasses.replace(admin, warnings=result.warnings)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=AppointmentResponse.of(admin),
    )


@app.get(
    "/v1/admin/appointments/<appointment_id>",
    summary="An appointment, with its history",
    tags=["admin"],
    security=STAFF_SECURITY,
    responses={200: {"description": "The appointment"}, **error_responses(401, 403, 404, 503)},
)
def get_appointment(appointment_id: AppointmentId) -> AppointmentResponse:
    return AppointmentResponse.of(appointment_admin.read(deps, appointment_id))


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
    admin = appointment_admin.edit(
        deps, appointment_id, body.changes, staff_actor(app), clock(), version=body.version
    )
    return AppointmentResponse.of(admin)


@app.post(
    "/v1/admin/appointments/<appointment_id>/<action>",
    summary="Act on an appointment",
    description="`confirm` (requested or reschedule requested; sends the e-confirmation and "
    "schedules the reminder), `check-in` (while it holds its time; ends the customer link and the "
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
    admin = appointment_admin.act(
        deps,
        appointment_id,
        action,
        staff_actor(app),
        clock(),
        channel=options.channel,
        reason=options.reason,
        notify=options.notify,
    )
    return AppointmentResponse.of(admin, admin.sent)


def _keep_preference(customer_id: str, channel: PreferredChannel, now: datetime) -> None:
    """The preference the customer just gave staff goes on their profile (a new customer's is set by
    the booking; nothing is written when it is unchanged). The booking stands if this fails."""
    try:
        customer_admin.edit_customer(
            customers,
            customer_id,
            CustomerEdit(preferred_channel=channel),
            version=None,
            actor=staff_actor(app),
            now=now,
        )
    except DomainError as refused:  # e.g. SMS for a customer with no phone on file
        logger.info("preferred channel not kept", extra={"customer_id": customer_id, "code": refused.code})


def _statuses(text: str | None) -> tuple[AppointmentStatus, ...]:
    if not text:
        return ()
    known: dict[str, AppointmentStatus] = {s: s for s in get_args(AppointmentStatus)}
    wanted = list(dict.fromkeys(text.split(",")))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InvalidInput(f"Unknown status {unknown[0]!r}; use one of {', '.join(sorted(known))}.")
    return tuple(known[s] for s in wanted)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@staff_only(config.staff_group)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
