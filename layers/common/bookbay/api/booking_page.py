"""The hosted booking page: one HTML page plus its own script and style sheet, no inline code.

The page (``templates/book/book.html``) holds every step of the flow as markup; ``book.js`` (a
small vanilla ES module) drives the public JSON API from the browser, so the page itself needs no
data from the table and its function has no IAM policy. The script and the style sheet are served
under names that carry a hash of their content (``book.<hash>.js``), so browsers may keep them a
year and a new deploy is picked up by the next page load. The CSP allows exactly these files, the
API on the same origin and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from bookbay.exceptions import NotFound
from bookbay.templates import TEMPLATE_DIR, render

ASSET_DIR = TEMPLATE_DIR / "book"
PAGE_TEMPLATE = "book/book.html"
HTML = "text/html; charset=utf-8"
# Source file -> content type; served as <stem>.<hash>.<suffix>.
ASSET_SOURCES = {
    "book.js": "text/javascript; charset=utf-8",
    "book.css": "text/css; charset=utf-8",
}
HASH_LENGTH = 16
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# The page holds nothing personal but names the current assets: revalidate on every load.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str  # the served name, with the content hash
    content_type: str
    body: str


@cache
def assets() -> dict[str, Asset]:
    """The page's assets by source file name (``book.js``), read once per container."""
    found: dict[str, Asset] = {}
    for source, content_type in ASSET_SOURCES.items():
        body = (ASSET_DIR / source).read_text(encoding="utf-8")
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:HASH_LENGTH]
        stem, _, suffix = source.rpartition(".")
        found[source] = Asset(name=f"{stem}.{digest}.{suffix}", content_type=content_type, body=body)
    return found


@cache
def served() -> dict[str, Asset]:
    """The same assets by the names they are served under."""
    return {asset.name: asset for asset in assets().values()}


def stage_prefix(event: dict[str, Any]) -> str:
    """``/<stage>`` when the request came through the execute-api URL (its path starts with the
    stage), ``""`` behind a custom domain or on the local stack. Taken from the request context API
    Gateway fills in, never from the Host header."""
    context = event.get("requestContext") or {}
    stage = str(context.get("stage") or "")
    path = str(context.get("path") or "")
    return f"/{stage}" if stage and path.startswith(f"/{stage}/") else ""


def page_response(base: str, *, known_source: bool) -> Response[str]:
    """The booking page; ``base`` prefixes every URL it names (assets and the API).
    A known-source link (``?src=``) is personal: it is never indexed."""
    body = render(
        PAGE_TEMPLATE,
        base=base,
        script_url=f"{base}/book/assets/{assets()['book.js'].name}",
        style_url=f"{base}/book/assets/{assets()['book.css'].name}",
    )
    headers = {**SECURITY_HEADERS, "Cache-Control": PAGE_CACHE}
    if known_source:
        headers["X-Robots-Tag"] = "noindex, nofollow"
    return Response(status_code=HTTPStatus.OK, content_type=HTML, body=body, headers=headers)


def asset_response(name: str) -> Response[str]:
    """The asset served as ``name``; NotFound (404) for any other name, an old hash included."""
    asset = served().get(name)
    if asset is None:
        raise NotFound("There is no such file.")
    headers = {**SECURITY_HEADERS, "Cache-Control": ASSET_CACHE}
    return Response(
        status_code=HTTPStatus.OK, content_type=asset.content_type, body=asset.body, headers=headers
    )
