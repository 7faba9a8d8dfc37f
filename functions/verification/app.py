"""Public verification: one-time codes, their checks and known-source links; the routes are in
``bookbay.api.routes.verification``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.resolver import make_resolver
from bookbay.api.routes import verification
from bookbay.config import VerificationConfig
from bookbay.observability import logger, metrics, tracer

config = VerificationConfig.from_env()
deps = wiring.verification(config)
clock: Callable[[], datetime] = partial(datetime.now, UTC)
app = make_resolver()
verification.register(app, deps, now=lambda: clock())  # noqa: PLW0108 - clock read per call (tests set it)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
