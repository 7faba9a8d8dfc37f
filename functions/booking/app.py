"""Public booking: POST /v1/appointments, idempotent on the ``Idempotency-Key`` header; the route
(and how its idempotency records are keyed: a stable prefix and the verified caller, never the
module's name) is in ``bookbay.api.routes.booking``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.resolver import make_resolver
from bookbay.api.routes import booking
from bookbay.config import BookingConfig
from bookbay.observability import logger, metrics, tracer

config = BookingConfig.from_env()
deps = wiring.booking(config)
idempotency = booking.idempotency_config()
clock: Callable[[], datetime] = partial(datetime.now, UTC)
app = make_resolver()
booking.register(
    app,
    deps,
    now=lambda: clock(),  # noqa: PLW0108 - clock read per call (tests set it)
    idempotency=idempotency,
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
