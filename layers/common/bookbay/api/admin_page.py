"""The staff admin page: one HTML page plus its own script and style sheet, no inline code.

The page (``templates/admin/admin.html``) is public and holds no data: ``admin.js`` (a vanilla ES
module) signs staff in and then works the appointments, flags, review queue, customers and
settings through the staff API (``/v1/admin``) with ``Authorization: Bearer <token>``, keeping the
token in ``sessionStorage`` only. How it signs in comes from ``GET /admin/config.json``:

- ``cognito`` (in AWS): the user pool's hosted UI, authorization code with PKCE; the browser
  exchanges the code at the hosted UI's token endpoint, so that origin is the one the CSP adds to
  ``connect-src``. The app client's id is looked up by name (see ``bookbay.adapters.cognito``).
- ``local`` (the local stack sets ``ADMIN_SIGN_IN=local``): the stand-in's ``POST /_local/token``.

The script and the style sheet are served by content hash (``bookbay.api.page_assets``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from bookbay.adapters.cognito import AppClientLookupError, AppClients
from bookbay.api.page_assets import (
    AssetBundle,
    html_response,
    script_page_csp,
    security_headers,
)
from bookbay.config import BaseConfig
from bookbay.exceptions import SignInNotConfigured
from bookbay.observability import logger
from bookbay.templates import TEMPLATE_DIR, render

PAGE_TEMPLATE = "admin/admin.html"
BUNDLE = AssetBundle(TEMPLATE_DIR / "admin", ("admin.js", "admin.css"), "/admin/assets")
SCOPES = ("openid", "email")
LOCAL_TOKEN_PATH = "/_local/token"  # noqa: S105 - a route, not a secret
# The page holds no data, but the hosted UI sends staff back to it with a one-time code in the
# query string: nothing of it is stored anywhere, and it is never indexed.
PAGE_CACHE = "no-store"
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")  # a bare host: no scheme, path, port

SignInMode = Literal["cognito", "local"]


class AdminPageConfig(BaseConfig):
    """The admin page function. ``ADMIN_SIGN_IN``: ``cognito`` (the template) or ``local`` (the
    local stack); with cognito, the user pool, its app client's name and the hosted UI's domain."""

    admin_sign_in: SignInMode
    staff_user_pool_id: str = Field(default="", max_length=55, validate_default=True)
    staff_app_client_name: str = Field(default="", max_length=128, validate_default=True)
    staff_sign_in_domain: str = Field(
        default="",
        max_length=253,
        validate_default=True,
        description="The hosted UI's host, <prefix>.auth.<region>.amazoncognito.com",
    )

    # Field validators (not one model validator), so a cold start that fails names the variable.
    @field_validator("staff_user_pool_id", "staff_app_client_name", "staff_sign_in_domain")
    @classmethod
    def _needed_with_cognito(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("admin_sign_in") == "cognito" and not value:
            raise ValueError("required with ADMIN_SIGN_IN=cognito")
        return value

    @field_validator("staff_sign_in_domain")
    @classmethod
    def _host(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("admin_sign_in") == "cognito" and value and not _HOST.match(value):
            raise ValueError("a host name, without https:// or a path")
        return value

    @property
    def sign_in_origin(self) -> str | None:
        """The hosted UI's origin (the page posts the code there), None locally."""
        return f"https://{self.staff_sign_in_domain}" if self.admin_sign_in == "cognito" else None


class SignInConfig(BaseModel):
    """GET /admin/config.json: how the page signs staff in. The page sends the hosted UI its own
    URL (``<origin><stage>/admin``) as the redirect URI; Cognito accepts only the registered ones."""

    sign_in: SignInMode
    client_id: str | None = Field(default=None, description="cognito: the app client (public, PKCE)")
    authorize_url: str | None = None
    token_url: str | None = None
    logout_url: str | None = None
    scopes: list[str] = Field(default_factory=list)
    local_token_path: str | None = Field(default=None, description="local: POST here for a staff token")


def page_headers(config: AdminPageConfig) -> dict[str, str]:
    origin = config.sign_in_origin
    return security_headers(script_page_csp(connect_src=[origin] if origin else []))


def page_response(config: AdminPageConfig, base: str) -> Response[str]:
    """The admin page; ``base`` (the stage prefix) starts every URL it names."""
    body = render(
        PAGE_TEMPLATE,
        base=base,
        script_url=BUNDLE.url(base, "admin.js"),
        style_url=BUNDLE.url(base, "admin.css"),
    )
    headers = {**page_headers(config), "Cache-Control": PAGE_CACHE, "X-Robots-Tag": "noindex, nofollow"}
    return html_response(body, headers)


def asset_response(config: AdminPageConfig, name: str) -> Response[str]:
    return BUNDLE.response(name, page_headers(config))


class SignIn:
    """The page's sign-in settings; with cognito, the app client's id is looked up on first use
    and kept for the container's life (a failed lookup is tried again on the next request)."""

    def __init__(self, config: AdminPageConfig, clients: Callable[[], AppClients]) -> None:
        self._config = config
        self._clients = clients
        self._known: SignInConfig | None = None

    def settings(self) -> SignInConfig:
        if self._known is None:
            self._known = self._settings()
        return self._known

    def _settings(self) -> SignInConfig:
        config = self._config
        if config.admin_sign_in == "local":
            return SignInConfig(sign_in="local", local_token_path=LOCAL_TOKEN_PATH)
        try:
            client_id = self._clients().client_id(config.staff_user_pool_id, config.staff_app_client_name)
        except AppClientLookupError as error:
            logger.error("staff app client lookup failed", extra={"error": str(error)})
            raise SignInNotConfigured(
                "Staff sign-in is not available right now. Try again shortly."
            ) from error
        if client_id is None:
            logger.error("staff app client not found", extra={"client_name": config.staff_app_client_name})
            raise SignInNotConfigured(
                "Staff sign-in is not set up for this shop (its app client is missing)."
            )
        origin = config.sign_in_origin
        return SignInConfig(
            sign_in="cognito",
            client_id=client_id,
            authorize_url=f"{origin}/oauth2/authorize",
            token_url=f"{origin}/oauth2/token",
            logout_url=f"{origin}/logout",
            scopes=list(SCOPES),
        )
