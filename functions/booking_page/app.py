"""The hosted booking page: GET /book (and /book?src=<token>, a known-source link) and its script
and style sheet, GET /book/assets/{name}; the routes are in ``bookbay.api.routes.booking_page``.
The page calls the public API from the browser; this function reads nothing from the table (no IAM
policy, no config)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.api.pages import use_html_errors
from bookbay.api.resolver import make_resolver
from bookbay.api.routes import booking_page
from bookbay.observability import logger, metrics, tracer

app = make_resolver(json_api=False)
use_html_errors(app)
booking_page.register(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
