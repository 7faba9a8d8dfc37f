"""The HTTP server of the local stack: ``/_local/...`` to the control surface, the rest to the gateway."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final, TextIO
from urllib.parse import urlsplit

from bookbay_local.gateway import MAX_BODY_BYTES, LocalGateway, access_line
from bookbay_local.logs import log_line
from bookbay_local.web import HttpRequest, HttpResponse, error_response

CONTROL_PREFIX: Final = "/_local"
_DISCARD_LIMIT: Final = 8 * MAX_BODY_BYTES  # past this, a too-large body is not even read


class _BodyTooLarge(Exception):
    pass


class _BadFraming(Exception):
    pass


class LocalHttpServer:
    """A threading HTTP server bound at construction, so its port (and the functions'
    PUBLIC_BASE_URL) is known before the functions are loaded; ``attach`` gives it the gateway
    and the control surface, ``start`` serves them."""

    def __init__(self, host: str, port: int, *, log: TextIO | None = None) -> None:
        self._httpd = _Server((host, port), _Handler)
        self._httpd.log = log
        self._thread: threading.Thread | None = None

    def attach(self, gateway: LocalGateway, control: Callable[[HttpRequest], HttpResponse]) -> None:
        self._httpd.gateway = gateway
        self._httpd.control = control

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="bookbay-local-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a burst of concurrent clients (as API Gateway
    # takes them) would see connections reset.
    request_queue_size = 128
    gateway: LocalGateway
    control: Callable[[HttpRequest], HttpResponse]
    log: TextIO | None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bookbay-local"
    sys_version = ""
    server: _Server

    def _handle(self) -> None:
        started = time.monotonic()
        target = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            path=target.path or "/",
            query=target.query,
            headers=list(self.headers.items()),
            client_ip=str(self.client_address[0]),
        )
        try:
            body = self._read_body()
        except _BodyTooLarge:
            response = self.server.gateway.too_large()
        except _BadFraming:
            self.close_connection = True
            response = error_response(400, "bad_request", "The request body is not framed correctly.")
        else:
            request = HttpRequest(
                request.method, request.path, request.query, request.headers, body, request.client_ip
            )
            response = self._respond(request)
        self._write(response)
        if self.server.log is not None:
            log_line(self.server.log, access_line(request, response, started))

    def _respond(self, request: HttpRequest) -> HttpResponse:
        try:
            if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
                return self.server.control(request)
            return self.server.gateway.dispatch(request)
        except Exception:  # a bug in the local stack must not kill the connection
            if self.server.log is not None:
                traceback.print_exc(file=self.server.log)
            return error_response(500, "local_stack_error", "The local stack failed; see its log.")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if not raw_length:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise _BadFraming from None
        if length < 0:
            raise _BadFraming
        if length > MAX_BODY_BYTES:
            self._discard(length)
            raise _BodyTooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadFraming from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise _BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _discard(self, length: int) -> None:
        """Read and drop a too-large body so the client gets the 413 rather than a reset."""
        if length > _DISCARD_LIMIT:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the server writes its own access log."""

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Every method (TRACE, PROPFIND, ...) reaches the gateway, which answers what API Gateway would."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)
