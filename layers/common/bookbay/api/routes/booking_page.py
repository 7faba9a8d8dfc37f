"""The hosted booking page: GET /book (and /book?src=<token>, a known-source link) and its script
and style sheet, GET /book/assets/{name} (content-hashed names). The page calls the public API from
the browser; its function reads nothing from the table."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from bookbay.api import booking_page

AssetName = Annotated[str, Path(description="A served asset name, e.g. book.<hash>.js")]


def register(app: APIGatewayRestResolver) -> None:
    """The booking page's routes on ``app`` (whose errors are pages); it needs no dependencies."""

    @app.get("/book", include_in_schema=False)
    def book() -> Response[str]:
        event = app.current_event
        return booking_page.page_response(
            booking_page.stage_prefix(event.raw_event), known_source=bool(event.get_query_string_value("src"))
        )

    @app.get("/book/assets/<name>", include_in_schema=False)
    def book_asset(name: AssetName) -> Response[str]:
        return booking_page.asset_response(name)
