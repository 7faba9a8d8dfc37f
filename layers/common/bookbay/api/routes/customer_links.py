"""The customer's link pages (HTML, not part of the JSON API): GET /c/{token} (the appointment,
Confirm, Add to calendar, Request reschedule), POST /c/{token}/confirm, GET
/c/{token}/calendar.ics, POST /c/{token}/reschedule (404 where the shop does not take reschedule
requests online)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from bookbay.api.pages import PAGE_HEADERS, message_page, page, read_form, require_same_origin
from bookbay.observability import logger
from bookbay.services import customer_links, links
from bookbay.services.customer_links import CustomerDeps, CustomerView, RescheduleRequestsDisabled

Token = Annotated[
    str, Path(description="The link token from the message (checked by the service: 404 when malformed)")
]
CALENDAR = "text/calendar; charset=utf-8"


def register(app: APIGatewayRestResolver, deps: CustomerDeps, *, now: Callable[[], datetime]) -> None:
    """The /c/ pages on ``app`` (whose errors are pages: ``bookbay.api.pages.use_html_errors``)."""

    @app.exception_handler(RescheduleRequestsDisabled)  # type: ignore[untyped-decorator]
    def _reschedule_disabled(error: RescheduleRequestsDisabled) -> Response[str]:
        logger.info("reschedule requests disabled", extra={"status": 404})
        return message_page(HTTPStatus.NOT_FOUND, error.message, title="Not available online")

    @app.get("/c/<token>", include_in_schema=False)
    def customer_page(token: Token) -> Response[str]:
        view = customer_links.show(deps, token, now())
        # This page is /c/<token>: its forms post to /c/<token>/<action>.
        return _render(view, action_base=f"{token}/")

    @app.post("/c/<token>/confirm", include_in_schema=False)
    def customer_confirm(token: Token) -> Response[str]:
        _check_form()
        return _render(customer_links.confirm(deps, token, now()), token=token)

    @app.post("/c/<token>/reschedule", include_in_schema=False)
    def customer_reschedule(token: Token) -> Response[str]:
        _check_form()
        return _render(customer_links.request_reschedule(deps, token, now()), token=token)

    @app.get("/c/<token>/calendar.ics", include_in_schema=False)
    def customer_calendar(token: Token) -> Response[str]:
        ics = customer_links.calendar(deps, token, now())
        headers = {
            **PAGE_HEADERS,
            "Content-Disposition": f'attachment; filename="{ics.filename}"',
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
        }
        return Response(
            status_code=HTTPStatus.OK,
            content_type=CALENDAR,
            body=ics.content.decode("utf-8"),
            headers=headers,
        )

    def _check_form() -> dict[str, str]:
        form = read_form(app)
        require_same_origin(app, links.public_base_url(deps.public_base_url))
        return form


def _render(view: CustomerView, *, action_base: str = "", token: str = "") -> Response[str]:
    """The page for ``view``. Pages at /c/<token>/<action> post to their siblings and link back
    with ``../<token>``."""
    status = HTTPStatus.OK
    alert: str | None = None
    if view.outcome == "shown":
        headline = "Your appointment"
        notice = _status_notice(view)
    elif view.outcome in ("confirmed", "already_confirmed"):
        headline = "Thank you for confirming"
        notice = _confirmed_notice(view)
    elif view.outcome in ("reschedule_requested", "already_reschedule_requested"):
        headline = "Reschedule requested"
        notice = view.representative_message
    else:  # reschedule_pending: Confirm pressed after asking to reschedule
        status = HTTPStatus.CONFLICT
        headline = "Reschedule requested"
        notice = None
        alert = (
            "You asked to reschedule this appointment, so it cannot be confirmed now. "
            + view.representative_message
        )
    return page(
        status,
        "pages/customer.html",
        view=view,
        headline=headline,
        notice=notice,
        alert=alert,
        action_base=action_base,
        back_url=f"../{token}" if token else None,
    )


def _status_notice(view: CustomerView) -> str | None:
    if view.reschedule_pending:
        return view.representative_message
    if view.customer_confirmed:
        return "You confirmed this appointment. Add it to your calendar so you do not miss it."
    return None


def _confirmed_notice(view: CustomerView) -> str:
    again = "You had already confirmed this appointment. " if view.outcome == "already_confirmed" else ""
    if view.waiting_for_store:
        return (
            f"{again}Thank you: we noted that you will come. The store still has to confirm this "
            "time; you will get a message when it does."
        )
    return f"{again}See you then! Add the appointment to your calendar so you do not miss it."
