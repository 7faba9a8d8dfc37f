"""Public booking: POST /v1/appointments, idempotent on the ``Idempotency-Key`` header.

Powertools idempotency keeps each key's first answer (in IdempotencyTable): a replay with the same
body gets the same 201 again without booking twice; the same key with another body is a 422
``idempotency_key_reused``; a replay while the first request still runs is a 409
``request_in_progress``. Refusals (4xx) are not kept: retrying one runs the booking again.
A record is keyed on a stable prefix, the verified caller and the key (bookbay.api.idempotency), never
on the module's name: every container shares it, and another caller's replay of a key is a booking
of its own, never the first caller's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from bookbay.api.errors import error_responses
from bookbay.api.idempotency import EVENT_KEY, KEY_PREFIX, caller_of
from bookbay.api.schemas import IDEMPOTENCY_KEY_PATTERN, AppointmentOut, BookingResponse
from bookbay.domain.booking_request import BookingRequest
from bookbay.exceptions import IdempotencyKeyReused, RequestInProgress
from bookbay.services import booking
from bookbay.services.booking import BookingDeps

IDEMPOTENCY_HOURS = 24


def idempotency_config() -> IdempotencyConfig:
    """How long a booking's answer is kept, and what a replay must repeat (the key, the caller, the
    body). The handler registers each invocation's context on it."""
    return IdempotencyConfig(
        event_key_jmespath=EVENT_KEY,
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_HOURS * 3600,
    )


def register(
    app: APIGatewayRestResolver,
    deps: BookingDeps,
    *,
    now: Callable[[], datetime],
    idempotency: IdempotencyConfig,
) -> None:
    """The booking route on ``app``; each booking attempt's answer is kept in
    ``deps.idempotency_store`` under ``idempotency``."""

    def _book(*, attempt: dict[str, Any], verification_token: str | None) -> dict[str, Any]:
        """The booking for ``attempt`` = {key, caller, body}: run once per key and caller, its answer
        kept for replays."""
        result = booking.book(
            BookingRequest.model_validate(attempt["body"]),
            now=now(),
            catalog_repo=deps.catalog,
            booking_repo=deps.booking,
            availability_repo=deps.availability,
            configured_base_url=deps.public_base_url,
            verification_token=verification_token,
            tokens=deps.tokens,
        )
        answer = BookingResponse(
            appointment=AppointmentOut.of(result.appointment), manage_url=result.manage_url
        )
        return answer.model_dump(mode="json")

    book_once: Callable[..., dict[str, Any]] = idempotent_function(
        _book,
        data_keyword_argument="attempt",
        persistence_store=deps.idempotency_store,
        config=idempotency,
        key_prefix=KEY_PREFIX,
    )

    @app.post(
        "/v1/appointments",
        summary="Book an appointment",
        description=(
            "Books the slot and sends the confirmation e-mails. With a verification token (from "
            "`/v1/verification/checks` or `/v1/identity/known-source`) the booking goes on the verified "
            "customer, who may leave out `customer` and (known-source link) the vehicle; a new customer's "
            "verified phone or e-mail becomes the profile. Without one (shops that do not require "
            "verification; else a 401 `verification_required`) the customer is recognized by phone, then "
            "e-mail. What differs from the record becomes a proposed change for staff. With the shop's "
            "takeover setting on, an unrecognized booker at an address on file books on that address's "
            "customer, with a note for staff. Do Not Service is told only to a booker verified as that "
            "customer: a 403 `booking_not_available` with the store's phone. Any other booking that lands "
            "on a Do Not Service customer (unverified, recognized by phone or e-mail; a takeover of their "
            "address) is answered as anyone's request: 201 status `requested` with a manage link that "
            "works as any request's (nothing it does confirms it) and the customer's usual e-mail, while "
            "staff get it marked `do_not_service` to review. A shop in request mode answers status "
            "`requested` (staff confirm), in instant mode `confirmed`, except such a request: in instant "
            "mode with `require_verification` off its `requested` is the one sign left (see the README). "
            "A taken slot is a 409 `slot_unavailable` with the next free "
            "`alternatives`. Send a unique `Idempotency-Key` per booking: retrying with it returns the "
            "first answer and never books twice."
        ),
        tags=["booking"],
        responses={
            201: {
                "description": "Booked",
                "content": {"application/json": {"model": BookingResponse}},
            },
            **error_responses(400, 401, 403, 404, 409, 415, 503),
        },
    )
    def create_appointment(
        request: Annotated[BookingRequest, Body()],
        idempotency_key: Annotated[
            str,
            Header(
                alias="Idempotency-Key",
                pattern=IDEMPOTENCY_KEY_PATTERN,
                description="A unique key per booking (8-100 characters, e.g. a UUID); retries reuse it",
            ),
        ],
        authorization: Annotated[
            str | None,
            Header(
                alias="Authorization",
                description="`Bearer <verification_token>` from a verified phone or e-mail (optional)",
            ),
        ] = None,
    ) -> Response[BookingResponse]:
        verification_token = _bearer(authorization)
        attempt = {
            "key": idempotency_key,
            "caller": caller_of(verification_token, deps.tokens, now()),
            "body": request.model_dump(mode="json"),
        }
        try:
            answer = book_once(attempt=attempt, verification_token=verification_token)
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different booking; use a new key for a new booking."
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise RequestInProgress(
                "A booking with this Idempotency-Key is still being made; retry in a moment."
            ) from exc
        return Response(
            status_code=HTTPStatus.CREATED,
            content_type=content_types.APPLICATION_JSON,
            body=BookingResponse.model_validate(answer),
        )


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None
