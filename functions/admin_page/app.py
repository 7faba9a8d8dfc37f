"""The staff admin page: GET /admin, its sign-in settings GET /admin/config.json, and its script and
style sheet GET /admin/assets/{name} (content-hashed names). The page is public and holds no data:
the browser signs staff in and calls the staff API with the token. The function reads nothing
from the table; with Cognito sign-in it looks up the app client's id once per container."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookbay.adapters.cognito import CognitoAppClients
from bookbay.api import admin_page
from bookbay.api.admin_page import AdminPageConfig, SignInConfig
from bookbay.api.page_assets import stage_prefix
from bookbay.api.pages import use_html_errors
from bookbay.api.resolver import error_response, make_resolver, status_for
from bookbay.exceptions import SignInNotConfigured
from bookbay.observability import logger, metrics, tracer

config = AdminPageConfig.from_env()
sign_in = admin_page.SignIn(config, lambda: CognitoAppClients(config.region))
app = make_resolver(json_api=False)
use_html_errors(app)

AssetName = Annotated[str, Path(description="A served asset name, e.g. admin.<hash>.js")]


@app.exception_handler(SignInNotConfigured)  # type: ignore[untyped-decorator]
def _sign_in_not_configured(error: SignInNotConfigured) -> Response[str]:
    # config.json is read by the page's script: a JSON error, not the HTML error page.
    return error_response(status_for(error), error.code, error.message)


@app.get("/admin", include_in_schema=False)
def page() -> Response[str]:
    return admin_page.page_response(config, stage_prefix(app.current_event.raw_event))


@app.get("/admin/config.json", include_in_schema=False)
def sign_in_config() -> SignInConfig:
    return sign_in.settings()


@app.get("/admin/assets/<name>", include_in_schema=False)
def asset(name: AssetName) -> Response[str]:
    return admin_page.asset_response(config, name)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
