"""GET /swagger (Swagger UI; ?format=json for the OpenAPI document) and its two static assets."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from bookbay.api import docs
from bookbay.exceptions import NotFound


def register(app: APIGatewayRestResolver) -> None:
    """The docs routes on ``app``; they need no dependencies."""

    @app.get("/swagger", include_in_schema=False)
    def swagger(format: Annotated[str | None, Query(pattern="^(json|html)$")] = None) -> Response[str]:
        base = _base_path(app)
        spec = docs.openapi_json(base or "/")
        if format == "json":
            return Response(200, content_types.APPLICATION_JSON, spec)
        return Response(
            200,
            "text/html; charset=utf-8",
            docs.swagger_page(spec, f"{base}/swagger"),
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/swagger/<asset>", include_in_schema=False)
    def swagger_asset(asset: Annotated[str, Path(max_length=64)]) -> Response[str]:
        body = docs.swagger_asset(asset)
        if body is None:
            raise NotFound(f"There is no Swagger UI asset {asset!r}.")
        return Response(
            200, docs.SWAGGER_ASSETS[asset], body, headers={"Cache-Control": "public, max-age=86400"}
        )


def _base_path(app: APIGatewayRestResolver) -> str:
    """ "/<stage>" when called through the execute-api URL, "" behind a custom domain or locally."""
    context = app.current_event.request_context
    stage = context.stage or ""
    request_path = app.current_event.raw_event.get("requestContext", {}).get("path") or ""
    return f"/{stage}" if stage and request_path.startswith(f"/{stage}/") else ""
