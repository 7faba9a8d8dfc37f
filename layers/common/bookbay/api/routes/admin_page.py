"""The staff admin page: GET /admin, its sign-in settings GET /admin/config.json, and its script and
style sheet GET /admin/assets/{name} (content-hashed names). The page is public and holds no data:
the browser signs staff in and calls the staff API with the token."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from bookbay.api import admin_page
from bookbay.api.page_assets import stage_prefix
from bookbay.api.resolver import error_response, status_for
from bookbay.config import AdminPageConfig, SignInConfig
from bookbay.exceptions import SignInNotConfigured
from bookbay.services.staff_sign_in import SignIn

AssetName = Annotated[str, Path(description="A served asset name, e.g. admin.<hash>.js")]


def register(app: APIGatewayRestResolver, deps: SignIn, *, config: AdminPageConfig) -> None:
    """The admin page's routes on ``app`` (whose errors are pages, but config.json's are JSON)."""

    @app.exception_handler(SignInNotConfigured)  # type: ignore[untyped-decorator]
    def _sign_in_not_configured(error: SignInNotConfigured) -> Response[str]:
        # config.json is read by the page's script: a JSON error, not the HTML error page.
        return error_response(status_for(error), error.code, error.message)

    @app.get("/admin", include_in_schema=False)
    def page() -> Response[str]:
        return admin_page.page_response(config, stage_prefix(app.current_event.raw_event))

    @app.get("/admin/config.json", include_in_schema=False)
    def sign_in_config() -> SignInConfig:
        return deps.settings()

    @app.get("/admin/assets/<name>", include_in_schema=False)
    def asset(name: AssetName) -> Response[str]:
        return admin_page.asset_response(config, name)
