"""The staff admin page's Cognito sign-in (the hosted UI, authorization code with PKCE) in headless
Chromium (Playwright, Debian's chromium), with no network beyond loopback:

- the page is served under a made-up https origin (``SHOP``) by Playwright's routing, exactly as
  the admin page function answers it in AWS (``admin_page.page_response`` / ``asset_response`` of
  an ``AdminPageConfig`` with ``admin_sign_in="cognito"``, and the sign-in settings a cognito-mode
  ``SignIn`` gives), so the page runs under its real CSP (``connect-src`` adds the hosted UI);
- its ``/v1/...`` calls are forwarded to the real local stack, which authorizes the token;
- the hosted UI's origin is a small stand-in that keeps Cognito's rules: ``/oauth2/authorize``
  answers a code for the registered redirect URI with an S256 challenge, ``/oauth2/token`` gives
  tokens only for that code, redirect URI and a verifier that hashes to the challenge (the tokens
  are real staff tokens of the local stack's Cognito stand-in), ``/logout`` sends staff back to
  the registered logout URI. Any other request leaves nowhere: it is aborted and reported.

What is asserted is what the page shows and the requests the browser made: pressing "Sign in"
goes to the hosted UI with PKCE; back from it the page exchanges the code, the address bar loses
code and state, the staff e-mail is shown and the appointments list (with one booked here) comes
from the API with the ID token; "Sign out" goes to the hosted UI's /logout. A callback whose state
is not the one the page sent is refused without a token request. No CSP violations, script errors
or console errors. Screenshots go to tests/e2e/artifacts/admin-cognito-*.png.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import random
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from aws_lambda_powertools.event_handler import Response
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect

from bookbay.adapters.cognito import InMemoryAppClients
from bookbay.api import admin_page
from bookbay.config import AdminPageConfig
from bookbay.services.staff_sign_in import SignIn
from tests.e2e.booking import book_last_free_slot, closed
from tests.e2e.browser import CSP_PROBE, require_chromium
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
SHOP = "https://shop.example.test"  # the page's origin: never resolved, Playwright answers it
ADMIN = f"{SHOP}/admin"  # the callback and logout URI registered with the app client
HOSTED_UI_HOST = "bookbay-e2e.auth.us-east-1.amazoncognito.com"
HOSTED_UI = f"https://{HOSTED_UI_HOST}"
POOL_ID = "us-east-1_E2eStaff1"
CLIENT_NAME = "bookbay-admin"
CLIENT_ID = "4e2eadmin0client0id0abc123"
CONFIG = AdminPageConfig(
    admin_sign_in="cognito",
    table_name="unused-by-the-page",
    shop_name="Bookbay e2e",
    public_base_url=SHOP,
    staff_user_pool_id=POOL_ID,
    staff_app_client_name=CLIENT_NAME,
    staff_sign_in_domain=HOSTED_UI_HOST,
)
SESSION_KEY = "bookbay.admin.session"
PKCE_KEY = "bookbay.admin.pkce"
CHICAGO = ZoneInfo("America/Chicago")
REFUSED = (
    "That sign-in could not be finished here (it was started in another tab, or is old). "
    "Please sign in again."
)

require_chromium()


# ------------------------------------------------------------------------------ the page's origin
def fulfil(route: Route, response: Response[str]) -> None:
    """Answer ``route`` with what the admin page function answered."""
    headers = {k: v if isinstance(v, str) else ", ".join(v) for k, v in response.headers.items()}
    route.fulfill(status=response.status_code, headers=headers, body=response.body)


def serve_shop(base_url: str) -> Callable[[Route], None]:
    """The page's origin: the admin page function's answers, and the API forwarded to the stack."""
    sign_in = SignIn(CONFIG, lambda: InMemoryAppClients({(POOL_ID, CLIENT_NAME): CLIENT_ID}))

    def handle(route: Route) -> None:
        url = urlsplit(route.request.url)
        asset = url.path.rpartition("/")[2]
        if url.path == "/admin":
            fulfil(route, admin_page.page_response(CONFIG, ""))
        elif url.path == "/admin/config.json":
            settings = sign_in.settings().model_dump(mode="json")
            route.fulfill(json=settings, headers={"Cache-Control": "no-store"})
        elif url.path.startswith("/admin/assets/") and asset in admin_page.BUNDLE.by_name:
            fulfil(route, admin_page.asset_response(CONFIG, asset))
        elif url.path.startswith("/v1/"):
            query = f"?{url.query}" if url.query else ""
            route.fulfill(response=route.fetch(url=f"{base_url}{url.path}{query}"))
        else:
            route.fulfill(status=404, json={"error": {"code": "not_found", "message": "No such page."}})

    return handle


# ------------------------------------------------------------------------------ the hosted UI
def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass
class HostedUi:
    """A stand-in for the user pool's hosted UI with Cognito's rules for a public PKCE client.
    ``forge_state``: send staff back with a state other than the one the page sent; ``deny``:
    send them back with Cognito's ``access_denied`` error (and the page's state) instead of a code."""

    id_token: str
    access_token: str
    forge_state: bool = False
    deny: bool = False
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> its authorize query

    def handle(self, route: Route) -> None:
        request = route.request
        url = urlsplit(request.url)
        if request.method == "GET" and url.path == "/oauth2/authorize":
            self._authorize(route, one(parse_qs(url.query)))
        elif request.method == "POST" and url.path == "/oauth2/token":
            self._token(route, one(parse_qs(request.post_data or "")))
        elif request.method == "OPTIONS" and url.path == "/oauth2/token":
            route.fulfill(status=204, headers=self._cors())
        elif request.method == "GET" and url.path == "/logout":
            query = one(parse_qs(url.query))
            if query.get("client_id") != CLIENT_ID or query.get("logout_uri") != ADMIN:
                route.fulfill(status=400, body="bad logout request")
            else:
                send_back(route, ADMIN)
        else:
            route.fulfill(status=404, body="not found")

    def _authorize(self, route: Route, query: dict[str, str]) -> None:
        if (
            query.get("response_type") != "code"
            or query.get("client_id") != CLIENT_ID
            or query.get("redirect_uri") != ADMIN
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or not set(query.get("scope", "").split()) <= {"openid", "email"}
        ):
            route.fulfill(status=400, body="bad authorize request")
            return
        state = secrets.token_urlsafe(24) if self.forge_state else query.get("state", "")
        if self.deny:
            denied = {"error": "access_denied", "error_description": "User denied", "state": state}
            send_back(route, f"{ADMIN}?{urlencode(denied)}")
            return
        code = str(uuid.uuid4())
        self.codes[code] = query
        back = {"code": code, "state": state}
        send_back(route, f"{ADMIN}?{urlencode(back)}")

    def _token(self, route: Route, form: dict[str, str]) -> None:
        issued = self.codes.pop(form.get("code", ""), None)  # a code is good once
        if (
            issued is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != CLIENT_ID
            or form.get("redirect_uri") != issued["redirect_uri"]
            or s256(form.get("code_verifier", "")) != issued["code_challenge"]
        ):
            route.fulfill(status=400, headers=self._cors(), json={"error": "invalid_grant"})
            return
        tokens = {
            "id_token": self.id_token,
            "access_token": self.access_token,
            "expires_in": 3600,
            "token_type": "Bearer",
        }
        route.fulfill(headers={**self._cors(), "Cache-Control": "no-store"}, json=tokens)

    @staticmethod
    def _cors() -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": SHOP,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type, Accept",
        }


def send_back(route: Route, url: str) -> None:
    """Send the browser to ``url``. Cognito answers a 302; here a page that goes there at once,
    because Chromium follows a fulfilled redirect itself, past Playwright's routing: it would look
    the made-up host up in DNS (for the page it is the same: a top-level GET of ``url``)."""
    page = f'<!DOCTYPE html><meta http-equiv="refresh" content="0;url={html.escape(url)}">'
    route.fulfill(headers={"Content-Type": "text/html", "Cache-Control": "no-store"}, body=page)


def one(query: dict[str, list[str]]) -> dict[str, str]:
    """A parsed query string with one value a name (fails on a repeated name)."""
    assert all(len(values) == 1 for values in query.values()), query
    return {name: values[0] for name, values in query.items()}


# ------------------------------------------------------------------------------ browser
@dataclass(frozen=True)
class Sent:
    """A request the browser made."""

    method: str
    url: str
    headers: dict[str, str]
    body: str | None

    @property
    def query(self) -> dict[str, str]:
        return one(parse_qs(urlsplit(self.url).query))

    @property
    def form(self) -> dict[str, str]:
        return one(parse_qs(self.body or ""))


@dataclass
class Tab:
    """A browser tab on the shop's origin, the hosted UI stand-in, and what the browser did."""

    page: Page
    hosted_ui: HostedUi
    sent: list[Sent] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)  # requests to any other origin (aborted)
    failed: list[str] = field(default_factory=list)  # requests that failed (none should)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to(self, origin: str, path: str, method: str = "GET") -> list[Sent]:
        return [s for s in self.sent if s.method == method and _where(s.url) == f"{origin}{path}"]

    def session_storage(self, key: str) -> Any:
        return json.loads(self.page.evaluate(f"window.sessionStorage.getItem({json.dumps(key)}) || 'null'"))

    def assert_clean(self) -> None:
        """No CSP violation, no script error, no console error, and nothing sent anywhere else."""
        found: list[str] = self.page.evaluate("window.__cspViolations || []")
        assert found + [line for line in self.console if "Content Security Policy" in line] == []
        assert self.errors == []
        assert [line for line in self.console if line.startswith(("error:", "warning:"))] == []
        assert self.elsewhere == []
        assert self.failed == []


