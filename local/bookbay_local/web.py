"""Plain HTTP request and response values shared by the gateway and the control surface."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # as sent, without the query string
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    client_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        """The last value of a header (names compare case-insensitively)."""
        found = None
        for key, value in self.headers:
            if key.lower() == name.lower():
                found = value
        return found

    def query_items(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # Who answered, for the access log: a function's logical id, "gateway" or "local".
    served_by: str = "gateway"
    # What the access log names as the path: the route's template (/c/{token}), never the path as
    # sent (it holds link tokens); None when no route matched.
    route: str | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def json_response(
    status: int, document: Any, *, extra_headers: list[tuple[str, str]] | None = None
) -> HttpResponse:
    body = json.dumps(document, indent=None).encode()
    return HttpResponse(status, [*JSON_HEADERS, *(extra_headers or [])], body, served_by="local")


def error_response(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> HttpResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return json_response(status, {"error": error})
