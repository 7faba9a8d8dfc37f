"""Staff API: GET and PATCH /v1/admin/settings, the shop's settings (Cognito authorizer + staff
group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from bookbay.api.auth import STAFF_SECURITY
from bookbay.api.errors import error_responses
from bookbay.api.schemas import SettingsPatch, SettingsResponse
from bookbay.observability import logger
from bookbay.services import settings

if TYPE_CHECKING:
    from bookbay.repositories.catalog import CatalogRepository


def register(app: APIGatewayRestResolver, repo: CatalogRepository) -> None:
    """The settings routes on ``app`` (the staff group is checked by the handler's middleware);
    ``repo``: the catalog, which holds the settings."""

    @app.get(
        "/v1/admin/settings",
        summary="The shop's settings",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "Settings"}, **error_responses(401, 403, 503)},
    )
    def get_settings() -> SettingsResponse:
        current, version = settings.read_settings(repo)
        return SettingsResponse(settings=current, version=version)

    @app.patch(
        "/v1/admin/settings",
        summary="Change some settings",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            200: {"description": "The settings after the change"},
            **error_responses(400, 401, 403, 409, 415, 503),
        },
    )
    def patch_settings(body: SettingsPatch) -> SettingsResponse:
        updated, version = settings.update_settings(repo, body.changes, version=body.version)
        logger.info("settings changed", extra={"fields": sorted(body.changes), "version": version})
        return SettingsResponse(settings=updated, version=version)
