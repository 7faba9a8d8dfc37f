"""Staff API: GET and PATCH /v1/admin/settings, GET /v1/admin/settings/history (Cognito authorizer
+ staff group; owner-only settings need OWNER_GROUP); the routes are in
``bookbay.api.routes.admin_settings``."""

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
from bookbay.api.routes import admin_settings
from bookbay.config import SettingsApiConfig
from bookbay.observability import logger, metrics, tracer

config = SettingsApiConfig.from_env()
deps = wiring.admin_settings(config)
clock: Callable[[], datetime] = partial(datetime.now, UTC)
app = make_resolver()
app.use([require_staff(config.staff_group, issuer=config.staff_token_issuer)])
admin_settings.register(app, deps, owner_group=config.owner_group, now=lambda: clock())  # noqa: PLW0108


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@staff_only(config.staff_group, issuer=config.staff_token_issuer)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
