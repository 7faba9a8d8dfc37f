"""The review-request page from the review e-mails (HTML, not part of the JSON API): GET /r/{token}
(the shop's review site, "I left a review", "Stop these e-mails"), POST /r/{token}/done,
POST /r/{token}/stop."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.api.pages import page, read_form, require_same_origin, use_html_errors
from bookbay.api.resolver import make_resolver
from bookbay.config import BaseConfig
from bookbay.observability import logger, metrics, tracer
from bookbay.repositories.appointments import AppointmentRepository
from bookbay.repositories.catalog import CatalogRepository
from bookbay.repositories.review_requests import ReviewRequestRepository
from bookbay.services import review_requests
from bookbay.services.links import public_base_url
from bookbay.services.review_requests import ReviewPageDeps, ReviewView

config = BaseConfig.from_env()
deps = ReviewPageDeps(
    appointments=AppointmentRepository(config.table_name, config.region),
    catalog=CatalogRepository(config.table_name, config.region, cache_seconds=config.catalog_cache_seconds),
    requests=ReviewRequestRepository(config.table_name, config.region),
)
app = make_resolver(json_api=False)
use_html_errors(app)

Token = Annotated[
    str, Path(description="The link token from the e-mail (checked by the service: 404 when malformed)")
]


@app.get("/r/<token>", include_in_schema=False)
def review_page(token: Token) -> Response[str]:
    # This page is /r/<token>: its forms post to /r/<token>/<action>.
    return _render(review_requests.show(deps, token, datetime.now(UTC)), action_base=f"{token}/")


@app.post("/r/<token>/done", include_in_schema=False)
def review_done(token: Token) -> Response[str]:
    _check_form()
    return _render(review_requests.mark_done(deps, token, datetime.now(UTC)))


@app.post("/r/<token>/stop", include_in_schema=False)
def review_stop(token: Token) -> Response[str]:
    _check_form()
    return _render(review_requests.opt_out(deps, token, datetime.now(UTC)))


def _check_form() -> None:
    read_form(app)
    require_same_origin(app, public_base_url(config.public_base_url, deps.catalog.catalog().shop.settings))


def _render(view: ReviewView, *, action_base: str = "") -> Response[str]:
    """The page for ``view``. Pages at /r/<token>/<action> post to their siblings."""
    return page(HTTPStatus.OK, "pages/review.html", view=view, action_base=action_base)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
