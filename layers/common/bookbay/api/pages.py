"""HTML pages (the link pages in e-mails): responses with strict headers, HTML error pages, forms.

Pages carry no script and no external asset: their one ``<style>`` element is allowed by a
per-response CSP nonce. Errors answer a small page with the status the JSON API would use.
Forms are ``application/x-www-form-urlencoded`` only; a POST from another site is refused.
"""

from __future__ import annotations

import binascii
import secrets
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from bookbay import exceptions as exc
from bookbay.api.resolver import status_for
from bookbay.observability import logger
from bookbay.templates import render

HTML = "text/html; charset=utf-8"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 20
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
# No script at all; the page's own <style> by nonce; forms post only to this origin.
CSP = (
    "default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Fetch metadata a same-origin form post carries ("none": the user typed or bookmarked it).
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})

TITLES: dict[int, str] = {
    400: "Something is wrong with the form",
    403: "Not allowed",
    404: "This link is not valid",
    409: "That did not work",
    410: "This link is no longer active",
    415: "Something is wrong with the form",
    422: "Something is wrong with the form",
    503: "Not available right now",
}


class PageRequestError(Exception):
    """A request the page cannot take (bad form, other site): answered with a page and ``status``."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def page(status: int, template: str, /, **context: Any) -> Response[str]:
    """Render ``template`` (``nonce`` is in its context) with the page headers."""
    nonce = secrets.token_urlsafe(16)
    body = render(template, nonce=nonce, **context)
    headers = {**PAGE_HEADERS, "Content-Security-Policy": CSP.format(nonce=nonce)}
    return Response(status_code=status, content_type=HTML, body=body, headers=headers)


def message_page(status: int, message: str, *, title: str | None = None) -> Response[str]:
    return page(
        status,
        "pages/message.html",
        status=status,
        title=title or TITLES.get(status, HTTPStatus(status).phrase),
        message=message,
    )


# ------------------------------------------------------------------------------ forms
def read_form(app: APIGatewayRestResolver) -> dict[str, str]:
    """The fields of a urlencoded form body (the first value of each). Raises PageRequestError:
    415 for another content type, 400 for no body or a body that is not a form."""
    event = app.current_event
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise PageRequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the form from the page (a urlencoded form)."
        )
    body = event.decoded_body or ""
    if not body.strip():
        raise PageRequestError(HTTPStatus.BAD_REQUEST, "The form was empty. Go back and try again.")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as error:
        raise PageRequestError(HTTPStatus.BAD_REQUEST, "The form could not be read.") from error
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def require_same_origin(app: APIGatewayRestResolver, public_base_url: str) -> None:
    """Refuse a form post another site made (403). Browsers send ``Sec-Fetch-Site``; without it,
    an ``Origin`` (other than ``null``, which ``Referrer-Policy: no-referrer`` produces) must be
    the public base URL's. Other clients send neither and pass: the link's token is the capability."""
    headers = app.current_event.headers
    fetch_site = (headers.get("sec-fetch-site") or "").strip().lower()
    if fetch_site:
        if fetch_site not in ALLOWED_FETCH_SITES:
            raise PageRequestError(HTTPStatus.FORBIDDEN, "Use the buttons on the page itself.")
        return
    origin = (headers.get("origin") or "").strip().lower()
    if origin and origin != "null" and origin != _origin(public_base_url):
        raise PageRequestError(HTTPStatus.FORBIDDEN, "Use the buttons on the page itself.")


def _origin(url: str) -> str:
    parts = urlsplit(url.lower())
    return f"{parts.scheme}://{parts.netloc}"


# ------------------------------------------------------------------------------ error pages
def use_html_errors(app: APIGatewayRestResolver) -> None:
    """Answer errors with pages instead of the JSON error body (registered after the factory's
    handlers, these replace them for this resolver)."""

    @app.exception_handler(exc.DomainError)  # type: ignore[untyped-decorator]
    def _domain_error(error: exc.DomainError) -> Response[str]:
        status = status_for(error)
        logger.info("domain error", extra={"error_code": error.code, "status": int(status)})
        return message_page(status, error.message)

    @app.exception_handler(PageRequestError)  # type: ignore[untyped-decorator]
    def _page_request(error: PageRequestError) -> Response[str]:
        logger.info("refused page request", extra={"status": int(error.status)})
        return message_page(error.status, error.message)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(_: RequestValidationError) -> Response[str]:
        return message_page(HTTPStatus.UNPROCESSABLE_ENTITY, "The request is not valid.")

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _unsupported(_: RequestUnsupportedContentType) -> Response[str]:
        return message_page(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the form from the page.")

    @app.exception_handler([UnicodeDecodeError, binascii.Error])  # type: ignore[untyped-decorator]
    def _undecodable(_: Exception) -> Response[str]:
        return message_page(HTTPStatus.BAD_REQUEST, "The form must be UTF-8 text.")

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return message_page(HTTPStatus.NOT_FOUND, "There is no such page.", title="Page not found")
