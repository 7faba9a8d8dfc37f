"""The review-request page from the review e-mails (HTML, not part of the JSON API): GET /r/{token},
POST /r/{token}/done, POST /r/{token}/stop; the routes are in ``bookbay.api.routes.review_links``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay import wiring
from bookbay.api.pages import use_html_errors
from bookbay.api.resolver import make_resolver
from bookbay.api.routes import review_links
from bookbay.config import BaseConfig
from bookbay.observability import logger, metrics, tracer

config = BaseConfig.from_env()
deps = wiring.review_links(config)
app = make_resolver(json_api=False)
use_html_errors(app)
review_links.register(app, deps, now=partial(datetime.now, UTC), public_base_url=config.public_base_url)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
