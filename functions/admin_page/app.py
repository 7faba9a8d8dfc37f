"""The staff admin page: GET /admin, its sign-in settings GET /admin/config.json, and its script and
style sheet GET /admin/assets/{name}; the routes are in ``bookbay.api.routes.admin_page``. The
function reads nothing from the table; with Cognito sign-in it looks up the app client's id once
per container."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.pages import use_html_errors
from bookbay.api.resolver import make_resolver
from bookbay.api.routes import admin_page
from bookbay.config import AdminPageConfig
from bookbay.observability import logger, metrics, tracer

config = AdminPageConfig.from_env()
deps = wiring.admin_page(config)
app = make_resolver(json_api=False)
use_html_errors(app)
admin_page.register(app, deps, config=config)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
