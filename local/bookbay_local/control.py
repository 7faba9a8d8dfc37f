"""The local control surface (SPEC "Local control surface"): ``/_local/...``, never in the template.

GET    /_local/messages          what SES and SNS were asked to deliver, oldest first
DELETE /_local/messages          forget them
GET    /_local/outbox            the same as a page
POST   /_local/scheduler/run     {until}: fire the schedules due at or before ``until``
POST   /_local/token             {sub, email, groups, token_use?, aud?, iss?}: a token for the
                                 Cognito stand-in (by default the staff app client's ID token)
POST   /_local/streams/drain     {timeout_seconds?}: wait until stream records are delivered
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from bookbay_local.auth import TokenIssuer
from bookbay_local.messages import MessageLog
from bookbay_local.outbox_page import render_outbox
from bookbay_local.scheduler import LocalScheduler
from bookbay_local.streams import StreamReader
from bookbay_local.web import HttpRequest, HttpResponse, error_response, json_response

_PAGE_HEADERS: Final = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; base-uri 'none'",
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(_Strict):
    sub: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    groups: list[str] = Field(default_factory=list, max_length=20)
    expires_in: int = Field(default=3600, ge=1, le=86400, description="Seconds the token is valid")
    # Overrides, to replay what API Gateway's authorizer lets through to the functions: an access
    # token, another app client's token (aud; an access token's client_id) or another pool's (iss).
    token_use: Literal["id", "access"] = "id"  # noqa: S105 - a claim, not a secret
    aud: str | None = Field(default=None, min_length=1, max_length=128)
    iss: str | None = Field(default=None, min_length=1, max_length=256)


class SchedulerRunRequest(_Strict):
    until: AwareDatetime


class DrainRequest(_Strict):
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


Route = Callable[[HttpRequest], HttpResponse]
M = TypeVar("M", bound=BaseModel)


@dataclass
class ControlSurface:
    messages: MessageLog
    scheduler: LocalScheduler
    tokens: TokenIssuer
    streams: StreamReader | None = None

    def handle(self, request: HttpRequest) -> HttpResponse:
        routes: dict[str, dict[str, Route]] = {
            "/_local/messages": {"GET": self._list_messages, "DELETE": self._clear_messages},
            "/_local/outbox": {"GET": self._outbox},
            "/_local/scheduler/run": {"POST": self._run_scheduler},
            "/_local/token": {"POST": self._token},
            "/_local/streams/drain": {"POST": self._drain},
        }
        path = request.path.rstrip("/")
        methods = routes.get(path)
        if methods is None:
            return error_response(404, "not_found", f"No local control route {request.path}.")
        handler = methods.get(request.method)
        if handler is None:
            response = error_response(405, "method_not_allowed", f"{path} accepts {', '.join(methods)}.")
            response.headers.append(("Allow", ", ".join(methods)))
        else:
            response = handler(request)
        response.route = path  # one of the routes above: the access log names it
        return response

    # ------------------------------------------------------------------ routes
    def _list_messages(self, _: HttpRequest) -> HttpResponse:
        return json_response(200, {"messages": [m.to_json() for m in self.messages.messages()]})

    def _clear_messages(self, _: HttpRequest) -> HttpResponse:
        self.messages.clear()
        return json_response(200, {"messages": []})

    def _outbox(self, _: HttpRequest) -> HttpResponse:
        page = render_outbox(self.messages.messages())
        return HttpResponse(200, list(_PAGE_HEADERS), page.encode(), served_by="local")

    def _run_scheduler(self, request: HttpRequest) -> HttpResponse:
        parsed = _parse(request, SchedulerRunRequest)
        if isinstance(parsed, HttpResponse):
            return parsed
        # As if that time had come: what the streams still carry (e.g. the effect that creates a
        # reminder's schedule) is delivered first, then the rules (the outbox sweep), then the
        # one-time schedules due.
        self._wait_for_streams()
        rules = self.scheduler.run_rules(parsed.until)
        self._wait_for_streams()
        fired = self.scheduler.run_due(parsed.until)
        return json_response(
            200, {"fired": [f.to_json() for f in fired], "rules_fired": [r.to_json() for r in rules]}
        )

    def _wait_for_streams(self) -> None:
        if self.streams is not None:
            self.streams.wait_until_drained(timeout=30)

    def _token(self, request: HttpRequest) -> HttpResponse:
        parsed = _parse(request, TokenRequest)
        if isinstance(parsed, HttpResponse):
            return parsed
        token = self.tokens.issue(
            parsed.sub,
            parsed.email,
            parsed.groups,
            expires_in=parsed.expires_in,
            token_use=parsed.token_use,
            client_id=parsed.aud,
            issuer=parsed.iss,
        )
        return json_response(200, {"token": token, "token_type": "Bearer", "expires_in": parsed.expires_in})

    def _drain(self, request: HttpRequest) -> HttpResponse:
        parsed = _parse(request, DrainRequest, empty_ok=True)
        if isinstance(parsed, HttpResponse):
            return parsed
        drained = True if self.streams is None else self.streams.wait_until_drained(parsed.timeout_seconds)
        return json_response(200 if drained else 504, {"drained": drained})


def _parse(request: HttpRequest, model: type[M], *, empty_ok: bool = False) -> M | HttpResponse:
    """The body as ``model`` (strict JSON types: a number is not a date), or the 400/422 to answer."""
    body = request.body if request.body.strip() or not empty_ok else b"{}"
    if not body.strip():
        details = [{"field": "body", "message": "A JSON object is required"}]
        return error_response(422, "validation_error", "The request has no body.", details)
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        errors = exc.errors()
        if any(err["type"] == "json_invalid" for err in errors):
            return error_response(400, "malformed_json", "The request body is not valid UTF-8 JSON.")
        details = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]} for err in errors
        ]
        return error_response(422, "validation_error", "The request has invalid or missing fields.", details)
