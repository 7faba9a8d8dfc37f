"""The hosted booking page: GET /book (and /book?src=<token>, a known-source link) and its script
and style sheet, GET /book/assets/{name} (content-hashed names). The page calls the public API from
the browser; this function reads nothing from the table (no IAM policy)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.api import booking_page
from bookbay.api.pages import use_html_errors
from bookbay.api.resolver import make_resolver
from bookbay.observability import logger, metrics, tracer

app = make_resolver(json_api=False)
use_html_errors(app)

AssetName = Annotated[str, Path(description="A served asset name, e.g. book.<hash>.js")]


@app.get("/book", include_in_schema=False)
def book() -> Response[str]:
    event = app.current_event
    return booking_page.page_response(
        booking_page.stage_prefix(event.raw_event), known_source=bool(event.get_query_string_value("src"))
    )


@app.get("/book/assets/<name>", include_in_schema=False)
def book_asset(name: AssetName) -> Response[str]:
    return booking_page.asset_response(name)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
