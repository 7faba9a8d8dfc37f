"""Staff API: GET and PATCH /v1/admin/settings (Cognito authorizer + staff group)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.api.auth import STAFF_SECURITY, require_staff, staff_only
from bookbay.api.errors import error_responses
from bookbay.api.resolver import make_resolver
from bookbay.api.schemas import SettingsPatch, SettingsResponse
from bookbay.config import StaffApiConfig
from bookbay.observability import logger, metrics, tracer
from bookbay.repositories.catalog import CatalogRepository
from bookbay.services import settings

config = StaffApiConfig.from_env()
repo = CatalogRepository(config.table_name, config.region)
app = make_resolver()
app.use([require_staff(config.staff_group)])


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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@staff_only(config.staff_group)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
