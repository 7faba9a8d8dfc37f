"""Public verification: POST /v1/verification/codes (send a one-time code) and
POST /v1/verification/checks (check it; a verification token, and a returning customer's choices).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.api.errors import error_responses
from bookbay.api.resolver import make_resolver
from bookbay.api.schemas import (
    MaskedAddressOut,
    RecognizedCustomerOut,
    RecordChoiceOut,
    VerificationCheckRequest,
    VerificationCheckResponse,
    VerificationCodeAccepted,
    VerificationCodeRequest,
)
from bookbay.config import VerificationConfig
from bookbay.observability import logger, metrics, tracer
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.outbox import OutboxRepository
from bookbay.repositories.verification import VerificationRepository
from bookbay.services import verification
from bookbay.services.verification_tokens import VerificationTokens, secrets_manager_source

config = VerificationConfig.from_env()
catalog_repo = CatalogRepository(config.table_name, config.region, cache_seconds=config.catalog_cache_seconds)
verification_repo = VerificationRepository(config.table_name, config.region)
outbox_repo = OutboxRepository(config.table_name, config.region)
tokens = VerificationTokens(secrets_manager_source(config.signing_key_secret_arn))
clock: Callable[[], datetime] = partial(datetime.now, UTC)
app = make_resolver()


@app.post(
    "/v1/verification/codes",
    summary="Send a one-time verification code",
    description=(
        "Sends a 6-digit code, valid 10 minutes, by SMS or e-mail. The answer is the same whether or "
        "not the phone or e-mail belongs to a customer. At most 5 codes per destination in 10 minutes, "
        "one every 30 seconds, and a cap per client address: past them, a 429 with `Retry-After`. "
        "SMS only to the shop's allowed countries (else a 422 `channel_not_offered`)."
    ),
    tags=["verification"],
    responses={
        202: {
            "description": "The code is on its way",
            "content": {"application/json": {"model": VerificationCodeAccepted}},
        },
        **error_responses(400, 415, 429, 503),
    },
)
def send_code(request: Annotated[VerificationCodeRequest, Body()]) -> Response[VerificationCodeAccepted]:
    sent = verification.send_code(
        catalog_repo.catalog(),
        verification_repo,
        outbox_repo,
        tokens,
        channel=request.channel,
        to=request.to,
        source_ip=app.current_event.request_context.identity.source_ip or "unknown",
        now=clock(),
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
        "a 410 `code_expired`; too many wrong codes for a destination, a 429 with `Retry-After`."
    ),
    tags=["verification"],
    responses={200: {"description": "Verified"}, **error_responses(400, 410, 415, 429)},
)
def check_code(request: Annotated[VerificationCheckRequest, Body()]) -> VerificationCheckResponse:
    passed = verification.check_code(
        verification_repo, tokens, to=request.to, code=request.code, zip_code=request.zip, now=clock()
    )
    customer = passed.customer
    return VerificationCheckResponse(
        verification_token=passed.verification_token,
        expires_in=passed.expires_in,
        returning_customer=customer is not None,
        customer=None
        if customer is None
        else RecognizedCustomerOut(
            first_name=customer.first_name,
            vehicles=[RecordChoiceOut(id=c.id, label=c.label) for c in customer.vehicles],
            addresses=[MaskedAddressOut(id=c.id, masked=c.label) for c in customer.addresses],
        ),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
