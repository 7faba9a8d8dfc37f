"""The review-request page from the review e-mails (HTML, not part of the JSON API): GET /r/{token}
(the shop's review site, "I left a review", "Stop these e-mails"), POST /r/{token}/done,
POST /r/{token}/stop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from bookbay.api.pages import page, read_form, require_same_origin
from bookbay.services import links, review_requests
from bookbay.services.review_requests import ReviewPageDeps, ReviewView

Token = Annotated[
    str, Path(description="The link token from the e-mail (checked by the service: 404 when malformed)")
]


def register(
    app: APIGatewayRestResolver,
    deps: ReviewPageDeps,
    *,
    now: Callable[[], datetime],
    public_base_url: str,
) -> None:
    """The /r/ pages on ``app`` (whose errors are pages: ``bookbay.api.pages.use_html_errors``);
    ``public_base_url`` is the configured PublicBaseUrl."""

    @app.get("/r/<token>", include_in_schema=False)
    def review_page(token: Token) -> Response[str]:
        # This page is /r/<token>: its forms post to /r/<token>/<action>.
        return _render(review_requests.show(deps, token, now()), action_base=f"{token}/")

    @app.post("/r/<token>/done", include_in_schema=False)
    def review_done(token: Token) -> Response[str]:
        _check_form()
        return _render(review_requests.mark_done(deps, token, now()))

    @app.post("/r/<token>/stop", include_in_schema=False)
    def review_stop(token: Token) -> Response[str]:
        _check_form()
        return _render(review_requests.opt_out(deps, token, now()))

    def _check_form() -> None:
        read_form(app)
        require_same_origin(app, links.public_base_url(public_base_url))


def _render(view: ReviewView, *, action_base: str = "") -> Response[str]:
    """The page for ``view``. Pages at /r/<token>/<action> post to their siblings."""
    return page(HTTPStatus.OK, "pages/review.html", view=view, action_base=action_base)
