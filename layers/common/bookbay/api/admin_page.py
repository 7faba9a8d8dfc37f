"""The staff admin page: one HTML page plus its own script and style sheet, no inline code.

The page (``templates/admin/admin.html``) is public and holds no data: ``admin.js`` (a vanilla ES
module) signs staff in and then works the appointments, flags, review queue, customers and
settings through the staff API (``/v1/admin``) with ``Authorization: Bearer <token>``, keeping the
token in ``sessionStorage`` only. How it signs in comes from ``GET /admin/config.json``:

- ``cognito`` (in AWS): the user pool's hosted UI, authorization code with PKCE; the browser
  exchanges the code at the hosted UI's token endpoint, so that origin is the one the CSP adds to
  ``connect-src``. The app client's id is looked up by name (``bookbay.services.staff_sign_in``).
- ``local`` (the local stack sets ``ADMIN_SIGN_IN=local``): the stand-in's ``POST /_local/token``.

The script and the style sheet are served by content hash (``bookbay.api.page_assets``).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from bookbay.api.page_assets import (
    AssetBundle,
    html_response,
    script_page_csp,
    security_headers,
)
from bookbay.config import AdminPageConfig
from bookbay.templates import TEMPLATE_DIR, render

PAGE_TEMPLATE = "admin/admin.html"
BUNDLE = AssetBundle(TEMPLATE_DIR / "admin", ("admin.js", "admin.css"), "/admin/assets")
# The page holds no data, but the hosted UI sends staff back to it with a one-time code in the
# query string: nothing of it is stored anywhere, and it is never indexed.
PAGE_CACHE = "no-store"


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
