"""Pages made of one HTML document plus their own script and style sheet (no inline code).

What such a page needs is the same whatever the page: its files served under names that carry a
hash of their content (``admin.<hash>.js``: cached a year, a deploy is picked up by the next page
load, any other name a 404), the stage prefix its URLs start with, and a strict CSP allowing
exactly those files and the API on the same origin. The admin page uses this module; the booking
page (``bookbay.api.booking_page``) does the same things with its own copy and can move onto it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

from bookbay.exceptions import NotFound

HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
}
HASH_LENGTH = 16
# The page names the current assets, so it is revalidated on every load; the assets never change.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"


def script_page_csp(*, connect_src: Iterable[str] = ()) -> str:
    """The CSP of a page with its own script and style sheet and nothing inline: the page's files,
    the API on its origin, and ``connect_src`` (extra origins the script may call) only."""
    connect = " ".join(["'self'", *connect_src])
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src {connect}; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def security_headers(csp: str) -> dict[str, str]:
    """The headers every response of such a page carries (the page, its assets)."""
    return {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }


def stage_prefix(event: Mapping[str, Any]) -> str:
    """``/<stage>`` when the request came through the execute-api URL (its path starts with the
    stage), ``""`` behind a custom domain or on the local stack. Taken from the request context API
    Gateway fills in, never from the Host header."""
    context = event.get("requestContext") or {}
    stage = str(context.get("stage") or "")
    path = str(context.get("path") or "")
    return f"/{stage}" if stage and path.startswith(f"/{stage}/") else ""


@dataclass(frozen=True)
class Asset:
    name: str  # the served name, with the content hash
    content_type: str
    body: str


class AssetBundle:
    """A page's script and style sheet: ``sources`` (file names in ``directory``) served under
    ``url_path`` as ``<stem>.<sha256 prefix>.<suffix>``, read once per container."""

    def __init__(self, directory: Path, sources: Iterable[str], url_path: str) -> None:
        self.directory = directory
        self.sources = tuple(sources)
        self.url_path = url_path.rstrip("/")
        unknown = [s for s in self.sources if s.rpartition(".")[2] not in CONTENT_TYPES]
        if unknown:
            raise ValueError(f"no content type for {unknown}")

    @cached_property
    def by_source(self) -> dict[str, Asset]:
        """The assets by source file name (``admin.js``)."""
        found: dict[str, Asset] = {}
        for source in self.sources:
            body = (self.directory / source).read_text(encoding="utf-8")
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:HASH_LENGTH]
            stem, _, suffix = source.rpartition(".")
            found[source] = Asset(
                name=f"{stem}.{digest}.{suffix}", content_type=CONTENT_TYPES[suffix], body=body
            )
        return found

    @cached_property
    def by_name(self) -> dict[str, Asset]:
        """The same assets by the names they are served under."""
        return {asset.name: asset for asset in self.by_source.values()}

    def url(self, base: str, source: str) -> str:
        """Where the page finds ``source``: ``<base><url_path>/<hashed name>``."""
        return f"{base}{self.url_path}/{self.by_source[source].name}"

    def response(self, name: str, headers: Mapping[str, str]) -> Response[str]:
        """The asset served as ``name`` (cached a year); NotFound (404) for any other name, an old
        hash included."""
        asset = self.by_name.get(name)
        if asset is None:
            raise NotFound("There is no such file.")
        return Response(
            status_code=HTTPStatus.OK,
            content_type=asset.content_type,
            body=asset.body,
            headers={**headers, "Cache-Control": ASSET_CACHE},
        )


def html_response(body: str, headers: Mapping[str, str]) -> Response[str]:
    return Response(status_code=HTTPStatus.OK, content_type=HTML, body=body, headers=dict(headers))
