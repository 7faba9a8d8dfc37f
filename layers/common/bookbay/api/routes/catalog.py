"""Public catalog: GET /v1/shop, GET /v1/locations[?near=ZIP], GET /v1/locations/{location_id}."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from bookbay.api.errors import error_responses
from bookbay.api.schemas import (
    LocationOut,
    LocationResponse,
    LocationsResponse,
    ServiceOut,
    ShopOut,
    ShopResponse,
)
from bookbay.services import catalog
from bookbay.services.catalog import CatalogDeps
from bookbay.types import SLUG_PATTERN, ZIP_PATTERN


def register(app: APIGatewayRestResolver, deps: CatalogDeps, *, now: Callable[[], datetime]) -> None:
    """The catalog routes on ``app`` (the clock: whether the shop's SMS cap holds now)."""
    repo = deps.catalog

    @app.get(
        "/v1/shop",
        summary="The shop, its locations and services",
        description=(
            "`shop.verification_channels`: the channels one-time codes are offered over now; while the "
            "shop's cap on SMS codes holds (`sms_sends_per_hour` / `sms_sends_per_day`), e-mail only."
        ),
        tags=["catalog"],
        responses={200: {"description": "The shop"}, **error_responses(503)},
    )
    def get_shop() -> ShopResponse:
        found = catalog.get_catalog(repo)
        return ShopResponse(
            shop=ShopOut.of(found.shop, catalog.offered_channels(deps, found.shop, now())),
            locations=[LocationOut.of(loc) for loc in found.locations],
            services=[ServiceOut.of(svc) for svc in found.services],
        )

    @app.get(
        "/v1/locations",
        summary="Locations, nearest first to a ZIP code",
        tags=["catalog"],
        responses={200: {"description": "Locations"}, **error_responses(503)},
    )
    def list_locations(
        near: Annotated[
            str | None,
            Query(pattern=ZIP_PATTERN, description="US ZIP code; sorts by distance from its centroid"),
        ] = None,
    ) -> LocationsResponse:
        if near is None:
            return LocationsResponse(
                locations=[LocationOut.of(loc) for loc in catalog.get_catalog(repo).locations]
            )
        return LocationsResponse(
            locations=[
                LocationOut.of(n.location, n.distance_miles) for n in catalog.locations_near(repo, near)
            ]
        )

    @app.get(
        "/v1/locations/<location_id>",
        summary="One location",
        tags=["catalog"],
        responses={200: {"description": "The location"}, **error_responses(404, 503)},
    )
    def get_location(
        location_id: Annotated[str, Path(pattern=SLUG_PATTERN, description="Location id")],
    ) -> LocationResponse:
        return LocationResponse(location=LocationOut.of(catalog.get_location(repo, location_id)))
