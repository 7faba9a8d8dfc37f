"""GET /swagger (Swagger UI; ?format=json for the OpenAPI document) and its two static assets; the
routes are in ``bookbay.api.routes.docs``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.api.resolver import make_resolver
from bookbay.api.routes import docs
from bookbay.observability import logger, metrics, tracer

app = make_resolver()
docs.register(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
