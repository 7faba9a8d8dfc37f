"""Staff action pages from the store notification e-mail (HTML, not part of the JSON API):
GET /s/{token} (the appointment, Confirm, Reschedule with free times), POST /s/{token}/confirm,
POST /s/{token}/reschedule (form field ``start``). Confirm and reschedule also create or move the
appointment's reminder schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from bookbay.api.pages import page, read_form, require_same_origin
from bookbay.services import links, staff_actions
from bookbay.services.staff_actions import StaffDeps, StaffView
from bookbay.templates import long_when

Token = Annotated[
    str, Path(description="The link token from the e-mail (checked by the service: 404 when malformed)")
]


def register(app: APIGatewayRestResolver, deps: StaffDeps, *, now: Callable[[], datetime]) -> None:
    """The /s/ pages on ``app`` (whose errors are pages: ``bookbay.api.pages.use_html_errors``)."""

    @app.get("/s/<token>", include_in_schema=False)
    def staff_page(token: Token) -> Response[str]:
        view = staff_actions.show(deps, token, now())
        # This page is /s/<token>: its forms post to /s/<token>/<action>.
        return _render(view, action_base=f"{token}/")

    @app.post("/s/<token>/confirm", include_in_schema=False)
    def staff_confirm(token: Token) -> Response[str]:
        _check_form()
        return _render(staff_actions.confirm(deps, token, now()), token=token)

    @app.post("/s/<token>/reschedule", include_in_schema=False)
    def staff_reschedule(token: Token) -> Response[str]:
        form = _check_form()
        view = staff_actions.reschedule(deps, token, form.get("start", ""), now())
        return _render(view, token=token)

    def _check_form() -> dict[str, str]:
        form = read_form(app)
        require_same_origin(app, links.public_base_url(deps.public_base_url))
        return form


CONFIRMATION_SENT = {
    "email": "the customer has been e-mailed.",
    "sms": "the customer has been sent a text message.",
    None: "no message was sent: the customer prefers a phone call.",
}


def _render(view: StaffView, *, action_base: str = "", token: str = "") -> Response[str]:
    """The page for ``view``. Pages at /s/<token>/<action> post to their siblings and link back
    with ``../<token>``."""
    d = view.details
    if view.outcome in ("shown", "slot_taken", "slot_gone"):
        alert = {
            "slot_taken": "That time was just taken. Pick another one from the fresh list below.",
            "slot_gone": "That time can no longer be booked. Pick another one from the list below.",
        }.get(view.outcome)
        status = HTTPStatus.OK if alert is None else HTTPStatus.CONFLICT
        return page(
            status, "pages/staff.html", d=d, view=view, action_base=action_base, notice=None, alert=alert
        )
    headline, notice = {
        "confirmed": ("Confirmed", f"Confirmed \N{EM DASH} {CONFIRMATION_SENT[view.message_channel]}"),
        "already_confirmed": (
            "Already confirmed",
            "This appointment was already confirmed; no e-mail was sent.",
        ),
        "rescheduled": (
            "Rescheduled",
            f"Moved to {long_when(d.start)} \N{EM DASH} the customer has been e-mailed.",
        ),
    }[view.outcome]
    return page(
        HTTPStatus.OK, "pages/staff_done.html", d=d, headline=headline, notice=notice, back_url=f"../{token}"
    )
