"""Staff API: GET and PATCH /v1/admin/settings, the shop's settings, and GET
/v1/admin/settings/history, who changed them (Cognito authorizer + staff group; the owner-only
settings also need the owner group)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit

from bookbay.api.auth import STAFF_SECURITY, staff_actor, staff_in_group
from bookbay.api.errors import error_responses
from bookbay.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from bookbay.api.schemas import SettingsHistoryResponse, SettingsPatch, SettingsResponse
from bookbay.domain.catalog import ShopSettings
from bookbay.observability import logger, metrics
from bookbay.services import settings

if TYPE_CHECKING:
    from bookbay.services.settings import SettingsDeps

# Every settings change; and one whose fields include an owner-only one (the template's alarm
# watches this one: mail routing, addresses or security changed).
CHANGED_METRIC = "SettingsChanged"
SECURITY_CHANGED_METRIC = "SecuritySettingsChanged"
OWNER_ONLY_FIELDS = sorted(settings.OWNER_ONLY & set(ShopSettings.model_fields))


def register(
    app: APIGatewayRestResolver, deps: SettingsDeps, *, owner_group: str, now: Callable[[], datetime]
) -> None:
    """The settings routes on ``app`` (the staff group is checked by the handler's middleware);
    members of ``owner_group`` may also change the owner-only settings."""

    def answer(current: ShopSettings, version: int) -> SettingsResponse:
        return SettingsResponse(
            settings=current,
            version=version,
            owner_only=OWNER_ONLY_FIELDS,
            owner=staff_in_group(app, owner_group),
        )

    @app.get(
        "/v1/admin/settings",
        summary="The shop's settings",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "Settings"}, **error_responses(401, 403, 503)},
    )
    def get_settings() -> SettingsResponse:
        current, version = settings.read_settings(deps.catalog)
        return answer(current, version)

    @app.patch(
        "/v1/admin/settings",
        summary="Change some settings",
        description="Absent settings keep their value; nested objects are replaced whole. Settings in "
        "`owner_only` (mail routing, notification addresses, security) need the owner group: anyone "
        "else naming one gets 403 `owner_required` naming them, and nothing changes. "
        "`public_base_url` is not a setting (the stack's PublicBaseUrl parameter): a 422. A change is "
        "stored with its audit entry (GET /v1/admin/settings/history) in the same write; one that "
        "changes no value writes nothing.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={
            200: {"description": "The settings after the change"},
            **error_responses(400, 401, 403, 409, 415, 503),
        },
    )
    def patch_settings(body: SettingsPatch) -> SettingsResponse:
        done = settings.update_settings(
            deps,
            body.changes,
            version=body.version,
            actor=staff_actor(app),
            owner=staff_in_group(app, owner_group),
            now=now(),
        )
        if done.changed:
            metrics.add_metric(name=CHANGED_METRIC, unit=MetricUnit.Count, value=1)
            if done.owner_only:
                metrics.add_metric(name=SECURITY_CHANGED_METRIC, unit=MetricUnit.Count, value=1)
        logger.info(
            "settings changed" if done.changed else "settings unchanged",
            extra={
                "fields": sorted(done.changed),
                "owner_only": sorted(done.owner_only),
                "version": done.version,
            },
        )
        return answer(done.settings, done.version)

    @app.get(
        "/v1/admin/settings/history",
        summary="Who changed the settings",
        description="Every change of the settings, newest first: the staff member (`actor.sub`, "
        "`actor.email`), when, and each changed field before and after. Pass the answer's `next_cursor` "
        "as `cursor` for the next page; a cursor that is not one is a 400 `invalid_cursor`.",
        tags=["admin"],
        security=STAFF_SECURITY,
        responses={200: {"description": "A page of changes"}, **error_responses(400, 401, 403, 503)},
    )
    def settings_history(
        cursor: Annotated[
            str | None, Query(max_length=4000, description="`next_cursor` of the previous page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Changes per page")] = DEFAULT_LIMIT,
    ) -> SettingsHistoryResponse:
        page = settings.history(deps, limit=limit, cursor=cursor)
        return SettingsHistoryResponse(history=page.entries, next_cursor=page.next_cursor)
