"""Staff API: the flagged-customer list (Cognito authorizer + staff group); the routes are in
``bookbay.api.routes.admin_flags``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.auth import require_staff, staff_only
from bookbay.api.resolver import make_resolver
from bookbay.api.routes import admin_flags
from bookbay.config import StaffApiConfig
from bookbay.observability import logger, metrics, tracer

config = StaffApiConfig.from_env()
deps = wiring.admin_flags(config)
clock: Callable[[], datetime] = partial(datetime.now, UTC)
app = make_resolver()
app.use([require_staff(config.staff_group, issuer=config.staff_token_issuer)])
admin_flags.register(app, deps, now=lambda: clock())  # noqa: PLW0108 - clock read per call (tests set it)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@staff_only(config.staff_group, issuer=config.staff_token_issuer)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