@pytest.fixture(scope="module")
def tokens(http: httpx.Client) -> dict[str, str]:
    """A staff member's tokens from the local stack's Cognito stand-in: ``id`` (with the e-mail, as
    a Cognito ID token) and ``access`` (another staff subject's access token: ``token_use``
    "access", no ``aud``, no e-mail), so the API calls tell which one the page sends. The staff API
    takes only the ID token: the access one answers 401."""
    email = f"staff.{uuid.uuid4().hex[:8]}@example.com"
    found = {"email": email}
    for kind, claims in (
        ("id", {"sub": f"e2e-cognito-{uuid.uuid4().hex[:8]}", "email": email, "groups": ["staff"]}),
        (
            "access",
            {"sub": f"e2e-cognito-access-{uuid.uuid4().hex[:8]}", "groups": ["staff"], "token_use": "access"},
        ),
    ):
        answer = http.post("/_local/token", json=claims)
        assert answer.status_code == 200, answer.text
        found[kind] = answer.json()["token"]
    refused = http.get("/v1/admin/settings", headers={"Authorization": f"Bearer {found['access']}"})
    assert refused.status_code == 401, refused.text
    return found


def _refuse(tab: Tab) -> Callable[[Route], None]:
    def handle(route: Route) -> None:
        tab.elsewhere.append(route.request.url)
        route.abort("addressunreachable")

    return handle


