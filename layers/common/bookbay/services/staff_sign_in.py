"""How the admin page signs staff in (``GET /admin/config.json``).

- ``cognito`` (in AWS): the user pool's hosted UI, authorization code with PKCE. The app client's
  id is looked up by name (``bookbay.adapters.cognito``) on first use and kept for the container's
  life; a failed lookup is a ``SignInNotConfigured`` (503) and is tried again on the next request.
- ``local`` (the local stack): the stand-in's ``POST /_local/token``.
"""

from __future__ import annotations

from collections.abc import Callable

from bookbay.adapters.cognito import AppClientLookupError, AppClients
from bookbay.config import AdminPageConfig, SignInConfig
from bookbay.exceptions import SignInNotConfigured
from bookbay.observability import logger

SCOPES = ("openid", "email")
LOCAL_TOKEN_PATH = "/_local/token"  # noqa: S105 - a route, not a secret


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
