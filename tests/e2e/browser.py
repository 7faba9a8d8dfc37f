"""Debian's Chromium for the browser tests: where it is, the flags it runs with on this closed
network, and the rule that a missing browser fails the run (``make deps-system`` installs it); and
a browser customer's one-time-code requests sent from a loopback address of their own.

Only ``SKIP_SYSTEM_DEPS=1`` (the Makefile's opt-out of apt-get) turns the failure into a skip, so a
machine that could not install Chromium never reports the browser tests as passed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import BrowserContext, Route

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox (root in CI), no GPU, and none of the background connections this network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The same, for a bare `chromium --headless --dump-dom` run.
HEADLESS_FLAGS = ["--headless", *ARGS, "--no-first-run"]
# An init script (init scripts are not subject to the CSP) that records every CSP violation of a
# page in window.__cspViolations, from before the page's own script runs.
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def require_chromium() -> None:
    """Call at a browser test module's top: fails its collection when Chromium is missing
    (skips it under SKIP_SYSTEM_DEPS=1)."""
    if shutil.which(CHROMIUM):
        return
    if os.environ.get("SKIP_SYSTEM_DEPS") == "1":  # pragma: no cover - CI installs chromium
        pytest.skip("no chromium, and SKIP_SYSTEM_DEPS=1", allow_module_level=True)
    pytest.fail(  # pragma: no cover
        f"no chromium at {CHROMIUM}: run `make deps-system` (as root), or set SKIP_SYSTEM_DEPS=1 "
        "to skip the browser tests",
        pytrace=False,
    )


# Headers a carried answer cannot keep (httpx has decoded and de-chunked the body already).
_CARRIED_AWAY = {"connection", "content-encoding", "content-length", "keep-alive", "transfer-encoding"}


def codes_sent_from(context: BrowserContext, address: str) -> Callable[[], None]:
    """Carry the context's one-time-code requests (POST /v1/verification/codes) from ``address``.

    The stack limits code sends per client address, and Chromium cannot choose the address it
    connects from (every tab would be 127.0.0.1): so each browser customer asks for codes from a
    loopback address of their own, as the HTTP ones do (tests/e2e/booking.py). The page's request
    goes as it made it, and it gets the stack's answer as given. A page's own route for the path
    (a test faking the answer) comes first. Returns what closes the client."""
    client = httpx.Client(timeout=60, transport=httpx.HTTPTransport(local_address=address))

    def carry(route: Route) -> None:
        request = route.request
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
        answer = client.request(
            request.method, request.url, headers=headers, content=request.post_data_buffer
        )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _CARRIED_AWAY}
        route.fulfill(status=answer.status_code, headers=kept, body=answer.content)

    context.route("**/v1/verification/codes", carry)
    return client.close