@pytest.fixture
def tab(browser: Browser, local_stack: Any, tokens: dict[str, str]) -> Iterator[Tab]:
    context: BrowserContext = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(CSP_PROBE)
    try:
        found = Tab(context.new_page(), HostedUi(tokens["id"], tokens["access"]))
        # Routes are tried last-registered first: anything neither origin handles is refused.
        context.route("**/*", _refuse(found))
        context.route(f"{SHOP}/**", serve_shop(local_stack.base_url))
        context.route(f"{HOSTED_UI}/**", found.hosted_ui.handle)
        context.on("request", lambda r: found.sent.append(_sent(r)))
        context.on("requestfailed", lambda r: found.failed.append(f"{r.url} {r.failure}"))
        found.page.on("console", lambda message: found.console.append(f"{message.type}: {message.text}"))
        found.page.on("pageerror", lambda error: found.errors.append(str(error)))
        yield found
    finally:
        context.close()


def _where(url: str) -> str:
    """The URL without its query or fragment."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _sent(request: Request) -> Sent:
    return Sent(request.method, request.url, dict(request.headers), request.post_data)


def screenshot(tab: Tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / f"admin-cognito-{name}.png"), full_page=True)


def book_soon(http: httpx.Client) -> tuple[str, str]:
    """Books an appointment in the list's default range (the next 14 days): the last free slot of
    the first open day from two days ahead that has one; (its id, the customer's name)."""
    day = datetime.now(CHICAGO).date() + timedelta(days=2)
    last = day + timedelta(days=10)
    while day <= last:
        if not closed(day):
            free = http.get(
                "/v1/availability",
                params={
                    "location_id": "austin-downtown",
                    "service_id": "oil-change",
                    "appointment_type": "in_store",
                    "from": day.isoformat(),
                    "days": 1,
                },
            )
            assert free.status_code == 200, free.text
            if any(slot["remaining"] >= 1 for slot in free.json()["slots"]):
                customer = {
                    "first_name": "Robin",
                    "last_name": f"Cognito{uuid.uuid4().hex[:6]}",
                    "phone": f"+19155550{random.randint(100, 199)}",  # 915: no other e2e test's
                    "email": f"robin.{uuid.uuid4().hex[:8]}@example.com",
                }
                vehicle = {"year": 2020, "make": "Toyota", "model": "Corolla"}
                booked = book_last_free_slot(http, day, customer, vehicle)["appointment"]
                return str(booked["id"]), f"{customer['first_name']} {customer['last_name']}"
        day += timedelta(days=1)
    pytest.fail("no free slot in the next days to book")


def start_sign_in(tab: Tab, hash_: str = "") -> None:
    """Open the page signed out and press its "Sign in" (to the hosted UI)."""
    page = tab.page
    page.goto(f"{ADMIN}{hash_}")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    expect(page.locator("#local-sign-in-form")).to_be_hidden()  # cognito: no stand-in form
    page.get_by_role("button", name="Sign in", exact=True).click()


# ------------------------------------------------------------------------------ tests
def test_staff_sign_in_through_the_hosted_ui_with_pkce_and_sign_out(
    http: httpx.Client, tokens: dict[str, str], tab: Tab
) -> None:
    # Given an appointment in the coming days
    booked, name = book_soon(http)
    page = tab.page

    # When staff open the appointments list signed out and press "Sign in"
    start_sign_in(tab, "#appointments")

    # Then the page went to the hosted UI's authorize endpoint: a code, with an S256 challenge
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {tokens['email']}")
    [authorize] = tab.to(HOSTED_UI, "/oauth2/authorize")
    asked = authorize.query
    assert asked["response_type"] == "code"
    assert asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == ADMIN
    assert asked["scope"].split() == ["openid", "email"]
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43  # base64url of a SHA-256, no padding
    assert len(asked["state"]) >= 22  # unguessable
    # And came back to the page with a code and the state it sent
    [callback] = [s for s in tab.to(SHOP, "/admin") if "code" in s.query]
    assert callback.query["state"] == asked["state"]
    code = callback.query["code"]

    # And exchanged the code once, from the page, with the verifier behind the challenge
    [exchange] = tab.to(HOSTED_UI, "/oauth2/token", "POST")
    assert exchange.headers["content-type"].split(";")[0] == "application/x-www-form-urlencoded"
    form = exchange.form
    assert set(form) == {"grant_type", "client_id", "code", "redirect_uri", "code_verifier"}
    assert form["grant_type"] == "authorization_code"
    assert form["client_id"] == CLIENT_ID
    assert form["code"] == code
    assert form["redirect_uri"] == ADMIN
    assert 43 <= len(form["code_verifier"]) <= 128  # RFC 7636
    assert s256(form["code_verifier"]) == asked["code_challenge"]
    assert form["code_verifier"] not in authorize.url

    # And the address bar no longer carries the code or state: the page is where staff were
    assert page.url == f"{ADMIN}#appointments"
    assert page.evaluate("window.location.search") == ""
    # And the appointments list comes from the API, called with the ID token
    card = page.locator(f'li[data-appointment-id="{booked}"]')
    expect(card).to_be_visible()
    expect(card.locator(".appt-name")).to_have_text(name)
    expect(page.locator("#appointments-summary")).to_have_text(re.compile(r"^\d+ appointments?[ ,.(]"))
    listed = tab.to(SHOP, "/v1/admin/appointments")
    assert listed, "the list was not asked for"
    assert {s.headers.get("authorization") for s in listed} == {f"Bearer {tokens['id']}"}
    # And only the token (no code, verifier or PKCE state) is kept, in this tab's sessionStorage
    session = tab.session_storage(SESSION_KEY)
    assert session["token"] == tokens["id"]
    assert session["email"] == tokens["email"]
    assert tab.session_storage(PKCE_KEY) is None
    assert page.evaluate("document.cookie") == ""
    screenshot(tab, "signed-in")
    tab.assert_clean()

    # When staff sign out
    page.get_by_role("button", name="Sign out").click()

    # Then the page went to the hosted UI's logout with the app client and the page as logout URI
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    [logout] = tab.to(HOSTED_UI, "/logout")
    assert logout.query == {"client_id": CLIENT_ID, "logout_uri": ADMIN}
    # And back on the page they are signed out, with nothing kept
    assert page.url == ADMIN
    expect(page.locator("#who")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert tab.session_storage(SESSION_KEY) is None
    screenshot(tab, "signed-out")
    tab.assert_clean()


def test_a_callback_with_another_state_is_refused_without_a_token_request(tab: Tab) -> None:
    # Given the hosted UI sends staff back with a state the page did not send (a forged callback)
    tab.hosted_ui.forge_state = True
    page = tab.page

    # When staff press "Sign in"
    start_sign_in(tab)

    # Then the page refuses the code: no token request, not signed in, and says so
    expect(page.locator("#sign-in-message")).to_have_text(REFUSED)
    [authorize] = tab.to(HOSTED_UI, "/oauth2/authorize")
    [callback] = [s for s in tab.to(SHOP, "/admin") if "code" in s.query]
    assert callback.query["state"] != authorize.query["state"]
    assert tab.to(HOSTED_UI, "/oauth2/token", "POST") == []
    expect(page.locator("#who")).to_be_hidden()
    expect(page.locator("#nav")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    assert page.url == ADMIN  # the code and state are out of the address bar all the same
    assert tab.session_storage(SESSION_KEY) is None
    assert tab.session_storage(PKCE_KEY) is None  # that sign-in cannot be finished later either
    assert [s.url for s in tab.sent if "/v1/admin/" in s.url] == []
    screenshot(tab, "refused")

    # And a callback nobody started here (no PKCE state in this tab) is refused the same way
    page.goto(f"{ADMIN}?{urlencode({'code': str(uuid.uuid4()), 'state': secrets.token_urlsafe(24)})}")
    expect(page.locator("#sign-in-message")).to_have_text(REFUSED)
    assert tab.to(HOSTED_UI, "/oauth2/token", "POST") == []
    assert page.url == ADMIN
    expect(page.locator("#who")).to_be_hidden()
    tab.assert_clean()


def test_an_error_callback_is_believed_only_with_the_pages_state(tab: Tab) -> None:
    page = tab.page
    # A crafted link with an error and words of its own, in a tab that started no sign-in
    crafted = {
        "error": "server_error",
        "error_description": "Your account is locked. Call +1 555 0100 to unlock it",
        "state": "made-up",
    }
    page.goto(f"{ADMIN}?{urlencode(crafted)}")
    # is refused like a forged code: its words are not shown, and the address bar is clean
    expect(page.locator("#sign-in-message")).to_have_text(REFUSED)
    expect(page.get_by_text("Call +1 555 0100", exact=False)).to_have_count(0)
    assert page.url == ADMIN
    assert tab.to(HOSTED_UI, "/oauth2/token", "POST") == []

    # When the hosted UI itself sends staff back refused (they cancelled), with the page's state
    tab.hosted_ui.deny = True
    start_sign_in(tab)
    # Then the page says so in its own words, and staff can sign in again
    expect(page.locator("#sign-in-message")).to_have_text(
        "Sign-in was cancelled or refused. Please sign in again."
    )
    assert tab.to(HOSTED_UI, "/oauth2/token", "POST") == []
    assert page.url == ADMIN and tab.session_storage(SESSION_KEY) is None
    assert tab.session_storage(PKCE_KEY) is None
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    screenshot(tab, "cancelled")
    tab.assert_clean()
