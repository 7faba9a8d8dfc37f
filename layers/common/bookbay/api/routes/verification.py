"""Public verification: POST /v1/verification/codes (send a one-time code),
POST /v1/verification/checks (check it; a verification token, and a returning customer's choices)
and POST /v1/identity/known-source (a known-source link plus one matching phone or e-mail).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body

from bookbay.api.errors import error_responses
from bookbay.api.schemas import (
    KnownSourceRequest,
    KnownSourceResponse,
    MaskedAddressOut,
    RecognizedCustomerOut,
    RecordChoiceOut,
    VerificationCheckRequest,
    VerificationCheckResponse,
    VerificationCodeAccepted,
    VerificationCodeRequest,
)
from bookbay.services import source_links, verification
from bookbay.services.verification import RecognizedCustomer, VerificationDeps


def register(app: APIGatewayRestResolver, deps: VerificationDeps, *, now: Callable[[], datetime]) -> None:
    """The verification routes on ``app``."""

    def source_ip() -> str:
        return app.current_event.request_context.identity.source_ip or "unknown"

    @app.post(
        "/v1/verification/codes",
        summary="Send a one-time verification code",
        description=(
            "Sends a 6-digit code, valid 10 minutes, by SMS or e-mail. The answer is the same whether or "
            "not the phone or e-mail belongs to a customer. At most 5 codes per destination in any 10 "
            "minutes, one every 30 seconds, and 20 per client address in any 10 minutes: past them, a 429 "
            "with `Retry-After` (when the oldest counted code leaves the window). SMS only to the shop's "
            "allowed countries (else a 422 `channel_not_offered`), and at most the shop's "
            "`sms_sends_per_hour` / `sms_sends_per_day` SMS codes in any 60 minutes / 24 hours: past them, "
            "a 409 `sms_unavailable` (ask for the code by e-mail; `GET /v1/shop` then offers e-mail only). "
            "A phone or e-mail locked by wrong codes (for this client address, or for all) gets the same "
            "202 and no code."
        ),
        tags=["verification"],
        responses={
            202: {
                "description": "The code is on its way",
                "content": {"application/json": {"model": VerificationCodeAccepted}},
            },
            **error_responses(400, 409, 415, 429, 503),
        },
    )
    def send_code(request: Annotated[VerificationCodeRequest, Body()]) -> Response[VerificationCodeAccepted]:
        sent = verification.send_code(
            deps, channel=request.channel, to=request.to, source_ip=source_ip(), now=now()
        )
        return Response(
            status_code=HTTPStatus.ACCEPTED,
            content_type=content_types.APPLICATION_JSON,
            body=VerificationCodeAccepted(expires_in=sent.expires_in, resend_after=sent.resend_after),
        )

    @app.post(
        "/v1/verification/checks",
        summary="Check a verification code",
        description=(
            "A right code gives a verification token (30 minutes) for booking; a phone or e-mail on file "
            "also gives the customer's first name, vehicles and masked addresses (only those in `zip` when "
            "given). A wrong code is a 400 `invalid_code`; an expired or used code, or one checked 5 times, "
            "a 410 `code_expired`. Past 10 wrong codes for a destination from one client address in any "
            "hour, that address (only) gets a 429 with `Retry-After` for it; past 30 from all addresses, "
            "every address does."
        ),
        tags=["verification"],
        responses={200: {"description": "Verified"}, **error_responses(400, 410, 415, 429)},
    )
    def check_code(request: Annotated[VerificationCheckRequest, Body()]) -> VerificationCheckResponse:
        passed = verification.check_code(
            deps, to=request.to, code=request.code, zip_code=request.zip, source_ip=source_ip(), now=now()
        )
        return VerificationCheckResponse(
            verification_token=passed.verification_token,
            expires_in=passed.expires_in,
            returning_customer=passed.customer is not None,
            customer=None if passed.customer is None else _customer_out(passed.customer),
        )

    @app.post(
        "/v1/identity/known-source",
        summary="Confirm a known-source link with one phone number or e-mail address",
        description=(
            "For a customer who came from a known-source link (a campaign or vehicle-profile link): "
            "`source_token` is the link's `src`, plus exactly ONE of `phone` / `email`. When it is on the "
            "link's customer's profile: a verification token (30 minutes) for booking without a code, the "
            "customer's first name, vehicles and masked addresses (only those in `zip` when given), and "
            "the link's vehicle to book without choosing again. Otherwise, and for an unknown, expired or "
            "locked link, the same 403 `identity_mismatch`; after 5 items that do not match, the link "
            "locks. Both or neither of `phone` / `email`: a 422."
        ),
        tags=["verification"],
        responses={200: {"description": "Confirmed"}, **error_responses(400, 403, 415)},
    )
    def check_known_source(request: Annotated[KnownSourceRequest, Body()]) -> KnownSourceResponse:
        passed = source_links.check_known_source(
            deps.source_links,
            deps.verification,
            deps.tokens,
            source_token=request.source_token,
            phone=request.phone,
            email=request.email,
            zip_code=request.zip,
            now=now(),
        )
        return KnownSourceResponse(
            verification_token=passed.verification_token,
            expires_in=passed.expires_in,
            customer=_customer_out(passed.customer),
            vehicle=None
            if passed.vehicle is None
            else RecordChoiceOut(id=passed.vehicle.id, label=passed.vehicle.label),
        )


def _customer_out(customer: RecognizedCustomer) -> RecognizedCustomerOut:
    return RecognizedCustomerOut(
        first_name=customer.first_name,
        vehicles=[RecordChoiceOut(id=c.id, label=c.label) for c in customer.vehicles],
        addresses=[MaskedAddressOut(id=c.id, masked=c.label) for c in customer.addresses],
    )
