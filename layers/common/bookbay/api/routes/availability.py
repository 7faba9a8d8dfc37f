"""Public availability: GET /v1/availability (the bookable slots of a service at a location)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from bookbay.api.errors import error_responses
from bookbay.api.schemas import AvailabilityResponse, AvailableSlotOut
from bookbay.services.availability import AvailabilityDeps, find_availability
from bookbay.types import SLUG_PATTERN, ZIP_PATTERN, AppointmentType

DEFAULT_DAYS = 7
MAX_DAYS = 365  # the largest horizon a shop may set; the shop's own horizon is checked by the service


def register(app: APIGatewayRestResolver, deps: AvailabilityDeps, *, now: Callable[[], datetime]) -> None:
    """The availability route on ``app``."""

    @app.get(
        "/v1/availability",
        summary="Bookable slots of a service at a location",
        description=(
            "Only starts the service can be booked at now: inside opening hours, not on closed days or "
            "holidays, after the lead time, within the booking horizon, with every slot it needs free."
        ),
        tags=["availability"],
        responses={200: {"description": "The bookable slots"}, **error_responses(404, 503)},
    )
    def get_availability(
        location_id: Annotated[str, Query(pattern=SLUG_PATTERN, description="Location id")],
        service_id: Annotated[str, Query(pattern=SLUG_PATTERN, description="Service id")],
        appointment_type: Annotated[AppointmentType, Query(description="in_store, online or at_home")],
        from_day: Annotated[
            date | None,
            Query(alias="from", description="First day (YYYY-MM-DD, local); default: today at the location"),
        ] = None,
        days: Annotated[
            int, Query(ge=1, le=MAX_DAYS, description="How many days; at most the shop's booking horizon")
        ] = DEFAULT_DAYS,
        zip_code: Annotated[
            str | None,
            Query(
                alias="zip", pattern=ZIP_PATTERN, description="The customer's ZIP code (needed for at_home)"
            ),
        ] = None,
    ) -> AvailabilityResponse:
        timezone, slots = find_availability(
            deps.catalog,
            deps.availability,
            location_id=location_id,
            service_id=service_id,
            appointment_type=appointment_type,
            start_day=from_day,
            days=days,
            customer_zip=zip_code,
            now=now(),
        )
        return AvailabilityResponse(timezone=timezone, slots=[AvailableSlotOut.of(slot) for slot in slots])
